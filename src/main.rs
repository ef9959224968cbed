//! The `rekcon` command: the only place that parses arguments, prints, and picks exit codes.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc rather than the system allocator: the model and the emulator build and drop
/// many small JSON values and patterns per call, and glibc's malloc was a third of the
/// fuzzer's model-only time (`cargo bench --bench fuzz`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Conformance harness and contract fuzzer for the Amazon Rekognition collections, faces and users API.
#[derive(Debug, Parser)]
#[command(name = "rekcon", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the built-in emulator (the reference model on the wire) until Ctrl-C, SIGTERM or
    /// SIGHUP (exit 128 + the signal's number).
    Serve(rekcon::serve::ServeArgs),
    /// Run scenarios against an endpoint (the built-in emulator when none is given).
    #[command(after_help = rekcon::report::EXIT_CODES_HELP)]
    Run(rekcon::config::RunArgs),
    /// Fuzz an endpoint: random call sequences from the model's state, every call checked
    /// as a scenario step; a divergence is shrunk and written as a regression scenario.
    #[command(after_help = FUZZ_EXIT_CODES)]
    Fuzz(rekcon::fuzz::cli::FuzzCommand),
    /// Delete the collections runs left on an endpoint (names starting with `rekcon-`),
    /// e.g. after a killed run; `--dry-run` only lists them.
    #[command(after_help = rekcon::runner::CLEANUP_EXIT_CODES_HELP)]
    Cleanup(rekcon::config::CleanupArgs),
    /// Make a certification bundle (the suite, a fuzz campaign with a recorded seed, every
    /// report, a SHA-256 manifest), or check one with --verify.
    Certify(rekcon::certify::CertifyArgs),
    /// List, for each `unknown:*` point of the contract, which recordings below DIR
    /// (`rekcon run --record DIR`) answer it, and how.
    Unknowns {
        /// The folder of cassettes.
        #[arg(value_name = "DIR")]
        dir: std::path::PathBuf,
        /// Write what the recordings settle to FILE (docs/settlements.md) instead of listing.
        #[arg(long, value_name = "FILE")]
        write_settlements: Option<std::path::PathBuf>,
    },
    /// The suite built into rekcon (its scenarios and fixture images).
    #[command(subcommand)]
    Scenarios(rekcon::suite::ScenariosCommand),
}

const FUZZ_EXIT_CODES: &str = "Exit codes:\n  0    no divergence found (flaky ones are reported, not counted)\n  1    at least one divergence, shrunk, confirmed and written as a regression scenario\n  2    bad options, or a generator bug (a generated case that does not load or run)\n  3    no answer from the endpoint (transport, timeout, throttling after retries)\n  4    nothing found, but operations the cases need are not implemented\n  5    a set-up problem: the endpoint refused rekcon's own signature, credentials, clock or permissions (no regression file)\n  130  interrupted by Ctrl-C, nothing found (the cases under way finish, collections are deleted, reports are written); 143 for SIGTERM, 129 for SIGHUP";

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => match rekcon::serve::cli::run(&args, &mut std::io::stdout()) {
            Ok(code) => ExitCode::from(code),
            Err(e) => {
                eprintln!("rekcon serve: {e}");
                ExitCode::from(2)
            }
        },
        Command::Run(args) => ExitCode::from(rekcon::runner::run_command(args)),
        Command::Fuzz(cmd) => ExitCode::from(rekcon::fuzz::cli::command(cmd)),
        Command::Cleanup(args) => ExitCode::from(rekcon::runner::cleanup_command(args)),
        Command::Certify(args) => ExitCode::from(rekcon::certify::command(args)),
        Command::Unknowns { dir, write_settlements: Some(file) } => {
            ExitCode::from(rekcon::settle::write_command(&dir, &file))
        }
        Command::Unknowns { dir, write_settlements: None } => {
            ExitCode::from(rekcon::record::unknowns::command(&dir))
        }
        Command::Scenarios(cmd) => ExitCode::from(rekcon::suite::command(cmd)),
    }
}
