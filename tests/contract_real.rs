//! The [real] facts of contract §1, §8 and §9 (observed in recorded real-AWS answers),
//! one test each, named after its section: the built-in emulator must answer them, and
//! the judge must accept AWS's answer (issue 11, item 5). On 127.0.0.1.

mod serve_support;

use rekcon::api::{ErrorCode, Operation};
use rekcon::check::{self, CONTENT_TYPE, RawResponse, Unjudgeable};
use serde_json::{Value, json};
use serve_support::*;

/// A real-AWS-shaped response, for the judge.
fn aws(status: u16, body: &str) -> RawResponse {
    RawResponse {
        status,
        content_type: Some(CONTENT_TYPE.into()),
        request_id: Some("4f3c2a1e-0000-4000-8000-000000000000".into()),
        error_type: None,
        headers: Vec::new(),
        body: body.as_bytes().to_vec(),
    }
}

async fn error_of(server: &rekcon::serve::Server, op: Operation, body: Value) -> (u16, String, String) {
    let raw = call(server, op, body).await;
    let json = raw.json();
    (
        raw.status,
        json["__type"].as_str().unwrap_or_default().to_string(),
        json["Message"].as_str().unwrap_or_default().to_string(),
    )
}

#[tokio::test]
async fn s1_content_type_is_amz_json_1_1() {
    let server = start_default().await;
    let raw = call(&server, Operation::ListCollections, json!({})).await;
    assert_eq!(raw.header("content-type"), Some(CONTENT_TYPE));
    let error = call(&server, Operation::DescribeCollection, json!({"CollectionId": "none"})).await;
    assert_eq!(error.header("content-type"), Some(CONTENT_TYPE));
}

#[tokio::test]
async fn s1_request_id_header_on_every_answer() {
    let server = start_default().await;
    for (op, body) in [
        (Operation::ListCollections, json!({})),
        (Operation::DescribeCollection, json!({"CollectionId": "x"})),
    ] {
        let raw = call(&server, op, body).await;
        assert!(raw.header("x-amzn-RequestId").is_some_and(|id| !id.is_empty()), "{op}");
    }
}

#[tokio::test]
async fn s1_absent_members_are_omitted_not_null() {
    let server = start_default().await;
    create_collection(&server, "c").await;
    let body = ok(&server, Operation::ListUsers, json!({"CollectionId": "c"})).await;
    assert!(!contains_null(&body), "{body}");
    assert!(body.get("NextToken").is_none(), "an absent NextToken is omitted: {body}");
}

#[test]
fn s1_1_error_body_of_a_2023_capture_without_logref_is_accepted() {
    // aws/aws-sdk-php#2666: `__type`, `Code`, `Message`, no `Logref`.
    let body = r#"{"__type":"InvalidS3ObjectException","Code":"InvalidS3ObjectException","Message":"Unable to get object metadata from S3. Check object key, region and/or access permissions."}"#;
    let verdict = check::wire(&aws(400, body), Some(Operation::IndexFaces)).expect("judged");
    assert!(verdict.mismatches.is_empty(), "{:?}", verdict.mismatches);
}

#[tokio::test]
async fn s1_1_emulator_error_body_capitalises_keys_and_duplicates_type_in_code() {
    let server = start_default().await;
    let raw = call(&server, Operation::DescribeCollection, json!({"CollectionId": "none"})).await;
    let body = raw.json();
    assert_eq!(body["__type"], "ResourceNotFoundException");
    assert_eq!(body["Code"], body["__type"]);
    assert!(body["Message"].is_string() && body.get("message").is_none(), "{body}");
}

#[tokio::test]
async fn s8_search_faces_by_image_on_a_missing_collection_is_resource_not_found() {
    let server = start_default().await;
    let (status, code, _) = error_of(
        &server,
        Operation::SearchFacesByImage,
        json!({"CollectionId": "my_faces", "Image": {"Bytes": face_png("alice")}}),
    )
    .await;
    assert_eq!((status, code.as_str()), (400, "ResourceNotFoundException"));
}

#[tokio::test]
async fn s8_describe_collection_on_a_missing_collection_is_resource_not_found() {
    let server = start_default().await;
    let (status, code, _) =
        error_of(&server, Operation::DescribeCollection, json!({"CollectionId": "family_faces"})).await;
    assert_eq!((status, code.as_str()), (400, "ResourceNotFoundException"));
}

#[tokio::test]
async fn s8_search_faces_with_an_unknown_face_id_is_invalid_parameter() {
    let server = start_default().await;
    create_collection(&server, "c").await;
    let (status, code, _) = error_of(
        &server,
        Operation::SearchFaces,
        json!({"CollectionId": "c", "FaceId": "11111111-1111-4111-8111-111111111111"}),
    )
    .await;
    assert_eq!((status, code.as_str()), (400, "InvalidParameterException"));
}

