//! The contract fuzzer: random operation sequences checked against the model.
//!
//! Generated cases are ordinary scenarios: they run through the same runner, wire
//! checks and model as a YAML scenario, and a divergence is shrunk and written out as
//! a scenario file that `rekcon run` replays.

pub mod coverage;
pub mod generate;
