//! The crash-safe run journal: what a run creates on an endpoint, written to disk (and
//! fsync'd) before the call that creates it is sent, so that a run killed outright
//! (SIGKILL, a lost machine) leaves an exact list of what to delete.
//!
//! One journal per run, in a per-user state folder ([`journal_dir`]): `<run>.journal`, JSON
//! lines, and `<run>.lock`, which the run holds an exclusive `flock` on for its whole life.
//! A journal whose lock can be taken belongs to a dead run (the kernel drops the lock
//! with the process, however it ends); no pid is ever guessed.
//!
//! What is journaled, by [`Journal::before`] (before the call, fsync'd) and
//! [`Journal::after`] (the answer):
//! - CreateCollection of a run-prefixed id, before the call; of any other id, only after
//!   it succeeded (it may be someone else's); an error answer closes the entry.
//! - CreateUser, before the call, under its collection; IndexFaces, before the call, as
//!   faces of unknown ids under its collection, then their FaceIds from the answer.
//! - DeleteCollection (success or not found) closes the collection with its users and
//!   faces; DeleteUser and DeleteFaces close theirs.
//!
//! [`cleanup_journals`] (`rekcon cleanup --journal`) deletes what dead runs' journals
//! leave open, on the endpoint each names, and removes a journal only when nothing of it
//! is left.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::api::{self, Operation, Request};
use crate::check::RawResponse;
use crate::config::{Endpoint, TargetConfig, redact_url};
use crate::target::{Call, Target};

/// Overrides where journals live (tests isolate themselves with it).
pub const JOURNAL_DIR_ENV: &str = "REKCON_JOURNAL_DIR";
/// The journal file's extension.
const JOURNAL_EXT: &str = "journal";
/// The lock file's extension.
const LOCK_EXT: &str = "lock";

/// Why a journal could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// No folder for journals: neither REKCON_JOURNAL_DIR, XDG_STATE_HOME nor HOME is set.
    #[error("no folder for run journals: set {JOURNAL_DIR_ENV}, XDG_STATE_HOME or HOME")]
    NoDir,
    /// A file operation failed.
    #[error("run journal {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> JournalError + '_ {
    move |source| JournalError::Io { path: path.to_path_buf(), source }
}

/// Where journals live: `$REKCON_JOURNAL_DIR`, else `$XDG_STATE_HOME/rekcon/journals`,
/// else `~/.local/state/rekcon/journals`.
pub fn journal_dir() -> Result<PathBuf, JournalError> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = var(JOURNAL_DIR_ENV) {
        return Ok(dir);
    }
    if let Some(state) = var("XDG_STATE_HOME") {
        return Ok(state.join("rekcon").join("journals"));
    }
    var("HOME").map(|home| home.join(".local/state/rekcon/journals")).ok_or(JournalError::NoDir)
}

/// Where a journal's things live: an endpoint URL (without userinfo) or real AWS, with the
/// signing region and profile name (never a credential).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalEndpoint {
    /// The endpoint URL; `None` for real AWS.
    pub url: Option<String>,
    /// Whether this is real AWS (through the SDK's resolution, or an AWS URL).
    pub aws: bool,
    /// The signing region.
    pub region: String,
    /// The profile of the AWS configuration files the run used, if one was named.
    pub profile: Option<String>,
}

impl JournalEndpoint {
    /// For humans: the URL, or `real AWS (region)`.
    pub fn describe(&self) -> String {
        match &self.url {
            Some(url) => url.clone(),
            None => format!("real AWS ({})", self.region),
        }
    }

    /// How `rekcon cleanup --journal` reaches it; `profile` overrides the journal's.
    pub fn target_config(&self, profile: Option<&str>) -> TargetConfig {
        let endpoint = match &self.url {
            Some(url) => Endpoint::Url(url.clone()),
            None => Endpoint::Aws,
        };
        TargetConfig {
            region: Some(self.region.clone()),
            profile: profile.map(str::to_string).or_else(|| self.profile.clone()),
            ..TargetConfig::new(endpoint)
        }
    }
}

/// One line of a journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "entry", rename_all = "snake_case")]
enum Line {
    /// The first line: whose journal this is.
    Run {
        /// The run id (8 hex digits).
        run_id: String,
        /// The start of every run-scoped collection name.
        prefix: String,
        /// `run` or `fuzz`.
        command: String,
        /// Where the things live.
        endpoint: JournalEndpoint,
        /// When the run started (RFC 3339).
        started: String,
    },
    /// A collection is (or may be) created.
    Collection { collection: String },
    /// A user is (or may be) created in a collection.
    User { collection: String, user: String },
    /// IndexFaces is sent to a collection: faces of ids not known yet.
    Indexing { collection: String },
    /// The faces an IndexFaces answered with (closes one `Indexing`).
    Faces { collection: String, faces: Vec<String> },
    /// An IndexFaces that created nothing (an error answer; closes one `Indexing`).
    Indexed { collection: String },
    /// The collection's creation succeeded (so a later refused one cannot close it).
    Created { collection: String },
    /// A creation was refused; closes the collection unless an earlier one succeeded.
    NotCreated { collection: String },
    /// The collection is gone: it and everything under it are closed.
    CollectionGone { collection: String },
    /// The user's creation succeeded.
    UserCreated { collection: String, user: String },
    /// A CreateUser was refused; closes the user unless an earlier one succeeded.
    UserNotCreated { collection: String, user: String },
    /// The user is gone.
    UserGone { collection: String, user: String },
    /// These faces are gone.
    FacesGone { collection: String, faces: Vec<String> },
}

