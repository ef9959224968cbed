//! Collections (contract §6.1, §9.1–§9.3, §9.14).

use super::*;

const ARN: &str = "aws:rekognition:us-west-2:123456789012:collection/c";

// §6.1, §9.1, §9.2: CollectionArn has no `arn:` prefix, StatusCode 200 sits in the body.
#[test]
fn create_collection_arn_without_prefix_and_status_code_in_body() {
    let mut e = Env::new();
    let b = e.ok(Operation::CreateCollection, json!({"CollectionId": "c"}));
    assert_eq!(b["StatusCode"], 200);
    let arn = b["CollectionArn"].as_str().unwrap();
    assert!(arn.starts_with("aws:rekognition:") && arn.ends_with(":collection/c"), "{arn}");
    assert!(b["FaceModelVersion"].is_string());

    let e = Env::new();
    let req = json!({"CollectionId": "c"});
    let good = json!({"StatusCode": 200, "CollectionArn": ARN, "FaceModelVersion": "7.0"});
    assert!(e.paths(Operation::CreateCollection, req.clone(), good).is_empty());
    // An `arn:`-prefixed CollectionArn is what DescribeCollection sends, not CreateCollection.
    let prefixed =
        json!({"StatusCode": 200, "CollectionArn": format!("arn:{ARN}"), "FaceModelVersion": "7.0"});
    assert_eq!(e.paths(Operation::CreateCollection, req.clone(), prefixed), ["CollectionArn"]);
    let no_status = json!({"CollectionArn": ARN, "FaceModelVersion": "7.0"});
    assert_eq!(e.paths(Operation::CreateCollection, req.clone(), no_status), ["StatusCode"]);
    let other_id = json!({"StatusCode": 200, "CollectionArn": format!("{ARN}x"), "FaceModelVersion": "7.0"});
    assert_eq!(e.paths(Operation::CreateCollection, req.clone(), other_id), ["CollectionArn"]);
    let cased =
        json!({"StatusCode": 200, "CollectionARN": ARN, "CollectionArn": ARN, "FaceModelVersion": "7.0"});
    assert_eq!(e.paths(Operation::CreateCollection, req, cased), ["CollectionARN"]);
}

// §6.1 with a known region and account, the ARN must carry them.
#[test]
fn collection_arn_carries_configured_region_and_account() {
    let config = ModelConfig {
        region: Some("eu-west-1".into()),
        account: Some("111122223333".into()),
        ..ModelConfig::default()
    };
    let e = Env::with_config(config);
    let req = json!({"CollectionId": "c"});
    let body = |arn: &str| json!({"StatusCode": 200, "CollectionArn": arn, "FaceModelVersion": "7.0"});
    assert!(
        e.paths(
            Operation::CreateCollection,
            req.clone(),
            body("aws:rekognition:eu-west-1:111122223333:collection/c")
        )
        .is_empty()
    );
    assert_eq!(e.paths(Operation::CreateCollection, req, body(ARN)), ["CollectionArn"]);
}

// §6.1: a duplicate CollectionId is ResourceAlreadyExistsException; names are case-sensitive.
#[test]
fn duplicate_collection_is_resource_already_exists() {
    let mut e = Env::new();
    e.collection("c");
    assert_eq!(
        e.fails(Operation::CreateCollection, json!({"CollectionId": "c"})),
        ErrorCode::ResourceAlreadyExistsException
    );
    e.collection("C");
    let j = e.judge(
        Operation::CreateCollection,
        json!({"CollectionId": "c"}),
        Observed::Success(json!({"StatusCode": 200, "CollectionArn": ARN, "FaceModelVersion": "7.0"})),
    );
    assert_eq!(j.mismatches[0].path, "");
    assert_eq!(j.mismatches[0].expected, "ResourceAlreadyExistsException");
}

