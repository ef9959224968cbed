//! `rekcon run --against DIR`: each step of a recorded scenario compared three ways —
//! the endpoint's answer, the recording's (AWS's) answer, and the model — and classified.
//!
//! Both answers are normalised the same way before they are compared (the transcript's
//! placeholders: an id is compared by its place in a consistent mapping, the same recorded
//! id always pairing with the same endpoint id), then field by field by [`FIELDS`], the one
//! table of comparison semantics. The model's side is its judgement of each answer: of the
//! endpoint's now, of the recording's when it was recorded (kept in the cassette).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::check::Layer;
use crate::record::Cassette;
use crate::report::{ScenarioReport, StepRecord};
use crate::scenario::{Comparison, FieldOverride, Fixture};
use crate::transcript::{Entry, Transcript};

/// How one field is compared.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rule {
    /// Equal after normalisation (ids are placeholders by then: a consistent mapping).
    Exact,
    /// Numbers within this absolute tolerance.
    Within(f64),
    /// An array compared as a multiset (order is not part of the contract).
    Set,
    /// Not compared (messages: not part of the contract, §8).
    Ignored,
    /// Compared by JSON type only (timestamps: the value is the endpoint's clock).
    SameType,
}

/// The comparison semantics per member name; any member not listed is [`Rule::Exact`].
/// Ids (FaceId, ImageId, SearchedFaceId, NextToken, collection names, ARNs' region and
/// account) are placeholders numbered in order of first sight before this table applies.
pub const FIELDS: &[(&str, Rule)] = &[
    ("Similarity", Rule::Within(1.0)),
    ("Confidence", Rule::Within(1.0)),
    ("SearchedFaceConfidence", Rule::Within(1.0)),
    ("UserMatchThreshold", Rule::Exact),
    ("Width", Rule::Within(0.05)),
    ("Height", Rule::Within(0.05)),
    ("Left", Rule::Within(0.05)),
    ("Top", Rule::Within(0.05)),
    ("X", Rule::Within(0.05)),
    ("Y", Rule::Within(0.05)),
    ("Brightness", Rule::Within(5.0)),
    ("Sharpness", Rule::Within(5.0)),
    ("Message", Rule::Ignored),
    ("message", Rule::Ignored),
    ("CreationTimestamp", Rule::SameType),
    ("Users", Rule::Set),
    ("Faces", Rule::Set),
    ("FaceRecords", Rule::Set),
    ("UnindexedFaces", Rule::Set),
    ("DeletedFaces", Rule::Set),
    ("UnsuccessfulFaceDeletions", Rule::Set),
    ("AssociatedFaces", Rule::Set),
    ("UnsuccessfulFaceAssociations", Rule::Set),
    ("DisassociatedFaces", Rule::Set),
    ("UnsuccessfulFaceDisassociations", Rule::Set),
    ("UnsearchedFaces", Rule::Set),
    ("CollectionIds", Rule::Set),
    ("Reasons", Rule::Set),
];

/// The rule for member `name`.
pub fn rule(name: Option<&str>) -> Rule {
    name.and_then(|n| FIELDS.iter().find(|(k, _)| *k == n)).map_or(Rule::Exact, |(_, r)| *r)
}

/// How one step compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    /// The endpoint answered otherwise than AWS did, and the model does not allow its
    /// answer: the endpoint's bug.
    EndpointDivergesFromAws,
    /// AWS answered what the model does not allow: rekcon's own bug, never counted
    /// against the endpoint.
    ModelDisagreesWithAws,
    /// Two recordings of the scenario differ here: AWS itself varies.
    RecordingsDisagree,
    /// The recording has no answer to compare with here ([`StepVerdict::note`] says why:
    /// not recorded, AWS refused rekcon's own set-up, or AWS still lagged, §9.20): the
    /// step is judged by the model alone, as without a recording.
    NotJudged,
    /// The endpoint, the recording and the model agree (or differ only where the model
    /// allows both).
    Agrees,
}

