//! FLORAL as a defence: the learner plays the game against an in-game attacker; the fit hands
//! out the models of the output rules.

use std::sync::Arc;

use floral_data::Streams;
use floral_game::{Attacker, Budget, GameError, GameParams, Learner, OutputRule, Recorder};
use floral_projection::Projector;
use floral_svm::SignedGram;

use crate::defence::check_input;
use crate::{
    Defence, DefenseError, ExtragradientLearner, ExtragradientParams, FitInput, Fitted, FittedOutput, FloralLearner,
    FloralParams, OptimisticLearner, OptimisticParams,
};

/// Builds a fresh in-game attacker for each fit (attackers hold per-game state). The defence
/// crate never names a concrete attacker: the experiment's registry supplies this.
pub type AttackerFactory = Arc<dyn Fn() -> Result<Box<dyn Attacker>, GameError> + Send + Sync>;

/// The name of an output rule in reports: `last`, `avg-<m>`, `best-val`.
pub fn rule_name(r: OutputRule) -> String {
    match r {
        OutputRule::Last => "last".into(),
        OutputRule::Average { last } => format!("avg-{last}"),
        OutputRule::BestValidation => "best-val".into(),
    }
}

/// The learner's update rule in the FLORAL game (docs/method.md §4 and §8). Every variant
/// uses the same η schedule, initialisation, bias rule and bounds ([`FloralParams`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Solver {
    /// Projected gradient descent, FLORAL's step: λ^t = Π_{S(ỹ^t)}(λ^{t−1} − η_t(Q̃^tλ^{t−1} − 1))
    /// ([`FloralLearner`]). The default.
    #[default]
    Pgd,
    /// Extragradient ([`ExtragradientLearner`]): λ̂ = T_t(λ), then
    /// λ⁺ = Π_{S(ỹ^t)}(λ − η_t(Q̂λ̂ − 1)), Q̂ built from the labels a responder picks at λ̂.
    Extragradient {
        /// true: a fresh instance of the game's attacker (same budget k) responds at λ̂ from
        /// the first attacked round on, drawing from the learner's random stream; false: the
        /// gradient at λ̂ uses the round's labels ỹ^t (the fixed-label extragradient map).
        respond: bool,
    },
    /// Optimistic gradient ([`OptimisticLearner`]): λ^t = Π_{S(ỹ^t)}(λ^{t−1} − η_t(2g_t − g_{t−1})),
    /// g_t = Q̃^tλ^{t−1} − 1; the first round is a plain projected-gradient step.
    Optimistic,
}

impl Solver {
    /// Short name in reports: `pgd`, `extragradient`, `extragradient (fixed labels)`,
    /// `optimistic`.
    pub fn name(&self) -> &'static str {
        match self {
            Solver::Pgd => "pgd",
            Solver::Extragradient { respond: true } => "extragradient",
            Solver::Extragradient { respond: false } => "extragradient (fixed labels)",
            Solver::Optimistic => "optimistic",
        }
    }

    /// A fresh learner of this kind. `attacker` and `game` give the extragradient responder
    /// (the game's attacker factory and budget; it responds from round
    /// `game.unattacked_rounds + 1` on).
    ///
    /// # Errors
    /// [`DefenseError::InvalidParam`] naming the learner's field out of range.
    pub fn learner(
        &self,
        params: FloralParams,
        projector: Arc<dyn Projector>,
        attacker: &AttackerFactory,
        budget: Budget,
        unattacked_rounds: usize,
    ) -> Result<Box<dyn Learner>, DefenseError> {
        Ok(match *self {
            Solver::Pgd => Box::new(FloralLearner::new(params, projector)?),
            Solver::Extragradient { respond } => {
                let l = ExtragradientLearner::new(ExtragradientParams { base: params }, projector)?;
                if respond {
                    Box::new(l.with_responder(attacker.clone(), budget, unattacked_rounds + 1)?)
                } else {
                    Box::new(l)
                }
            }
            Solver::Optimistic => Box::new(OptimisticLearner::new(OptimisticParams { base: params }, projector)?),
        })
    }
}

/// Settings of a FLORAL fit beyond the learner's parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct FloralFitParams {
    /// The game: rounds T, budget k, unattacked rounds, stopping.
    pub game: GameParams,
    /// Record per-round metrics every this many rounds (the first and last always).
    pub record_every: usize,
    /// How many final iterates the averaged model uses.
    pub average_last: usize,
    /// The output rules to hand out, in order. Empty: last, averaged, and best-validation
    /// when a trusted validation split exists.
    pub rules: Vec<OutputRule>,
    /// The learner's update rule.
    pub solver: Solver,
}