#[tokio::test]
async fn s8_search_users_with_an_unknown_user_id_is_invalid_parameter() {
    let server = start_default().await;
    create_collection(&server, "c").await;
    let (status, code, _) =
        error_of(&server, Operation::SearchUsers, json!({"CollectionId": "c", "UserId": "ghost"})).await;
    assert_eq!((status, code.as_str()), (400, "InvalidParameterException"));
}

#[test]
fn s8_signature_expired_is_a_setup_problem_with_a_clock_hint() {
    // m0ngr31/kanzi#270: the front end's clock-skew refusal.
    let body = r#"{"__type":"InvalidSignatureException","message":"Signature expired: 20200101T000000Z is now earlier than 20200101T000100Z (20200101T000600Z - 5 min.)"}"#;
    match check::wire(&aws(400, body), Some(Operation::ListCollections)) {
        Err(Unjudgeable::SetupProblem(hint)) => assert!(hint.contains("clock"), "{hint}"),
        other => panic!("{other:?}"),
    }
    assert!(
        check::setup_problem(&ErrorCode::InvalidSignatureException, Some("Signature expired: x")).is_some()
    );
}

#[tokio::test]
async fn s9_1_create_collection_arn_lacks_the_arn_prefix_describe_has_it() {
    let server = start_default().await;
    let created = ok(&server, Operation::CreateCollection, json!({"CollectionId": "c"})).await;
    let arn = created["CollectionArn"].as_str().expect("CollectionArn");
    assert!(arn.starts_with("aws:rekognition:") && !arn.starts_with("arn:"), "{arn}");
    let described = ok(&server, Operation::DescribeCollection, json!({"CollectionId": "c"})).await;
    let arn = described["CollectionARN"].as_str().expect("CollectionARN, other casing");
    assert!(arn.starts_with("arn:aws:rekognition:"), "{arn}");
}

#[tokio::test]
async fn s9_2_status_code_200_is_in_create_and_delete_collection_bodies() {
    let server = start_default().await;
    let created = ok(&server, Operation::CreateCollection, json!({"CollectionId": "c"})).await;
    assert_eq!(created["StatusCode"], 200);
    let deleted = ok(&server, Operation::DeleteCollection, json!({"CollectionId": "c"})).await;
    assert_eq!(deleted["StatusCode"], 200);
}

#[tokio::test]
async fn s9_5_associate_faces_returns_updating() {
    let server = start_default().await;
    create_collection(&server, "c").await;
    let face = index(&server, "c", "alice").await;
    ok(&server, Operation::CreateUser, json!({"CollectionId": "c", "UserId": "alice"})).await;
    let body = ok(
        &server,
        Operation::AssociateFaces,
        json!({"CollectionId": "c", "UserId": "alice", "FaceIds": [face]}),
    )
    .await;
    assert_eq!(body["UserStatus"], "UPDATING", "{body}");
}

#[tokio::test]
async fn s9_15_empty_result_arrays_are_emitted() {
    let server = start_default().await;
    create_collection(&server, "c").await;
    let face = index(&server, "c", "alice").await;
    ok(&server, Operation::CreateUser, json!({"CollectionId": "c", "UserId": "alice"})).await;
    let body = ok(
        &server,
        Operation::AssociateFaces,
        json!({"CollectionId": "c", "UserId": "alice", "FaceIds": [face]}),
    )
    .await;
    assert_eq!(body["UnsuccessfulFaceAssociations"], json!([]), "{body}");
    let indexed =
        ok(&server, Operation::IndexFaces, json!({"CollectionId": "c", "Image": {"Bytes": face_png("bob")}}))
            .await;
    assert_eq!(indexed["UnindexedFaces"], json!([]), "{indexed}");
}

#[tokio::test]
async fn s9_4_face_model_version_in_user_searches_is_a_major_version() {
    let server = start_default().await;
    create_collection(&server, "c").await;
    let face = index(&server, "c", "alice").await;
    ok(&server, Operation::CreateUser, json!({"CollectionId": "c", "UserId": "alice"})).await;
    ok(
        &server,
        Operation::AssociateFaces,
        json!({"CollectionId": "c", "UserId": "alice", "FaceIds": [face]}),
    )
    .await;
    let body = ok(&server, Operation::SearchUsers, json!({"CollectionId": "c", "FaceId": face})).await;
    let version = body["FaceModelVersion"].as_str().expect("FaceModelVersion");
    assert!(!version.contains('.'), "SearchUsers answers \"6\"-style, not \"6.0\": {version}");
    let listed = ok(&server, Operation::ListFaces, json!({"CollectionId": "c"})).await;
    let version = listed["FaceModelVersion"].as_str().expect("FaceModelVersion");
    assert!(version.contains('.'), "elsewhere \"6.0\"-style: {version}");
}
