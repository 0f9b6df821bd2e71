//! Confident learning (Northcutt, Jiang, Chuang 2021, "Confident learning: estimating
//! uncertainty in dataset labels", JAIR 70): find the training labels that cross-validated,
//! Platt-calibrated SVMs confidently disagree with, drop or relabel them, fit the SVM on the
//! result. Beyond the FLORAL paper's baselines.

use faer::MatRef;
use floral_data::{FloralRng, Labels, Streams};
use floral_projection::Bounds;
use rand::seq::SliceRandom;

use crate::common::{both_classes, check_c, drop_bounds, indices, svm, train_has_both_classes};
use crate::defence::{Screening, check_input};
use crate::{Defence, DefenseError, FitInput, Fitted, Platt};

/// What [`ConfidentLearning`] does with the points it flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CleanAction {
    /// Leave them out of the final SVM (coefficient 0).
    Drop,
    /// Give them the class the calibrated models are confident of.
    Relabel,
}

/// Parameters of [`ConfidentLearning`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConfidentLearningParams {
    /// Box bound C > 0 of every SVM (the cross-validation models and the final one). Default 1.
    pub c: f64,
    /// Cross-validation folds K ≥ 2. Default 5.
    pub folds: usize,
    /// Drop or relabel the flagged points. Default `drop`.
    pub action: CleanAction,
}

impl Default for ConfidentLearningParams {
    fn default() -> Self {
        Self { c: 1.0, folds: 5, action: CleanAction::Drop }
    }
}

/// Confident learning with kernel SVMs. Uses no trusted data.
///
/// 1. Out-of-sample decision values: the training points are dealt into K folds stratified by
///    label (each class shuffled with `rngs.learner`, then dealt round-robin); for each fold
///    the SVM is fitted on the other folds (the fold's points get C_i = 0 on the shared Gram
///    matrix) and gives f_i = Σ_j α_j K_ij + b on the fold's points.
/// 2. Calibration: one Platt sigmoid ([`Platt::fit`]) on all the pairs (f_i, ỹ_i), as LIBSVM
///    does for its probability outputs; p̂₊(i) = 1/(1 + exp(A f_i + B)), p̂₋(i) = 1 − p̂₊(i).
/// 3. The confident-learning rule (the off-diagonal of the confident joint C_{ỹ,y*}): per class
///    the threshold t_c = mean of p̂_c(i) over the points labelled c; the classes c with
///    p̂_c(i) ≥ t_c are point i's confident classes; when there are two, the one of larger p̂
///    (ties: the given label). Point i is flagged when it has a confident class and that class
///    differs from ỹ_i.
/// 4. The flagged points are dropped (C_i = 0) or relabelled to their confident class
///    ([`CleanAction`]), and the SVM is fitted on the result; [`Fitted::screening`] lists them,
///    and with `relabel` [`Fitted::final_labels`] holds the labels used.
#[derive(Debug, Clone)]
pub struct ConfidentLearning {
    p: ConfidentLearningParams,
}

/// What the confident-learning screening computed.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfidentScreen {
    /// Out-of-sample decision values f_i.
    pub values: Vec<f64>,
    /// The Platt sigmoid fitted on them.
    pub platt: Platt,
    /// p̂₊(i).
    pub p_positive: Vec<f64>,
    /// Thresholds (t₊, t₋).
    pub thresholds: (f64, f64),
    /// The flagged points with their confident class (±1), ascending.
    pub flagged: Vec<(usize, f64)>,
}

impl ConfidentLearning {
    /// Validate the parameters.
    ///
    /// # Errors
    /// [`DefenseError::InvalidParam`] naming `c` or `folds` (≥ 2).
    pub fn new(p: ConfidentLearningParams) -> Result<Self, DefenseError> {
        check_c(p.c)?;
        if p.folds < 2 {
            return Err(DefenseError::InvalidParam {
                field: "folds",
                expected: "an integer ≥ 2",
                got: p.folds.to_string(),
            });
        }
        Ok(Self { p })
    }

    /// Fold of each point: per class, the points in an order shuffled by `rng`, dealt
    /// round-robin into K folds.
    fn folds(&self, y: &Labels, rng: &mut FloralRng) -> Vec<usize> {
        let mut fold = vec![0; y.len()];
        for c in [1.0, -1.0] {
            let mut members: Vec<usize> = (0..y.len()).filter(|&i| y.get(i) == c).collect();
            members.shuffle(rng);
            for (pos, &i) in members.iter().enumerate() {
                fold[i] = pos % self.p.folds;
            }
        }
        fold
    }

