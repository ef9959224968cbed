//! Every planted bug shows on the wire: the same request sequence is sent to an
//! unmutated server and to one running the mutant, and the specific difference is asserted.

mod serve_support;

use rekcon::api::Operation;
use rekcon::serve::{Mutant, ServeConfig, Server};
use serde_json::{Value, json};
use serve_support::*;

const UNKNOWN_FACE: &str = "00000000-0000-4000-8000-000000000000";

/// Runs `steps` against a reference server and a `mutant` server (same seed); returns
/// the last answers of each.
async fn both(mutant: Mutant, steps: impl AsyncFn(&Server) -> Raw) -> (Raw, Raw) {
    let reference = start(ServeConfig::default()).await;
    let mutated = start(ServeConfig { mutants: vec![mutant], ..ServeConfig::default() }).await;
    let a = steps(&reference).await;
    let b = steps(&mutated).await;
    reference.shutdown().await;
    mutated.shutdown().await;
    (a, b)
}

/// A collection `c` with user `u` holding one face of alice; returns the FaceId.
async fn user_with_face(s: &Server) -> String {
    create_collection(s, "c").await;
    let f = index(s, "c", "alice").await;
    create_user(s, "c", "u").await;
    let raw = associate(s, "c", "u", &[&f]).await;
    assert_eq!(raw.status, 200, "{}", raw.text());
    f
}