/// FLORAL (docs/method.md §4): for t = 1..T the attacker flips up to k labels from λ^{t−1}, then
/// λ^t = Π_{S(ỹ^t)}(λ^{t−1} − η_t(Q̃^t λ^{t−1} − 1)). Outputs: the last iterate, the average of
/// the last m predictors, and (with a validation split, which then counts as trusted data) the
/// round of best validation accuracy.
pub struct FloralDefence {
    params: FloralParams,
    fit: FloralFitParams,
    projector: Arc<dyn Projector>,
    attacker: AttackerFactory,
}

impl std::fmt::Debug for FloralDefence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FloralDefence")
            .field("params", &self.params)
            .field("fit", &self.fit)
            .field("projector", &self.projector.name())
            .finish_non_exhaustive()
    }
}

impl FloralDefence {
    /// Validate the learner's parameters and the fit settings.
    ///
    /// # Errors
    /// [`DefenseError::InvalidParam`] naming the field.
    pub fn new(
        params: FloralParams,
        fit: FloralFitParams,
        projector: Arc<dyn Projector>,
        attacker: AttackerFactory,
    ) -> Result<Self, DefenseError> {
        fit.solver.learner(
            params.clone(),
            projector.clone(),
            &attacker,
            fit.game.budget,
            fit.game.unattacked_rounds,
        )?;
        let bad = |field, expected, got: usize| DefenseError::InvalidParam { field, expected, got: got.to_string() };
        if fit.game.rounds == 0 {
            return Err(bad("rounds", ">= 1", 0));
        }
        if fit.average_last == 0 {
            return Err(bad("average_last", ">= 1", 0));
        }
        if fit.record_every == 0 {
            return Err(bad("record_every", ">= 1", 0));
        }
        Ok(Self { params, fit, projector, attacker })
    }

    /// The learner's parameters.
    pub fn params(&self) -> &FloralParams {
        &self.params
    }
}

impl Defence for FloralDefence {
    fn name(&self) -> &'static str {
        "floral"
    }
    fn random_draws(&self) -> Option<&'static str> {
        Some("its in-game attacker")
    }

    fn fit(&self, input: FitInput<'_>, rngs: &mut Streams) -> Result<Fitted, DefenseError> {
        check_input(&input)?;
        let train = input.train;
        let monitor = match input.monitor {
            Some(m) => m,
            None => {
                return Err(DefenseError::Input(
                    "FLORAL records its rounds through an evaluator: the fit needs a monitor".into(),
                ));
            }
        };
        let mut q = SignedGram::new(input.kernels.train.clone(), train.y())?;
        let mut learner = self.fit.solver.learner(
            self.params.clone(),
            self.projector.clone(),
            &self.attacker,
            self.fit.game.budget,
            self.fit.game.unattacked_rounds,
        )?;
        let mut attacker = (self.attacker)()?;
        let mut rec = Recorder::new(
            monitor,
            self.fit.game.rounds,
            self.fit.record_every,
            self.fit.average_last,
            self.params.sv_threshold,
        );
        let out =
            floral_game::play(&self.fit.game, &mut q, train.y(), attacker.as_mut(), learner.as_mut(), rngs, &mut rec)?;
        let rules: Vec<OutputRule> = if self.fit.rules.is_empty() {
            let mut r = vec![OutputRule::Last, OutputRule::Average { last: self.fit.average_last }];
            if input.trusted.is_some() {
                r.push(OutputRule::BestValidation);
            }
            r
        } else {
            self.fit.rules.clone()
        };
        let outputs = rules
            .into_iter()
            .filter_map(|r| {
                rec.model(r).map(|model| FittedOutput { rule: rule_name(r), model, basis: crate::Basis::Train })
            })
            .collect();
        Ok(Fitted {
            outputs,
            plot_model: rec.model(OutputRule::Last),
            best_validation_round: rec.best_validation_round(),
            trace: std::mem::take(&mut rec.metrics),
            status: Some(out.status),
            iterations: out.rounds_played,
            n_sv: out.lambda.iter().filter(|&&l| l > self.params.sv_threshold).count(),
            final_labels: Some(out.final_labels),
            under_budget_rounds: out.under_budget_rounds,
            screening: None,
        })
    }
}
