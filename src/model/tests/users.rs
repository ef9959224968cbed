//! Users: CreateUser, DeleteUser, ListUsers, and the UserStatus lifecycle (contract §6.3, §6.4, §6.6).

use super::*;

fn list_users(users: &[(&str, &str)]) -> Value {
    json!({"Users": users.iter().map(|(u, s)| json!({"UserId": u, "UserStatus": s})).collect::<Vec<_>>()})
}

// §6.4: CreateUser returns an empty body; an existing UserId is ConflictException.
#[test]
fn create_user_then_conflict() {
    let mut e = Env::new();
    e.collection("c");
    assert_eq!(e.ok(Operation::CreateUser, json!({"CollectionId": "c", "UserId": "u"})), json!({}));
    assert_eq!(e.users("c"), ["u"]);
    let req = json!({"CollectionId": "c", "UserId": "u"});
    assert_eq!(e.allowed(Operation::CreateUser, req.clone()).errors, [ErrorCode::ConflictException]);
    assert_eq!(e.fails(Operation::CreateUser, req.clone()), ErrorCode::ConflictException);
    let j = e.judge(Operation::CreateUser, req.clone(), Observed::Success(json!({})));
    assert_eq!((j.mismatches[0].path.as_str(), j.mismatches[0].expected.as_str()), ("", "ConflictException"));
    // UserIds are per collection and case-sensitive.
    e.user("c", "U");
    e.collection("d");
    e.user("d", "u");
    // A body in CreateUser's response is a mismatch: the output structure is empty.
    assert_eq!(
        e.paths(Operation::CreateUser, json!({"CollectionId": "c", "UserId": "v"}), json!({"UserId": "v"})),
        ["UserId"]
    );
}

// §6.4: DeleteUser frees the user's faces (they stay in the collection, unassociated).
#[test]
fn delete_user_frees_faces_without_deleting_them() {
    let mut e = Env::new();
    let f = e.two_users();
    e.associate("c", "alice", &[&f[2]]);
    assert_eq!(e.ok(Operation::DeleteUser, json!({"CollectionId": "c", "UserId": "alice"})), json!({}));
    let c = &e.m.collections()["c"];
    assert_eq!(c.faces.len(), 4);
    assert!(c.faces[&f[0]].user.is_none() && c.faces[&f[2]].user.is_none());
    assert_eq!(c.faces[&f[1]].user.as_deref(), Some("bob"));
    let d = e.ok(Operation::DescribeCollection, json!({"CollectionId": "c"}));
    assert_eq!((d["FaceCount"].clone(), d["UserCount"].clone()), (json!(4), json!(1)));
    // The freed faces show no UserId, and can be deleted or associated again.
    let listed = e.ok(Operation::ListFaces, json!({"CollectionId": "c", "FaceIds": [f[0]]}));
    assert!(listed["Faces"][0].get("UserId").is_none());
    let mut wrong = listed;
    wrong["Faces"][0]["UserId"] = json!("alice");
    assert_eq!(
        e.paths(Operation::ListFaces, json!({"CollectionId": "c", "FaceIds": [f[0]]}), wrong),
        ["Faces[0].UserId"]
    );
    e.user("c", "carol");
    let b = e.associate("c", "carol", &[&f[0]]);
    assert_eq!(keys(&b, "AssociatedFaces", &["FaceId"]), [f[0].clone()]);
    let b = e.ok(Operation::DeleteFaces, json!({"CollectionId": "c", "FaceIds": [f[2]]}));
    assert_eq!(b["DeletedFaces"], json!([f[2]]));
    assert!(e.m.invariant_violations().is_empty());
}

// §6.4: DeleteUser or ListUsers-visible effects on a missing user: ResourceNotFoundException.
#[test]
fn delete_user_missing_is_resource_not_found() {
    let mut e = Env::new();
    e.collection("c");
    e.user("c", "u");
    e.ok(Operation::DeleteUser, json!({"CollectionId": "c", "UserId": "u"}));
    let req = json!({"CollectionId": "c", "UserId": "u"});
    assert_eq!(e.fails(Operation::DeleteUser, req.clone()), ErrorCode::ResourceNotFoundException);
    let j = e.judge(Operation::DeleteUser, req, Observed::Success(json!({})));
    assert_eq!(j.mismatches[0].expected, "ResourceNotFoundException");
    assert_eq!(
        e.paths(Operation::ListUsers, json!({"CollectionId": "c"}), list_users(&[("u", "CREATED")])),
        ["Users[0]"]
    );
}

// §6.3: CREATED right after CreateUser (CREATING is in the enum, never described: tagged).
#[test]
fn user_status_created_after_create_user() {
    let mut e = Env::new();
    e.collection("c");
    e.user("c", "u");
    let req = json!({"CollectionId": "c"});
    let b = e.ok(Operation::ListUsers, req.clone());
    assert_eq!(b["Users"], json!([{"UserId": "u", "UserStatus": "CREATED"}]));
    let j = e.judge(Operation::ListUsers, req.clone(), Observed::Success(list_users(&[("u", "CREATING")])));
    assert!(j.conforms());
    assert!(j.unknowns.contains(&Unknown::CreatingStatus));
    for wrong in ["ACTIVE", "UPDATING", "created"] {
        assert_eq!(
            e.paths(Operation::ListUsers, req.clone(), list_users(&[("u", wrong)])),
            ["Users[0].UserStatus"]
        );
    }
    assert_eq!(
        e.paths(Operation::ListUsers, req, json!({"Users": [{"UserId": "u"}]})),
        ["Users[0].UserStatus"]
    );
}

