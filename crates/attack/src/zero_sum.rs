//! The zero-sum minimax attacker (the paper's Eq. 3): each round, the k flips that most raise
//! the learner's own objective at its current model.

use faer::ColRef;
use floral_data::{FlipSet, FloralRng};
use floral_game::{Attacker, GameError, RoundView};

use crate::AttackError;

/// What the zero-sum attacker maximises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ZeroSumObjective {
    /// The learner's training hinge loss Σ_i max(0, 1 − ỹ_i f(x_i)) at the current model f: the
    /// k largest clean margins y_i f(x_i) (docs/method.md §6).
    Hinge,
    /// The dual objective D(λ; ỹ) = ½ λᵀQ̃λ − 1ᵀλ at the current λ, flips chosen greedily.
    Dual,
}

/// Parameters of [`ZeroSum`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZeroSumParams {
    /// Flips per round (the budget k).
    pub k: usize,
    /// The objective maximised. Default `Hinge`.
    #[serde(default = "hinge")]
    pub objective: ZeroSumObjective,
}

fn hinge() -> ZeroSumObjective {
    ZeroSumObjective::Hinge
}

impl Default for ZeroSumParams {
    fn default() -> Self {
        Self { k: 5, objective: ZeroSumObjective::Hinge }
    }
}

/// The zero-sum minimax attacker: min_λ max_{‖ỹ−y‖₀≤k} L(λ; ỹ) played one round at a time.
///
/// - `Hinge`: flipping i changes its hinge term from max(0, 1 − m_i) to max(0, 1 + m_i), with
///   the clean margin m_i = y_i f(x_i); the increase is non-decreasing in m_i, so the best k
///   flips are the k largest clean margins (ties: lower index first). Points far on the right
///   side of the boundary are flipped.
/// - `Dual`: with u = K(y∘λ) (clean labels) and flip set F, the dual objective's increase is
///   ΔD(F) = ½ vᵀKv − ½ (y∘λ)ᵀK(y∘λ), v = y∘λ − 2 d_F, d_j = y_j λ_j for j ∈ F; that is
///   ΔD(F) = −2 Σ_{j∈F} d_j u_j + 2 Σ_{i,j∈F} d_i K_ij d_j. It is built greedily: the next flip
///   j maximises the marginal gain −2 d_j u_j + 2 K_jj d_j² + 4 d_j Σ_{i∈F} K_ij d_i (ties: lower
///   index first).
///
/// Both always return exactly min(k, n) flips (the budget is spent every round), relative to
/// the clean labels.
#[derive(Debug, Clone)]
pub struct ZeroSum {
    objective: ZeroSumObjective,
}

impl ZeroSum {
    /// Build the attacker (every k is valid; the game's budget is the one place k is read).
    ///
    /// # Errors
    /// None today; the signature matches the other attackers.
    pub fn new(p: ZeroSumParams) -> Result<Self, AttackError> {
        Ok(Self { objective: p.objective })
    }
}

/// The k indices with the largest clean margins y_i f_i (ties: lower index first), sorted.
pub fn top_margins(f: ColRef<'_, f64>, clean: &[f64], k: usize) -> Vec<usize> {
    let n = clean.len();
    let mut order: Vec<usize> = (0..n).collect();
    let m = |i: usize| clean[i] * f[i];
    order.sort_by(|&a, &b| m(b).total_cmp(&m(a)).then(a.cmp(&b)));
    order.truncate(k.min(n));
    order.sort_unstable();
    order
}

/// Greedy flips maximising the dual objective's increase ΔD(F) (see [`ZeroSum`]), in the order
/// picked; `u` = K(y∘λ).
fn greedy_dual(view: &RoundView<'_>, u: &[f64], k: usize) -> Vec<usize> {
    let kmat = view.q.k();
    let y = view.clean.as_slice();
    let n = y.len();
    let d: Vec<f64> = (0..n).map(|j| y[j] * view.lambda[j]).collect();
    // cross_j = Σ_{i∈F} K_ij d_i, kept up to date as F grows.
    let mut cross = vec![0.0; n];
    let mut taken = vec![false; n];
    let mut out = Vec::with_capacity(k);
    for _ in 0..k.min(n) {
        let mut best: Option<(usize, f64)> = None;
        for j in 0..n {
            if taken[j] {
                continue;
            }
            let gain = -2.0 * d[j] * u[j] + 2.0 * kmat[(j, j)] * d[j] * d[j] + 4.0 * d[j] * cross[j];
            if best.is_none_or(|(_, g)| gain > g) {
                best = Some((j, gain));
            }
        }
        let Some((j, _)) = best else { break };
        taken[j] = true;
        out.push(j);
        if d[j] != 0.0 {
            for (i, c) in cross.iter_mut().enumerate() {
                *c += kmat[(i, j)] * d[j];
            }
        }
    }
    out
}

