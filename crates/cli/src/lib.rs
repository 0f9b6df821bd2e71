//! floral-cli: the `floral` command line (argument parsing, exit codes, progress).
//!
//! Subcommands: `run`, `check`, `svm train`, `stability`, `bench projection`, `bench game`.
//! Exit codes: 0 ok, 1 invalid input, 2 numerical or internal failure.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod args;
mod bench_game;
mod bench_projection;
mod run_cmd;
mod stability_cmd;
mod svm_cmd;

pub use args::{BenchGameArgs, BenchProjectionArgs, CheckArgs, RunArgs, StabilityArgs, SvmTrainArgs};

/// A failure of a subcommand, classified by who is to blame.
#[derive(Debug)]
pub enum CliError {
    /// Bad user input (file, flag, RON field): exit code 1.
    Input(anyhow::Error),
    /// A numerical or internal failure: exit code 2.
    Internal(anyhow::Error),
}

impl CliError {
    /// The process exit code for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Input(_) => 1,
            CliError::Internal(_) => 2,
        }
    }
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CliError::Input(e) | CliError::Internal(e) => write!(f, "{e:#}"),
        }
    }
}

/// floral: label-poisoning attacks and defences on kernel SVMs.
#[derive(Debug, Parser)]
#[command(name = "floral", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run an experiment file (no file: the built-in quickstart) and write its report.
    Run(RunArgs),
    /// Validate an experiment file without running it.
    Check(CheckArgs),
    /// Kernel-SVM tools.
    #[command(subcommand)]
    Svm(SvmCommand),
    /// Local stability of the learner's map at a point: λ_max(K), the free set, μ_max, the
    /// spectral radius of the Jacobian and the verdict.
    Stability(StabilityArgs),
    /// Measure speed as ratios within one run.
    #[command(subcommand)]
    Bench(BenchCommand),
}

/// `floral svm ...`
#[derive(Debug, Subcommand)]
pub enum SvmCommand {
    /// Train a kernel SVM with the exact SMO solver.
    Train(SvmTrainArgs),
}

/// `floral bench ...`
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Exact vs fixed-point projection on a seeded random instance.
    Projection(BenchProjectionArgs),
    /// One FLORAL round vs one Q̃λ product, and a full Moon run.
    Game(BenchGameArgs),
}

/// Run the parsed command.
///
/// # Errors
/// A [`CliError`] whose kind gives the exit code.
pub fn dispatch(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Run(a) => run_cmd::run(&a),
        Command::Check(a) => run_cmd::check(&a),
        Command::Svm(SvmCommand::Train(a)) => svm_cmd::train(&a),
        Command::Stability(a) => stability_cmd::run(&a),
        Command::Bench(BenchCommand::Projection(a)) => bench_projection::run(&a),
        Command::Bench(BenchCommand::Game(a)) => bench_game::run(&a),
    }
}

/// Run the `floral` command with the process arguments and return its exit code
/// (0 ok, 1 invalid input, 2 numerical or internal failure).
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 1 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
