//! ClientRequestToken on CreateUser, DeleteUser, AssociateFaces, DisassociateFaces (contract §1.3).

use super::*;

fn with_token(mut req: Value, token: &str) -> Value {
    req["ClientRequestToken"] = json!(token);
    req
}

/// The parts of the state a replay must not touch.
fn snapshot(m: &Model) -> (BTreeMap<String, Collection>, u64) {
    (m.collections().clone(), m.generation)
}

// §1.3, §6.4: replaying CreateUser (same token and parameters) returns the first response
// again and runs nothing twice: no ConflictException.
#[test]
fn create_user_replay_returns_the_first_response() {
    let mut e = Env::new();
    e.collection("c");
    let req = with_token(json!({"CollectionId": "c", "UserId": "u"}), "tok-1");
    assert_eq!(e.ok(Operation::CreateUser, req.clone()), json!({}));
    let before = snapshot(&e.m);
    let allowed = e.allowed(Operation::CreateUser, req.clone());
    assert_eq!(allowed.errors, [], "no ConflictException on a replay");
    assert_eq!(e.ok(Operation::CreateUser, req.clone()), json!({}));
    assert_eq!(snapshot(&e.m), before);
    let j = e.judge(Operation::CreateUser, req, error(ErrorCode::ConflictException));
    assert_eq!(j.mismatches[0].path, "__type");
    // Without the token (or with another one) it is a second CreateUser: ConflictException.
    assert_eq!(
        e.fails(Operation::CreateUser, json!({"CollectionId": "c", "UserId": "u"})),
        ErrorCode::ConflictException
    );
    let other = with_token(json!({"CollectionId": "c", "UserId": "u"}), "tok-2");
    assert_eq!(e.fails(Operation::CreateUser, other), ErrorCode::ConflictException);
}

// §1.3, §6.4: replaying DeleteUser returns success again, not ResourceNotFoundException.
#[test]
fn delete_user_replay_returns_the_first_response() {
    let mut e = Env::new();
    e.collection("c");
    e.user("c", "u");
    let req = with_token(json!({"CollectionId": "c", "UserId": "u"}), "del-1");
    e.ok(Operation::DeleteUser, req.clone());
    let before = snapshot(&e.m);
    assert_eq!(e.ok(Operation::DeleteUser, req.clone()), json!({}));
    assert_eq!(snapshot(&e.m), before);
    assert_eq!(
        e.judge(Operation::DeleteUser, req, error(ErrorCode::ResourceNotFoundException)).mismatches[0].path,
        "__type"
    );
}

// §1.3, §6.5: replaying AssociateFaces returns the first body; a re-execution's body is a mismatch.
#[test]
fn associate_replay_returns_the_first_response_and_runs_once() {
    let mut e = Env::new();
    e.collection("c");
    let f = e.index("c", &["alice", "alice"]);
    e.user("c", "u");
    let req = with_token(json!({"CollectionId": "c", "UserId": "u", "FaceIds": [f[0]]}), "assoc-1");
    let first = e.ok(Operation::AssociateFaces, req.clone());
    assert_eq!(keys(&first, "AssociatedFaces", &["FaceId"]), [f[0].clone()]);
    let before = snapshot(&e.m);
    assert_eq!(
        e.allowed(Operation::AssociateFaces, req.clone()),
        Allowed::success(crate::expect::Pat::Eq(first.clone()))
    );
    assert_eq!(e.ok(Operation::AssociateFaces, req.clone()), first);
    assert_eq!(snapshot(&e.m), before);
    // What executing it again would say (already on the user: in neither list).
    let rerun = json!({"AssociatedFaces": [], "UnsuccessfulFaceAssociations": [], "UserStatus": "UPDATING"});
    assert_eq!(e.paths(Operation::AssociateFaces, req.clone(), rerun), [""]);
    // Same token, another FaceId: IdempotentParameterMismatchException, and nothing runs.
    let other = with_token(json!({"CollectionId": "c", "UserId": "u", "FaceIds": [f[1]]}), "assoc-1");
    assert_eq!(
        e.allowed(Operation::AssociateFaces, other.clone()).errors,
        [ErrorCode::IdempotentParameterMismatchException]
    );
    assert_eq!(
        e.fails(Operation::AssociateFaces, other.clone()),
        ErrorCode::IdempotentParameterMismatchException
    );
    assert_eq!(snapshot(&e.m), before);
    let executed = json!({"AssociatedFaces": [{"FaceId": f[1]}], "UnsuccessfulFaceAssociations": [], "UserStatus": "UPDATING"});
    assert_eq!(e.paths(Operation::AssociateFaces, other, executed), [""]);
    // Another threshold is another parameter too.
    let mut threshold = req;
    threshold["UserMatchThreshold"] = json!(90.0);
    assert_eq!(
        e.fails(Operation::AssociateFaces, threshold),
        ErrorCode::IdempotentParameterMismatchException
    );
}

