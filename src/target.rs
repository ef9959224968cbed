//! The SDK target: sends calls to an endpoint through `aws-sdk-rekognition` and hands back
//! the raw HTTP response of the last attempt.
//!
//! This is the only module that imports `aws_sdk_rekognition` and `aws_config`. It executes
//! and judges nothing: the runner judges what it returns.
//!
//! How the raw wire is read. One client-wide interceptor ([`WireTap`]) copies the status,
//! three headers and the body of every attempt in `read_after_attempt`, after the SDK has
//! loaded the body but before anything lenient happens to it. Per-call state lives in a
//! tokio task-local, set around each call: the SDK runs interceptors inside the calling
//! task, so no per-call plugin (`customize().interceptor(..)`) has to be built.
//!
//! How raw steps are sent. A raw step still goes through the SDK: a ListCollections call
//! whose body and `X-Amz-Target` the same interceptor replaces in `modify_before_signing`,
//! so the SDK signs, retries and times it exactly like a typed call. (Signing by hand with
//! aws-sigv4 and sending with hyper would duplicate the retry and timeout logic.)

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_credential_types::Credentials;
use aws_credential_types::provider::ProvideCredentials;
use aws_sdk_rekognition::config::Region;
use aws_sdk_rekognition::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_rekognition::primitives::Blob;
use aws_sdk_rekognition::types;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextMut, BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;

use crate::api::{self, Operation, Request};
use crate::check::RawResponse;
use crate::config::{Endpoint, TargetConfig};
use crate::error::{Error, NoAnswer};
use crate::ratelimit::{Limiter, OperationRetries, Round};

/// Region used when neither the options nor the AWS configuration name one.
const FALLBACK_REGION: &str = "us-east-1";
/// Most ListCollections pages [`Target::list_collection_ids`] follows: a guard against an
/// endpoint that hands out fresh tokens forever.
const MAX_LISTING_PAGES: usize = 10_000;
/// Times a call still throttled after the SDK's attempts is sent again, each time when
/// the rate limiter lets it go (a throttled request was not executed).
const MAX_RESENDS: u32 = 10;

/// Why a housekeeping call (listing or deleting collections outside any scenario, for
/// `rekcon cleanup`) did not succeed. Nothing here is judged: only "done or not".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HousekeepingError {
    /// No usable answer (transport, timeout, a listing that never ends).
    #[error(transparent)]
    NoAnswer(#[from] NoAnswer),
    /// The endpoint answered with an error (access denied, throttling after retries, ...).
    #[error("{code}: {message}")]
    Refused {
        /// The error type, e.g. `AccessDeniedException`.
        code: String,
        /// The error message, possibly empty.
        message: String,
    },
}

/// How a housekeeping deletion ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deletion {
    /// The endpoint deleted the collection.
    Deleted,
    /// The endpoint had no such collection (someone deleted it meanwhile).
    AlreadyGone,
}

/// Splits an SDK failure into "the endpoint said no" and "no answer".
fn housekeeping_error<E, R>(error: SdkError<E, R>) -> HousekeepingError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    match &error {
        SdkError::ServiceError(context) => HousekeepingError::Refused {
            code: context.err().code().unwrap_or("an unnamed error").to_string(),
            message: context.err().message().unwrap_or_default().to_string(),
        },
        _ => HousekeepingError::NoAnswer(NoAnswer::new(error_chain(&error))),
    }
}

/// One call to send.
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    /// A typed request, built with the SDK's own builders (the SDK fills in an absent
    /// ClientRequestToken). Values the SDK cannot represent exactly (an integer beyond
    /// i32, a float that is not an exact f32) are sent raw instead, byte for byte.
    Typed(Request),
    /// A signed request with this `X-Amz-Target` and body, byte for byte.
    Raw {
        /// The `X-Amz-Target` header.
        target: String,
        /// The body.
        body: String,
    },
}

