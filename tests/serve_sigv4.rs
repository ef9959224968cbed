//! `require_sigv4`: signatures are verified the way AWS front ends do, and the request
//! log never holds the secret, the Authorization header or the body.

mod serve_support;

use std::sync::{Arc, Mutex};

use aws_sdk_rekognition::Client;
use aws_sdk_rekognition::error::ProvideErrorMetadata;
use aws_sdk_rekognition::primitives::Blob;
use aws_sdk_rekognition::types::Image;
use rekcon::api::Operation;
use rekcon::serve::{LogSink, RequestLog, ServeConfig, Server};
use serve_support::*;

const ACCESS_KEY: &str = "AKIDREKCONTEST";
const SECRET: &str = "s3cr3t-never-logged-Zq9";

fn client(url: &str, access_key: &str, secret: &str, region: &str) -> Client {
    sdk_client_signed(url, access_key, secret, region)
}

async fn signed_server() -> (Server, Arc<Mutex<Vec<RequestLog>>>) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = {
        let lines = Arc::clone(&lines);
        LogSink::new(move |line: &RequestLog| lines.lock().expect("log lock").push(line.clone()))
    };
    let server = start(ServeConfig {
        require_sigv4: Some((ACCESS_KEY.into(), SECRET.into())),
        log_requests: true,
        log_sink: Some(sink),
        ..ServeConfig::default()
    })
    .await;
    (server, lines)
}

fn code_of<E: ProvideErrorMetadata>(err: &E) -> Option<String> {
    err.code().map(str::to_string)
}

/// A request signed by hand with `SECRET` for `region`, covering only `signed` (lower-case
/// header names, `host` and `x-amz-date` among them when given), and carrying `target`.
fn hand_signed(region: &str, signed: &[&str], target: &str, body: &[u8]) -> Vec<u8> {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    use aws_sigv4::sign::v4;
    let now = std::time::SystemTime::now();
    let amz_date = rekcon::serve::format_amz_date(now);
    let all = [("host", "127.0.0.1"), ("x-amz-date", amz_date.as_str()), ("x-amz-target", target)];
    let headers: Vec<(&str, &str)> = all.iter().copied().filter(|(k, _)| signed.contains(k)).collect();
    let identity = aws_credential_types::Credentials::new(ACCESS_KEY, SECRET, None, None, "test").into();
    let mut settings = SigningSettings::default();
    settings.excluded_headers = None;
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("rekognition")
        .time(now)
        .settings(settings)
        .build()
        .expect("signing params")
        .into();
    let request =
        SignableRequest::new("POST", "http://127.0.0.1/", headers.into_iter(), SignableBody::Bytes(body))
            .expect("signable");
    let signature = sign(request, &params).expect("signed").signature().to_string();
    let date = &amz_date[..8];
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/{date}/{region}/rekognition/aws4_request, SignedHeaders={}, Signature={signature}",
        signed.join(";")
    );
    request_bytes(
        Some(target),
        &[
            ("X-Amz-Date", &amz_date),
            ("Content-Type", "application/x-amz-json-1.1"),
            ("Authorization", &authorization),
        ],
        body,
    )
}

#[tokio::test]
async fn a_hand_signed_request_is_accepted_only_in_the_servers_region_with_its_target_signed() {
    let (server, _) = signed_server().await;
    let body = br#"{"CollectionId":"kept"}"#;
    let create = hand_signed(
        "us-east-1",
        &["host", "x-amz-date", "x-amz-target"],
        "RekognitionService.CreateCollection",
        body,
    );
    let raw = send_raw(server.addr(), &create).await.expect("answer");
    assert_eq!(raw.status, 200, "{}", raw.text());
    // Correctly signed, but for a region that is not the server's.
    let elsewhere = hand_signed(
        "xx-nowhere-9",
        &["host", "x-amz-date", "x-amz-target"],
        "RekognitionService.DescribeCollection",
        body,
    );
    let raw = send_raw(server.addr(), &elsewhere).await.expect("answer");
    assert_eq!(raw.status, 400, "{}", raw.text());
    assert_eq!(raw.error_type().as_deref(), Some("InvalidSignatureException"));
    // Signed without X-Amz-Target, which is then rewritten: never executed.
    let retargeted =
        hand_signed("us-east-1", &["host", "x-amz-date"], "RekognitionService.DeleteCollection", body);
    let raw = send_raw(server.addr(), &retargeted).await.expect("answer");
    assert_eq!(raw.status, 400, "{}", raw.text());
    assert_eq!(raw.error_type().as_deref(), Some("IncompleteSignatureException"));
    assert!(raw.text().contains("X-Amz-Target") || raw.text().contains("x-amz-target"), "{}", raw.text());
    let rek = client(&server.url(), ACCESS_KEY, SECRET, "us-east-1");
    let kept = rek.describe_collection().collection_id("kept").send().await;
    assert!(kept.is_ok(), "the collection is still there: {kept:?}");
}