impl Class {
    /// The words reports use.
    pub fn label(self) -> &'static str {
        match self {
            Class::EndpointDivergesFromAws => "endpoint diverges from AWS",
            Class::ModelDisagreesWithAws => "model disagrees with AWS",
            Class::RecordingsDisagree => "recordings disagree",
            Class::NotJudged => "not judged against AWS",
            Class::Agrees => "agrees",
        }
    }
}

/// One classified step.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct StepVerdict {
    /// The scenario.
    pub scenario: String,
    /// The 1-based step.
    pub step: usize,
    /// Its operation.
    pub call: String,
    /// How it compares.
    pub class: Class,
    /// What differs between the endpoint and the recording (`path: recorded …, endpoint …`).
    pub differences: Vec<String>,
    /// The model's findings on the recording (for a model disagreement) or on the
    /// endpoint (for an endpoint divergence).
    pub findings: Vec<String>,
    /// The contract section the model rests on for this call.
    pub section: &'static str,
    /// Whether the endpoint answered as AWS did (after normalisation and the field table).
    pub endpoint_agrees_with_aws: bool,
    /// Why the recording could not be compared with ([`Class::NotJudged`]), or what it
    /// shows beside the answer (AWS lagged before it found the thing, §9.20).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// An `unknown:*` point a recording answers.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
pub struct Settled {
    /// The tag.
    pub tag: String,
    /// The scenario recorded.
    pub scenario: String,
    /// The steps whose recorded answers bear on it.
    pub steps: Vec<usize>,
}

/// Everything a verification found.
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct Verification {
    /// The folder of recordings (`--against DIR`).
    pub dir: String,
    /// Where the first recording was made.
    pub recorded_from: Option<crate::record::Provenance>,
    /// Every step compared, in scenario and step order.
    pub steps: Vec<StepVerdict>,
    /// Unknown points the recordings answer.
    pub settled: Vec<Settled>,
    /// Scenarios recorded but not run (not in the scenarios folder any more).
    pub missing: Vec<String>,
    /// The scenarios' own comparison rules that applied instead of the table's.
    pub overrides: Vec<OverrideUsed>,
}

/// What verifying needs of a scenario: its fixture images and its field overrides.
pub type ScenarioParts = (Vec<Fixture>, Vec<FieldOverride>);

/// A scenario's field override, as reports show it.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct OverrideUsed {
    /// The scenario.
    pub scenario: String,
    /// The field path (`FaceMatches[].Similarity`).
    pub path: String,
    /// How it was compared (`within 5`, `ignored`, `as a set`, `exactly`).
    pub compared: String,
    /// The scenario's written reason.
    pub reason: String,
}

/// The contract section (of docs' contract reference) the model rests on for a call.
pub fn contract_section(call: &str, layer: Option<Layer>) -> &'static str {
    if layer == Some(Layer::Wire) {
        return "§1";
    }
    match call {
        "CreateCollection" | "DeleteCollection" | "DescribeCollection" | "ListCollections" => "§6.1",
        "IndexFaces" | "ListFaces" | "DeleteFaces" | "SearchFaces" | "SearchFacesByImage" => "§6.2",
        "CreateUser" | "DeleteUser" | "ListUsers" => "§6.4",
        "AssociateFaces" | "DisassociateFaces" => "§6.5",
        "SearchUsers" | "SearchUsersByImage" => "§6.7",
        _ => "§1",
    }
}

