//! What a run is configured with: the `rekcon run` options, the environment variables
//! the test binary reads, and the validation that turns them into a [`RunConfig`].
//!
//! Endpoint precedence, highest first: `--endpoint-url` (or `REKCON_ENDPOINT_URL`), then
//! the SDK's own `AWS_ENDPOINT_URL_REKOGNITION` and `AWS_ENDPOINT_URL`; with none of these,
//! `--aws` means real AWS through the standard resolution, and otherwise the built-in
//! emulator is started in-process. An endpoint on an AWS domain needs `--aws`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::Error;
use crate::model::{FaceSource, ModelConfig};
use crate::report::Repro;
use crate::serve::cli::parse_mutant;
use crate::serve::{Detector, Mutant, ServeConfig};

/// Environment variables that name an endpoint, in precedence order after the flag.
const ENDPOINT_ENV: [&str; 2] = ["AWS_ENDPOINT_URL_REKOGNITION", "AWS_ENDPOINT_URL"];

/// The endpoint URL the AWS configuration gives Rekognition, resolved by aws-config's
/// own loader as every SDK resolves it: `AWS_ENDPOINT_URL_REKOGNITION`, then
/// `AWS_ENDPOINT_URL`, then the profile's `services` section (`rekognition =
/// endpoint_url = ...`), then the profile's `endpoint_url`; none of them when
/// `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` (or the profile's
/// `ignore_configured_endpoint_urls`) is true. With where it came from, for messages.
pub fn configured_endpoint(profile: Option<&str>) -> Option<(String, &'static str)> {
    let profile = profile.map(str::to_string);
    // A runtime of its own on a thread of its own: callers may be inside one already.
    let resolved = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
        runtime.block_on(async {
            use aws_config::BehaviorVersion;
            // A fixed region: the lookup must never wait for the instance metadata service.
            let mut loader =
                aws_config::defaults(BehaviorVersion::latest()).region(aws_config::Region::new("us-east-1"));
            if let Some(profile) = &profile {
                loader = loader.profile_name(profile);
            }
            let shared = loader.load().await;
            let key = |env, profile| {
                aws_types::service_config::ServiceConfigKey::builder()
                    .service_id("Rekognition")
                    .env(env)
                    .profile(profile)
                    .build()
                    .ok()
            };
            let service = shared.service_config();
            let lookup = |env, profile| service.and_then(|conf| conf.load_config(key(env, profile)?));
            // The loader drops the shared endpoint_url when told to ignore configured
            // ones, but the service-specific lookup does not: apply the flag to both.
            let ignore = lookup("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "ignore_configured_endpoint_urls");
            if ignore.is_some_and(|v| v.trim().eq_ignore_ascii_case("true")) {
                return None;
            }
            lookup("AWS_ENDPOINT_URL", "endpoint_url").or_else(|| shared.endpoint_url().map(str::to_string))
        })
    })
    .join()
    .ok()
    .flatten()?;
    let source = ENDPOINT_ENV
        .iter()
        .find(|name| std::env::var(name).is_ok_and(|v| v.trim() == resolved.trim()))
        .copied()
        .unwrap_or("the AWS configuration (endpoint_url)");
    Some((resolved, source))
}

/// The start of every collection name rekcon creates (`rekcon-<run>-<n>-<name>`), so
/// `rekcon cleanup` can tell them from everyone else's.
pub const COLLECTION_PREFIX: &str = "rekcon-";

/// `rekcon run` options.
/// The endpoint and credential flags `rekcon run`, `cleanup` and `fuzz` share, declared
/// once so they cannot drift apart (the URL's value is never shown: it may hold userinfo).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct EndpointArgs {
    /// The endpoint (default: the built-in emulator, started in-process; also AWS_ENDPOINT_URL).
    #[arg(long, env = "REKCON_ENDPOINT_URL", hide_env_values = true, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Region to sign for (default: the AWS configuration's, else us-east-1).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Named profile of the AWS configuration files to take credentials and region from.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Confirm real AWS (it costs money); needed for any amazonaws.com endpoint.
    #[arg(long)]
    pub aws: bool,
}