/// What a journal leaves open: the things to delete.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Open {
    /// Collections to delete (everything in them goes too).
    pub collections: BTreeSet<String>,
    /// Users to delete in collections the run did not create.
    pub users: BTreeSet<(String, String)>,
    /// Faces to delete in collections the run did not create, by collection.
    pub faces: BTreeMap<String, BTreeSet<String>>,
    /// IndexFaces calls to collections the run did not create whose answer never came:
    /// faces may exist whose ids nobody knows.
    pub unanswered_indexing: BTreeMap<String, usize>,
    /// Collections and users whose creation is known to have succeeded.
    created: BTreeSet<String>,
    users_created: BTreeSet<(String, String)>,
}

impl Open {
    /// Whether nothing is left.
    pub fn is_empty(&self) -> bool {
        self.collections.is_empty()
            && self.users.is_empty()
            && self.faces.values().all(BTreeSet::is_empty)
            && self.unanswered_indexing.values().all(|n| *n == 0)
    }

    /// Whether nothing is left to delete for a run of `prefix` (see
    /// [`Open::outside_collections`]).
    pub fn nothing_left(&self, prefix: &str) -> bool {
        self.collections.is_empty() && self.clone().outside_collections(prefix).is_empty()
    }

    fn apply(&mut self, line: Line) {
        match line {
            Line::Run { .. } => {}
            Line::Collection { collection } => {
                self.collections.insert(collection);
            }
            Line::User { collection, user } => {
                self.users.insert((collection, user));
            }
            Line::Indexing { collection } => *self.unanswered_indexing.entry(collection).or_default() += 1,
            Line::Faces { collection, faces } => {
                self.close_indexing(&collection);
                self.faces.entry(collection).or_default().extend(faces);
            }
            Line::Indexed { collection } => self.close_indexing(&collection),
            Line::Created { collection } => {
                self.collections.insert(collection.clone());
                self.created.insert(collection);
            }
            Line::NotCreated { collection } => {
                if !self.created.contains(&collection) {
                    self.collections.remove(&collection);
                }
            }
            Line::UserCreated { collection, user } => {
                self.users.insert((collection.clone(), user.clone()));
                self.users_created.insert((collection, user));
            }
            Line::UserNotCreated { collection, user } => {
                let key = (collection, user);
                if !self.users_created.contains(&key) {
                    self.users.remove(&key);
                }
            }
            Line::CollectionGone { collection } => {
                self.created.remove(&collection);
                self.users_created.retain(|(c, _)| *c != collection);
                self.collections.remove(&collection);
                self.users.retain(|(c, _)| *c != collection);
                self.faces.remove(&collection);
                self.unanswered_indexing.remove(&collection);
            }
            Line::UserGone { collection, user } => {
                let key = (collection, user);
                self.users_created.remove(&key);
                self.users.remove(&key);
            }
            Line::FacesGone { collection, faces } => {
                if let Some(open) = self.faces.get_mut(&collection) {
                    for face in faces {
                        open.remove(&face);
                    }
                }
            }
        }
    }

    fn close_indexing(&mut self, collection: &str) {
        if let Some(n) = self.unanswered_indexing.get_mut(collection) {
            *n = n.saturating_sub(1);
        }
    }

    /// What must be deleted on its own: users, faces and pending indexing inside the open
    /// collections go with them, and a collection of the run's `prefix` that is not open
    /// does not exist (every creation of one is journaled before it is sent), so nothing
    /// was created in it.
    fn outside_collections(mut self, prefix: &str) -> Open {
        let collections = self.collections.clone();
        let elsewhere = |c: &String| !collections.contains(c) && !c.starts_with(prefix);
        self.users.retain(|(c, _)| elsewhere(c));
        self.faces.retain(|c, f| elsewhere(c) && !f.is_empty());
        self.unanswered_indexing.retain(|c, n| elsewhere(c) && *n > 0);
        self
    }

    /// `3 collection(s), 1 user(s)`.
    pub fn describe(&self) -> String {
        let mut parts = vec![format!("{} collection(s)", self.collections.len())];
        if !self.users.is_empty() {
            parts.push(format!("{} user(s)", self.users.len()));
        }
        let faces: usize = self.faces.values().map(BTreeSet::len).sum();
        if faces > 0 {
            parts.push(format!("{faces} face(s)"));
        }
        parts.join(", ")
    }
}

/// A live run's journal: appended to before every creating call, removed at a normal end.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    lock_path: PathBuf,
    prefix: String,
    file: Mutex<File>,
    /// Held (with its exclusive flock) for the run's whole life.
    _lock: File,
}

