//! One self-contained HTML report: no network, no CDN, no script; it opens from a
//! `file://` URL. It shows the run's metadata, the parity matrix (operations × verdicts,
//! coloured), the baseline status, the causes with their reach and a reproduction command
//! each, every scenario with its steps (request and response), and the unsettled points.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;

use super::{RunReport, ScenarioReport, StepRecord, Verdict};
use crate::cause::Signature;
use crate::error::Error;

const STYLE: &str = "
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;max-width:80em;color:#1b1f24;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:1px solid #d0d7de;padding-bottom:.2em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #d0d7de;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f6f8fa}code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12.5px}
pre{background:#f6f8fa;padding:.5em;overflow-x:auto;white-space:pre-wrap;word-break:break-all;margin:.2em 0}
.meta td:first-child{font-weight:600}
.v{font-weight:600;border-radius:3px;padding:.1em .45em;white-space:nowrap}
.conforms,.pass{background:#dafbe1;color:#116329}.diverges,.diverged{background:#ffebe9;color:#a40e26}
.not-implemented,.blocked{background:#fff1e5;color:#953800}.not-reached,.not-run{background:#eaeef2;color:#57606a}
.not-applicable{background:#ddf4ff;color:#0550ae}.contradiction,.bad-scenario,.harness-error,.no-answer{background:#fbefff;color:#6e40c9}
.known{background:#eaeef2;color:#57606a}.new,.changed,.fixed,.expired{background:#ffebe9;color:#a40e26}
details{margin:.3em 0}summary{cursor:pointer}.finding{color:#a40e26}.note{color:#57606a}
";

impl RunReport {
    /// The HTML report.
    pub fn to_html(&self) -> String {
        let causes = self.causes();
        let matrix = self.matrix(&causes);
        let mut out = String::new();
        let title = format!("rekcon: {}", self.endpoint);
        let _ = write!(
            out,
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
             <title>{}</title><style>{STYLE}</style></head><body>\n",
            esc(&title)
        );
        let _ = writeln!(out, "<h1>{}</h1>", esc(&title));
        let _ = writeln!(out, "<table class=\"meta\" id=\"metadata\">");
        let exit = self.exit_code();
        for (k, v) in [
            ("rekcon version", self.metadata.rekcon_version.clone()),
            ("suite hash", self.metadata.suite_hash.clone()),
            ("endpoint", self.endpoint.clone()),
            ("region", self.metadata.region.clone()),
            ("date", self.metadata.started_at.clone()),
            ("run id", self.run_id.clone()),
            ("exit code", exit.to_string()),
            ("duration", format!("{:.2} s", self.duration.as_secs_f64())),
            ("retries (not divergences)", self.retry_lines().join("; ")),
        ] {
            let _ = writeln!(out, "<tr><td>{}</td><td><code>{}</code></td></tr>", esc(k), esc(&v));
        }
        let _ = writeln!(out, "</table>");

        let _ = writeln!(
            out,
            "<h2>Parity matrix</h2>\n<table id=\"matrix\"><tr><th>operation</th><th>verdict</th><th>calls judged</th><th>not applicable</th><th>causes</th></tr>"
        );
        for (op, row) in matrix.rows() {
            let ranks: Vec<String> =
                row.ranks.iter().map(|r| format!("<a href=\"#cause-{r}\">#{r}</a>")).collect();
            let detail = row.evidence.as_deref().map(esc).unwrap_or_else(|| ranks.join(" "));
            let _ = writeln!(
                out,
                "<tr data-operation=\"{op}\" data-verdict=\"{v}\"><td>{op}</td><td><span class=\"v {v}\">{v}</span></td><td>{}</td><td>{}</td><td>{detail}</td></tr>",
                row.calls,
                row.not_applicable,
                op = op.name(),
                v = row.verdict.as_str(),
            );
        }
        let _ = writeln!(out, "</table>");

        if let Some(b) = &self.baseline {
            let status = if b.fails() { "fails" } else { "passes" };
            let _ = writeln!(
                out,
                "<h2>Baseline</h2>\n<p id=\"baseline\" data-status=\"{status}\"><code>{}</code>: the run <b>{status}</b> against it.</p><table>",
                esc(&b.file.display().to_string())
            );
            let mut row = |class: &str, what: &str, detail: String| {
                let _ = writeln!(
                    out,
                    "<tr><td><span class=\"v {class}\">{what}</span></td><td>{detail}</td></tr>"
                );
            };
            for s in &b.known {
                row("known", "known", esc(&s.to_string()));
            }
            for s in &b.new {
                row("new", "new", esc(&s.to_string()));
            }
            for (s, was) in &b.changed {
                row(
                    "changed",
                    "changed",
                    format!("{} (baselined as <code>{}</code>)", esc(&s.to_string()), esc(was)),
                );
            }
            for e in &b.fixed {
                row("fixed", "fixed", format!("{} — remove it from the baseline", esc(&e.signature)));
            }
            for e in &b.expired {
                row(
                    "expired",
                    "expired",
                    format!("{} (expired {})", esc(&e.signature), esc(e.expires.as_deref().unwrap_or(""))),
                );
            }
            let _ = writeln!(out, "</table>");
        }

        let _ = writeln!(out, "<h2>Causes, by reach</h2>");
        if causes.is_empty() {
            let _ = writeln!(out, "<p>No divergence.</p>");
        } else {
            let _ = writeln!(
                out,
                "<table id=\"causes\"><tr><th>#</th><th>layer</th><th>what</th><th>reach</th><th>first at</th><th>reproduce</th></tr>"
            );
            for (i, c) in causes.all().iter().enumerate() {
                let reproduce = self
                    .scenarios
                    .iter()
                    .find(|s| s.name == c.first.scenario)
                    .map(|s| s.reproduce.clone())
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "<tr id=\"cause-{n}\"><td>{n}</td><td>{}</td><td>{}<br><code class=\"note\">{}</code></td><td>{} scenarios, {} calls, {} operations</td><td><code>{}:{}</code></td><td><code>{}</code></td></tr>",
                    c.signature.layer.as_str(),
                    esc(&c.summary()),
                    esc(&c.signature.to_string()),
                    c.scenarios.len(),
                    c.calls,
                    c.operation_reach().0,
                    esc(&c.first.file.display().to_string()),
                    c.first.line,
                    esc(&reproduce),
                    n = i + 1,
                );
            }
            let _ = writeln!(out, "</table>");
        }

        let _ = writeln!(out, "<h2>Scenarios</h2>");
        for s in &self.scenarios {
            self.scenario_html(s, &causes, &mut out);
        }

        let unknowns = self.unknowns();
        let _ = writeln!(out, "<h2>Unsettled points</h2>");
        if unknowns.is_empty() {
            let _ = writeln!(out, "<p>The run leaned on no unsettled point of the contract.</p>");
        } else {
            let _ = writeln!(out, "<p>One real-AWS recording settles each.</p><ul id=\"unsettled\">");
            for u in unknowns {
                let _ = writeln!(out, "<li><code>{}</code> — {}</li>", esc(u.tag()), esc(u.question()));
            }
            let _ = writeln!(out, "</ul>");
        }
        let _ = writeln!(out, "</body></html>");
        out
    }

    fn scenario_html(&self, s: &ScenarioReport, causes: &crate::cause::Causes, out: &mut String) {
        let class = s.verdict.label().replace(' ', "-");
        let ranks: Vec<String> =
            s.signatures().iter().filter_map(|sig| causes.rank(sig)).map(|r| format!("#{r}")).collect();
        let open = if matches!(s.verdict, Verdict::Pass) { "" } else { " open" };
        let _ = writeln!(
            out,
            "<details class=\"scenario\" data-verdict=\"{class}\"{open}><summary><span class=\"v {class}\">{}</span> <code>{}</code> {}</summary>",
            esc(s.verdict.label()),
            esc(&s.name),
            esc(&ranks.join(" "))
        );
        let _ = writeln!(
            out,
            "<p class=\"note\"><code>{}</code> · reproduce: <code>{}</code></p>",
            esc(&s.path.display().to_string()),
            esc(&s.reproduce)
        );
        if let Some(stop) = &s.stop {
            let rest = stop.not_judged_text().map(|t| format!("; {t}")).unwrap_or_default();
            let _ = writeln!(
                out,
                "<p>Stopped at step {} ({}): {}{}</p>",
                stop.step,
                esc(&stop.operation),
                esc(&stop.reason),
                esc(&rest)
            );
        }
        if !s.records.is_empty() {
            let _ = writeln!(
                out,
                "<table><tr><th>step</th><th>call</th><th>request</th><th>response</th><th>findings</th></tr>"
            );
            for r in &s.records {
                record_html(r, out);
            }
            let _ = writeln!(out, "</table>");
        }
        let _ = writeln!(out, "</details>");
    }

    /// Writes the HTML report.
    pub fn write_html(&self, path: &Path) -> Result<(), Error> {
        super::write_file(path, &self.to_html())
    }
}

fn record_html(r: &StepRecord, out: &mut String) {
    let status = r.response.as_ref().map(|x| format!("HTTP {}", x.status)).unwrap_or_default();
    let observed = r.observed.as_ref().map(|o| match o {
        crate::expect::Observed::Success(body) => pretty(body),
        crate::expect::Observed::Error(e) => format!("{} {}", e.code, e.message.as_deref().unwrap_or("")),
    });
    let mut findings = String::new();
    for f in &r.findings {
        let layer = Signature::of(r.call_name(), f).map_or("scenario", |s| s.layer.as_str());
        let m = &f.mismatch;
        let _ = write!(
            findings,
            "<div class=\"finding\">[{layer}] {}: expected {}, got {}</div>",
            esc(if m.path.is_empty() { "(outcome)" } else { &m.path }),
            esc(&m.expected),
            esc(&m.actual)
        );
    }
    for note in
        [&r.no_answer.as_ref().map(|n| n.reason.clone()), &r.not_implemented, &r.not_applicable, &r.note]
            .into_iter()
            .flatten()
    {
        let _ = write!(findings, "<div class=\"note\">{}</div>", esc(note));
    }
    let poll = if r.settle_poll { " (settle poll)" } else { "" };
    let _ = writeln!(
        out,
        "<tr><td>{}</td><td><code>{}</code>{poll}</td><td><pre>{}</pre></td><td>{}<pre>{}</pre></td><td>{findings}</td></tr>",
        r.step,
        esc(r.call_name()),
        esc(&shorten(&pretty(&r.request))),
        esc(&status),
        esc(&shorten(&observed.unwrap_or_default())),
    );
}

fn pretty(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => serde_json::to_string_pretty(&shorten_strings(other.clone())).unwrap_or_default(),
    }
}

/// Long strings (image bytes) shown by their length.
fn shorten_strings(v: Value) -> Value {
    match v {
        Value::String(s) if s.len() > 200 => Value::String(format!("<{} characters>", s.len())),
        Value::Array(a) => Value::Array(a.into_iter().map(shorten_strings).collect()),
        Value::Object(m) => Value::Object(m.into_iter().map(|(k, v)| (k, shorten_strings(v))).collect()),
        other => other,
    }
}

fn shorten(text: &str) -> String {
    if text.chars().count() > 4000 {
        format!("{}…", text.chars().take(4000).collect::<String>())
    } else {
        text.to_string()
    }
}

/// Text safe in HTML content and attributes.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn html_is_escaped() {
        assert_eq!(esc("<a href=\"x\">&'</a>"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
    }
}