/// Report files beyond JSON and JUnit, and the known-divergence baseline.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ReportArgs {
    /// Check the run against this known-divergence baseline: fail (exit 1) only on a new
    /// cause, a known cause whose observed class changed, a known cause that no longer
    /// appears ("fixed"), or an entry past its `expires:` date.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Write every cause of this run as a baseline (reasons of an existing file are kept).
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// Write a self-contained HTML report here (no network needed; opens from file://).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Write a Markdown summary here (the matrix and the causes), e.g. $GITHUB_STEP_SUMMARY.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// Scenarios to run (all when none is given; any filter may match). A filter matches
    /// whole segments of a scenario's name: `associate` selects associate/*, not
    /// disassociate/*; `create_user` selects users/create_user, not
    /// users/create_user_duplicate; `users/create_user` names one scenario. `*` matches
    /// any characters within a segment: `face_limit*`, `*token*` for a substring. A file
    /// or folder path (`scenarios/users/create_user.yaml`, `scenarios/users`) selects what
    /// it holds.
    #[arg(value_name = "PATH_OR_NAME")]
    pub filters: Vec<String>,
    /// Leave out the scenarios this filter matches (repeatable; matched as PATH_OR_NAME).
    #[arg(long = "skip", value_name = "PATTERN")]
    pub skip: Vec<String>,
    /// Filters and --skip patterns name whole scenarios (`users/create_user`), no wildcards.
    #[arg(long)]
    pub exact: bool,
    /// Run only scenarios matching this tag expression: tags with and, or, not and
    /// parentheses (`users and not slow`); repeatable, any of them matches. A tag no
    /// scenario carries is an error, with the closest one suggested.
    #[arg(long = "tag", value_name = "EXPR")]
    pub tags: Vec<String>,
    /// Print the selected scenarios' names, one a line, and exit without running them.
    #[arg(long)]
    pub list: bool,
    /// Start no scenario after the first that does not pass; the ones under way finish,
    /// the rest are reported as not run.
    #[arg(long)]
    pub fail_fast: bool,
    /// Where calls go, and with which credentials.
    #[command(flatten)]
    pub endpoint: EndpointArgs,
    /// Scenarios run at the same time (default: the number of CPU cores for the built-in
    /// emulator, 128 for an endpoint URL or real AWS, paced by the rate limiter).
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Write a JSON report here (format_version 2).
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
    /// Write a JUnit XML report here.
    #[arg(long, value_name = "PATH")]
    pub junit: Option<PathBuf>,
    /// Baselines, HTML and Markdown reports.
    #[command(flatten)]
    pub reports: ReportArgs,
    /// Longest wait for users to settle before a search (e.g. 60s, 500ms).
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub settle_timeout: Duration,
    /// The scenarios folder (its `images/` holds the fixture images). Default:
    /// ./scenarios when it exists (a checkout: edits take effect at once), else the
    /// suite built into rekcon (`rekcon scenarios export DIR` writes it out).
    #[arg(long, value_name = "DIR")]
    pub scenarios: Option<PathBuf>,
    /// Built-in emulator only: plant this bug (see `rekcon serve --list-mutants`), e.g.
    /// to replay a fuzz finding in one command; repeat to stack several.
    #[arg(long = "mutant", value_parser = parse_mutant, value_name = "NAME")]
    pub mutants: Vec<Mutant>,
    /// Where the model learns which faces an image holds: `marker` (the fixtures'
    /// marker), `catalogue` (images/catalogue.yaml, the marker for images it does not
    /// declare) or `endpoint` (the faces the endpoint reports; who they show is unknown,
    /// so identity-dependent checks become structural). Default: the marker, with a
    /// catalogue.yaml taking precedence where the folder has one; `endpoint` with
    /// `--detector canned`.
    #[arg(long, value_enum, value_name = "SOURCE")]
    pub faces: Option<Faces>,
    /// Built-in emulator only: its face detector (see `rekcon serve --detector`).
    #[arg(long, value_enum, default_value_t = Detector::Marker, value_name = "DETECTOR")]
    pub detector: Detector,
    /// Write a cassette per scenario below DIR: every exchange, raw, with its provenance
    /// and no credential (docs/cassettes.md). Meant for `--aws`.
    #[arg(long, value_name = "DIR")]
    pub record: Option<PathBuf>,
    /// Run the scenarios recorded in DIR and compare each step three ways: endpoint,
    /// recording, model (docs/cassettes.md).
    #[arg(long, value_name = "DIR")]
    pub against: Option<PathBuf>,
    /// Narrow the model to what recordings of AWS settled (docs/settlements.md);
    /// default: settlements.yaml in the scenarios folder, when there is one.
    #[arg(long, value_name = "FILE")]
    pub settlements: Option<PathBuf>,
    /// Request budgets: --estimate, --max-requests, --yes.
    #[command(flatten)]
    pub budget: crate::budget::BudgetArgs,
}