/// The recording as a scenario report, so that it is normalised exactly as the endpoint's.
pub fn recorded_report(cassette: &Cassette) -> ScenarioReport {
    let records = cassette
        .exchanges
        .iter()
        .map(|e| {
            let response = e.raw_response();
            let operation =
                e.target.strip_prefix("RekognitionService.").and_then(crate::api::Operation::from_name);
            let observed = response
                .as_ref()
                .and_then(|raw| crate::check::wire(raw, operation).ok())
                .and_then(|w| w.observed);
            StepRecord {
                step: e.step,
                settle_poll: e.settle_poll,
                target: e.target.clone(),
                raw: e.raw,
                request: e.request.clone(),
                response,
                observed,
                ..StepRecord::default()
            }
        })
        .collect();
    let mut report = ScenarioReport::without_result(
        &cassette.scenario,
        std::path::Path::new(&cassette.scenario),
        crate::report::Verdict::Pass,
        &crate::report::Repro::Cli { flags: String::new() },
    );
    report.records = records;
    report.collections = cassette.collections.clone();
    report
}

fn entry_value(entry: &Entry) -> Value {
    let mut map = Map::new();
    map.insert("(status)".into(), entry.status.map_or(Value::Null, Value::from));
    map.insert("(error)".into(), entry.error.clone().map_or(Value::Null, Value::String));
    map.insert("(body)".into(), entry.response.clone().unwrap_or(Value::Null));
    Value::Object(map)
}

/// The differences between a recorded and an endpoint value, by [`FIELDS`].
pub fn compare(key: Option<&str>, recorded: &Value, endpoint: &Value, path: &str, out: &mut Vec<String>) {
    compare_with(&[], key, recorded, endpoint, path, out);
}

/// A path with its list positions dropped (`FaceMatches[0].Similarity` →
/// `FaceMatches[].Similarity`), as scenario overrides name it.
pub fn general_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_brackets = false;
    for c in path.chars() {
        match c {
            '[' => in_brackets = true,
            ']' => in_brackets = false,
            _ if in_brackets && c.is_ascii_digit() => continue,
            _ => {}
        }
        out.push(c);
    }
    out
}

/// The rule for the field at `path` (member `key`): a scenario's override for the path
/// when it has one, else the table's.
fn rule_at(overrides: &[FieldOverride], key: Option<&str>, path: &str) -> Rule {
    let general = general_path(path);
    match overrides.iter().find(|o| o.path == general) {
        Some(o) => match o.how {
            Comparison::Tolerance(t) => Rule::Within(t),
            Comparison::Ignore => Rule::Ignored,
            Comparison::Unordered => Rule::Set,
            Comparison::Exact => Rule::Exact,
        },
        None => rule(key),
    }
}

/// [`compare`] with a scenario's field overrides.
pub fn compare_with(
    overrides: &[FieldOverride],
    key: Option<&str>,
    recorded: &Value,
    endpoint: &Value,
    path: &str,
    out: &mut Vec<String>,
) {
    let here = |out: &mut Vec<String>| {
        out.push(format!(
            "{}: recorded {}, endpoint {}",
            if path.is_empty() { "(body)" } else { path },
            crate::expect::render(recorded),
            crate::expect::render(endpoint)
        ))
    };
    match rule_at(overrides, key, path) {
        Rule::Ignored => return,
        Rule::SameType => {
            if std::mem::discriminant(recorded) != std::mem::discriminant(endpoint) {
                here(out);
            }
            return;
        }
        Rule::Within(tolerance) => {
            if let (Some(a), Some(b)) = (recorded.as_f64(), endpoint.as_f64()) {
                if (a - b).abs() > tolerance {
                    here(out);
                }
                return;
            }
        }
        Rule::Set => {
            if let (Some(a), Some(b)) = (recorded.as_array(), endpoint.as_array()) {
                let mut a: Vec<String> = a.iter().map(Value::to_string).collect();
                let mut b: Vec<String> = b.iter().map(Value::to_string).collect();
                a.sort();
                b.sort();
                if a != b {
                    // Item by item after sorting, so tolerances still apply inside items.
                    let mut sorted_a: Vec<&Value> =
                        recorded.as_array().map(|v| v.iter().collect()).unwrap_or_default();
                    let mut sorted_b: Vec<&Value> =
                        endpoint.as_array().map(|v| v.iter().collect()).unwrap_or_default();
                    sorted_a.sort_by_cached_key(|v| v.to_string());
                    sorted_b.sort_by_cached_key(|v| v.to_string());
                    if sorted_a.len() != sorted_b.len() {
                        here(out);
                        return;
                    }
                    for (i, (x, y)) in sorted_a.iter().zip(&sorted_b).enumerate() {
                        compare_with(overrides, None, x, y, &format!("{path}[{i}]"), out);
                    }
                }
                return;
            }
        }
        Rule::Exact => {}
    }
    match (recorded, endpoint) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for k in keys {
                let sub = if path.is_empty() || path == "(body)" { k.clone() } else { format!("{path}.{k}") };
                match (a.get(k), b.get(k)) {
                    (Some(x), Some(y)) => compare_with(overrides, Some(k), x, y, &sub, out),
                    (x, y) if rule_at(overrides, Some(k), &sub) == Rule::Ignored => {
                        let _ = (x, y);
                    }
                    (x, y) => out.push(format!(
                        "{sub}: recorded {}, endpoint {}",
                        x.map_or("absent".into(), crate::expect::render),
                        y.map_or("absent".into(), crate::expect::render)
                    )),
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                compare_with(overrides, key, x, y, &format!("{path}[{i}]"), out);
            }
        }
        (a, b) if a == b => {}
        _ => here(out),
    }
}

