//! Errors of the harness itself: a scenario that cannot be loaded, a configuration that
//! cannot be used, an endpoint that gave no answer, a report that cannot be written.
//!
//! None of these is a conformance finding. A service error such as
//! `ResourceNotFoundException` is an outcome the model predicts (see
//! [`crate::expect::Observed`]); only "the harness could not get or judge an answer" lives
//! here.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

/// A scenario file that cannot be used, with the place that is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoadError {
    /// The file, as it was found (`scenarios/users/x.yaml`).
    pub path: PathBuf,
    /// 1-based line, or 0 when the problem concerns the whole file.
    pub line: u64,
    /// 1-based column, or 0 when unknown.
    pub column: u64,
    /// What is wrong, with a suggestion where one exists.
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (0, _) => write!(f, "{}: {}", self.path.display(), self.message),
            (line, 0) => write!(f, "{}:{line}: {}", self.path.display(), self.message),
            (line, column) => write!(f, "{}:{line}:{column}: {}", self.path.display(), self.message),
        }
    }
}

impl std::error::Error for LoadError {}

/// The endpoint gave no usable answer: a transport failure, a timeout, a body that could
/// not be read, or a transient error (throttling, 5xx) still there after retries.
///
/// Never a conformance verdict: the run reports it and exits with
/// [`crate::report::EXIT_NO_ANSWER`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("no answer from the endpoint: {reason}")]
pub struct NoAnswer {
    /// Why, in words; never contains credentials.
    pub reason: String,
}

impl NoAnswer {
    /// A no-answer with this reason.
    pub fn new(reason: impl Into<String>) -> NoAnswer {
        NoAnswer { reason: reason.into() }
    }

    /// The pause before running again what got no answer for `reason`, when that reason
    /// is transient: throttling, a 5xx or a dropped connection still there after the SDK's
    /// retries (`rekcon serve --faults` injects 500s and drops independently per request,
    /// so now and then one call meets three in a row). A refused connection or a timeout
    /// is not: the endpoint is gone or stuck. The throttle window is a second.
    pub fn retry_pause(reason: &str) -> Option<std::time::Duration> {
        if reason.contains("Throttling") {
            Some(std::time::Duration::from_millis(1100))
        } else if reason.contains("after retries")
            || reason.contains("connection closed before message completed")
        {
            Some(std::time::Duration::from_millis(100))
        } else {
            None
        }
    }
}

/// A failure of the harness that stops a run before or after the scenarios.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The options or environment cannot be used as given.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The endpoint is real AWS but `--aws` was not given.
    #[error(
        "{endpoint} is real AWS; runs against real AWS cost money, so pass --aws to confirm \
         (every collection rekcon creates is named rekcon-<run>-… and deleted at the end)"
    )]
    AwsNotConfirmed {
        /// The endpoint, without any credentials it may have carried.
        endpoint: String,
    },
    /// The built-in emulator did not start.
    #[error("cannot start the built-in emulator: {0}")]
    Emulator(String),
    /// The SDK client could not be configured.
    #[error("cannot configure the SDK client: {0}")]
    Client(String),
    /// A report or snapshot file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The scenarios directory could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
}
