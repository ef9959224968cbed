//! The HTTP side: listening, reading bounded bodies, the order of checks, answering.
//!
//! Per request: read the body (at most 8 MiB) → method and path → SigV4 (when
//! required) → throttle → injected fault → operation → decode → model → render. Every
//! answer, including front-end errors, carries `x-amzn-RequestId` and an AWS-shaped body.

use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use hyper::http::request::Parts;
use hyper::{Method, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};

use super::config::{ServeConfig, ServeError};
use super::knobs::{Fault, Faults, Throttle};
use super::log::RequestLog;
use super::mutant::WireStyle;
use super::pipeline::Emulator;
use super::sigv4::Verifier;
use super::wire::{self, MAX_BODY, Reply, api_error};
use crate::api::ErrorCode;
use crate::expect::Observed;

/// Bytes of an over-large body read and thrown away so the client sees the 413.
const DRAIN_LIMIT: usize = 64 * 1024 * 1024;
/// Longest wait for a request body.
const BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest wait for request headers on an open connection.
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);

/// A running emulator. Dropping it (or [`Server::shutdown`]) stops it.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

/// What every connection shares.
#[derive(Debug)]
struct Shared {
    emulator: Mutex<Emulator>,
    throttle: Option<Mutex<Throttle>>,
    faults: Mutex<Faults>,
    verifier: Option<Verifier>,
    style: WireStyle,
    config: ServeConfig,
}

/// Locks a mutex, recovering the data if a previous holder panicked.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Returned by the service to make hyper close the connection without an answer.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by an injected fault")
    }
}

impl std::error::Error for Dropped {}

impl Server {
    /// Binds, spawns the accept loop on the current tokio runtime and returns at once.
    pub async fn start(config: ServeConfig) -> Result<Server, ServeError> {
        if !(0.0..=1.0).contains(&config.faults) {
            return Err(ServeError::Config(format!(
                "faults must be a probability in [0, 1], got {}",
                config.faults
            )));
        }
        if config.throttle_tps == Some(0) {
            return Err(ServeError::Config("throttle-tps must be at least 1".into()));
        }
        let addr = SocketAddr::new(config.bind, config.port);
        let listener = TcpListener::bind(addr).await.map_err(|source| ServeError::Bind { addr, source })?;
        let addr = listener.local_addr().map_err(|source| ServeError::Bind { addr, source })?;
        let shared = Arc::new(Shared {
            emulator: Mutex::new(Emulator::new(&config)),
            throttle: config.throttle_tps.map(|n| Mutex::new(Throttle::new(n))),
            faults: Mutex::new(Faults::new(config.faults, config.seed)),
            verifier: config
                .require_sigv4
                .clone()
                .map(|(ak, secret)| Verifier::new(ak, secret, config.region.clone())),
            style: super::mutant::style(&config.mutants),
            config,
        });
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(accept_loop(listener, shared, stopped));
        Ok(Server { addr, stop: Some(stop), task: Some(task) })
    }

    /// The base URL clients use, e.g. `http://127.0.0.1:9123`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address listened on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, closes open connections and waits for the loop to end.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, mut stopped: oneshot::Receiver<()>) {
    // Dropping the set (on stop or abort) aborts every connection task.
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    connections.spawn(serve_connection(stream, Arc::clone(&shared)));
                }
                // Out of descriptors and the like: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
        }
        while connections.try_join_next().is_some() {}
    }
}

async fn serve_connection(stream: tokio::net::TcpStream, shared: Arc<Shared>) {
    let service = hyper::service::service_fn(move |request| handle(Arc::clone(&shared), request));
    let _ = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

/// Why a body could not be read.
enum BodyError {
    TooLarge,
    Unreadable,
}

/// Reads at most [`MAX_BODY`] bytes; beyond that, discards up to [`DRAIN_LIMIT`] so the
/// client can read the 413, never buffering more than the limit.
async fn read_body(parts: &Parts, mut body: Incoming) -> Result<Vec<u8>, BodyError> {
    let declared =
        parts.headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > DRAIN_LIMIT as u64) {
        return Err(BodyError::TooLarge);
    }
    let capacity = declared.map_or(0, |n| usize::try_from(n).unwrap_or(MAX_BODY).min(MAX_BODY));
    let mut buf = Vec::with_capacity(capacity);
    let mut total = 0usize;
    let deadline = tokio::time::Instant::now() + BODY_TIMEOUT;
    loop {
        let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) | Ok(Some(Err(_))) => return Err(BodyError::Unreadable),
            Ok(None) => break,
            Ok(Some(Ok(frame))) => frame,
        };
        let Ok(data) = frame.into_data() else { continue };
        total = total.saturating_add(data.len());
        if total > DRAIN_LIMIT {
            break;
        }
        if total <= MAX_BODY {
            buf.extend_from_slice(&data);
        }
    }
    if total > MAX_BODY { Err(BodyError::TooLarge) } else { Ok(buf) }
}

