//! Serves the `winterbaume-rekognition` crate over HTTP/1.1 on 127.0.0.1, so that rekcon
//! can judge a third-party emulator that implements part of the API.
//!
//! Usage: `rekcon-winterbaume-server [--port N]` (default 0: an ephemeral port). Once it
//! listens it prints one line, `listening on http://127.0.0.1:PORT`, to stdout. It stops
//! on Ctrl-C or SIGTERM, and with `--stop-on-stdin-eof` also when its standard input
//! closes (so a test that dies does not leave it behind).
//!
//! This file is rekcon's own glue: winterbaume answers the requests, this only carries
//! them between the socket and the crate's `MockService::handle`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;
use winterbaume_core::{MockRequest, MockService};
use winterbaume_rekognition::RekognitionService;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let Options { port, stop_on_stdin_eof } = match Options::parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("rekcon-winterbaume-server: {message}");
            eprintln!("usage: rekcon-winterbaume-server [--port N] [--stop-on-stdin-eof]");
            std::process::exit(2);
        }
    };
    let listener = match TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("rekcon-winterbaume-server: cannot listen on 127.0.0.1:{port}: {e}");
            std::process::exit(1);
        }
    };
    let addr = match listener.local_addr() {
        Ok(addr) => addr,
        Err(e) => {
            eprintln!("rekcon-winterbaume-server: no local address: {e}");
            std::process::exit(1);
        }
    };
    println!("listening on http://{addr}");

    let service = Arc::new(RekognitionService::new());
    tokio::select! {
        () = accept_loop(listener, service) => {}
        () = stop_signal(stop_on_stdin_eof) => {}
    }
}

struct Options {
    port: u16,
    stop_on_stdin_eof: bool,
}

impl Options {
    /// `--port N` (or `--port=N`) and `--stop-on-stdin-eof`; nothing else is accepted.
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
        let mut options = Options { port: 0, stop_on_stdin_eof: false };
        while let Some(arg) = args.next() {
            let value = if arg == "--stop-on-stdin-eof" {
                options.stop_on_stdin_eof = true;
                continue;
            } else if arg == "--port" {
                args.next().ok_or("--port needs a value")?
            } else if let Some(v) = arg.strip_prefix("--port=") {
                v.to_string()
            } else {
                return Err(format!("unknown argument `{arg}`"));
            };
            options.port = value.parse().map_err(|_| format!("`{value}` is not a port number"))?;
        }
        Ok(options)
    }
}

async fn accept_loop(listener: TcpListener, service: Arc<RekognitionService>) {
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                eprintln!("rekcon-winterbaume-server: accept failed: {e}");
                continue;
            }
        };
        let service = Arc::clone(&service);
        tokio::spawn(async move {
            let handler = service_fn(move |request| answer(Arc::clone(&service), request));
            if let Err(e) = http1::Builder::new().serve_connection(TokioIo::new(stream), handler).await {
                eprintln!("rekcon-winterbaume-server: connection ended: {e}");
            }
        });
    }
}

/// Hands one HTTP request to winterbaume and its answer back, unchanged.
async fn answer(
    service: Arc<RekognitionService>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = request.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => return Ok(plain(400, format!("cannot read the request body: {e}"))),
    };
    // winterbaume reads the region from the URI's host, so give it an absolute URI.
    let host = parts.headers.get(hyper::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
    let uri = format!("http://{host}{}", parts.uri.path_and_query().map_or("/", |pq| pq.as_str()));
    let mock = MockRequest { method: parts.method.to_string(), uri, headers: parts.headers, body };
    let reply = service.handle(mock).await;
    let mut response = Response::new(Full::new(reply.body));
    *response.headers_mut() = reply.headers;
    match hyper::StatusCode::from_u16(reply.status) {
        Ok(status) => *response.status_mut() = status,
        Err(_) => return Ok(plain(500, format!("winterbaume answered status {}", reply.status))),
    }
    Ok(response)
}

fn plain(status: u16, text: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(text)));
    *response.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    response
}

/// Ctrl-C, SIGTERM, or (when asked for) the end of standard input.
async fn stop_signal(stop_on_stdin_eof: bool) {
    let stdin_closed = async move {
        if !stop_on_stdin_eof {
            return std::future::pending().await;
        }
        let mut stdin = tokio::io::stdin();
        let mut buf = [0u8; 64];
        while let Ok(n) = stdin.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
    };
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => term,
        Err(_) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                () = stdin_closed => {}
            }
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
        () = stdin_closed => {}
    }
}
