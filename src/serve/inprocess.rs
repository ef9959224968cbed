//! The emulator without HTTP: one call in, the bytes the server would answer out.
//!
//! The same steps as the server after the body is read — operation, decode, model
//! (with its mutant), render — minus SigV4, throttling, injected faults and sockets, so
//! a checker can run calls through the emulator's core in-process (`rekcon fuzz
//! --target model`). It shares [`super::pipeline`] and [`super::wire`] with the server,
//! so its answers are byte for byte the server's.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use super::config::ServeConfig;
use super::mutant::WireStyle;
use super::pipeline::Emulator;
use super::wire;
use crate::api::Request;
use crate::check::RawResponse;
use crate::expect::Observed;

/// The wall clock as CreationTimestamp takes it.
fn epoch_seconds() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis()) as f64 / 1000.0
}

/// The emulator's core, called directly.
#[derive(Debug)]
pub struct InProcess {
    emulator: Emulator,
    style: WireStyle,
    requests: u64,
}

impl InProcess {
    /// An emulator as `config` describes it (seed, settle window, mutants, detector,
    /// region, account); the network, latency, SigV4, throttling and fault settings are
    /// ignored.
    pub fn new(config: &ServeConfig) -> InProcess {
        InProcess {
            emulator: Emulator::new(config),
            style: super::mutant::style(&config.mutants),
            requests: 0,
        }
    }

    /// Answers one decoded request with the outcome the emulator would send, before it
    /// is rendered on the wire (no JSON, no wire style: the model alone).
    pub fn answer(&mut self, request: &Request) -> Observed {
        self.requests += 1;
        self.emulator.answer(request, Instant::now(), epoch_seconds())
    }

    /// Answers one call: `target` is the `X-Amz-Target` header, `body` the request body.
    pub fn call(&mut self, target: &str, body: &[u8]) -> RawResponse {
        self.requests += 1;
        let reply = match wire::operation(Some(target)) {
            Err(err) => wire::error(&err, self.style),
            Ok(op) => match wire::decode(op, body) {
                Err(err) => wire::error(&err, self.style),
                Ok(request) => match self.emulator.answer(&request, Instant::now(), epoch_seconds()) {
                    Observed::Success(body) => wire::success(op, body, self.style),
                    Observed::Error(err) => wire::error(&err, self.style),
                },
            },
        };
        RawResponse {
            status: reply.status,
            content_type: Some(reply.content_type.to_string()),
            request_id: Some(format!("inprocess-{}", self.requests)),
            error_type: None,
            headers: Vec::new(),
            body: reply.body,
        }
    }
}
