//! Syntactic validation (contract §2, §3, §5): every violation allows both
//! InvalidParameterException and ValidationException, tagged `unknown:validation-error-type`.

use super::*;

fn env() -> Env {
    let mut e = Env::new();
    e.collection("c");
    e.user("c", "u");
    e
}

fn s(n: usize, c: char) -> String {
    std::iter::repeat_n(c, n).collect()
}

fn face(i: usize) -> String {
    format!("00000000-0000-4000-8000-{i:012x}")
}

// §2 CollectionId: 1..255 characters.
#[test]
fn collection_id_length_255_ok_256_rejected() {
    let e = env();
    for op in [Operation::CreateCollection, Operation::DescribeCollection, Operation::DeleteCollection] {
        assert_valid(&e.allowed(op, json!({"CollectionId": s(255, 'a')})));
        assert_validation(&e.allowed(op, json!({"CollectionId": s(256, 'a')})));
        assert_validation(&e.allowed(op, json!({"CollectionId": ""})));
    }
    // 255 is a valid name that simply does not exist.
    assert_eq!(
        e.allowed(Operation::DescribeCollection, json!({"CollectionId": s(255, 'a')})).errors,
        [ErrorCode::ResourceNotFoundException]
    );
}

// §2, §9.13: the CollectionId pattern `[a-zA-Z0-9_.\-]+` is matched in full.
#[test]
fn collection_id_pattern_is_full_match() {
    let e = env();
    for ok in ["a", "A.b_c-9", "1", "MyCollection"] {
        assert_valid(&e.allowed(Operation::CreateCollection, json!({"CollectionId": ok})));
    }
    for bad in ["my collection", "a:b", "a/b", "ab ", " ab", "é", "a\n"] {
        assert_validation(&e.allowed(Operation::CreateCollection, json!({"CollectionId": bad})));
        assert_validation(&e.allowed(Operation::ListUsers, json!({"CollectionId": bad})));
    }
}

// §2 UserId: 1..128, pattern `[a-zA-Z0-9_.\-:]+` (colon allowed).
#[test]
fn user_id_length_128_ok_129_rejected_colon_allowed() {
    let e = env();
    let create = |uid: &str| e.allowed(Operation::CreateUser, json!({"CollectionId": "c", "UserId": uid}));
    assert_valid(&create(&s(128, 'u')));
    assert_validation(&create(&s(129, 'u')));
    assert_validation(&create(""));
    assert_valid(&create("org:user-1.x_y"));
    assert_validation(&create("user 1"));
    assert_validation(&create("user/1"));
    // The ListFaces and SearchUsers filters obey the same rule.
    assert_validation(&e.allowed(Operation::ListFaces, json!({"CollectionId": "c", "UserId": s(129, 'u')})));
    assert_validation(&e.allowed(Operation::SearchUsers, json!({"CollectionId": "c", "UserId": "a b"})));
}

// §2 ExternalImageId: 1..255, pattern `[a-zA-Z0-9_.\-:]+`.
#[test]
fn external_image_id_bounds_and_pattern() {
    let e = env();
    let index = |ext: &str| {
        e.allowed(
            Operation::IndexFaces,
            json!({"CollectionId": "c", "Image": image(&["alice"]), "ExternalImageId": ext}),
        )
    };
    assert_valid(&index(&s(255, 'x')));
    assert_valid(&index("photo:2024.01_a-b"));
    assert_validation(&index(&s(256, 'x')));
    assert_validation(&index(""));
    assert_validation(&index("photo 1.jpg"));
    assert_validation(&index("dir/photo.jpg"));
}

// §1.3, §2 ClientRequestToken: 1..64, `^[a-zA-Z0-9-_]+$`, on the four user-mutating ops.
#[test]
fn client_request_token_64_ok_65_rejected_and_pattern() {
    let e = env();
    let create = |token: &str| {
        e.allowed(
            Operation::CreateUser,
            json!({"CollectionId": "c", "UserId": "v", "ClientRequestToken": token}),
        )
    };
    assert_valid(&create(&s(64, 't')));
    assert_valid(&create("550e8400-e29b-41d4-a716-446655440002"));
    assert_valid(&create("a_b-C9"));
    assert_validation(&create(&s(65, 't')));
    assert_validation(&create(""));
    assert_validation(&create("tok en"));
    assert_validation(&create("tok.en"));
    assert_validation(&create("tok:en"));
    let f = face(1);
    for (op, req) in [
        (
            Operation::DeleteUser,
            json!({"CollectionId": "c", "UserId": "u", "ClientRequestToken": s(65, 't')}),
        ),
        (
            Operation::AssociateFaces,
            json!({"CollectionId": "c", "UserId": "u", "FaceIds": [f], "ClientRequestToken": "a.b"}),
        ),
        (
            Operation::DisassociateFaces,
            json!({"CollectionId": "c", "UserId": "u", "FaceIds": [f], "ClientRequestToken": "a b"}),
        ),
    ] {
        assert_validation(&e.allowed(op, req));
    }
}

