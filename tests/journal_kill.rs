//! The crash-safe journal under SIGKILL: `rekcon run` and `rekcon fuzz` killed outright at
//! 10 random points each (seeded; the seed is printed, `REKCON_KILL_SEED=N` repeats it),
//! then one `rekcon cleanup --journal` leaves no collection of theirs on the endpoint,
//! while a live run against the same endpoint, started before the kills, keeps its
//! journal and its collections and finishes passing.

#![cfg(unix)]

mod serve_support;

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use rand::{Rng as _, SeedableRng as _};
use rekcon::serve::ServeConfig;

/// A scratch folder of its own.
fn scratch(what: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("rekcon-journal-kill-{what}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

/// `rekcon` for the loopback emulator, journaling into `journals`.
fn rekcon(journals: &Path) -> std::process::Command {
    let mut command = serve_support::rekcon_for_loopback();
    command.env("REKCON_JOURNAL_DIR", journals).stdout(Stdio::piped()).stderr(Stdio::piped());
    command
}

fn collections(runtime: &tokio::runtime::Runtime, url: &str) -> Vec<String> {
    let client = serve_support::sdk_client(url);
    runtime.block_on(async {
        let page = client.list_collections().max_results(4096).send().await.expect("listed");
        assert!(page.next_token().is_none(), "one page holds them all");
        page.collection_ids().to_vec()
    })
}

/// The run ids of the journals in `dir`.
fn journal_ids(dir: &Path) -> Vec<String> {
    let mut ids: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| {
                    e.file_name().to_str().and_then(|n| n.strip_suffix(".journal")).map(str::to_string)
                })
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

fn finish(mut child: Child, what: &str) -> (Option<i32>, String, String) {
    let deadline = Instant::now() + Duration::from_secs(300);
    while child.try_wait().expect("waits").is_none() {
        assert!(Instant::now() < deadline, "{what} did not end within 300 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("output");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Starts one `rekcon` per argument list at once and, once every one has opened its
/// journal (it is then sending), SIGKILLs each after its own random delay of up to 2 s;
/// the delays. Counting from the journals, not from the start, keeps the kills inside the
/// runs on a loaded machine, where starting ten processes takes seconds.
fn kill_at_random(journals: &Path, runs: &[Vec<String>], rng: &mut rand_chacha::ChaCha8Rng) -> Vec<u64> {
    let before = journal_ids(journals).len();
    let mut children: Vec<(u64, Child)> = runs
        .iter()
        .map(|args| {
            let child = rekcon(journals).args(args).spawn().expect("rekcon starts");
            (rng.random_range(0..2_000), child)
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(120);
    while journal_ids(journals).len() < before + runs.len()
        && !children.iter_mut().any(|(_, c)| c.try_wait().ok().flatten().is_some())
    {
        assert!(Instant::now() < deadline, "the runs opened no journal within 120 s");
        std::thread::sleep(Duration::from_millis(10));
    }
    let started = Instant::now();
    let delays = children.iter().map(|(d, _)| *d).collect();
    children.sort_by_key(|(d, _)| *d);
    for (delay, child) in &mut children {
        let at = started + Duration::from_millis(*delay);
        std::thread::sleep(at.saturating_duration_since(Instant::now()));
        // SIGKILL: no handler runs, nothing is cleaned up.
        let _ = child.kill();
        let _ = child.wait();
    }
    delays
}

#[test]
fn cleanup_journal_deletes_what_killed_runs_left_and_never_a_live_runs() {
    let seed: u64 = std::env::var("REKCON_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::rng().random());
    println!("journal_kill seed {seed} (repeat with REKCON_KILL_SEED={seed})");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("rt");
    let config = ServeConfig { settle: Duration::from_millis(150), ..ServeConfig::default() };
    let server = runtime.block_on(serve_support::start(config));
    let url = server.url();
    let journals = scratch("journals");
    let root = serve_support::slow_scenarios(80);
    let root_arg = root.to_str().expect("utf-8 path");

    // The live run: one scenario at a time, long enough to outlast the kills and the cleanup.
    let mut live = rekcon(&journals)
        .args(["run", "--endpoint-url", &url, "--jobs", "1", "--scenarios", root_arg])
        .spawn()
        .expect("the live run starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    while journal_ids(&journals).is_empty() {
        assert!(Instant::now() < deadline, "the live run wrote no journal within 60 s");
        std::thread::sleep(Duration::from_millis(10));
    }
    let live_id = journal_ids(&journals).remove(0);
    let live_prefix = format!("rekcon-{live_id}-");

    let suite = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let suite_arg = suite.to_str().expect("utf-8 path");
    let strings = |args: &[&str]| args.iter().map(|a| a.to_string()).collect::<Vec<String>>();
    let run = strings(&[
        "run",
        "--endpoint-url",
        &url,
        "--scenarios",
        suite_arg,
        "--jobs",
        "4",
        "users",
        "associate",
    ]);
    let delays = kill_at_random(&journals, &vec![run; 10], &mut rng);
    println!("rekcon run: SIGKILL after {delays:?} ms");
    let out_dir = root.join("regressions");
    let out_dir = out_dir.to_str().expect("utf-8 path");
    let fuzz: Vec<Vec<String>> = (0..10)
        .map(|_| {
            let seed = rng.random::<u32>().to_string();
            strings(&[
                "fuzz",
                "--endpoint-url",
                &url,
                "--scenarios",
                root_arg,
                "--out-dir",
                out_dir,
                "--cases",
                "100000",
                "--jobs",
                "4",
                "--seed",
                &seed,
            ])
        })
        .collect();
    let delays = kill_at_random(&journals, &fuzz, &mut rng);
    println!("rekcon fuzz: SIGKILL after {delays:?} ms");
    let killed_left: Vec<String> =
        collections(&runtime, &url).into_iter().filter(|c| !c.starts_with(&live_prefix)).collect();
    println!("the killed runs left {} collection(s)", killed_left.len());

    let cleanup = rekcon(&journals).args(["cleanup", "--journal"]).spawn().expect("cleanup starts");
    let (code, out, err) = finish(cleanup, "rekcon cleanup --journal");
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(!out.contains(&live_id), "the live run's journal is never touched:\n{out}");

    let left = collections(&runtime, &url);
    let foreign: Vec<&String> = left.iter().filter(|c| !c.starts_with(&live_prefix)).collect();
    assert!(foreign.is_empty(), "left behind by killed runs: {foreign:?}\n{out}");
    assert_eq!(journal_ids(&journals), vec![live_id.clone()], "only the live run's journal is left");
    assert!(
        live.try_wait().expect("waits").is_none(),
        "the live run must still be running after the cleanup, or the test proves nothing (raise its scenario count)"
    );

    let (code, out, err) = finish(live, "the live run");
    assert!(
        code == Some(0),
        "the live run was disturbed (or ended before the cleanup; raise its scenario count): {code:?}\n{out}\n{err}"
    );
    assert!(!err.contains("rekcon cleanup --journal"), "the live run found nothing to warn about: {err}");
    assert!(journal_ids(&journals).is_empty(), "a run that ends normally removes its journal");
    assert!(collections(&runtime, &url).is_empty());
    assert!(!killed_left.is_empty(), "the kills left something for the cleanup to delete");
    runtime.block_on(server.shutdown());
    let _ = std::fs::remove_dir_all(&journals);
    let _ = std::fs::remove_dir_all(&root);
}

/// Leaves in `dir` the journal of a run `run_id` on `url` that died after journaling each
/// of `calls` (operation, request JSON) and before any answer came.
fn dead_journal(dir: &Path, run_id: &str, url: &str, calls: &[(rekcon::api::Operation, serde_json::Value)]) {
    use rekcon::journal::{Journal, JournalEndpoint};
    let endpoint =
        JournalEndpoint { url: Some(url.to_string()), aws: false, region: "us-east-1".into(), profile: None };
    let journal =
        Journal::create(dir, run_id, &format!("rekcon-{run_id}-"), "run", endpoint).expect("journal");
    for (operation, json) in calls {
        let request = rekcon::api::Request::from_json(*operation, json).expect("request");
        journal.before(&rekcon::target::Call::Typed(request)).expect("journaled");
    }
    // Dropped unfinished: what a killed run leaves.
    drop(journal);
}

/// An IndexFaces call of a killed run to a collection it did not create, whose answer never
/// came, left faces behind only if that collection exists: one that does not (or an id no
/// collection can have, as the fuzzer's constraint probes send) closes the journal, and
/// one that does keeps it, naming the unknown faces.
#[test]
fn unanswered_indexing_is_unknown_only_where_the_collection_exists() {
    use rekcon::api::Operation;

    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("rt");
    let server = runtime.block_on(serve_support::start(ServeConfig::default()));
    let url = server.url();
    let client = serve_support::sdk_client(&url);
    runtime.block_on(client.create_collection().collection_id("theirs").send()).expect("created");
    let journals = scratch("unanswered");
    let dead_with_indexing = |run_id: &str, collections: &[&str]| {
        let calls: Vec<_> = collections
            .iter()
            .map(|c| {
                (Operation::IndexFaces, serde_json::json!({"CollectionId": c, "Image": {"Bytes": "AAAA"}}))
            })
            .collect();
        dead_journal(&journals, run_id, &url, &calls);
    };

    let too_long = "x".repeat(300);
    dead_with_indexing("dead0001", &["nosuch", &too_long]);
    let (code, out, err) =
        finish(rekcon(&journals).args(["cleanup", "--journal"]).spawn().expect("starts"), "cleanup");
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert_eq!(out.matches("nothing left").count(), 2, "{out}");
    assert!(journal_ids(&journals).is_empty(), "the journal is finished:\n{out}");

    dead_with_indexing("dead0002", &["theirs"]);
    let (code, out, err) =
        finish(rekcon(&journals).args(["cleanup", "--journal"]).spawn().expect("starts"), "cleanup");
    assert_ne!(code, Some(0), "{out}\n{err}");
    assert!(out.contains("unknown       1 IndexFaces call(s) to theirs"), "{out}");
    assert_eq!(journal_ids(&journals), vec!["dead0002".to_string()], "the journal is kept:\n{out}");

    runtime.block_on(server.shutdown());
    let _ = std::fs::remove_dir_all(&journals);
}

/// A dead run's journal whose endpoint is gone for good (an emulator stopped, its state
/// with it) is kept by `rekcon cleanup --journal` (exit 3) and removed, after naming what
/// it held, by `--forget-unreachable`; a journal whose endpoint answers is cleaned as
/// usual in the same pass.
#[test]
fn forget_unreachable_removes_only_the_journals_whose_endpoint_is_gone() {
    use rekcon::api::Operation;

    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("rt");
    let server = runtime.block_on(serve_support::start(ServeConfig::default()));
    let live_url = server.url();
    // A loopback port nothing listens on any more.
    let gone_url = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        format!("http://{}", listener.local_addr().expect("its address"))
    };
    let journals = scratch("forget");
    let dead = |run_id: &str, url: &str| {
        let json = serde_json::json!({"CollectionId": format!("rekcon-{run_id}-1-c")});
        dead_journal(&journals, run_id, url, &[(Operation::CreateCollection, json)]);
    };
    dead("gone0001", &gone_url);
    dead("live0001", &live_url);
    runtime
        .block_on(
            serve_support::sdk_client(&live_url)
                .create_collection()
                .collection_id("rekcon-live0001-1-c")
                .send(),
        )
        .expect("created");

    let (code, out, err) =
        finish(rekcon(&journals).args(["cleanup", "--journal"]).spawn().expect("starts"), "cleanup");
    assert_eq!(code, Some(3), "the gone endpoint's journal is kept: {out}\n{err}");
    assert!(out.contains("--forget-unreachable` removes this journal"), "the way out is named: {out}");
    assert_eq!(journal_ids(&journals), vec!["gone0001".to_string()], "{out}");
    assert!(collections(&runtime, &live_url).is_empty(), "the live endpoint's collection went: {out}");

    let (code, out, err) = finish(
        rekcon(&journals).args(["cleanup", "--journal", "--forget-unreachable"]).spawn().expect("starts"),
        "cleanup --forget-unreachable",
    );
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(
        out.contains("forgotten") && out.contains("gives no answer") && out.contains("1 collection(s)"),
        "{out}"
    );
    assert!(journal_ids(&journals).is_empty(), "{out}");
    runtime.block_on(server.shutdown());
    let _ = std::fs::remove_dir_all(&journals);
}
