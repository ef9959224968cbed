//! `rekcon serve`: its arguments and the run-until-a-signal loop.

use std::fmt;
use std::io::Write;
use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

use super::config::{Detector, ServeConfig, ServeError};
use super::mutant::Mutant;
use super::server::Server;
use crate::interrupt::Interrupts;

/// Run the built-in emulator: the reference model behind the awsJson1.1 protocol.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 9123)]
    pub port: u16,
    /// Address to listen on; anything but loopback exposes the emulator to the network.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// Seed for generated ids, page tokens and injected faults.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Milliseconds a user reads as UPDATING after a change to its faces.
    #[arg(long, default_value_t = 0)]
    pub settle_ms: u64,
    /// Answer ThrottlingException beyond this many requests per rolling second.
    #[arg(long)]
    pub throttle_tps: Option<u32>,
    /// Milliseconds added before every answer, to simulate a distant endpoint.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub latency_ms: u64,
    /// Probability per request of an injected fault (500, dropped connection or delay).
    #[arg(long, default_value_t = 0.0)]
    pub faults: f64,
    /// Plant this bug (see --list-mutants); repeat to stack several (e.g. a wire fault
    /// and a contract fault), applied in the order given.
    #[arg(long = "mutant", value_parser = parse_mutant, value_name = "NAME")]
    pub mutants: Vec<Mutant>,
    /// Where faces come from: `marker` reads the fixtures' marker; `canned` does no
    /// detection (one fixed face for any image, similarity from a hash of the ids).
    #[arg(long, value_enum, default_value_t = Detector::Marker)]
    pub detector: Detector,
    /// Print every mutant and what it gets wrong, then exit.
    #[arg(long)]
    pub list_mutants: bool,
    /// Require SigV4 signed with ACCESS_KEY:SECRET (prefer the environment variable).
    #[arg(long, env = "REKCON_SERVE_SIGV4", value_name = "ACCESS_KEY:SECRET", hide_env_values = true)]
    pub require_sigv4: Option<SigV4Key>,
    /// Region in ARNs.
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// Account in ARNs.
    #[arg(long, default_value = "123456789012")]
    pub account: String,
    /// Do not log requests.
    #[arg(long)]
    pub quiet: bool,
    /// Most connections open at once; at the cap the idlest one is closed for a new one.
    #[arg(long, default_value_t = super::config::DEFAULT_MAX_CONNECTIONS, value_parser = parse_max_connections)]
    pub max_connections: usize,
    /// Load the emulator's state from FILE at start (if it exists) and save it there,
    /// atomically, on exit; a torn or foreign file is an error, never an empty state.
    #[arg(long, value_name = "FILE")]
    pub state: Option<std::path::PathBuf>,
}

/// An access key and secret; `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct SigV4Key {
    /// The access key id.
    pub access_key: String,
    /// The secret access key.
    pub secret: String,
}

impl fmt::Debug for SigV4Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigV4Key({}:<redacted>)", self.access_key)
    }
}

impl FromStr for SigV4Key {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split_once(':') {
            Some((ak, secret)) if !ak.is_empty() && !secret.is_empty() => {
                Ok(SigV4Key { access_key: ak.to_string(), secret: secret.to_string() })
            }
            _ => Err("expected ACCESS_KEY:SECRET".into()),
        }
    }
}

/// A `--max-connections` value: at least 1.
fn parse_max_connections(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err("expected a whole number of connections, at least 1".into()),
    }
}

/// A `--mutant` value (of `rekcon serve`, `run` and `fuzz`): the name of a planted bug.
pub fn parse_mutant(name: &str) -> Result<Mutant, String> {
    Mutant::from_name(name)
        .ok_or_else(|| format!("unknown mutant `{name}`; see `rekcon serve --list-mutants`"))
}

impl ServeArgs {
    /// The server configuration these arguments describe.
    pub fn config(&self) -> ServeConfig {
        ServeConfig {
            bind: self.bind,
            port: self.port,
            seed: self.seed,
            settle: Duration::from_millis(self.settle_ms),
            throttle_tps: self.throttle_tps,
            latency: Duration::from_millis(self.latency_ms),
            faults: self.faults,
            mutants: self.mutants.clone(),
            detector: self.detector,
            require_sigv4: self.require_sigv4.as_ref().map(|k| (k.access_key.clone(), k.secret.clone())),
            log_requests: !self.quiet,
            log_sink: None,
            region: self.region.clone(),
            account: self.account.clone(),
            max_connections: self.max_connections,
            state: self.state.clone(),
        }
    }
}

/// Writes the mutant catalogue, one `name  description` line each.
pub fn list_mutants(out: &mut dyn Write) -> std::io::Result<()> {
    let width = Mutant::ALL
        .iter()
        .chain(Mutant::RACES)
        .chain(Mutant::UNSETTLED)
        .map(|m| m.name().len())
        .max()
        .unwrap_or(0);
    for m in Mutant::ALL.iter().chain(Mutant::RACES).chain(Mutant::UNSETTLED) {
        writeln!(out, "{:width$}  {}", m.name(), m.description())?;
    }
    Ok(())
}

/// Runs `rekcon serve` until SIGINT (Ctrl-C), SIGTERM or SIGHUP, printing the URL it
/// listens on to `out`. Returns the exit code: 0 after `--list-mutants`, else 128 + the
/// number of the signal that stopped it (130, 143, 129).
pub fn run(args: &ServeArgs, out: &mut dyn Write) -> Result<u8, ServeError> {
    let io = |e: std::io::Error| ServeError::Io(e.to_string());
    if args.list_mutants {
        return list_mutants(out).map(|()| 0).map_err(io);
    }
    let interrupts = Interrupts::watch(Box::new(|_, _| {}));
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(io)?;
    runtime.block_on(async {
        let server = Server::start(args.config()).await?;
        writeln!(out, "rekcon serve listening on {}", server.url()).map_err(io)?;
        if let Some(path) = &args.state {
            writeln!(out, "state: {} (saved on exit)", path.display()).map_err(io)?;
        }
        if !args.bind.is_loopback() {
            writeln!(
                out,
                "warning: {} is reachable from the network; anyone who can reach it can use it",
                args.bind
            )
            .map_err(io)?;
        }
        for m in &args.mutants {
            writeln!(out, "planted bug: {} ({})", m.name(), m.description()).map_err(io)?;
        }
        if args.detector != Detector::Marker {
            writeln!(
                out,
                "detector: {} (one fixed face for any image, similarity from a hash of the ids; \
                 judge it with rekcon run --faces endpoint)",
                args.detector.name()
            )
            .map_err(io)?;
        }
        out.flush().map_err(io)?;
        let signal = interrupts.nth(1).await;
        // A second signal does not wait for the open connections to close.
        let saver = server.saver();
        tokio::select! {
            () = server.shutdown() => {}
            _ = interrupts.nth(2) => {}
        }
        if let Some(path) = saver.save()? {
            writeln!(out, "state saved to {}", path.display()).map_err(io)?;
        }
        Ok(signal.exit_code())
    })
}
