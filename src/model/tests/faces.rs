//! Faces: IndexFaces, ListFaces, DeleteFaces, SearchFaces, SearchFacesByImage
//! (contract §6.2, §6.6, §9.7, §9.8).

use super::*;

const IMG: &str = "11111111-2222-4333-8444-555555555555";

fn bbox(w: f64, h: f64) -> Value {
    json!({"Width": w, "Height": h, "Left": 0.1, "Top": 0.1})
}

/// A hand-made IndexFaces record.
fn record(face_id: &str, image_id: &str, w: f64) -> Value {
    json!({
        "Face": {"FaceId": face_id, "BoundingBox": bbox(w, 0.3), "ImageId": image_id, "Confidence": 99.9},
        "FaceDetail": {"BoundingBox": bbox(w, 0.3), "Confidence": 99.9}
    })
}

fn index_body(records: Vec<Value>) -> Value {
    json!({"FaceRecords": records, "FaceModelVersion": "7.0", "UnindexedFaces": []})
}

fn fid(i: u32) -> String {
    format!("aaaaaaaa-0000-4000-8000-{i:012x}")
}

// §6.2: records largest first, fresh FaceIds, one ImageId per image, no UserId.
#[test]
fn index_faces_records_largest_first_with_fresh_ids_and_shared_image_id() {
    let mut e = Env::new();
    e.collection("c");
    // Declared smallest first: IndexFaces still reports the largest first.
    let faces = [("carol", 0.1), ("alice", 0.4), ("bob", 0.2)].map(|(p, w)| ImageFace {
        person: p.into(),
        bounding_box: BoundingBox { left: 0.1, top: 0.1, width: w, height: w },
    });
    let img = json!({"Bytes": crate::api::Blob::new(fixture_png(&faces)).to_base64()});
    let req = json!({"CollectionId": "c", "Image": img});
    let b = e.ok(Operation::IndexFaces, req.clone());
    let ids = face_ids(&b);
    assert_eq!(ids.len(), 3);
    let widths: Vec<f64> = b["FaceRecords"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["Face"]["BoundingBox"]["Width"].as_f64().unwrap())
        .collect();
    assert_eq!(widths, [0.4, 0.2, 0.1]);
    let c = &e.m.collections()["c"];
    assert_eq!(c.faces[&ids[0]].person, "alice");
    assert_eq!(c.faces[&ids[2]].person, "carol");
    let image_ids: BTreeSet<&str> = ids.iter().map(|id| c.faces[id].image_id.as_str()).collect();
    assert_eq!(image_ids.len(), 1);
    assert!(b["FaceRecords"][0]["Face"].get("UserId").is_none());
    assert_eq!(b["UnindexedFaces"], json!([]));

    // Detection: order, fresh ids, shared ImageId, no UserId on a new face.
    let f = |i| fid(i);
    let good = index_body(vec![record(&f(1), IMG, 0.4), record(&f(2), IMG, 0.2), record(&f(3), IMG, 0.1)]);
    assert!(e.paths(Operation::IndexFaces, req.clone(), good.clone()).is_empty());
    let swapped = index_body(vec![record(&f(1), IMG, 0.2), record(&f(2), IMG, 0.4), record(&f(3), IMG, 0.1)]);
    assert_eq!(e.paths(Operation::IndexFaces, req.clone(), swapped), ["FaceRecords[1].Face.BoundingBox"]);
    let repeated =
        index_body(vec![record(&f(1), IMG, 0.4), record(&f(1), IMG, 0.2), record(&f(3), IMG, 0.1)]);
    assert_eq!(e.paths(Operation::IndexFaces, req.clone(), repeated), ["FaceRecords[1].Face.FaceId"]);
    let reused =
        index_body(vec![record(&ids[0], IMG, 0.4), record(&f(2), IMG, 0.2), record(&f(3), IMG, 0.1)]);
    let j = e.judge(Operation::IndexFaces, req.clone(), Observed::Success(reused));
    assert_eq!(j.mismatches[0].path, "FaceRecords[0].Face.FaceId");
    assert_eq!(j.mismatches[0].expected, "a new id, not one already issued");
    let other_image = "11111111-2222-4333-8444-666666666666";
    let split =
        index_body(vec![record(&f(1), IMG, 0.4), record(&f(2), other_image, 0.2), record(&f(3), IMG, 0.1)]);
    assert_eq!(e.paths(Operation::IndexFaces, req.clone(), split), ["FaceRecords[1].Face.ImageId"]);
    let mut owned = good.clone();
    owned["FaceRecords"][0]["Face"]["UserId"] = json!("u");
    assert_eq!(e.paths(Operation::IndexFaces, req.clone(), owned), ["FaceRecords[0].Face.UserId"]);
    let upper = index_body(vec![
        record(&f(1).to_uppercase(), IMG, 0.4),
        record(&f(2), IMG, 0.2),
        record(&f(3), IMG, 0.1),
    ]);
    assert_eq!(e.paths(Operation::IndexFaces, req.clone(), upper), ["FaceRecords[0].Face.FaceId"]);
    let short = index_body(vec![record(&f(1), IMG, 0.4), record(&f(2), IMG, 0.2)]);
    // A list of the wrong length is one finding, not one per missing item.
    assert_eq!(e.paths(Operation::IndexFaces, req.clone(), short.clone()), ["FaceRecords"]);
    let judged = e.judge(Operation::IndexFaces, req, Observed::Success(short));
    assert_eq!(
        (judged.mismatches[0].expected.as_str(), judged.mismatches[0].actual.as_str()),
        ("3 items", "2 items")
    );
}

