//! rekcon: a conformance test harness and contract fuzzer for the Amazon Rekognition
//! collections, faces and users API.
//!
//! Data flow: a scenario step or a generated call becomes an [`api::Request`]; the
//! reference [`model`] says which outcomes the contract allows ([`expect::Allowed`]); a
//! target executes the call; the observed outcome is judged against the allowance and
//! the model advances along what the endpoint actually did.

pub mod api;
pub mod budget;
pub mod cause;
pub mod certify;
pub mod check;
pub mod config;
pub mod error;
pub mod expect;
pub mod filter;
pub mod fuzz;
pub mod image;
pub mod interrupt;
pub mod journal;
pub mod linearize;
pub mod model;
pub mod output;
pub mod progress;
pub mod ratelimit;
pub mod record;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod serve;
pub mod settle;
pub mod suite;
pub mod target;
pub mod transcript;
pub mod unknown;
pub mod verify;