impl Call {
    /// The operation called, when it is one of the 16.
    pub fn operation(&self) -> Option<Operation> {
        match self {
            Call::Typed(request) => Some(request.operation()),
            Call::Raw { target, .. } => {
                target.strip_prefix("RekognitionService.").and_then(Operation::from_name)
            }
        }
    }

    /// The `X-Amz-Target` header the call carries.
    pub fn target_header(&self) -> String {
        match self {
            Call::Typed(request) => request.operation().target(),
            Call::Raw { target, .. } => target.clone(),
        }
    }
}

/// A Rekognition endpoint reached through the SDK. Built once per run; cheap to share
/// (clones share one rate limiter).
#[derive(Debug, Clone)]
pub struct Target {
    client: aws_sdk_rekognition::Client,
    region: String,
    description: String,
    limiter: Arc<Limiter>,
    /// Longest time a call is sent again after throttling ([`TargetConfig::operation_timeout`]).
    resend_for: Duration,
    /// The run journal every creating call is written to before it is sent.
    journal: Option<Arc<crate::journal::Journal>>,
}

/// Per-call state shared between [`Target::send`] and the interceptor.
#[derive(Debug, Default)]
struct Exchange {
    /// For raw calls: the `X-Amz-Target` and body to send instead of the SDK's.
    replace: Option<(String, Vec<u8>)>,
    /// The last attempt's response; `None` when it got none.
    response: Option<Attempt>,
    /// Attempts made.
    attempts: u32,
    /// Attempts answered with throttling.
    throttled: u32,
}

/// What the last attempt got back.
#[derive(Debug)]
enum Attempt {
    Read(RawResponse),
    /// A response whose body could not be read (cut short, timed out).
    Unreadable {
        status: u16,
    },
}

tokio::task_local! {
    static EXCHANGE: RefCell<Exchange>;
}

/// Reads every attempt's raw response and, for raw calls, swaps in the raw body.
#[derive(Debug)]
struct WireTap;

impl Intercept for WireTap {
    fn name(&self) -> &'static str {
        "rekcon-wire-tap"
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // An attempt cut off by its timeout never reaches `read_after_attempt`; forget the
        // previous attempt's response so it is not taken for this one's.
        let _ = EXCHANGE.try_with(|exchange| {
            let mut exchange = exchange.borrow_mut();
            exchange.response = None;
            exchange.attempts += 1;
        });
        Ok(())
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let replacement = EXCHANGE.try_with(|exchange| exchange.borrow().replace.clone()).ok().flatten();
        if let Some((target, body)) = replacement {
            let request = context.request_mut();
            request.headers_mut().try_insert("x-amz-target", target)?;
            request.headers_mut().try_insert("content-length", body.len().to_string())?;
            *request.body_mut() = SdkBody::from(body);
        }
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let attempt = context.response().map(read_attempt);
        let throttled = matches!(&attempt, Some(Attempt::Read(raw)) if crate::check::is_throttling(raw));
        // Outside a `send` (no task-local) there is nobody to tell.
        let _ = EXCHANGE.try_with(|exchange| {
            let mut exchange = exchange.borrow_mut();
            exchange.response = attempt;
            exchange.throttled += u32::from(throttled);
        });
        Ok(())
    }
}

/// What one attempt's HTTP response holds, read without judging it.
fn read_attempt(response: &aws_smithy_runtime_api::http::Response) -> Attempt {
    let status = response.status().as_u16();
    match response.body().bytes() {
        Some(body) => {
            let header = |name: &str| response.headers().get(name).map(str::to_string);
            Attempt::Read(RawResponse {
                status,
                content_type: header("content-type"),
                request_id: header("x-amzn-requestid"),
                error_type: header("x-amzn-errortype"),
                headers: crate::record::safe_headers(response.headers().iter()),
                body: body.to_vec(),
            })
        }
        None => Attempt::Unreadable { status },
    }
}

/// A value the SDK's types cannot carry exactly; the call is then sent raw.
#[derive(Debug)]
struct Unrepresentable;