/// `--faces`: where the model learns which faces an image holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Faces {
    /// The fixtures' marker; a catalogue.yaml is ignored.
    Marker,
    /// images/catalogue.yaml (required), the marker for images it does not declare.
    Catalogue,
    /// What the endpoint's own detector reports; who each face shows is unknown.
    Endpoint,
}

/// Which endpoint the SDK client talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// The built-in emulator at this URL; signed with fixed dummy credentials.
    BuiltIn(String),
    /// Any other endpoint URL; credentials from the standard chain (dummy ones if it has none).
    Url(String),
    /// Real AWS through the SDK's standard endpoint resolution.
    Aws,
}

/// How the SDK client is built.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetConfig {
    /// Where to send calls.
    pub endpoint: Endpoint,
    /// Signing region; when `None`, the AWS configuration's, else `us-east-1`.
    pub region: Option<String>,
    /// Profile of the AWS configuration files.
    pub profile: Option<String>,
    /// Longest wait to open a connection.
    pub connect_timeout: Duration,
    /// Longest wait for one attempt.
    pub attempt_timeout: Duration,
    /// Longest wait for a call, retries included.
    pub operation_timeout: Duration,
    /// Attempts per call, the first included (the SDK retries throttling, 5xx and I/O errors).
    pub max_attempts: u32,
}

impl TargetConfig {
    /// Defaults for `endpoint`: 3 s to connect, 30 s per attempt, 90 s per call, 3 attempts.
    pub fn new(endpoint: Endpoint) -> TargetConfig {
        TargetConfig {
            endpoint,
            region: None,
            profile: None,
            connect_timeout: Duration::from_secs(3),
            attempt_timeout: Duration::from_secs(30),
            operation_timeout: Duration::from_secs(90),
            max_attempts: 3,
        }
    }

    /// Whether calls reach real AWS (so every resource must carry the run prefix).
    pub fn is_aws(&self) -> bool {
        match &self.endpoint {
            Endpoint::Aws => true,
            Endpoint::Url(url) => is_aws_url(url),
            Endpoint::BuiltIn(_) => false,
        }
    }

    /// The endpoint for humans, without any credentials a URL may carry.
    pub fn describe(&self) -> String {
        match &self.endpoint {
            Endpoint::BuiltIn(url) => format!("built-in emulator at {}", redact_url(url)),
            Endpoint::Url(url) => redact_url(url),
            Endpoint::Aws => format!(
                "real AWS ({})",
                self.region.as_deref().unwrap_or("region from the AWS configuration")
            ),
        }
    }
}

/// Where calls go before the built-in emulator (if any) is started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndpointChoice {
    /// Start the built-in emulator.
    BuiltIn,
    /// This URL, from this source (`--endpoint-url`, `AWS_ENDPOINT_URL`, ...).
    Url {
        /// The URL.
        url: String,
        /// Where it came from, for messages.
        source: &'static str,
    },
    /// Real AWS.
    Aws,
}

/// Scenarios (and fuzz lanes) in flight by default against an endpoint URL or real AWS.
/// A distant endpoint's calls mostly wait on the network, and scenarios share nothing
/// (each has its own collections), so the cores do not bound them: the rate limiter
/// ([`crate::ratelimit`]) paces each operation to what the endpoint accepts.
pub const REMOTE_JOBS: usize = 128;

impl EndpointChoice {
    /// The default `--jobs`: the number of cores for the built-in emulator (in-process,
    /// CPU-bound: more would only contend), [`REMOTE_JOBS`] for anything else.
    pub fn default_jobs(&self) -> usize {
        match self {
            EndpointChoice::BuiltIn => std::thread::available_parallelism().map_or(2, |n| n.get()),
            EndpointChoice::Url { .. } | EndpointChoice::Aws => REMOTE_JOBS,
        }
    }
}

