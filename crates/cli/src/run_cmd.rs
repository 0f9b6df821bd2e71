//! `floral run` and `floral check`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::anyhow;
use floral_experiment::{
    ExperimentError, Plan, QUICKSTART, check as check_spec, job_count, parse, read, run_and_report,
};

use crate::{CheckArgs, CliError, RunArgs};

fn classify(e: ExperimentError) -> CliError {
    if e.is_input_error() { CliError::Input(anyhow!(e)) } else { CliError::Internal(anyhow!(e)) }
}

fn plan_for(file: Option<&Path>) -> Result<Plan, CliError> {
    match file {
        Some(f) => {
            let spec = read(f).map_err(classify)?;
            check_spec(spec, f).map_err(classify)
        }
        None => {
            let src = Path::new("<built-in quickstart>");
            let spec = parse(QUICKSTART, src).map_err(classify)?;
            check_spec(spec, src).map_err(classify)
        }
    }
}

pub(crate) fn run(a: &RunArgs) -> Result<(), CliError> {
    let plan = plan_for(a.file.as_deref())?;
    let out = a.out.clone().unwrap_or_else(|| PathBuf::from("reports").join(&plan.spec.name));
    let total = job_count(&plan) as u64;
    let bar = if std::io::stderr().is_terminal() && !a.quiet {
        let b = indicatif::ProgressBar::new(total);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} runs, {elapsed} elapsed, eta {eta}  last done: {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(b)
    } else {
        None
    };
    // On a terminal, a progress bar; otherwise (nohup, cluster logs) one line per finished run;
    // nothing with --quiet.
    let done = std::sync::atomic::AtomicU64::new(0);
    let quiet = a.quiet;
    let tick = |what: &str| {
        let i = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        match &bar {
            Some(b) => {
                b.set_message(what.to_string());
                b.inc(1);
            }
            None if !quiet => eprintln!("[{i}/{total}] {what}: done"),
            None => {}
        }
    };
    let reported = run_and_report(&plan, &out, &tick).map_err(classify)?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    for w in &reported.warnings {
        eprintln!("warning: {w}");
    }
    let rows = reported.rows;
    println!("{}: {} runs, report in {}", plan.spec.name, total, out.join("report.md").display());
    for r in rows {
        println!(
            "  {:<28} {:<16} test accuracy {} ± {} ({} seeds)",
            r.method,
            r.poison,
            floral_experiment::report::fmt_num(r.test_accuracy_mean),
            floral_experiment::report::fmt_num(r.test_accuracy_std),
            r.n_seeds
        );
    }
    Ok(())
}

pub(crate) fn check(a: &CheckArgs) -> Result<(), CliError> {
    let plan = plan_for(Some(&a.file))?;
    println!(
        "{}: ok ({} methods, {} poison levels, {} seeds, {} runs)",
        a.file.display(),
        plan.methods.len(),
        plan.poison_names.len(),
        plan.spec.seeds.len(),
        job_count(&plan)
    );
    let m = &plan.memory;
    let avail = m.available_bytes.map_or_else(|| "unknown".to_string(), |a| format!("{:.0} MiB", a as f64 / 1048576.0));
    println!("  estimated peak memory {}; available {avail}", m.describe());
    Ok(())
}
