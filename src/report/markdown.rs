//! The Markdown summary: the verdict line, the parity matrix and the causes, short
//! enough for `$GITHUB_STEP_SUMMARY` and a merge-request comment.

use std::fmt::Write as _;
use std::path::Path;

use super::{RunReport, Verdict};
use crate::error::Error;

impl RunReport {
    /// The Markdown summary.
    pub fn to_markdown(&self) -> String {
        let causes = self.causes();
        let matrix = self.matrix(&causes);
        let mut out = String::new();
        let verdict = match self.exit_code() {
            0 => "conforms",
            1 => "diverges",
            2 => "bad input",
            3 => "no answer",
            4 => "not implemented",
            _ => "interrupted",
        };
        let _ = writeln!(out, "## rekcon: {} {verdict}\n", md(&self.endpoint));
        let _ = writeln!(
            out,
            "rekcon {} · suite `{}` · run `{}` · exit code {}\n",
            md(&self.metadata.rekcon_version),
            short(&self.metadata.suite_hash),
            md(&self.run_id),
            self.exit_code()
        );
        let counts: Vec<String> = {
            let mut by: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
            for s in &self.scenarios {
                *by.entry(s.verdict.label()).or_default() += 1;
            }
            by.into_iter().map(|(label, n)| format!("{n} {label}")).collect()
        };
        let _ = writeln!(out, "**Scenarios:** {}\n", counts.join(", "));
        let retries = self.retry_lines();
        if !retries.is_empty() {
            let _ = writeln!(
                out,
                "**Retries** (answered in the end; not divergences): {}\n",
                md(&retries.join("; "))
            );
        }
        let _ = writeln!(out, "| operation | verdict | calls | causes |");
        let _ = writeln!(out, "|---|---|---:|---|");
        for (op, row) in matrix.rows() {
            let icon = match row.verdict {
                super::OperationVerdict::Conforms => "✅",
                super::OperationVerdict::Diverges => "❌",
                super::OperationVerdict::NotImplemented => "⛔",
                super::OperationVerdict::NotReached => "➖",
                super::OperationVerdict::NotApplicable => "◻️",
            };
            let ranks: Vec<String> = row.ranks.iter().map(|r| format!("#{r}")).collect();
            let _ = writeln!(
                out,
                "| {} | {icon} {} | {} | {} |",
                op.name(),
                row.verdict.as_str(),
                row.calls,
                ranks.join(" ")
            );
        }
        if !causes.is_empty() {
            let _ = writeln!(out, "\n### Causes, by reach\n");
            let _ = writeln!(out, "| # | layer | what | scenarios | calls | first at |");
            let _ = writeln!(out, "|---:|---|---|---:|---:|---|");
            for (i, c) in causes.all().iter().enumerate() {
                let known = match &self.baseline {
                    Some(b) if b.is_known(&c.signature) => " (baselined)",
                    _ => "",
                };
                let _ = writeln!(
                    out,
                    "| {} | {} | {}{known} | {} | {} | `{}:{}` |",
                    i + 1,
                    c.signature.layer.as_str(),
                    md(&c.summary()),
                    c.scenarios.len(),
                    c.calls,
                    md(&c.first.file.display().to_string()),
                    c.first.line
                );
            }
        }
        if let Some(b) = &self.baseline {
            let _ = writeln!(
                out,
                "\n**Baseline** `{}`: {} known, {} new, {} changed, {} fixed, {} expired{}\n",
                md(&b.file.display().to_string()),
                b.known.len(),
                b.new.len(),
                b.changed.len(),
                b.fixed.len(),
                b.expired.len(),
                if b.fails() { " — fails" } else { " — passes" }
            );
        }
        let blocked: Vec<&str> = self
            .scenarios
            .iter()
            .filter(|s| matches!(s.verdict, Verdict::Blocked { .. }))
            .map(|s| s.name.as_str())
            .collect();
        if !blocked.is_empty() {
            let _ = writeln!(out, "\n{} scenarios blocked by operations not implemented.", blocked.len());
        }
        out
    }

    /// Writes the Markdown summary.
    pub fn write_markdown(&self, path: &Path) -> Result<(), Error> {
        super::write_file(path, &self.to_markdown())
    }
}

/// Text safe in a Markdown table cell.
fn md(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}