#[tokio::test]
async fn correct_signatures_are_accepted_in_the_servers_region_only() {
    let (server, _) = signed_server().await;
    let elsewhere = client(&server.url(), ACCESS_KEY, SECRET, "eu-west-1");
    let err = elsewhere.list_collections().send().await.expect_err("another region is refused");
    assert_eq!(code_of(&err.into_service_error()).as_deref(), Some("InvalidSignatureException"));
    for region in ["us-east-1"] {
        let rek = client(&server.url(), ACCESS_KEY, SECRET, region);
        let id = format!("signed-{region}");
        rek.create_collection().collection_id(&id).send().await.expect("signed CreateCollection");
        let face = rekcon::image::ImageFace {
            person: "alice".into(),
            bounding_box: rekcon::image::BoundingBox { left: 0.1, top: 0.1, width: 0.3, height: 0.4 },
        };
        let image = Image::builder().bytes(Blob::new(rekcon::image::fixture_png(&[face]))).build();
        rek.index_faces()
            .collection_id(&id)
            .image(image)
            .send()
            .await
            .expect("signed IndexFaces with a body");
        rek.create_user().collection_id(&id).user_id("u").send().await.expect("signed CreateUser");
    }
}

#[tokio::test]
async fn wrong_secret_is_invalid_signature() {
    let (server, _) = signed_server().await;
    let rek = client(&server.url(), ACCESS_KEY, "not-the-secret", "us-east-1");
    let err = rek.list_collections().send().await.expect_err("rejected");
    let service = err.into_service_error();
    assert_eq!(code_of(&service).as_deref(), Some("InvalidSignatureException"));
}

#[tokio::test]
async fn unknown_access_key_is_unrecognized_client() {
    let (server, _) = signed_server().await;
    let rek = client(&server.url(), "AKIDSOMEONEELSE", SECRET, "us-east-1");
    let err = rek.list_collections().send().await.expect_err("rejected");
    let service = err.into_service_error();
    assert_eq!(code_of(&service).as_deref(), Some("UnrecognizedClientException"));
    assert_eq!(service.message(), Some("The security token included in the request is invalid."));
}

#[tokio::test]
async fn unsigned_and_tampered_requests_are_refused_with_400() {
    let (server, _) = signed_server().await;
    let raw = call(&server, Operation::ListCollections, serde_json::json!({})).await;
    assert_eq!(raw.status, 400);
    assert_eq!(raw.error_type().as_deref(), Some("MissingAuthenticationTokenException"));

    let garbage = request_bytes(
        Some(&Operation::ListCollections.target()),
        &[("Authorization", "AWS4-HMAC-SHA256 Credential=garbage")],
        b"{}",
    );
    let raw = send_raw(server.addr(), &garbage).await.expect("answer");
    assert_eq!(raw.status, 400);
    assert_eq!(raw.error_type().as_deref(), Some("IncompleteSignatureException"));

    let stale = request_bytes(
        Some(&Operation::ListCollections.target()),
        &[
            ("X-Amz-Date", "20200101T000000Z"),
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDREKCONTEST/20200101/us-east-1/rekognition/aws4_request, SignedHeaders=host;x-amz-date, Signature=00",
            ),
        ],
        b"{}",
    );
    let raw = send_raw(server.addr(), &stale).await.expect("answer");
    assert_eq!(raw.status, 400);
    assert_eq!(raw.error_type().as_deref(), Some("InvalidSignatureException"));
    assert!(
        raw.json()["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Signature expired: 20200101T000000Z is now earlier than ")),
        "{}",
        raw.text()
    );
}

#[tokio::test]
async fn request_log_never_holds_secrets_or_bodies() {
    let (server, lines) = signed_server().await;
    let good = client(&server.url(), ACCESS_KEY, SECRET, "us-east-1");
    good.create_collection().collection_id("logged").send().await.expect("ok");
    let face = rekcon::image::ImageFace {
        person: "alice".into(),
        bounding_box: rekcon::image::BoundingBox { left: 0.1, top: 0.1, width: 0.3, height: 0.4 },
    };
    let png = rekcon::image::fixture_png(&[face]);
    let image_b64 = rekcon::api::Blob::new(png.clone()).to_base64();
    good.index_faces()
        .collection_id("logged")
        .image(Image::builder().bytes(Blob::new(png)).build())
        .send()
        .await
        .expect("ok");
    let bad = client(&server.url(), ACCESS_KEY, "wrong-secret-also-not-logged", "us-east-1");
    let _ = bad.list_collections().send().await;

    let lines = lines.lock().expect("log lock").clone();
    assert_eq!(lines.len(), 3, "one line per request: {lines:?}");
    assert_eq!(lines[0].target, "RekognitionService.CreateCollection");
    assert_eq!(lines[0].status, 200);
    assert_eq!(lines[2].status, 400);
    assert_eq!(lines[2].error.as_deref(), Some("InvalidSignatureException"));
    for line in &lines {
        assert!(uuid::Uuid::parse_str(&line.request_id).is_ok());
        let text = format!("{line} {line:?}");
        for forbidden in [
            SECRET,
            "wrong-secret-also-not-logged",
            "AWS4-HMAC-SHA256",
            "Signature=",
            "Credential=",
            "Authorization",
            "rekcon-faces",
            &image_b64[..24],
        ] {
            assert!(!text.contains(forbidden), "log line leaks {forbidden:?}: {text}");
        }
    }
}