// §4, §6.1: every operation on a missing collection is ResourceNotFoundException.
#[test]
fn missing_collection_is_resource_not_found() {
    let mut e = Env::new();
    let f = UNKNOWN_FACE;
    let cases: Vec<(Operation, Value)> = vec![
        (Operation::DeleteCollection, json!({"CollectionId": "nope"})),
        (Operation::DescribeCollection, json!({"CollectionId": "nope"})),
        (Operation::IndexFaces, json!({"CollectionId": "nope", "Image": image(&["alice"])})),
        (Operation::ListFaces, json!({"CollectionId": "nope"})),
        (Operation::DeleteFaces, json!({"CollectionId": "nope", "FaceIds": [f]})),
        (Operation::SearchFaces, json!({"CollectionId": "nope", "FaceId": f})),
        (Operation::SearchFacesByImage, json!({"CollectionId": "nope", "Image": image(&["alice"])})),
        (Operation::CreateUser, json!({"CollectionId": "nope", "UserId": "u"})),
        (Operation::DeleteUser, json!({"CollectionId": "nope", "UserId": "u"})),
        (Operation::ListUsers, json!({"CollectionId": "nope"})),
        (Operation::AssociateFaces, json!({"CollectionId": "nope", "UserId": "u", "FaceIds": [f]})),
        (Operation::DisassociateFaces, json!({"CollectionId": "nope", "UserId": "u", "FaceIds": [f]})),
        (Operation::SearchUsers, json!({"CollectionId": "nope", "UserId": "u"})),
        (Operation::SearchUsersByImage, json!({"CollectionId": "nope", "Image": image(&["alice"])})),
    ];
    for (op, req) in cases {
        assert_eq!(e.allowed(op, req.clone()).errors, [ErrorCode::ResourceNotFoundException], "{op}");
        assert_eq!(e.fails(op, req.clone()), ErrorCode::ResourceNotFoundException);
        let j = e.judge(op, req, error(ErrorCode::InvalidParameterException));
        assert_eq!(j.mismatches[0].path, "__type", "{op}");
    }
}

// §6.1, §9.1: DescribeCollection has CollectionARN (capital ARN) with `arn:`, FaceCount, UserCount.
#[test]
fn describe_collection_arn_with_prefix_and_counts() {
    let mut e = Env::new();
    e.collection("c");
    let faces = e.index("c", &["alice", "bob", "carol"]);
    e.user("c", "u1");
    e.user("c", "u2");
    e.associate("c", "u1", &[&faces[0]]);
    let b = e.ok(Operation::DescribeCollection, json!({"CollectionId": "c"}));
    assert_eq!(b["FaceCount"], 3);
    assert_eq!(b["UserCount"], 2);
    assert!(b["CollectionARN"].as_str().unwrap().starts_with("arn:aws:rekognition:"));
    assert!(b.get("CollectionArn").is_none());

    let req = json!({"CollectionId": "c"});
    let good = json!({
        "FaceCount": 3, "UserCount": 2, "FaceModelVersion": "7.0",
        "CollectionARN": format!("arn:{ARN}"), "CreationTimestamp": b["CreationTimestamp"]
    });
    assert!(e.paths(Operation::DescribeCollection, req.clone(), good.clone()).is_empty());
    let mut wrong = good.clone();
    wrong["CollectionARN"] = json!(ARN);
    wrong["FaceCount"] = json!(4);
    assert_eq!(e.paths(Operation::DescribeCollection, req.clone(), wrong), ["FaceCount", "CollectionARN"]);
    let mut wrong = good.clone();
    wrong.as_object_mut().unwrap().remove("UserCount");
    assert_eq!(e.paths(Operation::DescribeCollection, req.clone(), wrong), ["UserCount"]);
    let mut wrong = good;
    wrong["FaceModelVersion"] = json!("6.0");
    assert_eq!(
        e.paths(Operation::DescribeCollection, req, wrong),
        ["FaceModelVersion"],
        "CreateCollection said 7.0"
    );
}

