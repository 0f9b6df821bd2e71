//! LN-SVM (Biggio, Nelson, Laskov 2011, "Support vector machines under adversarial label
//! noise"): a kernel SVM whose kernel is corrected for random label noise of rate μ
//! (docs/method.md §7).

use std::sync::Arc;

use faer::Mat;
use floral_data::Streams;
use floral_game::DualModel;
use floral_projection::Bounds;
use floral_svm::Gram;

use crate::common::{check_c, svm, train_has_both_classes};
use crate::defence::check_input;
use crate::{Defence, DefenseError, FitInput, Fitted};

/// Parameters of [`LnSvm`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LnSvmParams {
    /// Box bound C > 0 of the SVM on the corrected kernel. Default 1.
    pub c: f64,
    /// The assumed rate μ of random label flips, 0 ≤ μ < 0.5. Default 0.05 (the reference value).
    pub mu: f64,
}

impl Default for LnSvmParams {
    fn default() -> Self {
        Self { c: 1.0, mu: 0.05 }
    }
}

/// LN-SVM: the kernel SVM on the corrected kernel K'_ii = K_ii, K'_ij = s·K_ij (i ≠ j) with
/// s = 1 − 4μ(1 − μ) = (1 − 2μ)², the expected value of ỹ_iỹ_j·y_iy_j when each label flips
/// independently with probability μ. Uses no trusted data.
///
/// The correction holds for every pair of distinct points, so a test point x (never one of
/// the training points) sees K'(x_j, x) = s·k(x_j, x). With λ, b solved on K', the decision
/// function is f(x) = Σ_j λ_j ỹ_j s·k(x_j, x) + b, and the output [`DualModel`] stores
/// coef_j = s·λ_j ỹ_j and bias b: the shared (uncorrected) cross-kernels then give exactly the
/// LN-SVM's decision values. On the training points the shared Gram matrix evaluates the same
/// expansion as if each x_i were a new point, i.e. f(x_i) − (1 − s)·λ_i ỹ_i K_ii relative to
/// the K'-decision value.
///
/// Memory: the corrected Gram matrix is a second n×n matrix held during the fit.
#[derive(Debug, Clone)]
pub struct LnSvm {
    c: f64,
    mu: f64,
}

impl LnSvm {
    /// Validate the parameters.
    ///
    /// # Errors
    /// [`DefenseError::InvalidParam`] naming `c` (finite, > 0) or `mu` (0 ≤ μ < 0.5).
    pub fn new(p: LnSvmParams) -> Result<Self, DefenseError> {
        check_c(p.c)?;
        if !(p.mu.is_finite() && (0.0..0.5).contains(&p.mu)) {
            return Err(DefenseError::InvalidParam {
                field: "mu",
                expected: "a number in [0, 0.5)",
                got: p.mu.to_string(),
            });
        }
        Ok(Self { c: p.c, mu: p.mu })
    }

    /// The off-diagonal factor s = 1 − 4μ(1 − μ).
    pub fn scale(&self) -> f64 {
        1.0 - 4.0 * self.mu * (1.0 - self.mu)
    }

    /// The corrected kernel matrix: K'_ii = K_ii and K'_ij = s·K_ij for i ≠ j,
    /// s = 1 − 4μ(1 − μ).
    ///
    /// # Errors
    /// [`DefenseError::Svm`] if the result is not a valid Gram matrix (it always is for a valid
    /// `k`: the scaling keeps K' finite and exactly symmetric).
    pub fn corrected_gram(&self, k: &Gram) -> Result<Gram, DefenseError> {
        let s = self.scale();
        let km = k.as_ref();
        let m = Mat::from_fn(k.n(), k.n(), |i, j| if i == j { km[(i, i)] } else { s * km[(i, j)] });
        Ok(Gram::from_mat(m)?)
    }
}

impl Defence for LnSvm {
    fn name(&self) -> &'static str {
        "ln-svm"
    }
    /// LN-SVM's noise-adjusted kernel: one n × n matrix.
    fn extra_bytes(&self, n: usize, _m: usize) -> usize {
        crate::defence::square_bytes(n)
    }

    fn fit(&self, input: FitInput<'_>, _rngs: &mut Streams) -> Result<Fitted, DefenseError> {
        check_input(&input)?;
        let y = input.train.y();
        train_has_both_classes(y)?;
        let corrected = Arc::new(self.corrected_gram(&input.kernels.train)?);
        let run = svm(corrected, y, Bounds::Uniform(self.c))?;
        let s = self.scale();
        let mut model: DualModel = run.model(y);
        for v in model.coef.iter_mut() {
            *v *= s;
        }
        Ok(Fitted::single("ln-svm", model, run.iterations, run.n_sv))
    }
}