fn int(value: Option<i64>) -> Result<Option<i32>, Unrepresentable> {
    value.map(|v| i32::try_from(v).map_err(|_| Unrepresentable)).transpose()
}

fn float(value: Option<f64>) -> Result<Option<f32>, Unrepresentable> {
    value
        .map(|v| {
            let narrow = v as f32;
            if f64::from(narrow) == v || v.is_nan() { Ok(narrow) } else { Err(Unrepresentable) }
        })
        .transpose()
}

fn image(image: &Option<api::Image>) -> Option<types::Image> {
    image.as_ref().map(|i| {
        types::Image::builder()
            .set_bytes(i.bytes.as_ref().map(|b| Blob::new(b.as_bytes().to_vec())))
            .set_s3_object(i.s3_object.as_ref().map(|s| {
                types::S3Object::builder()
                    .set_bucket(s.bucket.clone())
                    .set_name(s.name.clone())
                    .set_version(s.version.clone())
                    .build()
            }))
            .build()
    })
}

/// Why an SDK call produced no response, for a [`NoAnswer`].
fn failure<O, E: std::error::Error + 'static, R: std::fmt::Debug + 'static>(
    result: Result<O, aws_sdk_rekognition::error::SdkError<E, R>>,
) -> Option<String> {
    result.err().map(|e| error_chain(&e))
}

/// An error and its sources, joined by `: ` (the SDK's own rendering adds Debug dumps).
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(e) = source {
        let text = e.to_string();
        if parts.last().is_none_or(|last| !last.contains(&text)) {
            parts.push(text);
        }
        source = e.source();
    }
    parts.join(": ")
}

/// The retry quota of one target, its own rather than the process-wide one the SDK shares
/// by service and region (so one target's failures never stop another's retries).
///
/// The SDK already classifies a dropped connection (`connection closed before message
/// completed`) as a transient error, like a 500 or a timeout, but a retry needs quota
/// from a token bucket that failed calls drain, faster when concurrent calls retry at
/// once. Real AWS keeps the SDK's standard quota, which protects it from retry storms;
/// any other endpoint (an emulator injecting faults, most of all) gets an unlimited one,
/// so that every transient error is retried up to the attempt limit and never turns
/// into a false "no answer".
fn retry_partition(is_aws: bool) -> aws_sdk_rekognition::config::retry::RetryPartition {
    use aws_smithy_runtime::client::retries::TokenBucket;
    let name = format!("rekcon-{}", uuid::Uuid::new_v4().simple());
    let bucket = if is_aws { TokenBucket::default() } else { TokenBucket::unlimited() };
    aws_sdk_rekognition::config::retry::RetryPartition::custom(name).token_bucket(bucket).build()
}

/// An error when `--profile NAME` names no profile of the AWS configuration files: the
/// SDK would otherwise fall back to other credentials (or rekcon to dummy ones) silently.
/// A profile that exists but holds no credentials of its own (a region only) is fine.
async fn check_profile(profile: &str) -> Result<(), Error> {
    use aws_config::profile::ProfileFileCredentialsProvider;
    use aws_config::profile::credentials::ProfileFileError;
    let provider = ProfileFileCredentialsProvider::builder().profile_name(profile).build();
    let Err(error) = provider.provide_credentials().await else { return Ok(()) };
    // aws-config hands the profile error on as text inside InvalidConfiguration; the
    // typed error is read where a version keeps it.
    let text = error_chain(&error);
    let mut missing = text.contains(&format!("profile `{profile}` was not defined"))
        || text.contains("No profiles were defined");
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    while let Some(e) = source {
        if let Some(typed) = e.downcast_ref::<ProfileFileError>() {
            missing |= match typed {
                ProfileFileError::NoProfilesDefined { .. } => true,
                ProfileFileError::MissingProfile { profile: name, .. } => name == profile,
                _ => false,
            };
        }
        source = e.source();
    }
    if !missing {
        // Some other failure (an SSO token to refresh, ...): the run reports it, as a set-up problem.
        return Ok(());
    }
    Err(Error::Config(format!(
        "--profile {profile}: no such profile in the AWS configuration files (~/.aws/config, \
         ~/.aws/credentials, or AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE)"
    )))
}

