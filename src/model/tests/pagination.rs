//! Pagination of ListCollections, ListFaces and ListUsers (contract §5.2, §9.12).

use super::*;

/// Follows NextTokens from the first page; every page's items, in order.
fn follow(e: &mut Env, op: Operation, base: Value, items: &str, key: &[&str]) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut req = base.clone();
    loop {
        let b = e.ok(op, req.clone());
        pages.push(keys(&b, items, key));
        match b.get("NextToken").and_then(Value::as_str) {
            Some(t) => {
                req = base.clone();
                req["NextToken"] = json!(t);
            }
            None => return pages,
        }
        assert!(pages.len() < 100, "listing does not end");
    }
}

fn exactly_once(pages: &[Vec<String>], mut all: Vec<String>) {
    let mut listed: Vec<String> = pages.concat();
    listed.sort();
    all.sort();
    assert_eq!(listed, all);
}

// §5.2: following NextTokens to the end lists every item exactly once (all three List ops).
#[test]
fn following_tokens_lists_everything_exactly_once() {
    let mut e = Env::new();
    for c in ["c1", "c2", "c3", "c4", "c5"] {
        e.collection(c);
    }
    let mut faces = e.index("c1", &["a", "b", "c"]);
    faces.extend(e.index("c1", &["d", "e"]));
    for u in ["u1", "u2", "u3", "u4"] {
        e.user("c1", u);
    }
    let pages = follow(&mut e, Operation::ListCollections, json!({"MaxResults": 2}), "CollectionIds", &[]);
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 1]);
    exactly_once(&pages, ["c1", "c2", "c3", "c4", "c5"].map(String::from).to_vec());
    let pages = follow(
        &mut e,
        Operation::ListFaces,
        json!({"CollectionId": "c1", "MaxResults": 2}),
        "Faces",
        &["FaceId"],
    );
    assert_eq!(pages.len(), 3);
    exactly_once(&pages, faces);
    let pages = follow(
        &mut e,
        Operation::ListUsers,
        json!({"CollectionId": "c1", "MaxResults": 3}),
        "Users",
        &["UserId"],
    );
    assert_eq!(pages.len(), 2);
    exactly_once(&pages, e.users("c1"));
    // An exact fit ends without a NextToken.
    let pages = follow(
        &mut e,
        Operation::ListUsers,
        json!({"CollectionId": "c1", "MaxResults": 4}),
        "Users",
        &["UserId"],
    );
    assert_eq!(pages.len(), 1);
    // A filter's listing pages too.
    let f = e.index("c1", &["f"]);
    let pages = follow(
        &mut e,
        Operation::ListFaces,
        json!({"CollectionId": "c1", "MaxResults": 1, "FaceIds": [f[0], UNKNOWN_FACE]}),
        "Faces",
        &["FaceId"],
    );
    assert_eq!(pages.len(), 1);
}

// §5.2: tokens are opaque: whatever string the endpoint issues is accepted on the next call.
#[test]
fn tokens_are_opaque() {
    let mut e = Env::new();
    e.collection("c");
    for u in ["u1", "u2", "u3"] {
        e.user("c", u);
    }
    let first = json!({"CollectionId": "c", "MaxResults": 2});
    let order: Vec<String> = e.users("c");
    let page1 = json!({"Users": [{"UserId": order[2], "UserStatus": "CREATED"}, {"UserId": order[0], "UserStatus": "CREATED"}],
                       "NextToken": "eyJvcGFxdWUiOiB0cnVlfQ==/+ weird"});
    assert!(e.observe(Operation::ListUsers, first, Observed::Success(page1)).conforms());
    let next = json!({"CollectionId": "c", "MaxResults": 2, "NextToken": "eyJvcGFxdWUiOiB0cnVlfQ==/+ weird"});
    let last = json!({"Users": [{"UserId": order[1], "UserStatus": "CREATED"}]});
    assert!(e.paths(Operation::ListUsers, next.clone(), last).is_empty());
    // Detection on the second page: a repeat of page one, a skip (nothing left), an oversize page.
    let repeat = json!({"Users": [{"UserId": order[1], "UserStatus": "CREATED"}, {"UserId": order[0], "UserStatus": "CREATED"}]});
    assert_eq!(e.paths(Operation::ListUsers, next.clone(), repeat), ["Users[1]"]);
    assert_eq!(e.paths(Operation::ListUsers, next, json!({"Users": []})), ["Users"]);
    let big = json!({"Users": [{"UserId": order[0], "UserStatus": "CREATED"}, {"UserId": order[1], "UserStatus": "CREATED"},
                               {"UserId": order[2], "UserStatus": "CREATED"}], "NextToken": "x"});
    assert_eq!(e.paths(Operation::ListUsers, json!({"CollectionId": "c", "MaxResults": 2}), big), ["Users"]);
    // A NextToken longer than PaginationToken's 255 is a mismatch (ListFaces' output token is unbounded).
    let long = "t".repeat(256);
    let page = json!({"Users": [{"UserId": order[0], "UserStatus": "CREATED"}], "NextToken": long});
    assert_eq!(
        e.paths(Operation::ListUsers, json!({"CollectionId": "c", "MaxResults": 1}), page),
        ["NextToken"]
    );
    e.index("c", &["a", "b"]);
    let faces = e.ok(Operation::ListFaces, json!({"CollectionId": "c"}));
    let mut page = faces.clone();
    page["Faces"].as_array_mut().unwrap().pop();
    page["NextToken"] = json!("t".repeat(1000));
    assert!(e.paths(Operation::ListFaces, json!({"CollectionId": "c", "MaxResults": 1}), page).is_empty());
}

