//! The contract fuzzer: random operation sequences checked against the model.
//!
//! Generated cases are ordinary scenarios: [`generate`] draws calls from what exists,
//! [`case`] writes each as scenario YAML, loads it with the scenario loader and runs it
//! through an [`exec::Executor`] (the harness's runner over HTTP, or the emulator's core
//! in-process), [`drive`] lets proptest shrink a divergence to a minimal case and
//! confirms it, [`report`] writes the minimal case as a regression scenario that
//! `rekcon run` replays, [`coverage`] says what the run reached, and [`merge`] joins the
//! reports of `--partition` workers. [`concurrent`] is `--concurrency K`: racing calls
//! judged for linearizability. [`confirm`] replays each finding on a second endpoint
//! (real AWS) to say whose bug it is. [`cli`] is `rekcon fuzz`.

pub mod case;
pub mod cli;
pub mod concurrent;
pub mod confirm;
pub mod coverage;
pub mod drive;
pub mod exec;
pub mod generate;
pub mod merge;
mod pool;
pub mod race_report;
pub mod report;
