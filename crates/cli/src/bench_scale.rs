//! `floral bench scale`: how `floral run` scales to the paper's size (n = 20,000 training points,
//! d = 768), measured in one process and written as a report.
//!
//! It checks an experiment file (default `experiments/scale_20k.ron`), builds the kernel
//! matrices once, times one streaming pass over the n×n kernel matrix K (the memory-bound floor
//! of any first-order round) and one Q̃λ product, then fits every method on the first seed and
//! poison level with the same inputs as `floral run` (the registry's defence, the shared
//! kernels, the per-round evaluation), timing each fit. The report gives the wall time per 100
//! rounds, the ratio of a round to one pass over K, the peak resident memory against the
//! estimate of `floral check`, and whether 1,000 rounds fit in 10 minutes.
//!
//! Timings are not reproducible, so this report is excluded from `scripts/regenerate-reports`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::anyhow;
use faer::Col;
use floral_experiment::data::Streams;
use floral_experiment::defense::FitInput;
use floral_experiment::game::{Evaluator, SplitKernels};
use floral_experiment::plan::Family;
use floral_experiment::report::{Block, Cell, Document, Table, fmt_num};
use floral_experiment::svm::SignedGram;

use crate::bench_game::{peak_rss_bytes, stream_sum};
use crate::{BenchScaleArgs, CliError};

/// The goal: this many rounds …
const GOAL_ROUNDS: f64 = 1000.0;
/// … in at most this many seconds.
const GOAL_SECONDS: f64 = 600.0;

fn load_average() -> Option<String> {
    let s = std::fs::read_to_string("/proc/loadavg").ok()?;
    Some(s.split_whitespace().take(3).collect::<Vec<_>>().join(", "))
}

fn mib(b: f64) -> String {
    format!("{} MiB", fmt_num((b / 1048576.0).round()))
}

/// One fitted method's timing.
struct Fit {
    name: String,
    floral: bool,
    seconds: f64,
    iterations: usize,
    test_accuracy: Vec<(String, f64)>,
}

