//! Pieces shared by the model-based poisoners ([`crate::MarginFlips`], [`crate::TopLambdaFlips`],
//! [`crate::Alfa`], [`crate::AlfaTilt`], [`crate::Lfa`]): input checks, an SVM trained with SMO
//! on the shared Gram matrix, margins, the damage a model does on an evaluation set, and the
//! ranking rule (score, ties by lower index).

use faer::{ColRef, Mat};
use floral_data::{FlipSet, Labels};
use floral_svm::{Bounds, DualSolution, Gram, SignedGram, Smo, SmoParams};

use crate::{AttackError, PoisonInput};

/// Check an SVM box bound C: finite and > 0.
pub(crate) fn check_c(c: f64) -> Result<(), AttackError> {
    if c.is_finite() && c > 0.0 {
        Ok(())
    } else {
        Err(AttackError::InvalidParam { field: "c", expected: "a finite number > 0", got: c.to_string() })
    }
}

/// Check a weight that must be finite and ≥ 0.
pub(crate) fn check_nonneg(field: &'static str, v: f64) -> Result<(), AttackError> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(AttackError::InvalidParam { field, expected: "a finite number >= 0", got: v.to_string() })
    }
}

/// Shape checks on the input: the Gram matrix is n×n for the n training points, and the
/// validation split (when present) is non-empty with the training set's feature dimension.
pub(crate) fn check_shapes(input: &PoisonInput<'_>) -> Result<(), AttackError> {
    let n = input.train.n();
    if input.gram.n() != n {
        return Err(AttackError::InvalidParam {
            field: "gram",
            expected: "the n×n Gram matrix of the training points",
            got: format!("{0}×{0} for n = {n}", input.gram.n()),
        });
    }
    if let Some(v) = input.validation {
        if v.n() == 0 || v.dim() != input.train.dim() {
            return Err(AttackError::InvalidParam {
                field: "validation",
                expected: "a non-empty split with the training set's feature dimension",
                got: format!("{} points of dimension {} (training dimension {})", v.n(), v.dim(), input.train.dim()),
            });
        }
    }
    Ok(())
}

/// Both classes must be present: [`AttackError::SingleClass`] otherwise (an SVM trained on one
/// class has no boundary, so margins and dual weights carry no information).
pub(crate) fn check_two_classes(y: &Labels, poisoner: &'static str) -> Result<(), AttackError> {
    let n = y.len();
    let pos = y.n_positive();
    if pos == 0 || pos == n {
        return Err(AttackError::SingleClass { poisoner, n, label: if pos == 0 { -1.0 } else { 1.0 } });
    }
    Ok(())
}

/// The common preamble of a model-based poisoner: shape checks, then `Some(empty flip set)` for
/// a budget of 0 (nothing to compute), then the two-class check. `None`: go on and attack.
pub(crate) fn preamble(
    input: &PoisonInput<'_>,
    budget: usize,
    poisoner: &'static str,
) -> Result<Option<FlipSet>, AttackError> {
    check_shapes(input)?;
    if budget == 0 {
        return Ok(Some(FlipSet::empty(input.train.n())));
    }
    check_two_classes(input.train.y(), poisoner)?;
    Ok(None)
}

/// The SMO solver with LIBSVM's default settings (tolerance 1e-3, shrinking).
pub(crate) fn smo() -> Result<Smo, AttackError> {
    Ok(Smo::new(SmoParams::default())?)
}

/// Train the SVM for the labels of `q` (over the shared Gram) with box C, from λ = 0 or a
/// feasible warm start: min ½λᵀQ̃λ − 1ᵀλ s.t. 0 ≤ λ ≤ C, ỹᵀλ = 0 (docs/method.md §2).
pub(crate) fn train(
    smo: &mut Smo,
    q: &SignedGram,
    c: f64,
    warm: Option<ColRef<'_, f64>>,
) -> Result<DualSolution, AttackError> {
    Ok(smo.solve(q, Bounds::Uniform(c), warm)?)
}