/// Retries a connection the endpoint closed before its answer was complete, as the SDK
/// retries its other transient transport errors. The SDK's own classifier retries
/// connector errors of the `io` and `timeout` kinds only, and hyper reports a closed
/// connection (`connection closed before message completed`) as `other`: without this,
/// one dropped connection ended a run as "no answer".
#[derive(Debug)]
struct DroppedConnection;

impl aws_smithy_runtime_api::client::retries::classifiers::ClassifyRetry for DroppedConnection {
    fn classify_retry(
        &self,
        ctx: &aws_smithy_runtime_api::client::interceptors::context::InterceptorContext,
    ) -> aws_smithy_runtime_api::client::retries::classifiers::RetryAction {
        use aws_smithy_runtime_api::client::retries::classifiers::RetryAction;
        let Some(Err(error)) = ctx.output_or_error() else { return RetryAction::NoActionIndicated };
        let Some(connector) = error.as_connector_error() else { return RetryAction::NoActionIndicated };
        if error_chain(connector).contains("connection closed before message completed") {
            RetryAction::transient_error()
        } else {
            RetryAction::NoActionIndicated
        }
    }

    fn name(&self) -> &'static str {
        "rekcon: a connection closed before the answer was complete"
    }
}

/// The retry settings the AWS configuration sets (`AWS_MAX_ATTEMPTS`, `AWS_RETRY_MODE`,
/// or a profile's `max_attempts` / `retry_mode`), as aws-config's loader resolved them;
/// `None` when it sets none (its result is then the SDK's default, standard with 3).
fn configured_retry_config(shared: &aws_config::SdkConfig) -> Option<RetryConfig> {
    let resolved = shared.retry_config()?;
    let from_env = ["AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE"].iter().any(|v| std::env::var_os(v).is_some());
    (from_env || *resolved != RetryConfig::standard()).then(|| resolved.clone())
}