impl Journal {
    /// Starts the journal of run `run_id` in `dir`: takes the lock first, then writes the
    /// header line, fsync'd. `prefix` starts every collection name the run scopes to itself.
    pub fn create(
        dir: &Path,
        run_id: &str,
        prefix: &str,
        command: &str,
        endpoint: JournalEndpoint,
    ) -> Result<Journal, JournalError> {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let lock_path = dir.join(format!("{run_id}.{LOCK_EXT}"));
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io(&lock_path))?;
        if !try_lock(&lock).map_err(io(&lock_path))? {
            return Err(JournalError::Io {
                path: lock_path,
                source: std::io::Error::other("another process holds this run's lock"),
            });
        }
        let path = dir.join(format!("{run_id}.{JOURNAL_EXT}"));
        let file = OpenOptions::new().create_new(true).append(true).open(&path).map_err(io(&path))?;
        let journal =
            Journal { path, lock_path, prefix: prefix.to_string(), file: Mutex::new(file), _lock: lock };
        let header = Line::Run {
            run_id: run_id.to_string(),
            prefix: prefix.to_string(),
            command: command.to_string(),
            endpoint,
            started: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        };
        journal.append(&[header], true)?;
        // The folder entry too: a power loss must not lose the file itself.
        if let Ok(folder) = File::open(dir) {
            let _ = folder.sync_all();
        }
        Ok(journal)
    }

    /// The journal file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Journals what `call` may create, fsync'd, before it is sent. An error means the
    /// call must not be sent.
    pub fn before(&self, call: &Call) -> Result<(), JournalError> {
        let lines: Vec<Line> = match call_request(call) {
            Some(Request::CreateCollection(r)) => r
                .collection_id
                // An id outside the CollectionId constraints creates nothing.
                .filter(|c| c.starts_with(&self.prefix) && crate::runner::is_valid_collection_id(c))
                .map(|collection| Line::Collection { collection })
                .into_iter()
                .collect(),
            Some(Request::CreateUser(r)) => match (r.collection_id, r.user_id) {
                (Some(collection), Some(user)) => vec![Line::User { collection, user }],
                _ => Vec::new(),
            },
            Some(Request::IndexFaces(r)) => {
                r.collection_id.map(|collection| Line::Indexing { collection }).into_iter().collect()
            }
            _ => Vec::new(),
        };
        if lines.is_empty() { Ok(()) } else { self.append(&lines, true) }
    }

    /// Journals what the answer to `call` created or deleted; `None` when no answer came
    /// (whatever was journaled before stays open).
    pub fn after(&self, call: &Call, raw: Option<&RawResponse>) -> Result<(), JournalError> {
        let Some(raw) = raw else { return Ok(()) };
        let Some(request) = call_request(call) else { return Ok(()) };
        let success = (200..300).contains(&raw.status);
        let body: Value = serde_json::from_slice(&raw.body).unwrap_or(Value::Null);
        let error = error_type(raw, &body);
        // An error answer creates nothing, nor does an operation the endpoint does not
        // implement (a 501, moto's HTML 500); another 5xx may have, so it stays open.
        let refused =
            (400..500).contains(&raw.status) || crate::check::says_not_implemented(raw, request.operation());
        let not_found = error.as_deref() == Some("ResourceNotFoundException");
        let line = match request {
            Request::CreateCollection(r) => {
                let collection = r.collection_id.unwrap_or_default();
                let scoped = collection.starts_with(&self.prefix);
                match () {
                    // Another prefix is journaled only once created (it may be someone else's).
                    () if success => Some((Line::Created { collection }, !scoped)),
                    // A run-scoped id that already exists is this run's: it stays open.
                    () if error.as_deref() == Some("ResourceAlreadyExistsException") => None,
                    () if refused && scoped => Some((Line::NotCreated { collection }, false)),
                    () => None,
                }
            }
            Request::DeleteCollection(r) if success || not_found => {
                r.collection_id.map(|collection| (Line::CollectionGone { collection }, false))
            }
            Request::CreateUser(r) if success || refused => match (r.collection_id, r.user_id) {
                (Some(collection), Some(user)) if success => {
                    Some((Line::UserCreated { collection, user }, false))
                }
                (Some(collection), Some(user)) => Some((Line::UserNotCreated { collection, user }, false)),
                _ => None,
            },
            Request::DeleteUser(r) if success => match (r.collection_id, r.user_id) {
                (Some(collection), Some(user)) => Some((Line::UserGone { collection, user }, false)),
                _ => None,
            },
            Request::IndexFaces(r) => r.collection_id.and_then(|collection| {
                if success {
                    let faces = body
                        .get("FaceRecords")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(|f| f.pointer("/Face/FaceId").and_then(Value::as_str).map(str::to_string))
                        .collect();
                    Some((Line::Faces { collection, faces }, true))
                } else {
                    refused.then_some((Line::Indexed { collection }, false))
                }
            }),
            Request::DeleteFaces(r) if success => {
                let faces = body
                    .get("DeletedFaces")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|f| f.as_str().map(str::to_string))
                    .collect();
                r.collection_id.map(|collection| (Line::FacesGone { collection, faces }, false))
            }
            _ => None,
        };
        match line {
            // What the run now owns is fsync'd; a close that is lost only makes a later
            // cleanup find the thing already gone.
            Some((line, sync)) => self.append(&[line], sync),
            None => Ok(()),
        }
    }

    /// What the journal leaves open now.
    pub fn open(&self) -> Result<Open, JournalError> {
        read(&self.path).map(|(_, open)| open)
    }

    /// Ends the run's journal: removed when nothing is left open; else kept (the lock is
    /// released, so `rekcon cleanup --journal` takes it up) and what it holds returned.
    pub fn finish(&self) -> Result<Option<Open>, JournalError> {
        let open = self.open()?;
        if !open.nothing_left(&self.prefix) {
            return Ok(Some(open));
        }
        std::fs::remove_file(&self.path).map_err(io(&self.path))?;
        let _ = std::fs::remove_file(&self.lock_path);
        Ok(None)
    }

    fn append(&self, lines: &[Line], sync: bool) -> Result<(), JournalError> {
        let mut text = String::new();
        for line in lines {
            let json = serde_json::to_string(line).map_err(|e| JournalError::Io {
                path: self.path.clone(),
                source: std::io::Error::other(e),
            })?;
            text.push_str(&json);
            text.push('\n');
        }
        let mut file = self.file.lock().map_err(|_| JournalError::Io {
            path: self.path.clone(),
            source: std::io::Error::other("a writer panicked"),
        })?;
        file.write_all(text.as_bytes()).map_err(io(&self.path))?;
        if sync {
            file.sync_data().map_err(io(&self.path))?;
        }
        Ok(())
    }
}