// §6.2: faces beyond MaxFaces go to UnindexedFaces with EXCEEDS_MAX_FACES and are not stored.
#[test]
fn index_faces_max_faces_reports_exceeds_max_faces() {
    let mut e = Env::new();
    e.collection("c");
    let req = json!({"CollectionId": "c", "Image": image(&["alice", "bob", "carol"]), "MaxFaces": 1});
    let b = e.ok(Operation::IndexFaces, req.clone());
    assert_eq!(face_ids(&b).len(), 1);
    let unindexed = b["UnindexedFaces"].as_array().unwrap();
    assert_eq!(unindexed.len(), 2);
    assert!(unindexed.iter().all(|u| u["Reasons"] == json!(["EXCEEDS_MAX_FACES"])));
    assert_eq!(e.ok(Operation::DescribeCollection, json!({"CollectionId": "c"}))["FaceCount"], 1);
    let e2 = {
        let mut e2 = Env::new();
        e2.collection("c");
        e2
    };
    let mut wrong = b.clone();
    wrong["UnindexedFaces"][1]["Reasons"] = json!(["LOW_SHARPNESS"]);
    assert_eq!(e2.paths(Operation::IndexFaces, req.clone(), wrong), ["UnindexedFaces[1].Reasons[0]"]);
    let mut wrong = b;
    wrong["UnindexedFaces"] = json!([]);
    assert_eq!(e2.paths(Operation::IndexFaces, req, wrong), ["UnindexedFaces"]);
}

// §6.2, §5.1: ExternalImageId is echoed on the new faces and kept by ListFaces.
#[test]
fn index_faces_echoes_external_image_id() {
    let mut e = Env::new();
    e.collection("c");
    let req = json!({"CollectionId": "c", "Image": image(&["alice", "bob"]), "ExternalImageId": "photo:1"});
    let b = e.ok(Operation::IndexFaces, req.clone());
    assert!(b["FaceRecords"].as_array().unwrap().iter().all(|r| r["Face"]["ExternalImageId"] == "photo:1"));
    let listed = e.ok(Operation::ListFaces, json!({"CollectionId": "c"}));
    assert!(listed["Faces"].as_array().unwrap().iter().all(|f| f["ExternalImageId"] == "photo:1"));
    let mut wrong = listed.clone();
    wrong["Faces"][1]["ExternalImageId"] = json!("photo:2");
    assert_eq!(
        e.paths(Operation::ListFaces, json!({"CollectionId": "c"}), wrong),
        ["Faces[1].ExternalImageId"]
    );
    let mut e2 = Env::new();
    e2.collection("c");
    let mut missing = b;
    missing["FaceRecords"][0]["Face"].as_object_mut().unwrap().remove("ExternalImageId");
    assert_eq!(e2.paths(Operation::IndexFaces, req, missing), ["FaceRecords[0].Face.ExternalImageId"]);
}

