//! The multi-class game: K one-vs-rest learners on one shared kernel matrix, stepping in
//! lockstep against one multi-class attacker, played by the same loop as the binary game
//! (observers, termination: [`play_multiclass`]). What a multi-class attacker sees
//! ([`MulticlassView`]), what it returns ([`Relabel`]s), the budget check ([`apply_relabels`]),
//! what observers see ([`MulticlassRecord`]) and the recorder of the one-vs-rest output models
//! ([`OvrRecorder`]).
//!
//! A relabel moves point i from its clean class c_i to another class c′ ≠ c_i. In the K
//! one-vs-rest problems that is exactly two binary flips: ỹ^{c_i}_i goes +1 → −1 and
//! ỹ^{c′}_i goes −1 → +1; every other problem keeps its labels. The budget k counts relabels
//! (multi-class label changes), not binary flips.

use std::sync::Arc;

use faer::{Col, Mat, MatRef};
use floral_data::{ClassLabels, FloralRng, Labels, Streams};
use floral_svm::{Gram, OvrModel, SignedGram};
use rand::SeedableRng;
use rayon::prelude::*;

use crate::play::{Moved, Rounds, drive};
use crate::{Control, GameError, GameKind, GameParams, Learner, Observer, StepInfo, Termination};

/// Move point `point` to class `class` (relative to the clean labels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Relabel {
    /// The point.
    pub point: usize,
    /// Its new class (≠ its clean class).
    pub class: usize,
}

/// What a multi-class attacker sees before round t.
#[derive(Debug, Clone, Copy)]
pub struct MulticlassView<'a> {
    /// The round t (1-based).
    pub round: usize,
    /// The budget k: at most k relabels this round.
    pub k: usize,
    /// The clean labels c_i.
    pub clean: &'a ClassLabels,
    /// λ^{t−1}_c of each one-vs-rest problem c (K vectors of length n).
    pub lambda: &'a [Vec<f64>],
    /// Decision values at λ^{t−1} (n × K): f_c(x_i) = Σ_j λ_cj ỹ^c_j K_ij + b_c.
    pub decision: MatRef<'a, f64>,
}

/// A multi-class in-game attacker: each round, up to k relabels from the clean labels (flips do
/// not accumulate across rounds, as for the binary FLORAL attacker).
pub trait MulticlassAttacker: std::fmt::Debug + Send {
    /// A short name.
    fn name(&self) -> &'static str;

    /// This round's relabels.
    ///
    /// # Errors
    /// The attacker's own failures, wrapped with [`GameError::player`].
    fn attack(&mut self, view: &MulticlassView<'_>, rng: &mut FloralRng) -> Result<Vec<Relabel>, GameError>;
}

/// The labels of round t: the clean labels with `relabels` applied, after checking them: at
/// most `k`, distinct points in range, each new class in range and different from the point's
/// clean class.
///
/// # Errors
/// [`GameError::BudgetExceeded`] naming `attacker` for more than k relabels;
/// [`GameError::Player`] naming `attacker` for a repeated point, an index or class out of range,
/// or a relabel to the point's own class.
pub fn apply_relabels(
    clean: &ClassLabels,
    relabels: &[Relabel],
    k: usize,
    attacker: &'static str,
    round: usize,
) -> Result<ClassLabels, GameError> {
    if relabels.len() > k {
        return Err(GameError::BudgetExceeded { attacker, round, got: relabels.len(), k });
    }
    let bad = |what: String| {
        GameError::player(
            attacker,
            floral_data::DataError::InvalidParam {
                field: "relabel",
                expected: "distinct points in range, each moved to another valid class",
                got: what,
            },
        )
    };
    let mut out = clean.clone();
    let mut seen = std::collections::BTreeSet::new();
    for r in relabels {
        if !seen.insert(r.point) {
            return Err(bad(format!("point {} relabelled twice in round {round}", r.point)));
        }
        if r.point < clean.len() && clean.get(r.point) == r.class {
            return Err(bad(format!("point {} moved to its own class {} in round {round}", r.point, r.class)));
        }
        out.set(r.point, r.class).map_err(|e| GameError::player(attacker, e))?;
    }
    Ok(out)
}

/// The multi-class game: K one-vs-rest learners, the attacker relabels points
/// ([`play_multiclass`]).
#[derive(Debug, Clone, Copy)]
pub enum MulticlassGame {}

impl GameKind for MulticlassGame {
    type Record<'a> = MulticlassRecord<'a>;
    type Outcome = MulticlassOutcome;
}

/// Everything that happened in one round of the multi-class game, lent to observers.
#[derive(Clone, Copy)]
pub struct MulticlassRecord<'a> {
    /// The round (1-based).
    pub round: usize,
    /// The multi-class labels c^t the learners stepped on.
    pub labels: &'a ClassLabels,
    /// How many points' labels differ from the clean ones (≤ k).
    pub relabelled: usize,
    /// How many of the K binary problems had at least one label flipped this round.
    pub problems_touched: usize,
    /// The K one-vs-rest problems (their labels ỹ^c over the shared Gram matrix).
    pub problems: &'a [SignedGram],
    /// The K learners after their step (λ^t_c: `learners[c].lambda()`).
    pub learners: &'a [Box<dyn Learner>],
    /// The K biases b^t_c.
    pub biases: &'a [f64],
    /// What each learner's step reported.
    pub steps: &'a [StepInfo],
}

