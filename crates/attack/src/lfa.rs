//! Greedy label-flip attack (LFA), docs/method.md §6: flip one label at a time, each time the
//! one whose flip hurts the retrained SVM most on held-out data.

use faer::Col;
use floral_data::{FlipSet, FloralRng};
use floral_svm::{DualSolution, SignedGram, warm_start_without as warm_after_flip};
use rand::seq::index::sample;
use serde::{Deserialize, Serialize};

use crate::model_common::{Damage, Judge, check_c, preamble, smo, train};
use crate::{AttackError, PoisonInput, Poisoner};

/// The validation loss [`Lfa`] maximises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LfaLoss {
    /// 0-1 error: the fraction of evaluation points whose predicted label sign(f(x)) (f = 0 →
    /// +1) differs from the clean label; ties between candidates are broken by the mean hinge
    /// loss, then by the lower index.
    ZeroOne,
    /// Mean hinge loss (1/m) Σ_v max(0, 1 − y_v f(x_v)); ties broken by the 0-1 error, then by
    /// the lower index.
    Hinge,
}

/// Parameters of [`Lfa`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LfaParams {
    /// Box bound C of the retrained SVMs. Finite, > 0. Default 1.
    #[serde(default = "default_c")]
    pub c: f64,
    /// Candidates tried per step: `None` (default) tries every label not yet flipped; `Some(m)`
    /// tries m of them drawn uniformly without replacement from the rng (all of them when fewer
    /// than m are left), bounding a step at m retrains. If given, ≥ 1.
    #[serde(default)]
    pub candidates: Option<usize>,
    /// The loss to maximise. Default [`LfaLoss::ZeroOne`] (classification error, as the FLORAL
    /// authors' LFA code).
    #[serde(default = "default_loss")]
    pub loss: LfaLoss,
    /// Warm-start each retrain from the current solution made feasible for the flipped label
    /// ([`Lfa`] docs). Default true; false retrains from λ = 0 (same flips up to the solver's
    /// tolerance, for comparisons).
    #[serde(default = "default_warm")]
    pub warm_start: bool,
}

fn default_c() -> f64 {
    1.0
}

fn default_loss() -> LfaLoss {
    LfaLoss::ZeroOne
}

fn default_warm() -> bool {
    true
}

impl Default for LfaParams {
    fn default() -> Self {
        Self { c: default_c(), candidates: None, loss: default_loss(), warm_start: default_warm() }
    }
}

/// Greedy LFA. Start from the clean labels and the SVM trained on them (SMO over the shared
/// Gram, box C, LIBSVM's tolerance 1e-3). Repeat `budget` times: for each candidate j (the
/// labels not yet flipped, or a seeded sample of them, tried in ascending index order), flip
/// y_j, retrain the SVM, and measure the loss of the retrained f on the evaluation set; keep
/// the candidate with the largest loss ([`LfaLoss`] for the loss and its tie-breaks), flip it
/// for good and continue from its SVM.
///
/// Evaluation set: the validation split with its clean labels when the input has one, else the
/// training points with their clean labels.
///
/// Warm starts. The current solution λ (feasible for the current labels ỹ) is not feasible
/// once y_j is flipped: ỹ′ᵀλ = ỹᵀλ − 2ỹ_jλ_j. The warm start sets λ_j = 0 and then removes
/// the remaining imbalance r = Σ_i ỹ′_i λ_i from the class with the sign of r, scaling its
/// weights by (1 − |r|/S) with S = Σ_{i: ỹ′_i = sign r} λ_i, so 0 ≤ λ ≤ C and ỹ′ᵀλ = 0 hold
/// (up to rounding, well inside SMO's feasibility tolerance). When S < |r| it falls back to
/// λ = 0.
///
/// Cost: budget × candidates SMO retrains and O(m·|SV|) evaluations each.
#[derive(Debug, Clone)]
pub struct Lfa {
    params: LfaParams,
}

