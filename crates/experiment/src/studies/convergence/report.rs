//! The report, a pure function of the seeds' records and the games' cells: the map's cell
//! summaries, the comparison rows, the document and `results.json`.

use floral_report::{Block, Document};
use serde::Serialize;

use super::ConvergenceStudy;
use super::cells::{GameCell, GameRun, JobKind, Regime, SeedSetup, mean, run_err};
use crate::ExperimentError;
use crate::frame::StudyOutput;
use crate::stats::{MeanStd, TInterval};

/// Everything a study run measured: `runs[seed][job]`.
pub(super) struct Ran {
    pub(super) jobs: Vec<JobKind>,
    pub(super) setups: Vec<SeedSetup>,
    pub(super) runs: Vec<Vec<GameCell>>,
}

impl Ran {
    /// The cells of one job over the seeds.
    pub(super) fn over_seeds(&self, job: JobKind) -> Vec<&GameCell> {
        let Some(j) = self.jobs.iter().position(|&k| k == job) else { return Vec::new() };
        self.runs.iter().map(|r| &r[j]).collect()
    }
    /// The measurements of one job over the seeds.
    pub(super) fn runs_over_seeds(&self, job: JobKind) -> Vec<&GameRun> {
        self.over_seeds(job).into_iter().map(|c| &c.run).collect()
    }
}

/// A map cell over the seeds.
#[derive(Debug, Clone, Serialize)]
pub(super) struct CellSummary {
    pub(super) eta: f64,
    pub(super) k: usize,
    pub(super) pool: usize,
    pub(super) regime: Regime,
    /// Seeds per regime: converges, drifts, cycles, diverges.
    pub(super) counts: [usize; 4],
    pub(super) spread_mean: f64,
    pub(super) decay_mean: f64,
    pub(super) last_mean: f64,
    pub(super) last_std: f64,
    pub(super) best_validation_mean: f64,
}

/// The summary of one map cell over the seeds: the most common regime (ties to the more
/// severe) and the means of the measurements.
pub(super) fn cell_summary(runs: &[&GameRun], eta: f64, (k, pool): (usize, usize)) -> CellSummary {
    let mut counts = [0usize; 4];
    for r in runs {
        counts[r.regime as usize] += 1;
    }
    // Most common; ties go to the later (more severe) regime.
    let regime = Regime::ALL.into_iter().max_by_key(|&g| (counts[g as usize], g as usize)).unwrap_or(Regime::Converges);
    let col = |f: fn(&GameRun) -> f64| runs.iter().map(|r| f(r)).collect::<Vec<f64>>();
    let MeanStd { mean: last_mean, std: last_std } = crate::stats::mean_std(&col(|r| r.last));
    CellSummary {
        eta,
        k,
        pool,
        regime,
        counts,
        spread_mean: mean(&col(|r| r.spread)),
        decay_mean: mean(&col(|r| r.decay)),
        last_mean,
        last_std,
        best_validation_mean: mean(&col(|r| r.best_validation)),
    }
}

/// A comparison row over the seeds.
#[derive(Debug, Clone, Serialize)]
pub(super) struct CompareRow {
    pub(super) eta: f64,
    pub(super) method: String,
    /// Candidates scored on the validation split (rounds), 0 for none.
    pub(super) validation_budget: usize,
    pub(super) accuracy: Vec<f64>,
    pub(super) mean: f64,
    pub(super) std: f64,
    /// Paired difference to the best-validation round: mean and 95 % t interval.
    pub(super) diff: Option<TInterval>,
    /// Seeds where the method is better / worse than the best-validation round.
    pub(super) better: usize,
    pub(super) worse: usize,
}

/// One comparison row: mean ± std of `acc` and, unless it is the best-validation round itself,
/// the paired difference to `best` (mean and 95 % t interval) and the seeds better / worse.
fn compare_row(eta: f64, method: String, budget: usize, acc: Vec<f64>, best: &[f64], is_best: bool) -> CompareRow {
    let MeanStd { mean, std } = crate::stats::mean_std(&acc);
    let d: Vec<f64> = acc.iter().zip(best).map(|(a, b)| a - b).collect();
    CompareRow {
        eta,
        method,
        validation_budget: budget,
        mean,
        std,
        diff: (!is_best).then(|| crate::stats::paired_interval(&d)),
        better: if is_best { 0 } else { d.iter().filter(|&&x| x > 0.0).count() },
        worse: if is_best { 0 } else { d.iter().filter(|&&x| x < 0.0).count() },
        accuracy: acc,
    }
}

/// The median (NaN-free input sorted in place); None for an empty slice.
pub(super) fn median(v: &mut [f64]) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some(0.5 * (v[n / 2 - 1] + v[n / 2])),
    }
}

impl ConvergenceStudy {
    /// The map's cell summaries, `[attacker][eta]`.
    pub(super) fn cell_summaries(&self, ran: &Ran) -> Vec<Vec<CellSummary>> {
        let spec = &self.spec;
        (0..spec.attackers.len())
            .map(|a| {
                (0..spec.eta.values().len())
                    .map(|e| {
                        let runs = ran.runs_over_seeds(JobKind::Cell(e, a));
                        cell_summary(&runs, spec.eta.values()[e], spec.attackers[a])
                    })
                    .collect()
            })
            .collect()
    }

