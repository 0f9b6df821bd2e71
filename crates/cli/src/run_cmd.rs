//! `floral run`, `floral check` and `floral merge`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::anyhow;
use floral_experiment::{
    ExperimentError, QUICKSTART, Shard, Study, StudyOutput, load_study, load_study_file, run_stored,
};

use crate::{CheckArgs, CliError, MergeArgs, RunArgs};

fn classify(e: ExperimentError) -> CliError {
    if e.is_input_error() { CliError::Input(anyhow!(e)) } else { CliError::Internal(anyhow!(e)) }
}

fn study_for(file: Option<&Path>) -> Result<Box<dyn Study>, CliError> {
    match file {
        Some(f) => load_study_file(f).map_err(classify),
        None => load_study(QUICKSTART, Path::new("<built-in quickstart>")).map_err(classify),
    }
}

/// The progress reporter of a run: a bar on a terminal, otherwise one line per cell (nohup,
/// cluster logs), nothing with --quiet. Cells found in the cell store count as done.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    done: std::sync::atomic::AtomicU64,
    total: u64,
    quiet: bool,
}

impl Progress {
    fn new(total: u64, quiet: bool) -> Progress {
        let bar = if std::io::stderr().is_terminal() && !quiet && total > 0 {
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
        Progress { bar, done: std::sync::atomic::AtomicU64::new(0), total, quiet }
    }

    fn tick(&self, what: &str) {
        let i = self.done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let total = self.total;
        match &self.bar {
            Some(b) => {
                b.set_message(what.to_string());
                b.inc(1);
            }
            None if !self.quiet => match what.strip_suffix(" (stored)") {
                Some(w) => eprintln!("[{i}/{total}] {w}: already in the cell store"),
                None => eprintln!("[{i}/{total}] {what}: done"),
            },
            None => {}
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

fn warn_damaged(damaged: &[PathBuf]) {
    for d in damaged {
        eprintln!("warning: damaged cell file {} (truncated or foreign): not used, computed again", d.display());
    }
}

fn print_output(name: &str, cells: usize, out: &Path, output: &StudyOutput) {
    for w in &output.warnings {
        eprintln!("warning: {w}");
    }
    println!("{name}: {cells} runs, report in {}", out.join("report.md").display());
    for line in &output.summary {
        println!("  {line}");
    }
}

pub(crate) fn run(a: &RunArgs) -> Result<(), CliError> {
    let study = study_for(a.file.as_deref())?;
    let out = a.out.clone().unwrap_or_else(|| PathBuf::from("reports").join(study.name()));
    let total = (0..study.jobs()).filter(|&j| a.shard.unwrap_or(Shard::ALL).owns(j)).count();
    let progress = Progress::new(total as u64, a.quiet);
    let ran = run_stored(study.as_ref(), &out, a.shard, a.keep_cells, &|w: &str| progress.tick(w)).map_err(classify)?;
    progress.finish();
    warn_damaged(&ran.damaged);
    let reused =
        if ran.run.stored > 0 { format!(" ({} taken from the cell store)", ran.run.stored) } else { String::new() };
    match &ran.output {
        Some(output) => {
            print_output(study.name(), study.jobs(), &out, output);
            if !reused.is_empty() {
                println!("  {} runs computed{reused}", ran.run.computed);
            }
        }
        None => println!(
            "{}: shard {}: {} runs{reused}, cells in {}; when every shard has run: floral merge {}",
            study.name(),
            a.shard.unwrap_or(Shard::ALL),
            ran.run.cells,
            ran.store_dir.display(),
            out.display()
        ),
    }
    Ok(())
}

pub(crate) fn merge(a: &MergeArgs) -> Result<(), CliError> {
    let out = a.out.clone().or_else(|| a.dirs.first().cloned()).unwrap_or_else(|| PathBuf::from("."));
    let merged = floral_experiment::merge(&a.dirs, &out).map_err(classify)?;
    warn_damaged(&merged.damaged);
    print_output(merged.study.name(), merged.study.jobs(), &out, &merged.output);
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