impl Target {
    /// Builds the SDK client: aws-config's standard chain (environment, `--profile`,
    /// `--region`) for external endpoints, fixed dummy credentials for the built-in
    /// emulator; standard retries; connect, attempt and call timeouts.
    pub async fn connect(config: &TargetConfig) -> Result<Target, Error> {
        if let Some(profile) =
            config.profile.as_deref().filter(|_| !matches!(config.endpoint, Endpoint::BuiltIn(_)))
        {
            check_profile(profile).await?;
        }
        // Standard: rekcon's own limiter paces each operation after throttling (the SDK's
        // adaptive mode would slow every operation of the client at once).
        let mut retry = RetryConfig::standard().with_max_attempts(config.max_attempts.max(1));
        if !config.is_aws() {
            // A local endpoint answers fast; waiting seconds between attempts only slows runs.
            retry = retry
                .with_initial_backoff(std::time::Duration::from_millis(20))
                .with_max_backoff(std::time::Duration::from_secs(1));
        }
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(config.connect_timeout)
            .operation_attempt_timeout(config.attempt_timeout)
            .operation_timeout(config.operation_timeout)
            .build();
        let mut configured_retry = None;
        let builder = match &config.endpoint {
            Endpoint::BuiltIn(url) => {
                let region = config.region.clone().unwrap_or_else(|| FALLBACK_REGION.into());
                aws_sdk_rekognition::Config::builder()
                    .behavior_version(BehaviorVersion::latest())
                    .region(Region::new(region))
                    .credentials_provider(local_credentials())
                    .endpoint_url(url)
            }
            Endpoint::Url(url) => {
                let mut loader = aws_config::defaults(BehaviorVersion::latest()).endpoint_url(url);
                if let Some(region) = &config.region {
                    loader = loader.region(Region::new(region.clone()));
                }
                if let Some(profile) = &config.profile {
                    loader = loader.profile_name(profile);
                }
                let shared = loader.load().await;
                configured_retry = configured_retry_config(&shared);
                let mut builder = aws_sdk_rekognition::config::Builder::from(&shared);
                // An emulator usually ignores credentials; don't fail for lack of them.
                let has_credentials = match shared.credentials_provider() {
                    Some(provider) => provider.provide_credentials().await.is_ok(),
                    None => false,
                };
                if !has_credentials {
                    builder = builder.credentials_provider(local_credentials());
                }
                if shared.region().is_none() {
                    builder = builder.region(Region::new(FALLBACK_REGION));
                }
                builder
            }
            Endpoint::Aws => {
                let mut loader = aws_config::defaults(BehaviorVersion::latest());
                if let Some(region) = &config.region {
                    loader = loader.region(Region::new(region.clone()));
                }
                if let Some(profile) = &config.profile {
                    loader = loader.profile_name(profile);
                }
                let shared = loader.load().await;
                configured_retry = configured_retry_config(&shared);
                if shared.region().is_none() {
                    return Err(Error::Config(
                        "no region for real AWS: pass --region or set one in the AWS configuration".into(),
                    ));
                }
                aws_sdk_rekognition::config::Builder::from(&shared)
            }
        };
        if let Some(configured) = configured_retry {
            // AWS_MAX_ATTEMPTS, AWS_RETRY_MODE or the profile's max_attempts / retry_mode.
            retry = RetryConfig::standard()
                .with_retry_mode(configured.mode())
                .with_max_attempts(configured.max_attempts().max(1))
                .with_initial_backoff(retry.initial_backoff())
                .with_max_backoff(retry.max_backoff());
        }
        let conf = builder
            .retry_config(retry)
            .retry_partition(retry_partition(config.is_aws()))
            .timeout_config(timeouts)
            .interceptor(WireTap)
            .retry_classifier(DroppedConnection)
            .build();
        let region = conf.region().map_or_else(|| FALLBACK_REGION.to_string(), |r| r.to_string());
        let mut description = config.describe();
        if matches!(config.endpoint, Endpoint::Aws) {
            description = format!("real AWS ({region})");
        }
        Ok(Target {
            client: aws_sdk_rekognition::Client::from_conf(conf),
            region,
            description,
            limiter: Arc::new(Limiter::new()),
            resend_for: config.operation_timeout,
            journal: None,
        })
    }

    /// This target with `journal`: every call that creates something is journaled (and
    /// fsync'd) before it is sent, and every answer that deletes something closes it.
    pub fn with_journal(mut self, journal: Arc<crate::journal::Journal>) -> Target {
        self.journal = Some(journal);
        self
    }

    /// The run journal, when the run keeps one.
    pub fn journal(&self) -> Option<&Arc<crate::journal::Journal>> {
        self.journal.as_ref()
    }

    /// The signing region (ARNs the endpoint returns carry it).
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The endpoint for humans, without credentials.
    pub fn describe(&self) -> &str {
        &self.description
    }

    /// The retries each operation needed so far, by operation name (raw calls to no
    /// known operation under their `X-Amz-Target`).
    pub fn retries(&self) -> BTreeMap<String, OperationRetries> {
        self.limiter.retries()
    }

    /// Whether the endpoint throttled every operation together, so that one pacer paces
    /// every call ([`crate::ratelimit`]).
    pub fn shared_quota(&self) -> bool {
        self.limiter.shared_quota()
    }