/// The typed request of a call, for raw calls when their body reads as one.
fn call_request(call: &Call) -> Option<Request> {
    match call {
        Call::Typed(request) => Some(request.clone()),
        Call::Raw { body, .. } => {
            let operation = call.operation()?;
            if !matches!(
                operation,
                Operation::CreateCollection
                    | Operation::DeleteCollection
                    | Operation::CreateUser
                    | Operation::DeleteUser
                    | Operation::IndexFaces
                    | Operation::DeleteFaces
            ) {
                return None;
            }
            let json: Value = serde_json::from_str(body).ok()?;
            Request::from_json(operation, &json).ok()
        }
    }
}

/// The error type of an answer: `x-amzn-ErrorType`, else `__type`, without any namespace.
fn error_type(raw: &RawResponse, body: &Value) -> Option<String> {
    let text =
        raw.error_type.clone().or_else(|| body.get("__type").and_then(Value::as_str).map(str::to_string))?;
    let name = text.split(':').next().unwrap_or_default();
    Some(name.rsplit('#').next().unwrap_or(name).to_string())
}

/// The error type of an answer whose body is not otherwise read.
fn answer_error_type(raw: &RawResponse) -> Option<String> {
    error_type(raw, &serde_json::from_slice(&raw.body).unwrap_or(Value::Null))
}

/// Takes the exclusive flock on `file` without waiting; `false` when another process
/// (or another open file of this one) holds it.
fn try_lock(file: &File) -> std::io::Result<bool> {
    use rustix::fs::{FlockOperation, flock};
    match flock(file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(true),
        Err(e) if e == rustix::io::Errno::WOULDBLOCK => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// A journal's header and what it leaves open. A torn last line (a crash mid-write) is
/// ignored: it was never fsync'd, so its call was never sent.
fn read(path: &Path) -> Result<(Option<JournalHeader>, Open), JournalError> {
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    let mut header = None;
    let mut open = Open::default();
    for line in text.lines() {
        let Ok(line) = serde_json::from_str::<Line>(line) else { continue };
        if let Line::Run { run_id, prefix, command, endpoint, started } = &line {
            header = Some(JournalHeader {
                run_id: run_id.clone(),
                prefix: prefix.clone(),
                command: command.clone(),
                endpoint: endpoint.clone(),
                started: started.clone(),
            });
        }
        open.apply(line);
    }
    Ok((header, open))
}

/// Whose journal a file is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalHeader {
    /// The run id.
    pub run_id: String,
    /// The run's collection prefix.
    pub prefix: String,
    /// `run` or `fuzz`.
    pub command: String,
    /// Where its things live.
    pub endpoint: JournalEndpoint,
    /// When the run started.
    pub started: String,
}

/// A journal of a run that is no longer alive, locked by whoever found it (held until
/// dropped), with what it leaves open.
#[derive(Debug)]
pub struct DeadJournal {
    /// The journal file.
    pub path: PathBuf,
    lock_path: PathBuf,
    /// Its header; `None` when the run died before writing it.
    pub header: Option<JournalHeader>,
    /// What it leaves open.
    pub open: Open,
    _lock: File,
}

impl DeadJournal {
    /// Removes the journal and its lock file.
    fn remove(self) -> Result<(), JournalError> {
        std::fs::remove_file(&self.path).map_err(io(&self.path))?;
        let _ = std::fs::remove_file(&self.lock_path);
        Ok(())
    }
}

/// The journals in `dir` whose run is dead (its lock could be taken), each locked by the
/// caller; live runs' journals are never read. A missing folder holds none.
pub fn dead_journals(dir: &Path) -> Result<Vec<DeadJournal>, JournalError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(dir)(e)),
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == JOURNAL_EXT))
        .collect();
    paths.sort();
    let mut dead = Vec::new();
    for path in paths {
        let lock_path = path.with_extension(LOCK_EXT);
        // The run takes its lock before it creates its journal, so a journal always has one.
        let Ok(lock) = OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path) else {
            continue;
        };
        if !try_lock(&lock).map_err(io(&lock_path))? {
            continue;
        }
        // Gone meanwhile: another cleanup finished it.
        let Ok((header, open)) = read(&path) else { continue };
        dead.push(DeadJournal { path, lock_path, header, open, _lock: lock });
    }
    Ok(dead)
}

