//! Cassettes: what `rekcon run --record DIR` writes, one per scenario, and what
//! `rekcon run --against DIR` reads back (format: docs/cassettes.md).
//!
//! A cassette holds the raw exchanges of one scenario run — the request's `X-Amz-Target`
//! and body, the response's status, headers and body, and the timing — and where they
//! came from. Nothing is normalised here: ids, timestamps and messages are kept as the
//! endpoint sent them, and normalised only when compared ([`crate::verify`]). Nothing
//! secret is kept: requests are recorded as rekcon built them (before signing, so no
//! `Authorization`, `X-Amz-Security-Token` or date header exists yet), and response
//! headers pass [`safe_headers`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub mod unknowns;

use crate::check::RawResponse;
use crate::report::{ScenarioReport, StepRecord};

/// The `format` member of every cassette.
pub const FORMAT: &str = "rekcon-cassette";
/// The cassette layout version; bumped whenever a member changes meaning or is removed.
pub const VERSION: u32 = 1;
/// The file name suffix of a cassette.
pub const SUFFIX: &str = ".cassette.json";

/// Response headers never recorded, whatever the endpoint sends (lower-case).
const SECRET_HEADERS: [&str; 6] = [
    "authorization",
    "x-amz-security-token",
    "set-cookie",
    "cookie",
    "proxy-authorization",
    "x-amz-credential",
];

/// Why cassettes could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// A file or folder could not be written or read.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file is not a cassette this rekcon can read.
    #[error("{path}: not a rekcon cassette of version {VERSION}: {reason}")]
    Format {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// The headers of a response that may be recorded: names lower-case, anything that could
/// carry a credential or a session left out.
pub fn safe_headers<'a>(headers: impl Iterator<Item = (&'a str, &'a str)>) -> Vec<(String, String)> {
    headers
        .map(|(name, value)| (name.to_ascii_lowercase(), value.to_string()))
        .filter(|(name, _)| !SECRET_HEADERS.contains(&name.as_str()) && !name.contains("token"))
        .collect()
}

/// Where and how a recording was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Provenance {
    /// `aws`, `endpoint-url` or `built-in`.
    pub endpoint_kind: String,
    /// The endpoint for humans, without credentials.
    pub endpoint: String,
    /// The signing region.
    pub region: String,
    /// When the run started, seconds since the Unix epoch (UTC).
    pub recorded_at_unix: u64,
    /// rekcon's version.
    pub rekcon_version: String,
    /// aws-sdk-rekognition's version.
    pub sdk_version: String,
    /// SHA-256 of the recorded scenario files, in name order (name, NUL, text, NUL each).
    pub suite_sha256: String,
    /// SHA-256 of `images/catalogue.yaml`, or `none` when the run used fixture markers.
    pub catalogue_sha256: String,
    /// The run id in the recorded collection names.
    pub run_id: String,
}

/// One recorded response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedResponse {
    /// HTTP status.
    pub status: u16,
    /// Every header but [`SECRET_HEADERS`], names lower-case, in the order received.
    pub headers: Vec<(String, String)>,
    /// The body as UTF-8 text, when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// The body as base64, when it is not UTF-8.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_base64: Option<String>,
}

/// One call and its answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    /// The 1-based scenario step.
    pub step: usize,
    /// A ListUsers poll sent before the step so that users settled.
    #[serde(default)]
    pub settle_poll: bool,
    /// The `X-Amz-Target` header.
    pub target: String,
    /// Whether the body was sent byte for byte (a raw step) rather than built by the SDK.
    pub raw: bool,
    /// The request body: JSON, or the raw text of a raw step.
    pub request: Value,
    /// The response of the last attempt; absent when none came.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<RecordedResponse>,
    /// Why no answer came, when none did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_answer: Option<String>,
    /// Time the call took (settling included), milliseconds.
    pub duration_ms: f64,
    /// Times the call was asked again because a not-found came right after the write
    /// that created the thing (read-after-write lag, contract §9.20); 0 when it was not.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub lag_retries: usize,
    /// What the model found wrong with this answer when it was recorded (`layer: path:
    /// expected …, got …`); empty when the recording agreed with the model.
    #[serde(default)]
    pub model_findings: Vec<String>,
    /// `unknown:*` points this answer bears on.
    #[serde(default)]
    pub unknowns: BTreeSet<String>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// One scenario's recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cassette {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`VERSION`].
    pub version: u32,
    /// The scenario's name (`associate/associate_face_of_other_user`).
    pub scenario: String,
    /// SHA-256 of the scenario file's text.
    pub scenario_sha256: String,
    /// The run-scoped CollectionId of each declared collection.
    pub collections: BTreeMap<String, String>,
    /// The recorded run's verdict (`pass`, `diverged`, ...).
    pub verdict: String,
    /// Where and how.
    pub provenance: Provenance,
    /// Every call, in order (ListUsers polls that conformed are counted by the runner,
    /// not kept, so they are not here).
    pub exchanges: Vec<Exchange>,
}

