//! What the harness costs per checked call, against a bare aws-sdk-rekognition loop
//! making the same calls to the same in-process emulator.
//!
//! Both sides run the same call mix, in interleaved rounds (bare, harness, bare, ...) so
//! that warm-up and machine noise hit both alike. The harness side goes through the full
//! checked path of a scenario step — model allowance, SDK call with the wire tap, wire
//! checks, model judgement, record — and the ratio of the two per-call times is printed.
//!
//! Run with `cargo bench --bench harness` (`REKCON_BENCH_CALLS`, default 2000 per side).

/// The same allocator as the `rekcon` binary, so the figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::time::{Duration, Instant};

use aws_sdk_rekognition::Client;
use aws_sdk_rekognition::config::{BehaviorVersion, Builder, Credentials, Region};
use aws_sdk_rekognition::primitives::Blob;
use aws_sdk_rekognition::types::Image;
use rekcon::api::{self, Request};
use rekcon::config::{Endpoint, TargetConfig};
use rekcon::image::{BoundingBox, ImageFace, fixture_png};
use rekcon::model::ModelConfig;
use rekcon::report::Repro;
use rekcon::runner::{RunSettings, Runner, Session, StepOutcome};
use rekcon::serve::{ServeConfig, Server};
use rekcon::target::Target;

type BenchResult = Result<(), Box<dyn std::error::Error>>;

/// Rounds per side; each round makes `calls / ROUNDS` calls.
const ROUNDS: usize = 10;
/// Calls in one pass of the mix.
const MIX: usize = 8;

fn png() -> Vec<u8> {
    fixture_png(&[ImageFace {
        person: "alice".into(),
        bounding_box: BoundingBox { left: 0.25, top: 0.2, width: 0.5, height: 0.6 },
    }])
}

/// The bare loop: the SDK alone.
async fn bare_round(
    client: &Client,
    round: usize,
    calls: usize,
) -> Result<Duration, Box<dyn std::error::Error>> {
    let collection = format!("bare-{round}");
    client.create_collection().collection_id(&collection).send().await?;
    let indexed = client
        .index_faces()
        .collection_id(&collection)
        .image(Image::builder().bytes(Blob::new(png())).build())
        .send()
        .await?;
    let face = indexed
        .face_records()
        .first()
        .and_then(|r| r.face())
        .and_then(|f| f.face_id())
        .ok_or("no face indexed")?
        .to_string();
    client.create_user().collection_id(&collection).user_id("alice").send().await?;
    let started = Instant::now();
    for i in 0..calls {
        let user = format!("u{}", i / MIX);
        match i % MIX {
            0 => drop(client.describe_collection().collection_id(&collection).send().await?),
            1 => drop(client.list_faces().collection_id(&collection).send().await?),
            2 => drop(client.list_users().collection_id(&collection).send().await?),
            3 => drop(client.search_faces().collection_id(&collection).face_id(&face).send().await?),
            4 => drop(client.create_user().collection_id(&collection).user_id(&user).send().await?),
            5 => drop(
                client
                    .associate_faces()
                    .collection_id(&collection)
                    .user_id("alice")
                    .face_ids(&face)
                    .send()
                    .await?,
            ),
            6 => drop(
                client
                    .disassociate_faces()
                    .collection_id(&collection)
                    .user_id("alice")
                    .face_ids(&face)
                    .send()
                    .await?,
            ),
            _ => drop(client.delete_user().collection_id(&collection).user_id(&user).send().await?),
        }
    }
    let elapsed = started.elapsed();
    client.delete_collection().collection_id(&collection).send().await?;
    Ok(elapsed)
}

async fn checked(
    session: &mut Session<'_>,
    request: Request,
    step: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    match session.call_request(request, None, step).await {
        StepOutcome::Conformed => Ok(()),
        other => {
            Err(format!("step {step} did not conform: {other:?}: {:?}", session.records().last()).into())
        }
    }
}

