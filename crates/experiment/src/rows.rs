//! Picking an experiment's results apart: the runs of one (method, variant, poison level), the
//! accuracies of one output rule, and a tuned method's validation-selected setting.

use crate::plan::Plan;
use crate::run::RunResult;
use crate::stats::mean_std;

/// The runs of one (method, variant, poison level), in seed order.
pub(crate) fn runs_of<'a>(results: &'a [RunResult], method: &str, variant: usize, poison: usize) -> Vec<&'a RunResult> {
    results.iter().filter(|r| r.method == method && r.variant == variant && r.poison == poison).collect()
}

/// (test accuracies, validation accuracies) of one output rule over the given runs.
pub(crate) fn accs(runs: &[&RunResult], rule: &str) -> (Vec<f64>, Vec<f64>) {
    let mut t = Vec::new();
    let mut v = Vec::new();
    for r in runs {
        if let Some(o) = r.outputs.iter().find(|o| o.rule == rule) {
            t.push(o.scores.test.accuracy);
            if let Some(s) = o.scores.validation {
                v.push(s.accuracy);
            }
        }
    }
    (t, v)
}

/// For a tuned method at one poison level: the (variant, rule) with the highest mean validation
/// accuracy over seeds (ties: the first in grid order). The test split plays no part.
pub fn select(
    plan: &Plan,
    results: &[RunResult],
    method: &str,
    n_variants: usize,
    poison: usize,
) -> Option<(usize, String, f64)> {
    let mut best: Option<(usize, String, f64)> = None;
    for vi in 0..n_variants {
        let runs = runs_of(results, method, vi, poison);
        let rules: Vec<String> =
            runs.first().map(|r| r.outputs.iter().map(|o| o.rule.clone()).collect()).unwrap_or_default();
        for rule in rules {
            let (_, v) = accs(&runs, &rule);
            if v.len() != plan.spec.seeds.len() {
                continue;
            }
            let m = mean_std(&v).mean;
            if best.as_ref().is_none_or(|b| m > b.2) {
                best = Some((vi, rule, m));
            }
        }
    }
    best
}
