//! The built-in emulator: the reference model behind the `awsJson1_1` wire protocol.
//!
//! `rekcon serve` (and the harness, in-process) answers each call with what the model
//! allows, realised by a seeded [`chooser`], so an emulator answer always passes the
//! harness's own judgement. Knobs add the realism a real endpoint has (eventual
//! consistency of `UserStatus`, throttling, injected faults); mutants plant one known
//! bug each, so the harness's power to catch divergence is measured, not assumed.
//!
//! The emulator does no face detection: faces come from a marker in the image bytes, or
//! one face per image digest (see [`crate::image`]); with [`Detector::Canned`] every
//! image holds one fixed face and similarity comes from a hash of the ids, as in
//! emulators without a detector.

mod chooser;
pub mod cli;
mod config;
mod inprocess;
mod knobs;
mod log;
mod mutant;
mod paging;
mod pipeline;
mod race;
mod server;
mod sigv4;
mod wire;

pub use cli::{ServeArgs, SigV4Key};
pub use config::{Detector, ServeConfig, ServeError};
pub use inprocess::InProcess;
pub use log::{LogSink, RequestLog};
pub use mutant::Mutant;
pub use server::{Server, StateSaver};
pub use sigv4::format_amz_date;