impl std::fmt::Debug for MulticlassRecord<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MulticlassRecord")
            .field("round", &self.round)
            .field("relabelled", &self.relabelled)
            .field("problems_touched", &self.problems_touched)
            .field("classes", &self.problems.len())
            .finish()
    }
}

impl MulticlassRecord<'_> {
    /// The dual coefficients of class c's predictor, α_c = λ^t_c ∘ ỹ^c.
    pub fn coef(&self, c: usize) -> Vec<f64> {
        let (lambda, y) = (self.learners[c].lambda(), self.problems[c].labels());
        (0..lambda.nrows()).map(|i| lambda[i] * y.get(i)).collect()
    }
}

/// The result of a multi-class game.
#[derive(Debug, Clone)]
pub struct MulticlassOutcome {
    /// How the game ended.
    pub status: Termination,
    /// Rounds actually played.
    pub rounds_played: usize,
    /// Attacked rounds in which the attacker relabelled fewer than k points.
    pub under_budget_rounds: usize,
    /// The multi-class labels of the last round.
    pub final_labels: ClassLabels,
    /// The K one-vs-rest label vectors of the last round, as the learners saw them.
    pub labels: Vec<Labels>,
    /// λ^T_c of each class.
    pub lambdas: Vec<Col<f64>>,
    /// b^T_c of each class.
    pub biases: Vec<f64>,
}

/// The multi-class game's state between rounds.
struct Lockstep<'a> {
    clean: &'a ClassLabels,
    k: usize,
    attacker: &'a mut dyn MulticlassAttacker,
    learners: &'a mut [Box<dyn Learner>],
    learner_rngs: Vec<FloralRng>,
    qs: Vec<SignedGram>,
    current: ClassLabels,
    lambdas: Vec<Vec<f64>>,
    decision: Mat<f64>,
    relabelled: usize,
    touched: usize,
    biases: Vec<f64>,
    steps: Vec<StepInfo>,
}

impl Lockstep<'_> {
    /// λ^{t−1}_c and the decision values f_c(x_i) = ỹ^c_i (Q̃^c λ_c)_i + b_c of every class,
    /// for the attacker's view.
    fn refresh_view(&mut self) {
        let n = self.clean.len();
        for (c, (l, q)) in self.learners.iter().zip(&self.qs).enumerate() {
            self.lambdas[c].clear();
            self.lambdas[c].extend(l.lambda().iter().copied());
            let b = l.bias(q);
            let y = q.labels();
            match l.q_lambda() {
                Some(ql) => (0..n).for_each(|i| self.decision[(i, c)] = y.get(i) * ql[i] + b),
                None => {
                    let mut f = Col::<f64>::zeros(n);
                    q.decision_values_into(faer::ColRef::from_slice(&self.lambdas[c]), f.as_mut());
                    (0..n).for_each(|i| self.decision[(i, c)] = f[i] + b);
                }
            }
        }
    }
}

