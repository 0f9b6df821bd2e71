//! Multi-class FLORAL: K one-vs-rest FLORAL learners on one shared kernel matrix, stepping in
//! lockstep against one multi-class attacker (docs/method.md, "Multi-class FLORAL"; our
//! reconstruction, not the paper's).
//!
//! Round t = 1..T:
//! 1. attack: the attacker sees λ^{t−1}_c and the decision values f_c(x_i) of every class c and
//!    returns at most k relabels (point i → class c′ ≠ c_i) relative to the clean labels;
//!    the labels of round t are c^t = clean with the relabels applied ([`apply_relabels`]).
//! 2. relabel: every point whose label changes from a to b (a ≠ b) flips ỹ^a_i and ỹ^b_i, O(1)
//!    each on the problems' [`SignedGram`] views; the other K − 2 problems are untouched.
//! 3. step: each learner c takes FLORAL's step on its problem,
//!    λ^t_c = Π_{S(ỹ^c)}(λ^{t−1}_c − η_t(Q̃^c λ^{t−1}_c − 1)); the K steps run in parallel (rayon,
//!    results in class order; each step is the same sequential code whatever the thread count).
//!
//! Outputs ([`OvrModel`], prediction argmax_c f_c): the last iterate, α_c = λ^T_c ∘ ỹ^{c,T} and
//! b_c; and the average of the last m predictors, α_c = (1/m) Σ_t λ^t_c ∘ ỹ^{c,t},
//! b_c = (1/m) Σ_t b^t_c.

use std::sync::Arc;

use faer::Mat;
use floral_data::{ClassLabels, FloralRng, Labels};
use floral_game::{GameError, Learner, MulticlassAttacker, MulticlassView, apply_relabels};
use floral_projection::Projector;
use floral_svm::{Gram, OvrModel, SignedGram};
use rayon::prelude::*;

use crate::{DefenseError, FloralLearner, FloralParams};

/// Settings of a multi-class FLORAL fit.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MulticlassFloralParams {
    /// The binary learner's parameters (C, η, schedule, init, bias rule), shared by the K
    /// learners.
    #[serde(default)]
    pub learner: FloralParams,
    /// Rounds T ≥ 1.
    pub rounds: usize,
    /// Relabels per round (the budget k, multi-class label changes).
    pub k: usize,
    /// The averaged output uses the last m ≥ 1 rounds (at most T).
    pub average_last: usize,
}

/// What a multi-class FLORAL fit returns.
#[derive(Debug, Clone)]
pub struct MulticlassFloralFit {
    /// The last iterate's model.
    pub last: OvrModel,
    /// The model averaged over the last m rounds.
    pub average: OvrModel,
    /// Per round: the number of points whose label differs from the clean one (≤ k).
    pub relabelled: Vec<usize>,
    /// Per round: how many of the K binary problems had at least one label flipped.
    pub problems_touched: Vec<usize>,
    /// The K one-vs-rest label vectors of the last round, as the learners saw them.
    pub labels: Vec<Labels>,
    /// The multi-class labels of the last round.
    pub final_labels: ClassLabels,
}

/// Multi-class FLORAL (see the module doc).
#[derive(Debug, Clone)]
pub struct MulticlassFloral {
    p: MulticlassFloralParams,
    projector: Arc<dyn Projector>,
}

impl MulticlassFloral {
    /// Validate: the learner's parameters ([`FloralLearner::new`]), T ≥ 1, 1 ≤ m ≤ T.
    ///
    /// # Errors
    /// [`DefenseError::InvalidParam`] naming the field.
    pub fn new(p: MulticlassFloralParams, projector: Arc<dyn Projector>) -> Result<Self, DefenseError> {
        FloralLearner::new(p.learner.clone(), projector.clone())?;
        if p.rounds == 0 {
            return Err(DefenseError::InvalidParam { field: "rounds", expected: ">= 1", got: "0".into() });
        }
        if p.average_last == 0 || p.average_last > p.rounds {
            return Err(DefenseError::InvalidParam {
                field: "average_last",
                expected: "1..=rounds",
                got: format!("{} (rounds = {})", p.average_last, p.rounds),
            });
        }
        Ok(Self { p, projector })
    }