/// Decision values on the training points, f_i = b + Σ_j λ_j ỹ_j K_ij, for a model trained on
/// the labels ỹ of `q`.
pub(crate) fn decision_values(q: &SignedGram, sol: &DualSolution) -> Vec<f64> {
    let n = q.n();
    let mut f = faer::Col::zeros(n);
    q.decision_values_into(sol.lambda.as_ref(), f.as_mut());
    (0..n).map(|i| f[i] + sol.bias).collect()
}

/// Margins m_i = y_i f(x_i) against the labels `y` of the decision values `f`.
pub(crate) fn margins(f: &[f64], y: &Labels) -> Vec<f64> {
    f.iter().zip(y.as_slice()).map(|(fi, yi)| yi * fi).collect()
}

/// The `k` indices with the largest scores, ordered by score descending, ties by lower index
/// first (scores compared with `f64::total_cmp`).
pub(crate) fn top_k_desc(scores: &[f64], k: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    idx.truncate(k);
    idx
}

/// How much a model trained on poisoned labels hurts: its 0-1 error rate and mean hinge loss
/// against clean labels on the evaluation points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Damage {
    /// Fraction of evaluation points whose predicted label sign(f) (f = 0 → +1) differs from
    /// the clean label.
    pub error: f64,
    /// Mean hinge loss (1/m) Σ_v max(0, 1 − y_v f(x_v)).
    pub hinge: f64,
}

/// The evaluation set of a poisoner that measures damage: the validation split with its clean
/// labels when the input has one, else the training points with their clean labels. Holds the
/// m×n kernel block K(eval, train) for the validation split; for the training points it reads
/// the shared Gram matrix.
#[derive(Debug)]
pub(crate) struct Judge {
    cross: Option<Mat<f64>>,
    truth: Labels,
}

impl Judge {
    /// The judge for an input (computes K(validation, train) once when a validation split is
    /// present).
    pub(crate) fn new(input: &PoisonInput<'_>) -> Self {
        match input.validation {
            Some(v) => {
                let mut k = Mat::zeros(v.n(), input.train.n());
                input.kernel.gram_into(v.x(), input.train.x(), k.as_mut());
                Judge { cross: Some(k), truth: v.y().clone() }
            }
            None => Judge { cross: None, truth: input.train.y().clone() },
        }
    }

    /// The damage of the model (λ, b) trained on the poisoned labels `y` over the Gram matrix
    /// `gram`: f(x_v) = b + Σ_j λ_j y_j K(x_v, x_j) on every evaluation point (only λ_j ≠ 0
    /// contribute), then the error rate and mean hinge loss of f against the clean labels.
    /// `f` is scratch space.
    pub(crate) fn damage(&self, gram: &Gram, y: &Labels, sol: &DualSolution, f: &mut Vec<f64>) -> Damage {
        let k = match &self.cross {
            Some(k) => k.as_ref(),
            None => gram.as_ref(),
        };
        let m = k.nrows();
        f.clear();
        f.resize(m, sol.bias);
        let ys = y.as_slice();
        for (j, &yj) in ys.iter().enumerate() {
            let a = sol.lambda[j];
            if a == 0.0 {
                continue;
            }
            let coef = a * yj;
            let col = k.col(j);
            for (v, fv) in f.iter_mut().enumerate() {
                *fv += coef * col[v];
            }
        }
        let truth = self.truth.as_slice();
        let mut wrong = 0usize;
        let mut hinge = 0.0;
        for (fv, tv) in f.iter().zip(truth) {
            let pred = if *fv >= 0.0 { 1.0 } else { -1.0 };
            if pred != *tv {
                wrong += 1;
            }
            hinge += (1.0 - tv * fv).max(0.0);
        }
        let mf = m.max(1) as f64;
        Damage { error: wrong as f64 / mf, hinge: hinge / mf }
    }
}
