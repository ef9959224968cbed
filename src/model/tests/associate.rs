//! AssociateFaces and DisassociateFaces (contract §6.5, §9.9, §9.11).

use super::*;

fn assoc(uid: &str, faces: &[&str]) -> Value {
    json!({"CollectionId": "c", "UserId": uid, "FaceIds": faces})
}

fn disassoc(uid: &str, faces: &[&str]) -> Value {
    json!({"CollectionId": "c", "UserId": uid, "FaceIds": faces})
}

fn assoc_body(associated: &[&str], failed: Value, status: &str) -> Value {
    let associated: Vec<Value> = associated.iter().map(|f| json!({"FaceId": f})).collect();
    json!({"AssociatedFaces": associated, "UnsuccessfulFaceAssociations": failed, "UserStatus": status})
}

// §6.5: the first faces of a user are associated without applying the threshold.
#[test]
fn associate_first_faces_ignore_the_threshold() {
    let mut e = Env::new();
    e.collection("c");
    let f = e.index("c", &["alice", "bob"]);
    e.user("c", "u");
    let req = json!({"CollectionId": "c", "UserId": "u", "FaceIds": [f[0], f[1]], "UserMatchThreshold": 100});
    let b = e.ok(Operation::AssociateFaces, req);
    let mut got = keys(&b, "AssociatedFaces", &["FaceId"]);
    got.sort();
    let mut want = f.clone();
    want.sort();
    assert_eq!(got, want);
    assert_eq!(b["UnsuccessfulFaceAssociations"], json!([]));
    assert_eq!(b["UserStatus"], "UPDATING");
    assert!(e.m.invariant_violations().is_empty());
}

// §6.5: UnsuccessfulFaceAssociations is sent even when empty [real].
#[test]
fn associate_empty_unsuccessful_list_is_sent() {
    let mut e = Env::new();
    e.collection("c");
    let f = e.index("c", &["alice"]);
    e.user("c", "u");
    let req = assoc("u", &[&f[0]]);
    let mut wrong = assoc_body(&[&f[0]], json!([]), "UPDATING");
    assert!(e.paths(Operation::AssociateFaces, req.clone(), wrong.clone()).is_empty());
    wrong.as_object_mut().unwrap().remove("UnsuccessfulFaceAssociations");
    assert_eq!(e.paths(Operation::AssociateFaces, req, wrong), ["UnsuccessfulFaceAssociations"]);
}

// §6.5, §9.9: a face already on this user appears in neither list.
#[test]
fn associate_face_already_on_this_user_vanishes() {
    let mut e = Env::new();
    let f = e.two_users();
    let req = assoc("alice", &[&f[0], &f[2]]);
    let b = e.ok(Operation::AssociateFaces, req.clone());
    assert_eq!(keys(&b, "AssociatedFaces", &["FaceId"]), [f[2].clone()]);
    assert_eq!(b["UnsuccessfulFaceAssociations"], json!([]));
    // Only that face: nothing changes, and the reported status is unsettled.
    let again = assoc("alice", &[&f[0]]);
    let allowed = e.allowed(Operation::AssociateFaces, again.clone());
    assert!(allowed.touched_unknowns().contains(&Unknown::StatusWhenUnchanged));
    for status in ["UPDATING", "ACTIVE"] {
        assert!(
            e.paths(Operation::AssociateFaces, again.clone(), assoc_body(&[], json!([]), status)).is_empty()
        );
    }
    let b = e.ok(Operation::AssociateFaces, again.clone());
    assert!(b.get("AssociatedFaces").is_none_or(|a| a == &json!([])));
    // Detection: listing it anywhere is a mismatch.
    assert_eq!(
        e.paths(Operation::AssociateFaces, again.clone(), assoc_body(&[&f[0]], json!([]), "UPDATING")),
        ["AssociatedFaces"]
    );
    let failed = json!([{"FaceId": f[0], "UserId": "alice", "Reasons": ["ASSOCIATED_TO_A_DIFFERENT_USER"]}]);
    assert_eq!(
        e.paths(Operation::AssociateFaces, again, assoc_body(&[], failed, "ACTIVE")),
        ["UnsuccessfulFaceAssociations[0]"]
    );
}

