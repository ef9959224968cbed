//! `rekcon certify`: a certification bundle anyone can check.
//!
//! `rekcon certify --out DIR` copies the suite it certifies against into `DIR/suite/`,
//! runs it (`rekcon run`) and a fuzz campaign with a fixed, recorded seed and budget
//! (`rekcon fuzz`) against the endpoint, and writes every report beside them: JSON, HTML,
//! Markdown and JUnit for the run, JSON and JUnit for the fuzz campaign, the baseline
//! used, and `certificate.json` (rekcon's version, the suite's content hash, every
//! fixture's hash, the seed and budget, the endpoint, the exit codes and the parity
//! matrix). `MANIFEST.sha256` (the `sha256sum` format) covers every file of the bundle.
//! Anyone who reruns the same rekcon version, suite and seed can check a claim such as
//! "conforms to rekcon 0.1, suite a1b2c3"; `rekcon certify --verify DIR` checks that no
//! file of the bundle changed, went missing or was added.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::Parser;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::config::{EndpointArgs, RunArgs};
use crate::error::Error;
use crate::report::{EXIT_BAD_INPUT, EXIT_CONFORM, EXIT_DIVERGENCE};

/// The manifest's file name.
pub const MANIFEST: &str = "MANIFEST.sha256";
/// The certificate's file name.
pub const CERTIFICATE: &str = "certificate.json";

/// `rekcon certify`.
#[derive(Debug, Clone, clap::Args)]
pub struct CertifyArgs {
    /// Write the bundle here (a new or empty folder).
    #[arg(long, value_name = "DIR", required_unless_present = "verify")]
    pub out: Option<PathBuf>,
    /// Check the manifest of the bundle in DIR instead of making one.
    #[arg(long, value_name = "DIR", conflicts_with = "out")]
    pub verify: Option<PathBuf>,
    /// Where calls go, and with which credentials.
    #[command(flatten)]
    pub endpoint: EndpointArgs,
    /// The suite to certify against.
    #[arg(long, value_name = "DIR", default_value = "scenarios")]
    pub scenarios: PathBuf,
    /// The fuzz campaign's seed (recorded in the certificate).
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub seed: u64,
    /// The fuzz campaign's budget in cases (recorded in the certificate).
    #[arg(long, default_value_t = 200, value_name = "N")]
    pub cases: u32,
    /// A known-divergence baseline to certify against (copied into the bundle).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Built-in emulator only: plant this bug (repeatable), to see what a failing bundle says.
    #[arg(long = "mutant", value_name = "NAME")]
    pub mutants: Vec<String>,
}

#[derive(Parser)]
#[command(no_binary_name = true)]
struct RunCli {
    #[command(flatten)]
    args: RunArgs,
}

#[derive(Parser)]
#[command(no_binary_name = true)]
struct FuzzCli {
    #[command(flatten)]
    command: crate::fuzz::cli::FuzzCommand,
}

/// `rekcon certify`; the exit code.
pub fn command(args: CertifyArgs) -> u8 {
    match (&args.verify, &args.out) {
        (Some(dir), _) => match verify(dir) {
            Ok(problems) if problems.is_empty() => {
                let summary = std::fs::read_to_string(dir.join(CERTIFICATE))
                    .ok()
                    .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                    .map(|c| {
                        format!(
                            "rekcon {}, suite {}, seed {}",
                            c["rekcon_version"].as_str().unwrap_or("?"),
                            c["suite_hash"].as_str().unwrap_or("?"),
                            c["fuzz"]["seed"]
                        )
                    })
                    .unwrap_or_default();
                println!("rekcon certify: {}: every file matches its manifest ({summary})", dir.display());
                EXIT_CONFORM
            }
            Ok(problems) => {
                for p in &problems {
                    println!("rekcon certify: {}: {p}", dir.display());
                }
                println!(
                    "rekcon certify: {}: {} problem(s): the bundle was changed",
                    dir.display(),
                    problems.len()
                );
                EXIT_DIVERGENCE
            }
            Err(e) => {
                eprintln!("rekcon certify: {e}");
                EXIT_BAD_INPUT
            }
        },
        (None, Some(out)) => match certify(&args, out) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("rekcon certify: {e}");
                EXIT_BAD_INPUT
            }
        },
        (None, None) => {
            eprintln!("rekcon certify: give --out DIR or --verify DIR");
            EXIT_BAD_INPUT
        }
    }
}

