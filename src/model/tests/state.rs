//! How judging moves the state: failed calls change nothing, invariants hold, and
//! tokens and cursors survive a collection being deleted and created again (contract
//! §1.3, §5.2, §6.3; design "a failed call changes nothing").

use super::*;

fn debug(m: &Model) -> String {
    format!("{m:?}")
}

/// A state with faces, users, an association, an issued NextToken and a used ClientRequestToken.
fn busy() -> (Env, Vec<String>, String) {
    let mut e = Env::new();
    let f = e.two_users();
    e.ok(Operation::CreateUser, json!({"CollectionId": "c", "UserId": "carol", "ClientRequestToken": "t1"}));
    let page = e.ok(Operation::ListFaces, json!({"CollectionId": "c", "MaxResults": 1}));
    let token = page["NextToken"].as_str().unwrap().to_string();
    (e, f, token)
}

// Design: an observed error never changes the state, tokens and cursors included.
#[test]
fn observed_errors_never_change_state() {
    let (mut e, f, token) = busy();
    let calls: Vec<(Operation, Value)> = vec![
        (Operation::CreateCollection, json!({"CollectionId": "new"})),
        (Operation::DeleteCollection, json!({"CollectionId": "c"})),
        (Operation::IndexFaces, json!({"CollectionId": "c", "Image": image(&["alice"])})),
        (Operation::DeleteFaces, json!({"CollectionId": "c", "FaceIds": [f[2]]})),
        (Operation::CreateUser, json!({"CollectionId": "c", "UserId": "dave", "ClientRequestToken": "t2"})),
        (Operation::CreateUser, json!({"CollectionId": "c", "UserId": "carol", "ClientRequestToken": "t1"})),
        (Operation::DeleteUser, json!({"CollectionId": "c", "UserId": "alice", "ClientRequestToken": "t3"})),
        (
            Operation::AssociateFaces,
            json!({"CollectionId": "c", "UserId": "alice", "FaceIds": [f[2]], "ClientRequestToken": "t4"}),
        ),
        (Operation::DisassociateFaces, json!({"CollectionId": "c", "UserId": "alice", "FaceIds": [f[0]]})),
        (Operation::ListFaces, json!({"CollectionId": "c", "NextToken": token, "MaxResults": 1})),
        (Operation::ListUsers, json!({"CollectionId": "c", "MaxResults": 1})),
        (Operation::ListCollections, json!({"MaxResults": 1})),
        (Operation::DescribeCollection, json!({"CollectionId": "c"})),
        (Operation::SearchUsers, json!({"CollectionId": "c", "FaceId": f[0]})),
    ];
    let codes = [
        ErrorCode::ThrottlingException,
        ErrorCode::InternalServerError,
        ErrorCode::ProvisionedThroughputExceededException,
        ErrorCode::ConflictException,
        ErrorCode::ServiceQuotaExceededException,
        ErrorCode::ResourceNotFoundException,
    ];
    let before = debug(&e.m);
    for (op, req) in calls {
        for code in codes.clone() {
            e.observe(op, req.clone(), error(code));
            assert_eq!(debug(&e.m), before, "{op} observed as an error changed the state");
        }
    }
    // A failed call's ClientRequestToken is not recorded: a later call with it runs afresh.
    e.observe(
        Operation::CreateUser,
        json!({"CollectionId": "c", "UserId": "erin", "ClientRequestToken": "t9"}),
        error(ErrorCode::ThrottlingException),
    );
    e.ok(Operation::CreateUser, json!({"CollectionId": "c", "UserId": "frank", "ClientRequestToken": "t9"}));
    assert!(e.m.collections()["c"].users.contains_key("frank"));
}

// Design: a success that does not conform is reported and followed: the model moves to
// the state the endpoint is really in, so later calls are judged against it and one
// defect is not reported again at every later call.
#[test]
fn non_conforming_success_is_followed() {
    let (mut e, f, _) = busy();
    // f[1] is bob's; a buggy endpoint moves it to alice.
    let moved = json!({"AssociatedFaces": [{"FaceId": f[1]}], "UnsuccessfulFaceAssociations": [], "UserStatus": "UPDATING"});
    let j = e.observe(
        Operation::AssociateFaces,
        json!({"CollectionId": "c", "UserId": "alice", "FaceIds": [f[1]]}),
        Observed::Success(moved),
    );
    assert!(!j.conforms());
    let c = &e.m.collections()["c"];
    assert_eq!(c.faces[&f[1]].user.as_deref(), Some("alice"), "the model follows the stolen face");
    assert!(!c.users["bob"].faces.contains(&f[1]));
    assert!(e.m.invariant_violations().is_empty(), "{:?}", e.m.invariant_violations());
    // Listing bob's faces now conforms when it omits the face, as the endpoint would.
    let listed = e.judge(
        Operation::ListFaces,
        json!({"CollectionId": "c", "UserId": "bob"}),
        Observed::Success(json!({"Faces": [], "FaceModelVersion": "7.0"})),
    );
    assert!(listed.conforms(), "{:?}", listed.mismatches);
    let j =
        e.observe(Operation::DeleteCollection, json!({"CollectionId": "c"}), Observed::Success(json!({})));
    assert_eq!(j.mismatches[0].path, "StatusCode");
    assert!(e.m.collections().is_empty(), "a deletion answered without StatusCode still deleted");
}