// §6.5, §3: a face of another user is ASSOCIATED_TO_A_DIFFERENT_USER with the owner's UserId.
#[test]
fn associate_face_of_another_user_names_the_owner() {
    let mut e = Env::new();
    let f = e.two_users();
    let req = assoc("alice", &[&f[1]]);
    let b = e.ok(Operation::AssociateFaces, req.clone());
    assert_eq!(
        b["UnsuccessfulFaceAssociations"],
        json!([{"FaceId": f[1], "UserId": "bob", "Reasons": ["ASSOCIATED_TO_A_DIFFERENT_USER"]}])
    );
    assert_eq!(e.m.collections()["c"].faces[&f[1]].user.as_deref(), Some("bob"));
    let good = json!([{"FaceId": f[1], "UserId": "bob", "Reasons": ["ASSOCIATED_TO_A_DIFFERENT_USER"]}]);
    assert!(
        e.paths(Operation::AssociateFaces, req.clone(), assoc_body(&[], good.clone(), "ACTIVE")).is_empty()
    );
    let mut wrong = good.clone();
    wrong[0]["UserId"] = json!("alice");
    assert_eq!(
        e.paths(Operation::AssociateFaces, req.clone(), assoc_body(&[], wrong, "ACTIVE")),
        ["UnsuccessfulFaceAssociations[0].UserId"]
    );
    let mut wrong = good.clone();
    wrong[0].as_object_mut().unwrap().remove("UserId");
    assert_eq!(
        e.paths(Operation::AssociateFaces, req.clone(), assoc_body(&[], wrong, "ACTIVE")),
        ["UnsuccessfulFaceAssociations[0].UserId"]
    );
    let mut wrong = good;
    wrong[0]["Reasons"][0] = json!("LOW_MATCH_CONFIDENCE");
    assert_eq!(
        e.paths(Operation::AssociateFaces, req.clone(), assoc_body(&[], wrong, "ACTIVE")),
        ["UnsuccessfulFaceAssociations[0].Reasons[0]"]
    );
    // Moving the face is one mismatch, at the face that came in the wrong list.
    assert_eq!(
        e.paths(Operation::AssociateFaces, req, assoc_body(&[&f[1]], json!([]), "UPDATING")),
        ["AssociatedFaces[0]"]
    );
}

// §6.5, §3: a FaceId not in the collection is FACE_NOT_FOUND.
#[test]
fn associate_unknown_face_is_face_not_found() {
    let mut e = Env::new();
    let f = e.two_users();
    let req = assoc("alice", &[UNKNOWN_FACE, &f[2]]);
    let b = e.ok(Operation::AssociateFaces, req.clone());
    assert_eq!(
        b["UnsuccessfulFaceAssociations"],
        json!([{"FaceId": UNKNOWN_FACE, "Reasons": ["FACE_NOT_FOUND"]}])
    );
    let wrong = json!([{"FaceId": UNKNOWN_FACE, "Reasons": ["LOW_MATCH_CONFIDENCE"]}]);
    let mut e2 = Env::new();
    let f2 = e2.two_users();
    let req2 = assoc("alice", &[UNKNOWN_FACE, &f2[2]]);
    assert_eq!(
        e2.paths(Operation::AssociateFaces, req2.clone(), assoc_body(&[&f2[2]], wrong, "UPDATING")),
        ["UnsuccessfulFaceAssociations[0].Reasons[0]"]
    );
    // Leaving it out of both lists is caught too.
    assert_eq!(
        e2.paths(Operation::AssociateFaces, req2, assoc_body(&[&f2[2]], json!([]), "UPDATING")),
        ["UnsuccessfulFaceAssociations"]
    );
    // The missing-user case is ResourceNotFoundException (§6.5 [inferred]).
    assert_eq!(
        e.fails(Operation::AssociateFaces, assoc("nobody", &[&f[2]])),
        ErrorCode::ResourceNotFoundException
    );
}

