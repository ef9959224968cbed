//! `rekcon unknowns DIR`: for each `unknown:*` point of the contract, which recordings
//! answer it and how (the recorded answer of each step that bears on it).

use std::fmt::Write as _;
use std::path::Path;

use super::{Cassette, RecordError, load_dir};
use crate::unknown::Unknown;

/// Longest excerpt of a recorded answer shown.
const EXCERPT: usize = 160;

/// One recorded answer to an unknown point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The scenario recorded.
    pub scenario: String,
    /// The step.
    pub step: usize,
    /// The operation.
    pub call: String,
    /// `HTTP <status> <body excerpt>`.
    pub answer: String,
    /// Where it was recorded (`real AWS (eu-west-1)`).
    pub endpoint: String,
}

/// Per unknown point (in [`Unknown::ALL`] order), the recorded answers that bear on it.
pub fn answers(dir: &Path) -> Result<Vec<(Unknown, Vec<Answer>)>, RecordError> {
    let cassettes = load_dir(dir)?;
    let all: Vec<&Cassette> = cassettes.values().flatten().collect();
    Ok(Unknown::ALL
        .iter()
        .map(|&u| {
            let found = all
                .iter()
                .flat_map(|c| c.exchanges.iter().map(move |e| (c, e)))
                .filter(|(_, e)| e.unknowns.contains(u.tag()))
                .map(|(c, e)| {
                    let answer = match &e.response {
                        Some(r) => {
                            let body = r.body.as_deref().unwrap_or("<binary body>");
                            let body: String = body.chars().take(EXCERPT).collect();
                            format!("HTTP {} {body}", r.status)
                        }
                        None => format!("no answer: {}", e.no_answer.as_deref().unwrap_or("none")),
                    };
                    Answer {
                        scenario: c.scenario.clone(),
                        step: e.step,
                        call: e.target.trim_start_matches("RekognitionService.").to_string(),
                        answer,
                        endpoint: c.provenance.endpoint.clone(),
                    }
                })
                .collect();
            (u, found)
        })
        .collect())
}

/// The listing `rekcon unknowns DIR` prints.
pub fn render(answers: &[(Unknown, Vec<Answer>)]) -> String {
    let mut out = String::new();
    let answered = answers.iter().filter(|(_, a)| !a.is_empty()).count();
    let _ = writeln!(out, "{answered} of {} unknown points answered by the recordings", answers.len());
    for (u, found) in answers {
        let _ = writeln!(out, "{} — {}", u.tag(), u.question());
        if found.is_empty() {
            let _ = writeln!(out, "  not answered by any recording");
        }
        for a in found {
            let _ =
                writeln!(out, "  {} step {} {} on {}: {}", a.scenario, a.step, a.call, a.endpoint, a.answer);
        }
    }
    out
}

/// `rekcon unknowns DIR`; returns the exit code (0, or 2 when DIR holds no readable cassette).
pub fn command(dir: &Path) -> u8 {
    match load_dir(dir) {
        Ok(cassettes) if cassettes.is_empty() => {
            eprintln!("rekcon unknowns: no cassette below {}", dir.display());
            return crate::report::EXIT_BAD_INPUT;
        }
        Ok(_) => {}
        Err(e) => {
            eprintln!("rekcon unknowns: {e}");
            return crate::report::EXIT_BAD_INPUT;
        }
    }
    match answers(dir) {
        Ok(found) => {
            if let Err(e) = crate::output::print(&render(&found)) {
                eprintln!("rekcon unknowns: cannot print: {e}");
            }
            crate::report::EXIT_CONFORM
        }
        Err(e) => {
            eprintln!("rekcon unknowns: {e}");
            crate::report::EXIT_BAD_INPUT
        }
    }
}
