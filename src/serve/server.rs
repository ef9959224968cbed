//! The HTTP side: listening, reading bounded bodies, the order of checks, answering.
//!
//! Per request: read the body (at most 8 MiB) → method and path → SigV4 (when
//! required) → throttle → injected fault → operation → decode → model → the simulated
//! latency (`--latency-ms`) → render. Every answer, including front-end errors, carries
//! `x-amzn-RequestId` and an AWS-shaped body.

use std::collections::HashMap;
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
    shared: Arc<Shared>,
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
    connections: Mutex<Connections>,
    config: ServeConfig,
}

/// The open connections, so that at the cap the idlest one makes room for a new one.
#[derive(Debug, Default)]
struct Connections {
    next: u64,
    open: HashMap<u64, Slot>,
}

/// One open connection: requests in flight, when it last changed, how to close it.
#[derive(Debug)]
struct Slot {
    busy: u32,
    since: Instant,
    shed: Option<oneshot::Sender<()>>,
}

impl Connections {
    /// Registers a new connection, first shedding the connection idle longest when
    /// `cap` are open. `None` when every open connection has a request in flight.
    fn admit(&mut self, cap: usize) -> Option<(u64, oneshot::Receiver<()>)> {
        if self.open.len() >= cap.max(1) {
            let idlest = self.open.iter().filter(|(_, s)| s.busy == 0).min_by_key(|(_, s)| s.since);
            let victim = *idlest?.0;
            if let Some(shed) = self.open.remove(&victim).and_then(|s| s.shed) {
                let _ = shed.send(());
            }
        }
        let (tx, rx) = oneshot::channel();
        let id = self.next;
        self.next += 1;
        self.open.insert(id, Slot { busy: 0, since: Instant::now(), shed: Some(tx) });
        Some((id, rx))
    }

    /// A request on connection `id` starts (`true`) or ends (`false`).
    fn mark(&mut self, id: u64, starts: bool) {
        if let Some(slot) = self.open.get_mut(&id) {
            slot.busy = if starts { slot.busy.saturating_add(1) } else { slot.busy.saturating_sub(1) };
            slot.since = Instant::now();
        }
    }
}

/// Forgets a connection when its task ends, however it ends.
struct Registered {
    shared: Arc<Shared>,
    id: u64,
}

impl Drop for Registered {
    fn drop(&mut self) {
        lock(&self.shared.connections).open.remove(&self.id);
    }
}

/// Marks a request in flight on its connection until dropped.
struct InFlight {
    shared: Arc<Shared>,
    id: u64,
}

impl InFlight {
    fn new(shared: &Arc<Shared>, id: u64) -> InFlight {
        lock(&shared.connections).mark(id, true);
        InFlight { shared: Arc::clone(shared), id }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        lock(&self.shared.connections).mark(self.id, false);
    }
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
        let emulator = match &config.state {
            Some(path) => load_state(&config, path)?,
            None => Emulator::new(&config),
        };
        let shared = Arc::new(Shared {
            emulator: Mutex::new(emulator),
            throttle: config.throttle_tps.map(|n| Mutex::new(Throttle::new(n))),
            faults: Mutex::new(Faults::new(config.faults, config.seed)),
            verifier: config
                .require_sigv4
                .clone()
                .map(|(ak, secret)| Verifier::new(ak, secret, config.region.clone())),
            style: super::mutant::style(&config.mutants),
            connections: Mutex::new(Connections::default()),
            config,
        });
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(accept_loop(listener, Arc::clone(&shared), stopped));
        Ok(Server { addr, shared, stop: Some(stop), task: Some(task) })
    }

    /// What saves this server's state to its `state` file, also after it stopped.
    pub fn saver(&self) -> StateSaver {
        StateSaver { shared: Arc::clone(&self.shared) }
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

/// Saves a server's state to the file its configuration names.
#[derive(Debug, Clone)]
pub struct StateSaver {
    shared: Arc<Shared>,
}

impl StateSaver {
    /// Writes the state atomically (a temporary file beside it, synced, then renamed over
    /// it); the file written, or `None` when the server has no state file.
    pub fn save(&self) -> Result<Option<std::path::PathBuf>, ServeError> {
        let Some(path) = &self.shared.config.state else { return Ok(None) };
        let state = lock(&self.shared.emulator).save();
        let fail = |e: std::io::Error| ServeError::State { path: path.clone(), reason: e.to_string() };
        let mut bytes = serde_json::to_vec(&state).map_err(|e| fail(std::io::Error::other(e)))?;
        bytes.push(b'\n');
        write_atomically(path, &bytes).map_err(fail)?;
        Ok(Some(path.clone()))
    }
}

/// Writes `bytes` to `path` so that a reader sees the old file or the new one, whole.
fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written?;
    // The rename itself survives a crash once the folder is synced.
    if let Ok(folder) = std::fs::File::open(&dir) {
        let _ = folder.sync_all();
    }
    Ok(())
}