/// The differences between two transcripts' step `step` (an empty list when they agree).
fn differences(
    overrides: &[FieldOverride],
    recorded: Option<&Entry>,
    endpoint: Option<&Entry>,
) -> Vec<String> {
    match (recorded, endpoint) {
        (Some(r), Some(e)) => {
            let mut out = Vec::new();
            compare_with(overrides, None, &entry_value(r), &entry_value(e), "", &mut out);
            out
        }
        (Some(_), None) => vec!["the endpoint's run did not reach this step".into()],
        (None, Some(_)) => vec!["the recording does not have this step".into()],
        (None, None) => Vec::new(),
    }
}

/// What a finding line (`Layer: path: expected …, got …`) is about: its layer and path.
fn finding_key(line: &str) -> &str {
    let mut parts = line.match_indices(": ");
    match parts.nth(1) {
        Some((end, _)) => &line[..end],
        None => line,
    }
}

fn findings_at(records: &[StepRecord], step: usize) -> (Vec<String>, Option<Layer>) {
    let mut out = Vec::new();
    let mut layer = None;
    for r in records.iter().filter(|r| r.step == step && !r.settle_poll) {
        for f in r.findings.iter().filter(|f| f.is_divergence()) {
            layer.get_or_insert(f.layer);
            out.push(format!(
                "{:?}: {}: expected {}, got {}",
                f.layer, f.mismatch.path, f.mismatch.expected, f.mismatch.actual
            ));
        }
    }
    (out, layer)
}

