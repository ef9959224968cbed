//! The realism knobs on the wire: settle window, throttling, injected faults, and
//! determinism under a seed.

mod serve_support;

use std::time::{Duration, Instant};

use rekcon::api::Operation;
use rekcon::serve::ServeConfig;
use serde_json::{Value, json};
use serve_support::*;

fn status_of(users: &Value, user: &str) -> Option<String> {
    users["Users"]
        .as_array()?
        .iter()
        .find(|u| u["UserId"] == user)
        .and_then(|u| u["UserStatus"].as_str())
        .map(str::to_string)
}

#[tokio::test]
async fn settle_window_shows_updating_then_active() {
    let server = start(ServeConfig { settle: Duration::from_millis(400), ..ServeConfig::default() }).await;
    create_collection(&server, "s").await;
    let f = index(&server, "s", "alice").await;
    create_user(&server, "s", "u").await;
    let list = async || ok(&server, Operation::ListUsers, json!({"CollectionId": "s"})).await;
    assert_eq!(status_of(&list().await, "u").as_deref(), Some("CREATED"));

    let changed = Instant::now();
    assert_eq!(associate(&server, "s", "u", &[&f]).await.json()["UserStatus"], "UPDATING");
    let during = list().await;
    if changed.elapsed() < Duration::from_millis(350) {
        assert_eq!(status_of(&during, "u").as_deref(), Some("UPDATING"));
    }
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(status_of(&list().await, "u").as_deref(), Some("ACTIVE"));

    // A second change opens a new window.
    let g = index(&server, "s", "alice").await;
    assert_eq!(associate(&server, "s", "u", &[&g]).await.status, 200);
    let search = ok(&server, Operation::SearchUsers, json!({"CollectionId": "s", "FaceId": g})).await;
    assert_eq!(search["UserMatches"][0]["User"]["UserStatus"], "UPDATING");
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(status_of(&list().await, "u").as_deref(), Some("ACTIVE"));
}

#[tokio::test]
async fn without_settle_window_users_are_active_at_once() {
    let server = start_default().await;
    create_collection(&server, "s").await;
    let f = index(&server, "s", "alice").await;
    create_user(&server, "s", "u").await;
    assert_eq!(associate(&server, "s", "u", &[&f]).await.json()["UserStatus"], "UPDATING");
    let users = ok(&server, Operation::ListUsers, json!({"CollectionId": "s"})).await;
    assert_eq!(status_of(&users, "u").as_deref(), Some("ACTIVE"));
}

#[tokio::test]
async fn throttle_answers_throttling_beyond_the_rate() {
    let server = start(ServeConfig { throttle_tps: Some(5), ..ServeConfig::default() }).await;
    let started = Instant::now();
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let raw = call(&server, Operation::ListCollections, json!({})).await;
        statuses.push((raw.status, raw.error_type()));
    }
    assert!(started.elapsed() < Duration::from_millis(900), "the burst must fit in one second");
    let admitted = statuses.iter().filter(|(s, _)| *s == 200).count();
    assert_eq!(admitted, 5, "{statuses:?}");
    for (status, error) in &statuses[5..] {
        assert_eq!((*status, error.as_deref()), (500, Some("ThrottlingException")));
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(call(&server, Operation::ListCollections, json!({})).await.status, 200, "the window rolls");
}

/// What one faulted call looked like.
#[derive(Debug, Clone, PartialEq)]
enum Seen {
    Internal,
    Dropped,
    Answered { slow: bool },
}

#[tokio::test]
async fn faults_inject_every_kind_and_never_touch_state() {
    let server = start(ServeConfig { faults: 1.0, seed: 42, ..ServeConfig::default() }).await;
    let mut seen = Vec::new();
    let mut created = Vec::new();
    for i in 0..30 {
        let id = format!("f{i}");
        let body = json!({"CollectionId": id}).to_string();
        let req = request_bytes(Some(&Operation::CreateCollection.target()), &[], body.as_bytes());
        let started = Instant::now();
        let kind = match send_raw(server.addr(), &req).await {
            None => Seen::Dropped,
            Some(raw) if raw.status == 500 => {
                assert_eq!(raw.error_type().as_deref(), Some("InternalServerError"));
                assert!(raw.header("x-amzn-RequestId").is_some());
                Seen::Internal
            }
            Some(raw) => {
                assert_eq!(raw.status, 200, "{}", raw.text());
                created.push(id);
                Seen::Answered { slow: started.elapsed() >= Duration::from_millis(50) }
            }
        };
        seen.push(kind);
    }
    assert!(seen.contains(&Seen::Internal), "{seen:?}");
    assert!(seen.contains(&Seen::Dropped), "{seen:?}");
    assert!(
        seen.iter().all(|s| *s != Seen::Answered { slow: false }),
        "every answered call was delayed: {seen:?}"
    );
    assert!(!created.is_empty(), "{seen:?}");

    // Read the state back: every call is faulted, so retry until one is answered.
    let mut listed = None;
    for _ in 0..50 {
        let req = request_bytes(Some(&Operation::ListCollections.target()), &[], b"{}");
        if let Some(raw) = send_raw(server.addr(), &req).await
            && raw.status == 200
        {
            listed = Some(raw.json());
            break;
        }
    }
    let listed = listed.expect("some ListCollections was answered");
    let mut ids: Vec<String> = listed["CollectionIds"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    ids.sort();
    created.sort();
    assert_eq!(ids, created, "only the answered (delayed) calls changed state");
}

#[tokio::test]
async fn fault_sequence_is_seeded() {
    let run = async |seed: u64| {
        let server = start(ServeConfig { faults: 0.5, seed, ..ServeConfig::default() }).await;
        let mut kinds = Vec::new();
        for _ in 0..20 {
            let req = request_bytes(Some(&Operation::ListCollections.target()), &[], b"{}");
            kinds.push(send_raw(server.addr(), &req).await.map(|r| r.status));
        }
        kinds
    };
    let a = run(7).await;
    assert_eq!(a, run(7).await);
    assert!(a.contains(&Some(200)) && a.iter().any(|k| *k != Some(200)), "{a:?}");
}

#[tokio::test]
async fn same_seed_gives_same_face_ids() {
    let ids = async |seed: u64| {
        let server = start(ServeConfig { seed, ..ServeConfig::default() }).await;
        create_collection(&server, "d").await;
        let mut out = Vec::new();
        for person in ["alice", "bob", "carol"] {
            out.push(index(&server, "d", person).await);
        }
        let page = ok(&server, Operation::ListUsers, json!({"CollectionId": "d"})).await;
        assert!(page.get("NextToken").is_none());
        out
    };
    let a = ids(1).await;
    assert_eq!(a, ids(1).await);
    assert_ne!(a, ids(2).await);
    assert!(a.iter().all(|id| rekcon::expect::is_lower_uuid(id) && &id[14..15] == "4"), "{a:?}");
}