// §6.3, §12: after a change reads may show UPDATING or ACTIVE; once seen ACTIVE it stays ACTIVE.
#[test]
fn user_status_updating_then_active_then_stays_active() {
    let mut e = Env::new();
    e.collection("c");
    let f = e.index("c", &["alice"]);
    let g = e.index("c", &["alice"]);
    e.user("c", "u");
    e.associate("c", "u", &[&f[0]]);
    let req = json!({"CollectionId": "c"});
    assert!(e.paths(Operation::ListUsers, req.clone(), list_users(&[("u", "UPDATING")])).is_empty());
    assert!(e.paths(Operation::ListUsers, req.clone(), list_users(&[("u", "ACTIVE")])).is_empty());
    assert_eq!(
        e.paths(Operation::ListUsers, req.clone(), list_users(&[("u", "CREATED")])),
        ["Users[0].UserStatus"]
    );
    // Seen UPDATING: still pending.
    assert!(
        e.observe(Operation::ListUsers, req.clone(), Observed::Success(list_users(&[("u", "UPDATING")])))
            .conforms()
    );
    assert_eq!(e.m.collections()["c"].users["u"].status, Status::Pending);
    // Seen ACTIVE: settled, and UPDATING is no longer allowed.
    assert!(
        e.observe(Operation::ListUsers, req.clone(), Observed::Success(list_users(&[("u", "ACTIVE")])))
            .conforms()
    );
    assert_eq!(e.m.collections()["c"].users["u"].status, Status::Settled("ACTIVE".into()));
    assert_eq!(
        e.paths(Operation::ListUsers, req.clone(), list_users(&[("u", "UPDATING")])),
        ["Users[0].UserStatus"]
    );
    // The emulator's settled reads, and SearchUsers matches, obey the same rule.
    let search = json!({"CollectionId": "c", "FaceId": g[0]});
    let found = e.ok(Operation::SearchUsers, search.clone());
    assert_eq!(found["UserMatches"][0]["User"], json!({"UserId": "u", "UserStatus": "ACTIVE"}));
    let mut wrong = found;
    wrong["UserMatches"][0]["User"]["UserStatus"] = json!("UPDATING");
    assert_eq!(e.paths(Operation::SearchUsers, search, wrong), ["UserMatches[0].User.UserStatus"]);
    // A new change makes it pending again.
    e.associate("c", "u", &[&g[0]]);
    assert!(e.paths(Operation::ListUsers, req, list_users(&[("u", "UPDATING")])).is_empty());
}

// §6.3: whether a user whose last face is removed returns to CREATED is unsettled.
#[test]
fn user_status_after_last_face_removed_is_unsettled() {
    let mut e = Env::new();
    e.collection("c");
    let f = e.index("c", &["alice"]);
    e.user("c", "u");
    e.associate("c", "u", &[&f[0]]);
    e.ok(Operation::DisassociateFaces, json!({"CollectionId": "c", "UserId": "u", "FaceIds": [f[0]]}));
    let req = json!({"CollectionId": "c"});
    for status in ["UPDATING", "ACTIVE", "CREATED"] {
        let j = e.judge(Operation::ListUsers, req.clone(), Observed::Success(list_users(&[("u", status)])));
        assert!(j.conforms(), "{status}");
        assert!(j.unknowns.contains(&Unknown::StatusAfterLastFaceRemoved));
    }
    assert_eq!(e.paths(Operation::ListUsers, req, list_users(&[("u", "CREATING")])), ["Users[0].UserStatus"]);
}

// §6.4, §6.6: UserCount follows CreateUser/DeleteUser; ListUsers lists exactly the users.
#[test]
fn list_users_lists_exactly_the_users() {
    let mut e = Env::new();
    e.collection("c");
    for u in ["u1", "u2", "u3"] {
        e.user("c", u);
    }
    e.ok(Operation::DeleteUser, json!({"CollectionId": "c", "UserId": "u2"}));
    let b = e.ok(Operation::ListUsers, json!({"CollectionId": "c"}));
    let mut got = keys(&b, "Users", &["UserId"]);
    got.sort();
    assert_eq!(got, ["u1", "u3"]);
    assert_eq!(e.ok(Operation::DescribeCollection, json!({"CollectionId": "c"}))["UserCount"], 2);
    let req = json!({"CollectionId": "c"});
    // Any order; but not missing one, nor a made-up one, nor twice.
    assert!(
        e.paths(Operation::ListUsers, req.clone(), list_users(&[("u3", "CREATED"), ("u1", "CREATED")]))
            .is_empty()
    );
    assert_eq!(e.paths(Operation::ListUsers, req.clone(), list_users(&[("u1", "CREATED")])), ["Users"]);
    assert_eq!(
        e.paths(
            Operation::ListUsers,
            req.clone(),
            list_users(&[("u1", "CREATED"), ("u3", "CREATED"), ("x", "CREATED")])
        ),
        ["Users[2]"]
    );
    assert_eq!(
        e.paths(
            Operation::ListUsers,
            req,
            list_users(&[("u1", "CREATED"), ("u3", "CREATED"), ("u1", "CREATED")])
        ),
        ["Users[2]"]
    );
}
