//! The plain kernel SVM as a defence: exact SMO on the labels as received.

use floral_data::Streams;
use floral_game::DualModel;
use floral_projection::Bounds;
use floral_svm::{SignedGram, Smo, SmoParams};

use crate::defence::check_input;
use crate::{Defence, DefenseError, FitInput, Fitted};

/// The SMO row cache of [`SvmDefence`], in MB (what a job holds beyond the shared Gram matrix).
pub const SVM_CACHE_MB: f64 = 64.0;

/// Parameters of [`SvmDefence`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SvmDefenceParams {
    /// Box bound C > 0.
    pub c: f64,
}

/// Plain kernel SVM: min ½λᵀQ̃λ − 1ᵀλ s.t. 0 ≤ λ ≤ C, ỹᵀλ = 0 solved exactly by SMO (LIBSVM's
/// algorithm and bias) on the shared Gram matrix, with the training labels as received. Uses no
/// trusted data.
#[derive(Debug, Clone)]
pub struct SvmDefence {
    c: f64,
    smo: SmoParams,
}

impl SvmDefence {
    /// Validate C (finite, > 0).
    ///
    /// # Errors
    /// [`DefenseError::InvalidParam`] naming `c`.
    pub fn new(p: SvmDefenceParams) -> Result<Self, DefenseError> {
        if !(p.c.is_finite() && p.c > 0.0) {
            return Err(DefenseError::InvalidParam {
                field: "c",
                expected: "a finite number > 0",
                got: p.c.to_string(),
            });
        }
        Ok(Self {
            c: p.c,
            // Rows come from the shared dense Gram matrix, so the row cache only saves the signed
            // gather: a smaller cache than LIBSVM's costs little and bounds a job's memory.
            smo: SmoParams { cache_mb: SVM_CACHE_MB, ..SmoParams::default() },
        })
    }

    /// C.
    pub fn c(&self) -> f64 {
        self.c
    }
}

impl Defence for SvmDefence {
    fn name(&self) -> &'static str {
        "svm"
    }

    fn fit(&self, input: FitInput<'_>, _rngs: &mut Streams) -> Result<Fitted, DefenseError> {
        check_input(&input)?;
        let q = SignedGram::new(input.kernels.train.clone(), input.train.y())?;
        let mut smo = Smo::new(self.smo)?;
        let sol = smo.solve(&q, Bounds::Uniform(self.c), None)?;
        let model = DualModel::new(sol.lambda.as_ref(), input.train.y(), sol.bias);
        let n_sv = sol.lambda.iter().filter(|&&l| l > 0.0).count();
        Ok(Fitted::single("svm", model, sol.iterations, n_sv))
    }
}
