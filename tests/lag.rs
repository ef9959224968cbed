//! Read-after-write lag (issue 11 item 6, contract §9.20): a not-found answer right after
//! the write that created the thing is asked again with a bounded backoff before it
//! counts, and the report says how often. The lagging endpoint is hand-made: a proxy on
//! 127.0.0.1 in front of the built-in emulator that answers the first SearchFaces calls
//! "faceId was not found in the collection." (the real message, contract §8).

mod serve_support;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use rekcon::config::{Endpoint, TargetConfig};
use rekcon::model::ModelConfig;
use rekcon::report::{CleanupSummary, FORMAT_VERSION, Repro, RunReport, ScenarioReport, Verdict};
use rekcon::runner::{RunSettings, Runner, crate_scenarios_root, select};
use rekcon::serve::{ServeConfig, Server};
use rekcon::target::Target;

/// Starts a proxy to `upstream` that answers the next `lagging` SearchFaces calls with
/// the not-found of a face not yet searchable.
async fn lagging_proxy(upstream: SocketAddr, lagging: Arc<AtomicUsize>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            let lagging = Arc::clone(&lagging);
            tokio::spawn(async move {
                let service = hyper::service::service_fn(
                    move |request: hyper::Request<hyper::body::Incoming>| {
                        let lagging = Arc::clone(&lagging);
                        async move {
                            let target = request
                                .headers()
                                .get("x-amz-target")
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or_default()
                                .to_string();
                            let body =
                                request.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                            let lag = target == "RekognitionService.SearchFaces"
                                && lagging
                                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                                    .is_ok();
                            let (status, headers, body) = if lag {
                                let body = r#"{"__type":"InvalidParameterException","Code":"InvalidParameterException","Message":"faceId was not found in the collection."}"#;
                                (
                                    400,
                                    vec![("x-amzn-RequestId".to_string(), "lag".to_string())],
                                    body.as_bytes().to_vec(),
                                )
                            } else {
                                let bytes = serve_support::request_bytes(
                                    Some(&target),
                                    &[("Content-Type", "application/x-amz-json-1.1")],
                                    &body,
                                );
                                let raw = serve_support::send_raw(upstream, &bytes)
                                    .await
                                    .expect("the emulator answers");
                                let headers = raw
                                    .headers
                                    .iter()
                                    .filter(|(k, _)| {
                                        !["content-length", "connection", "content-type"]
                                            .contains(&k.to_ascii_lowercase().as_str())
                                    })
                                    .cloned()
                                    .collect();
                                (raw.status, headers, raw.body)
                            };
                            let mut response = hyper::Response::builder()
                                .status(status)
                                .header("content-type", "application/x-amz-json-1.1");
                            for (k, v) in headers {
                                response = response.header(k, v);
                            }
                            Ok::<_, Infallible>(
                                response.body(Full::new(Bytes::from(body))).expect("a response"),
                            )
                        }
                    },
                );
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
            });
        }
    });
    format!("http://{addr}")
}

async fn run(scenario: &str, lagging: usize) -> (ScenarioReport, RunReport) {
    let config = ServeConfig::default();
    let account = config.account.clone();
    let server = Server::start(config).await.expect("the emulator starts");
    let url = lagging_proxy(server.addr(), Arc::new(AtomicUsize::new(lagging))).await;
    let mut target_config = TargetConfig::new(Endpoint::BuiltIn(url));
    target_config.operation_timeout = Duration::from_secs(10);
    let target = Target::connect(&target_config).await.expect("the SDK client builds");
    let mut settings = RunSettings::new(Repro::Cli { flags: String::new() });
    settings.model = ModelConfig {
        region: Some(target.region().to_string()),
        account: Some(account),
        ..ModelConfig::default()
    };
    let runner = Runner::new(target, settings);
    let selection = select(&crate_scenarios_root(), &[scenario.to_string()], &[]).expect("selects");
    assert_eq!(selection.scenarios.len(), 1, "{scenario}");
    let report = runner.run_scenario(1, &selection.scenarios[0]).await;
    server.shutdown().await;
    let run = RunReport {
        format_version: FORMAT_VERSION,
        run_id: "0000000a".into(),
        endpoint: "a lagging proxy".into(),
        scenarios: vec![report.clone()],
        probes: Vec::new(),
        interrupted: false,
        interrupt_exit: 130,
        baseline: None,
        metadata: Default::default(),
        cleanup: CleanupSummary::default(),
        retries: Default::default(),
        shared_quota: false,
        verification: None,
        duration: Duration::ZERO,
    };
    (report, run)
}

fn first_search(report: &ScenarioReport) -> &rekcon::report::StepRecord {
    report.records.iter().find(|r| r.call_name() == "SearchFaces").expect("a SearchFaces call")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_not_found_right_after_indexing_is_asked_again_and_counted() {
    let (report, run) = run("search/search_faces", 2).await;
    assert_eq!(report.verdict, Verdict::Pass, "{}", report.explain());
    assert_eq!(first_search(&report).lag_retries, 2);
    let lag = run.lag();
    assert_eq!((lag.calls, lag.retries, lag.still_diverged), (1, 2, 0));
    let text = run.render();
    assert!(text.contains("read-after-write lag (§9.20): 1 call answered not-found"), "{text}");
    assert_eq!(run.to_json()["read_after_write_lag"]["retries"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_not_found_that_never_settles_is_a_divergence_after_bounded_retries() {
    let (report, run) = run("search/search_faces", 1000).await;
    assert!(matches!(report.verdict, Verdict::Diverged { .. }), "{:?}", report.verdict);
    assert_eq!(first_search(&report).lag_retries, 4, "bounded");
    assert_eq!(run.lag().still_diverged, 3, "each of the three searches diverged after its retries");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_not_found_the_model_allows_is_not_asked_again() {
    let (report, run) = run("search/search_faces_unknown_face", 0).await;
    assert_eq!(report.verdict, Verdict::Pass, "{}", report.explain());
    assert!(report.records.iter().any(|r| r.call_name() == "SearchFaces"));
    assert_eq!(run.lag().calls, 0);
}