/// The warning `rekcon run` and `rekcon fuzz` print at start when dead runs left journals
/// naming things on an endpoint; `None` when there are none (or they cannot be read).
pub fn dead_journals_warning() -> Option<String> {
    let dir = journal_dir().ok()?;
    let dead: Vec<DeadJournal> = dead_journals(&dir)
        .ok()?
        .into_iter()
        .filter(|d| d.header.as_ref().is_some_and(|h| !d.open.nothing_left(&h.prefix)))
        .collect();
    if dead.is_empty() {
        return None;
    }
    let collections: usize = dead.iter().map(|d| d.open.collections.len()).sum();
    Some(format!(
        "{} run(s) ended without cleaning up and left {collections} collection(s) (journals in {}); \
         `rekcon cleanup --journal` deletes exactly those",
        dead.len(),
        dir.display()
    ))
}

/// Opens the journal of a run against `config` (none for the built-in emulator, which
/// lives and dies with the run). `region` is the signing region the target resolved.
pub fn start(
    config: &TargetConfig,
    region: &str,
    run_id: &str,
    prefix: &str,
    command: &str,
) -> Result<Option<Journal>, JournalError> {
    let url = match &config.endpoint {
        Endpoint::BuiltIn(_) => return Ok(None),
        Endpoint::Url(url) => Some(redact_url(url)),
        Endpoint::Aws => None,
    };
    let endpoint = JournalEndpoint {
        url,
        aws: config.is_aws(),
        region: region.to_string(),
        profile: config.profile.clone(),
    };
    Journal::create(&journal_dir()?, run_id, prefix, command, endpoint).map(Some)
}

/// For `rekcon run` and `rekcon fuzz` at start: warns (on stderr, as `rekcon COMMAND`)
/// about dead runs' journals, then gives `target` a journal of its own for run `run_id`
/// (none for the built-in emulator). Without a journal folder the run goes on unjournaled,
/// with a warning, unless it is against real AWS.
pub fn attach(
    target: Target,
    config: &TargetConfig,
    run_id: &str,
    command: &str,
) -> Result<Target, JournalError> {
    if let Some(warning) = dead_journals_warning() {
        eprintln!("rekcon {command}: warning: {warning}");
    }
    let prefix = format!("{}{run_id}-", crate::config::COLLECTION_PREFIX);
    match start(config, target.region(), run_id, &prefix, command) {
        Ok(Some(journal)) => Ok(target.with_journal(std::sync::Arc::new(journal))),
        Ok(None) => Ok(target),
        Err(e) if !config.is_aws() => {
            eprintln!(
                "rekcon {command}: warning: {e}; the run keeps no journal, so a kill leaves \
                       collections only `rekcon cleanup --prefix` finds"
            );
            Ok(target)
        }
        Err(e) => Err(e),
    }
}

/// For `rekcon run` and `rekcon fuzz` at the end: removes the journal of `target` when the
/// run deleted everything it names, else keeps it and says so on stderr.
pub fn finish(target: &Target, command: &str) {
    let Some(journal) = target.journal() else { return };
    match journal.finish() {
        Ok(None) => {}
        Ok(Some(open)) => eprintln!(
            "rekcon {command}: the run journal {} keeps {} the run could not delete; \
             `rekcon cleanup --journal` deletes them",
            journal.path().display(),
            open.describe()
        ),
        Err(e) => eprintln!("rekcon {command}: {e}"),
    }
}

/// What `rekcon cleanup --journal` does with each dead journal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JournalCleanup {
    /// Journals whose things are all gone now (and which were removed).
    pub finished: usize,
    /// Journals kept: a deletion failed, or their endpoint is real AWS without `--aws`.
    pub kept: Vec<(PathBuf, String)>,
    /// Things deleted now.
    pub deleted: usize,
    /// Things that were already gone.
    pub already_gone: usize,
    /// Journals removed because their endpoint gives no answer (`--forget-unreachable`).
    pub forgotten: usize,
}

impl JournalCleanup {
    /// 0 when every dead journal was finished, 3 when one was kept.
    pub fn exit_code(&self) -> u8 {
        if self.kept.is_empty() { crate::report::EXIT_CONFORM } else { crate::report::EXIT_NO_ANSWER }
    }