// §1 Timestamps: CreationTimestamp is epoch seconds; once seen, it must not change.
#[test]
fn describe_collection_timestamp_is_stable() {
    let mut e = Env::new();
    e.collection("c");
    let req = json!({"CollectionId": "c"});
    let body = |t: Value| {
        json!({"FaceCount": 0, "UserCount": 0, "FaceModelVersion": "7.0",
               "CollectionARN": format!("arn:{ARN}"), "CreationTimestamp": t})
    };
    // Exponent notation is a number like any other [doc].
    let first: Value = serde_json::from_str("1.533422155042E9").unwrap();
    assert!(e.observe(Operation::DescribeCollection, req.clone(), Observed::Success(body(first))).conforms());
    assert!(e.paths(Operation::DescribeCollection, req.clone(), body(json!(1_533_422_155.042))).is_empty());
    assert_eq!(
        e.paths(Operation::DescribeCollection, req.clone(), body(json!(1_533_422_156.0))),
        ["CreationTimestamp"]
    );
    assert_eq!(e.paths(Operation::DescribeCollection, req, body(json!("2018-08-04"))), ["CreationTimestamp"]);
}

// §6.1: DeleteCollection removes the collection with its faces and users; it is not listed again.
#[test]
fn delete_collection_removes_everything() {
    let mut e = Env::new();
    e.collection("c");
    e.collection("d");
    e.index("c", &["alice"]);
    e.user("c", "u");
    let b = e.ok(Operation::DeleteCollection, json!({"CollectionId": "c"}));
    assert_eq!(b, json!({"StatusCode": 200}));
    assert!(!e.m.collections().contains_key("c"));
    assert_eq!(
        e.fails(Operation::DescribeCollection, json!({"CollectionId": "c"})),
        ErrorCode::ResourceNotFoundException
    );
    assert_eq!(
        e.fails(Operation::DeleteCollection, json!({"CollectionId": "c"})),
        ErrorCode::ResourceNotFoundException
    );
    // Listing the deleted collection again is a mismatch; another account's collection is not.
    let req = json!({});
    let listed = |ids: &[&str]| json!({"CollectionIds": ids, "FaceModelVersions": vec!["7.0"; ids.len()]});
    assert!(e.paths(Operation::ListCollections, req.clone(), listed(&["d", "someone-elses"])).is_empty());
    assert_eq!(e.paths(Operation::ListCollections, req.clone(), listed(&["c", "d"])), ["CollectionIds[0]"]);
    assert_eq!(e.paths(Operation::ListCollections, req, listed(&[])), ["CollectionIds"], "d is missing");
    // Re-creating starts empty.
    e.collection("c");
    let b = e.ok(Operation::DescribeCollection, json!({"CollectionId": "c"}));
    assert_eq!((b["FaceCount"].clone(), b["UserCount"].clone()), (json!(0), json!(0)));
    let b = e.ok(Operation::DeleteCollection, json!({"CollectionId": "c"}));
    assert_eq!(b["StatusCode"], 200);
    assert_eq!(e.paths(Operation::DeleteCollection, json!({"CollectionId": "d"}), json!({})), ["StatusCode"]);
}

// §6.1: ListCollections' FaceModelVersions is parallel to CollectionIds.
#[test]
fn list_collections_face_model_versions_are_parallel() {
    let mut e = Env::new();
    e.collection("a");
    e.collection("b");
    let b = e.ok(Operation::ListCollections, json!({}));
    assert_eq!(b["CollectionIds"], json!(["a", "b"]));
    assert_eq!(b["FaceModelVersions"].as_array().unwrap().len(), 2);
    let req = json!({});
    assert!(
        e.paths(
            Operation::ListCollections,
            req.clone(),
            json!({"CollectionIds": ["b", "a"], "FaceModelVersions": ["7.0", "7.0"]})
        )
        .is_empty()
    );
    assert_eq!(
        e.paths(
            Operation::ListCollections,
            req.clone(),
            json!({"CollectionIds": ["a", "b"], "FaceModelVersions": ["7.0"]})
        ),
        ["FaceModelVersions"]
    );
    assert_eq!(
        e.paths(
            Operation::ListCollections,
            req,
            json!({"CollectionIds": ["a", "b"], "FaceModelVersions": ["7.0", "x"]})
        ),
        ["FaceModelVersions[1]"]
    );
}