/// Everything one `rekcon run` needs, validated.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// The endpoint to use.
    pub endpoint: EndpointChoice,
    /// Signing region.
    pub region: Option<String>,
    /// AWS configuration profile.
    pub profile: Option<String>,
    /// Whether `--aws` was given.
    pub aws: bool,
    /// The scenarios folder.
    pub scenarios: PathBuf,
    /// Name or path filters.
    pub filters: Vec<String>,
    /// Tag filters.
    pub tags: Vec<String>,
    /// Scenarios at once.
    pub jobs: usize,
    /// Longest wait for users to settle.
    pub settle_timeout: Duration,
    /// JSON report path.
    pub json: Option<PathBuf>,
    /// JUnit report path.
    pub junit: Option<PathBuf>,
    /// Baseline, HTML and Markdown options.
    pub reports: ReportArgs,
    /// The bugs planted in the built-in emulator, in order (none for a clean one).
    pub mutants: Vec<Mutant>,
    /// Where the model learns which faces an image holds.
    pub faces: FaceSource,
    /// The built-in emulator's face detector.
    pub detector: Detector,
    /// `--record DIR`.
    pub record: Option<PathBuf>,
    /// `--against DIR`.
    pub against: Option<PathBuf>,
    /// The settlements the model is narrowed by (`--settlements`, or the suite's own).
    pub settlements: Option<std::sync::Arc<crate::settle::Settlements>>,
}

impl RunConfig {
    /// Validates the options and resolves the endpoint (see the module docs for precedence).
    pub fn from_args(args: RunArgs) -> Result<RunConfig, Error> {
        let env_endpoint =
            configured_endpoint(args.endpoint.profile.as_deref()).filter(|(url, _)| !url.trim().is_empty());
        let endpoint = resolve_endpoint(args.endpoint.endpoint_url, env_endpoint, args.endpoint.aws)?;
        if args.jobs == Some(0) {
            return Err(Error::Config("--jobs must be at least 1".into()));
        }
        let jobs = args.jobs.unwrap_or_else(|| endpoint.default_jobs());
        if !args.mutants.is_empty() && endpoint != EndpointChoice::BuiltIn {
            return Err(Error::Config(
                "--mutant plants a bug in the built-in emulator; it cannot go with an endpoint URL or --aws"
                    .into(),
            ));
        }
        if args.detector != Detector::Marker && endpoint != EndpointChoice::BuiltIn {
            return Err(Error::Config(
                "--detector configures the built-in emulator; it cannot go with an endpoint URL or --aws \
                 (start `rekcon serve --detector canned` and pass its URL with --faces endpoint)"
                    .into(),
            ));
        }
        let scenarios = args.scenarios.unwrap_or_else(|| PathBuf::from(crate::suite::DEFAULT_DIR));
        let settlements = crate::settle::for_run(args.settlements.as_deref(), &scenarios)
            .map_err(|e| Error::Config(e.to_string()))?
            .map(std::sync::Arc::new);
        let faces = match (args.faces, args.detector) {
            (Some(Faces::Marker), _) => FaceSource::Marker,
            (Some(Faces::Catalogue), _) => {
                let file = scenarios.join(crate::scenario::IMAGES_DIR).join(crate::scenario::CATALOGUE_FILE);
                if !file.is_file() {
                    return Err(Error::Config(format!(
                        "--faces catalogue needs {}, which does not exist",
                        file.display()
                    )));
                }
                FaceSource::Catalogue
            }
            (Some(Faces::Endpoint), _) | (None, Detector::Canned) => FaceSource::Endpoint,
            (None, Detector::Marker) => FaceSource::Catalogue,
        };
        Ok(RunConfig {
            endpoint,
            region: args.endpoint.region,
            profile: args.endpoint.profile,
            aws: args.endpoint.aws,
            scenarios,
            filters: args.filters,
            tags: args.tags,
            jobs,
            settle_timeout: args.settle_timeout,
            json: args.json,
            junit: args.junit,
            reports: args.reports,
            mutants: args.mutants,
            faces,
            detector: args.detector,
            record: args.record,
            against: args.against,
            settlements,
        })
    }

    /// The built-in emulator this run starts when it has no endpoint: its planted bugs
    /// and its detector, otherwise the defaults.
    pub fn serve_config(&self) -> ServeConfig {
        ServeConfig { mutants: self.mutants.clone(), detector: self.detector, ..ServeConfig::default() }
    }

    /// What the model knows of the endpoint: its region, where faces come from, and
    /// (for the built-in emulator) its account.
    pub fn model_config(&self, region: &str, built_in: bool) -> ModelConfig {
        ModelConfig {
            region: Some(region.to_string()),
            account: built_in.then(|| ServeConfig::default().account),
            faces: self.faces,
            settlements: self.settlements.clone(),
            ..ModelConfig::default()
        }
    }

