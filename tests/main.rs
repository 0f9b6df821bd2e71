//! The workspace's one integration-test binary: end-to-end runs, CLI error messages and proofs,
//! and each member crate's public-contract tests under `tests/<crate>/` (one binary links faer
//! once, where a binary per test file linked it nineteen times).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod attack;
mod cli;
mod data;
mod defense;
mod docs;
mod evaluation;
mod example_kind;
mod experiments;
mod game;
mod multiclass;
mod projection;
mod proofs;
mod quickstart;
mod report;
mod seams;
mod shards;
mod stability;
mod stability_cli;
mod svm;
