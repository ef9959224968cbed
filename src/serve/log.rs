//! One line per request, and where it goes.
//!
//! A [`RequestLog`] holds only what is safe to print: never the Authorization header,
//! credentials or the body (which may hold image bytes).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// What is logged about one request.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestLog {
    /// HTTP method.
    pub method: String,
    /// `X-Amz-Target` header (or `-`).
    pub target: String,
    /// HTTP status answered (0 when the connection was dropped on purpose).
    pub status: u16,
    /// Error `__type` answered, if any.
    pub error: Option<String>,
    /// Time from receipt to answer.
    pub latency: Duration,
    /// The `x-amzn-RequestId` answered.
    pub request_id: String,
}

impl fmt::Display for RequestLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = if self.status == 0 { "dropped".to_string() } else { self.status.to_string() };
        write!(
            f,
            "{} {} {} {} {:.1}ms {}",
            self.method,
            self.target,
            status,
            self.error.as_deref().unwrap_or("-"),
            self.latency.as_secs_f64() * 1000.0,
            self.request_id
        )
    }
}

/// A destination for request log lines (tests capture them; the CLI prints to stderr).
#[derive(Clone)]
pub struct LogSink(Arc<dyn Fn(&RequestLog) + Send + Sync>);

impl LogSink {
    /// Sends every log line to `f`.
    pub fn new(f: impl Fn(&RequestLog) + Send + Sync + 'static) -> LogSink {
        LogSink(Arc::new(f))
    }

    pub(crate) fn emit(&self, line: &RequestLog) {
        (self.0)(line)
    }
}

impl fmt::Debug for LogSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LogSink(..)")
    }
}