// §5.2: a page that skips or repeats an item is a mismatch (ListFaces, ListCollections).
#[test]
fn pages_that_skip_or_repeat_are_mismatches() {
    let mut e = Env::new();
    e.collection("c");
    e.collection("d");
    e.collection("e");
    let f = e.index("c", &["a", "b", "c"]);
    let first = json!({"CollectionId": "c", "MaxResults": 1});
    let p1 = e.ok(Operation::ListFaces, first);
    let seen = keys(&p1, "Faces", &["FaceId"]);
    let token = p1["NextToken"].as_str().unwrap().to_string();
    let rest: Vec<&String> = f.iter().filter(|id| !seen.contains(id)).collect();
    let face_of = |e: &mut Env, id: &str| {
        e.ok(Operation::ListFaces, json!({"CollectionId": "c", "FaceIds": [id]}))["Faces"][0].clone()
    };
    let (r0, r1, s0) = (face_of(&mut e, rest[0]), face_of(&mut e, rest[1]), face_of(&mut e, &seen[0]));
    let next = json!({"CollectionId": "c", "NextToken": token});
    assert!(e.paths(Operation::ListFaces, next.clone(), json!({"Faces": [r1, r0]})).is_empty());
    assert_eq!(
        e.paths(Operation::ListFaces, next.clone(), json!({"Faces": [r0, s0]})),
        ["Faces[1]", "Faces"],
        "repeat + skip"
    );
    assert_eq!(e.paths(Operation::ListFaces, next.clone(), json!({"Faces": [r0]})), ["Faces"], "skip");
    assert_eq!(
        e.paths(Operation::ListFaces, next, json!({"Faces": [r0.clone(), r0]})),
        ["Faces[1]", "Faces"]
    );

    let p1 = e.ok(Operation::ListCollections, json!({"MaxResults": 2}));
    assert_eq!(p1["CollectionIds"], json!(["c", "d"]));
    let next = json!({"NextToken": p1["NextToken"]});
    assert!(
        e.paths(
            Operation::ListCollections,
            next.clone(),
            json!({"CollectionIds": ["e"], "FaceModelVersions": ["7.0"]})
        )
        .is_empty()
    );
    assert_eq!(
        e.paths(
            Operation::ListCollections,
            next.clone(),
            json!({"CollectionIds": ["d", "e"], "FaceModelVersions": ["7.0", "7.0"]})
        ),
        ["CollectionIds[0]"]
    );
    assert_eq!(
        e.paths(Operation::ListCollections, next, json!({"CollectionIds": [], "FaceModelVersions": []})),
        ["CollectionIds"]
    );
}

// §5.2, §8: a made-up token is InvalidPaginationTokenException.
#[test]
fn made_up_token_is_invalid_pagination_token() {
    let mut e = Env::new();
    e.collection("c");
    e.user("c", "u");
    for (op, req) in [
        (Operation::ListCollections, json!({"NextToken": "made-up"})),
        (Operation::ListFaces, json!({"CollectionId": "c", "NextToken": "made-up"})),
        (Operation::ListUsers, json!({"CollectionId": "c", "NextToken": "made-up"})),
    ] {
        assert_eq!(e.allowed(op, req.clone()).errors, [ErrorCode::InvalidPaginationTokenException]);
        assert_eq!(e.fails(op, req.clone()), ErrorCode::InvalidPaginationTokenException);
        assert_eq!(e.paths(op, req.clone(), json!({})), [""]);
        assert_eq!(
            e.judge(op, req, error(ErrorCode::InvalidParameterException)).mismatches[0].path,
            "__type"
        );
    }
    // Too long a token is a validation failure before it is read.
    assert_validation(
        &e.allowed(Operation::ListUsers, json!({"CollectionId": "c", "NextToken": "t".repeat(256)})),
    );
}

