//! The generated answer, the limits and `results.json` of a `Multiclass` report.

use super::{METHODS, Runs, acc, pct};
use crate::stats::mean_std;
use crate::studies::multiclass::MulticlassStudy;

/// One level's paired difference FLORAL (avg) − OvR SVM: (level, mean, 95 % interval low,
/// high, seeds where FLORAL is better, seeds where it is worse).
pub(super) type Paired = (String, f64, f64, f64, usize, usize);

impl MulticlassStudy {
    /// The answer, generated from the numbers: the levels where the paired interval lies above,
    /// below or around 0, the hardest level for the OvR SVM, and the in-game attacker's use of
    /// its budget.
    pub(super) fn answer(&self, runs: &Runs, diffs_by_level: &[Paired]) -> String {
        let n_seeds = self.spec.seeds.len();
        let better: Vec<&str> = diffs_by_level.iter().filter(|d| d.2 > 0.0).map(|d| d.0.as_str()).collect();
        let worse: Vec<&str> = diffs_by_level.iter().filter(|d| d.3 < 0.0).map(|d| d.0.as_str()).collect();
        let same: Vec<&str> =
            diffs_by_level.iter().filter(|d| d.2 <= 0.0 && d.3 >= 0.0).map(|d| d.0.as_str()).collect();
        let list = |v: &[&str]| if v.is_empty() { "no level".to_string() } else { v.join(", ") };
        let mut answer = format!(
            "Averaged multi-class FLORAL against the one-vs-rest SVM (paired over {n_seeds} seeds, 95 % t interval): better at {}; worse at {}; no difference shown at {}.",
            list(&better),
            list(&worse),
            list(&same)
        );
        let mean = |li: usize, m: usize| mean_std(&acc(runs, li, m)).mean;
        if let Some(worst) = (0..self.levels.len()).min_by(|&a, &b| mean(a, 0).total_cmp(&mean(b, 0))) {
            answer.push_str(&format!(
                " The hardest level for the one-vs-rest SVM is {} ({} mean accuracy; one-vs-one {}, FLORAL last {}, FLORAL avg {}).",
                self.levels[worst].0,
                pct(mean(worst, 0)),
                pct(mean(worst, 1)),
                pct(mean(worst, 2)),
                pct(mean(worst, 3))
            ));
        }
        let max_used = runs.iter().flatten().map(|r| r.max_relabelled).max().unwrap_or(0);
        answer.push_str(&format!(
            " In every run the in-game attacker relabelled at most {max_used} points per round (budget k = {}).",
            self.spec.floral.k
        ));
        answer
    }

    /// The Limits list.
    pub(super) fn limits(&self) -> Vec<String> {
        let nu = self.n_used();
        vec![
            "One data set (a 5,000-image MNIST sample), one kernel and one C, chosen a priori (the LIBSVM-checked setting), not tuned per method.".into(),
            format!("Each seed trains on a {nu}-point subsample to keep the study's run short; FLORAL runs {} rounds only.", self.spec.floral.rounds),
            "Multi-class FLORAL is our reconstruction (one-vs-rest games sharing the kernel, the attacker's λ taken in the point's own class's problem, the most confusable class as the new label); the paper defines FLORAL for binary labels only.".into(),
            "The offline attacks are random and class-targeted relabellings, not optimised multi-class attacks; a stronger attacker could change the answer.".into(),
            "FLORAL's step size, budget k and pool were fixed a priori, not tuned (no validation data is used); its own in-game attacker relabels points in every round, so on clean labels it trains on perturbed labels by design. Other settings could change the answer.".into(),
        ]
    }

    /// `results.json`: the spec and hash, every run's numbers, the confusion matrices shown.
    pub(super) fn results_json(&self, runs: &Runs, conf_json: Vec<serde_json::Value>) -> serde_json::Value {
        let s = &self.spec;
        serde_json::json!({
            "kind": "Multiclass",
            "floral_version": env!("CARGO_PKG_VERSION"),
            "hash": self.hash,
            "spec": serde_json::to_value(&self.spec).unwrap_or(serde_json::Value::Null),
            "methods": METHODS,
            "levels": self.levels.iter().map(|l| l.0.clone()).collect::<Vec<_>>(),
            "seeds": s.seeds,
            "runs": runs.iter().zip(&s.seeds).map(|(r, seed)| serde_json::json!({
                "seed": seed,
                "levels": r.iter().zip(&self.levels).map(|(x, l)| serde_json::json!({
                    "level": l.0,
                    "relabelled": x.flips,
                    "accuracy": x.accuracy,
                    "floral_max_relabelled_per_round": x.max_relabelled,
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "confusion": conf_json,
        })
    }
}