/// Classifies every step of `endpoint` (a run of the recorded scenario) against its
/// `cassettes` (one or more recordings). `fixtures` name the image bytes; `overrides`
/// are the scenario's own comparison rules, before the table's.
pub fn verify_scenario(
    endpoint: &ScenarioReport,
    cassettes: &[Cassette],
    fixtures: &[Fixture],
    overrides: &[FieldOverride],
) -> Vec<StepVerdict> {
    let Some(first) = cassettes.first() else { return Vec::new() };
    let by_step =
        |t: Transcript| -> BTreeMap<usize, Entry> { t.steps.into_iter().map(|e| (e.step, e)).collect() };
    let recorded = by_step(Transcript::new(&recorded_report(first), fixtures));
    let others: Vec<BTreeMap<usize, Entry>> =
        cassettes[1..].iter().map(|c| by_step(Transcript::new(&recorded_report(c), fixtures))).collect();
    let ours = by_step(Transcript::new(endpoint, fixtures));
    let steps: BTreeSet<usize> = recorded.keys().chain(ours.keys()).copied().collect();
    let answered = |step: usize| first.exchanges.iter().rev().find(|e| e.step == step && !e.settle_poll);
    // AWS refused rekcon's own signature, credentials or clock: nothing from there on is
    // an answer about the contract (§1.1, §8's front-end row).
    let refused = first.exchanges.iter().filter(|e| !e.settle_poll).find_map(|e| {
        let operation =
            e.target.strip_prefix("RekognitionService.").and_then(crate::api::Operation::from_name);
        match crate::check::wire(&e.raw_response()?, operation) {
            Err(crate::check::Unjudgeable::SetupProblem(hint)) => Some((e.step, hint)),
            _ => None,
        }
    });
    let mut out = Vec::new();
    for step in steps {
        let call =
            recorded.get(&step).or_else(|| ours.get(&step)).map(|e| e.call.clone()).unwrap_or_default();
        let aws_findings: Vec<String> = first
            .exchanges
            .iter()
            .filter(|e| e.step == step && !e.settle_poll)
            .flat_map(|e| e.model_findings.iter().cloned())
            .collect();
        let (endpoint_findings, layer) = findings_at(&endpoint.records, step);
        let recordings_differ =
            others.iter().any(|o| !differences(overrides, recorded.get(&step), o.get(&step)).is_empty());
        let diff = differences(overrides, recorded.get(&step), ours.get(&step));
        let (aws_ok, endpoint_ok, same) =
            (aws_findings.is_empty(), endpoint_findings.is_empty(), diff.is_empty());
        let lag = answered(step).map_or(0, |e| e.lag_retries);
        let not_judged = match (&refused, recorded.contains_key(&step)) {
            (Some((at, hint)), _) if step >= *at => Some(format!(
                "the recording stopped at step {at}: AWS refused rekcon's own set-up ({hint}); record again"
            )),
            (_, false) => Some("not in the recording".to_string()),
            // Still not found after every retry: AWS lagged (§9.20), the model is not wrong.
            _ if lag > 0 && !aws_ok => Some(format!(
                "AWS still answered not-found after {lag} retries: read-after-write lag (§9.20), not an answer about the contract"
            )),
            _ => None,
        };
        let note = not_judged.clone().or_else(|| {
            (lag > 0)
                .then(|| format!("AWS lagged: asked {lag} more time(s) before it found the thing (§9.20)"))
        });
        // The endpoint's findings that AWS's answer did not have too (by layer and path).
        let aws_keys: BTreeSet<&str> = aws_findings.iter().map(|f| finding_key(f)).collect();
        let unexplained = endpoint_findings.iter().any(|f| !aws_keys.contains(finding_key(f)));
        let class = if not_judged.is_some() {
            Class::NotJudged
        } else if recordings_differ && endpoint_ok {
            Class::RecordingsDisagree
        } else if !endpoint_ok && (!same || unexplained) {
            // Otherwise than AWS, or alike where compared but faulted where AWS was not
            // (a header, say): the endpoint's bug.
            Class::EndpointDivergesFromAws
        } else if !aws_ok {
            // AWS answered what the model rejects; the endpoint agrees with AWS (and the
            // model rejects it for the same reasons) or with the model.
            Class::ModelDisagreesWithAws
        } else {
            Class::Agrees
        };
        let findings = match class {
            Class::ModelDisagreesWithAws => aws_findings,
            Class::EndpointDivergesFromAws => endpoint_findings,
            _ => Vec::new(),
        };
        let op =
            call.strip_prefix("raw ").unwrap_or(&call).trim_start_matches("RekognitionService.").to_string();
        out.push(StepVerdict {
            scenario: endpoint.name.clone(),
            step,
            section: contract_section(&op, layer),
            call,
            class,
            endpoint_agrees_with_aws: same,
            note,
            differences: diff,
            findings,
        });
    }
    out
}