    /// The line `rekcon run` prints about the built-in emulator's planted bugs and
    /// detector, when they are not the defaults.
    pub fn emulator_notice(&self) -> Option<String> {
        let mut parts = Vec::new();
        if !self.mutants.is_empty() {
            let names: Vec<String> = self.mutants.iter().map(|m| format!("`{}`", m.name())).collect();
            let noun = if names.len() == 1 { "bug" } else { "bugs" };
            parts.push(format!("the planted {noun} {}", names.join(" and ")));
        }
        if self.detector != Detector::Marker {
            parts.push(format!("the `{}` detector", self.detector.name()));
        }
        (!parts.is_empty()).then(|| format!("the built-in emulator runs with {}", parts.join(" and ")))
    }

    /// The target configuration, given the built-in emulator's URL when one was started
    /// (for [`EndpointChoice::BuiltIn`] it must be).
    pub fn target(&self, emulator_url: Option<&str>) -> TargetConfig {
        let endpoint = match (&self.endpoint, emulator_url) {
            (EndpointChoice::Url { url, .. }, _) => Endpoint::Url(url.clone()),
            (EndpointChoice::Aws, _) => Endpoint::Aws,
            (EndpointChoice::BuiltIn, Some(url)) => Endpoint::BuiltIn(url.to_string()),
            (EndpointChoice::BuiltIn, None) => Endpoint::BuiltIn(String::new()),
        };
        TargetConfig {
            region: self.region.clone(),
            profile: self.profile.clone(),
            ..TargetConfig::new(endpoint)
        }
    }

    /// How a report spells the command that reproduces one scenario.
    pub fn repro(&self) -> Repro {
        let mut flags = String::new();
        if let EndpointChoice::Url { url, .. } = &self.endpoint {
            flags.push_str(&format!(" --endpoint-url {}", redact_url(url)));
        }
        if let Some(region) = &self.region {
            flags.push_str(&format!(" --region {region}"));
        }
        if let Some(profile) = &self.profile {
            flags.push_str(&format!(" --profile {profile}"));
        }
        if self.aws {
            flags.push_str(" --aws");
        }
        for mutant in &self.mutants {
            flags.push_str(&format!(" --mutant {}", mutant.name()));
        }
        if self.detector != Detector::Marker {
            flags.push_str(&format!(" --detector {}", self.detector.name()));
        }
        match self.faces {
            FaceSource::Marker => flags.push_str(" --faces marker"),
            // The default, unless the detector implies endpoint faces.
            FaceSource::Catalogue if self.detector != Detector::Marker => {
                flags.push_str(" --faces catalogue")
            }
            FaceSource::Endpoint if self.detector == Detector::Marker => flags.push_str(" --faces endpoint"),
            _ => {}
        }
        // A scenario's name only means something inside its folder.
        if self.scenarios != Path::new("scenarios") {
            flags.push_str(&format!(" --scenarios {}", self.scenarios.display()));
        }
        Repro::Cli { flags }
    }
}

/// `rekcon cleanup` options: the endpoint flags of `rekcon run`, and what to delete.
#[derive(Debug, Clone, clap::Args)]
#[command(mut_arg("endpoint_url", |a| a.help(
    "The endpoint to clean up (required, or AWS_ENDPOINT_URL; --aws alone means real AWS); \
     the built-in emulator keeps nothing between runs, so it has nothing to clean up"
)))]
pub struct CleanupArgs {
    /// Where calls go, and with which credentials.
    #[command(flatten)]
    pub endpoint: EndpointArgs,
    /// Delete the collections whose name starts with this: `rekcon-` is every run's,
    /// `rekcon-<run>-` one run's.
    #[arg(long, value_name = "PREFIX", default_value = COLLECTION_PREFIX)]
    pub prefix: String,
    /// Accept a --prefix that does not start with `rekcon-` (it may match collections
    /// rekcon did not create).
    #[arg(long)]
    pub force_prefix: bool,
    /// Only list what would be deleted.
    #[arg(long)]
    pub dry_run: bool,
    /// Delete exactly what the journals of dead runs name, each on the endpoint it names
    /// (never a live run's, never anything else), then remove those journals. Journals
    /// naming real AWS need --aws.
    #[arg(long, conflicts_with_all = ["prefix", "force_prefix", "endpoint_url"])]
    pub journal: bool,
    /// With --journal: remove the journals of dead runs whose endpoint gives no answer at
    /// all (an emulator that is gone, and its state with it), after listing what each
    /// named. Never a journal naming real AWS.
    #[arg(long, requires = "journal")]
    pub forget_unreachable: bool,
}