    /// The summary line.
    pub fn summary(&self, dry_run: bool) -> String {
        if dry_run {
            return format!(
                "cleanup --journal (dry run): {} journal(s) of dead runs listed; nothing was deleted",
                self.finished + self.kept.len()
            );
        }
        let mut line = format!(
            "cleanup --journal: deleted {} thing(s) ({} already gone), finished {} journal(s) of dead runs",
            self.deleted + self.already_gone,
            self.already_gone,
            self.finished
        );
        if self.forgotten > 0 {
            line.push_str(&format!(", forgot {} whose endpoint gives no answer", self.forgotten));
        }
        if !self.kept.is_empty() {
            line.push_str(&format!(", kept {} (see above)", self.kept.len()));
        }
        line
    }
}

/// How `rekcon cleanup --journal` runs: its options besides the journals.
#[derive(Debug, Clone, Default)]
pub struct JournalCleanupOptions {
    /// List only.
    pub dry_run: bool,
    /// `--aws` was given: journals naming real AWS may be cleaned.
    pub aws: bool,
    /// `--profile`, overriding the journals' own.
    pub profile: Option<String>,
    /// `--forget-unreachable`: remove the journals whose endpoint (never real AWS) gives
    /// no answer at all.
    pub forget_unreachable: bool,
}

/// Deletes what the dead runs' journals in `dir` leave open, each on its own endpoint,
/// and removes each journal whose things are all gone; one line per thing to `out`.
pub async fn cleanup_journals(
    dir: &Path,
    options: &JournalCleanupOptions,
    out: &mut dyn std::io::Write,
) -> Result<JournalCleanup, JournalError> {
    let mut outcome = JournalCleanup::default();
    for dead in dead_journals(dir)? {
        let name = dead.path.display().to_string();
        let Some(header) = dead.header.clone() else {
            // Died before its first line: it never sent anything.
            let _ = writeln!(out, "empty         {name}");
            if !options.dry_run {
                dead.remove()?;
            }
            outcome.finished += 1;
            continue;
        };
        let endpoint = header.endpoint.describe();
        let _ = writeln!(
            out,
            "journal       {name}: rekcon {} {} on {endpoint}, {}",
            header.command,
            header.run_id,
            dead.open.describe()
        );
        if header.endpoint.aws && !options.aws {
            let why = format!("it names real AWS ({endpoint}); pass --aws to clean it");
            let _ = writeln!(out, "kept          {name}: {why}");
            outcome.kept.push((dead.path.clone(), why));
            continue;
        }
        if options.dry_run {
            for id in &dead.open.collections {
                let _ = writeln!(out, "would delete  {id}");
            }
            outcome.finished += 1;
            continue;
        }
        let target = match Target::connect(&header.endpoint.target_config(options.profile.as_deref())).await {
            Ok(target) => target,
            Err(e) => {
                let _ = writeln!(out, "kept          {name}: {e}");
                outcome.kept.push((dead.path.clone(), e.to_string()));
                continue;
            }
        };
        if options.forget_unreachable
            && !header.endpoint.aws
            && let Some(why) = unreachable(&target).await
        {
            let _ = writeln!(
                out,
                "forgotten     {name}: {endpoint} gives no answer ({why}); it named {}",
                dead.open.describe()
            );
            dead.remove()?;
            outcome.forgotten += 1;
            continue;
        }
        let failures = delete_open(&target, &dead.open, &header.prefix, &mut outcome, out).await;
        if failures.is_empty() {
            dead.remove()?;
            outcome.finished += 1;
        } else {
            let mut why = failures.join("; ");
            if !header.endpoint.aws && unreachable(&target).await.is_some() {
                why.push_str(
                    "; if that endpoint is gone for good (and its state with it), \
                     `rekcon cleanup --journal --forget-unreachable` removes this journal",
                );
            }
            let _ = writeln!(out, "kept          {name}: {why}");
            outcome.kept.push((dead.path.clone(), why));
        }
    }
    Ok(outcome)
}