fn certify(args: &CertifyArgs, out: &Path) -> Result<u8, Error> {
    if out.exists()
        && std::fs::read_dir(out)
            .map_err(|source| Error::Read { path: out.to_path_buf(), source })?
            .next()
            .is_some()
    {
        return Err(Error::Config(format!(
            "{} is not empty: a bundle is written into a new folder",
            out.display()
        )));
    }
    let suite = out.join("suite");
    copy_suite(&args.scenarios, &suite)?;
    let path = |name: &str| out.join(name).display().to_string();
    let mut common: Vec<String> = Vec::new();
    if let Some(url) = &args.endpoint.endpoint_url {
        common.extend(["--endpoint-url".into(), url.clone()]);
    }
    if let Some(region) = &args.endpoint.region {
        common.extend(["--region".into(), region.clone()]);
    }
    if let Some(profile) = &args.endpoint.profile {
        common.extend(["--profile".into(), profile.clone()]);
    }
    if args.endpoint.aws {
        common.push("--aws".into());
    }
    for m in &args.mutants {
        common.extend(["--mutant".into(), m.clone()]);
    }
    common.extend(["--scenarios".into(), suite.display().to_string()]);
    let mut baseline_args = Vec::new();
    if let Some(baseline) = &args.baseline {
        let copy = out.join("baseline.yaml");
        std::fs::copy(baseline, &copy).map_err(|source| Error::Read { path: baseline.clone(), source })?;
        baseline_args = vec!["--baseline".to_string(), copy.display().to_string()];
    }

    let mut run_args = common.clone();
    run_args.extend([
        "--json".into(),
        path("report.json"),
        "--junit".into(),
        path("junit.xml"),
        "--html".into(),
        path("report.html"),
        "--markdown".into(),
        path("summary.md"),
    ]);
    run_args.extend(baseline_args.iter().cloned());
    let run = RunCli::try_parse_from(&run_args).map_err(|e| Error::Config(e.to_string()))?;
    let run_code = crate::runner::run_command(run.args);

    let mut fuzz_args = common;
    fuzz_args.extend([
        "--seed".into(),
        args.seed.to_string(),
        "--cases".into(),
        args.cases.to_string(),
        "--json".into(),
        path("fuzz.json"),
        "--junit".into(),
        path("fuzz-junit.xml"),
    ]);
    fuzz_args.extend(baseline_args);
    let fuzz = FuzzCli::try_parse_from(&fuzz_args).map_err(|e| Error::Config(e.to_string()))?;
    let fuzz_code = crate::fuzz::cli::command(fuzz.command);

    let report: Value = std::fs::read_to_string(out.join("report.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    let fixtures = hashes(&suite.join(crate::scenario::IMAGES_DIR), &suite)?;
    let certificate = json!({
        "format_version": 1,
        "rekcon_version": env!("CARGO_PKG_VERSION"),
        "suite_hash": report["metadata"]["suite_hash"],
        "fixtures": fixtures,
        "endpoint": report["endpoint"],
        "region": report["metadata"]["region"],
        "date": report["metadata"]["started_at"],
        "run": { "exit_code": run_code, "summary": report["summary"], "matrix": report["matrix"] },
        "fuzz": { "seed": args.seed, "cases": args.cases, "exit_code": fuzz_code },
        "baseline": args.baseline.as_ref().map(|_| "baseline.yaml"),
    });
    let text = serde_json::to_string_pretty(&certificate).unwrap_or_default();
    std::fs::write(out.join(CERTIFICATE), text + "\n")
        .map_err(|source| Error::Write { path: out.join(CERTIFICATE), source })?;
    write_manifest(out)?;
    println!(
        "rekcon certify: bundle written to {} (run exit {run_code}, fuzz exit {fuzz_code}); check it with: rekcon certify --verify {}",
        out.display(),
        out.display()
    );
    Ok(if run_code != EXIT_CONFORM { run_code } else { fuzz_code })
}

/// Copies the suite's scenario files and images, regressions left out (a bundle
/// certifies the suite, and its own fuzz campaign writes new ones).
fn copy_suite(from: &Path, to: &Path) -> Result<(), Error> {
    for file in files_under(from)? {
        let relative = file.strip_prefix(from).unwrap_or(&file);
        if relative.starts_with("regressions") {
            continue;
        }
        let target = to.join(relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|source| Error::Write { path: parent.to_path_buf(), source })?;
        }
        std::fs::copy(&file, &target).map_err(|source| Error::Read { path: file.clone(), source })?;
    }
    Ok(())
}

/// Every regular file below `root`, in name order; links are not followed.
fn files_under(root: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|source| Error::Read { path: dir.clone(), source })?;
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else { continue };
            if kind.is_dir() {
                stack.push(entry.path());
            } else if kind.is_file() {
                out.push(entry.path());
            }
        }
    }
    out.sort();
    Ok(out)
}

fn sha256_file(path: &Path) -> Result<String, Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::Read { path: path.to_path_buf(), source })?;
    Ok(hex::encode(Sha256::digest(&bytes)))
}

/// The SHA-256 of every file below `dir`, keyed by its path relative to `base`.
fn hashes(dir: &Path, base: &Path) -> Result<BTreeMap<String, String>, Error> {
    let mut out = BTreeMap::new();
    if !dir.exists() {
        return Ok(out);
    }
    for file in files_under(dir)? {
        let relative = file.strip_prefix(base).unwrap_or(&file).display().to_string();
        out.insert(relative, sha256_file(&file)?);
    }
    Ok(out)
}

/// Writes `MANIFEST.sha256` over every file of the bundle but itself.
fn write_manifest(dir: &Path) -> Result<(), Error> {
    let mut text = String::new();
    for (path, hash) in hashes(dir, dir)? {
        if path != MANIFEST {
            text.push_str(&format!("{hash}  {path}\n"));
        }
    }
    std::fs::write(dir.join(MANIFEST), text)
        .map_err(|source| Error::Write { path: dir.join(MANIFEST), source })
}

/// Checks a bundle against its manifest; the problems found (empty when it matches).
pub fn verify(dir: &Path) -> Result<Vec<String>, Error> {
    let manifest = dir.join(MANIFEST);
    let text = std::fs::read_to_string(&manifest)
        .map_err(|source| Error::Read { path: manifest.clone(), source })?;
    let mut listed = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let Some((hash, path)) = line.split_once("  ") else {
            return Err(Error::Config(format!("{}:{}: not a `HASH  PATH` line", manifest.display(), n + 1)));
        };
        listed.insert(path.to_string(), hash.to_string());
    }
    let present = hashes(dir, dir)?;
    let mut problems = Vec::new();
    for (path, hash) in &listed {
        match present.get(path) {
            None => problems.push(format!("{path}: missing")),
            Some(h) if h != hash => problems.push(format!("{path}: changed (SHA-256 {h}, manifest {hash})")),
            Some(_) => {}
        }
    }
    for path in present.keys().filter(|p| p.as_str() != MANIFEST && !listed.contains_key(*p)) {
        problems.push(format!("{path}: not in the manifest"));
    }
    Ok(problems)
}