// §6.2: an image with no face indexes nothing: empty FaceRecords, not an error.
#[test]
fn index_faces_no_face_gives_empty_records() {
    let mut e = Env::new();
    e.collection("c");
    let req = json!({"CollectionId": "c", "Image": image(&[])});
    let b = e.ok(Operation::IndexFaces, req.clone());
    assert_eq!(b["FaceRecords"], json!([]));
    assert_eq!(b["UnindexedFaces"], json!([]));
    assert!(e.m.collections()["c"].faces.is_empty());
    let invented = index_body(vec![record(&fid(1), IMG, 0.3)]);
    assert_eq!(e.paths(Operation::IndexFaces, req, invented), ["FaceRecords"]);
}

// §6.2, §7: PNG and JPEG only; anything else is InvalidImageFormatException (the exact type is unsettled).
#[test]
fn index_faces_non_png_jpeg_is_invalid_image_format() {
    let mut e = Env::new();
    e.collection("c");
    for bytes in [&b"GIF89a\x01\x00"[..], b"BM\x00\x00", b"plain text"] {
        for op in [Operation::IndexFaces, Operation::SearchFacesByImage, Operation::SearchUsersByImage] {
            let req =
                json!({"CollectionId": "c", "Image": {"Bytes": crate::api::Blob::new(bytes).to_base64()}});
            let allowed = e.allowed(op, req.clone());
            assert_eq!(allowed.success, None);
            assert_eq!(
                allowed.errors,
                [ErrorCode::InvalidImageFormatException, ErrorCode::InvalidParameterException]
            );
            assert!(allowed.touched_unknowns().contains(&Unknown::ImageErrorType));
            assert_eq!(e.fails(op, req.clone()), ErrorCode::InvalidImageFormatException);
            let j = e.judge(op, req, error(ErrorCode::ImageTooLargeException));
            assert_eq!(j.mismatches[0].path, "__type");
        }
    }
    // A JPEG without a marker holds one face, of a person named after its digest.
    let jpeg = json!({"Bytes": crate::api::Blob::new(&b"\xFF\xD8\xFF\xE0 some jpeg"[..]).to_base64()});
    let b = e.ok(Operation::IndexFaces, json!({"CollectionId": "c", "Image": jpeg}));
    assert_eq!(face_ids(&b).len(), 1);
}

// §2: rekcon has no bucket, so an S3 image cannot be read.
#[test]
fn s3_images_cannot_be_read() {
    let mut e = Env::new();
    e.collection("c");
    let req = json!({"CollectionId": "c", "Image": {"S3Object": {"Bucket": "bucket", "Name": "input.jpg"}}});
    let allowed = e.allowed(Operation::IndexFaces, req.clone());
    assert_eq!(allowed.errors, [ErrorCode::InvalidS3ObjectException, ErrorCode::AccessDeniedException]);
    assert_eq!(e.fails(Operation::IndexFaces, req), ErrorCode::InvalidS3ObjectException);
}