/// The emulator a `--state` file holds: empty when the file does not exist yet, an
/// error when it cannot be read, is torn (not whole JSON) or is not a state file.
fn load_state(config: &ServeConfig, path: &std::path::Path) -> Result<Emulator, ServeError> {
    let fail = |reason: String| ServeError::State { path: path.to_path_buf(), reason };
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Emulator::new(config)),
        Err(e) => return Err(fail(e.to_string())),
    };
    let value: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| fail(format!("torn or not JSON ({e}); refusing to start with an empty state")))?;
    Emulator::restore(config, &value).map_err(fail)
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
                    // At the cap the idlest connection is shed; with every one busy the
                    // new one is refused (closed at once) rather than left waiting.
                    let admitted = lock(&shared.connections).admit(shared.config.max_connections);
                    if let Some((id, shed)) = admitted {
                        let _ = stream.set_nodelay(true);
                        connections.spawn(serve_connection(stream, Arc::clone(&shared), id, shed));
                    }
                }
                // Out of descriptors and the like: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
        }
        while connections.try_join_next().is_some() {}
    }
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    shared: Arc<Shared>,
    id: u64,
    shed: oneshot::Receiver<()>,
) {
    let _registered = Registered { shared: Arc::clone(&shared), id };
    let service = hyper::service::service_fn(move |request| {
        let shared = Arc::clone(&shared);
        async move {
            let _in_flight = InFlight::new(&shared, id);
            handle(shared, request).await
        }
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .serve_connection(TokioIo::new(stream), service);
    let mut connection = std::pin::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => {}
        Ok(()) = shed => {
            // Shed for a newer connection: a request already under way still gets its answer.
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
    }
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
    // Distance: every answer waits, outside any lock, so concurrent calls overlap.
    if !shared.config.latency.is_zero() {
        tokio::time::sleep(shared.config.latency).await;
    }
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
    if let Some(reply) = control(shared, parts) {
        return Ok(reply);
    }
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
    // A planted race checks and acts under two holds of the lock, with a wait between.
    let observed = match guarded(|| {
        Ok(super::race::check(&shared.config.mutants, &request, &mut lock(&shared.emulator)))
    }) {
        Err(failed) => failed,
        Ok(Some(window)) => {
            tokio::time::sleep(super::race::WINDOW).await;
            guarded(|| {
                Ok(super::race::act(window, &request, &mut lock(&shared.emulator), now_epoch_seconds()))
            })
            .unwrap_or_else(|failed| failed)
        }
        Ok(None) => {
            guarded(|| Ok(lock(&shared.emulator).answer(&request, Instant::now(), now_epoch_seconds())))
                .unwrap_or_else(|failed| failed)
        }
    };
    Ok(match observed {
        Observed::Success(body) => wire::success(op, body, style),
        Observed::Error(err) => wire::error(&err, style),
    })
}

/// Runs one step of the emulator; a model bug costs one 500 (the `Err`), not the
/// connection or the server.
fn guarded<T>(f: impl FnOnce() -> Result<T, Observed>) -> Result<T, Observed> {
    std::panic::catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(Observed::Error(api_error(
            ErrorCode::InternalServerError,
            "Internal server error (the emulator's model failed on this request: a rekcon bug)",
        )))
    })
}

/// The sidecar's own endpoints under `/_rekcon/`: `GET /_rekcon/health` and
/// `POST /_rekcon/reset` (every collection, face and user gone, as at start with no
/// state file). They need no signature, like moto's `/moto-api/`.
fn control(shared: &Shared, parts: &Parts) -> Option<Reply> {
    let path = parts.uri.path().strip_prefix("/_rekcon/")?;
    let json = |status: u16, body: serde_json::Value| Reply {
        status,
        content_type: "application/json",
        body: body.to_string().into_bytes(),
        error: None,
        close: false,
    };
    Some(match (&parts.method, path) {
        (&Method::GET, "health") => json(200, serde_json::json!({"Status": "ok"})),
        (&Method::POST, "reset") => {
            *lock(&shared.emulator) = Emulator::new(&shared.config);
            json(200, serde_json::json!({"Status": "reset"}))
        }
        _ => json(
            404,
            serde_json::json!({"Message": "rekcon serve knows GET /_rekcon/health and POST /_rekcon/reset"}),
        ),
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