/// Deletes what `open` names on `target`; the failures.
async fn delete_open(
    target: &Target,
    open: &Open,
    prefix: &str,
    outcome: &mut JournalCleanup,
    out: &mut dyn std::io::Write,
) -> Vec<String> {
    let mut failures = Vec::new();
    for id in &open.collections {
        match target.remove_collection(id).await {
            Ok(crate::target::Deletion::Deleted) => {
                let _ = writeln!(out, "deleted       {id}");
                outcome.deleted += 1;
            }
            Ok(crate::target::Deletion::AlreadyGone) => {
                let _ = writeln!(out, "already gone  {id}");
                outcome.already_gone += 1;
            }
            Err(e) => {
                let _ = writeln!(out, "failed        {id}: {e}");
                failures.push(format!("{id}: {e}"));
            }
        }
    }
    let rest = open.clone().outside_collections(prefix);
    let mut calls: Vec<(String, Request)> = rest
        .users
        .iter()
        .map(|(collection, user)| {
            let request = Request::DeleteUser(api::DeleteUserRequest {
                collection_id: Some(collection.clone()),
                user_id: Some(user.clone()),
                client_request_token: None,
            });
            (format!("user {user} in {collection}"), request)
        })
        .collect();
    calls.extend(rest.faces.iter().map(|(collection, faces)| {
        let request = Request::DeleteFaces(api::DeleteFacesRequest {
            collection_id: Some(collection.clone()),
            face_ids: Some(faces.iter().cloned().collect()),
        });
        (format!("{} face(s) in {collection}", faces.len()), request)
    }));
    for (what, request) in calls {
        match target.send(&Call::Typed(request)).await {
            Ok(raw) if (200..300).contains(&raw.status) => {
                let _ = writeln!(out, "deleted       {what}");
                outcome.deleted += 1;
            }
            Ok(raw) if answer_error_type(&raw).as_deref() == Some("ResourceNotFoundException") => {
                let _ = writeln!(out, "already gone  {what}");
                outcome.already_gone += 1;
            }
            Ok(raw) => {
                let _ = writeln!(out, "failed        {what}: HTTP {}", raw.status);
                failures.push(format!("{what}: HTTP {}", raw.status));
            }
            Err(e) => {
                let _ = writeln!(out, "failed        {what}: {e}");
                failures.push(format!("{what}: {e}"));
            }
        }
    }
    for (collection, n) in &rest.unanswered_indexing {
        let what = format!("{n} IndexFaces call(s) to {collection}, a collection the run did not create");
        match collection_exists(target, collection).await {
            Ok(false) => {
                // No such collection (or no such id can exist): the calls indexed nothing.
                let _ = writeln!(out, "nothing left  {what}: it does not exist, so they indexed nothing");
            }
            Ok(true) => {
                let why = format!("{what}, got no answer: any faces they indexed have ids nobody knows");
                let _ = writeln!(out, "unknown       {why}");
                failures.push(why);
            }
            Err(e) => {
                let why = format!("{what}, got no answer, and asking whether it exists failed: {e}");
                let _ = writeln!(out, "failed        {why}");
                failures.push(why);
            }
        }
    }
    failures
}

/// Why `target` gives no answer at all (a ListCollections of one gets no response), or
/// `None` when it answers anything.
async fn unreachable(target: &Target) -> Option<String> {
    let request =
        Request::ListCollections(api::ListCollectionsRequest { next_token: None, max_results: Some(1) });
    target.send(&Call::Typed(request)).await.err().map(|no| no.to_string())
}

/// Whether `collection` exists on `target`: DescribeCollection answers it, or refuses it
/// as missing or as an id no collection can have.
async fn collection_exists(target: &Target, collection: &str) -> Result<bool, String> {
    let request = Request::DescribeCollection(api::DescribeCollectionRequest {
        collection_id: Some(collection.to_string()),
    });
    let raw = target.send(&Call::Typed(request)).await.map_err(|e| e.to_string())?;
    if (200..300).contains(&raw.status) {
        return Ok(true);
    }
    match answer_error_type(&raw).as_deref() {
        Some("ResourceNotFoundException" | "InvalidParameterException" | "ValidationException") => Ok(false),
        other => Err(format!("HTTP {} {}", raw.status, other.unwrap_or("without an error type"))),
    }
}

