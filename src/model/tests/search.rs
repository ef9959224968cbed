//! SearchUsers and SearchUsersByImage (contract §6.7, §9.4, §9.7, §9.8, §9.10).

use super::*;

fn user_match(uid: &str, status: &str, similarity: f64) -> Value {
    json!({"Similarity": similarity, "User": {"UserId": uid, "UserStatus": status}})
}

/// Users alice (2 alice faces), alice2 (1 alice face), bob (1 bob face), empty (no face);
/// returns [alice's first face, a free alice face, a free bob face, a free twin face].
fn users_env() -> (Env, Vec<String>) {
    let mut e = Env::new();
    e.collection("c");
    let f = e.index("c", &["alice", "alice", "alice", "bob"]);
    let g = e.index("c", &["alice", "bob", "alice~twin"]);
    for u in ["alice", "alice2", "bob", "empty"] {
        e.user("c", u);
    }
    e.associate("c", "alice", &[&f[0], &f[1]]);
    e.associate("c", "alice2", &[&f[2]]);
    e.associate("c", "bob", &[&f[3]]);
    (e, vec![f[0].clone(), g[0].clone(), g[1].clone(), g[2].clone()])
}

// §6.7: exactly one of FaceId and UserId (both or neither: the error is unsettled).
#[test]
fn search_users_needs_exactly_one_of_face_id_and_user_id() {
    let (mut e, f) = users_env();
    for req in [json!({"CollectionId": "c"}), json!({"CollectionId": "c", "UserId": "alice", "FaceId": f[1]})]
    {
        let allowed = e.allowed(Operation::SearchUsers, req.clone());
        assert_eq!(allowed.success, None);
        assert_eq!(allowed.errors, [ErrorCode::InvalidParameterException, ErrorCode::ValidationException]);
        assert!(allowed.touched_unknowns().contains(&Unknown::SearchUsersQueryShape));
        assert_eq!(e.fails(Operation::SearchUsers, req.clone()), ErrorCode::InvalidParameterException);
        let j = e.judge(Operation::SearchUsers, req, Observed::Success(json!({"UserMatches": []})));
        assert_eq!(j.mismatches[0].path, "");
    }
}

// §6.7, §9.10: search by UserId never returns that user; SearchedUser present, SearchedFace absent.
#[test]
fn search_users_by_user_id_excludes_the_searched_user() {
    let (mut e, _) = users_env();
    let req = json!({"CollectionId": "c", "UserId": "alice"});
    let b = e.ok(Operation::SearchUsers, req.clone());
    assert_eq!(keys(&b, "UserMatches", &["User", "UserId"]), ["alice2"]);
    assert_eq!(b["SearchedUser"], json!({"UserId": "alice"}));
    assert!(b.get("SearchedFace").is_none());
    let good = json!({"UserMatches": [user_match("alice2", "ACTIVE", 99.8)], "FaceModelVersion": "6", "SearchedUser": {"UserId": "alice"}});
    assert!(e.paths(Operation::SearchUsers, req.clone(), good.clone()).is_empty());
    let mut wrong = good.clone();
    wrong["UserMatches"].as_array_mut().unwrap().push(user_match("alice", "ACTIVE", 99.0));
    assert_eq!(e.paths(Operation::SearchUsers, req.clone(), wrong), ["UserMatches[1]"]);
    let mut wrong = good.clone();
    wrong["SearchedFace"] = json!({"FaceId": UNKNOWN_FACE});
    assert_eq!(e.paths(Operation::SearchUsers, req.clone(), wrong), ["SearchedFace"]);
    let mut wrong = good.clone();
    wrong.as_object_mut().unwrap().remove("SearchedUser");
    assert_eq!(e.paths(Operation::SearchUsers, req.clone(), wrong), ["SearchedUser"]);
    let mut wrong = good;
    wrong["UserMatches"] = json!([]);
    assert_eq!(e.paths(Operation::SearchUsers, req, wrong), ["UserMatches"]);
    // A lone user has nothing to match.
    let mut lone = Env::new();
    lone.collection("c");
    let f = lone.index("c", &["alice"]);
    lone.user("c", "u");
    lone.associate("c", "u", &[&f[0]]);
    assert_eq!(
        lone.ok(Operation::SearchUsers, json!({"CollectionId": "c", "UserId": "u"}))["UserMatches"],
        json!([])
    );
}

