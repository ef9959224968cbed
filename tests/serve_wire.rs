//! The emulator on the raw wire (contract §1): headers, error shapes and statuses,
//! front-end errors, the body limit, and no `null` in any success body.

mod serve_support;

use std::time::Duration;

use rekcon::api::{ErrorCode, Operation};
use serde_json::{Value, json};
use serve_support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn assert_aws_error(raw: &Raw, code: ErrorCode) {
    let body = raw.json();
    assert_eq!(raw.status, code.http_status(), "status for {code}: {}", raw.text());
    assert_eq!(body["__type"], code.as_str(), "{}", raw.text());
    assert_eq!(body["Code"], code.as_str(), "{}", raw.text());
    assert!(body["Message"].as_str().is_some_and(|m| !m.is_empty()), "{}", raw.text());
    assert_eq!(raw.header("content-type"), Some("application/x-amz-json-1.1"));
    assert_request_id(raw);
}

fn assert_request_id(raw: &Raw) {
    let id = raw.header("x-amzn-RequestId").expect("x-amzn-RequestId on every answer");
    let parsed = uuid::Uuid::parse_str(id).expect("request id is a UUID");
    assert_eq!(parsed.hyphenated().to_string(), id, "canonical lower-case form");
}

#[tokio::test]
async fn success_has_protocol_content_type_and_request_id() {
    let server = start_default().await;
    let raw = call(&server, Operation::CreateCollection, json!({"CollectionId": "w"})).await;
    assert_eq!(raw.status, 200);
    assert_eq!(raw.header("content-type"), Some("application/x-amz-json-1.1"));
    assert_request_id(&raw);
    let again = call(&server, Operation::ListCollections, json!({})).await;
    assert_ne!(raw.header("x-amzn-RequestId"), again.header("x-amzn-RequestId"), "ids are per request");
}

#[tokio::test]
async fn empty_outputs_are_empty_objects() {
    let server = start_default().await;
    create_collection(&server, "e").await;
    assert_eq!(
        ok(&server, Operation::CreateUser, json!({"CollectionId": "e", "UserId": "u"})).await,
        json!({})
    );
    assert_eq!(
        ok(&server, Operation::DeleteUser, json!({"CollectionId": "e", "UserId": "u"})).await,
        json!({})
    );
}

#[tokio::test]
async fn modelled_errors_have_shape_status_and_documented_messages() {
    let server = start_default().await;
    let missing = call(&server, Operation::DescribeCollection, json!({"CollectionId": "nope"})).await;
    assert_aws_error(&missing, ErrorCode::ResourceNotFoundException);
    assert_eq!(missing.json()["Message"], "Collection:nope not found!");

    create_collection(&server, "dup").await;
    let dup = call(&server, Operation::CreateCollection, json!({"CollectionId": "dup"})).await;
    assert_aws_error(&dup, ErrorCode::ResourceAlreadyExistsException);
    assert_eq!(dup.json()["Message"], "The collection id: dup already exists.");

    let bad = call(&server, Operation::CreateCollection, json!({"CollectionId": "has space"})).await;
    assert_aws_error(&bad, ErrorCode::InvalidParameterException);

    let unknown_user =
        call(&server, Operation::SearchUsers, json!({"CollectionId": "dup", "UserId": "ghost"})).await;
    assert_aws_error(&unknown_user, ErrorCode::InvalidParameterException);
    assert_eq!(unknown_user.json()["Message"], "Request has invalid parameters");

    create_user(&server, "dup", "u").await;
    let conflict = call(&server, Operation::CreateUser, json!({"CollectionId": "dup", "UserId": "u"})).await;
    assert_aws_error(&conflict, ErrorCode::ConflictException);

    let token = json!({"CollectionId": "dup", "UserId": "v", "ClientRequestToken": "tok-1"});
    ok(&server, Operation::CreateUser, token.clone()).await;
    assert_eq!(ok(&server, Operation::CreateUser, token).await, json!({}), "replay answers the same");
    let mismatch = call(
        &server,
        Operation::CreateUser,
        json!({"CollectionId": "dup", "UserId": "w", "ClientRequestToken": "tok-1"}),
    )
    .await;
    assert_aws_error(&mismatch, ErrorCode::IdempotentParameterMismatchException);
    assert_eq!(
        mismatch.json()["Message"],
        "The ClientRequestToken: tok-1 you have supplied is already in use."
    );
}