impl Attacker for ZeroSum {
    fn name(&self) -> &'static str {
        match self.objective {
            ZeroSumObjective::Hinge => "zero_sum_hinge",
            ZeroSumObjective::Dual => "zero_sum_dual",
        }
    }

    fn attack(&mut self, view: &RoundView<'_>, _rng: &mut FloralRng) -> Result<FlipSet, GameError> {
        let n = view.lambda.nrows();
        let k = view.budget.k.min(n);
        let idx = match self.objective {
            ZeroSumObjective::Hinge => top_margins(view.decision_values, view.clean.as_slice(), k),
            ZeroSumObjective::Dual => {
                let v: Vec<f64> = (0..n).map(|j| view.clean.get(j) * view.lambda[j]).collect();
                let mut u = faer::Col::zeros(n);
                floral_svm::kernel_matvec_into(view.q.k(), ColRef::from_slice(&v), u.as_mut());
                let u: Vec<f64> = u.iter().copied().collect();
                let mut idx = greedy_dual(view, &u, k);
                idx.sort_unstable();
                idx
            }
        };
        FlipSet::new(idx, n).map_err(|e| GameError::player(self.name(), AttackError::from(e)))
    }
}

/// ΔD(F) = D(λ; y with F flipped) − D(λ; y) computed directly (for checks of the greedy gains).
pub fn dual_increase(kmat: faer::MatRef<'_, f64>, clean: &[f64], lambda: ColRef<'_, f64>, flips: &[usize]) -> f64 {
    let n = clean.len();
    let quad = |yt: &[f64]| {
        let mut s = 0.0;
        for i in 0..n {
            for j in 0..n {
                s += yt[i] * lambda[i] * kmat[(i, j)] * yt[j] * lambda[j];
            }
        }
        0.5 * s
    };
    let mut yt = clean.to_vec();
    for &j in flips {
        yt[j] = -yt[j];
    }
    quad(&yt) - quad(clean)
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::{Col, Mat};
    use floral_data::{Labels, Stream, stream};
    use floral_game::{Budget, FrozenLearner};
    use floral_svm::{Gram, SignedGram};

    fn setup(n: usize) -> (SignedGram, Labels, Col<f64>) {
        let k = Mat::from_fn(n, n, |i, j| (-((i as f64 - j as f64) / 3.0).powi(2)).exp());
        let y = Labels::from_signs((0..n).map(|i| i % 3 != 0));
        let q = SignedGram::new(Gram::from_mat(k).unwrap(), &y).unwrap();
        let lambda = Col::from_fn(n, |i| ((i * 7) % 5) as f64 * 0.2);
        (q, y, lambda)
    }

    /// Checks proofs/lookahead.md (b).
    #[test]
    fn greedy_dual_picks_the_best_next_flip_by_the_direct_increase() {
        let (q, y, lambda) = setup(12);
        let learner = FrozenLearner::new(lambda.as_ref(), 0.0);
        let mut f = Col::zeros(0);
        let view = RoundView::new(1, &learner, &q, &y, Budget { k: 4 }, &mut f);
        let v: Vec<f64> = (0..12).map(|j| y.get(j) * lambda[j]).collect();
        let mut u = Col::zeros(12);
        floral_svm::kernel_matvec_into(q.k(), ColRef::from_slice(&v), u.as_mut());
        let u: Vec<f64> = u.iter().copied().collect();
        let picks = greedy_dual(&view, &u, 4);
        assert_eq!(picks.len(), 4);
        for s in 0..4 {
            let prefix = &picks[..s];
            let direct = |j: usize| {
                let mut set = prefix.to_vec();
                set.push(j);
                dual_increase(q.k(), y.as_slice(), lambda.as_ref(), &set)
            };
            let best = (0..12).filter(|j| !prefix.contains(j)).map(direct).fold(f64::NEG_INFINITY, f64::max);
            assert!((direct(picks[s]) - best).abs() < 1e-10, "step {s}: {} vs {best}", direct(picks[s]));
        }
        let mut a = ZeroSum::new(ZeroSumParams { k: 4, objective: ZeroSumObjective::Dual }).unwrap();
        let got = a.attack(&view, &mut stream(1, Stream::Attacker)).unwrap();
        let mut sorted = picks.clone();
        sorted.sort_unstable();
        assert_eq!(got.indices(), sorted.as_slice());
    }
}