// §6.7, §9.8: an unknown UserId is InvalidParameterException, not ResourceNotFound [real].
#[test]
fn search_users_unknown_user_id_is_invalid_parameter() {
    let (mut e, _) = users_env();
    let req = json!({"CollectionId": "c", "UserId": "nobody"});
    assert_eq!(e.allowed(Operation::SearchUsers, req.clone()).errors, [ErrorCode::InvalidParameterException]);
    assert_eq!(e.fails(Operation::SearchUsers, req.clone()), ErrorCode::InvalidParameterException);
    assert_eq!(
        e.judge(Operation::SearchUsers, req, error(ErrorCode::ResourceNotFoundException)).mismatches[0].path,
        "__type"
    );
}

// §6.7, §9.10: search by a FaceId returns the face's owner (≈99.99) with SearchedFace; a
// free face need not belong to anyone.
#[test]
fn search_users_by_face_id_returns_the_owner() {
    let (mut e, f) = users_env();
    let req = json!({"CollectionId": "c", "FaceId": f[0]});
    let b = e.ok(Operation::SearchUsers, req.clone());
    let matched = keys(&b, "UserMatches", &["User", "UserId"]);
    assert_eq!(matched, ["alice", "alice2"]);
    assert_eq!(b["SearchedFace"], json!({"FaceId": f[0]}));
    assert!(b.get("SearchedUser").is_none());
    let body =
        |m: Vec<Value>| json!({"UserMatches": m, "FaceModelVersion": "6", "SearchedFace": {"FaceId": f[0]}});
    let good = body(vec![user_match("alice", "UPDATING", 99.99), user_match("alice2", "ACTIVE", 97.0)]);
    assert!(e.paths(Operation::SearchUsers, req.clone(), good.clone()).is_empty());
    let low_owner = body(vec![user_match("alice2", "ACTIVE", 97.0), user_match("alice", "UPDATING", 95.0)]);
    assert_eq!(e.paths(Operation::SearchUsers, req.clone(), low_owner), ["UserMatches[1].Similarity"]);
    let unsorted = body(vec![user_match("alice2", "ACTIVE", 97.0), user_match("alice", "ACTIVE", 99.99)]);
    assert_eq!(e.paths(Operation::SearchUsers, req.clone(), unsorted), ["UserMatches[1].Similarity"]);
    let with_bob = body(vec![
        user_match("alice", "ACTIVE", 99.99),
        user_match("alice2", "ACTIVE", 97.0),
        user_match("bob", "ACTIVE", 10.0),
    ]);
    assert_eq!(e.paths(Operation::SearchUsers, req.clone(), with_bob), ["UserMatches[2]"]);
    let with_empty = body(vec![
        user_match("alice", "ACTIVE", 99.99),
        user_match("alice2", "ACTIVE", 97.0),
        user_match("empty", "CREATED", 90.0),
    ]);
    assert_eq!(
        e.paths(Operation::SearchUsers, req.clone(), with_empty),
        ["UserMatches[2]"],
        "a user without faces never matches"
    );
    let mut both = good;
    both["SearchedUser"] = json!({"UserId": "alice"});
    assert_eq!(e.paths(Operation::SearchUsers, req, both), ["SearchedUser"]);
    // A free face: its person's users.
    let b = e.ok(Operation::SearchUsers, json!({"CollectionId": "c", "FaceId": f[2]}));
    assert_eq!(keys(&b, "UserMatches", &["User", "UserId"]), ["bob"]);
}

