//! The answer's sentences, generated from the measured numbers.

use floral_report::fmt_num;

use super::numbers::{LevelNumbers, MEASURES};
use super::{CellResult, InfluenceStudy};
use crate::stats::Estimate;

/// The word for the strength of a rank correlation r: |r| ≥ 0.7 strong, ≥ 0.4 moderate, ≥ 0.2
/// weak, below that negligible.
fn strength(r: f64) -> &'static str {
    match r.abs() {
        x if x >= 0.7 => "strong",
        x if x >= 0.4 => "moderate",
        x if x >= 0.2 => "weak",
        _ => "negligible",
    }
}

impl InfluenceStudy {
    /// The training label point i of a cell had (the clean label, negated when flipped).
    pub(super) fn train_label(&self, c: &CellResult, i: usize) -> f64 {
        let si = self.spec.seeds.iter().position(|&s| s == c.seed).unwrap_or(0);
        let clean = self.plan.clean[si].train.y().get(i);
        if c.flipped.binary_search(&i).is_ok() { -clean } else { clean }
    }

    /// ` [lo, hi]` when intervals are computed, else nothing.
    fn interval(&self, e: &Estimate) -> String {
        if self.spec.bootstrap > 0 { format!(" [{}, {}]", fmt_num(e.lo), fmt_num(e.hi)) } else { String::new() }
    }

    /// Sentences generated from the measured numbers.
    pub(super) fn answer(&self, nums: &[LevelNumbers]) -> Vec<String> {
        let mut out = Vec::new();
        for (li, ln) in nums.iter().enumerate() {
            self.level_sentences(li, ln, &mut out);
        }
        self.trend_sentences(nums, &mut out);
        out
    }

    /// The sentences about one poison level.
    fn level_sentences(&self, li: usize, ln: &LevelNumbers, out: &mut Vec<String>) {
        let names = &self.plan.poison_names;
        let interval = |e: &Estimate| self.interval(e);
        let svm = &ln.corr[0][0].0;
        let loo = &ln.corr[3][0].0;
        let flo = &ln.corr[0][1].0;
        let mut best = (0, f64::NEG_INFINITY);
        for (mi, c) in ln.corr.iter().enumerate() {
            if c[0].0.value > best.1 {
                best = (mi, c[0].0.value);
            }
        }
        out.push(format!(
            "{}: the SVM's λ ranks points by their flip influence (|Δ validation hinge|) with Spearman ρ = {}{} \
             ({}), and by their removal influence with ρ = {}{} ({}); FLORAL's final λ gives ρ = {}{} ({}). \
             λ tracks '{}' best (ρ = {}).",
            names[li],
            fmt_num(svm.value),
            interval(svm),
            strength(svm.value),
            fmt_num(loo.value),
            interval(loo),
            strength(loo.value),
            fmt_num(flo.value),
            interval(flo),
            strength(flo.value),
            MEASURES[best.0].0,
            fmt_num(best.1)
        ));
        if let (Some(o), Some(&b)) = (ln.overlap.last(), self.spec.top_b.last()) {
            let n = self.spec.sample.unwrap_or_else(|| self.plan.clean.first().map_or(1, |s| s.train.n()));
            out.push(format!(
                "{}: of the top {} points by flip influence, the top {} by SVM λ recover a fraction {} (random: \
                 {}), by FLORAL's λ {}, by the first-order estimate {}; the first-order estimate ranks like the \
                 exact flip with ρ = {}.",
                names[li],
                b,
                b,
                fmt_num(o[0].value),
                fmt_num(b as f64 / n.max(1) as f64),
                fmt_num(o[1].value),
                fmt_num(o[2].value),
                fmt_num(ln.first_vs_exact.0.value)
            ));
        }
        out.push(format!(
            "{}: of the top {} points by flip influence, a fraction {} are not support vectors (λ = 0): their \
             flip turns a confidently classified point into an outlier, which λ cannot see.",
            names[li],
            ln.top_non_sv.0,
            fmt_num(ln.top_non_sv.1)
        ));
        if let Some(sp) = &ln.split {
            out.push(format!(
                "{}: points with flipped labels have mean λ {} vs {} for clean labels, and mean flip influence \
                 {} vs {}; within the clean-label points ρ = {}.",
                names[li],
                fmt_num(sp.lambda_flipped),
                fmt_num(sp.lambda_clean),
                fmt_num(sp.truth_flipped),
                fmt_num(sp.truth_clean),
                fmt_num(sp.corr_clean.value)
            ));
        }
    }

    /// The sentences across levels (with poisoning) and along FLORAL's rounds.
    fn trend_sentences(&self, nums: &[LevelNumbers], out: &mut Vec<String>) {
        let names = &self.plan.poison_names;
        if let (Some(f), Some(l)) = (nums.first(), nums.last()) {
            if nums.len() > 1 {
                let (a, b) = (f.corr[0][0].0.value, l.corr[0][0].0.value);
                out.push(format!(
                    "From {} to {}, ρ(SVM λ, flip influence) goes from {} to {} ({}).",
                    names[0],
                    names[nums.len() - 1],
                    fmt_num(a),
                    fmt_num(b),
                    if b < a { "weaker with poisoning" } else { "not weaker with poisoning" }
                ));
            }
            let r = &f.rounds;
            if let (Some(r0), Some(r1)) = (r.first(), r.last()) {
                if r.len() > 1 {
                    out.push(format!(
                        "Along FLORAL's rounds ({}), ρ(FLORAL λ, flip influence) moves from {} at round {} to {} at \
                         round {}.",
                        names[0],
                        fmt_num(r0.value),
                        self.rounds[0],
                        fmt_num(r1.value),
                        self.rounds[self.rounds.len() - 1]
                    ));
                }
            }
        }
    }
}
