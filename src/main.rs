//! The `rekcon` command: the only place that parses arguments, prints, and picks exit codes.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Conformance harness and contract fuzzer for the Amazon Rekognition collections, faces and users API.
#[derive(Debug, Parser)]
#[command(name = "rekcon", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the built-in emulator (the reference model on the wire) until Ctrl-C.
    Serve(rekcon::serve::ServeArgs),
    /// Run scenarios against an endpoint (the built-in emulator when none is given).
    ///
    /// Exit codes: 0 every scenario conformed; 1 a divergence, or a scenario that
    /// contradicts the model; 2 a bad scenario, bad options or a harness error; 3 no
    /// answer from the endpoint (transport, timeout, throttling after retries);
    /// 130 interrupted.
    #[command(after_help = RUN_EXIT_CODES)]
    Run(rekcon::config::RunArgs),
}

const RUN_EXIT_CODES: &str = "Exit codes:\n  0    every scenario conformed\n  1    a divergence, or a scenario that contradicts the model\n  2    a bad scenario, bad options, or a harness error\n  3    no answer from the endpoint (transport, timeout, throttling after retries)\n  130  interrupted (reports are still written, collections deleted)";

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => match rekcon::serve::cli::run(&args, &mut std::io::stdout()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("rekcon serve: {e}");
                ExitCode::from(2)
            }
        },
        Command::Run(args) => ExitCode::from(rekcon::runner::run_command(args)),
    }
}