// §6.7: an unknown FaceId is probably InvalidParameterException, like SearchFaces (unsettled).
#[test]
fn search_users_unknown_face_is_unsettled() {
    let (mut e, _) = users_env();
    let req = json!({"CollectionId": "c", "FaceId": UNKNOWN_FACE});
    let allowed = e.allowed(Operation::SearchUsers, req.clone());
    assert_eq!(allowed.errors, [ErrorCode::InvalidParameterException, ErrorCode::ResourceNotFoundException]);
    assert!(allowed.touched_unknowns().contains(&Unknown::SearchUsersUnknownFace));
    assert_eq!(e.fails(Operation::SearchUsers, req.clone()), ErrorCode::InvalidParameterException);
    assert_eq!(e.paths(Operation::SearchUsers, req, json!({"UserMatches": []})), [""]);
}

// §6.7, §9.6: SearchUsers' default UserMatchThreshold is 80 (AssociateFaces' is 75).
#[test]
fn search_users_default_threshold_is_80() {
    let (mut e, f) = users_env();
    e.user("c", "twin");
    e.associate("c", "twin", &[&f[3]]);
    let by_default = e.ok(Operation::SearchUsers, json!({"CollectionId": "c", "FaceId": f[1]}));
    assert_eq!(keys(&by_default, "UserMatches", &["User", "UserId"]), ["alice", "alice2"]);
    let lower =
        e.ok(Operation::SearchUsers, json!({"CollectionId": "c", "FaceId": f[1], "UserMatchThreshold": 75}));
    let mut got = keys(&lower, "UserMatches", &["User", "UserId"]);
    got.sort();
    assert_eq!(got, ["alice", "alice2", "twin"]);
    let req = json!({"CollectionId": "c", "FaceId": f[1]});
    let with_twin = json!({"UserMatches": [user_match("alice", "ACTIVE", 99.0), user_match("alice2", "ACTIVE", 98.0), user_match("twin", "ACTIVE", 78.0)],
                           "FaceModelVersion": "6", "SearchedFace": {"FaceId": f[1]}});
    assert_eq!(e.paths(Operation::SearchUsers, req, with_twin), ["UserMatches[2]"]);
    // By image too.
    let by_image =
        e.ok(Operation::SearchUsersByImage, json!({"CollectionId": "c", "Image": image(&["alice~twin"])}));
    assert_eq!(keys(&by_image, "UserMatches", &["User", "UserId"]), ["twin"]);
}

// §6.7, §7: MaxUsers caps the matches.
#[test]
fn search_users_max_users_caps_the_matches() {
    let (mut e, f) = users_env();
    let req = json!({"CollectionId": "c", "FaceId": f[1], "MaxUsers": 1});
    let b = e.ok(Operation::SearchUsers, req.clone());
    assert_eq!(b["UserMatches"].as_array().unwrap().len(), 1);
    let two = json!({"UserMatches": [user_match("alice", "ACTIVE", 99.0), user_match("alice2", "ACTIVE", 98.0)],
                     "FaceModelVersion": "6", "SearchedFace": {"FaceId": f[1]}});
    assert_eq!(e.paths(Operation::SearchUsers, req, two.clone()), ["UserMatches"]);
    assert!(
        e.paths(Operation::SearchUsers, json!({"CollectionId": "c", "FaceId": f[1], "MaxUsers": 2}), two)
            .is_empty()
    );
}