impl Verification {
    /// Compares every run scenario that has a recording in `dir`; `scenario` gives a
    /// scenario's fixtures and field overrides by name.
    pub fn of(
        dir: &str,
        reports: &[ScenarioReport],
        cassettes: &BTreeMap<String, Vec<Cassette>>,
        scenario: &dyn Fn(&str) -> ScenarioParts,
    ) -> Verification {
        let mut v = Verification {
            dir: dir.to_string(),
            recorded_from: cassettes.values().flatten().next().map(|c| c.provenance.clone()),
            ..Verification::default()
        };
        for (name, recorded) in cassettes {
            let Some(report) = reports.iter().find(|r| &r.name == name) else {
                v.missing.push(name.clone());
                continue;
            };
            let (fixtures, overrides) = scenario(name);
            v.steps.extend(verify_scenario(report, recorded, &fixtures, &overrides));
            v.overrides.extend(overrides.into_iter().map(|o| OverrideUsed {
                scenario: name.clone(),
                compared: match o.how {
                    Comparison::Tolerance(t) => format!("within {t}"),
                    Comparison::Ignore => "ignored".into(),
                    Comparison::Unordered => "as a set".into(),
                    Comparison::Exact => "exactly".into(),
                },
                path: o.path,
                reason: o.reason,
            }));
            for cassette in recorded.iter().take(1) {
                for (tag, steps) in cassette.unknowns() {
                    v.settled.push(Settled { tag, scenario: name.clone(), steps });
                }
            }
        }
        v.settled.sort();
        v
    }

    /// The number of steps per class.
    pub fn counts(&self) -> BTreeMap<Class, usize> {
        let mut out = BTreeMap::new();
        for s in &self.steps {
            *out.entry(s.class).or_default() += 1;
        }
        out
    }

    /// The steps where the model rejected an answer that AWS gave too: the endpoint
    /// agreed with AWS, so what the model found there is rekcon's bug, not the endpoint's.
    fn absolved(&self) -> impl Iterator<Item = &StepVerdict> {
        self.steps.iter().filter(|s| s.class == Class::ModelDisagreesWithAws && s.endpoint_agrees_with_aws)
    }

    /// Takes the model's findings off every step where the endpoint agreed with AWS and
    /// the model rejected both for the same reasons (kept in [`StepVerdict::findings`]), and
    /// decides those scenarios' verdicts again: no report, count or exit code then calls
    /// them the endpoint's divergence.
    pub fn absolve(&self, reports: &mut [ScenarioReport]) {
        for verdict in self.absolved() {
            let Some(report) = reports.iter_mut().find(|r| r.name == verdict.scenario) else { continue };
            let aws: BTreeSet<&str> = verdict.findings.iter().map(|f| finding_key(f)).collect();
            for record in report.records.iter_mut().filter(|r| r.step == verdict.step && !r.settle_poll) {
                record.findings.retain(|f| {
                    !f.is_divergence()
                        || !aws.contains(format!("{:?}: {}", f.layer, f.mismatch.path).as_str())
                });
            }
            report.verdict =
                crate::report::Verdict::decide(&report.records, report.stop.as_ref(), &report.path);
        }
    }

    /// 1 when the endpoint diverges from AWS anywhere (or from the model where nothing
    /// was recorded), else 6 when only the model disagrees with AWS, else `otherwise`
    /// (the run's own code, after [`Verification::absolve`]).
    pub fn exit_code(&self, otherwise: u8) -> u8 {
        let counts = self.counts();
        if counts.contains_key(&Class::EndpointDivergesFromAws) || otherwise == crate::report::EXIT_DIVERGENCE
        {
            crate::report::EXIT_DIVERGENCE
        } else if counts.contains_key(&Class::ModelDisagreesWithAws) {
            EXIT_MODEL_DISAGREES
        } else {
            otherwise
        }
    }

