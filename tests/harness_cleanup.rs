//! `rekcon cleanup`: deletes the `rekcon-` collections runs left on an endpoint, and
//! nothing else; `--dry-run` deletes nothing. Checked through the library function and the
//! binary, against the built-in emulator, with collections created through the SDK.

mod serve_support;

use std::process::Output;
use std::time::Duration;

use aws_sdk_rekognition::Client;
use rekcon::config::{Endpoint, TargetConfig};
use rekcon::runner::{CleanupOptions, cleanup_collections};
use rekcon::serve::{ServeConfig, Server};
use rekcon::target::Target;

const LEFTOVERS: [&str; 3] = ["rekcon-deadbeef-1-x", "rekcon-deadbeef-2-y", "rekcon-cafef00d-1-z"];
const OTHERS: [&str; 2] = ["keep-me", "rekconish"];

fn client(url: &str) -> Client {
    serve_support::sdk_client(url)
}

/// An emulator holding the leftovers of two runs and two collections that are not rekcon's.
async fn endpoint_with_leftovers() -> (Server, Client) {
    let server = Server::start(ServeConfig::default()).await.expect("the emulator starts");
    let client = client(&server.url());
    for id in LEFTOVERS.iter().chain(&OTHERS) {
        client.create_collection().collection_id(*id).send().await.expect("collection created");
    }
    (server, client)
}

async fn collections(client: &Client) -> Vec<String> {
    let mut ids = Vec::new();
    let mut token = None;
    loop {
        let page = client.list_collections().set_next_token(token).send().await.expect("listed");
        ids.extend(page.collection_ids().iter().cloned());
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    ids.sort();
    ids
}

async fn target(url: String) -> Target {
    let mut config = TargetConfig::new(Endpoint::BuiltIn(url));
    config.operation_timeout = Duration::from_secs(10);
    Target::connect(&config).await.expect("the SDK client builds")
}

fn sorted(ids: &[&str]) -> Vec<String> {
    let mut ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    ids.sort();
    ids
}

/// `rekcon cleanup --endpoint-url <url> <args>`, off the async runtime so the emulator keeps answering.
async fn rekcon_cleanup(url: &str, args: &[&str]) -> Output {
    let mut command = serve_support::rekcon_for_loopback();
    command.arg("cleanup").arg("--endpoint-url").arg(url).args(args);
    tokio::task::spawn_blocking(move || command.output().expect("rekcon runs")).await.expect("joined")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleanup_deletes_only_rekcon_collections_across_pages() {
    let (server, client) = endpoint_with_leftovers().await;
    let target = target(server.url()).await;
    // Two per page: the five collections span three pages, so NextToken must be followed.
    let options = CleanupOptions { prefix: "rekcon-".into(), dry_run: false, page_size: Some(2) };
    let mut out = Vec::new();
    let outcome = cleanup_collections(&target, &options, &mut out).await.expect("listing succeeds");
    assert_eq!(outcome.listed, 5);
    assert_eq!(outcome.deleted, sorted(&LEFTOVERS));
    assert!(outcome.failed.is_empty(), "{:?}", outcome.failed);
    assert_eq!(outcome.exit_code(), 0);
    assert_eq!(collections(&client).await, sorted(&OTHERS));
    let out = text(&out);
    assert!(out.contains("deleted       rekcon-deadbeef-1-x\n"), "{out}");
    assert!(!out.contains("keep-me"), "{out}");
    let summary = outcome.summary(&options, target.describe());
    assert!(
        summary.starts_with("cleanup: deleted 3 of 3 collection(s) starting with `rekcon-`, kept 2"),
        "{summary}"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_lists_and_deletes_nothing() {
    let (server, client) = endpoint_with_leftovers().await;
    let target = target(server.url()).await;
    let options = CleanupOptions { prefix: "rekcon-".into(), dry_run: true, page_size: Some(2) };
    let mut out = Vec::new();
    let outcome = cleanup_collections(&target, &options, &mut out).await.expect("listing succeeds");
    assert_eq!(outcome.matched, sorted(&LEFTOVERS));
    assert!(outcome.deleted.is_empty());
    assert_eq!(collections(&client).await, sorted(&[&LEFTOVERS[..], &OTHERS[..]].concat()));
    assert!(text(&out).contains("would delete  rekcon-cafef00d-1-z\n"), "{}", text(&out));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_deletes_one_runs_collections_then_the_rest_and_dry_run_keeps_them() {
    let (server, client) = endpoint_with_leftovers().await;
    let url = server.url();

    let out = rekcon_cleanup(&url, &["--dry-run"]).await;
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
    assert!(text(&out.stdout).contains("would delete  rekcon-deadbeef-1-x"), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("cleanup (dry run): would delete 3"), "{}", text(&out.stdout));
    assert_eq!(collections(&client).await.len(), 5);

    let out = rekcon_cleanup(&url, &["--prefix", "rekcon-deadbeef-"]).await;
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(collections(&client).await, sorted(&["rekcon-cafef00d-1-z", "keep-me", "rekconish"]));

    let out = rekcon_cleanup(&url, &[]).await;
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("deleted       rekcon-cafef00d-1-z\n"), "{stdout}");
    assert!(
        stdout.contains("cleanup: deleted 1 of 1 collection(s) starting with `rekcon-`, kept 2"),
        "{stdout}"
    );
    assert_eq!(collections(&client).await, sorted(&OTHERS));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_refuses_risky_options_with_2_and_a_silent_or_refusing_endpoint_with_3() {
    let (server, client) = endpoint_with_leftovers().await;
    let url = server.url();
    let out = rekcon_cleanup(&url, &["--prefix", "keep"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("--force-prefix"), "{}", text(&out.stderr));
    let out = rekcon_cleanup(&url, &["--prefix", ""]).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let out = rekcon_cleanup("https://rekognition.us-east-1.amazonaws.com", &[]).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("--aws"), "{}", text(&out.stderr));
    assert_eq!(collections(&client).await.len(), 5, "nothing was deleted");
    // --force-prefix accepts a prefix outside rekcon-.
    let out = rekcon_cleanup(&url, &["--prefix", "keep", "--force-prefix"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(!collections(&client).await.contains(&"keep-me".to_string()));
    server.shutdown().await;

    // Nobody listening: no answer.
    let out = rekcon_cleanup(&url, &[]).await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("cannot list the collections"), "{}", text(&out.stderr));

    // An endpoint that refuses the caller's signature: the listing is refused, exit 3.
    let config =
        ServeConfig { require_sigv4: Some(("AKIDOTHER".into(), "other".into())), ..ServeConfig::default() };
    let strict = Server::start(config).await.expect("the emulator starts");
    let out = rekcon_cleanup(&strict.url(), &[]).await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    strict.shutdown().await;
}
