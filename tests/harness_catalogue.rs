//! `scenarios/images/catalogue.yaml`: who real photos show. Loaded with the scenarios,
//! checked (file:line:column, closest image, agreement with fixture markers) and handed to
//! every scenario's model, which otherwise predicts one face per marker-less image.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use rekcon::api::Blob;
use rekcon::check::Layer;
use rekcon::config::{Endpoint, TargetConfig};
use rekcon::model::ModelConfig;
use rekcon::report::{Repro, ScenarioReport, Verdict};
use rekcon::runner::{RunSettings, Runner};
use rekcon::scenario;
use rekcon::serve::{ServeConfig, Server};
use rekcon::target::Target;

/// JPEG magic and no marker: the emulator (and a model without a catalogue) sees one
/// face of a person named after the digest.
const PLAIN_JPEG: &[u8] = b"\xFF\xD8\xFF\xE0rekcon: a plain JPEG-magic image without a marker";

const INDEX_PHOTO: &str = "description: index a photo
collections: [c]
images: [photo]
steps:
  - CreateCollection: { CollectionId: \"${c}\" }
  - IndexFaces: { CollectionId: \"${c}\", Image: { Bytes: \"${photo}\" } }
";

/// A scenarios folder in the temp dir with `images/photo.jpg`, the fixture `alice-1.png`,
/// the scenario `t/index.yaml` and, when given, `images/catalogue.yaml`.
fn scenarios_root(catalogue: Option<&str>) -> PathBuf {
    let root = std::env::temp_dir().join(format!("rekcon-catalogue-{}", uuid::Uuid::new_v4().simple()));
    let images = root.join("images");
    std::fs::create_dir_all(root.join("t")).expect("temp dir");
    std::fs::create_dir_all(&images).expect("temp dir");
    std::fs::write(images.join("photo.jpg"), PLAIN_JPEG).expect("image");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/images/alice-1.png");
    std::fs::copy(fixture, images.join("alice-1.png")).expect("fixture image");
    std::fs::write(root.join("t/index.yaml"), INDEX_PHOTO).expect("scenario");
    if let Some(text) = catalogue {
        std::fs::write(images.join("catalogue.yaml"), text).expect("catalogue");
    }
    root
}

async fn run_index_photo(root: &Path) -> ScenarioReport {
    let scenario = scenario::load_file(root, &root.join("t/index.yaml")).expect("scenario loads");
    let config = ServeConfig::default();
    let account = config.account.clone();
    let server = Server::start(config).await.expect("the emulator starts");
    let mut target_config = TargetConfig::new(Endpoint::BuiltIn(server.url()));
    target_config.attempt_timeout = Duration::from_secs(5);
    target_config.operation_timeout = Duration::from_secs(10);
    let target = Target::connect(&target_config).await.expect("the SDK client builds");
    let mut settings = RunSettings::new(Repro::Cli { flags: String::new() });
    settings.model = ModelConfig {
        region: Some(target.region().to_string()),
        account: Some(account),
        ..Default::default()
    };
    let runner = Runner::new(target, settings);
    let report = runner.run_scenario(1, &scenario).await;
    server.shutdown().await;
    report
}

fn load_error(catalogue: &str) -> String {
    let root = scenarios_root(Some(catalogue));
    scenario::load_catalogue(&root).expect_err("the catalogue is rejected").to_string()
}

fn people(catalogue: &rekcon::image::Catalogue, bytes: &[u8]) -> Vec<String> {
    catalogue.faces_in(&Blob::new(bytes)).iter().map(|f| f.person.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalogue_reaches_the_model_so_two_declared_faces_diverge_from_the_emulators_one() {
    let root = scenarios_root(Some("photo.jpg: [alice, bob]\n"));
    let report = run_index_photo(&root).await;
    assert_eq!(report.verdict, Verdict::Diverged { step: 2, line: 6 }, "{}", report.explain());
    let findings = &report.records.last().expect("IndexFaces was recorded").findings;
    assert!(
        findings.iter().any(|f| f.layer == Layer::Model && f.mismatch.path.starts_with("FaceRecords")),
        "{findings:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_catalogue_the_same_image_is_one_face_and_conforms() {
    let root = scenarios_root(None);
    let report = run_index_photo(&root).await;
    assert_eq!(report.verdict, Verdict::Pass, "{}", report.explain());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_catalogue_that_agrees_with_the_emulator_conforms() {
    // One declared face, as the emulator sees it: the catalogue changes who, not how many.
    let root = scenarios_root(Some("photo: [carol]\n"));
    let report = run_index_photo(&root).await;
    assert_eq!(report.verdict, Verdict::Pass, "{}", report.explain());
}

fn rekcon_run(root: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rekcon"))
        .arg("run")
        .arg("--scenarios")
        .arg(root)
        .env_remove("REKCON_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL_REKOGNITION")
        .output()
        .expect("rekcon runs")
}

#[test]
fn rekcon_run_reads_the_catalogue_and_stops_at_a_broken_one() {
    let out = rekcon_run(&scenarios_root(Some("photo.jpg: [alice, bob]\n")));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FaceRecords"), "{stdout}");

    let out = rekcon_run(&scenarios_root(Some("photo.jpg: [alice\n")));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("catalogue.yaml:"), "{stderr}");
    assert!(stderr.contains("invalid YAML"), "{stderr}");
}

#[test]
fn a_scenario_of_a_folder_with_a_broken_catalogue_fails_to_load_with_the_catalogues_error() {
    let root = scenarios_root(Some("phot.jpg: [alice]\n"));
    let error = scenario::load_file(&root, &root.join("t/index.yaml")).expect_err("cannot load");
    assert!(error.path.ends_with("images/catalogue.yaml"), "{error}");
    assert_eq!((error.line, error.column), (1, 1), "{error}");
}

#[test]
fn a_valid_catalogue_declares_people_largest_first_with_or_without_boxes() {
    let root = scenarios_root(Some(
        "# who the real photos show\n\
         photo: [alice, \"alice~twin\"]\n\
         alice-1.png: [alice]\n",
    ));
    let catalogue = scenario::load_catalogue(&root).expect("loads");
    assert_eq!(catalogue.len(), 2);
    assert_eq!(people(&catalogue, PLAIN_JPEG), ["alice", "alice~twin"]);
    let photo = Blob::new(PLAIN_JPEG);
    let faces = catalogue.faces_in(&photo);
    assert!(faces[0].bounding_box.area() > faces[1].bounding_box.area());
    // Boxes as given, in the order given (the largest first).
    let root = scenarios_root(Some(
        "photo.jpg:\n  - { person: bob, box: [0.5, 0.1, 0.3, 0.4] }\n  - { person: alice, box: [0.1, 0.1, 0.1, 0.1] }\n\
         alice-1.png: [{ person: alice, box: [0.25, 0.2, 0.5, 0.6] }]\n",
    ));
    let catalogue = scenario::load_catalogue(&root).expect("loads");
    assert_eq!(people(&catalogue, PLAIN_JPEG), ["bob", "alice"]);
    assert_eq!(catalogue.faces_in(&Blob::new(PLAIN_JPEG))[0].bounding_box.left, 0.5);
    // A scenario loaded from the folder carries it.
    let loaded = scenario::load_file(&root, &root.join("t/index.yaml")).expect("loads");
    assert_eq!(people(&loaded.catalogue, PLAIN_JPEG), ["bob", "alice"]);
    // No file, or only comments: an empty catalogue.
    assert!(scenario::load_catalogue(&scenarios_root(None)).expect("loads").is_empty());
    assert!(scenario::load_catalogue(&scenarios_root(Some("# nothing yet\n"))).expect("loads").is_empty());
}

#[test]
fn malformed_catalogues_name_file_line_column_and_what_is_wrong() {
    let cases: &[(&str, &str)] = &[
        ("photo.jpg: [alice\n", "catalogue.yaml:1:12: invalid YAML: unclosed bracket"),
        ("photo.jpg: [alice]\nalice-l.png: [alice]\n", "catalogue.yaml:2:1: no image `alice-l.png` in "),
        ("photo.jpg: alice\n", "catalogue.yaml:1:12: the faces of `photo.jpg` are a list: write `[alice]`"),
        ("photo.jpg:\n", "write `[]` for an image without faces"),
        ("photo.jpg: [42]\n", "catalogue.yaml:1:13: a person's name is a string: quote it (`\"42\"`)"),
        ("photo.jpg: [{ persn: alice }]\n", "unknown key `persn` (did you mean `person`?)"),
        ("photo.jpg: [\"\"]\n", "a person's name cannot be empty"),
        ("[photo.jpg]\n", "the catalogue maps image file names to the people they show"),
        (
            "photo.jpg: [alice]\nphoto: [bob]\n",
            "catalogue.yaml:2:1: `photo.jpg` is declared twice (first at line 1)",
        ),
        ("photo.jpg: [{ person: alice, box: [0.1, 0.1, 0.2] }]\n", "a box is `[left, top, width, height]`"),
        (
            "photo.jpg: [{ person: alice, box: [0.1, 0.1, 0, 0.2] }]\n",
            "width and height are ratios in (0, 1]",
        ),
        (
            "photo.jpg:\n  - { person: alice, box: [0.1, 0.1, 0.3, 0.4] }\n  - bob\n",
            "catalogue.yaml:3:5: `bob` has no box: give a box for every face of `photo.jpg` or for none",
        ),
        (
            "photo.jpg:\n  - { person: bob, box: [0.1, 0.1, 0.1, 0.1] }\n  - { person: alice, box: [0.5, 0.1, 0.3, 0.4] }\n",
            "catalogue.yaml:3:5: faces are listed largest first, but `alice`'s box",
        ),
    ];
    for (text, expected) in cases {
        let error = load_error(text);
        assert!(error.contains(expected), "catalogue {text:?}\n  gave: {error}\n  wanted: {expected}");
    }
    assert!(load_error("alice-l.png: [alice]\n").contains("(did you mean `alice-1.png`?)"));
}

#[test]
fn an_entry_that_contradicts_a_fixtures_marker_is_a_load_error() {
    let error = load_error("alice-1.png: [bob]\n");
    assert!(
        error.contains("catalogue.yaml:1:1: `alice-1.png` carries a fixture marker declaring [alice]"),
        "{error}"
    );
    assert!(error.contains("the catalogue says [bob]"), "{error}");
    let error = load_error("alice-1.png: [alice, bob]\n");
    assert!(error.contains("carries a fixture marker"), "{error}");
    // Agreeing with the marker is allowed (and changes nothing).
    let root = scenarios_root(Some("alice-1: [alice]\n"));
    assert_eq!(scenario::load_catalogue(&root).expect("loads").len(), 1);
}

#[test]
fn identical_images_declared_differently_are_a_load_error() {
    let root = scenarios_root(Some("photo.jpg: [alice]\ncopy.jpg: [bob]\n"));
    std::fs::write(root.join("images/copy.jpg"), PLAIN_JPEG).expect("image");
    let error = scenario::load_catalogue(&root).expect_err("rejected").to_string();
    assert!(
        error.contains("catalogue.yaml:2:1: `copy.jpg` has the same bytes as `photo.jpg` (line 1)"),
        "{error}"
    );
}