    /// The human section: the endpoint's divergences from AWS, the model's disagreements
    /// with AWS apart, the recordings that disagree, the unknowns settled, the count.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let dir = &self.dir;
        let from = self
            .recorded_from
            .as_ref()
            .map(|p| {
                format!(
                    " (recorded from {} [{}], {}, at {} Unix, rekcon {}, SDK {})",
                    p.endpoint,
                    p.endpoint_kind,
                    p.region,
                    p.recorded_at_unix,
                    p.rekcon_version,
                    p.sdk_version
                )
            })
            .unwrap_or_default();
        let _ = writeln!(out, "verified against the recordings in {dir}{from}");
        for class in [
            Class::EndpointDivergesFromAws,
            Class::ModelDisagreesWithAws,
            Class::RecordingsDisagree,
            Class::NotJudged,
        ] {
            for s in self.steps.iter().filter(|s| s.class == class) {
                let what = match class {
                    Class::ModelDisagreesWithAws => format!(
                        " — rekcon's bug, not the endpoint's: the model ({}) does not allow what AWS answered{}",
                        s.section,
                        if s.endpoint_agrees_with_aws {
                            "; the endpoint agrees with AWS"
                        } else {
                            "; the endpoint agrees with the model"
                        }
                    ),
                    Class::EndpointDivergesFromAws => " — the endpoint's bug".to_string(),
                    Class::NotJudged => format!(" — {}", s.note.as_deref().unwrap_or("no recorded answer")),
                    _ => " — AWS varies here; not judged".to_string(),
                };
                let _ =
                    writeln!(out, "{:<27} {} step {} {}{what}", class.label(), s.scenario, s.step, s.call);
                for d in s.differences.iter().take(if class == Class::NotJudged { 0 } else { 5 }) {
                    let _ = writeln!(out, "    {d}");
                }
                for f in s.findings.iter().take(5) {
                    let _ = writeln!(out, "    model: {f}");
                }
            }
        }
        for s in self.steps.iter().filter(|s| s.class == Class::Agrees) {
            if let Some(note) = &s.note {
                let _ = writeln!(out, "{:<27} {} step {} {} — {note}", "agrees", s.scenario, s.step, s.call);
            }
        }
        for s in &self.settled {
            let steps: Vec<String> = s.steps.iter().map(usize::to_string).collect();
            let _ = writeln!(
                out,
                "{:<27} {} by {} step {}",
                "unknown settled",
                s.tag,
                s.scenario,
                steps.join(", ")
            );
        }
        for o in &self.overrides {
            let _ = writeln!(
                out,
                "{:<27} {} {} {}: {}",
                "compared otherwise", o.scenario, o.path, o.compared, o.reason
            );
        }
        for name in &self.missing {
            let _ = writeln!(out, "not run: {name} is recorded but not in the scenarios folder");
        }
        let counts = self.counts();
        let parts: Vec<String> = counts.iter().map(|(c, n)| format!("{n} {}", c.label())).collect();
        let _ = writeln!(out, "three-way: {} steps: {}", self.steps.len(), parts.join(", "));
        out
    }
}

