//! Scenario files: the YAML format of `docs/scenario-format.md`, loaded with locations.
//!
//! Loading does all the checking that needs no endpoint: one operation per step, member
//! names of the API's own shapes, `${...}` references to declared collections, images and
//! earlier captures, expectations and capture paths. Every error names the file, line and
//! column and suggests the closest valid name. Values are parsed once into [`Template`]s,
//! so running a step only substitutes references. The folder's catalogue of real photos
//! (`images/catalogue.yaml`, [`load_catalogue`]) is checked with it and travels with
//! every scenario, so each scenario's model knows who the photos show.
//!
//! This module never talks to an endpoint and never imports the AWS SDK.

use std::path::PathBuf;
use std::sync::Arc;

use crate::api::{ErrorCode, Operation};
use crate::image::Catalogue;

mod catalogue;
mod discover;
mod load;
mod suggest;
mod template;
mod value_path;
mod yaml;

pub use catalogue::load_catalogue;
pub use discover::{Discovery, ScenarioFile, SkippedLink, discover, discover_all, scenario_name};
pub use load::{Loader, load_dir, load_file, parse};
pub use suggest::{closest, did_you_mean};
pub use template::{Bindings, RenderError, Template, Text};
pub use value_path::ValuePath;

/// The extensions a scenario file may have.
const EXTENSIONS: [&str; 2] = ["yaml", "yml"];
/// The folder (under the scenarios root) holding fixture images.
pub const IMAGES_DIR: &str = "images";
/// The file in [`IMAGES_DIR`] that declares who real photos show (see [`load_catalogue`]).
pub const CATALOGUE_FILE: &str = "catalogue.yaml";
/// Extensions of image files, in the order a bare image name is looked up.
const IMAGE_EXTENSIONS: [&str; 3] = ["png", "jpg", "jpeg"];
/// Longest result of `${repeat(...)}` / `${pad(...)}`, a guard against typos like 1e9.
const MAX_GENERATED_LEN: usize = 1 << 20;

// ---------------------------------------------------------------------------------------------
// The loaded form
// ---------------------------------------------------------------------------------------------

/// One scenario file, checked and ready to run.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Path under the scenarios root without the extension, `/`-separated (`users/x`).
    pub name: String,
    /// The file, as found (`scenarios/users/x.yaml`).
    pub path: PathBuf,
    /// What behaviour the scenario pins down.
    pub description: String,
    /// Free words for `--tag`.
    pub tags: Vec<String>,
    /// Names of run-scoped collections (`c` in `${c}`).
    pub collections: Vec<String>,
    /// Fixture images the steps refer to.
    pub images: Vec<Fixture>,
    /// The calls, in order.
    pub steps: Vec<Step>,
    /// Who the real photos of the scenarios folder show (empty without `catalogue.yaml`);
    /// the runner hands it to the scenario's model, which has no other way to know.
    pub catalogue: Catalogue,
    /// Per-field overrides of the three-way comparison (`rekcon run --against`), each
    /// with its written reason.
    pub compare: Vec<FieldOverride>,
}

/// How the three-way comparison treats one field path of this scenario's answers,
/// instead of the default table (`compare:` in a scenario file).
#[derive(Debug, Clone, PartialEq)]
pub struct FieldOverride {
    /// The path, list positions written `[]` (`FaceMatches[].Similarity`).
    pub path: String,
    /// How it is compared.
    pub how: Comparison,
    /// Why: mandatory.
    pub reason: String,
}

/// What a [`FieldOverride`] does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Comparison {
    /// Numbers within this absolute tolerance.
    Tolerance(f64),
    /// Not compared.
    Ignore,
    /// An array compared as a multiset.
    Unordered,
    /// Compared exactly (overriding a tolerance or a set in the table).
    Exact,
}

impl Scenario {
    /// The test name: the scenario name with `::` for `/` (`users::x`).
    pub fn test_name(&self) -> String {
        test_name(&self.name)
    }

    /// The insta snapshot name: the scenario name with `__` for `/` (`users__x`).
    pub fn snapshot_name(&self) -> String {
        self.name.replace('/', "__")
    }
}

/// A scenario name as a test name (`users/x` → `users::x`).
pub fn test_name(scenario_name: &str) -> String {
    scenario_name.replace('/', "::")
}

/// A fixture image, loaded once.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// The name scenarios use (`alice-1`).
    pub name: String,
    /// The file's bytes as padded standard base64, the form `Image.Bytes` takes.
    pub base64: Arc<str>,
}

/// One step of a scenario.
#[derive(Debug, Clone)]
pub struct Step {
    /// 1-based position in `steps`.
    pub index: usize,
    /// Line of the step in the file.
    pub line: u64,
    /// Column of the step in the file.
    pub column: u64,
    /// What to send.
    pub action: Action,
    /// What the author expects; without it the model alone decides.
    pub expect: Option<Expect>,
    /// Values of the response to bind for later steps.
    pub captures: Vec<Capture>,
    /// The `concurrent:` block the step belongs to (numbered from 1 in the file): the
    /// steps of one block are sent at once and judged together for linearizability.
    pub concurrent: Option<usize>,
}

impl Step {
    /// The operation the step calls, when it names one of the 16.
    pub fn operation(&self) -> Option<Operation> {
        match &self.action {
            Action::Call { operation, .. } => Some(*operation),
            Action::Raw { target, .. } => target.operation,
        }
    }

    /// The operation's name, or the raw `X-Amz-Target` without its service prefix.
    pub fn operation_name(&self) -> String {
        match &self.action {
            Action::Call { operation, .. } => operation.name().to_string(),
            Action::Raw { target, .. } => {
                target.header.strip_prefix("RekognitionService.").unwrap_or(&target.header).to_string()
            }
        }
    }
}

/// What a step sends.
#[derive(Debug, Clone)]
pub enum Action {
    /// A typed call, sent through the SDK.
    Call {
        /// The operation.
        operation: Operation,
        /// The request body, with references still to substitute.
        request: Template,
    },
    /// A signed request with a body the SDK could not produce.
    Raw {
        /// The `X-Amz-Target` to send.
        target: RawTarget,
        /// The body, sent byte for byte after substitution.
        body: RawBody,
    },
}

/// The `X-Amz-Target` of a raw step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawTarget {
    /// The header value, e.g. `RekognitionService.CreateCollection`.
    pub header: String,
    /// The operation the header names, when it is one of the 16.
    pub operation: Option<Operation>,
}

/// The body of a raw step.
#[derive(Debug, Clone)]
pub enum RawBody {
    /// Text, sent as is after substitution.
    Text(Text),
    /// A YAML mapping or list, sent as compact JSON after substitution.
    Json(Template),
}

/// What the author expects a step to return.
#[derive(Debug, Clone)]
pub enum Expect {
    /// `expect: success`.
    Success,
    /// `expect: { error: X }` or `{ error: [X, Y] }`.
    Errors(Vec<ErrorCode>),
    /// `expect: { response: {...} }`: success, and the body matches partially.
    Response(Template),
}

/// `capture: { name: path }`.
#[derive(Debug, Clone)]
pub struct Capture {
    /// The name later steps refer to as `${name}`.
    pub name: String,
    /// Where in the response body.
    pub path: ValuePath,
}