    /// Steps 1–3 of the type's docs on the shared Gram matrix `gram` and labels `y`.
    ///
    /// # Errors
    /// [`DefenseError::InvalidInput`] naming `train` when a class has fewer than 2 points (a
    /// fold's training part would lack it); solver errors.
    pub fn screen(
        &self,
        gram: &std::sync::Arc<floral_svm::Gram>,
        y: &Labels,
        rng: &mut FloralRng,
    ) -> Result<ConfidentScreen, DefenseError> {
        let n = y.len();
        let n_pos = y.n_positive();
        if n_pos < 2 || n - n_pos < 2 {
            return Err(DefenseError::InvalidInput {
                field: "train",
                expected: "at least 2 points of each class (confident learning cross-validates)",
                got: format!("{n_pos} points labelled +1 and {} labelled −1", n - n_pos),
            });
        }
        let fold = self.folds(y, rng);
        let k: MatRef<'_, f64> = gram.as_ref().as_ref();
        let mut values = vec![0.0; n];
        for f in 0..self.p.folds {
            let held: Vec<bool> = fold.iter().map(|&g| g == f).collect();
            if !held.iter().any(|&h| h) {
                continue;
            }
            let bounds = drop_bounds(n, self.p.c, &held);
            let run = svm(gram.clone(), y, Bounds::PerPoint(&bounds))?;
            let sv: Vec<(usize, f64)> =
                (0..n).filter(|&j| run.lambda[j] > 0.0).map(|j| (j, run.lambda[j] * y.get(j))).collect();
            for i in (0..n).filter(|&i| held[i]) {
                values[i] = sv.iter().map(|&(j, a)| a * k[(i, j)]).sum::<f64>() + run.bias;
            }
        }
        let platt = Platt::fit(&values, y.as_slice())?;
        let p_positive: Vec<f64> = values.iter().map(|&v| platt.probability(v)).collect();
        let mean = |c: f64| {
            let (s, m) = (0..n).filter(|&i| y.get(i) == c).fold((0.0, 0usize), |(s, m), i| {
                (s + if c > 0.0 { p_positive[i] } else { 1.0 - p_positive[i] }, m + 1)
            });
            s / m as f64
        };
        let thresholds = (mean(1.0), mean(-1.0));
        let flagged = (0..n)
            .filter_map(|i| {
                let (pp, pn) = (p_positive[i], 1.0 - p_positive[i]);
                let confident = match (pp >= thresholds.0, pn >= thresholds.1) {
                    (true, false) => 1.0,
                    (false, true) => -1.0,
                    (true, true) if pp > pn => 1.0,
                    (true, true) if pn > pp => -1.0,
                    _ => return None,
                };
                (confident != y.get(i)).then_some((i, confident))
            })
            .collect();
        Ok(ConfidentScreen { values, platt, p_positive, thresholds, flagged })
    }
}

impl Defence for ConfidentLearning {
    fn name(&self) -> &'static str {
        "confident-learning"
    }
    fn random_draws(&self) -> Option<&'static str> {
        Some("its folds")
    }

    fn fit(&self, input: FitInput<'_>, rngs: &mut Streams) -> Result<Fitted, DefenseError> {
        check_input(&input)?;
        let y = input.train.y();
        train_has_both_classes(y)?;
        let gram = &input.kernels.train;
        let screen = self.screen(gram, y, &mut rngs.learner)?;
        let n = y.len();
        let mut flag = vec![false; n];
        for &(i, _) in &screen.flagged {
            flag[i] = true;
        }
        let (fitted, screening) = match self.p.action {
            CleanAction::Drop => {
                both_classes(
                    y.as_slice(),
                    |i| !flag[i],
                    "train",
                    "both classes among the points confident learning keeps",
                    "after dropping the flagged points",
                )?;
                let bounds = drop_bounds(n, self.p.c, &flag);
                let run = svm(gram.clone(), y, Bounds::PerPoint(&bounds))?;
                let f = Fitted::single("confident-learning", run.model(y), run.iterations, run.n_sv);
                (f, Screening { dropped: indices(&flag), passes: 1, converged: true, ..Screening::default() })
            }
            CleanAction::Relabel => {
                let mut labels = y.clone();
                for &(i, _) in &screen.flagged {
                    labels.flip(i);
                }
                both_classes(
                    labels.as_slice(),
                    |_| true,
                    "train",
                    "both classes after confident learning relabels",
                    "after relabelling the flagged points",
                )?;
                let run = svm(gram.clone(), &labels, Bounds::Uniform(self.p.c))?;
                let mut f = Fitted::single("confident-learning", run.model(&labels), run.iterations, run.n_sv);
                f.final_labels = Some(labels);
                (f, Screening { relabelled: indices(&flag), passes: 1, converged: true, ..Screening::default() })
            }
        };
        Ok(Fitted { screening: Some(screening), ..fitted })
    }
}
