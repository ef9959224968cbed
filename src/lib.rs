//! rekcon: a conformance test harness and contract fuzzer for the Amazon Rekognition
//! collections, faces and users API.
//!
//! Data flow: a scenario step or a generated call becomes an [`api::Request`]; the
//! reference [`model`] says which outcomes the contract allows ([`expect::Allowed`]); a
//! target executes the call; the observed outcome is judged against the allowance and
//! the model advances along what the endpoint actually did.

pub mod api;
pub mod expect;
pub mod unknown;
pub mod image;
pub mod model;
pub mod fuzz;
pub mod serve;
pub mod error;
pub mod config;
pub mod scenario;
pub mod check;
pub mod target;
pub mod report;
pub mod transcript;
pub mod runner;