// §6.2, §6.6: ListFaces shows UserId exactly on associated faces.
#[test]
fn list_faces_shows_user_id_of_associated_faces() {
    let mut e = Env::new();
    let f = e.two_users();
    let req = json!({"CollectionId": "c"});
    let b = e.ok(Operation::ListFaces, req.clone());
    let faces = b["Faces"].as_array().unwrap();
    assert_eq!(faces.len(), 4);
    for face in faces {
        let id = face["FaceId"].as_str().unwrap();
        let expected = if id == f[0] {
            json!("alice")
        } else if id == f[1] {
            json!("bob")
        } else {
            Value::Null
        };
        assert_eq!(face.get("UserId").cloned().unwrap_or(Value::Null), expected, "{id}");
    }
    let ids: Vec<String> = keys(&b, "Faces", &["FaceId"]);
    let at = |id: &str| ids.iter().position(|x| x == id).unwrap();
    let mut wrong = b.clone();
    wrong["Faces"][at(&f[0])].as_object_mut().unwrap().remove("UserId");
    assert_eq!(e.paths(Operation::ListFaces, req.clone(), wrong), [format!("Faces[{}].UserId", at(&f[0]))]);
    let mut wrong = b.clone();
    wrong["Faces"][at(&f[2])]["UserId"] = json!("alice");
    assert_eq!(e.paths(Operation::ListFaces, req.clone(), wrong), [format!("Faces[{}].UserId", at(&f[2]))]);
    let mut wrong = b;
    wrong["Faces"][at(&f[3])]["ImageId"] = json!(IMG);
    assert_eq!(e.paths(Operation::ListFaces, req, wrong), [format!("Faces[{}].ImageId", at(&f[3]))]);
}

// §6.2: ListFaces filters by UserId and by FaceIds; unknown filters are unsettled.
#[test]
fn list_faces_filters_by_user_id_and_face_ids() {
    let mut e = Env::new();
    let f = e.two_users();
    e.associate("c", "alice", &[&f[2]]);
    let by_user = e.ok(Operation::ListFaces, json!({"CollectionId": "c", "UserId": "alice"}));
    let mut got = keys(&by_user, "Faces", &["FaceId"]);
    got.sort();
    let mut want = vec![f[0].clone(), f[2].clone()];
    want.sort();
    assert_eq!(got, want);
    let by_ids =
        e.ok(Operation::ListFaces, json!({"CollectionId": "c", "FaceIds": [f[1], f[3], UNKNOWN_FACE]}));
    let mut got = keys(&by_ids, "Faces", &["FaceId"]);
    got.sort();
    let mut want = vec![f[1].clone(), f[3].clone()];
    want.sort();
    assert_eq!(got, want);
    let both =
        e.ok(Operation::ListFaces, json!({"CollectionId": "c", "UserId": "bob", "FaceIds": [f[0], f[1]]}));
    assert_eq!(keys(&both, "Faces", &["FaceId"]), [f[1].clone()]);

    // Detection: a face outside the filter is a mismatch.
    let req = json!({"CollectionId": "c", "UserId": "bob"});
    let mut wrong = e.ok(Operation::ListFaces, req.clone());
    let alice_face =
        e.ok(Operation::ListFaces, json!({"CollectionId": "c", "FaceIds": [f[0]]}))["Faces"][0].clone();
    wrong["Faces"].as_array_mut().unwrap().push(alice_face);
    assert_eq!(e.paths(Operation::ListFaces, req, wrong), ["Faces[1]"]);

    // Unknown user or only unknown FaceIds: an empty list or an error, tagged.
    for (req, tag) in [
        (json!({"CollectionId": "c", "UserId": "nobody"}), Unknown::ListFacesUnknownUser),
        (json!({"CollectionId": "c", "FaceIds": [UNKNOWN_FACE]}), Unknown::ListFacesUnknownFaceIds),
    ] {
        let allowed = e.allowed(Operation::ListFaces, req.clone());
        assert!(allowed.touched_unknowns().contains(&tag));
        assert!(allowed.errors.contains(&ErrorCode::ResourceNotFoundException));
        assert!(allowed.errors.contains(&ErrorCode::InvalidParameterException));
        assert_eq!(e.ok(Operation::ListFaces, req.clone())["Faces"], json!([]));
        assert!(e.judge(Operation::ListFaces, req, error(ErrorCode::ResourceNotFoundException)).conforms());
    }
}