/// Everything one `rekcon cleanup` needs, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct CleanupConfig {
    /// The endpoint and credentials, as `rekcon run` would build them.
    pub target: TargetConfig,
    /// Collections whose name starts with this are deleted.
    pub prefix: String,
    /// List only.
    pub dry_run: bool,
}

impl CleanupConfig {
    /// Validates the options: an endpoint is required (the built-in emulator keeps
    /// nothing between runs), real AWS needs `--aws`, and the prefix must start with
    /// `rekcon-` unless `--force-prefix`, so a typo cannot delete someone else's data.
    pub fn from_args(args: CleanupArgs) -> Result<CleanupConfig, Error> {
        let env_endpoint =
            configured_endpoint(args.endpoint.profile.as_deref()).filter(|(url, _)| !url.trim().is_empty());
        let endpoint = match resolve_endpoint(args.endpoint.endpoint_url, env_endpoint, args.endpoint.aws)? {
            EndpointChoice::Url { url, .. } => Endpoint::Url(url),
            EndpointChoice::Aws => Endpoint::Aws,
            EndpointChoice::BuiltIn => {
                return Err(Error::Config(
                    "rekcon cleanup needs an endpoint: --endpoint-url URL (or AWS_ENDPOINT_URL), or \
                     --aws for real AWS (the built-in emulator keeps nothing between runs)"
                        .into(),
                ));
            }
        };
        check_cleanup_prefix(&args.prefix, args.force_prefix)?;
        Ok(CleanupConfig {
            target: TargetConfig {
                region: args.endpoint.region,
                profile: args.endpoint.profile,
                ..TargetConfig::new(endpoint)
            },
            prefix: args.prefix,
            dry_run: args.dry_run,
        })
    }
}

/// Refuses a prefix that could match collections rekcon did not create.
pub fn check_cleanup_prefix(prefix: &str, force: bool) -> Result<(), Error> {
    if prefix.is_empty() {
        return Err(Error::Config("--prefix cannot be empty: it would delete every collection".into()));
    }
    if !force && !prefix.starts_with(COLLECTION_PREFIX) {
        return Err(Error::Config(format!(
            "--prefix `{prefix}` does not start with `{COLLECTION_PREFIX}`, so it may match collections \
             rekcon did not create; pass --force-prefix if you mean it"
        )));
    }
    Ok(())
}

/// Picks the endpoint from the flag, the SDK's environment variables and `--aws`.
pub fn resolve_endpoint(
    flag: Option<String>,
    env: Option<(String, &'static str)>,
    aws: bool,
) -> Result<EndpointChoice, Error> {
    let chosen = match (flag.filter(|f| !f.trim().is_empty()), env) {
        (Some(url), _) => Some((url, "--endpoint-url")),
        (None, Some((url, source))) => Some((url, source)),
        (None, None) => None,
    };
    match chosen {
        Some((url, source)) => {
            let url = url.trim().to_string();
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(Error::Config(format!(
                    "{source} must be an http:// or https:// URL, got {}",
                    redact_url(&url)
                )));
            }
            if is_aws_url(&url) && !aws {
                return Err(Error::AwsNotConfirmed { endpoint: redact_url(&url) });
            }
            Ok(EndpointChoice::Url { url, source })
        }
        None if aws => Ok(EndpointChoice::Aws),
        None => Ok(EndpointChoice::BuiltIn),
    }
}

/// The host of a URL, without credentials or port.
fn host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host_port.starts_with('[') {
        return host_port.split_once(']').map_or(host_port, |(h, _)| h.trim_start_matches('['));
    }
    host_port.split(':').next().unwrap_or_default()
}

/// Whether `url` points at an AWS service domain.
pub fn is_aws_url(url: &str) -> bool {
    let host = host(url).to_ascii_lowercase();
    let host = host.trim_end_matches('.');
    ["amazonaws.com", "amazonaws.com.cn", "api.aws"]
        .iter()
        .any(|domain| host == *domain || host.ends_with(&format!(".{domain}")))
}

/// `url` without any `user:password@` part.
pub fn redact_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            let (authority, path) = rest.split_at(end);
            let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            format!("{scheme}://{authority}{path}")
        }
        None => url.to_string(),
    }
}

