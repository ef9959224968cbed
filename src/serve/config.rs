//! What a server is started with, and what can stop it from starting.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

use super::log::LogSink;
use super::mutant::Mutant;
use crate::model::FaceSource;

/// How to run the emulator. Every random decision derives from `seed`.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Address to listen on; loopback unless deliberately widened.
    pub bind: IpAddr,
    /// Port to listen on; 0 picks a free one.
    pub port: u16,
    /// Seed for generated ids, page tokens and injected faults.
    pub seed: u64,
    /// How long a user reads as `UPDATING` after a change to its faces.
    pub settle: Duration,
    /// Answer `ThrottlingException` beyond this many requests per rolling second.
    pub throttle_tps: Option<u32>,
    /// Added before every answer, to simulate a distant endpoint (`--latency-ms`).
    pub latency: Duration,
    /// Probability per request of an injected fault (500, dropped connection or delay).
    pub faults: f64,
    /// The planted bugs to answer with (none, one, or several stacked, applied in order).
    pub mutants: Vec<Mutant>,
    /// Where the faces of an image come from.
    pub detector: Detector,
    /// Require SigV4 signed with this access key and secret.
    pub require_sigv4: Option<(String, String)>,
    /// Emit one log line per request.
    pub log_requests: bool,
    /// Where log lines go; stderr when `None`.
    pub log_sink: Option<LogSink>,
    /// Region in ARNs (and the expected SigV4 scope region is read from each request).
    pub region: String,
    /// Account in ARNs.
    pub account: String,
    /// Most connections open at once; at the cap the idlest connection is closed to
    /// make room for a new one (keep it below the process's file descriptor limit).
    pub max_connections: usize,
    /// Load the state from this file at start (when it exists) and save it there on
    /// [`super::Server::save_state`] (`rekcon serve --state` does on exit).
    pub state: Option<PathBuf>,
}

/// The default of [`ServeConfig::max_connections`]: well below the usual soft limit of
/// 1,024 file descriptors.
pub const DEFAULT_MAX_CONNECTIONS: usize = 256;

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            seed: 0,
            settle: Duration::ZERO,
            throttle_tps: None,
            latency: Duration::ZERO,
            faults: 0.0,
            mutants: Vec::new(),
            detector: Detector::Marker,
            require_sigv4: None,
            log_requests: false,
            log_sink: None,
            region: "us-east-1".into(),
            account: "123456789012".into(),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            state: None,
        }
    }
}

/// How the emulator finds the faces in an image (`rekcon serve --detector`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Detector {
    /// The fixtures' marker (or one face per image digest): who each face shows is
    /// declared, so similarities follow the people.
    #[default]
    Marker,
    /// No detection, like emulators without a face detector: one fixed face for any
    /// image, and the similarity of two faces derived from a hash of their ids.
    Canned,
}

impl Detector {
    /// The face source of the emulator's own model.
    pub fn faces(self) -> FaceSource {
        match self {
            Detector::Marker => FaceSource::Catalogue,
            Detector::Canned => FaceSource::Canned,
        }
    }

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Detector::Marker => "marker",
            Detector::Canned => "canned",
        }
    }
}

/// Why a server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The address could not be bound (in use, no permission).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: std::net::SocketAddr,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// A setting is out of range.
    #[error("invalid setting: {0}")]
    Config(String),
    /// The `--state` file could not be read, is torn or not a state file, or could not
    /// be written.
    #[error("state file {}: {reason}", path.display())]
    State {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The runtime, the terminal or the signal handler failed.
    #[error("i/o error: {0}")]
    Io(String),
}
