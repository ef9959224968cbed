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
    #[command(after_help = rekcon::report::EXIT_CODES_HELP)]
    Run(rekcon::config::RunArgs),
}

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