/// Walks ListUsers one user per page over three users; returns every UserId listed.
async fn walk_users(s: &Server) -> Vec<String> {
    create_collection(s, "c").await;
    for u in ["u1", "u2", "u3"] {
        create_user(s, "c", u).await;
    }
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..10 {
        let mut req = json!({"CollectionId": "c", "MaxResults": 1});
        if let Some(t) = &token {
            req["NextToken"] = json!(t);
        }
        let page = ok(s, Operation::ListUsers, req).await;
        seen.extend(
            page["Users"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|u| u["UserId"].as_str().map(str::to_string)),
        );
        token = page["NextToken"].as_str().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    seen
}

/// The UserIds a walk listed, in listing order.
fn users_listed(raw: &Raw) -> Vec<String> {
    serde_json::from_slice(&raw.body).unwrap_or_default()
}

/// The same, sorted and without repeats.
fn distinct(ids: &[String]) -> Vec<String> {
    let set: std::collections::BTreeSet<_> = ids.iter().cloned().collect();
    set.into_iter().collect()
}

/// Wraps a UserId walk into a `Raw` so `both` can carry it.
async fn walk_as_raw(s: &Server) -> Raw {
    let seen = walk_users(s).await;
    Raw { status: 200, headers: Vec::new(), body: serde_json::to_vec(&seen).unwrap_or_default() }
}

#[tokio::test]
async fn user_active_at_once() {
    let (a, b) = both(Mutant::UserActiveAtOnce, async |s| {
        user_with_face(s).await;
        associate(s, "c", "u", &[&index(s, "c", "alice").await]).await
    })
    .await;
    assert_eq!(a.json()["UserStatus"], "UPDATING");
    assert_eq!(b.json()["UserStatus"], "ACTIVE");
}

#[tokio::test]
async fn steal_associated_face() {
    let (a, b) = both(Mutant::StealAssociatedFace, async |s| {
        let f = user_with_face(s).await;
        create_user(s, "c", "thief").await;
        let raw = associate(s, "c", "thief", &[&f]).await;
        let faces = ok(s, Operation::ListFaces, json!({"CollectionId": "c"})).await;
        Raw {
            body: json!({"associate": raw.json(), "owner": faces["Faces"][0]["UserId"]})
                .to_string()
                .into_bytes(),
            ..raw
        }
    })
    .await;
    let (a, b) = (a.json(), b.json());
    assert_eq!(
        a["associate"]["UnsuccessfulFaceAssociations"][0]["Reasons"],
        json!(["ASSOCIATED_TO_A_DIFFERENT_USER"])
    );
    assert_eq!(a["associate"]["UnsuccessfulFaceAssociations"][0]["UserId"], "u");
    assert_eq!(a["owner"], "u");
    assert_eq!(b["associate"]["AssociatedFaces"].as_array().map(Vec::len), Some(1));
    assert_eq!(b["associate"]["UnsuccessfulFaceAssociations"], json!([]));
    assert_eq!(b["owner"], "thief", "the state follows the stolen face");
}

#[tokio::test]
async fn accept_101st_face() {
    let (a, b) = both(Mutant::Accept101stFace, async |s| {
        create_collection(s, "c").await;
        let many = faces_png(&["alice"; 100]);
        let indexed =
            ok(s, Operation::IndexFaces, json!({"CollectionId": "c", "Image": {"Bytes": many}})).await;
        let ids: Vec<&str> = indexed["FaceRecords"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["Face"]["FaceId"].as_str())
            .collect();
        assert_eq!(ids.len(), 100);
        create_user(s, "c", "u").await;
        assert_eq!(associate(s, "c", "u", &ids).await.status, 200);
        let extra = index(s, "c", "alice").await;
        associate(s, "c", "u", &[&extra]).await
    })
    .await;
    assert_eq!(a.status, 400);
    assert_eq!(a.error_type().as_deref(), Some("ServiceQuotaExceededException"));
    assert_eq!(b.status, 200);
    assert_eq!(b.json()["AssociatedFaces"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn face_not_found_as_resource_not_found() {
    let (a, b) = both(Mutant::FaceNotFoundAsResourceNotFound, async |s| {
        create_collection(s, "c").await;
        let f = index(s, "c", "alice").await;
        create_user(s, "c", "u").await;
        associate(s, "c", "u", &[&f, UNKNOWN_FACE]).await
    })
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.json()["UnsuccessfulFaceAssociations"][0]["Reasons"], json!(["FACE_NOT_FOUND"]));
    assert_eq!(b.status, 400);
    assert_eq!(b.error_type().as_deref(), Some("ResourceNotFoundException"));
}

#[tokio::test]
async fn search_users_includes_self() {
    let (a, b) = both(Mutant::SearchUsersIncludesSelf, async |s| {
        user_with_face(s).await;
        call(s, Operation::SearchUsers, json!({"CollectionId": "c", "UserId": "u"})).await
    })
    .await;
    assert_eq!(a.json()["UserMatches"], json!([]));
    assert_eq!(b.json()["UserMatches"][0]["User"]["UserId"], "u");
    assert_eq!(b.json()["UserMatches"][0]["Similarity"], 99.9);
}

#[tokio::test]
async fn delete_owned_face() {
    let (a, b) = both(Mutant::DeleteOwnedFace, async |s| {
        let f = user_with_face(s).await;
        call(s, Operation::DeleteFaces, json!({"CollectionId": "c", "FaceIds": [f]})).await
    })
    .await;
    assert_eq!(
        a.json()["UnsuccessfulFaceDeletions"][0]["Reasons"],
        json!(["ASSOCIATED_TO_AN_EXISTING_USER"])
    );
    assert_eq!(a.json()["UnsuccessfulFaceDeletions"][0]["UserId"], "u");
    assert_eq!(b.json()["DeletedFaces"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn arn_prefix_on_create() {
    let (a, b) = both(Mutant::ArnPrefixOnCreate, async |s| {
        call(s, Operation::CreateCollection, json!({"CollectionId": "c"})).await
    })
    .await;
    assert_eq!(a.json()["CollectionArn"], "aws:rekognition:us-east-1:123456789012:collection/c");
    assert_eq!(b.json()["CollectionArn"], "arn:aws:rekognition:us-east-1:123456789012:collection/c");
}

#[tokio::test]
async fn lowercase_message() {
    let (a, b) = both(Mutant::LowercaseMessage, async |s| {
        call(s, Operation::DescribeCollection, json!({"CollectionId": "x"})).await
    })
    .await;
    assert!(a.json().get("Message").is_some() && a.json().get("message").is_none());
    assert!(b.json().get("Message").is_none());
    assert_eq!(b.json()["message"], "Collection:x not found!");
    assert_eq!(b.json()["__type"], "ResourceNotFoundException");
}

#[tokio::test]
async fn empty_200_for_error() {
    let (a, b) = both(Mutant::Empty200ForError, async |s| {
        call(s, Operation::DescribeCollection, json!({"CollectionId": "x"})).await
    })
    .await;
    assert_eq!((a.status, a.error_type().as_deref()), (400, Some("ResourceNotFoundException")));
    assert_eq!(b.status, 200);
    assert!(b.body.is_empty());
}

#[tokio::test]
async fn ignore_idempotency_tokens() {
    let (a, b) = both(Mutant::IgnoreIdempotencyTokens, async |s| {
        create_collection(s, "c").await;
        let req = json!({"CollectionId": "c", "UserId": "u", "ClientRequestToken": "t1"});
        assert_eq!(call(s, Operation::CreateUser, req.clone()).await.status, 200);
        let replay = call(s, Operation::CreateUser, req).await;
        let other = call(
            s,
            Operation::CreateUser,
            json!({"CollectionId": "c", "UserId": "v", "ClientRequestToken": "t1"}),
        )
        .await;
        Raw { body: json!([replay.error_type(), other.error_type()]).to_string().into_bytes(), ..other }
    })
    .await;
    assert_eq!(a.json(), json!([null, "IdempotentParameterMismatchException"]));
    assert_eq!(b.json(), json!(["ConflictException", null]));
}

#[tokio::test]
async fn pagination_skips_item() {
    let (a, b) = both(Mutant::PaginationSkipsItem, async |s| walk_as_raw(s).await).await;
    let (a, b) = (users_listed(&a), users_listed(&b));
    assert_eq!(a.len(), 3);
    assert_eq!(distinct(&a), ["u1", "u2", "u3"]);
    assert!(distinct(&b).len() < 3, "items skipped: {b:?}");
}

#[tokio::test]
async fn pagination_repeats_item() {
    let (a, b) = both(Mutant::PaginationRepeatsItem, async |s| walk_as_raw(s).await).await;
    let (a, b) = (users_listed(&a), users_listed(&b));
    assert_eq!(a.len(), 3);
    assert_eq!(distinct(&a), ["u1", "u2", "u3"]);
    assert_eq!(distinct(&b), ["u1", "u2", "u3"]);
    assert_eq!(b.len(), 5, "each continuation page repeats the previous page's item: {b:?}");
    assert_eq!(b[0], b[1]);
    assert_eq!(b[2], b[3]);
}

#[tokio::test]
async fn associate_default_threshold_80() {
    let (a, b) = both(Mutant::AssociateDefaultThreshold80, async |s| {
        user_with_face(s).await;
        let twin = index(s, "c", "alice~twin").await;
        associate(s, "c", "u", &[&twin]).await
    })
    .await;
    assert_eq!(a.json()["AssociatedFaces"].as_array().map(Vec::len), Some(1), "77.5 >= 75: {}", a.text());
    assert_eq!(
        b.json()["UnsuccessfulFaceAssociations"][0]["Reasons"],
        json!(["LOW_MATCH_CONFIDENCE"]),
        "{}",
        b.text()
    );
}

#[tokio::test]
async fn null_for_absent() {
    let (a, b) = both(Mutant::NullForAbsent, async |s| {
        let f = user_with_face(s).await;
        call(s, Operation::SearchUsers, json!({"CollectionId": "c", "FaceId": f})).await
    })
    .await;
    assert!(!contains_null(&a.json()) && a.json().get("SearchedUser").is_none());
    assert_eq!(b.json()["SearchedUser"], Value::Null);
    assert!(b.json().as_object().is_some_and(|o| o.contains_key("SearchedUser")));
}

#[tokio::test]
async fn wrong_content_type() {
    let (a, b) =
        both(Mutant::WrongContentType, async |s| call(s, Operation::ListCollections, json!({})).await).await;
    assert_eq!(a.header("content-type"), Some("application/x-amz-json-1.1"));
    assert_eq!(b.header("content-type"), Some("application/json"));
}

#[tokio::test]
async fn missing_error_type() {
    let (a, b) = both(Mutant::MissingErrorType, async |s| {
        call(s, Operation::DescribeCollection, json!({"CollectionId": "x"})).await
    })
    .await;
    assert_eq!(a.json()["__type"], "ResourceNotFoundException");
    assert_eq!(b.status, 400);
    assert!(b.json().get("__type").is_none() && b.json().get("Code").is_none());
    assert!(b.json().get("Message").is_some());
}

#[tokio::test]
async fn unknown_user_search_not_found() {
    let (a, b) = both(Mutant::UnknownUserSearchNotFound, async |s| {
        create_collection(s, "c").await;
        call(s, Operation::SearchUsers, json!({"CollectionId": "c", "UserId": "ghost"})).await
    })
    .await;
    assert_eq!(a.error_type().as_deref(), Some("InvalidParameterException"));
    assert_eq!(b.error_type().as_deref(), Some("ResourceNotFoundException"));
}

#[tokio::test]
async fn same_user_face_reported() {
    let (a, b) = both(Mutant::SameUserFaceReported, async |s| {
        let f = user_with_face(s).await;
        associate(s, "c", "u", &[&f]).await
    })
    .await;
    assert!(a.json()["AssociatedFaces"].as_array().is_none_or(Vec::is_empty), "{}", a.text());
    assert_eq!(b.json()["AssociatedFaces"].as_array().map(Vec::len), Some(1), "{}", b.text());
}

#[tokio::test]
async fn disassociate_ignores_unknown_face() {
    let (a, b) = both(Mutant::DisassociateIgnoresUnknownFace, async |s| {
        user_with_face(s).await;
        call(
            s,
            Operation::DisassociateFaces,
            json!({"CollectionId": "c", "UserId": "u", "FaceIds": [UNKNOWN_FACE]}),
        )
        .await
    })
    .await;
    assert_eq!(a.json()["UnsuccessfulFaceDisassociations"][0]["Reasons"], json!(["FACE_NOT_FOUND"]));
    assert!(b.json()["UnsuccessfulFaceDisassociations"].as_array().is_none_or(Vec::is_empty), "{}", b.text());
}

#[tokio::test]
async fn delete_user_deletes_faces() {
    let (a, b) = both(Mutant::DeleteUserDeletesFaces, async |s| {
        user_with_face(s).await;
        ok(s, Operation::DeleteUser, json!({"CollectionId": "c", "UserId": "u"})).await;
        call(s, Operation::ListFaces, json!({"CollectionId": "c"})).await
    })
    .await;
    assert_eq!(a.json()["Faces"].as_array().map(Vec::len), Some(1));
    assert_eq!(b.json()["Faces"], json!([]));
}

#[tokio::test]
async fn user_count_always_zero() {
    let (a, b) = both(Mutant::UserCountAlwaysZero, async |s| {
        create_collection(s, "c").await;
        create_user(s, "c", "u").await;
        call(s, Operation::DescribeCollection, json!({"CollectionId": "c"})).await
    })
    .await;
    assert_eq!(a.json()["UserCount"], 1);
    assert_eq!(b.json()["UserCount"], 0);
}

#[tokio::test]
async fn max_results_ignored() {
    let (a, b) = both(Mutant::MaxResultsIgnored, async |s| {
        create_collection(s, "c").await;
        for u in ["u1", "u2", "u3"] {
            create_user(s, "c", u).await;
        }
        call(s, Operation::ListUsers, json!({"CollectionId": "c", "MaxResults": 1})).await
    })
    .await;
    assert_eq!(a.json()["Users"].as_array().map(Vec::len), Some(1));
    assert!(a.json()["NextToken"].is_string());
    assert_eq!(b.json()["Users"].as_array().map(Vec::len), Some(3));
}

#[tokio::test]
async fn duplicate_collection_succeeds() {
    let (a, b) = both(Mutant::DuplicateCollectionSucceeds, async |s| {
        create_collection(s, "c").await;
        index(s, "c", "alice").await;
        let dup = call(s, Operation::CreateCollection, json!({"CollectionId": "c"})).await;
        let described = ok(s, Operation::DescribeCollection, json!({"CollectionId": "c"})).await;
        Raw {
            body: json!({"status": dup.status, "faces": described["FaceCount"]}).to_string().into_bytes(),
            ..dup
        }
    })
    .await;
    assert_eq!(a.json(), json!({"status": 400, "faces": 1}));
    assert_eq!(b.json(), json!({"status": 200, "faces": 1}), "success, old collection kept");
}

#[tokio::test]
async fn no_face_search_users_error() {
    let (a, b) = both(Mutant::NoFaceSearchUsersError, async |s| {
        user_with_face(s).await;
        call(
            s,
            Operation::SearchUsersByImage,
            json!({"CollectionId": "c", "Image": {"Bytes": no_face_png()}}),
        )
        .await
    })
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.json()["UserMatches"], json!([]));
    assert_eq!(b.error_type().as_deref(), Some("InvalidParameterException"));
}

#[tokio::test]
async fn omit_empty_unsuccessful() {
    let (a, b) = both(Mutant::OmitEmptyUnsuccessful, async |s| {
        create_collection(s, "c").await;
        let f = index(s, "c", "alice").await;
        create_user(s, "c", "u").await;
        associate(s, "c", "u", &[&f]).await
    })
    .await;
    assert_eq!(a.json()["UnsuccessfulFaceAssociations"], json!([]));
    assert!(b.json().get("UnsuccessfulFaceAssociations").is_none());
}

#[tokio::test]
async fn status_code_missing() {
    let (a, b) = both(Mutant::StatusCodeMissing, async |s| {
        create_collection(s, "c").await;
        call(s, Operation::DeleteCollection, json!({"CollectionId": "c"})).await
    })
    .await;
    assert_eq!(a.json(), json!({"StatusCode": 200}));
    assert_eq!(b.json(), json!({}));
}

#[tokio::test]
async fn timestamp_in_millis() {
    let (a, b) = both(Mutant::TimestampInMillis, async |s| {
        create_collection(s, "c").await;
        call(s, Operation::DescribeCollection, json!({"CollectionId": "c"})).await
    })
    .await;
    let seconds = a.json()["CreationTimestamp"].as_f64().expect("seconds");
    let millis = b.json()["CreationTimestamp"].as_f64().expect("millis");
    assert!((1.0e9..1.0e10).contains(&seconds), "{seconds}");
    assert!((1.0e12..1.0e13).contains(&millis), "{millis}");
}

#[tokio::test]
async fn list_faces_drops_user_id() {
    let (a, b) = both(Mutant::ListFacesDropsUserId, async |s| {
        user_with_face(s).await;
        call(s, Operation::ListFaces, json!({"CollectionId": "c"})).await
    })
    .await;
    assert_eq!(a.json()["Faces"][0]["UserId"], "u");
    assert!(b.json()["Faces"][0].get("UserId").is_none());
}

#[tokio::test]
async fn delete_faces_drops_collection() {
    let (a, b) = both(Mutant::DeleteFacesDropsCollection, async |s| {
        create_collection(s, "c").await;
        let f = index(s, "c", "alice").await;
        let deleted = call(s, Operation::DeleteFaces, json!({"CollectionId": "c", "FaceIds": [f]})).await;
        assert_eq!(deleted.status, 200, "{}", deleted.text());
        call(s, Operation::DescribeCollection, json!({"CollectionId": "c"})).await
    })
    .await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(a.json()["FaceCount"], 0);
    assert_eq!(b.status, 400, "{}", b.text());
    assert_eq!(b.json()["__type"], "ResourceNotFoundException");
}

#[tokio::test]
async fn max_users_501_accepted() {
    let (a, b) = both(Mutant::MaxUsers501Accepted, async |s| {
        user_with_face(s).await;
        call(s, Operation::SearchUsers, json!({"CollectionId": "c", "UserId": "u", "MaxUsers": 501})).await
    })
    .await;
    assert_eq!(a.status, 400, "{}", a.text());
    assert_eq!(b.status, 200, "{}", b.text());
}

#[tokio::test]
async fn colon_in_collection_id() {
    let (a, b) = both(Mutant::ColonInCollectionId, async |s| {
        call(s, Operation::CreateCollection, json!({"CollectionId": "a:b"})).await
    })
    .await;
    assert_eq!(a.status, 400, "{}", a.text());
    assert_eq!(b.status, 200, "{}", b.text());
}

#[tokio::test]
async fn tags_unchecked() {
    let (a, b) = both(Mutant::TagsUnchecked, async |s| {
        let key = "k".repeat(129);
        call(s, Operation::CreateCollection, json!({"CollectionId": "c", "Tags": {key: "v"}})).await
    })
    .await;
    assert_eq!(a.status, 400, "{}", a.text());
    assert_eq!(b.status, 200, "{}", b.text());
}

#[tokio::test]
async fn upper_case_face_ids_accepted() {
    let (a, b) = both(Mutant::UpperCaseFaceIdsAccepted, async |s| {
        create_collection(s, "c").await;
        let face = "0BADFACE-0000-4000-8000-000000000001";
        call(s, Operation::DeleteFaces, json!({"CollectionId": "c", "FaceIds": [face]})).await
    })
    .await;
    assert_eq!(a.status, 400, "{}", a.text());
    assert_eq!(b.status, 200, "{}", b.text());
}

#[tokio::test]
async fn list_faces_ignores_face_ids() {
    let (a, b) = both(Mutant::ListFacesIgnoresFaceIds, async |s| {
        create_collection(s, "c").await;
        let f = index(s, "c", "alice").await;
        index(s, "c", "bob").await;
        call(s, Operation::ListFaces, json!({"CollectionId": "c", "FaceIds": [f]})).await
    })
    .await;
    let listed = |r: &Raw| r.json()["Faces"].as_array().map_or(0, Vec::len);
    assert_eq!(listed(&a), 1, "{}", a.text());
    assert_eq!(listed(&b), 2, "{}", b.text());
}

#[tokio::test]
async fn s3_object_unchecked() {
    let (a, b) = both(Mutant::S3ObjectUnchecked, async |s| {
        create_collection(s, "c").await;
        let image = json!({"S3Object": {"Bucket": "", "Name": "x.png"}});
        call(s, Operation::IndexFaces, json!({"CollectionId": "c", "Image": image})).await
    })
    .await;
    assert_eq!(a.status, 400, "{}", a.text());
    assert_ne!(a.json()["__type"], b.json()["__type"], "{} / {}", a.text(), b.text());
}

/// The catalogue and this file stay in step: every mutant has a test above.
#[test]
fn every_mutant_has_a_wire_test() {
    let source = include_str!("serve_mutants.rs");
    for m in Mutant::ALL {
        let test_name = m.name().replace('-', "_");
        assert!(source.contains(&format!("async fn {test_name}()")), "no wire test for mutant {}", m.name());
    }
}