// §6.3, §6.5: the invariants are checked (a broken link or an over-full user is reported).
#[test]
fn invariant_violations_are_reported() {
    let (mut e, f, _) = busy();
    assert!(e.m.invariant_violations().is_empty());
    let mut broken = e.m.clone();
    broken.collections.get_mut("c").unwrap().faces.get_mut(&f[2]).unwrap().user = Some("bob".into());
    let v = broken.invariant_violations();
    assert_eq!(v.len(), 1);
    assert!(v[0].contains("points at bob"), "{v:?}");
    let mut broken = e.m.clone();
    broken.collections.get_mut("c").unwrap().users.get_mut("carol").unwrap().faces.insert(f[0].clone());
    assert!(broken.invariant_violations()[0].contains("does not point back"));
    let mut small = Env::with_config(ModelConfig { faces_per_user: 1, ..ModelConfig::default() });
    small.collection("c");
    let g = small.index("c", &["alice", "alice"]);
    small.user("c", "u");
    small.associate("c", "u", &[&g[0]]);
    // The emulator follows a mutant that ignores the limit; the invariant check notices.
    let r =
        request(Operation::AssociateFaces, json!({"CollectionId": "c", "UserId": "u", "FaceIds": [g[1]]}));
    small.m.advance(
        &r,
        &Observed::Success(json!({"AssociatedFaces": [{"FaceId": g[1]}], "UserStatus": "UPDATING"})),
    );
    assert!(small.m.invariant_violations()[0].contains("holds 2 faces"));
    e.m.advance(
        &request(
            Operation::AssociateFaces,
            json!({"CollectionId": "c", "UserId": "alice", "FaceIds": [f[1]]}),
        ),
        &Observed::Success(json!({"AssociatedFaces": [{"FaceId": f[1]}], "UserStatus": "UPDATING"})),
    );
    assert!(e.m.invariant_violations().is_empty(), "a moved face leaves its old owner");
}

// §1.3, §5.2: generations are model-wide, so a collection deleted and created again never
// matches a generation recorded by an old ClientRequestToken or NextToken.
#[test]
fn tokens_and_cursors_survive_collection_recreation() {
    let mut e = Env::new();
    e.collection("c");
    let f = e.index("c", &["alice", "bob", "carol"]);
    e.user("c", "u");
    let req = json!({"CollectionId": "c", "UserId": "u", "FaceIds": [f[0]], "ClientRequestToken": "t"});
    let first = e.ok(Operation::AssociateFaces, req.clone());
    let page = e.ok(Operation::ListFaces, json!({"CollectionId": "c", "MaxResults": 1}));
    let token = page["NextToken"].clone();
    let old_generation = e.m.collections()["c"].generation;
    // Delete and re-create with as many changes as before.
    e.ok(Operation::DeleteCollection, json!({"CollectionId": "c"}));
    e.collection("c");
    let g = e.index("c", &["alice", "bob", "carol"]);
    e.user("c", "u");
    e.associate("c", "u", &[&g[0]]);
    assert_ne!(e.m.collections()["c"].generation, old_generation);
    // The old token: the first response, or a fresh run (FACE_NOT_FOUND now), never only the replay.
    let allowed = e.allowed(Operation::AssociateFaces, req.clone());
    assert!(allowed.touched_unknowns().contains(&Unknown::TokenReplay));
    let fresh = json!({"UnsuccessfulFaceAssociations": [{"FaceId": f[0], "Reasons": ["FACE_NOT_FOUND"]}], "UserStatus": "UPDATING"});
    assert!(e.judge(Operation::AssociateFaces, req.clone(), Observed::Success(fresh)).conforms());
    assert!(e.judge(Operation::AssociateFaces, req, Observed::Success(first)).conforms());
    // The old NextToken is judged leniently: the new collection's faces, from the start.
    let all = e.ok(Operation::ListFaces, json!({"CollectionId": "c"}));
    let next = json!({"CollectionId": "c", "MaxResults": 1, "NextToken": token});
    let mut one = all.clone();
    one["Faces"].as_array_mut().unwrap().truncate(1);
    one["NextToken"] = json!("again");
    assert!(e.paths(Operation::ListFaces, next, one).is_empty());
}

// Design: Judgement lists the unknowns an allowance leaned on.
#[test]
fn judgements_carry_the_unknowns_touched() {
    let mut e = Env::new();
    e.collection("c");
    e.user("c", "u");
    let j = e.judge(
        Operation::ListUsers,
        json!({"CollectionId": "c"}),
        Observed::Success(json!({"Users": [{"UserId": "u", "UserStatus": "CREATED"}]})),
    );
    assert!(j.conforms());
    assert_eq!(j.unknowns.iter().copied().collect::<Vec<_>>(), [Unknown::CreatingStatus]);
    let j = e.judge(
        Operation::DescribeCollection,
        json!({"CollectionId": "c"}),
        error(ErrorCode::ResourceNotFoundException),
    );
    assert!(!j.conforms());
    assert!(j.unknowns.is_empty());
}