// §6.2, §6.6, §3: DeleteFaces refuses faces owned by a user (ASSOCIATED_TO_AN_EXISTING_USER, with the owner).
#[test]
fn delete_faces_refuses_owned_faces_naming_the_owner() {
    let mut e = Env::new();
    let f = e.two_users();
    let req = json!({"CollectionId": "c", "FaceIds": [f[0], f[2]]});
    let good = json!({
        "DeletedFaces": [f[2]],
        "UnsuccessfulFaceDeletions": [{"FaceId": f[0], "UserId": "alice", "Reasons": ["ASSOCIATED_TO_AN_EXISTING_USER"]}]
    });
    assert!(e.paths(Operation::DeleteFaces, req.clone(), good.clone()).is_empty());
    let mut wrong = good.clone();
    wrong["UnsuccessfulFaceDeletions"][0]["Reasons"][0] = json!("ASSOCIATED_TO_A_DIFFERENT_USER");
    assert_eq!(
        e.paths(Operation::DeleteFaces, req.clone(), wrong),
        ["UnsuccessfulFaceDeletions[0].Reasons[0]"]
    );
    let mut wrong = good.clone();
    wrong["UnsuccessfulFaceDeletions"][0]["UserId"] = json!("bob");
    assert_eq!(e.paths(Operation::DeleteFaces, req.clone(), wrong), ["UnsuccessfulFaceDeletions[0].UserId"]);
    let deleted_both = json!({"DeletedFaces": [f[2], f[0]], "UnsuccessfulFaceDeletions": []});
    assert_eq!(
        e.paths(Operation::DeleteFaces, req.clone(), deleted_both),
        // One mismatch: the owned face listed as deleted instead of refused.
        ["DeletedFaces[1]"]
    );

    let b = e.ok(Operation::DeleteFaces, req);
    assert_eq!(b, good);
    let c = &e.m.collections()["c"];
    assert!(c.faces.contains_key(&f[0]) && !c.faces.contains_key(&f[2]));
    assert_eq!(c.faces[&f[0]].user.as_deref(), Some("alice"));
    assert_eq!(e.ok(Operation::DescribeCollection, json!({"CollectionId": "c"}))["FaceCount"], 3);
}

// §6.2, §3: an unknown face is FACE_NOT_FOUND; with nothing deleted, DeletedFaces is [] or absent (unsettled).
#[test]
fn delete_faces_unknown_face_is_face_not_found() {
    let mut e = Env::new();
    let f = e.two_users();
    let req = json!({"CollectionId": "c", "FaceIds": [UNKNOWN_FACE]});
    let allowed = e.allowed(Operation::DeleteFaces, req.clone());
    assert!(allowed.touched_unknowns().contains(&Unknown::DeleteFacesAllFailed));
    let failed = json!([{"FaceId": UNKNOWN_FACE, "Reasons": ["FACE_NOT_FOUND"]}]);
    assert!(
        e.paths(
            Operation::DeleteFaces,
            req.clone(),
            json!({"DeletedFaces": [], "UnsuccessfulFaceDeletions": failed})
        )
        .is_empty()
    );
    assert!(
        e.paths(Operation::DeleteFaces, req.clone(), json!({"UnsuccessfulFaceDeletions": failed})).is_empty()
    );
    assert_eq!(
        e.paths(
            Operation::DeleteFaces,
            req.clone(),
            json!({"DeletedFaces": [UNKNOWN_FACE], "UnsuccessfulFaceDeletions": []})
        ),
        ["DeletedFaces", "UnsuccessfulFaceDeletions"]
    );
    let wrong = json!({"UnsuccessfulFaceDeletions": [{"FaceId": UNKNOWN_FACE, "Reasons": ["ASSOCIATED_TO_AN_EXISTING_USER"]}]});
    assert_eq!(
        e.paths(Operation::DeleteFaces, req.clone(), wrong),
        ["UnsuccessfulFaceDeletions[0].Reasons[0]"]
    );
    e.ok(Operation::DeleteFaces, req);
    // A face deleted once is not found the second time.
    e.ok(Operation::DeleteFaces, json!({"CollectionId": "c", "FaceIds": [f[3]]}));
    let again = e.ok(Operation::DeleteFaces, json!({"CollectionId": "c", "FaceIds": [f[3]]}));
    assert_eq!(again["UnsuccessfulFaceDeletions"][0]["Reasons"], json!(["FACE_NOT_FOUND"]));
}

