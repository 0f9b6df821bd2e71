//! Multi-class FLORAL: K one-vs-rest FLORAL learners on one shared kernel matrix, stepping in
//! lockstep against one multi-class attacker (docs/method.md, "Multi-class FLORAL"; our
//! reconstruction, not the paper's), played by the game crate's one loop
//! ([`floral_game::play_multiclass`]: the binary game's rounds, termination and observers).
//!
//! Round t = 1..T:
//! 1. attack: the attacker sees λ^{t−1}_c and the decision values f_c(x_i) of every class c and
//!    returns at most k relabels (point i → class c′ ≠ c_i) relative to the clean labels;
//!    the labels of round t are c^t = clean with the relabels applied;
//! 2. relabel: every point whose label changes from a to b (a ≠ b) flips ỹ^a_i and ỹ^b_i, O(1)
//!    each; the other K − 2 problems are untouched;
//! 3. step: each learner c takes FLORAL's step on its problem,
//!    λ^t_c = Π_{S(ỹ^c)}(λ^{t−1}_c − η_t(Q̃^c λ^{t−1}_c − 1)), the K steps in parallel;
//! 4. stop early when the step norm over all K problems is at most `tol` (when given), or when
//!    an observer asks.
//!
//! Outputs ([`OvrModel`], prediction argmax_c f_c; kept by [`OvrRecorder`]): the last iterate,
//! α_c = λ^T_c ∘ ỹ^{c,T} and b_c; and the average of the last m predictors,
//! α_c = (1/m) Σ_t λ^t_c ∘ ỹ^{c,t}, b_c = (1/m) Σ_t b^t_c.

use std::sync::Arc;

use floral_data::{ClassLabels, Labels, Streams};
use floral_game::{
    Fanout, GameError, GameParams, Learner, MulticlassAttacker, MulticlassGame, NoObserver, Observer, OvrRecorder,
    Termination, play_multiclass,
};
use floral_projection::Projector;
use floral_svm::{Gram, OvrModel};

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
    /// Stop once ‖(λ^t_c − λ^{t−1}_c)_c‖₂ ≤ tol over all K problems (absent: play all T
    /// rounds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tol: Option<f64>,
}

/// What a multi-class FLORAL fit returns.
#[derive(Debug, Clone)]
pub struct MulticlassFloralFit {
    /// The last iterate's model.
    pub last: OvrModel,
    /// The model averaged over the last m rounds (over the rounds t > T − m played; the last
    /// iterate when the game stopped before round T − m + 1, see `averaged_rounds`).
    pub average: OvrModel,
    /// How many rounds `average` averages (0: the game stopped before the window, and
    /// `average` is the last iterate).
    pub averaged_rounds: usize,
    /// How the game ended (`Converged` only with a `tol`).
    pub status: Termination,
    /// Rounds played.
    pub rounds_played: usize,
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
    /// Validate: the learner's parameters ([`FloralLearner::new`]), T ≥ 1, 1 ≤ m ≤ T, and a
    /// finite tol ≥ 0 when given.
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
        if let Some(tol) = p.tol.filter(|t| !(t.is_finite() && *t >= 0.0)) {
            return Err(DefenseError::InvalidParam {
                field: "tol",
                expected: "a finite value >= 0",
                got: tol.to_string(),
            });
        }
        Ok(Self { p, projector })
    }

    /// The parameters.
    pub fn params(&self) -> &MulticlassFloralParams {
        &self.p
    }

    /// The game's parameters: T rounds, k relabels a round from round 1, the tolerance.
    pub fn game_params(&self) -> GameParams {
        GameParams::new(self.p.rounds, self.p.k, 0).with_tol(self.p.tol)
    }

    /// Play the game on the clean labels `clean` over the shared `gram` (see the module doc).
    /// The attacker draws from `rngs.attacker`; the learners draw nothing.
    ///
    /// # Errors
    /// See [`play_multiclass`].
    pub fn fit(
        &self,
        gram: &Arc<Gram>,
        clean: &ClassLabels,
        attacker: &mut dyn MulticlassAttacker,
        rngs: &mut Streams,
    ) -> Result<MulticlassFloralFit, GameError> {
        self.fit_observed(gram, clean, attacker, rngs, &mut NoObserver)
    }

    /// [`MulticlassFloral::fit`] with an observer of every round (which may also stop the game).
    ///
    /// # Errors
    /// See [`play_multiclass`].
    pub fn fit_observed(
        &self,
        gram: &Arc<Gram>,
        clean: &ClassLabels,
        attacker: &mut dyn MulticlassAttacker,
        rngs: &mut Streams,
        obs: &mut dyn Observer<MulticlassGame>,
    ) -> Result<MulticlassFloralFit, GameError> {
        let mut learners: Vec<Box<dyn Learner>> = (0..clean.n_classes())
            .map(|_| {
                FloralLearner::new(self.p.learner.clone(), self.projector.clone())
                    .map(|l| Box::new(l) as Box<dyn Learner>)
            })
            .collect::<Result<_, _>>()
            .map_err(|e| GameError::player("multiclass_floral", e))?;
        let mut rec = OvrRecorder::new(self.p.rounds, self.p.average_last);
        let out = {
            let mut fan: Fanout<'_, MulticlassGame> = Fanout(vec![&mut rec, obs]);
            play_multiclass(&self.game_params(), gram, clean, attacker, &mut learners, rngs, &mut fan)?
        };
        let last = rec.last()?.ok_or(GameError::InvalidParam { field: "rounds", expected: ">= 1", got: "0".into() })?;
        let (average, averaged_rounds) = rec.average()?.unwrap_or_else(|| (last.clone(), 0));
        Ok(MulticlassFloralFit {
            last,
            average,
            averaged_rounds,
            status: out.status,
            rounds_played: out.rounds_played,
            relabelled: rec.relabelled,
            problems_touched: rec.problems_touched,
            labels: out.labels,
            final_labels: out.final_labels,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::Mat;
    use floral_data::FloralRng;
    use floral_game::{MulticlassView, Relabel};
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
        let p =
            MulticlassFloralParams { learner: FloralParams::reference(), rounds: 3, k: 1, average_last: 4, tol: None };
        assert!(MulticlassFloral::new(p.clone(), proj.clone()).is_err());
        assert!(
            MulticlassFloral::new(MulticlassFloralParams { rounds: 0, average_last: 0, ..p.clone() }, proj.clone())
                .is_err()
        );
        assert!(
            MulticlassFloral::new(
                MulticlassFloralParams { tol: Some(-1.0), average_last: 3, ..p.clone() },
                proj.clone()
            )
            .is_err()
        );
        assert!(MulticlassFloral::new(MulticlassFloralParams { average_last: 3, ..p }, proj).is_ok());
    }

    #[test]
    fn an_over_budget_attacker_is_an_error_naming_it() {
        let proj: Arc<dyn Projector> = Arc::new(ExactProjector::new(ExactParams::default()).unwrap());
        let g = Arc::new(Gram::from_mat(Mat::<f64>::identity(3, 3)).unwrap());
        let y = ClassLabels::new(vec![0, 1, 2], 3).unwrap();
        let p =
            MulticlassFloralParams { learner: FloralParams::reference(), rounds: 2, k: 1, average_last: 1, tol: None };
        let mf = MulticlassFloral::new(p, proj).unwrap();
        let mut a = Fixed(vec![Relabel { point: 0, class: 1 }, Relabel { point: 1, class: 2 }]);
        let e = mf.fit(&g, &y, &mut a, &mut Streams::new(1)).unwrap_err();
        assert!(e.to_string().contains("fixed"), "{e}");
    }
}