// §6.5, §3: LOW_MATCH_CONFIDENCE carries Confidence (below the threshold) and no UserId.
#[test]
fn associate_low_match_confidence_carries_confidence() {
    let mut e = Env::new();
    let f = e.two_users();
    let req = assoc("alice", &[&f[3]]);
    let b = e.ok(Operation::AssociateFaces, req.clone());
    let item = &b["UnsuccessfulFaceAssociations"][0];
    assert_eq!(item["Reasons"], json!(["LOW_MATCH_CONFIDENCE"]));
    let confidence = item["Confidence"].as_f64().unwrap();
    assert!((0.0..75.0).contains(&confidence), "{confidence}");
    assert!(item.get("UserId").is_none());
    assert!(e.m.collections()["c"].faces[&f[3]].user.is_none());
    let good = json!([{"FaceId": f[3], "Confidence": 0.94, "Reasons": ["LOW_MATCH_CONFIDENCE"]}]);
    assert!(
        e.paths(Operation::AssociateFaces, req.clone(), assoc_body(&[], good.clone(), "ACTIVE")).is_empty()
    );
    let mut wrong = good.clone();
    wrong[0]["UserId"] = json!("alice");
    assert_eq!(
        e.paths(Operation::AssociateFaces, req.clone(), assoc_body(&[], wrong, "ACTIVE")),
        ["UnsuccessfulFaceAssociations[0].UserId"]
    );
    let mut wrong = good.clone();
    wrong[0].as_object_mut().unwrap().remove("Confidence");
    assert_eq!(
        e.paths(Operation::AssociateFaces, req.clone(), assoc_body(&[], wrong, "ACTIVE")),
        ["UnsuccessfulFaceAssociations[0].Confidence"]
    );
    let mut wrong = good.clone();
    wrong[0]["Confidence"] = json!(80.0);
    assert_eq!(
        e.paths(Operation::AssociateFaces, req.clone(), assoc_body(&[], wrong, "ACTIVE")),
        ["UnsuccessfulFaceAssociations[0].Confidence"]
    );
    let mut wrong = good;
    wrong[0]["Reasons"] = json!(["FACE_NOT_FOUND"]);
    assert_eq!(
        e.paths(Operation::AssociateFaces, req.clone(), assoc_body(&[], wrong, "ACTIVE")),
        ["UnsuccessfulFaceAssociations[0].Reasons[0]"]
    );
    // Associating bob's face with alice is one mismatch.
    assert_eq!(
        e.paths(Operation::AssociateFaces, req, assoc_body(&[&f[3]], json!([]), "UPDATING")),
        ["AssociatedFaces[0]"]
    );
}

// §6.5, §9.6: the default UserMatchThreshold is 75: a lookalike (76-79) is associated by
// default but not at 80.
#[test]
fn associate_default_threshold_is_75() {
    let mut e = Env::new();
    e.collection("c");
    let f = e.index("c", &["alice", "alice~twin", "alice~twin"]);
    e.user("c", "u");
    e.associate("c", "u", &[&f[0]]);
    let strict = e.ok(
        Operation::AssociateFaces,
        json!({"CollectionId": "c", "UserId": "u", "FaceIds": [f[1]], "UserMatchThreshold": 80}),
    );
    assert_eq!(strict["UnsuccessfulFaceAssociations"][0]["Reasons"], json!(["LOW_MATCH_CONFIDENCE"]));
    let b = e.associate("c", "u", &[&f[1]]);
    assert_eq!(keys(&b, "AssociatedFaces", &["FaceId"]), [f[1].clone()]);
    // With a lower configured default the emulator's mutants can be caught: 75 is the contract.
    assert_eq!(ASSOCIATE_DEFAULT_THRESHOLD, 75.0);
    let req = assoc("u", &[&f[2]]);
    let low = json!([{"FaceId": f[2], "Confidence": 77.0, "Reasons": ["LOW_MATCH_CONFIDENCE"]}]);
    assert_eq!(
        e.paths(Operation::AssociateFaces, req, assoc_body(&[], low, "UPDATING")),
        // One mismatch: the face refused that the contract associates.
        ["UnsuccessfulFaceAssociations[0]"]
    );
}

