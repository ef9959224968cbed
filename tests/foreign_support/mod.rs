//! Foreign endpoints for tests: the built-in emulator's core behind a small hyper server
//! of this file's own, dressed as the third-party emulators rekcon meets — one that
//! implements only collections (winterbaume's shape: faces and users answer 501
//! `NotImplementedError`, JSON 1.0, no request id, `arn:` ARNs), one that implements
//! nothing and answers HTML 500 pages (moto's shape), and one whose only faults are
//! cosmetic. Every fault here is made on purpose, so a test can check that the report
//! names it once and blames nothing else.

#![allow(dead_code)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use rekcon::api::Operation;
use rekcon::check::RawResponse;
use rekcon::serve::{InProcess, ServeConfig};
use serde_json::Value;

/// How the endpoint departs from AWS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persona {
    /// Collections only (CreateCollection, DeleteCollection, DescribeCollection,
    /// ListCollections); every other operation answers 501 `NotImplementedError`. Every
    /// answer says `application/x-amz-json-1.0`, carries no request id, and
    /// CreateCollection's CollectionArn starts with `arn:`.
    CollectionsOnly,
    /// Nothing implemented: HTTP 500 with an HTML page for every call.
    HtmlErrors,
    /// Everything implemented, with cosmetic faults only: `application/x-amz-json-1.0`
    /// and a lower-case `message` on errors.
    Cosmetic,
    /// The built-in emulator exactly, but the first N requests answer HTTP 500
    /// InternalServerError (a transient fault the SDK retries).
    FailFirst(usize),
}

const COLLECTION_OPS: [Operation; 4] = [
    Operation::CreateCollection,
    Operation::DeleteCollection,
    Operation::DescribeCollection,
    Operation::ListCollections,
];

/// A running foreign endpoint; stops when dropped.
pub struct Foreign {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Foreign {
    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Foreign {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts `persona` on an ephemeral loopback port.
pub async fn start(persona: Persona) -> Foreign {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a loopback port");
    let addr = listener.local_addr().expect("the port bound");
    let core = Arc::new(Mutex::new(InProcess::new(&ServeConfig::default())));
    let served = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let core = Arc::clone(&core);
            let served = Arc::clone(&served);
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| {
                    let core = Arc::clone(&core);
                    let n = served.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    async move { Ok::<_, Infallible>(answer(persona, &core, request, n).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Foreign { addr, task }
}

async fn answer(
    persona: Persona,
    core: &Mutex<InProcess>,
    request: hyper::Request<hyper::body::Incoming>,
    served_before: usize,
) -> hyper::Response<Full<Bytes>> {
    let target =
        request.headers().get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let body = request.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let operation = target.strip_prefix("RekognitionService.").and_then(Operation::from_name);
    match persona {
        Persona::FailFirst(n) if served_before < n => {
            let body = br#"{"__type":"InternalServerError","Message":"Internal server error"}"#.to_vec();
            return respond(500, Some("application/x-amz-json-1.1"), Some("fail-first"), body);
        }
        Persona::FailFirst(_) => {
            let raw: RawResponse = core.lock().expect("the core is not poisoned").call(&target, &body);
            return respond(raw.status, raw.content_type.as_deref(), raw.request_id.as_deref(), raw.body);
        }
        Persona::HtmlErrors => {
            return respond(500, Some("text/html; charset=utf-8"), None, b"<!doctype html><html><title>500 Internal Server Error</title><h1>Internal Server Error</h1></html>".to_vec());
        }
        Persona::CollectionsOnly if operation.is_some_and(|op| !COLLECTION_OPS.contains(&op)) => {
            let body = format!(
                r#"{{"__type":"NotImplementedError","message":"{} is not yet implemented"}}"#,
                operation.map_or("the operation", Operation::name)
            );
            return respond(501, Some("application/x-amz-json-1.0"), None, body.into_bytes());
        }
        _ => {}
    }
    let raw: RawResponse = core.lock().expect("the core is not poisoned").call(&target, &body);
    let mut body = raw.body;
    let content_type = Some("application/x-amz-json-1.0");
    let request_id = match persona {
        Persona::CollectionsOnly => None,
        _ => raw.request_id,
    };
    if let Ok(mut json) = serde_json::from_slice::<Value>(&body)
        && let Some(map) = json.as_object_mut()
    {
        if persona == Persona::CollectionsOnly
            && let Some(Value::String(arn)) = map.get_mut("CollectionArn")
        {
            *arn = format!("arn:{arn}");
        }
        if let Some(message) = map.remove("Message") {
            map.insert("message".into(), message);
        }
        body = serde_json::to_vec(&json).unwrap_or(body);
    }
    respond(raw.status, content_type, request_id.as_deref(), body)
}

fn respond(
    status: u16,
    content_type: Option<&str>,
    request_id: Option<&str>,
    body: Vec<u8>,
) -> hyper::Response<Full<Bytes>> {
    let mut response = hyper::Response::builder().status(status);
    if let Some(ct) = content_type {
        response = response.header("content-type", ct);
    }
    if let Some(id) = request_id {
        response = response.header("x-amzn-requestid", id);
    }
    response.body(Full::new(Bytes::from(body))).expect("a valid response")
}