// §6.7, §9.7: SearchUsersByImage with no face is a 200 with empty UserMatches and no SearchedFace.
#[test]
fn search_users_by_image_no_face_is_empty_success() {
    let (mut e, _) = users_env();
    let req = json!({"CollectionId": "c", "Image": image(&[])});
    let b = e.ok(Operation::SearchUsersByImage, req.clone());
    assert_eq!(b["UserMatches"], json!([]));
    assert!(b.get("SearchedFace").is_none());
    assert!(
        e.paths(
            Operation::SearchUsersByImage,
            req.clone(),
            json!({"UserMatches": [], "FaceModelVersion": "6", "UnsearchedFaces": []})
        )
        .is_empty()
    );
    let wrong = json!({"UserMatches": [], "SearchedFace": {"FaceDetail": {"BoundingBox": {"Width": 0.1, "Height": 0.1, "Left": 0.0, "Top": 0.0}}}});
    assert_eq!(e.paths(Operation::SearchUsersByImage, req.clone(), wrong), ["SearchedFace"]);
    assert_eq!(
        e.paths(
            Operation::SearchUsersByImage,
            req.clone(),
            json!({"UserMatches": [user_match("alice", "ACTIVE", 99.0)]})
        ),
        ["UserMatches"]
    );
    assert_eq!(
        e.judge(Operation::SearchUsersByImage, req, error(ErrorCode::InvalidParameterException)).mismatches
            [0]
        .path,
        "__type"
    );
}

// §6.7: SearchUsersByImage searches the largest face; the others are UnsearchedFaces (FACE_NOT_LARGEST).
#[test]
fn search_users_by_image_uses_the_largest_face() {
    let (mut e, _) = users_env();
    let req = json!({"CollectionId": "c", "Image": image(&["bob", "alice", "carol"])});
    let b = e.ok(Operation::SearchUsersByImage, req.clone());
    assert_eq!(keys(&b, "UserMatches", &["User", "UserId"]), ["bob"]);
    assert_eq!(b["SearchedFace"]["FaceDetail"]["BoundingBox"]["Width"], 0.3);
    let unsearched = b["UnsearchedFaces"].as_array().unwrap();
    assert_eq!(unsearched.len(), 2);
    assert!(unsearched.iter().all(|u| u["Reasons"] == json!(["FACE_NOT_LARGEST"])));
    let mut wrong = b.clone();
    wrong["UnsearchedFaces"][0]["Reasons"] = json!(["LOW_SHARPNESS"]);
    assert_eq!(e.paths(Operation::SearchUsersByImage, req.clone(), wrong), ["UnsearchedFaces[0].Reasons[0]"]);
    let mut wrong = b.clone();
    wrong.as_object_mut().unwrap().remove("UnsearchedFaces");
    assert_eq!(e.paths(Operation::SearchUsersByImage, req.clone(), wrong), ["UnsearchedFaces"]);
    let mut wrong = b.clone();
    wrong.as_object_mut().unwrap().remove("SearchedFace");
    assert_eq!(e.paths(Operation::SearchUsersByImage, req.clone(), wrong), ["SearchedFace"]);
    let mut wrong = b;
    wrong["UserMatches"] = json!([user_match("alice", "ACTIVE", 99.0)]);
    assert_eq!(e.paths(Operation::SearchUsersByImage, req, wrong), ["UserMatches[0]", "UserMatches"]);
}

// §6.7, design "nondeterminism": a threshold inside the same-person band allows the match
// and its absence; both realised variants conform, and a match below the threshold is caught.
#[test]
fn search_users_near_threshold_allows_both_outcomes() {
    for near in [0, 1] {
        let (mut e, _) = users_env();
        e.ch.near = near;
        let req = json!({"CollectionId": "c", "UserId": "alice", "UserMatchThreshold": 95});
        let b = e.ok(Operation::SearchUsers, req.clone());
        let matched = keys(&b, "UserMatches", &["User", "UserId"]);
        if near == 0 {
            assert_eq!(matched, ["alice2"]);
            assert!(b["UserMatches"][0]["Similarity"].as_f64().unwrap() >= 95.0);
        } else {
            assert!(matched.is_empty());
        }
        let low = json!({"UserMatches": [user_match("alice2", "ACTIVE", 93.0)], "FaceModelVersion": "6", "SearchedUser": {"UserId": "alice"}});
        assert_eq!(e.paths(Operation::SearchUsers, req, low), ["UserMatches[0].Similarity"]);
    }
}
