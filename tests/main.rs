//! The root integration-test binary: end-to-end runs, CLI error messages and proofs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli;
mod docs;
mod evaluation;
mod example_kind;
mod experiments;
mod multiclass;
mod proofs;
mod quickstart;
mod seams;
mod shards;
mod stability_cli;