impl Rounds<MulticlassGame> for Lockstep<'_> {
    /// The attacker's relabels (checked by [`apply_relabels`]); every point whose label moves
    /// from a to b flips ỹ^a_i and ỹ^b_i, O(1) each; the other K − 2 problems are untouched.
    fn attack(&mut self, round: usize, attacked: bool, rng: &mut FloralRng) -> Result<usize, GameError> {
        let relabels = if attacked {
            self.refresh_view();
            let view = MulticlassView {
                round,
                k: self.k,
                clean: self.clean,
                lambda: &self.lambdas,
                decision: self.decision.as_ref(),
            };
            self.attacker.attack(&view, rng)?
        } else {
            Vec::new()
        };
        let next = apply_relabels(self.clean, &relabels, self.k, self.attacker.name(), round)?;
        let mut hit = vec![false; self.qs.len()];
        for i in self.current.diff(&next)? {
            let (a, b) = (self.current.get(i), next.get(i));
            self.qs[a].flip(i);
            self.qs[b].flip(i);
            hit[a] = true;
            hit[b] = true;
        }
        self.current = next;
        self.relabelled = self.clean.diff(&self.current)?.len();
        self.touched = hit.iter().filter(|&&h| h).count();
        Ok(relabels.len())
    }

    /// The K steps run in parallel (rayon, results in class order; each step is the same
    /// sequential code whatever the thread count), each learner on its own generator. The step
    /// norm is ‖(λ^t_c − λ^{t−1}_c)_c‖₂ over all K problems.
    fn step(&mut self, round: usize, _rng: &mut FloralRng) -> Result<Moved, GameError> {
        let steps: Vec<Result<StepInfo, GameError>> = self
            .learners
            .par_iter_mut()
            .zip(self.qs.par_iter())
            .zip(self.learner_rngs.par_iter_mut())
            .map(|((l, q), r)| l.step(round, q, r))
            .collect();
        self.steps.clear();
        for s in steps {
            self.steps.push(s?);
        }
        let (mut norm2, mut max_abs_lambda) = (0.0_f64, 0.0_f64);
        for (c, (l, q)) in self.learners.iter().zip(&self.qs).enumerate() {
            let b = l.bias(q);
            if !b.is_finite() {
                return Err(GameError::NonFinite { round, quantity: "bias b_c" });
            }
            if l.lambda().iter().any(|v| !v.is_finite()) {
                return Err(GameError::NonFinite { round, quantity: "λ_c" });
            }
            self.biases[c] = b;
            norm2 += self.steps[c].step_norm * self.steps[c].step_norm;
            max_abs_lambda = l.lambda().iter().fold(max_abs_lambda, |m, v| m.max(v.abs()));
        }
        Ok(Moved { step_norm: norm2.sqrt(), max_abs_lambda })
    }

    fn notify(&self, round: usize, obs: &mut dyn Observer<MulticlassGame>) -> Result<Control, GameError> {
        obs.on_round(&MulticlassRecord {
            round,
            labels: &self.current,
            relabelled: self.relabelled,
            problems_touched: self.touched,
            problems: &self.qs,
            learners: &*self.learners,
            biases: &self.biases,
            steps: &self.steps,
        })
    }
}