impl Lfa {
    /// Validate the parameters.
    ///
    /// # Errors
    /// [`AttackError::InvalidParam`] naming the field: `c` not finite and > 0,
    /// `candidates` = Some(0).
    pub fn new(params: LfaParams) -> Result<Self, AttackError> {
        check_c(params.c)?;
        if params.candidates == Some(0) {
            return Err(AttackError::InvalidParam {
                field: "candidates",
                expected: "None (all) or an integer >= 1",
                got: "0".into(),
            });
        }
        Ok(Self { params })
    }

    /// The parameters.
    pub fn params(&self) -> &LfaParams {
        &self.params
    }

    /// Whether damage `a` beats `b` under the configured loss (with its tie-break).
    fn beats(&self, a: Damage, b: Damage) -> bool {
        let (a1, a2, b1, b2) = match self.params.loss {
            LfaLoss::ZeroOne => (a.error, a.hinge, b.error, b.hinge),
            LfaLoss::Hinge => (a.hinge, a.error, b.hinge, b.error),
        };
        a1 > b1 || (a1 == b1 && a2 > b2)
    }
}

impl Poisoner for Lfa {
    fn name(&self) -> &'static str {
        "lfa"
    }
    /// Only with a random candidate subset (`candidates`).
    fn draws_per_seed(&self) -> bool {
        self.params.candidates.is_some()
    }

    fn poison(&self, input: &PoisonInput<'_>, budget: usize, rng: &mut FloralRng) -> Result<FlipSet, AttackError> {
        if let Some(done) = preamble(input, budget, self.name())? {
            return Ok(done);
        }
        let n = input.train.n();
        let budget = budget.min(n);
        let c = self.params.c;
        let mut smo = smo()?;
        let judge = Judge::new(input);
        let mut q = SignedGram::new(input.gram.clone(), input.train.y())?;
        let mut current: DualSolution = train(&mut smo, &q, c, None)?;
        let mut flipped = vec![false; n];
        let mut chosen = Vec::with_capacity(budget);
        let mut warm = Col::<f64>::zeros(n);
        let mut scratch = Vec::new();
        for _ in 0..budget {
            let open: Vec<usize> = (0..n).filter(|&i| !flipped[i]).collect();
            let pool: Vec<usize> = match self.params.candidates {
                Some(m) if m < open.len() => {
                    let mut pick: Vec<usize> = sample(rng, open.len(), m).iter().map(|t| open[t]).collect();
                    pick.sort_unstable();
                    pick
                }
                _ => open,
            };
            let mut best: Option<(usize, Damage, DualSolution)> = None;
            for &j in &pool {
                q.flip(j);
                let start =
                    if self.params.warm_start && warm_after_flip(current.lambda.as_ref(), q.labels(), j, &mut warm) {
                        Some(warm.as_ref())
                    } else {
                        None
                    };
                let sol = train(&mut smo, &q, c, start);
                let sol = match sol {
                    Ok(s) => s,
                    Err(e) => {
                        q.flip(j);
                        return Err(e);
                    }
                };
                let d = judge.damage(input.gram, q.labels(), &sol, &mut scratch);
                q.flip(j);
                if best.as_ref().is_none_or(|(_, bd, _)| self.beats(d, *bd)) {
                    best = Some((j, d, sol));
                }
            }
            let Some((j, _, sol)) = best else { break };
            q.flip(j);
            flipped[j] = true;
            chosen.push(j);
            current = sol;
        }
        Ok(FlipSet::new(chosen, n)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::poison_exact;
    use floral_data::{Dataset, Stream, moons, stratified_split, stream};
    use floral_svm::{Bounds, Dual, Gram, Rbf, RbfParams};
    use std::sync::Arc;

    fn setup(seed: u64) -> (Dataset, Dataset, Rbf, Arc<Gram>) {
        let data = moons(90, 0.15, &mut stream(seed, Stream::Data)).unwrap();
        let split = stratified_split(&data, 0.3, 0.1, &mut stream(seed, Stream::Data)).unwrap();
        let k = Rbf::new(RbfParams { gamma: 1.0 }).unwrap();
        let gram = Arc::new(Gram::new(&k, split.train.x()));
        (split.train, split.validation.unwrap(), k, gram)
    }

    #[test]
    fn warm_start_is_feasible_after_a_flip() {
        let (train, _, _, gram) = setup(1);
        let mut q = SignedGram::new(gram.clone(), train.y()).unwrap();
        let sol = super::train(&mut smo().unwrap(), &q, 1.0, None).unwrap();
        let sv: Vec<usize> = (0..train.n()).filter(|&i| sol.lambda[i] > 0.0).collect();
        assert!(!sv.is_empty());
        for &j in sv.iter().take(5) {
            q.flip(j);
            let mut w = Col::zeros(train.n());
            assert!(warm_after_flip(sol.lambda.as_ref(), q.labels(), j, &mut w));
            let d = Dual::new(&q, Bounds::Uniform(1.0)).unwrap();
            assert!(d.feasibility_residual(w.as_ref()) < 1e-12, "residual {}", d.feasibility_residual(w.as_ref()));
            assert_eq!(w[j], 0.0);
            // SMO accepts it and reaches the same optimum as a cold start.
            let warm = super::train(&mut smo().unwrap(), &q, 1.0, Some(w.as_ref())).unwrap();
            let cold = super::train(&mut smo().unwrap(), &q, 1.0, None).unwrap();
            assert!((warm.objective - cold.objective).abs() < 1e-2 * cold.objective.abs().max(1.0));
            q.flip(j);
        }
    }

    #[test]
    fn each_greedy_flip_is_the_best_single_flip_at_its_step() {
        // The first flip of LFA (all candidates, cold retrains) must do at least as much damage
        // as every other single flip, measured independently here.
        let (train, val, k, gram) = setup(2);
        let input = PoisonInput { train: &train, kernel: &k, gram: &gram, validation: Some(&val) };
        let lfa = Lfa::new(LfaParams { warm_start: false, ..Default::default() }).unwrap();
        let f = poison_exact(&lfa, &input, 1, &mut stream(1, Stream::Attacker)).unwrap();
        let judge = Judge::new(&input);
        let damage = |j: usize| {
            let mut q = SignedGram::new(gram.clone(), train.y()).unwrap();
            q.flip(j);
            let sol = super::train(&mut smo().unwrap(), &q, 1.0, None).unwrap();
            judge.damage(&gram, q.labels(), &sol, &mut Vec::new())
        };
        let chosen = damage(f.indices()[0]);
        for j in 0..train.n() {
            assert!(!lfa.beats(damage(j), chosen), "flip {j} beats the chosen {}", f.indices()[0]);
        }
    }

    #[test]
    fn sampled_candidates_are_seeded() {
        let (train, val, k, gram) = setup(3);
        let input = PoisonInput { train: &train, kernel: &k, gram: &gram, validation: Some(&val) };
        let lfa = Lfa::new(LfaParams { candidates: Some(5), loss: LfaLoss::Hinge, ..Default::default() }).unwrap();
        let run = |s| poison_exact(&lfa, &input, 4, &mut stream(s, Stream::Attacker)).unwrap();
        assert_eq!(run(1), run(1));
        assert_eq!(run(1).len(), 4);
        let differ = (2..6).any(|s| run(s) != run(1));
        assert!(differ, "different seeds should sample different candidates");
    }

    #[test]
    fn params_are_validated() {
        let e = Lfa::new(LfaParams { candidates: Some(0), ..Default::default() }).unwrap_err().to_string();
        assert!(e.contains("`candidates`"), "{e}");
        let e = Lfa::new(LfaParams { c: -1.0, ..Default::default() }).unwrap_err().to_string();
        assert!(e.contains("`c`"), "{e}");
    }
}