// §6.5: thresholds 0 and 100, for the same and for different people.
#[test]
fn associate_thresholds_0_and_100() {
    let mut e = Env::new();
    e.collection("c");
    let f = e.index("c", &["alice", "alice", "bob", "bob"]);
    e.user("c", "u");
    e.associate("c", "u", &[&f[0]]);
    let at = |t: f64, face: &str| json!({"CollectionId": "c", "UserId": "u", "FaceIds": [face], "UserMatchThreshold": t});
    // Different person at 100: never; at 0: always.
    let b = e.ok(Operation::AssociateFaces, at(100.0, &f[2]));
    assert_eq!(b["UnsuccessfulFaceAssociations"][0]["Reasons"], json!(["LOW_MATCH_CONFIDENCE"]));
    // Same person at 100: the band reaches 100, so both outcomes are allowed.
    let allowed = e.allowed(Operation::AssociateFaces, at(100.0, &f[1]));
    let pass = assoc_body(&[&f[1]], json!([]), "UPDATING");
    let fail = assoc_body(
        &[],
        json!([{"FaceId": f[1], "Confidence": 99.0, "Reasons": ["LOW_MATCH_CONFIDENCE"]}]),
        "ACTIVE",
    );
    for outcome in [pass, fail] {
        let j = e.judge(Operation::AssociateFaces, at(100.0, &f[1]), Observed::Success(outcome.clone()));
        assert!(j.conforms(), "{outcome}: {:?}", j.mismatches);
    }
    assert!(allowed.success.is_some());
    // Same person at 0: always.
    let b = e.ok(Operation::AssociateFaces, at(0.0, &f[1]));
    assert_eq!(keys(&b, "AssociatedFaces", &["FaceId"]), [f[1].clone()]);
    let b = e.ok(Operation::AssociateFaces, at(0.0, &f[2]));
    assert_eq!(keys(&b, "AssociatedFaces", &["FaceId"]), [f[2].clone()]);
    let refused = json!([{"FaceId": f[3], "Confidence": 0.0, "Reasons": ["LOW_MATCH_CONFIDENCE"]}]);
    assert_eq!(
        e.paths(Operation::AssociateFaces, at(0.0, &f[3]), assoc_body(&[], refused, "UPDATING")),
        // One mismatch: the face refused that the contract associates.
        ["UnsuccessfulFaceAssociations[0]"]
    );
}