pub(crate) fn run(a: &BenchScaleArgs) -> Result<(), CliError> {
    let internal = |e: &dyn std::fmt::Display| CliError::Internal(anyhow!("{e}"));
    let load_at_start = load_average();
    let t = Instant::now();
    let study = floral_experiment::load_study_file(&a.file).map_err(|e| CliError::Input(anyhow!(e)))?;
    let Some(plan) = study.as_plan() else {
        return Err(CliError::Input(anyhow!("{}: bench scale needs an Experiment file", a.file.display())));
    };
    let check_seconds = t.elapsed().as_secs_f64();
    let (Some(level), Some(clean)) = (plan.levels.first(), plan.clean.first()) else {
        return Err(CliError::Input(anyhow!("{}: no poison level or seed", a.file.display())));
    };
    let t = Instant::now();
    let kernels = Arc::new(SplitKernels::new(plan.kernel.as_ref(), clean));
    let kernel_seconds = t.elapsed().as_secs_f64();
    let split = floral_experiment::run::poisoned_split(plan, level, 0, &kernels).map_err(|e| internal(&e))?;
    let n = split.train.n();
    let bytes = 8.0 * n as f64 * n as f64;
    eprintln!("n = {n}: kernels built in {kernel_seconds:.1} s; timing one pass over K and one product");

    // Baselines, interleaved so both see the same load: one streaming pass over K, one Q̃λ.
    let q = SignedGram::new(kernels.train.clone(), split.train.y()).map_err(|e| internal(&e))?;
    let lambda = Col::from_fn(n, |i| (i % 7) as f64 * 0.01);
    let (mut out, mut scratch) = (Col::zeros(n), vec![0.0; n]);
    let (mut pass, mut product, mut checksum) = (f64::INFINITY, f64::INFINITY, 0.0);
    for _ in 0..a.reps.max(1) {
        let t = Instant::now();
        checksum += stream_sum(&kernels.train);
        pass = pass.min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        q.matvec_with_scratch_into(lambda.as_ref(), &mut scratch, out.as_mut());
        product = product.min(t.elapsed().as_secs_f64());
    }
    std::hint::black_box((checksum, &out));

    let mut fits = Vec::new();
    for m in &plan.methods {
        let Some(v) = m.variants.first() else { continue };
        eprintln!("fitting {} ...", m.name);
        let input = FitInput {
            train: &split.train,
            trusted: split.validation.as_ref(),
            kernel: plan.kernel.as_ref(),
            kernels: &kernels,
            monitor: Some(Evaluator::shared(kernels.clone(), &split)),
        };
        let mut rngs = Streams::new(plan.spec.seeds[0]);
        let t = Instant::now();
        let fitted = v.defence.fit(input, &mut rngs).map_err(|e| internal(&format!("{}: {e}", m.name)))?;
        let seconds = t.elapsed().as_secs_f64();
        let mut eval = Evaluator::shared(kernels.clone(), &split);
        let test_accuracy = fitted
            .outputs
            .iter()
            .filter(|o| o.basis == floral_experiment::defense::Basis::Train)
            .map(|o| (o.rule.clone(), eval.scores(&o.model).test.accuracy))
            .collect();
        let floral = matches!(m.family, Family::Floral { .. });
        eprintln!("  {} in {seconds:.1} s ({} iterations)", m.name, fitted.iterations);
        fits.push(Fit { name: m.name.clone(), floral, seconds, iterations: fitted.iterations, test_accuracy });
    }
    let peak = peak_rss_bytes();
    let doc = document(
        a,
        plan,
        &Measured {
            n,
            d: split.train.dim(),
            check_seconds,
            kernel_seconds,
            pass,
            product,
            bytes,
            fits: &fits,
            peak,
            load_at_start,
            load_at_end: load_average(),
        },
    );
    let json = serde_json::json!({
        "name": "scale",
        "experiment": a.file.display().to_string(),
        "excluded_from_regeneration": "timings are not reproducible; regenerate with floral bench scale",
        "n_train": n,
        "d": split.train.dim(),
        "cores": std::thread::available_parallelism().map(|c| c.get()).unwrap_or(1),
        "check_seconds": check_seconds,
        "kernel_seconds": kernel_seconds,
        "pass_seconds": pass,
        "product_seconds": product,
        "kernel_matrix_bytes": bytes,
        "estimated_peak_bytes": plan.memory.total_bytes,
        "peak_rss_bytes": peak,
        "fits": fits.iter().map(|f| serde_json::json!({
            "method": f.name,
            "seconds": f.seconds,
            "iterations": f.iterations,
            "test_accuracy": f.test_accuracy.iter().map(|(r, acc)| serde_json::json!({"rule": r, "accuracy": acc})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    });
    let files =
        floral_experiment::report::write_report(&a.out, &doc, &json).map_err(|e| CliError::Input(anyhow!(e)))?;
    for b in &doc.blocks {
        if let Block::Paragraph(p) = b {
            if p.starts_with("**Answer") {
                println!("{p}");
            }
        }
    }
    println!("report in {}", files.markdown.display());
    Ok(())
}

struct Measured<'a> {
    n: usize,
    d: usize,
    check_seconds: f64,
    kernel_seconds: f64,
    pass: f64,
    product: f64,
    bytes: f64,
    fits: &'a [Fit],
    peak: Option<u64>,
    load_at_start: Option<String>,
    load_at_end: Option<String>,
}

fn document(a: &BenchScaleArgs, plan: &floral_experiment::Plan, m: &Measured<'_>) -> Document {
    let cores = std::thread::available_parallelism().map(|c| c.get()).unwrap_or(1);
    let file = display_path(&a.file);
    let mut doc = Document::new(format!("floral scale report: {}", plan.spec.name));
    doc.push(Block::Paragraph(format!(
        "**Question.** How long does `floral run` take at the paper's scale (n = {} training points, d = {} features), and how close is a FLORAL round to the floor set by memory bandwidth, one pass over the n×n kernel matrix K? The goal: {} rounds in under {} minutes on this {cores}-core machine.",
        m.n,
        m.d,
        fmt_num(GOAL_ROUNDS),
        fmt_num(GOAL_SECONDS / 60.0)
    )));
    doc.push(Block::Paragraph(format!(
        "Produced by `floral bench scale {file} --out {}` (the experiment file's first seed and first poison level; every method's first variant). **This report is not reproducible byte for byte**: it holds wall-clock times, memory and machine load, so `scripts/regenerate-reports` skips it; rerun the command to refresh it. Content hash of the experiment: `{}`.",
        display_path(&a.out),
        plan.hash
    )));
    doc.push(Block::Heading { level: 2, text: "Measurements".into() });
    doc.push(Block::Table(measurements(m, cores)));
    let acc: Vec<String> = m
        .fits
        .iter()
        .flat_map(|f| f.test_accuracy.iter().map(move |(r, a)| format!("`{}` ({r}): {}", f.name, fmt_num(*a))))
        .collect();
    if !acc.is_empty() {
        doc.push(Block::Paragraph(format!(
            "Test accuracy of the fitted models (a sanity check, one seed): {}.",
            acc.join("; ")
        )));
    }
    let est = plan.memory.total_bytes as f64;
    doc.push(Block::Paragraph(match m.peak {
        Some(p) => format!(
            "Peak resident memory (VmHWM) {}; `floral check` estimated {} for a run of this experiment; K alone is {}.",
            mib(p as f64),
            mib(est),
            mib(m.bytes)
        ),
        None => format!("Peak resident memory: not readable here (/proc); `floral check` estimated {}.", mib(est)),
    }));
    doc.push(Block::Heading { level: 2, text: "Answer".into() });
    doc.push(Block::Paragraph(answer(m)));
    doc.push(Block::Heading { level: 2, text: "Limits".into() });
    doc.push(Block::List(vec![
        "One seed, one poison level, one run per method: no spread; the times are of this run on a machine shared with other jobs (see the load averages), not a controlled benchmark.".into(),
        "The streaming pass and the product are minima over repetitions, the fits single runs, so the ratios are if anything pessimistic for the fits.".into(),
        "The data are a Gaussian mixture standing in for sentence embeddings, and an easy one (the accuracies above are near 1): it measures cost, which depends on n and d only, not how well FLORAL defends on real embeddings.".into(),
        "A full `floral run` of the experiment also computes λ_max(K) for the step-size warning and runs the methods in parallel, so its wall time differs from the sum of the fits.".into(),
    ]));
    doc.push(Block::Heading { level: 2, text: "Experiment".into() });
    doc.push(Block::Code { lang: "ron".into(), text: plan.canonical.clone() });
    doc
}

/// The measurements table: check, kernels, a pass over K, a product, every fit.
fn measurements(m: &Measured<'_>, cores: usize) -> Table {
    let mut rows = vec![
        vec![
            Cell::Text("check (data generation and checks)".into()),
            Cell::Num(m.check_seconds),
            Cell::Text(String::new()),
        ],
        vec![
            Cell::Text("kernel matrices (K and the validation/test cross-kernels), once".into()),
            Cell::Num(m.kernel_seconds),
            Cell::Text(format!("K alone is {}", mib(m.bytes))),
        ],
        vec![
            Cell::Text("one streaming pass over K (a sum; min over repetitions)".into()),
            Cell::Num(m.pass),
            Cell::Text(format!("{} GB/s", fmt_num(m.bytes / m.pass / 1e9))),
        ],
        vec![
            Cell::Text("one Q̃λ product (min over repetitions)".into()),
            Cell::Num(m.product),
            Cell::Text(format!("{} passes over K", fmt_num(m.product / m.pass))),
        ],
    ];
    for f in m.fits {
        let extra = if f.floral && f.iterations > 0 {
            let round = f.seconds / f.iterations as f64;
            format!(
                "{} rounds; {} s per 100 rounds; a round = {} passes over K = {} Q̃λ products",
                f.iterations,
                fmt_num(100.0 * round),
                fmt_num(round / m.pass),
                fmt_num(round / m.product)
            )
        } else {
            format!("{} iterations", f.iterations)
        };
        rows.push(vec![Cell::Text(format!("fit `{}`", f.name)), Cell::Num(f.seconds), Cell::Text(extra)]);
    }
    Table {
        caption: Some(format!(
            "Wall-clock seconds on {cores} cores; machine load average (1, 5, 15 min) {} at the start and {} at the end (other processes shared the cores).",
            m.load_at_start.as_deref().unwrap_or("unknown"),
            m.load_at_end.as_deref().unwrap_or("unknown")
        )),
        headers: vec!["step".into(), "seconds".into(), "notes".into()],
        rows,
    }
}

/// The answer: the measured (or projected) time of the goal's rounds against the goal.
fn answer(m: &Measured<'_>) -> String {
    let floral = m.fits.iter().find(|f| f.floral && f.iterations > 0);
    match floral {
        Some(f) => {
            let per_round = f.seconds / f.iterations as f64;
            let projected = per_round * GOAL_ROUNDS;
            let met = projected < GOAL_SECONDS;
            let measured = if f.iterations as f64 == GOAL_ROUNDS {
                format!("{} rounds took {} s ({} min)", f.iterations, fmt_num(f.seconds), fmt_num(f.seconds / 60.0))
            } else {
                format!(
                    "{} rounds took {} s, i.e. {} s ({} min) for {} rounds at the same pace",
                    f.iterations,
                    fmt_num(f.seconds),
                    fmt_num(projected),
                    fmt_num(projected / 60.0),
                    fmt_num(GOAL_ROUNDS)
                )
            };
            let end_to_end = m.check_seconds + m.kernel_seconds + projected;
            format!(
                "**Answer.** At n = {}, {measured}: the goal of {} rounds in under {} minutes is **{}** for the game itself on this machine under the load stated above. Counting the data check and the kernel build as well, FLORAL's part of a run takes {} s ({} min), {} the {} minutes. A round costs {} passes over K: {}",
                m.n,
                fmt_num(GOAL_ROUNDS),
                fmt_num(GOAL_SECONDS / 60.0),
                if met { "met" } else { "not met" },
                fmt_num(end_to_end),
                fmt_num(end_to_end / 60.0),
                if end_to_end < GOAL_SECONDS { "within" } else { "over" },
                fmt_num(GOAL_SECONDS / 60.0),
                fmt_num(per_round / m.pass),
                if per_round / m.pass < 2.0 {
                    "the round is bound by streaming K once (the product) plus the per-round validation evaluation, not by the attack or the projection."
                } else {
                    "more than the product's single pass; the rest is the attack, the projection and the per-round evaluation."
                }
            )
        }
        None => {
            "**Answer.** The experiment has no FLORAL method that played a round, so there is no round time to report."
                .into()
        }
    }
}

fn display_path(p: &Path) -> String {
    PathBuf::from(p).display().to_string()
}