/// `rekcon cleanup --journal`: the exit code.
pub fn cleanup_command(options: &JournalCleanupOptions) -> u8 {
    let dir = match journal_dir() {
        Ok(dir) => dir,
        Err(e) => {
            eprintln!("rekcon cleanup: {e}");
            return crate::report::EXIT_BAD_INPUT;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("rekcon cleanup: cannot start the async runtime: {e}");
            return crate::report::EXIT_BAD_INPUT;
        }
    };
    let mut stdout = std::io::stdout();
    match runtime.block_on(cleanup_journals(&dir, options, &mut stdout)) {
        Ok(outcome) => {
            if let Err(e) = crate::output::print(&format!("{}\n", outcome.summary(options.dry_run))) {
                eprintln!("rekcon cleanup: cannot print the summary: {e}");
            }
            outcome.exit_code()
        }
        Err(e) => {
            eprintln!("rekcon cleanup: {e}");
            crate::report::EXIT_NO_ANSWER
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch() -> PathBuf {
        std::env::temp_dir().join(format!("rekcon-journal-{}", uuid::Uuid::new_v4().simple()))
    }

    fn endpoint() -> JournalEndpoint {
        JournalEndpoint {
            url: Some("http://127.0.0.1:9".into()),
            aws: false,
            region: "us-east-1".into(),
            profile: None,
        }
    }

    fn typed(json: Value, operation: Operation) -> Call {
        Call::Typed(Request::from_json(operation, &json).unwrap())
    }

    fn answer(status: u16, body: Value) -> RawResponse {
        RawResponse {
            status,
            content_type: None,
            request_id: None,
            error_type: None,
            headers: Vec::new(),
            body: body.to_string().into_bytes(),
        }
    }

    #[test]
    fn creations_are_open_until_deleted_and_a_live_journal_is_not_dead() {
        let dir = scratch();
        let journal = Journal::create(&dir, "abcd1234", "rekcon-abcd1234-", "run", endpoint()).unwrap();
        let create =
            typed(serde_json::json!({"CollectionId": "rekcon-abcd1234-1-c"}), Operation::CreateCollection);
        journal.before(&create).unwrap();
        // Written before any answer: a kill now leaves it named.
        assert_eq!(journal.open().unwrap().collections.len(), 1);
        // The live run holds its lock: its journal is not a dead one.
        assert!(dead_journals(&dir).unwrap().is_empty());
        let user = typed(
            serde_json::json!({"CollectionId": "rekcon-abcd1234-1-c", "UserId": "u"}),
            Operation::CreateUser,
        );
        journal.before(&user).unwrap();
        let delete =
            typed(serde_json::json!({"CollectionId": "rekcon-abcd1234-1-c"}), Operation::DeleteCollection);
        journal.after(&delete, Some(&answer(200, serde_json::json!({"StatusCode": 200})))).unwrap();
        assert!(journal.open().unwrap().is_empty(), "{:?}", journal.open());
        assert_eq!(journal.finish().unwrap(), None);
        assert!(std::fs::read_dir(&dir).unwrap().next().is_none(), "the journal and its lock are gone");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_refused_creation_closes_only_what_never_existed_and_another_prefix_waits_for_success() {
        let dir = scratch();
        let journal = Journal::create(&dir, "abcd1234", "rekcon-abcd1234-", "run", endpoint()).unwrap();
        let create = |id: &str| typed(serde_json::json!({"CollectionId": id}), Operation::CreateCollection);
        let refused = |code: &str| answer(400, serde_json::json!({"__type": code, "Message": "x"}));
        // Created, then created again (as fuzz cases do): the duplicate's refusal keeps it open.
        let scoped = create("rekcon-abcd1234-1-c");
        journal.before(&scoped).unwrap();
        journal.after(&scoped, Some(&answer(200, serde_json::json!({})))).unwrap();
        journal.before(&scoped).unwrap();
        journal.after(&scoped, Some(&refused("ResourceAlreadyExistsException"))).unwrap();
        assert_eq!(journal.open().unwrap().collections.len(), 1, "{:?}", journal.open());
        // A refused creation of an id that never existed closes it.
        let invalid = create("rekcon-abcd1234-2-c x");
        journal.before(&invalid).unwrap();
        journal.after(&invalid, Some(&refused("InvalidParameterException"))).unwrap();
        assert_eq!(journal.open().unwrap().collections.len(), 1, "{:?}", journal.open());
        let foreign = create("theirs");
        journal.before(&foreign).unwrap();
        assert_eq!(journal.open().unwrap().collections.len(), 1, "{:?}", journal.open());
        journal.after(&foreign, Some(&answer(200, serde_json::json!({})))).unwrap();
        let expected = BTreeSet::from(["rekcon-abcd1234-1-c".to_string(), "theirs".to_string()]);
        assert_eq!(journal.open().unwrap().collections, expected);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_operation_the_endpoint_does_not_implement_created_nothing() {
        let dir = scratch();
        let journal = Journal::create(&dir, "abcd1234", "rekcon-abcd1234-", "run", endpoint()).unwrap();
        let create = |id: &str| typed(serde_json::json!({"CollectionId": id}), Operation::CreateCollection);
        let html = |status: u16| RawResponse {
            status,
            content_type: Some("text/html; charset=utf-8".into()),
            request_id: None,
            error_type: None,
            headers: Vec::new(),
            body: b"<!doctype html><title>500 Internal Server Error</title>".to_vec(),
        };
        // moto's HTML 500 and a 501: not implemented, nothing was created.
        for (i, answer) in [html(500), answer(501, serde_json::json!({}))].iter().enumerate() {
            let call = create(&format!("rekcon-abcd1234-{i}-c"));
            journal.before(&call).unwrap();
            journal.after(&call, Some(answer)).unwrap();
        }
        assert!(journal.open().unwrap().collections.is_empty(), "{:?}", journal.open());
        // A JSON 500 may have created it: it stays open.
        let maybe = create("rekcon-abcd1234-9-c");
        journal.before(&maybe).unwrap();
        let ise = answer(500, serde_json::json!({"__type": "InternalServerError", "Message": "x"}));
        journal.after(&maybe, Some(&ise)).unwrap();
        assert_eq!(journal.open().unwrap().collections.len(), 1, "{:?}", journal.open());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_dead_runs_journal_is_found_with_what_it_left() {
        let dir = scratch();
        let journal = Journal::create(&dir, "dead0001", "rekcon-dead0001-", "fuzz", endpoint()).unwrap();
        let index = typed(
            serde_json::json!({"CollectionId": "theirs", "Image": {"Bytes": "AAAA"}}),
            Operation::IndexFaces,
        );
        journal.before(&index).unwrap();
        let faces = serde_json::json!({"FaceRecords": [{"Face": {"FaceId": "f-1"}}]});
        journal.after(&index, Some(&answer(200, faces))).unwrap();
        // Dropping it without finish() is what a killed run leaves: the lock goes with it.
        drop(journal);
        let dead = dead_journals(&dir).unwrap();
        assert_eq!(dead.len(), 1);
        let header = dead[0].header.clone().unwrap();
        assert_eq!((header.run_id.as_str(), header.command.as_str()), ("dead0001", "fuzz"));
        let open = dead[0].open.clone().outside_collections("rekcon-dead0001-");
        assert_eq!(open.faces.get("theirs"), Some(&BTreeSet::from(["f-1".to_string()])));
        assert!(open.unanswered_indexing.is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