// §6.5, design "nondeterminism": a threshold inside a band allows both outcomes; each realised
// variant conforms, and the status follows the decision; in neither or both lists is caught.
#[test]
fn associate_near_threshold_allows_both_outcomes() {
    for near in [0, 1] {
        let mut e = Env::new();
        e.collection("c");
        let f = e.index("c", &["alice", "alice"]);
        e.user("c", "u");
        e.associate("c", "u", &[&f[0]]);
        e.ch.settled = true;
        e.ok(Operation::ListUsers, json!({"CollectionId": "c"}));
        assert_eq!(e.m.collections()["c"].users["u"].status, Status::Settled("ACTIVE".into()));
        let req = json!({"CollectionId": "c", "UserId": "u", "FaceIds": [f[1]], "UserMatchThreshold": 95});
        e.ch.near = near;
        let b = e.ok(Operation::AssociateFaces, req);
        let owner = e.m.collections()["c"].faces[&f[1]].user.clone();
        if near == 0 {
            assert_eq!(keys(&b, "AssociatedFaces", &["FaceId"]), [f[1].clone()]);
            assert_eq!(b["UserStatus"], "UPDATING");
            assert_eq!(owner.as_deref(), Some("u"));
        } else {
            assert_eq!(keys(&b, "UnsuccessfulFaceAssociations", &["FaceId"]), [f[1].clone()]);
            let confidence = b["UnsuccessfulFaceAssociations"][0]["Confidence"].as_f64().unwrap();
            assert!((90.0..95.0).contains(&confidence));
            assert_eq!(b["UserStatus"], "ACTIVE", "nothing changed: the settled status");
            assert_eq!(owner, None);
        }
    }
    let mut e = Env::new();
    e.collection("c");
    let f = e.index("c", &["alice", "alice"]);
    e.user("c", "u");
    e.associate("c", "u", &[&f[0]]);
    let req = json!({"CollectionId": "c", "UserId": "u", "FaceIds": [f[1]], "UserMatchThreshold": 95});
    let low = json!([{"FaceId": f[1], "Confidence": 93.0, "Reasons": ["LOW_MATCH_CONFIDENCE"]}]);
    assert_eq!(
        e.paths(Operation::AssociateFaces, req.clone(), assoc_body(&[], json!([]), "UPDATING")),
        ["AssociatedFaces"]
    );
    let both = e.judge(
        Operation::AssociateFaces,
        req.clone(),
        Observed::Success(assoc_body(&[&f[1]], low.clone(), "UPDATING")),
    );
    assert_eq!(both.mismatches[0].path, "UnsuccessfulFaceAssociations[0]");
    assert!(both.mismatches[0].actual.contains("AssociatedFaces[0]"));
    // Associated, yet reporting a settled status: UPDATING is required after a change [real].
    assert_eq!(
        e.paths(Operation::AssociateFaces, req.clone(), assoc_body(&[&f[1]], json!([]), "ACTIVE")),
        ["UserStatus"]
    );
    // A refusal above the threshold is caught.
    let high = json!([{"FaceId": f[1], "Confidence": 97.0, "Reasons": ["LOW_MATCH_CONFIDENCE"]}]);
    assert_eq!(
        e.paths(Operation::AssociateFaces, req, assoc_body(&[], high, "ACTIVE")),
        ["UnsuccessfulFaceAssociations[0].Confidence"]
    );
}

// §6.5: UserStatus is UPDATING in the response after a change [real].
#[test]
fn associate_reports_updating_after_a_change() {
    let mut e = Env::new();
    e.collection("c");
    let f = e.index("c", &["alice", "alice"]);
    e.user("c", "u");
    let req = assoc("u", &[&f[0]]);
    for wrong in ["ACTIVE", "CREATED", "CREATING"] {
        assert_eq!(
            e.paths(Operation::AssociateFaces, req.clone(), assoc_body(&[&f[0]], json!([]), wrong)),
            ["UserStatus"]
        );
    }
    let mut no_status = assoc_body(&[&f[0]], json!([]), "UPDATING");
    no_status.as_object_mut().unwrap().remove("UserStatus");
    assert_eq!(e.paths(Operation::AssociateFaces, req.clone(), no_status), ["UserStatus"]);
    assert_eq!(e.associate("c", "u", &[&f[0]])["UserStatus"], "UPDATING");
}

