//! The report's generated answer: every number in it comes from the measurements.

use floral_report::fmt_num;

use super::ConvergenceStudy;
use super::cells::Regime;
use super::report::{CellSummary, CompareRow};
use super::sections::pct;
use super::spec::EtaGrid;
use crate::stats::TInterval;

impl ConvergenceStudy {
    /// The generated answer (every number from the measurements).
    pub(super) fn answer(&self, cells: &[Vec<CellSummary>], rows: &[CompareRow], boundary: Option<f64>) -> Vec<String> {
        let mut out = self.answer_regimes(cells, boundary);
        self.answer_comparison(rows, &mut out);
        self.answer_baselines(rows, &mut out);
        out
    }

    /// The regimes of the map, where each attacker's last iterate first diverges against the
    /// predicted boundary, and the boundary itself.
    fn answer_regimes(&self, cells: &[Vec<CellSummary>], boundary: Option<f64>) -> Vec<String> {
        let spec = &self.spec;
        let unit = spec.eta.unit();
        let mut out = Vec::new();
        let mut counts = [0usize; 4];
        for c in cells.iter().flatten() {
            counts[c.regime as usize] += 1;
        }
        out.push(format!(
            "Regimes: of {} cells (η × attacker), {} converge, {} drift (not settled in {} rounds), {} cycle and {} \
             diverge (most common over {} seeds).",
            counts.iter().sum::<usize>(),
            counts[0],
            counts[1],
            spec.rounds,
            counts[2],
            counts[3],
            spec.seeds.len()
        ));
        let u = spec.eta.values();
        for row in cells {
            let Some(c0) = row.first() else { continue };
            let first_div = row.iter().position(|c| c.regime == Regime::Diverges);
            let observed = match first_div {
                None => format!("no step of the grid diverges (up to {})", fmt_num(u[u.len() - 1])),
                Some(0) => format!("every step of the grid diverges (from {})", fmt_num(u[0])),
                Some(j) => {
                    format!("the last iterate first diverges between {} and {}", fmt_num(u[j - 1]), fmt_num(u[j]))
                }
            };
            let verdict = match (boundary, first_div) {
                (Some(b), Some(j)) if j > 0 => {
                    if b > u[j - 1] && b <= u[j] {
                        "which brackets the predicted boundary".to_string()
                    } else if b > u[j] {
                        format!("below the predicted boundary (by a factor of at least {})", fmt_num(b / u[j]))
                    } else {
                        format!("above the predicted boundary (by a factor of at least {})", fmt_num(u[j - 1] / b))
                    }
                }
                (Some(b), None) if b <= u[u.len() - 1] => {
                    format!("although the prediction {} lies inside the grid", fmt_num(b))
                }
                _ => String::new(),
            };
            out.push(format!(
                "For k = {}, B = {}: {observed} ({unit}){}{verdict}.",
                c0.k,
                c0.pool,
                if verdict.is_empty() { "" } else { ", " }
            ));
        }
        if let Some(b) = boundary {
            out.push(format!(
                "The predicted boundary 2/μ_max at the SVM solution of the poisoned labels is {} ({unit}; median over \
                 seeds){}.",
                fmt_num(b),
                match spec.eta {
                    EtaGrid::KernelBound(_) => "; the label-independent bound 2/λ_max(K) is 1 on this axis",
                    EtaGrid::Absolute(_) => "",
                }
            ));
        }
        out
    }

    /// Per compared η: which outputs without validation data differ from the best-validation
    /// round (paired 95 % t intervals), and the closest.
    fn answer_comparison(&self, rows: &[CompareRow], out: &mut Vec<String>) {
        let spec = &self.spec;
        let unit = spec.eta.unit();
        for &eta in &spec.compare.eta {
            let at: Vec<&CompareRow> = rows.iter().filter(|r| r.eta == eta).collect();
            let Some(best) = at.iter().find(|r| r.diff.is_none()) else { continue };
            let mut same = Vec::new();
            let mut worse = Vec::new();
            let mut better = Vec::new();
            for r in at.iter().filter(|r| r.validation_budget == 0) {
                let Some(TInterval { mean: d, lo, hi }) = r.diff else { continue };
                let text = format!(
                    "{} ({} pp, 95 % CI [{}, {}])",
                    r.method,
                    fmt_num(100.0 * d),
                    fmt_num(100.0 * lo),
                    fmt_num(100.0 * hi)
                );
                if hi < 0.0 {
                    worse.push(text);
                } else if lo > 0.0 {
                    better.push(text);
                } else {
                    same.push(text);
                }
            }
            let list = |v: &[String]| if v.is_empty() { "none".to_string() } else { v.join("; ") };
            let closest = at
                .iter()
                .filter(|r| r.validation_budget == 0)
                .filter_map(|r| r.diff.map(|d| (r, d.mean)))
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .map_or(String::new(), |(r, d)| {
                    format!(
                        " Closest without validation data: {} ({} %, Δ {} pp).",
                        r.method,
                        pct(r.mean),
                        fmt_num(100.0 * d)
                    )
                });
            out.push(format!(
                "At η = {} ({unit}) the best-validation round reaches {} % test accuracy. Without validation data, \
                 no difference from it is shown for: {}. Worse: {}. Better: {}.{closest}",
                fmt_num(eta),
                pct(best.mean),
                list(&same),
                list(&worse),
                list(&better)
            ));
        }
    }

    /// The two baselines.
    fn answer_baselines(&self, rows: &[CompareRow], out: &mut Vec<String>) {
        let base = |name: &str| rows.iter().find(|r| r.eta.is_nan() && r.method.starts_with(name));
        if let (Some(svm), Some(trusted)) = (base("SVM on the poisoned"), base("SVM on the validation")) {
            out.push(format!(
                "Baselines: the SVM on the poisoned labels reaches {} % ± {} and the SVM trained on the {} trusted \
                 validation points alone {} % ± {}.",
                pct(svm.mean),
                pct(svm.std),
                self.plan.clean.first().and_then(|s| s.validation.as_ref()).map_or(0, |v| v.n()),
                pct(trusted.mean),
                pct(trusted.std)
            ));
        }
    }
}