/// The harness loop: the same calls through the checked path.
async fn harness_round(
    runner: &Runner,
    round: usize,
    calls: usize,
) -> Result<Duration, Box<dyn std::error::Error>> {
    let mut session = runner.session(round + 1);
    let collection = format!("{}c", runner.collection_prefix(round + 1));
    let c = || Some(collection.clone());
    checked(&mut session, api::CreateCollectionRequest { collection_id: c(), tags: None }.into(), 0).await?;
    let image = api::Image { bytes: Some(api::Blob::new(png())), s3_object: None };
    checked(
        &mut session,
        api::IndexFacesRequest { collection_id: c(), image: Some(image), ..Default::default() }.into(),
        0,
    )
    .await?;
    let face = session
        .records()
        .last()
        .and_then(|r| match &r.observed {
            Some(rekcon::expect::Observed::Success(body)) => {
                body["FaceRecords"][0]["Face"]["FaceId"].as_str().map(str::to_string)
            }
            _ => None,
        })
        .ok_or("no face indexed")?;
    let alice = || Some("alice".to_string());
    checked(
        &mut session,
        api::CreateUserRequest { collection_id: c(), user_id: alice(), client_request_token: None }.into(),
        0,
    )
    .await?;
    let started = Instant::now();
    for i in 0..calls {
        let user = Some(format!("u{}", i / MIX));
        let faces = Some(vec![face.clone()]);
        let request: Request = match i % MIX {
            0 => api::DescribeCollectionRequest { collection_id: c() }.into(),
            1 => api::ListFacesRequest { collection_id: c(), ..Default::default() }.into(),
            2 => api::ListUsersRequest { collection_id: c(), ..Default::default() }.into(),
            3 => api::SearchFacesRequest {
                collection_id: c(),
                face_id: Some(face.clone()),
                ..Default::default()
            }
            .into(),
            4 => api::CreateUserRequest { collection_id: c(), user_id: user, client_request_token: None }
                .into(),
            5 => api::AssociateFacesRequest {
                collection_id: c(),
                user_id: alice(),
                face_ids: faces,
                ..Default::default()
            }
            .into(),
            6 => api::DisassociateFacesRequest {
                collection_id: c(),
                user_id: alice(),
                face_ids: faces,
                ..Default::default()
            }
            .into(),
            _ => api::DeleteUserRequest { collection_id: c(), user_id: user, client_request_token: None }
                .into(),
        };
        checked(&mut session, request, i + 1).await?;
    }
    let elapsed = started.elapsed();
    session.cleanup(false).await;
    Ok(elapsed)
}

fn per_call(total: Duration, calls: usize) -> f64 {
    total.as_secs_f64() * 1e6 / calls as f64
}

async fn bench() -> BenchResult {
    let calls: usize = std::env::var("REKCON_BENCH_CALLS").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
    let per_round = (calls / ROUNDS).max(MIX);
    let server = Server::start(ServeConfig::default()).await?;
    let url = server.url();
    let bare = Client::from_conf(
        Builder::new()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(&url)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("AKIDBENCH", "bench-secret", None, None, "bench"))
            .build(),
    );
    let target = Target::connect(&TargetConfig::new(Endpoint::BuiltIn(url))).await?;
    let mut settings = RunSettings::new(Repro::Cli { flags: String::new() });
    settings.model = ModelConfig {
        region: Some(target.region().to_string()),
        account: Some(ServeConfig::default().account),
        ..ModelConfig::default()
    };
    let runner = Runner::new(target, settings);

    // Warm-up: connections, allocator, emulator state.
    bare_round(&bare, 1000, MIX * 4).await?;
    harness_round(&runner, 1000, MIX * 4).await?;

    let (mut bare_total, mut harness_total) = (Duration::ZERO, Duration::ZERO);
    println!("round   bare µs/call   harness µs/call   ratio");
    for round in 0..ROUNDS {
        let b = bare_round(&bare, round, per_round).await?;
        let h = harness_round(&runner, round, per_round).await?;
        bare_total += b;
        harness_total += h;
        let (b, h) = (per_call(b, per_round), per_call(h, per_round));
        println!("{round:>5}   {b:>12.1}   {h:>15.1}   {:>5.3}", h / b);
    }
    let total_calls = per_round * ROUNDS;
    let (b, h) = (per_call(bare_total, total_calls), per_call(harness_total, total_calls));
    println!(
        "{total_calls} calls each: bare SDK {b:.1} µs/call, harness {h:.1} µs/call; harness/bare = {:.3} (target ≤ 1.25)",
        h / b
    );
    runner.cleanup().await;
    server.shutdown().await;
    Ok(())
}

fn main() -> BenchResult {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing useful either way.
    if std::env::args().any(|a| a == "--list") {
        return Ok(());
    }
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(bench())
}