fn now_epoch_seconds() -> f64 {
    let millis = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
    millis as f64 / 1000.0
}

/// The `X-Amz-Target` header as safe, short log text.
fn log_target(parts: &Parts) -> String {
    match parts.headers.get("x-amz-target").map(HeaderValue::as_bytes) {
        None => "-".into(),
        Some(raw) => {
            raw.iter().take(80).map(|b| if b.is_ascii_graphic() { char::from(*b) } else { '?' }).collect()
        }
    }
}

async fn handle(
    shared: Arc<Shared>,
    request: hyper::Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Dropped> {
    let started = Instant::now();
    let request_id = uuid::Uuid::new_v4().to_string();
    let (parts, body) = request.into_parts();
    let outcome = match read_body(&parts, body).await {
        Ok(body) => process(&shared, &parts, &body).await,
        Err(BodyError::TooLarge) => {
            let err = api_error(
                ErrorCode::RequestEntityTooLargeException,
                format!("Request size exceeded the maximum allowed ({MAX_BODY} bytes)."),
            );
            let mut reply = wire::error(&err, shared.style);
            reply.close = true;
            Ok(reply)
        }
        Err(BodyError::Unreadable) => {
            let mut reply = wire::error(
                &api_error(ErrorCode::SerializationException, "The request body could not be read."),
                shared.style,
            );
            reply.close = true;
            Ok(reply)
        }
    };
    if shared.config.log_requests {
        let (status, error) = match &outcome {
            Ok(reply) => (reply.status, reply.error.clone()),
            Err(Dropped) => (0, None),
        };
        let line = RequestLog {
            method: parts.method.to_string(),
            target: log_target(&parts),
            status,
            error,
            latency: started.elapsed(),
            request_id: request_id.clone(),
        };
        match &shared.config.log_sink {
            Some(sink) => sink.emit(&line),
            None => eprintln!("{line}"),
        }
    }
    outcome.map(|reply| render(reply, &request_id))
}

/// Everything after the body is read: the order of checks AWS front ends apply.
async fn process(shared: &Shared, parts: &Parts, body: &[u8]) -> Result<Reply, Dropped> {
    let style = shared.style;
    if let Some(verifier) = &shared.verifier
        && let Err(err) = verifier.verify(parts, body, SystemTime::now())
    {
        return Ok(wire::error(&err, style));
    }
    if parts.method != Method::POST || parts.uri.path() != "/" {
        let err = api_error(
            ErrorCode::UnknownOperationException,
            "This endpoint serves the awsJson1.1 protocol: POST / with an X-Amz-Target header.",
        );
        return Ok(wire::error(&err, style));
    }
    if let Some(throttle) = &shared.throttle
        && !lock(throttle).admit(Instant::now())
    {
        let err =
            api_error(ErrorCode::ThrottlingException, "Slow down; sudden increase in rate of requests.");
        return Ok(wire::error(&err, style));
    }
    let fault = lock(&shared.faults).next();
    match fault {
        Some(Fault::InternalError) => {
            return Ok(wire::error(
                &api_error(ErrorCode::InternalServerError, "Internal server error"),
                style,
            ));
        }
        Some(Fault::Drop) => return Err(Dropped),
        Some(Fault::Delay(d)) => tokio::time::sleep(d).await,
        None => {}
    }
    let target = parts.headers.get("x-amz-target").and_then(|v| v.to_str().ok());
    let op = match wire::operation(target) {
        Ok(op) => op,
        Err(err) => return Ok(wire::error(&err, style)),
    };
    let request = match wire::decode(op, body) {
        Ok(request) => request,
        Err(err) => return Ok(wire::error(&err, style)),
    };
    let observed = {
        let mut emulator = lock(&shared.emulator);
        // A model bug must cost one 500, not the connection or the server.
        std::panic::catch_unwind(AssertUnwindSafe(|| {
            emulator.answer(&request, Instant::now(), now_epoch_seconds())
        }))
        .unwrap_or_else(|_| {
            Observed::Error(api_error(
                ErrorCode::InternalServerError,
                "Internal server error (the emulator's model failed on this request: a rekcon bug)",
            ))
        })
    };
    Ok(match observed {
        Observed::Success(body) => wire::success(op, body, style),
        Observed::Error(err) => wire::error(&err, style),
    })
}

fn render(reply: Reply, request_id: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(reply.body)));
    *response.status_mut() = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(reply.content_type));
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", id);
    }
    if reply.close {
        headers.insert(CONNECTION, HeaderValue::from_static("close"));
    }
    response
}
