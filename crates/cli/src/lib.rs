//! floral-cli: the `floral` command line (argument parsing, exit codes, progress).
//!
//! Subcommands: `run`, `check`, `merge`, `submit`, `svm train`, `svm predict`, `stability`, `bench projection`,
//! `bench game`, `bench scale`, `bench lookahead`.
//! Exit codes: 0 ok, 1 invalid input, 2 numerical or internal failure.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod args;
mod bench_game;
mod bench_lookahead;
mod bench_projection;
mod bench_scale;
mod run_cmd;
mod stability_cmd;
mod submit_cmd;
mod svm_cmd;

pub use args::{
    BenchGameArgs, BenchLookaheadArgs, BenchProjectionArgs, BenchScaleArgs, CheckArgs, MergeArgs, RunArgs,
    StabilityArgs, SubmitArgs, SvmPredictArgs, SvmTrainArgs,
};

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
            // The message, then each cause in the chain that it does not already spell out
            // (errors that print their source would otherwise say it twice).
            CliError::Input(e) | CliError::Internal(e) => {
                let mut msg = e.to_string();
                for cause in e.chain().skip(1) {
                    let c = cause.to_string();
                    if !msg.contains(&c) {
                        msg.push_str(": ");
                        msg.push_str(&c);
                    }
                }
                f.write_str(&msg)
            }
        }
    }
}

/// floral: label-poisoning attacks and defences on kernel SVMs.
#[derive(Debug, Parser)]
#[command(
    name = "floral",
    version,
    about = "Label-poisoning attacks and defences on kernel SVMs, built around FLORAL: run a RON experiment, get a deterministic Markdown report",
    long_about = "floral runs label-poisoning experiments on kernel SVMs: FLORAL's attacker ⇄ learner game, plain and tuned SVM baselines, exact projections. An experiment is a RON file (reference: docs/experiments.md); `floral run FILE.ron` writes reports/<name>/report.md, results.json and SVG plots, reproducible bit for bit from the seeds. Exit codes: 0 ok, 1 invalid input (the message names the file, line or field), 2 numerical or internal failure."
)]
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
    /// Assemble the report from the cell stores of `floral run --shard` runs (byte-identical to
    /// an unsharded run).
    Merge(MergeArgs),
    /// Write a cluster array-job script (SLURM or HTCondor): one task per shard, then a merge.
    Submit(SubmitArgs),
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
    /// Predict with a saved model (LIBSVM's model format) and report the accuracy.
    Predict(SvmPredictArgs),
}

/// `floral bench ...`
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Exact vs fixed-point projection on a seeded random instance.
    Projection(BenchProjectionArgs),
    /// One FLORAL round vs one Q̃λ product, and a full Moon run.
    Game(BenchGameArgs),
    /// Time an experiment at scale (default experiments/scale_20k.ron: n = 20,000, d = 768) and
    /// write a timing report (not byte-reproducible; excluded from regeneration).
    Scale(BenchScaleArgs),
    /// A look-ahead attacker's round vs a plain FLORAL round, per horizon and pool; and the
    /// objective each attacker's flips reach (relaxation vs discrete search).
    Lookahead(BenchLookaheadArgs),
}

/// Run the parsed command.
///
/// # Errors
/// A [`CliError`] whose kind gives the exit code.
pub fn dispatch(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Run(a) => run_cmd::run(&a),
        Command::Check(a) => run_cmd::check(&a),
        Command::Merge(a) => run_cmd::merge(&a),
        Command::Submit(a) => submit_cmd::run(&a),
        Command::Svm(SvmCommand::Train(a)) => svm_cmd::train(&a),
        Command::Svm(SvmCommand::Predict(a)) => svm_cmd::predict(&a),
        Command::Stability(a) => stability_cmd::run(&a),
        Command::Bench(BenchCommand::Projection(a)) => bench_projection::run(&a),
        Command::Bench(BenchCommand::Game(a)) => bench_game::run(&a),
        Command::Bench(BenchCommand::Scale(a)) => bench_scale::run(&a),
        Command::Bench(BenchCommand::Lookahead(a)) => bench_lookahead::run(&a),
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
    // A panic (a broken invariant, or an allocation a library could not make) is exit 2 with
    // a one-line message, never a backtrace dump.
    std::panic::set_hook(Box::new(|_| {}));
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| dispatch(cli))) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
        Err(payload) => {
            eprintln!("error: {}", panic_message(payload.as_ref()));
            ExitCode::from(2)
        }
    }
}

/// The one-line message for a panic payload; allocation failures say so.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let text = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown cause".to_string());
    if text.contains("AllocError") || text.contains("memory allocation") || text.contains("capacity overflow") {
        let what = match alloc_size(&text) {
            Some(bytes) => format!("could not allocate {} MB", bytes.div_ceil(1_000_000)),
            None => text,
        };
        format!(
            "internal failure: out of memory ({what}); `floral check` estimates what a run holds: lower n, the number of seeds or the parallel jobs (RAYON_NUM_THREADS)"
        )
    } else {
        format!("internal failure (a bug: please report it): {text}")
    }
}

/// The byte count in an allocation failure's text (`… size: 2048000000, …` from faer's
/// `AllocError`, or `memory allocation of N bytes failed`).
fn alloc_size(text: &str) -> Option<u64> {
    let digits = |s: &str| s.chars().take_while(char::is_ascii_digit).collect::<String>().parse().ok();
    if let Some(i) = text.find("size: ") {
        return digits(&text[i + 6..]);
    }
    text.find("memory allocation of ").and_then(|i| digits(&text[i + 21..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_messages_name_allocation_failures() {
        let m = panic_message(&"called `Result::unwrap()` on an `Err` value: AllocError");
        assert!(m.starts_with("internal failure: out of memory"), "{m}");
        let m = panic_message(&String::from(
            "called `Result::unwrap()` on an `Err` value: AllocError { layout: Layout { size: 2048000000, align: 64 (1 << 6) } }",
        ));
        assert!(m.contains("(could not allocate 2048 MB)") && !m.contains("unwrap"), "{m}");
        let m = panic_message(&String::from("index out of bounds"));
        assert!(m.contains("a bug") && m.contains("index out of bounds"), "{m}");
    }
}