    /// The comparison rows: per compared η, PGD's last iterate and average, each other variant's
    /// last iterate and the best-validation round; then the two baselines.
    pub(super) fn compare_rows(&self, ran: &Ran) -> Vec<CompareRow> {
        let spec = &self.spec;
        let variants = self.variants();
        let mut rows = Vec::new();
        for (e, &eta) in spec.compare.eta.iter().enumerate() {
            let pgd = ran.runs_over_seeds(JobKind::Compare(e, 0));
            let best: Vec<f64> = pgd.iter().map(|r| r.best_validation).collect();
            let m = spec.compare.average_last;
            let last = pgd.iter().map(|r| r.last).collect();
            rows.push(compare_row(eta, "pgd, last iterate".into(), 0, last, &best, false));
            let average = pgd.iter().map(|r| r.average).collect();
            rows.push(compare_row(eta, format!("pgd, average of the last {m} iterates"), 0, average, &best, false));
            for (v, var) in variants.iter().enumerate().skip(1) {
                let last = ran.runs_over_seeds(JobKind::Compare(e, v)).iter().map(|r| r.last).collect();
                rows.push(compare_row(eta, format!("{}, last iterate", var.name), 0, last, &best, false));
            }
            rows.push(compare_row(eta, "pgd, best-validation round".into(), spec.rounds, best.clone(), &best, true));
        }
        // Baselines do not depend on η; compared with the first compared step's best round.
        if let Some(best) = spec.compare.eta.first().map(|_| {
            ran.runs_over_seeds(JobKind::Compare(0, 0)).iter().map(|r| r.best_validation).collect::<Vec<f64>>()
        }) {
            let svm: Vec<f64> = ran.setups.iter().map(|s| s.svm).collect();
            let trusted: Vec<f64> = ran.setups.iter().map(|s| s.trusted_svm).collect();
            rows.push(compare_row(f64::NAN, "SVM on the poisoned labels".into(), 0, svm, &best, false));
            let name = "SVM on the validation points alone (trusted)".to_string();
            rows.push(compare_row(f64::NAN, name, 0, trusted, &best, false));
        }
        rows
    }

    /// The predicted boundary 2/μ_max in the grid's unit: the median over the seeds.
    pub(super) fn predicted_boundary(&self, ran: &Ran) -> Option<f64> {
        let mut v: Vec<f64> = ran.setups.iter().filter_map(|s| s.critical_in_unit).collect();
        median(&mut v)
    }

    /// The measurements, regrouped per seed: `groups` in seed order, `cells` seed-major in job
    /// order (the frame's cell order).
    pub(super) fn ran(&self, groups: Vec<SeedSetup>, cells: Vec<GameCell>) -> Result<Ran, ExperimentError> {
        let jobs = self.job_list();
        if groups.len() != self.spec.seeds.len() || cells.len() != groups.len() * jobs.len() {
            return Err(run_err("convergence report", "the records and cells do not match the study"));
        }
        let mut runs = Vec::with_capacity(groups.len());
        let mut it = cells.into_iter();
        for _ in 0..groups.len() {
            runs.push(it.by_ref().take(jobs.len()).collect());
        }
        Ok(Ran { jobs, setups: groups, runs })
    }

    /// The report, `results.json` and the terminal summary (the generated answer).
    pub(super) fn output(&self, ran: &Ran) -> StudyOutput {
        let cells = self.cell_summaries(ran);
        let rows = self.compare_rows(ran);
        let boundary = self.predicted_boundary(ran);
        let answer = self.answer(&cells, &rows, boundary);
        let document = self.document(ran, &cells, &rows, boundary, &answer);
        let results = self.results_json(ran, &cells, &rows, boundary, &answer);
        StudyOutput { document, results, summary: answer, warnings: Vec::new() }
    }

    /// The report document.
    fn document(
        &self,
        ran: &Ran,
        cells: &[Vec<CellSummary>],
        rows: &[CompareRow],
        boundary: Option<f64>,
        answer: &[String],
    ) -> Document {
        let frame = self.frame(&ran.setups[0]);
        let mut doc = frame.document();
        self.push_boundary(&mut doc, ran);
        self.push_phase_diagram(&mut doc, cells, boundary);
        self.push_comparison(&mut doc, ran, rows);
        doc.push(Block::Heading { level: 2, text: "Answer".into() });
        doc.push(Block::List(answer.to_vec()));
        doc.push(Block::Heading { level: 2, text: "Limits".into() });
        doc.push(Block::List(self.limits()));
        frame.close(&mut doc);
        doc
    }

    /// `results.json`: the spec, the seeds' records, the summaries and every game per seed.
    fn results_json(
        &self,
        ran: &Ran,
        cells: &[Vec<CellSummary>],
        rows: &[CompareRow],
        boundary: Option<f64>,
        answer: &[String],
    ) -> serde_json::Value {
        let spec = &self.spec;
        let variants = self.variants();
        let kernel_bound = ran.setups[0].kernel_bound;
        let per_seed: Vec<serde_json::Value> = ran
            .jobs
            .iter()
            .enumerate()
            .map(|(j, job)| {
                let runs: Vec<&GameRun> = ran.runs.iter().map(|r| &r[j].run).collect();
                let g = self.game_of(*job, kernel_bound);
                serde_json::json!({
                    "job": match job {
                        JobKind::Cell(e, a) => serde_json::json!({"cell": {"eta": spec.eta.values()[*e], "k": spec.attackers[*a].0, "pool": spec.attackers[*a].1}}),
                        JobKind::Compare(e, v) => serde_json::json!({"compare": {"eta": spec.compare.eta[*e], "variant": variants[*v].name}}),
                    },
                    "solver": g.solver.name(),
                    "runs": runs,
                })
            })
            .collect();
        serde_json::json!({
            "kind": "Convergence",
            "name": spec.name,
            "floral_version": env!("CARGO_PKG_VERSION"),
            "hash": self.hash,
            "spec": self.canonical,
            "data_files": self.plan.data_files,
            "seeds": spec.seeds,
            "setups": ran.setups,
            "predicted_boundary_median": boundary,
            "cells": cells,
            "compare": rows,
            "games": per_seed,
            "answer": answer,
        })
    }
}
