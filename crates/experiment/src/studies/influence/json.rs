//! `results.json`: every cell's measurements and every level's numbers.

use serde_json::{Value, json};

use super::numbers::{LevelNumbers, MEASURES};
use super::{CellResult, InfluenceStudy};
use crate::stats::Estimate;

/// An estimate as `{value, lo, hi}`.
fn est_json(e: &Estimate) -> Value {
    json!({ "value": e.value, "lo": e.lo, "hi": e.hi })
}

impl InfluenceStudy {
    /// `results.json` from the cells and the level numbers.
    pub(super) fn results_json(&self, cells: &[CellResult], nums: &[LevelNumbers]) -> Value {
        let cells_json = self.cells_json(cells);
        let levels = self.levels_json(nums);
        json!({
            "kind": "Influence",
            "name": self.spec.name,
            "hash": self.hash,
            "c": self.spec.c,
            "rounds": self.rounds,
            "top_b": self.spec.top_b,
            "bootstrap": self.spec.bootstrap,
            "levels": levels,
            "cells": cells_json,
        })
    }

    /// Every cell: its sizes, base loss, flips, FLORAL's λ at the study rounds, every point.
    fn cells_json(&self, cells: &[CellResult]) -> Vec<Value> {
        let names = &self.plan.poison_names;
        cells
            .iter()
            .map(|c| {
                let last = c.floral_last();
                let points: Vec<Value> = c
                    .points
                    .iter()
                    .enumerate()
                    .map(|(k, p)| {
                        json!({
                            "index": p.index,
                            "lambda": p.lambda,
                            "floral_lambda": last.get(k).copied().unwrap_or(0.0),
                            "label_flipped": c.flipped.binary_search(&p.index).is_ok(),
                            "flip_val_hinge_delta": p.flip_val_hinge_delta,
                            "flip_val_error_delta": p.flip_val_error_delta,
                            "flip_test_mean_abs_df": p.flip_test_df,
                            "loo_val_hinge_delta": p.loo_val_hinge_delta,
                            "loo_val_error_delta": p.loo_val_error_delta,
                            "loo_test_mean_abs_df": p.loo_test_df,
                            "first_order_flip_val_hinge_delta": p.first_order_flip_val_hinge_delta,
                            "first_order_flip_test_mean_abs_df": p.first_order_flip_test_df,
                        })
                    })
                    .collect();
                let floral_rounds: Vec<Value> =
                    self.rounds.iter().zip(&c.floral).map(|(r, lam)| json!({ "round": r, "lambda": lam })).collect();
                json!({
                    "seed": c.seed,
                    "poison": names[c.level],
                    "n_train": c.n_train,
                    "n_validation": c.n_validation,
                    "n_test": c.n_test,
                    "base_val_hinge": c.base_hinge,
                    "base_val_error": c.base_error,
                    "flipped": c.flipped,
                    "floral_rounds_played": c.floral_rounds_played,
                    "floral_lambda_at_rounds": floral_rounds,
                    "points": points,
                })
            })
            .collect()
    }

    /// Every level's correlations, overlaps, rounds and clean-vs-flipped numbers.
    fn levels_json(&self, nums: &[LevelNumbers]) -> Vec<Value> {
        let names = &self.plan.poison_names;
        nums
            .iter()
            .enumerate()
            .map(|(li, ln)| {
                let corr: Vec<Value> = MEASURES
                    .iter()
                    .zip(&ln.corr)
                    .map(|((m, _), c)| {
                        json!({
                            "measure": m,
                            "svm_lambda": { "spearman": est_json(&c[0].0), "kendall": est_json(&c[0].1) },
                            "floral_lambda": { "spearman": est_json(&c[1].0), "kendall": est_json(&c[1].1) },
                        })
                    })
                    .collect();
                let overlap: Vec<Value> = self
                    .spec
                    .top_b
                    .iter()
                    .zip(&ln.overlap)
                    .map(|(b, o)| {
                        json!({ "b": b, "svm_lambda": est_json(&o[0]), "floral_lambda": est_json(&o[1]), "first_order": est_json(&o[2]) })
                    })
                    .collect();
                let rounds: Vec<Value> = self
                    .rounds
                    .iter()
                    .zip(&ln.rounds)
                    .map(|(r, e)| json!({ "round": r, "spearman": est_json(e) }))
                    .collect();
                json!({
                    "poison": names[li],
                    "correlations": corr,
                    "first_order_vs_exact": { "spearman": est_json(&ln.first_vs_exact.0), "kendall": est_json(&ln.first_vs_exact.1) },
                    "overlap": overlap,
                    "top_b_by_flip_influence_non_sv": { "b": ln.top_non_sv.0, "fraction": ln.top_non_sv.1 },
                    "rounds": rounds,
                    "clean_vs_flipped": ln.split.as_ref().map(|sp| json!({
                        "n_flipped_mean": sp.n_flipped,
                        "mean_lambda_clean": sp.lambda_clean,
                        "mean_lambda_flipped": sp.lambda_flipped,
                        "mean_influence_clean": sp.truth_clean,
                        "mean_influence_flipped": sp.truth_flipped,
                        "spearman_clean": est_json(&sp.corr_clean),
                        "spearman_flipped": est_json(&sp.corr_flipped),
                    })),
                })
            })
            .collect()
    }
}
