//! The root integration-test binary: end-to-end runs, CLI error messages and proofs.

mod cli;
mod experiments;
mod proofs;
mod quickstart;