/// SHA-256 in lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The suite hash of [`Provenance::suite_sha256`] over `(name, text)` pairs.
pub fn suite_sha256(files: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = files.iter().collect();
    sorted.sort();
    let mut hasher = Sha256::new();
    for (name, text) in sorted {
        hasher.update(name.as_bytes());
        hasher.update([0]);
        hasher.update(text.as_bytes());
        hasher.update([0]);
    }
    hex::encode(hasher.finalize())
}

fn recorded_response(raw: &RawResponse) -> RecordedResponse {
    let (body, body_base64) = match std::str::from_utf8(&raw.body) {
        Ok(text) => (Some(text.to_string()), None),
        Err(_) => {
            use base64::Engine as _;
            (None, Some(base64::engine::general_purpose::STANDARD.encode(&raw.body)))
        }
    };
    RecordedResponse { status: raw.status, headers: raw.headers.clone(), body, body_base64 }
}

impl Exchange {
    fn of(record: &StepRecord) -> Exchange {
        Exchange {
            step: record.step,
            settle_poll: record.settle_poll,
            target: record.target.clone(),
            raw: record.raw,
            request: record.request.clone(),
            response: record.response.as_ref().map(recorded_response),
            no_answer: record.no_answer.as_ref().map(|n| n.reason.clone()),
            duration_ms: (record.duration.as_secs_f64() * 1000.0 * 10.0).round() / 10.0,
            lag_retries: record.lag_retries,
            model_findings: record
                .findings
                .iter()
                .filter(|f| f.is_divergence())
                .map(|f| {
                    format!(
                        "{:?}: {}: expected {}, got {}",
                        f.layer, f.mismatch.path, f.mismatch.expected, f.mismatch.actual
                    )
                })
                .collect(),
            unknowns: record.unknowns.iter().map(|u| u.tag().to_string()).collect(),
        }
    }

    /// The response as the checks read it (only the recorded headers they use).
    pub fn raw_response(&self) -> Option<RawResponse> {
        let response = self.response.as_ref()?;
        let header = |name: &str| response.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
        let body = match (&response.body, &response.body_base64) {
            (Some(text), _) => text.as_bytes().to_vec(),
            (None, Some(b64)) => {
                use base64::Engine as _;
                base64::engine::general_purpose::STANDARD.decode(b64).unwrap_or_default()
            }
            (None, None) => Vec::new(),
        };
        Some(RawResponse {
            status: response.status,
            content_type: header("content-type"),
            request_id: header("x-amzn-requestid"),
            error_type: header("x-amzn-errortype"),
            headers: response.headers.clone(),
            body,
        })
    }
}

impl Cassette {
    /// The cassette of one scenario's report.
    pub fn of(report: &ScenarioReport, scenario_text: &str, provenance: &Provenance) -> Cassette {
        Cassette {
            format: FORMAT.into(),
            version: VERSION,
            scenario: report.name.clone(),
            scenario_sha256: sha256_hex(scenario_text.as_bytes()),
            collections: report.collections.clone(),
            verdict: report.verdict.label().to_string(),
            provenance: provenance.clone(),
            exchanges: report.records.iter().map(Exchange::of).collect(),
        }
    }

    /// Every `unknown:*` tag an exchange bears on, with the steps.
    pub fn unknowns(&self) -> BTreeMap<String, Vec<usize>> {
        let mut out: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for e in &self.exchanges {
            for tag in &e.unknowns {
                out.entry(tag.clone()).or_default().push(e.step);
            }
        }
        out
    }