// §6.2, §9.8: SearchFaces by an unknown FaceId is InvalidParameterException, not ResourceNotFound.
#[test]
fn search_faces_unknown_face_is_invalid_parameter() {
    let mut e = Env::new();
    e.two_users();
    let req = json!({"CollectionId": "c", "FaceId": UNKNOWN_FACE});
    assert_eq!(e.allowed(Operation::SearchFaces, req.clone()).errors, [ErrorCode::InvalidParameterException]);
    assert_eq!(e.fails(Operation::SearchFaces, req.clone()), ErrorCode::InvalidParameterException);
    let j = e.judge(Operation::SearchFaces, req, error(ErrorCode::ResourceNotFoundException));
    assert_eq!(j.mismatches[0].path, "__type");
}

// §6.2: matches are faces of the same person, by Similarity descending; the searched face is
// never listed in AWS examples (unsettled); default FaceMatchThreshold 80.
#[test]
fn search_faces_matches_same_person_sorted() {
    let mut e = Env::new();
    e.collection("c");
    let a = e.index("c", &["alice", "bob", "alice~twin"]);
    let b = e.index("c", &["alice"]);
    let req = json!({"CollectionId": "c", "FaceId": a[0]});
    let got = e.ok(Operation::SearchFaces, req.clone());
    assert_eq!(got["SearchedFaceId"], a[0]);
    assert_eq!(keys(&got, "FaceMatches", &["Face", "FaceId"]), [b[0].clone()], "the twin scores 76-79 < 80");
    let lower =
        e.ok(Operation::SearchFaces, json!({"CollectionId": "c", "FaceId": a[0], "FaceMatchThreshold": 75}));
    assert_eq!(keys(&lower, "FaceMatches", &["Face", "FaceId"]), [b[0].clone(), a[2].clone()]);

    let allowed = e.allowed(Operation::SearchFaces, req.clone());
    assert!(allowed.touched_unknowns().contains(&Unknown::SearchFacesSelfMatch));
    let mut face_of = |id: &str| {
        e.ok(Operation::ListFaces, json!({"CollectionId": "c", "FaceIds": [id]}))["Faces"][0].clone()
    };
    let (fa0, fa2, fb0, fbob) = (face_of(&a[0]), face_of(&a[2]), face_of(&b[0]), face_of(&a[1]));
    let body =
        |matches: Value| json!({"SearchedFaceId": a[0], "FaceMatches": matches, "FaceModelVersion": "7.0"});
    let self_match = json!([{"Similarity": 99.99, "Face": fa0}, {"Similarity": 95.0, "Face": fb0}]);
    assert!(e.paths(Operation::SearchFaces, req.clone(), body(self_match)).is_empty());
    let unsorted = json!([{"Similarity": 91.0, "Face": fb0}, {"Similarity": 99.99, "Face": fa0}]);
    assert_eq!(e.paths(Operation::SearchFaces, req.clone(), body(unsorted)), ["FaceMatches[1].Similarity"]);
    let with_bob = json!([{"Similarity": 95.0, "Face": fb0}, {"Similarity": 30.0, "Face": fbob}]);
    assert_eq!(e.paths(Operation::SearchFaces, req.clone(), body(with_bob)), ["FaceMatches[1]"]);
    let with_twin = json!([{"Similarity": 95.0, "Face": fb0}, {"Similarity": 78.0, "Face": fa2}]);
    assert_eq!(
        e.paths(Operation::SearchFaces, req.clone(), body(with_twin)),
        ["FaceMatches[1]"],
        "78 < default 80"
    );
    let low = json!([{"Similarity": 85.0, "Face": fb0}]);
    assert_eq!(e.paths(Operation::SearchFaces, req.clone(), body(low)), ["FaceMatches[0].Similarity"]);
    assert_eq!(e.paths(Operation::SearchFaces, req, body(json!([]))), ["FaceMatches"]);
    // MaxFaces caps the list.
    let capped = e.ok(
        Operation::SearchFaces,
        json!({"CollectionId": "c", "FaceId": a[0], "FaceMatchThreshold": 0, "MaxFaces": 2}),
    );
    assert_eq!(capped["FaceMatches"].as_array().unwrap().len(), 2);
}