// §6.3, §6.5, §7, §9.11: at most 100 faces per user; crossing the limit is documented two
// ways (ServiceQuotaExceededException or in-band refusals), so both are allowed, tagged.
#[test]
fn associate_face_limit_at_99_100_101() {
    let mut e = Env::new();
    e.collection("c");
    let crowd1 = e.ok(Operation::IndexFaces, json!({"CollectionId": "c", "Image": crowd("alice", 100, 1)}));
    let crowd2 = e.ok(Operation::IndexFaces, json!({"CollectionId": "c", "Image": crowd("alice", 3, 2)}));
    let a = face_ids(&crowd1);
    let b = face_ids(&crowd2);
    assert_eq!((a.len(), b.len()), (100, 3));
    e.user("c", "u");
    let first99: Vec<&str> = a[..99].iter().map(String::as_str).collect();
    let r = e.associate("c", "u", &first99);
    assert_eq!(r["AssociatedFaces"].as_array().unwrap().len(), 99);
    // 99 + 2 would be 101: either outcome of the unsettled overflow.
    let over = assoc("u", &[&a[99], &b[0]]);
    let allowed = e.allowed(Operation::AssociateFaces, over.clone());
    assert!(allowed.touched_unknowns().contains(&Unknown::FaceLimitOverflow));
    assert_eq!(allowed.errors, [ErrorCode::ServiceQuotaExceededException]);
    assert!(allowed.success.is_some());
    assert!(
        e.judge(Operation::AssociateFaces, over.clone(), error(ErrorCode::ServiceQuotaExceededException))
            .conforms()
    );
    let in_band = assoc_body(&[&a[99]], json!([{"FaceId": b[0], "Reasons": []}]), "UPDATING");
    assert!(e.judge(Operation::AssociateFaces, over.clone(), Observed::Success(in_band)).conforms());
    let none = assoc_body(&[], json!([{"FaceId": a[99], "Reasons": []}, {"FaceId": b[0]}]), "ACTIVE");
    assert!(e.judge(Operation::AssociateFaces, over.clone(), Observed::Success(none)).conforms());
    // Detection: both associated (101 faces), or a face in neither list.
    let both = assoc_body(&[&a[99], &b[0]], json!([]), "UPDATING");
    assert_eq!(e.paths(Operation::AssociateFaces, over.clone(), both), ["AssociatedFaces"]);
    let dropped = assoc_body(&[&a[99]], json!([]), "UPDATING");
    assert_eq!(e.paths(Operation::AssociateFaces, over.clone(), dropped), ["AssociatedFaces"]);
    assert_eq!(
        e.judge(Operation::AssociateFaces, over.clone(), error(ErrorCode::ConflictException)).mismatches[0]
            .path,
        "__type"
    );
    // The emulator answers the quota error, which changes nothing.
    assert_eq!(e.fails(Operation::AssociateFaces, over), ErrorCode::ServiceQuotaExceededException);
    assert_eq!(e.m.collections()["c"].users["u"].faces.len(), 99);
    // 99 + 1 = 100 is fine.
    let r = e.associate("c", "u", &[&a[99]]);
    assert_eq!(keys(&r, "AssociatedFaces", &["FaceId"]), [a[99].clone()]);
    assert_eq!(e.m.collections()["c"].users["u"].faces.len(), 100);
    // At 100, one more (101) is over the limit.
    let more = assoc("u", &[&b[1]]);
    assert_eq!(e.fails(Operation::AssociateFaces, more.clone()), ErrorCode::ServiceQuotaExceededException);
    let in_band = assoc_body(
        &[],
        json!([{"FaceId": b[1], "Reasons": ["LOW_MATCH_CONFIDENCE"], "Confidence": 99.0}]),
        "ACTIVE",
    );
    assert!(e.judge(Operation::AssociateFaces, more.clone(), Observed::Success(in_band)).conforms());
    assert_eq!(
        e.paths(Operation::AssociateFaces, more, assoc_body(&[&b[1]], json!([]), "UPDATING")),
        ["AssociatedFaces"]
    );
    // Faces already on the user, or not found, do not count against the limit.
    let r = e.associate("c", "u", &[&a[0], UNKNOWN_FACE]);
    assert_eq!(keys(&r, "UnsuccessfulFaceAssociations", &["FaceId"]), [UNKNOWN_FACE]);
    // Disassociating one makes room again.
    e.ok(Operation::DisassociateFaces, disassoc("u", &[&a[0]]));
    let r = e.associate("c", "u", &[&b[1]]);
    assert_eq!(keys(&r, "AssociatedFaces", &["FaceId"]), [b[1].clone()]);
    assert!(e.m.invariant_violations().is_empty());
}

// §6.5: the same FaceId twice in one request is unsettled: an error, or as if once.
#[test]
fn associate_duplicate_face_ids_are_unsettled() {
    let mut e = Env::new();
    e.collection("c");
    let f = e.index("c", &["alice"]);
    e.user("c", "u");
    let req = assoc("u", &[&f[0], &f[0]]);
    let allowed = e.allowed(Operation::AssociateFaces, req.clone());
    assert!(allowed.touched_unknowns().contains(&Unknown::DuplicateFaceIds));
    assert!(allowed.errors.contains(&ErrorCode::InvalidParameterException));
    assert!(
        e.judge(Operation::AssociateFaces, req.clone(), error(ErrorCode::ValidationException)).conforms()
    );
    let b = e.ok(Operation::AssociateFaces, req.clone());
    assert_eq!(keys(&b, "AssociatedFaces", &["FaceId"]), [f[0].clone()]);
}