    /// Sends one call, when the operation's rate limiter lets it go, and returns the raw
    /// response of its last attempt.
    ///
    /// The SDK retries throttling like its other transient errors, and the wire tap tells
    /// the limiter of every throttled attempt, which slows the operation down. A call
    /// still throttled after the SDK's attempts is sent again when the limiter lets it go
    /// (at most [`MAX_RESENDS`] times, within the operation timeout): a
    /// throttled-then-answered call is an answer, counted in [`Target::retries`].
    ///
    /// [`NoAnswer`] when no response arrived (refused connection, timeout, DNS) or its body
    /// could not be read; throttling and 5xx answers are returned as they are, for the
    /// checks to classify.
    pub async fn send(&self, call: &Call) -> Result<RawResponse, NoAnswer> {
        // Nothing is created that the journal does not name first.
        if let Some(journal) = &self.journal {
            journal.before(call).map_err(|e| NoAnswer::new(format!("{e}; the call was not sent")))?;
        }
        let answer = self.send_paced(call).await;
        if let Some(journal) = &self.journal
            && let Err(e) = journal.after(call, answer.as_ref().ok())
        {
            eprintln!("rekcon: warning: {e}");
        }
        answer
    }

    /// [`Target::send`] without the journal: paced by the rate limiter, and sent again
    /// after throttling.
    async fn send_paced(&self, call: &Call) -> Result<RawResponse, NoAnswer> {
        let operation = call.operation().map_or_else(|| call.target_header(), |op| op.name().to_string());
        let started = Instant::now();
        let mut resends = 0;
        loop {
            let sent = self.limiter.acquire(&operation).await;
            let (result, mut round) = self.send_round(call).await;
            round.throttled_at_end = result.as_ref().is_ok_and(crate::check::is_throttling);
            self.limiter.finished(&operation, sent, round, resends == 0);
            if !round.throttled_at_end {
                return result;
            }
            if resends >= MAX_RESENDS || started.elapsed() >= self.resend_for {
                self.limiter.gave_up(&operation);
                return result;
            }
            resends += 1;
        }
    }

    /// One send through the SDK (its attempts), and how they went.
    async fn send_round(&self, call: &Call) -> (Result<RawResponse, NoAnswer>, Round) {
        let (replace, typed) = match call {
            Call::Typed(request) => (None, Some(request)),
            Call::Raw { target, body } => (Some((target.clone(), body.as_bytes().to_vec())), None),
        };
        let exchange = RefCell::new(Exchange { replace, ..Exchange::default() });
        let (failure, exchange) = EXCHANGE
            .scope(exchange, async {
                let failure = match typed {
                    Some(request) => match self.send_typed(request).await {
                        Ok(failure) => failure,
                        Err(Unrepresentable) => {
                            let raw =
                                (request.operation().target(), request.to_json().to_string().into_bytes());
                            EXCHANGE.with(|e| e.borrow_mut().replace = Some(raw));
                            failure(self.client.list_collections().send().await)
                        }
                    },
                    None => failure(self.client.list_collections().send().await),
                };
                (failure, EXCHANGE.with(|e| std::mem::take(&mut *e.borrow_mut())))
            })
            .await;
        let round = Round {
            attempts: exchange.attempts.max(1),
            throttled: exchange.throttled,
            throttled_at_end: false,
        };
        let result = match exchange.response {
            Some(Attempt::Read(raw)) => Ok(raw),
            Some(Attempt::Unreadable { status }) => {
                Err(NoAnswer::new(format!("the body of an HTTP {status} response could not be read")))
            }
            None => Err(NoAnswer::new(failure.unwrap_or_else(|| "no response".into()))),
        };
        (result, round)
    }

    /// Deletes a collection, ignoring any answer (it may already be gone).
    pub async fn delete_collection(&self, collection_id: &str) -> Result<(), NoAnswer> {
        let request = Request::DeleteCollection(api::DeleteCollectionRequest {
            collection_id: Some(collection_id.into()),
        });
        self.send(&Call::Typed(request)).await.map(drop)
    }