// §5.2: a token used with another operation, collection or filter is unsettled.
#[test]
fn foreign_tokens_are_unsettled() {
    let mut e = Env::new();
    e.collection("c");
    e.collection("d");
    e.index("c", &["a", "b"]);
    e.user("c", "u1");
    e.user("c", "u2");
    e.user("d", "u1");
    let token =
        e.ok(Operation::ListUsers, json!({"CollectionId": "c", "MaxResults": 1}))["NextToken"].clone();
    let face_token =
        e.ok(Operation::ListFaces, json!({"CollectionId": "c", "MaxResults": 1}))["NextToken"].clone();
    for (op, req) in [
        (Operation::ListUsers, json!({"CollectionId": "d", "NextToken": token})),
        (Operation::ListFaces, json!({"CollectionId": "c", "NextToken": token})),
        (Operation::ListFaces, json!({"CollectionId": "c", "UserId": "u1", "NextToken": face_token})),
    ] {
        let allowed = e.allowed(op, req.clone());
        assert_eq!(
            allowed.errors,
            [ErrorCode::InvalidPaginationTokenException, ErrorCode::InvalidParameterException]
        );
        assert!(allowed.touched_unknowns().contains(&Unknown::ForeignPaginationToken));
    }
}

// §5.2: after a change the old token may shift either way; the page is judged leniently.
#[test]
fn tokens_across_changes_are_lenient() {
    let mut e = Env::new();
    e.collection("c");
    e.index("c", &["a", "b", "c"]);
    let p1 = e.ok(Operation::ListFaces, json!({"CollectionId": "c", "MaxResults": 2}));
    let token = p1["NextToken"].clone();
    e.index("c", &["d"]);
    let all = e.ok(Operation::ListFaces, json!({"CollectionId": "c"}));
    // A page repeating earlier items is now acceptable; and so is an incomplete last page.
    let req = json!({"CollectionId": "c", "NextToken": token});
    assert!(e.paths(Operation::ListFaces, req.clone(), all.clone()).is_empty());
    let mut one = all;
    one["Faces"].as_array_mut().unwrap().truncate(1);
    assert!(e.paths(Operation::ListFaces, req, one).is_empty());
}

// §2, §9.12: PageSize allows 0 on ListCollections/ListFaces (unsettled result); ListUsers' min is 1.
#[test]
fn max_results_zero_and_bounds() {
    let mut e = Env::new();
    e.collection("c");
    e.index("c", &["a"]);
    e.user("c", "u");
    for (op, req) in [
        (Operation::ListCollections, json!({"MaxResults": 0})),
        (Operation::ListFaces, json!({"CollectionId": "c", "MaxResults": 0})),
    ] {
        let allowed = e.allowed(op, req.clone());
        assert!(allowed.success.is_some());
        assert!(allowed.touched_unknowns().contains(&Unknown::PageSizeZero));
        assert!(allowed.errors.contains(&ErrorCode::InvalidParameterException));
        assert!(allowed.errors.contains(&ErrorCode::ValidationException));
        e.ok(op, req);
    }
    assert_validation(&e.allowed(Operation::ListUsers, json!({"CollectionId": "c", "MaxResults": 0})));
    let b = e.ok(Operation::ListUsers, json!({"CollectionId": "c", "MaxResults": 500}));
    assert_eq!(b["Users"].as_array().unwrap().len(), 1);
    assert!(b.get("NextToken").is_none());
    // A last page (no NextToken) that leaves items out is a mismatch.
    assert_eq!(
        e.paths(Operation::ListUsers, json!({"CollectionId": "c", "MaxResults": 500}), json!({"Users": []})),
        ["Users"]
    );
}

// §5.2 on a shared endpoint: other clients' collections may shift a ListCollections
// continuation, so a foreign id may repeat, but this model's own ids may not.
#[test]
fn list_collections_continuations_tolerate_foreign_repeats_only() {
    let mut e = Env::new();
    e.collection("mine-1");
    e.collection("mine-2");
    let first = json!({"CollectionIds": ["foreign", "mine-1"], "FaceModelVersions": ["7.0", "7.0"], "NextToken": "t1"});
    assert!(
        e.observe(Operation::ListCollections, json!({"MaxResults": 2}), Observed::Success(first)).conforms()
    );
    let next = json!({"MaxResults": 2, "NextToken": "t1"});
    let foreign_again = json!({"CollectionIds": ["foreign", "mine-2"], "FaceModelVersions": ["7.0", "7.0"]});
    assert_eq!(e.paths(Operation::ListCollections, next.clone(), foreign_again), Vec::<String>::new());
    let own_again = json!({"CollectionIds": ["mine-1", "mine-2"], "FaceModelVersions": ["7.0", "7.0"]});
    assert_eq!(e.paths(Operation::ListCollections, next, own_again), ["CollectionIds[0]"]);
}