// §6.5: DisassociateFaces removes the user's faces; a face not associated with anyone is
// silently ignored; another user's face is ASSOCIATED_TO_A_DIFFERENT_USER; unknown is FACE_NOT_FOUND.
#[test]
fn disassociate_faces_rules() {
    let mut e = Env::new();
    let f = e.two_users();
    let req = disassoc("alice", &[&f[0], &f[1], &f[2], UNKNOWN_FACE]);
    let good = json!({
        "DisassociatedFaces": [{"FaceId": f[0]}],
        "UnsuccessfulFaceDisassociations": [
            {"FaceId": UNKNOWN_FACE, "Reasons": ["FACE_NOT_FOUND"]},
            {"FaceId": f[1], "UserId": "bob", "Reasons": ["ASSOCIATED_TO_A_DIFFERENT_USER"]}
        ],
        "UserStatus": "UPDATING"
    });
    assert!(e.paths(Operation::DisassociateFaces, req.clone(), good.clone()).is_empty());
    let mut wrong = good.clone();
    wrong["UnsuccessfulFaceDisassociations"][1]["UserId"] = json!("alice");
    assert_eq!(
        e.paths(Operation::DisassociateFaces, req.clone(), wrong),
        ["UnsuccessfulFaceDisassociations[1].UserId"]
    );
    let mut wrong = good.clone();
    wrong["UnsuccessfulFaceDisassociations"]
        .as_array_mut()
        .unwrap()
        .push(json!({"FaceId": f[2], "Reasons": ["FACE_NOT_FOUND"]}));
    assert_eq!(
        e.paths(Operation::DisassociateFaces, req.clone(), wrong),
        ["UnsuccessfulFaceDisassociations[2]"]
    );
    let mut wrong = good.clone();
    wrong["UserStatus"] = json!("ACTIVE");
    assert_eq!(e.paths(Operation::DisassociateFaces, req.clone(), wrong), ["UserStatus"]);
    let mut wrong = good.clone();
    wrong["DisassociatedFaces"] = json!([{"FaceId": f[0]}, {"FaceId": f[1]}]);
    assert_eq!(e.paths(Operation::DisassociateFaces, req.clone(), wrong), ["DisassociatedFaces[1]"]);
    let mut wrong = good;
    wrong["DisassociatedFaces"] = json!([]);
    assert_eq!(e.paths(Operation::DisassociateFaces, req.clone(), wrong), ["DisassociatedFaces"]);

    let b = e.ok(Operation::DisassociateFaces, req);
    assert_eq!(keys(&b, "DisassociatedFaces", &["FaceId"]), [f[0].clone()]);
    assert_eq!(b["UserStatus"], "UPDATING");
    let c = &e.m.collections()["c"];
    assert!(c.faces[&f[0]].user.is_none());
    assert_eq!(c.faces[&f[1]].user.as_deref(), Some("bob"));
    assert!(c.users["alice"].faces.is_empty());
    // Already disassociated: silently ignored (in neither list, §9.9); status unsettled.
    let again = disassoc("alice", &[&f[0]]);
    let allowed = e.allowed(Operation::DisassociateFaces, again.clone());
    assert!(allowed.touched_unknowns().contains(&Unknown::StatusWhenUnchanged));
    let b = e.ok(Operation::DisassociateFaces, again.clone());
    assert!(b.get("DisassociatedFaces").is_none_or(|d| d == &json!([])));
    let listed = json!({"DisassociatedFaces": [{"FaceId": f[0]}], "UserStatus": "UPDATING"});
    assert_eq!(e.paths(Operation::DisassociateFaces, again, listed), ["DisassociatedFaces"]);
    // Missing user: ResourceNotFoundException.
    assert_eq!(
        e.fails(Operation::DisassociateFaces, disassoc("nobody", &[&f[0]])),
        ErrorCode::ResourceNotFoundException
    );
    assert!(e.m.invariant_violations().is_empty());
}
