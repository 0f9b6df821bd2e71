//! FLORAL's in-game attacker: k flips drawn uniformly among the top-B support vectors by λ.

use floral_data::{FlipSet, FloralRng};
use floral_game::{Attacker, GameError, RoundView};
use rand::seq::index::sample;

use crate::AttackError;

/// Parameters of [`RandomTopK`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomTopKParams {
    /// Flips per round (the budget k).
    pub k: usize,
    /// Candidate pool size B (the top-B support vectors by λ). Default (None): 2k, as in the
    /// authors' code.
    #[serde(default)]
    pub pool: Option<usize>,
    /// λ_i above this counts as a support vector. Default 1e-5 (the authors' code).
    #[serde(default = "default_sv_threshold")]
    pub sv_threshold: f64,
}

fn default_sv_threshold() -> f64 {
    1e-5
}

impl Default for RandomTopKParams {
    fn default() -> Self {
        Self { k: 5, pool: None, sv_threshold: default_sv_threshold() }
    }
}

/// Randomized top-k (docs/method.md §3): SV = {i : λ_i > threshold}; sort SV by λ_i descending (ties:
/// lower index first); pool = first min(|SV|, B); flip k indices drawn uniformly without
/// replacement from the pool (all of the pool when it has fewer than k: the game counts such
/// rounds in `GameOutcome::under_budget_rounds`). Flips are relative to the clean labels, so
/// they do not accumulate across rounds.
///
/// k is read from the round's view (`RoundView::budget`), the one place the budget is
/// defined; `RandomTopKParams::k` sets the game's budget and B's default 2k.
#[derive(Debug, Clone)]
pub struct RandomTopK {
    pool: Option<usize>,
    sv_threshold: f64,
    order: Vec<usize>,
}

impl RandomTopK {
    /// Validate the parameters: B ≥ k, threshold ≥ 0 and finite.
    ///
    /// # Errors
    /// [`AttackError::InvalidParam`] naming the field.
    pub fn new(p: RandomTopKParams) -> Result<Self, AttackError> {
        pool_and_threshold(p.k, p.pool, p.sv_threshold)?;
        Ok(Self { pool: p.pool, sv_threshold: p.sv_threshold, order: Vec::new() })
    }

    /// The pool size B for a budget of k flips: the configured B, or 2k.
    pub fn pool(&self, k: usize) -> usize {
        self.pool.unwrap_or(2 * k)
    }
}

impl Attacker for RandomTopK {
    fn name(&self) -> &'static str {
        "random_top_k"
    }

    fn attack(&mut self, view: &RoundView<'_>, rng: &mut FloralRng) -> Result<FlipSet, GameError> {
        let n = view.lambda.nrows();
        let lambda = view.lambda;
        let k = view.budget.k;
        let pool = self.pool(k);
        if pool < k {
            return Err(GameError::player(
                self.name(),
                AttackError::InvalidParam {
                    field: "pool",
                    expected: ">= the budget k",
                    got: format!("{pool} (k = {k})"),
                },
            ));
        }
        self.order.clear();
        self.order.extend((0..n).filter(|&i| lambda[i] > self.sv_threshold));
        // Order: λ descending, ties by lower index first (what a stable sort of the index-ordered
        // SVs gives, as Python's sorted does). Only the top B need sorting: select, then sort.
        let cmp = |a: &usize, b: &usize| lambda[*b].total_cmp(&lambda[*a]).then(a.cmp(b));
        let m = self.order.len().min(pool);
        if m > 0 && m < self.order.len() {
            self.order.select_nth_unstable_by(m - 1, cmp);
            self.order.truncate(m);
        }
        self.order.sort_unstable_by(cmp);
        let picks = sample(rng, m, k.min(m));
        let idx: Vec<usize> = picks.iter().map(|j| self.order[j]).collect();
        FlipSet::new(idx, n).map_err(|e| GameError::player(self.name(), AttackError::from(e)))
    }
}

/// The checks every top-B attacker makes on its pool and support-vector threshold: the pool
/// B (default 2k) is at least k, and the threshold is finite and ≥ 0. Returns B.
///
/// # Errors
/// [`AttackError::InvalidParam`] naming `pool` or `sv_threshold`.
pub(crate) fn pool_and_threshold(k: usize, pool: Option<usize>, sv_threshold: f64) -> Result<usize, AttackError> {
    let pool = pool.unwrap_or(2 * k);
    if pool < k {
        return Err(AttackError::InvalidParam { field: "pool", expected: ">= k", got: format!("{pool} (k = {k})") });
    }
    if !(sv_threshold.is_finite() && sv_threshold >= 0.0) {
        return Err(AttackError::InvalidParam {
            field: "sv_threshold",
            expected: "a finite number >= 0",
            got: sv_threshold.to_string(),
        });
    }
    Ok(pool)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_defaults_to_twice_k_and_must_cover_k() {
        let a = RandomTopK::new(RandomTopKParams { k: 3, ..Default::default() }).unwrap();
        assert_eq!(a.pool(3), 6);
        assert!(RandomTopK::new(RandomTopKParams { k: 3, pool: Some(2), ..Default::default() }).is_err());
    }
}