/// Play the multi-class game with the loop of the binary game (the same rounds, budget,
/// termination and observers): for t = 1..=T,
/// 1. attack: the attacker sees λ^{t−1}_c and the decision values f_c(x_i) of every class c and
///    returns at most k relabels relative to the clean labels; c^t = clean with the relabels
///    applied ([`apply_relabels`]);
/// 2. relabel: a point moved from a to b flips ỹ^a_i and ỹ^b_i on the problems' views;
/// 3. step: each learner c steps on its problem (FLORAL:
///    λ^t_c = Π_{S(ỹ^c)}(λ^{t−1}_c − η_t(Q̃^c λ^{t−1}_c − 1))), the K steps in parallel;
/// 4. the observers see the round ([`MulticlassRecord`]).
///
/// `learners` holds one learner per class (reset here on the clean one-vs-rest labels). The
/// attacker draws from `rngs.attacker`; learner c from a generator seeded by the c-th draw of
/// `rngs.learner`.
///
/// # Errors
/// [`GameError::InvalidParam`] for no rounds or a learner count other than K;
/// [`GameError::Data`] for labels of another length than the Gram matrix;
/// [`GameError::BudgetExceeded`] or [`GameError::Player`] naming the attacker for bad relabels;
/// [`GameError::NonFinite`] naming the round; any learner's or observer's error.
pub fn play_multiclass(
    params: &GameParams,
    gram: &Arc<Gram>,
    clean: &ClassLabels,
    attacker: &mut dyn MulticlassAttacker,
    learners: &mut [Box<dyn Learner>],
    rngs: &mut Streams,
    obs: &mut dyn Observer<MulticlassGame>,
) -> Result<MulticlassOutcome, GameError> {
    params.check()?;
    let (n, kc) = (gram.n(), clean.n_classes());
    if clean.len() != n {
        return Err(GameError::Data(floral_data::DataError::DimensionMismatch {
            what: "class labels vs Gram order",
            expected: n,
            got: clean.len(),
        }));
    }
    if learners.len() != kc {
        return Err(GameError::InvalidParam {
            field: "learners",
            expected: "one learner per class",
            got: format!("{} learners for {kc} classes", learners.len()),
        });
    }
    let qs: Vec<SignedGram> =
        (0..kc).map(|c| SignedGram::new(gram.clone(), &clean.one_vs_rest(c))).collect::<Result<_, _>>()?;
    for (l, q) in learners.iter_mut().zip(&qs) {
        l.reset(q)?;
    }
    let learner_rngs = (0..kc).map(|_| FloralRng::from_rng(&mut rngs.learner)).collect();
    let mut game = Lockstep {
        clean,
        k: params.budget.k,
        attacker,
        learners,
        learner_rngs,
        qs,
        current: clean.clone(),
        lambdas: vec![vec![0.0; n]; kc],
        decision: Mat::zeros(n, kc),
        relabelled: 0,
        touched: 0,
        biases: vec![0.0; kc],
        steps: Vec::with_capacity(kc),
    };
    let ended = drive(params, &mut game, rngs, obs)?;
    let out = MulticlassOutcome {
        status: ended.status,
        rounds_played: ended.rounds_played,
        under_budget_rounds: ended.under_budget_rounds,
        labels: game.qs.iter().map(|q| q.labels().clone()).collect(),
        lambdas: game.learners.iter().map(|l| l.lambda().to_owned()).collect(),
        biases: game.learners.iter().zip(&game.qs).map(|(l, q)| l.bias(q)).collect(),
        final_labels: game.current,
    };
    obs.on_finish(&out)?;
    Ok(out)
}

/// Records, per round, how many points were relabelled and how many problems were touched, and
/// keeps the one-vs-rest models of the multi-class output rules: the last iterate
/// (α_c = λ^T_c ∘ ỹ^{c,T}, b_c = b^T_c) and the average of the predictors of the rounds
/// t > T − m (α_c = (1/m′) Σ_t λ^t_c ∘ ỹ^{c,t}, b_c = (1/m′) Σ_t b^t_c over the m′ ≤ m such
/// rounds played).
#[derive(Debug, Clone)]
pub struct OvrRecorder {
    rounds: usize,
    average_last: usize,
    /// Per round: the number of points whose label differs from the clean one.
    pub relabelled: Vec<usize>,
    /// Per round: how many of the K binary problems had at least one label flipped.
    pub problems_touched: Vec<usize>,
    last: Option<(Vec<Vec<f64>>, Vec<f64>)>,
    sum: Option<(Vec<Vec<f64>>, Vec<f64>, usize)>,
}