#[tokio::test]
async fn unknown_targets_are_unknown_operation() {
    let server = start_default().await;
    let body = b"{}";
    let ct = [("Content-Type", "application/x-amz-json-1.1")];
    for target in
        [None, Some("RekognitionService.DetectUnicorns"), Some("Rekognition.ListCollections"), Some("")]
    {
        let raw = send_raw(server.addr(), &request_bytes(target, &ct, body)).await.expect("answer");
        assert_aws_error(&raw, ErrorCode::UnknownOperationException);
    }
}

#[tokio::test]
async fn malformed_bodies_are_serialization_errors() {
    let server = start_default().await;
    let ct = [("Content-Type", "application/x-amz-json-1.1")];
    let target = Operation::AssociateFaces.target();
    for body in [
        &b"not json"[..],
        b"{\"CollectionId\": ",
        b"[]",
        b"42",
        b"{\"CollectionId\": 5}",
        b"{\"CollectionId\": \"c\", \"FaceIds\": \"not-a-list\"}",
        b"{\"CollectionId\": \"c\", \"UserMatchThreshold\": \"high\"}",
    ] {
        let raw = send_raw(server.addr(), &request_bytes(Some(&target), &ct, body)).await.expect("answer");
        assert_aws_error(&raw, ErrorCode::SerializationException);
    }
}

#[tokio::test]
async fn other_methods_and_paths_get_aws_shaped_errors() {
    let server = start_default().await;
    for head in
        ["GET / HTTP/1.1", "PUT / HTTP/1.1", "POST /2016-06-27/collections HTTP/1.1", "DELETE /x HTTP/1.1"]
    {
        let req = format!(
            "{head}\r\nHost: x\r\nConnection: close\r\nX-Amz-Target: RekognitionService.ListCollections\r\nContent-Length: 2\r\n\r\n{{}}"
        );
        let raw = send_raw(server.addr(), req.as_bytes()).await.expect("answer");
        assert_aws_error(&raw, ErrorCode::UnknownOperationException);
    }
}

#[tokio::test]
async fn over_large_bodies_get_413_without_hanging() {
    let server = start_default().await;
    let body = vec![b' '; 9 * 1024 * 1024];
    let req = request_bytes(Some(&Operation::IndexFaces.target()), &[], &body);
    let raw = tokio::time::timeout(Duration::from_secs(30), send_raw(server.addr(), &req))
        .await
        .expect("no hang")
        .expect("an answer");
    assert_eq!(raw.status, 413);
    assert_eq!(raw.error_type().as_deref(), Some("RequestEntityTooLargeException"));
    assert_request_id(&raw);

    // A huge declared length is refused before any of it is read.
    let mut stream = tokio::net::TcpStream::connect(server.addr()).await.expect("connect");
    let head = "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: RekognitionService.IndexFaces\r\nContent-Length: 10000000000\r\n\r\n";
    stream.write_all(head.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut buf)).await.expect("no hang").ok();
    let raw = parse_response(&buf);
    assert_eq!(raw.status, 413);
    assert_eq!(raw.json()["__type"], "RequestEntityTooLargeException");

    // The server is still healthy.
    assert_eq!(call(&server, Operation::ListCollections, json!({})).await.status, 200);
}