    /// The parameters.
    pub fn params(&self) -> &MulticlassFloralParams {
        &self.p
    }

    /// Play the game on the clean labels `clean` over the shared `gram` (see the module doc).
    /// `rng` drives the attacker; the learners draw nothing.
    ///
    /// # Errors
    /// [`GameError::Player`] for a learner or attacker failure, [`GameError::BudgetExceeded`]
    /// when the attacker returns more than k relabels, [`GameError::NonFinite`] naming the round
    /// for a non-finite λ or bias.
    pub fn fit(
        &self,
        gram: &Arc<Gram>,
        clean: &ClassLabels,
        attacker: &mut dyn MulticlassAttacker,
        rng: &mut FloralRng,
    ) -> Result<MulticlassFloralFit, GameError> {
        let n = gram.n();
        let kc = clean.n_classes();
        if clean.len() != n {
            return Err(GameError::Data(floral_data::DataError::DimensionMismatch {
                what: "class labels vs Gram order",
                expected: n,
                got: clean.len(),
            }));
        }
        let mut qs: Vec<SignedGram> =
            (0..kc).map(|c| SignedGram::new(gram.clone(), &clean.one_vs_rest(c))).collect::<Result<_, _>>()?;
        let mut learners: Vec<FloralLearner> = (0..kc)
            .map(|_| FloralLearner::new(self.p.learner.clone(), self.projector.clone()))
            .collect::<Result<_, _>>()
            .map_err(|e| GameError::player("multiclass_floral", e))?;
        for (l, q) in learners.iter_mut().zip(&qs) {
            l.reset(q)?;
        }
        let mut current = clean.clone();
        let m = self.p.average_last;
        let t_avg = self.p.rounds + 1 - m;
        let mut sum_coef = vec![vec![0.0; n]; kc];
        let mut sum_bias = vec![0.0; kc];
        let mut relabelled = Vec::with_capacity(self.p.rounds);
        let mut touched = Vec::with_capacity(self.p.rounds);
        let mut lambdas: Vec<Vec<f64>> = vec![vec![0.0; n]; kc];
        let mut decision = Mat::<f64>::zeros(n, kc);
        // One (unused) generator per learner: FloralLearner draws nothing.
        let mut learner_rngs: Vec<FloralRng> = (0..kc).map(|_| rng.clone()).collect();
        for t in 1..=self.p.rounds {
            for (c, (l, q)) in learners.iter().zip(&qs).enumerate() {
                lambdas[c].clear();
                lambdas[c].extend(l.lambda().iter().copied());
                let b = l.bias(q);
                let y = q.labels();
                match l.q_lambda() {
                    Some(ql) => (0..n).for_each(|i| decision[(i, c)] = y.get(i) * ql[i] + b),
                    None => {
                        let mut f = faer::Col::<f64>::zeros(n);
                        q.decision_values_into(faer::ColRef::from_slice(&lambdas[c]), f.as_mut());
                        (0..n).for_each(|i| decision[(i, c)] = f[i] + b);
                    }
                }
            }
            let view = MulticlassView { round: t, k: self.p.k, clean, lambda: &lambdas, decision: decision.as_ref() };
            let relabels = attacker.attack(&view, rng)?;
            let next = apply_relabels(clean, &relabels, self.p.k, attacker.name(), t)?;
            let mut hit = vec![false; kc];
            for i in current.diff(&next)? {
                let (a, b) = (current.get(i), next.get(i));
                qs[a].flip(i);
                qs[b].flip(i);
                hit[a] = true;
                hit[b] = true;
            }
            current = next;
            relabelled.push(clean.diff(&current)?.len());
            touched.push(hit.iter().filter(|&&h| h).count());
            let steps: Vec<Result<_, GameError>> = learners
                .par_iter_mut()
                .zip(qs.par_iter())
                .zip(learner_rngs.par_iter_mut())
                .map(|((l, q), r)| l.step(t, q, r))
                .collect();
            for s in steps {
                s?;
            }
            for (c, (l, q)) in learners.iter().zip(&qs).enumerate() {
                let b = l.bias(q);
                if !b.is_finite() {
                    return Err(GameError::NonFinite { round: t, quantity: "bias b_c" });
                }
                if l.lambda().iter().any(|v| !v.is_finite()) {
                    return Err(GameError::NonFinite { round: t, quantity: "λ_c" });
                }
                if t >= t_avg {
                    let y = q.labels();
                    for (i, s) in sum_coef[c].iter_mut().enumerate() {
                        *s += l.lambda()[i] * y.get(i);
                    }
                    sum_bias[c] += b;
                }
            }
        }
        let last_coef: Vec<Vec<f64>> = learners
            .iter()
            .zip(&qs)
            .map(|(l, q)| (0..n).map(|i| l.lambda()[i] * q.labels().get(i)).collect())
            .collect();
        let last_bias: Vec<f64> = learners.iter().zip(&qs).map(|(l, q)| l.bias(q)).collect();
        let mf = m as f64;
        let avg_coef: Vec<Vec<f64>> = sum_coef.into_iter().map(|v| v.into_iter().map(|a| a / mf).collect()).collect();
        let avg_bias: Vec<f64> = sum_bias.into_iter().map(|b| b / mf).collect();
        Ok(MulticlassFloralFit {
            last: OvrModel::new(last_coef, last_bias)?,
            average: OvrModel::new(avg_coef, avg_bias)?,
            relabelled,
            problems_touched: touched,
            labels: qs.iter().map(|q| q.labels().clone()).collect(),
            final_labels: current,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use floral_game::Relabel;
    use floral_projection::{ExactParams, ExactProjector};

    #[derive(Debug)]
    struct Fixed(Vec<Relabel>);
    impl MulticlassAttacker for Fixed {
        fn name(&self) -> &'static str {
            "fixed"
        }
        fn attack(&mut self, _: &MulticlassView<'_>, _: &mut FloralRng) -> Result<Vec<Relabel>, GameError> {
            Ok(self.0.clone())
        }
    }

    #[test]
    fn params_are_validated() {
        let proj: Arc<dyn Projector> = Arc::new(ExactProjector::new(ExactParams::default()).unwrap());
        let p = MulticlassFloralParams { learner: FloralParams::reference(), rounds: 3, k: 1, average_last: 4 };
        assert!(MulticlassFloral::new(p.clone(), proj.clone()).is_err());
        assert!(
            MulticlassFloral::new(MulticlassFloralParams { rounds: 0, average_last: 0, ..p.clone() }, proj.clone())
                .is_err()
        );
        assert!(MulticlassFloral::new(MulticlassFloralParams { average_last: 3, ..p }, proj).is_ok());
    }

    #[test]
    fn an_over_budget_attacker_is_an_error_naming_it() {
        let proj: Arc<dyn Projector> = Arc::new(ExactProjector::new(ExactParams::default()).unwrap());
        let g = Arc::new(Gram::from_mat(Mat::<f64>::identity(3, 3)).unwrap());
        let y = ClassLabels::new(vec![0, 1, 2], 3).unwrap();
        let p = MulticlassFloralParams { learner: FloralParams::reference(), rounds: 2, k: 1, average_last: 1 };
        let mf = MulticlassFloral::new(p, proj).unwrap();
        let mut a = Fixed(vec![Relabel { point: 0, class: 1 }, Relabel { point: 1, class: 2 }]);
        let e = mf.fit(&g, &y, &mut a, &mut floral_data::stream(1, floral_data::Stream::Attacker)).unwrap_err();
        assert!(e.to_string().contains("fixed"), "{e}");
    }
}
