//! Requests per second of the built-in emulator, through aws-sdk-rekognition on
//! loopback: the cost a harness run pays per call when it uses the embedded emulator.
//!
//! Run with `cargo bench --bench emulator` (set `REKCON_BENCH_SECS` to change the
//! measuring time per loop, default 3).

/// The same allocator as the `rekcon` binary, so the figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "support/sdk.rs"]
mod sdk;

use std::time::{Duration, Instant};

use aws_sdk_rekognition::primitives::Blob;
use aws_sdk_rekognition::types::Image;
use rekcon::image::{BoundingBox, ImageFace, fixture_png};
use rekcon::serve::{ServeConfig, Server};

type BenchResult = Result<(), Box<dyn std::error::Error>>;

/// Runs `step` repeatedly for `secs` and prints the rate.
async fn measure<F, Fut>(name: &str, secs: Duration, mut step: F) -> BenchResult
where
    F: FnMut(u64) -> Fut,
    Fut: std::future::Future<Output = BenchResult>,
{
    // Warm up connections and caches.
    for i in 0..50 {
        step(i).await?;
    }
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed() < secs {
        step(n).await?;
        n += 1;
    }
    let rate = n as f64 / started.elapsed().as_secs_f64();
    println!("emulator {name}: {rate:.0} req/s ({n} requests in {:.1} s)", started.elapsed().as_secs_f64());
    Ok(())
}

async fn run(secs: Duration) -> BenchResult {
    let server = Server::start(ServeConfig::default()).await?;
    let rek = sdk::client(&server.url());

    for i in 0..20 {
        rek.create_collection().collection_id(format!("bench-{i}")).send().await?;
    }
    measure("ListCollections", secs, |_| {
        let rek = rek.clone();
        async move {
            rek.list_collections().send().await?;
            Ok(())
        }
    })
    .await?;

    let face = ImageFace {
        person: "alice".into(),
        bounding_box: BoundingBox { left: 0.1, top: 0.1, width: 0.3, height: 0.4 },
    };
    let image = Image::builder().bytes(Blob::new(fixture_png(&[face]))).build();
    let indexed = rek.index_faces().collection_id("bench-0").image(image).send().await?;
    let face_id = indexed.face_records()[0].face().and_then(|f| f.face_id()).ok_or("no FaceId")?.to_string();
    rek.create_user().collection_id("bench-0").user_id("u").send().await?;
    // Alternate associate/disassociate of one face; the SDK sends a fresh ClientRequestToken each time.
    measure("AssociateFaces/DisassociateFaces", secs, |i| {
        let (rek, face_id) = (rek.clone(), face_id.clone());
        async move {
            if i % 2 == 0 {
                let out = rek
                    .associate_faces()
                    .collection_id("bench-0")
                    .user_id("u")
                    .face_ids(face_id)
                    .send()
                    .await?;
                if out.associated_faces().len() != 1 {
                    return Err("face not associated".into());
                }
            } else {
                rek.disassociate_faces()
                    .collection_id("bench-0")
                    .user_id("u")
                    .face_ids(face_id)
                    .send()
                    .await?;
            }
            Ok(())
        }
    })
    .await?;

    // Eight clients at once: the server's throughput rather than one client's latency.
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let rek = rek.clone();
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while started.elapsed() < secs {
                if rek.list_collections().send().await.is_ok() {
                    n += 1;
                }
            }
            n
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await?;
    }
    let rate = total as f64 / started.elapsed().as_secs_f64();
    println!("emulator ListCollections x8 concurrent: {rate:.0} req/s");
    server.shutdown().await;
    Ok(())
}

fn main() -> BenchResult {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: run briefly then.
    let benching = std::env::args().any(|a| a == "--bench");
    let secs = std::env::var("REKCON_BENCH_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(if benching {
        3
    } else {
        0
    });
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run(Duration::from_secs(secs)))
}