// §1.3, §6.5: replaying DisassociateFaces returns the first response; other params mismatch.
#[test]
fn disassociate_replay_and_mismatch() {
    let mut e = Env::new();
    let f = e.two_users();
    let req = with_token(json!({"CollectionId": "c", "UserId": "alice", "FaceIds": [f[0]]}), "dis-1");
    let first = e.ok(Operation::DisassociateFaces, req.clone());
    let before = snapshot(&e.m);
    assert_eq!(e.ok(Operation::DisassociateFaces, req.clone()), first);
    assert_eq!(snapshot(&e.m), before);
    let rerun =
        json!({"DisassociatedFaces": [], "UnsuccessfulFaceDisassociations": [], "UserStatus": "ACTIVE"});
    assert_eq!(e.paths(Operation::DisassociateFaces, req, rerun), [""]);
    let other = with_token(json!({"CollectionId": "c", "UserId": "bob", "FaceIds": [f[1]]}), "dis-1");
    assert_eq!(e.fails(Operation::DisassociateFaces, other), ErrorCode::IdempotentParameterMismatchException);
    assert_eq!(e.m.collections()["c"].faces[&f[1]].user.as_deref(), Some("bob"));
}

// §1.3: same token, another UserId on CreateUser/DeleteUser: IdempotentParameterMismatchException.
#[test]
fn same_token_other_parameters_is_a_mismatch_exception() {
    let mut e = Env::new();
    e.collection("c");
    e.ok(Operation::CreateUser, with_token(json!({"CollectionId": "c", "UserId": "u"}), "t"));
    let other = with_token(json!({"CollectionId": "c", "UserId": "v"}), "t");
    let allowed = e.allowed(Operation::CreateUser, other.clone());
    assert_eq!(
        (allowed.success, allowed.errors),
        (None, vec![ErrorCode::IdempotentParameterMismatchException])
    );
    assert_eq!(
        e.fails(Operation::CreateUser, other.clone()),
        ErrorCode::IdempotentParameterMismatchException
    );
    assert_eq!(e.users("c"), ["u"]);
    assert_eq!(e.paths(Operation::CreateUser, other, json!({})), [""]);
    e.ok(Operation::DeleteUser, with_token(json!({"CollectionId": "c", "UserId": "u"}), "d"));
    e.user("c", "w");
    let other = with_token(json!({"CollectionId": "c", "UserId": "w"}), "d");
    assert_eq!(e.fails(Operation::DeleteUser, other), ErrorCode::IdempotentParameterMismatchException);
    assert_eq!(e.users("c"), ["w"]);
}

// §1.3: a replay after the resource changed is unsettled: the first response, or a fresh run.
#[test]
fn replay_after_a_change_is_unsettled() {
    let mut e = Env::new();
    e.collection("c");
    let f = e.index("c", &["alice", "alice"]);
    e.user("c", "u");
    let req = with_token(json!({"CollectionId": "c", "UserId": "u", "FaceIds": [f[0]]}), "t");
    let first = e.ok(Operation::AssociateFaces, req.clone());
    e.ok(Operation::DisassociateFaces, json!({"CollectionId": "c", "UserId": "u", "FaceIds": [f[0]]}));
    let allowed = e.allowed(Operation::AssociateFaces, req.clone());
    assert!(allowed.touched_unknowns().contains(&Unknown::TokenReplay));
    let j = e.judge(Operation::AssociateFaces, req.clone(), Observed::Success(first.clone()));
    assert!(j.conforms());
    let fresh = json!({"AssociatedFaces": [{"FaceId": f[0]}], "UnsuccessfulFaceAssociations": [], "UserStatus": "UPDATING"});
    assert!(e.judge(Operation::AssociateFaces, req.clone(), Observed::Success(fresh)).conforms());
    let neither =
        json!({"AssociatedFaces": [], "UnsuccessfulFaceAssociations": [], "UserStatus": "UPDATING"});
    assert!(!e.judge(Operation::AssociateFaces, req.clone(), Observed::Success(neither)).conforms());
    // The emulator replays: the face stays free (nothing ran twice).
    assert_eq!(e.ok(Operation::AssociateFaces, req), first);
    assert!(e.m.collections()["c"].faces[&f[0]].user.is_none());
}

// §1.3: whether a token is scoped per operation or collection is unsettled.
#[test]
fn token_on_another_operation_is_unsettled() {
    let mut e = Env::new();
    e.collection("c");
    e.collection("d");
    e.ok(Operation::CreateUser, with_token(json!({"CollectionId": "c", "UserId": "u"}), "t"));
    for (op, req) in [
        (Operation::DeleteUser, with_token(json!({"CollectionId": "c", "UserId": "u"}), "t")),
        (Operation::CreateUser, with_token(json!({"CollectionId": "d", "UserId": "u"}), "t")),
    ] {
        let allowed = e.allowed(op, req.clone());
        assert!(allowed.touched_unknowns().contains(&Unknown::TokenScope), "{op}");
        assert!(allowed.success.is_some());
        assert!(allowed.errors.contains(&ErrorCode::IdempotentParameterMismatchException));
    }
}

// §1.3: a model configured not to honour tokens treats every call as new.
#[test]
fn tokens_can_be_ignored_by_configuration() {
    let mut e = Env::with_config(ModelConfig { honour_tokens: false, ..ModelConfig::default() });
    e.collection("c");
    let req = with_token(json!({"CollectionId": "c", "UserId": "u"}), "t");
    e.ok(Operation::CreateUser, req.clone());
    assert_eq!(e.fails(Operation::CreateUser, req), ErrorCode::ConflictException);
}