impl OvrRecorder {
    /// A recorder for a game of `rounds` rounds averaging the last `average_last` (≥ 1).
    pub fn new(rounds: usize, average_last: usize) -> Self {
        Self {
            rounds,
            average_last: average_last.max(1),
            relabelled: Vec::with_capacity(rounds),
            problems_touched: Vec::with_capacity(rounds),
            last: None,
            sum: None,
        }
    }

    /// The last iterate's model (None before the game ends).
    ///
    /// # Errors
    /// The model's own check (K coefficient vectors of one length, K biases).
    pub fn last(&self) -> Result<Option<OvrModel>, GameError> {
        self.last.as_ref().map(|(c, b)| Ok(OvrModel::new(c.clone(), b.clone())?)).transpose()
    }

    /// The averaged model and how many rounds it averages (None when the game stopped before
    /// round T − m + 1).
    ///
    /// # Errors
    /// The model's own check.
    pub fn average(&self) -> Result<Option<(OvrModel, usize)>, GameError> {
        self.sum
            .as_ref()
            .map(|(coef, bias, m)| {
                let mf = *m as f64;
                let coef = coef.iter().map(|v| v.iter().map(|a| a / mf).collect()).collect();
                Ok((OvrModel::new(coef, bias.iter().map(|b| b / mf).collect())?, *m))
            })
            .transpose()
    }
}

impl Observer<MulticlassGame> for OvrRecorder {
    fn on_round(&mut self, rec: &MulticlassRecord<'_>) -> Result<Control, GameError> {
        self.relabelled.push(rec.relabelled);
        self.problems_touched.push(rec.problems_touched);
        if rec.round + self.average_last > self.rounds {
            let kc = rec.problems.len();
            let (sum, bias, m) =
                self.sum.get_or_insert_with(|| (vec![vec![0.0; rec.labels.len()]; kc], vec![0.0; kc], 0));
            for (c, s) in sum.iter_mut().enumerate() {
                s.iter_mut().zip(rec.coef(c)).for_each(|(s, a)| *s += a);
            }
            bias.iter_mut().zip(rec.biases).for_each(|(s, b)| *s += b);
            *m += 1;
        }
        Ok(Control::Continue)
    }

    /// The last iterate, once, from the outcome: α_c = λ^T_c ∘ ỹ^{c,T}, b_c = b^T_c.
    fn on_finish(&mut self, out: &MulticlassOutcome) -> Result<(), GameError> {
        let coef = out
            .lambdas
            .iter()
            .zip(&out.labels)
            .map(|(lambda, y)| (0..lambda.nrows()).map(|i| lambda[i] * y.get(i)).collect())
            .collect();
        self.last = Some((coef, out.biases.clone()));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relabels_are_checked() {
        let y = ClassLabels::new(vec![0, 1, 2], 3).unwrap();
        let ok = apply_relabels(&y, &[Relabel { point: 0, class: 2 }], 1, "t", 1).unwrap();
        assert_eq!(ok.as_slice(), &[2, 1, 2]);
        let two = [Relabel { point: 0, class: 2 }, Relabel { point: 1, class: 0 }];
        assert!(matches!(apply_relabels(&y, &two, 1, "t", 1), Err(GameError::BudgetExceeded { got: 2, k: 1, .. })));
        assert!(apply_relabels(&y, &[Relabel { point: 1, class: 1 }], 1, "t", 1).is_err());
        assert!(apply_relabels(&y, &[Relabel { point: 3, class: 1 }], 1, "t", 1).is_err());
        assert!(apply_relabels(&y, &[Relabel { point: 0, class: 3 }], 1, "t", 1).is_err());
        let dup = [Relabel { point: 0, class: 2 }, Relabel { point: 0, class: 1 }];
        assert!(apply_relabels(&y, &dup, 2, "t", 1).is_err());
    }
}
