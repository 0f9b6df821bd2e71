//! `floral run` and `floral check`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::anyhow;
use floral_experiment::{ExperimentError, QUICKSTART, Study, load_study, load_study_file, run_study};

use crate::{CheckArgs, CliError, RunArgs};

fn classify(e: ExperimentError) -> CliError {
    if e.is_input_error() { CliError::Input(anyhow!(e)) } else { CliError::Internal(anyhow!(e)) }
}

fn study_for(file: Option<&Path>) -> Result<Box<dyn Study>, CliError> {
    match file {
        Some(f) => load_study_file(f).map_err(classify),
        None => load_study(QUICKSTART, Path::new("<built-in quickstart>")).map_err(classify),
    }
}

pub(crate) fn run(a: &RunArgs) -> Result<(), CliError> {
    let study = study_for(a.file.as_deref())?;
    let out = a.out.clone().unwrap_or_else(|| PathBuf::from("reports").join(study.name()));
    let total = study.jobs() as u64;
    let bar = if std::io::stderr().is_terminal() && !a.quiet && total > 0 {
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
    let output = run_study(study.as_ref(), &out, &tick).map_err(classify)?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    for w in &output.warnings {
        eprintln!("warning: {w}");
    }
    println!("{}: {} runs, report in {}", study.name(), total, out.join("report.md").display());
    for line in output.summary {
        println!("  {line}");
    }
    Ok(())
}

pub(crate) fn check(a: &CheckArgs) -> Result<(), CliError> {
    let study = study_for(Some(&a.file))?;
    let lines = study.describe();
    let first = lines.first().map_or(String::new(), |l| format!(" ({l})"));
    println!("{}: ok{first}", a.file.display());
    for l in lines.iter().skip(1) {
        println!("  {l}");
    }
    Ok(())
}
