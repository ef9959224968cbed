//! A request body over the built-in emulator's body limit gets
//! RequestEntityTooLargeException (HTTP 413) from its front end, as an HTTP front end of
//! real AWS may. The model allows it, tagged `unknown:request-entity-too-large`, instead
//! of calling it a divergence.

use std::process::Command;

const SCENARIO: &str = "description: an image too large for any request body
collections: [c]
images: [big]
steps:
  - CreateCollection: { CollectionId: \"${c}\" }
  - IndexFaces: { CollectionId: \"${c}\", Image: { Bytes: \"${big}\" } }
";

#[test]
fn an_over_large_body_is_allowed_and_reported_as_unsettled() {
    let root = std::env::temp_dir().join(format!("rekcon-large-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(root.join("images")).expect("temp dir");
    std::fs::create_dir_all(root.join("s")).expect("temp dir");
    // 6.5 MiB decoded: over the 5 MiB image limit, and 8.7 MiB in base64, over the
    // emulator's 8 MiB body limit.
    std::fs::write(root.join("images/big.png"), vec![0xAB_u8; 6_815_744]).expect("image");
    std::fs::write(root.join("s/big.yaml"), SCENARIO).expect("scenario");
    let out = Command::new(env!("CARGO_BIN_EXE_rekcon"))
        .arg("run")
        .arg("--scenarios")
        .arg(&root)
        .env_remove("REKCON_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL_REKOGNITION")
        .output()
        .expect("rekcon runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("unknown:request-entity-too-large"), "{stdout}");
    let _ = std::fs::remove_dir_all(&root);
}