/// Parses `60s`, `500ms`, `2m` or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let value: f64 = number.parse().map_err(|_| format!("`{text}` is not a duration like 60s or 500ms"))?;
    let seconds = match unit.trim() {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        other => return Err(format!("unknown unit `{other}` in `{text}` (use ms, s or m)")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("`{text}`: {e}"))
}

/// The test binary's configuration: `REKCON_ENDPOINT_URL` (else the built-in emulator),
/// `REKCON_REGION`, `REKCON_PROFILE`, `REKCON_AWS=1`.
pub fn from_env() -> Result<RunConfig, Error> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let aws = var("REKCON_AWS").is_some_and(|v| v != "0");
    let endpoint = resolve_endpoint(var("REKCON_ENDPOINT_URL"), None, aws)?;
    Ok(RunConfig {
        endpoint,
        region: var("REKCON_REGION"),
        profile: var("REKCON_PROFILE"),
        aws,
        scenarios: PathBuf::from("scenarios"),
        filters: Vec::new(),
        tags: Vec::new(),
        jobs: 1,
        settle_timeout: Duration::from_secs(60),
        json: None,
        junit: None,
        reports: ReportArgs::default(),
        mutants: Vec::new(),
        faces: FaceSource::Catalogue,
        detector: Detector::Marker,
        record: None,
        against: None,
        settlements: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_hosts_need_confirmation() {
        assert!(is_aws_url("https://rekognition.us-east-1.amazonaws.com"));
        assert!(is_aws_url("https://user:pw@rekognition.eu-west-1.amazonaws.com:443/"));
        assert!(is_aws_url("https://rekognition-fips.us-east-1.api.aws"));
        assert!(!is_aws_url("http://127.0.0.1:4566"));
        assert!(!is_aws_url("http://notamazonaws.com"));
        let err = resolve_endpoint(Some("https://rekognition.us-east-1.amazonaws.com".into()), None, false)
            .unwrap_err();
        assert!(matches!(err, Error::AwsNotConfirmed { .. }));
        assert!(
            resolve_endpoint(Some("https://rekognition.us-east-1.amazonaws.com".into()), None, true).is_ok()
        );
    }

    #[test]
    fn endpoint_precedence() {
        let env = Some(("http://env:1".to_string(), "AWS_ENDPOINT_URL"));
        assert_eq!(
            resolve_endpoint(Some("http://flag:1".into()), env.clone(), false).unwrap(),
            EndpointChoice::Url { url: "http://flag:1".into(), source: "--endpoint-url" }
        );
        assert_eq!(
            resolve_endpoint(None, env, false).unwrap(),
            EndpointChoice::Url { url: "http://env:1".into(), source: "AWS_ENDPOINT_URL" }
        );
        assert_eq!(resolve_endpoint(None, None, true).unwrap(), EndpointChoice::Aws);
        assert_eq!(resolve_endpoint(None, None, false).unwrap(), EndpointChoice::BuiltIn);
        assert!(resolve_endpoint(Some("localhost:4566".into()), None, false).is_err());
    }

    #[test]
    fn credentials_in_urls_are_never_shown() {
        assert_eq!(redact_url("http://AKID:secret@host:9/x"), "http://host:9/x");
        assert_eq!(redact_url("http://host:9"), "http://host:9");
    }

    #[test]
    fn cleanup_prefixes_stay_within_rekcons_names_unless_forced() {
        assert!(check_cleanup_prefix("rekcon-", false).is_ok());
        assert!(check_cleanup_prefix("rekcon-1a2b3c4d-", false).is_ok());
        let err = check_cleanup_prefix("test-", false).unwrap_err().to_string();
        assert!(err.contains("--force-prefix"), "{err}");
        assert!(check_cleanup_prefix("test-", true).is_ok());
        assert!(check_cleanup_prefix("", true).is_err());
    }

    #[test]
    fn reproduce_commands_name_a_non_default_scenarios_folder() {
        let mut config = from_env().unwrap();
        assert!(!config.repro().command("users/x").contains("--scenarios"));
        config.scenarios = PathBuf::from("/tmp/suite");
        assert_eq!(config.repro().command("users/x"), "rekcon run users/x --scenarios /tmp/suite");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("60s").unwrap(), Duration::from_secs(60));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("5").unwrap(), Duration::from_secs(5));
        assert!(parse_duration("5h").is_err());
    }
}