    /// The file this cassette is written to below `dir`, with `n` telling apart several
    /// recordings of one scenario (`0`: none).
    pub fn path_in(&self, dir: &Path, n: usize) -> PathBuf {
        let suffix = if n == 0 { SUFFIX.to_string() } else { format!(".{n}{SUFFIX}") };
        dir.join(format!("{}{suffix}", self.scenario))
    }

    /// Writes the cassette below `dir` (`dir/<scenario>.cassette.json`); a cassette
    /// already there for the scenario is kept, and this one numbered after it.
    pub fn write(&self, dir: &Path) -> Result<PathBuf, RecordError> {
        let mut n = 0;
        let mut path = self.path_in(dir, n);
        while path.exists() {
            n += 1;
            path = self.path_in(dir, n);
        }
        let io = |path: &Path, source| RecordError::Io { path: path.to_path_buf(), source };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
        }
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| RecordError::Format { path: path.clone(), reason: e.to_string() })?;
        std::fs::write(&path, text + "\n").map_err(|e| io(&path, e))?;
        Ok(path)
    }

    /// Reads one cassette.
    pub fn read(path: &Path) -> Result<Cassette, RecordError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| RecordError::Io { path: path.to_path_buf(), source })?;
        let cassette: Cassette = serde_json::from_str(&text)
            .map_err(|e| RecordError::Format { path: path.to_path_buf(), reason: e.to_string() })?;
        if cassette.format != FORMAT || cassette.version != VERSION {
            return Err(RecordError::Format {
                path: path.to_path_buf(),
                reason: format!("format {} version {}", cassette.format, cassette.version),
            });
        }
        Ok(cassette)
    }
}

/// Every cassette below `dir`, by scenario name (several recordings of one scenario in
/// file-name order).
pub fn load_dir(dir: &Path) -> Result<BTreeMap<String, Vec<Cassette>>, RecordError> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        let entries =
            std::fs::read_dir(&folder).map_err(|source| RecordError::Io { path: folder.clone(), source })?;
        for entry in entries.flatten() {
            let path = entry.path();
            // Symbolic links are not followed: a loop must not hang the search.
            let Ok(kind) = entry.file_type() else { continue };
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() && path.to_string_lossy().ends_with(SUFFIX) {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut out: BTreeMap<String, Vec<Cassette>> = BTreeMap::new();
    for path in files {
        let cassette = Cassette::read(&path)?;
        out.entry(cassette.scenario.clone()).or_default().push(cassette);
    }
    Ok(out)
}

impl Provenance {
    /// The provenance of a run of `scenarios` (their files are read for the suite hash).
    pub fn of_run(
        endpoint_kind: &str,
        endpoint: &str,
        region: &str,
        run_id: &str,
        scenarios: &[std::sync::Arc<crate::scenario::Scenario>],
        scenarios_root: &Path,
    ) -> Provenance {
        let files: Vec<(String, String)> = scenarios
            .iter()
            .map(|s| (s.name.clone(), std::fs::read_to_string(&s.path).unwrap_or_default()))
            .collect();
        let catalogue =
            scenarios_root.join(crate::scenario::IMAGES_DIR).join(crate::scenario::CATALOGUE_FILE);
        Provenance {
            endpoint_kind: endpoint_kind.into(),
            endpoint: endpoint.into(),
            region: region.into(),
            recorded_at_unix: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            rekcon_version: env!("CARGO_PKG_VERSION").into(),
            sdk_version: aws_sdk_rekognition::meta::PKG_VERSION.into(),
            suite_sha256: suite_sha256(&files),
            catalogue_sha256: std::fs::read(&catalogue).map_or_else(|_| "none".into(), |b| sha256_hex(&b)),
            run_id: run_id.into(),
        }
    }
}

/// Writes a cassette for every scenario of `reports` that ran (bad files have none);
/// returns the files written.
pub fn write_run(
    dir: &Path,
    reports: &[ScenarioReport],
    provenance: &Provenance,
) -> Result<Vec<PathBuf>, RecordError> {
    let mut written = Vec::new();
    for report in reports.iter().filter(|r| !r.records.is_empty()) {
        let text = std::fs::read_to_string(&report.path).unwrap_or_default();
        written.push(Cassette::of(report, &text, provenance).write(dir)?);
    }
    Ok(written)
}