    /// Every CollectionId the endpoint lists, following NextToken to the end; `page_size`
    /// is sent as MaxResults. Ids repeated across pages are listed once.
    pub async fn list_collection_ids(
        &self,
        page_size: Option<i32>,
    ) -> Result<Vec<String>, HousekeepingError> {
        let (mut ids, mut seen, mut tokens) = (Vec::new(), BTreeSet::new(), BTreeSet::new());
        let mut token: Option<String> = None;
        for _ in 0..MAX_LISTING_PAGES {
            let page = self
                .client
                .list_collections()
                .set_max_results(page_size)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(housekeeping_error)?;
            ids.extend(page.collection_ids().iter().filter(|id| seen.insert(id.to_string())).cloned());
            match page.next_token().filter(|t| !t.is_empty()) {
                None => return Ok(ids),
                Some(next) if !tokens.insert(next.to_string()) => {
                    return Err(NoAnswer::new(format!(
                        "ListCollections returned NextToken `{next}` twice; the listing never ends"
                    ))
                    .into());
                }
                Some(next) => token = Some(next.to_string()),
            }
        }
        Err(NoAnswer::new(format!("ListCollections still had more after {MAX_LISTING_PAGES} pages")).into())
    }

    /// Deletes a collection and says whether it was there; unlike
    /// [`Target::delete_collection`], a refusal is an error the caller reports.
    pub async fn remove_collection(&self, collection_id: &str) -> Result<Deletion, HousekeepingError> {
        match self
            .client
            .delete_collection()
            .collection_id(collection_id)
            .send()
            .await
            .map_err(housekeeping_error)
        {
            Ok(_) => Ok(Deletion::Deleted),
            Err(HousekeepingError::Refused { code, .. }) if code == "ResourceNotFoundException" => {
                Ok(Deletion::AlreadyGone)
            }
            Err(e) => Err(e),
        }
    }