/// Exit code of `rekcon run --against`: nothing is blamed on the endpoint, but the model
/// disagrees with AWS somewhere (a rekcon bug, reported apart).
pub const EXIT_MODEL_DISAGREES: u8 = 6;

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn diff(recorded: Value, endpoint: Value) -> Vec<String> {
        let mut out = Vec::new();
        compare(None, &recorded, &endpoint, "", &mut out);
        out
    }

    #[test]
    fn the_field_table_decides_each_comparison() {
        // Tolerance: Similarity within 1.0, boxes within 0.05.
        assert!(diff(json!({"Similarity": 99.2}), json!({"Similarity": 99.9})).is_empty());
        assert_eq!(diff(json!({"Similarity": 99.2}), json!({"Similarity": 97.0})).len(), 1);
        assert!(diff(json!({"Width": 0.40}), json!({"Width": 0.43})).is_empty());
        assert_eq!(diff(json!({"Width": 0.40}), json!({"Width": 0.50})).len(), 1);
        // Unordered lists as sets, ordered ones not.
        assert!(
            diff(
                json!({"Faces": [{"FaceId": "<face:1>"}, {"FaceId": "<face:2>"}]}),
                json!({"Faces": [{"FaceId": "<face:2>"}, {"FaceId": "<face:1>"}]})
            )
            .is_empty()
        );
        assert_eq!(diff(json!({"FaceMatches": [1, 2]}), json!({"FaceMatches": [2, 1]})).len(), 2);
        assert_eq!(
            diff(json!({"Faces": [{"FaceId": "<face:1>"}]}), json!({"Faces": [{"FaceId": "<face:3>"}]}))
                .len(),
            1
        );
        // Messages ignored, even absent on one side; timestamps by type.
        assert!(diff(json!({"Message": "a"}), json!({"Message": "b"})).is_empty());
        assert!(diff(json!({"Message": "a"}), json!({})).is_empty());
        assert!(diff(json!({"CreationTimestamp": 1.5e9}), json!({"CreationTimestamp": 1.7e9})).is_empty());
        assert_eq!(diff(json!({"CreationTimestamp": 1.5e9}), json!({"CreationTimestamp": "1.5e9"})).len(), 1);
        // Everything else exactly, absence included.
        assert_eq!(
            diff(json!({"UserStatus": "ACTIVE"}), json!({"UserStatus": "UPDATING"})),
            ["UserStatus: recorded \"ACTIVE\", endpoint \"UPDATING\""]
        );
        assert_eq!(diff(json!({"NextToken": "<token:1>"}), json!({})).len(), 1);
    }

    #[test]
    fn a_scenarios_override_comes_before_the_table() {
        let o = |path: &str, how| FieldOverride { path: path.into(), how, reason: "why".into() };
        let recorded =
            json!({"FaceMatches": [{"Similarity": 99.0}, {"Similarity": 90.0}], "UserStatus": "ACTIVE"});
        let endpoint =
            json!({"FaceMatches": [{"Similarity": 96.0}, {"Similarity": 90.0}], "UserStatus": "UPDATING"});
        let diff = |overrides: &[FieldOverride]| {
            let mut out = Vec::new();
            compare_with(overrides, None, &recorded, &endpoint, "", &mut out);
            out
        };
        // The table: Similarity within 1, so 99 against 96 differs; UserStatus exactly.
        assert_eq!(diff(&[]).len(), 2, "{:?}", diff(&[]));
        // Within 5 for every match, UserStatus ignored: nothing differs.
        let wide =
            [o("FaceMatches[].Similarity", Comparison::Tolerance(5.0)), o("UserStatus", Comparison::Ignore)];
        assert!(diff(&wide).is_empty(), "{:?}", diff(&wide));
        // An override of another path changes nothing here.
        assert_eq!(diff(&[o("Faces[].Similarity", Comparison::Tolerance(5.0))]).len(), 2);
        // Exact where the table has a tolerance: a difference the table would hide.
        let (a, b) = (json!({"Confidence": 99.5}), json!({"Confidence": 99.9}));
        let mut out = Vec::new();
        compare_with(&[o("Confidence", Comparison::Exact)], None, &a, &b, "", &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(general_path("A[12].B[0].C"), "A[].B[].C");
    }

    #[test]
    fn a_finding_is_about_its_layer_and_path() {
        assert_eq!(
            finding_key("Model: Users[0].UserStatus: expected \"A: b\", got \"C\""),
            "Model: Users[0].UserStatus"
        );
        assert_eq!(
            finding_key("Wire: (header) Content-Type: expected x, got y"),
            "Wire: (header) Content-Type"
        );
        assert_eq!(finding_key("odd"), "odd");
    }

    #[test]
    fn every_table_entry_is_a_member_name_once() {
        let names: BTreeSet<&str> = FIELDS.iter().map(|(n, _)| *n).collect();
        assert_eq!(names.len(), FIELDS.len());
        assert_eq!(rule(Some("Similarity")), Rule::Within(1.0));
        assert_eq!(rule(Some("FaceId")), Rule::Exact);
    }
}