/// Calls every operation in a realistic sequence and checks each success body.
#[tokio::test]
async fn null_never_appears_in_success_bodies() {
    let server = start_default().await;
    let mut bodies: Vec<(Operation, Value)> = Vec::new();
    let mut run = async |op: Operation, body: Value| {
        let raw = call(&server, op, body).await;
        if raw.status == 200 {
            bodies.push((op, raw.json()));
        }
        raw
    };
    run(Operation::CreateCollection, json!({"CollectionId": "n"})).await;
    run(Operation::CreateCollection, json!({"CollectionId": "n2"})).await;
    let indexed = run(
        Operation::IndexFaces,
        json!({"CollectionId": "n", "Image": {"Bytes": faces_png(&["alice", "bob"])}, "ExternalImageId": "img1"}),
    )
    .await
    .json();
    let a = indexed["FaceRecords"][0]["Face"]["FaceId"].as_str().expect("a").to_string();
    let b = indexed["FaceRecords"][1]["Face"]["FaceId"].as_str().expect("b").to_string();
    run(Operation::IndexFaces, json!({"CollectionId": "n", "Image": {"Bytes": no_face_png()}})).await;
    run(Operation::CreateUser, json!({"CollectionId": "n", "UserId": "ua"})).await;
    run(Operation::CreateUser, json!({"CollectionId": "n", "UserId": "ub"})).await;
    run(Operation::AssociateFaces, json!({"CollectionId": "n", "UserId": "ua", "FaceIds": [a]})).await;
    run(Operation::AssociateFaces, json!({"CollectionId": "n", "UserId": "ub", "FaceIds": [b, a, "00000000-0000-4000-8000-000000000000"]}))
        .await;
    run(Operation::ListCollections, json!({"MaxResults": 1})).await;
    run(Operation::ListFaces, json!({"CollectionId": "n", "MaxResults": 1})).await;
    run(Operation::ListUsers, json!({"CollectionId": "n", "MaxResults": 1})).await;
    run(Operation::DescribeCollection, json!({"CollectionId": "n"})).await;
    run(Operation::SearchFaces, json!({"CollectionId": "n", "FaceId": a})).await;
    run(Operation::SearchFacesByImage, json!({"CollectionId": "n", "Image": {"Bytes": face_png("alice")}}))
        .await;
    run(Operation::SearchUsers, json!({"CollectionId": "n", "FaceId": a})).await;
    run(Operation::SearchUsers, json!({"CollectionId": "n", "UserId": "ua"})).await;
    run(
        Operation::SearchUsersByImage,
        json!({"CollectionId": "n", "Image": {"Bytes": faces_png(&["alice", "bob"])}}),
    )
    .await;
    run(Operation::SearchUsersByImage, json!({"CollectionId": "n", "Image": {"Bytes": no_face_png()}})).await;
    run(
        Operation::DeleteFaces,
        json!({"CollectionId": "n", "FaceIds": [a, "00000000-0000-4000-8000-000000000000"]}),
    )
    .await;
    run(Operation::DisassociateFaces, json!({"CollectionId": "n", "UserId": "ua", "FaceIds": [a]})).await;
    run(Operation::DeleteUser, json!({"CollectionId": "n", "UserId": "ub"})).await;
    run(Operation::DeleteCollection, json!({"CollectionId": "n2"})).await;
    let ops: std::collections::BTreeSet<_> = bodies.iter().map(|(op, _)| *op).collect();
    assert_eq!(ops.len(), 16, "every operation answered at least once with success: {ops:?}");
    for (op, body) in &bodies {
        assert!(body.is_object(), "{op}: {body}");
        assert!(!contains_null(body), "{op} answered a null: {body}");
    }
}

/// A real service resumes where the token points: other clients changing the listing
/// between two pages must not make a continuation page repeat an item.
#[tokio::test]
async fn continuation_pages_never_repeat_while_others_change_the_listing() {
    let server = start_default().await;
    for c in ["m1", "m2", "m3"] {
        create_collection(&server, c).await;
    }
    let mut listed: Vec<String> = Vec::new();
    let mut token: Option<String> = None;
    for i in 0..20 {
        let mut req = json!({"MaxResults": 1});
        if let Some(t) = &token {
            req["NextToken"] = json!(t);
        }
        let page = ok(&server, Operation::ListCollections, req).await;
        listed.extend(
            page["CollectionIds"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_string)),
        );
        // Another client creates a collection that sorts first, and deletes one.
        create_collection(&server, &format!("a{i}")).await;
        token = page["NextToken"].as_str().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    let mut distinct = listed.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), listed.len(), "an item was repeated: {listed:?}");
    for c in ["m1", "m2", "m3"] {
        assert!(listed.iter().any(|l| l == c), "{c} never listed: {listed:?}");
    }
}