// §2 FaceId: lower-case hex UUID, matched in full.
#[test]
fn face_id_must_be_a_lower_case_uuid() {
    let e = env();
    let search = |id: &str| e.allowed(Operation::SearchFaces, json!({"CollectionId": "c", "FaceId": id}));
    assert_valid(&search(&face(1)));
    assert_validation(&search("ABCDEF00-0000-4000-8000-000000000001"));
    assert_validation(&search("00000000-0000-4000-8000-00000000000"));
    assert_validation(&search("00000000-0000-4000-8000-0000000000011"));
    assert_validation(&search("00000000000040008000000000000001"));
    assert_validation(&search(" 00000000-0000-4000-8000-000000000001"));
    assert_validation(&e.allowed(
        Operation::AssociateFaces,
        json!({"CollectionId": "c", "UserId": "u", "FaceIds": [face(1), "0000000A-0000-4000-8000-000000000001"]}),
    ));
    assert_validation(&e.allowed(Operation::SearchUsers, json!({"CollectionId": "c", "FaceId": "nope"})));
}

// §2 numeric ranges: PageSize 0..4096, MaxUserResults 1..500, MaxFaces 1..4096,
// MaxFacesToIndex ≥1, Percent 0..100.
#[test]
fn numeric_ranges_at_and_beyond_bounds() {
    let e = env();
    // (operation, member, request, values in range, values out of range)
    type Case = (Operation, &'static str, Value, Vec<f64>, Vec<f64>);
    let cases: Vec<Case> = vec![
        (Operation::ListCollections, "MaxResults", json!({}), vec![0.0, 1.0, 4096.0], vec![-1.0, 4097.0]),
        (
            Operation::ListFaces,
            "MaxResults",
            json!({"CollectionId": "c"}),
            vec![0.0, 4096.0],
            vec![-1.0, 4097.0],
        ),
        (
            Operation::ListUsers,
            "MaxResults",
            json!({"CollectionId": "c"}),
            vec![1.0, 500.0],
            vec![0.0, 501.0],
        ),
        (
            Operation::SearchUsers,
            "MaxUsers",
            json!({"CollectionId": "c", "UserId": "u"}),
            vec![1.0, 500.0],
            vec![0.0, 501.0],
        ),
        (
            Operation::SearchUsersByImage,
            "MaxUsers",
            json!({"CollectionId": "c", "Image": image(&["alice"])}),
            vec![1.0, 500.0],
            vec![0.0, 501.0],
        ),
        (
            Operation::SearchFaces,
            "MaxFaces",
            json!({"CollectionId": "c", "FaceId": face(1)}),
            vec![1.0, 4096.0],
            vec![0.0, 4097.0],
        ),
        (
            Operation::SearchFacesByImage,
            "MaxFaces",
            json!({"CollectionId": "c", "Image": image(&["alice"])}),
            vec![1.0, 4096.0],
            vec![0.0, 4097.0],
        ),
        (
            Operation::IndexFaces,
            "MaxFaces",
            json!({"CollectionId": "c", "Image": image(&["alice"])}),
            vec![1.0, 1.0e6],
            vec![0.0, -5.0],
        ),
    ];
    for (op, member, base, good, bad) in cases {
        for (values, valid) in [(good, true), (bad, false)] {
            for v in values {
                let mut req = base.clone();
                req[member] = json!(v as i64);
                let allowed = e.allowed(op, req);
                if valid {
                    assert_valid(&allowed);
                } else {
                    assert_validation(&allowed);
                }
            }
        }
    }
    let percent: Vec<(Operation, &str, Value)> = vec![
        (
            Operation::AssociateFaces,
            "UserMatchThreshold",
            json!({"CollectionId": "c", "UserId": "u", "FaceIds": [face(1)]}),
        ),
        (Operation::SearchUsers, "UserMatchThreshold", json!({"CollectionId": "c", "UserId": "u"})),
        (
            Operation::SearchUsersByImage,
            "UserMatchThreshold",
            json!({"CollectionId": "c", "Image": image(&["a"])}),
        ),
        (Operation::SearchFaces, "FaceMatchThreshold", json!({"CollectionId": "c", "FaceId": face(1)})),
        (
            Operation::SearchFacesByImage,
            "FaceMatchThreshold",
            json!({"CollectionId": "c", "Image": image(&["a"])}),
        ),
    ];
    for (op, member, base) in percent {
        for (v, valid) in
            [(json!(0.0), true), (json!(100.0), true), (json!(-0.001), false), (json!(100.001), false)]
        {
            let mut req = base.clone();
            req[member] = v;
            let allowed = e.allowed(op, req);
            if valid { assert_valid(&allowed) } else { assert_validation(&allowed) }
        }
        let mut req = base.clone();
        req[member] = json!("NaN");
        assert_validation(&e.allowed(op, req));
    }
}

// §2 UserFaceIdList 1..100 (Associate/Disassociate), FaceIdList 1..4096 (DeleteFaces, ListFaces).
#[test]
fn face_id_list_sizes() {
    let e = env();
    let ids = |n: usize| (0..n).map(face).collect::<Vec<_>>();
    for op in [Operation::AssociateFaces, Operation::DisassociateFaces] {
        let req = |n| json!({"CollectionId": "c", "UserId": "u", "FaceIds": ids(n)});
        assert_validation(&e.allowed(op, req(0)));
        assert_valid(&e.allowed(op, req(1)));
        assert_valid(&e.allowed(op, req(100)));
        assert_validation(&e.allowed(op, req(101)));
    }
    let delete = |n| e.allowed(Operation::DeleteFaces, json!({"CollectionId": "c", "FaceIds": ids(n)}));
    assert_validation(&delete(0));
    assert_valid(&delete(1));
    assert_valid(&delete(4096));
    assert_validation(&delete(4097));
    let list = |n| e.allowed(Operation::ListFaces, json!({"CollectionId": "c", "FaceIds": ids(n)}));
    assert_validation(&list(0));
    assert_valid(&list(4096));
    assert_validation(&list(4097));
}

// §2 Image: exactly one of Bytes and S3Object; 1..5,242,880 decoded bytes.
#[test]
fn image_union_and_size_limit() {
    let e = env();
    let index = |img: Value| e.allowed(Operation::IndexFaces, json!({"CollectionId": "c", "Image": img}));
    let png = image(&["alice"]);
    let s3 = json!({"Bucket": "bucket", "Name": "a.jpg"});
    assert_valid(&index(png.clone()));
    assert_validation(&index(json!({"Bytes": png["Bytes"], "S3Object": s3})));
    assert_validation(&index(json!({})));
    assert_validation(&index(json!({"Bytes": ""})));
    assert_validation(&index(json!({"S3Object": {"Bucket": "ab", "Name": "a.jpg"}})));
    assert_validation(&index(json!({"S3Object": {"Bucket": "bucket"}})));
    // Exactly 5 MiB passes validation (and is then judged as an image); one byte more is too large.
    let mut bytes = vec![0xFF, 0xD8, 0xFF];
    bytes.resize(validate::MAX_IMAGE_BYTES, 0);
    let at_limit = index(json!({"Bytes": crate::api::Blob::new(bytes.clone()).to_base64()}));
    assert!(at_limit.success.is_some(), "a 5 MiB JPEG is indexed: {}", at_limit.describe());
    bytes.push(0);
    let over = index(json!({"Bytes": crate::api::Blob::new(bytes).to_base64()}));
    assert_eq!(over.success, None);
    assert_eq!(over.errors[0], ErrorCode::ImageTooLargeException);
    assert!(over.errors.contains(&ErrorCode::InvalidParameterException));
    // Missing Image altogether, on every image operation.
    for op in [Operation::IndexFaces, Operation::SearchFacesByImage, Operation::SearchUsersByImage] {
        assert_validation(&e.allowed(op, json!({"CollectionId": "c"})));
    }
}

// §3 QualityFilter and Attribute enums.
#[test]
fn quality_filter_and_detection_attributes_enums() {
    let e = env();
    let img = image(&["alice"]);
    for q in ["NONE", "AUTO", "LOW", "MEDIUM", "HIGH"] {
        assert_valid(
            &e.allowed(Operation::IndexFaces, json!({"CollectionId": "c", "Image": img, "QualityFilter": q})),
        );
    }
    for q in ["none", "BEST", ""] {
        for op in [Operation::IndexFaces, Operation::SearchFacesByImage, Operation::SearchUsersByImage] {
            assert_validation(&e.allowed(op, json!({"CollectionId": "c", "Image": img, "QualityFilter": q})));
        }
    }
    let attrs = |a: Value| {
        e.allowed(Operation::IndexFaces, json!({"CollectionId": "c", "Image": img, "DetectionAttributes": a}))
    };
    assert_valid(&attrs(json!(["DEFAULT", "ALL", "FACE_OCCLUDED", "EYE_DIRECTION"])));
    assert_valid(&attrs(json!([])));
    assert_validation(&attrs(json!(["DEFAULT", "HAIR"])));
    assert_validation(&attrs(json!(["all"])));
}

// §5: every required member, missing, is a validation failure (before any state is read).
#[test]
fn required_members_missing() {
    let e = Env::new(); // no collection at all: validation comes before ResourceNotFound
    let f = face(1);
    let cases: Vec<(Operation, Value)> = vec![
        (Operation::CreateCollection, json!({})),
        (Operation::DeleteCollection, json!({})),
        (Operation::DescribeCollection, json!({})),
        (Operation::IndexFaces, json!({"Image": image(&["a"])})),
        (Operation::IndexFaces, json!({"CollectionId": "c"})),
        (Operation::ListFaces, json!({})),
        (Operation::DeleteFaces, json!({"CollectionId": "c"})),
        (Operation::DeleteFaces, json!({"FaceIds": [f]})),
        (Operation::SearchFaces, json!({"CollectionId": "c"})),
        (Operation::SearchFaces, json!({"FaceId": f})),
        (Operation::SearchFacesByImage, json!({"CollectionId": "c"})),
        (Operation::CreateUser, json!({"CollectionId": "c"})),
        (Operation::CreateUser, json!({"UserId": "u"})),
        (Operation::DeleteUser, json!({"CollectionId": "c"})),
        (Operation::ListUsers, json!({})),
        (Operation::AssociateFaces, json!({"CollectionId": "c", "UserId": "u"})),
        (Operation::AssociateFaces, json!({"CollectionId": "c", "FaceIds": [f]})),
        (Operation::DisassociateFaces, json!({"CollectionId": "c", "UserId": "u"})),
        (Operation::DisassociateFaces, json!({"UserId": "u", "FaceIds": [f]})),
        (Operation::SearchUsers, json!({"UserId": "u"})),
        (Operation::SearchUsersByImage, json!({"Image": image(&["a"])})),
    ];
    for (op, req) in cases {
        let allowed = e.allowed(op, req.clone());
        assert_eq!(allowed.success, None, "{op} {req}");
        assert_validation(&allowed);
    }
    // ListCollections has no required member.
    assert!(e.allowed(Operation::ListCollections, json!({})).success.is_some());
}

// §2 TagMap: ≤200 entries; keys 1..128 not starting `aws:`; values ≤256; \p{L}\p{Z}\p{N}_.:/=+\-@.
#[test]
fn tags_bounds_and_patterns() {
    let e = Env::new();
    let create =
        |tags: Value| e.allowed(Operation::CreateCollection, json!({"CollectionId": "t", "Tags": tags}));
    assert_valid(&create(json!({"team": "faces", "owner name": "Zoë 1", "k:/=+-@._": ""})));
    assert_valid(&create(json!({ s(128, 'k'): s(256, 'v') })));
    assert_validation(&create(json!({ s(129, 'k'): "v" })));
    assert_validation(&create(json!({"k": s(257, 'v')})));
    assert_validation(&create(json!({"": "v"})));
    assert_validation(&create(json!({"aws:reserved": "v"})));
    assert_validation(&create(json!({"k": "a*b"})));
    // \p{Z} is separators: a tab or newline is not one.
    assert_validation(&create(json!({"k": "a\tb"})));
    assert_validation(&create(json!({"a\nb": "v"})));
    let many: serde_json::Map<String, Value> = (0..201).map(|i| (format!("k{i}"), json!("v"))).collect();
    assert_validation(&create(Value::Object(many)));
}

// §2, §9.13: a validation allowance accepts either error type, and catches everything else.
#[test]
fn validation_allowance_judges_outcomes() {
    let e = env();
    let bad = json!({"CollectionId": "c", "UserId": s(129, 'u')});
    for code in [ErrorCode::InvalidParameterException, ErrorCode::ValidationException] {
        let j = e.judge(Operation::CreateUser, bad.clone(), error(code));
        assert!(j.conforms());
        assert!(j.unknowns.contains(&Unknown::ValidationErrorType));
    }
    let j = e.judge(Operation::CreateUser, bad.clone(), error(ErrorCode::ResourceNotFoundException));
    assert_eq!(j.mismatches[0].path, "__type");
    let j = e.judge(Operation::CreateUser, bad, Observed::Success(json!({})));
    assert_eq!(j.mismatches[0].path, "");
    assert_eq!(j.mismatches[0].expected, "InvalidParameterException or ValidationException");
}
