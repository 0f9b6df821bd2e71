//! The `Recorder`: per-round metrics and the model snapshots the output rules need.

use faer::Col;

use crate::{Control, DualModel, Evaluator, GameError, Observer, RoundRecord, SplitScores};

/// Metrics of one recorded round.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RoundMetrics {
    /// The round.
    pub round: usize,
    /// Scores of the current model (λ^t, ỹ^t, b^t) on every split.
    pub scores: SplitScores,
    /// Number of flipped labels this round.
    pub n_flips: usize,
    /// Support vectors |{i : λ_i > threshold}|.
    pub n_sv: usize,
    /// max_i λ_i.
    pub max_lambda: f64,
    /// Dual objective ½λᵀQ̃λ − 1ᵀλ on the round's labels.
    pub objective: f64,
    /// Projection residual |ỹᵀλ|.
    pub residual: f64,
    /// Step size used.
    pub eta: f64,
    /// Bias b^t.
    pub bias: f64,
}

/// Which model a game hands out at the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum OutputRule {
    /// The last iterate (λ^T, ỹ^T, b^T): what the authors' code evaluates.
    Last,
    /// The average of the predictors of the last m rounds: α = mean_t λ^t∘ỹ^t, b = mean_t b^t.
    Average {
        /// How many final rounds to average.
        last: usize,
    },
    /// The round with the best validation accuracy (ties: the earliest). Needs a validation set.
    BestValidation,
}

/// Records per-round metrics every `every` rounds and keeps the models the output rules need.
#[derive(Debug)]
pub struct Recorder {
    eval: Evaluator,
    every: usize,
    rounds: usize,
    average_last: usize,
    sv_threshold: f64,
    /// The recorded metrics, in round order.
    pub metrics: Vec<RoundMetrics>,
    last: Option<DualModel>,
    avg_sum: Option<(Col<f64>, f64, usize)>,
    best_val: Option<(f64, usize, DualModel)>,
    qlambda: Col<f64>,
}

impl Recorder {
    /// A recorder for a game of `rounds` rounds that records metrics every `every` rounds (and
    /// always the last), averages the last `average_last` iterates, and tracks the
    /// best-validation round (evaluated every round when a validation set exists).
    pub fn new(eval: Evaluator, rounds: usize, every: usize, average_last: usize, sv_threshold: f64) -> Self {
        Self {
            eval,
            every: every.max(1),
            rounds,
            average_last: average_last.max(1),
            sv_threshold,
            metrics: Vec::new(),
            last: None,
            avg_sum: None,
            best_val: None,
            qlambda: Col::zeros(0),
        }
    }

    /// The model the given rule selects (None when the rule has nothing to offer, e.g. no
    /// validation set, or no round played).
    pub fn model(&self, rule: OutputRule) -> Option<DualModel> {
        match rule {
            OutputRule::Last => self.last.clone(),
            OutputRule::Average { .. } => self.avg_sum.as_ref().map(|(c, b, m)| DualModel {
                coef: Col::from_fn(c.nrows(), |i| c[i] / *m as f64),
                bias: *b / *m as f64,
            }),
            OutputRule::BestValidation => self.best_val.as_ref().map(|(_, _, m)| m.clone()),
        }
    }

    /// The round the best-validation rule picked.
    pub fn best_validation_round(&self) -> Option<usize> {
        self.best_val.as_ref().map(|(_, r, _)| *r)
    }

    /// Scores of a model on every split.
    pub fn scores(&mut self, model: &DualModel) -> SplitScores {
        self.eval.scores(model)
    }

    /// Test-set decision values of a model.
    pub fn test_values(&mut self, model: &DualModel) -> Vec<f64> {
        self.eval.test_values(model)
    }
}

impl Observer for Recorder {
    fn on_round(&mut self, rec: &RoundRecord<'_>) -> Result<Control, GameError> {
        let model = DualModel::new(rec.lambda, rec.labels, rec.bias);
        if rec.round + self.average_last > self.rounds {
            match &mut self.avg_sum {
                Some((c, b, m)) => {
                    for i in 0..c.nrows() {
                        c[i] += model.coef[i];
                    }
                    *b += model.bias;
                    *m += 1;
                }
                None => self.avg_sum = Some((model.coef.clone(), model.bias, 1)),
            }
        }
        let val = self.eval.validation(&model);
        if let Some(v) = val {
            let better = match &self.best_val {
                Some((acc, _, _)) => v.accuracy > *acc,
                None => true,
            };
            if better {
                self.best_val = Some((v.accuracy, rec.round, model.clone()));
            }
        }
        if rec.round % self.every == 0 || rec.round == self.rounds || rec.round == 1 {
            let n = rec.lambda.nrows();
            if self.qlambda.nrows() != n {
                self.qlambda = Col::zeros(n);
            }
            match rec.q_lambda {
                Some(ql) => self.qlambda.copy_from(ql),
                None => rec.q.matvec_into(rec.lambda, self.qlambda.as_mut()),
            }
            let mut objective = 0.0;
            for i in 0..n {
                objective += 0.5 * rec.lambda[i] * self.qlambda[i] - rec.lambda[i];
            }
            // f(x_i) = Σ_j λ_j ỹ_j K_ij + b = ỹ_i (Q̃λ)_i + b
            let train_f: Vec<f64> = (0..n).map(|i| rec.labels.get(i) * self.qlambda[i] + rec.bias).collect();
            let scores = SplitScores {
                train: crate::score(&train_f, self.eval.train_labels()),
                validation: val,
                test: self.eval.test(&model),
            };
            self.metrics.push(RoundMetrics {
                round: rec.round,
                scores,
                n_flips: rec.flips.len(),
                n_sv: rec.lambda.iter().filter(|&&l| l > self.sv_threshold).count(),
                max_lambda: rec.lambda.iter().copied().fold(0.0, f64::max),
                objective,
                residual: rec.step.residual,
                eta: rec.step.eta,
                bias: rec.bias,
            });
        }
        self.last = Some(model);
        Ok(Control::Continue)
    }
}
