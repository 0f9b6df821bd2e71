//! FLORAL as a defence: the learner plays the game against an in-game attacker; the fit hands
//! out the models of the output rules.

use std::sync::Arc;

use floral_data::Streams;
use floral_game::{Attacker, GameError, GameParams, OutputRule, Recorder};
use floral_projection::Projector;
use floral_svm::SignedGram;

use crate::defence::check_input;
use crate::{Defence, DefenseError, FitInput, Fitted, FittedOutput, FloralLearner, FloralParams};

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
        FloralLearner::new(params.clone(), projector.clone())?;
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
        let mut learner = FloralLearner::new(self.params.clone(), self.projector.clone())?;
        let mut attacker = (self.attacker)()?;
        let mut rec = Recorder::new(
            monitor,
            self.fit.game.rounds,
            self.fit.record_every,
            self.fit.average_last,
            self.params.sv_threshold,
        );
        let out =
            floral_game::play(&self.fit.game, &mut q, train.y(), attacker.as_mut(), &mut learner, rngs, &mut rec)?;
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