// §6.2, §9.7: SearchFacesByImage uses the largest face; no face is InvalidParameterException.
#[test]
fn search_faces_by_image_largest_face_and_no_face() {
    let mut e = Env::new();
    e.collection("c");
    let a = e.index("c", &["alice", "bob"]);
    let none = json!({"CollectionId": "c", "Image": image(&[])});
    assert_eq!(
        e.allowed(Operation::SearchFacesByImage, none.clone()).errors,
        [ErrorCode::InvalidParameterException]
    );
    assert_eq!(e.fails(Operation::SearchFacesByImage, none.clone()), ErrorCode::InvalidParameterException);
    let j = e.judge(
        Operation::SearchFacesByImage,
        none,
        Observed::Success(json!({"FaceMatches": [], "FaceModelVersion": "7.0"})),
    );
    assert_eq!(j.mismatches[0].path, "");

    let req = json!({"CollectionId": "c", "Image": image(&["bob", "alice"])});
    let got = e.ok(Operation::SearchFacesByImage, req.clone());
    assert_eq!(keys(&got, "FaceMatches", &["Face", "FaceId"]), [a[1].clone()]);
    assert!(got["SearchedFaceBoundingBox"]["Width"].is_number());
    let mut wrong = got.clone();
    wrong["FaceMatches"] = json!([]);
    assert_eq!(e.paths(Operation::SearchFacesByImage, req.clone(), wrong), ["FaceMatches"]);
    let mut wrong = got;
    wrong.as_object_mut().unwrap().remove("SearchedFaceConfidence");
    assert_eq!(e.paths(Operation::SearchFacesByImage, req, wrong), ["SearchedFaceConfidence"]);
}

// §6.2 [doc]: the same image, collection and ExternalImageId store no duplicate face metadata;
// the response may repeat the earlier records (or, as the emulator does, index afresh).
#[test]
fn index_faces_same_image_again_may_repeat_the_records() {
    let mut e = Env::new();
    e.collection("c");
    let req = json!({"CollectionId": "c", "Image": image(&["alice", "bob"]), "ExternalImageId": "x"});
    let first = e.ok(Operation::IndexFaces, req.clone());
    let ids = face_ids(&first);
    e.user("c", "u");
    e.associate("c", "u", &[&ids[0]]);
    let mut again = first.clone();
    again["FaceRecords"][0]["Face"]["UserId"] = json!("u");
    let j = e.observe(Operation::IndexFaces, req.clone(), Observed::Success(again));
    assert!(j.conforms(), "{:?}", j.mismatches);
    let c = &e.m.collections()["c"];
    assert_eq!(c.faces.len(), 2, "nothing new stored");
    assert_eq!(c.faces[&ids[0]].user.as_deref(), Some("u"), "the association survives");
    // Half old, half new is neither; records in the wrong order are caught too.
    let mut mixed = first.clone();
    mixed["FaceRecords"][1]["Face"]["FaceId"] = json!(fid(9));
    assert!(!e.judge(Operation::IndexFaces, req.clone(), Observed::Success(mixed)).conforms());
    let mut swapped = first.clone();
    swapped["FaceRecords"].as_array_mut().unwrap().swap(0, 1);
    assert_eq!(e.paths(Operation::IndexFaces, req.clone(), swapped), ["FaceRecords[1].Face.BoundingBox"]);
    // Fresh faces are still allowed, and what the emulator does.
    assert_eq!(face_ids(&e.ok(Operation::IndexFaces, req)).len(), 2);
    assert_eq!(e.m.collections()["c"].faces.len(), 4);
    // Another ExternalImageId (or none) is another indexing: the old ids are not new ids.
    let other = json!({"CollectionId": "c", "Image": image(&["alice", "bob"]), "ExternalImageId": "y"});
    let j = e.judge(Operation::IndexFaces, other, Observed::Success(first));
    assert_eq!(j.mismatches[0].path, "FaceRecords[0].Face.FaceId");
}