    /// Builds and sends a typed call; `Ok(Some(reason))` when the SDK reports a failure.
    async fn send_typed(&self, request: &Request) -> Result<Option<String>, Unrepresentable> {
        let c = &self.client;
        Ok(match request {
            Request::CreateCollection(r) => failure(
                c.create_collection()
                    .set_collection_id(r.collection_id.clone())
                    .set_tags(
                        r.tags.as_ref().map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
                    )
                    .send()
                    .await,
            ),
            Request::DeleteCollection(r) => {
                failure(c.delete_collection().set_collection_id(r.collection_id.clone()).send().await)
            }
            Request::DescribeCollection(r) => {
                failure(c.describe_collection().set_collection_id(r.collection_id.clone()).send().await)
            }
            Request::ListCollections(r) => failure(
                c.list_collections()
                    .set_next_token(r.next_token.clone())
                    .set_max_results(int(r.max_results)?)
                    .send()
                    .await,
            ),
            Request::IndexFaces(r) => failure(
                c.index_faces()
                    .set_collection_id(r.collection_id.clone())
                    .set_image(image(&r.image))
                    .set_external_image_id(r.external_image_id.clone())
                    .set_detection_attributes(
                        r.detection_attributes
                            .as_ref()
                            .map(|a| a.iter().map(|s| types::Attribute::from(s.as_str())).collect()),
                    )
                    .set_max_faces(int(r.max_faces)?)
                    .set_quality_filter(r.quality_filter.as_deref().map(types::QualityFilter::from))
                    .send()
                    .await,
            ),
            Request::ListFaces(r) => failure(
                c.list_faces()
                    .set_collection_id(r.collection_id.clone())
                    .set_next_token(r.next_token.clone())
                    .set_max_results(int(r.max_results)?)
                    .set_user_id(r.user_id.clone())
                    .set_face_ids(r.face_ids.clone())
                    .send()
                    .await,
            ),
            Request::DeleteFaces(r) => failure(
                c.delete_faces()
                    .set_collection_id(r.collection_id.clone())
                    .set_face_ids(r.face_ids.clone())
                    .send()
                    .await,
            ),
            Request::SearchFaces(r) => failure(
                c.search_faces()
                    .set_collection_id(r.collection_id.clone())
                    .set_face_id(r.face_id.clone())
                    .set_max_faces(int(r.max_faces)?)
                    .set_face_match_threshold(float(r.face_match_threshold)?)
                    .send()
                    .await,
            ),
            Request::SearchFacesByImage(r) => failure(
                c.search_faces_by_image()
                    .set_collection_id(r.collection_id.clone())
                    .set_image(image(&r.image))
                    .set_max_faces(int(r.max_faces)?)
                    .set_face_match_threshold(float(r.face_match_threshold)?)
                    .set_quality_filter(r.quality_filter.as_deref().map(types::QualityFilter::from))
                    .send()
                    .await,
            ),
            Request::CreateUser(r) => failure(
                c.create_user()
                    .set_collection_id(r.collection_id.clone())
                    .set_user_id(r.user_id.clone())
                    .set_client_request_token(r.client_request_token.clone())
                    .send()
                    .await,
            ),
            Request::DeleteUser(r) => failure(
                c.delete_user()
                    .set_collection_id(r.collection_id.clone())
                    .set_user_id(r.user_id.clone())
                    .set_client_request_token(r.client_request_token.clone())
                    .send()
                    .await,
            ),
            Request::ListUsers(r) => failure(
                c.list_users()
                    .set_collection_id(r.collection_id.clone())
                    .set_max_results(int(r.max_results)?)
                    .set_next_token(r.next_token.clone())
                    .send()
                    .await,
            ),
            Request::AssociateFaces(r) => failure(
                c.associate_faces()
                    .set_collection_id(r.collection_id.clone())
                    .set_user_id(r.user_id.clone())
                    .set_face_ids(r.face_ids.clone())
                    .set_user_match_threshold(float(r.user_match_threshold)?)
                    .set_client_request_token(r.client_request_token.clone())
                    .send()
                    .await,
            ),
            Request::DisassociateFaces(r) => failure(
                c.disassociate_faces()
                    .set_collection_id(r.collection_id.clone())
                    .set_user_id(r.user_id.clone())
                    .set_client_request_token(r.client_request_token.clone())
                    .set_face_ids(r.face_ids.clone())
                    .send()
                    .await,
            ),
            Request::SearchUsers(r) => failure(
                c.search_users()
                    .set_collection_id(r.collection_id.clone())
                    .set_user_id(r.user_id.clone())
                    .set_face_id(r.face_id.clone())
                    .set_user_match_threshold(float(r.user_match_threshold)?)
                    .set_max_users(int(r.max_users)?)
                    .send()
                    .await,
            ),
            Request::SearchUsersByImage(r) => failure(
                c.search_users_by_image()
                    .set_collection_id(r.collection_id.clone())
                    .set_image(image(&r.image))
                    .set_user_match_threshold(float(r.user_match_threshold)?)
                    .set_max_users(int(r.max_users)?)
                    .set_quality_filter(r.quality_filter.as_deref().map(types::QualityFilter::from))
                    .send()
                    .await,
            ),
        })
    }
}

/// Fixed credentials for endpoints that do not check them (never real ones).
fn local_credentials() -> Credentials {
    Credentials::new("AKIDREKCONLOCAL0000", "rekcon-local-not-a-secret", None, None, "rekcon-local")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_exact_values_go_through_the_sdk_types() {
        assert_eq!(int(Some(5)).unwrap(), Some(5));
        assert!(int(Some(i64::from(i32::MAX) + 1)).is_err());
        assert_eq!(float(Some(70.5)).unwrap(), Some(70.5));
        assert!(float(Some(0.1)).is_err());
        assert!(float(Some(f64::NAN)).unwrap().is_some_and(f32::is_nan));
    }

    #[test]
    fn raw_calls_name_their_operation() {
        let call = Call::Raw { target: "RekognitionService.CreateUser".into(), body: "{}".into() };
        assert_eq!(call.operation(), Some(Operation::CreateUser));
        let call = Call::Raw { target: "RekognitionService.Nope".into(), body: "{}".into() };
        assert_eq!(call.operation(), None);
    }
}
