//! Top-λ support-vector flips: flip the points a clean SVM leans on most.

use floral_data::{FlipSet, FloralRng};
use floral_svm::SignedGram;
use serde::{Deserialize, Serialize};

use crate::model_common::{check_c, preamble, smo, top_k_desc, train};
use crate::{AttackError, PoisonInput, Poisoner};

/// Parameters of [`TopLambdaFlips`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopLambdaFlipsParams {
    /// Box bound C of the clean SVM. Finite, > 0. Default 1.
    #[serde(default = "default_c")]
    pub c: f64,
}

fn default_c() -> f64 {
    1.0
}

impl Default for TopLambdaFlipsParams {
    fn default() -> Self {
        Self { c: default_c() }
    }
}

/// Top-λ flips: train the SVM on the clean labels with SMO over the shared Gram matrix (box C,
/// LIBSVM's tolerance 1e-3), i.e. solve min ½λᵀQλ − 1ᵀλ s.t. 0 ≤ λ ≤ C, yᵀλ = 0, and flip the
/// `budget` points with the largest dual weight λ_i, ties by lower index (so, once the support
/// vectors are used up, the lowest-indexed points with λ_i = 0). The offline, deterministic
/// counterpart of FLORAL's in-game attacker (docs/method.md §3). The rng is not used.
#[derive(Debug, Clone)]
pub struct TopLambdaFlips {
    c: f64,
}

impl TopLambdaFlips {
    /// Validate the parameters.
    ///
    /// # Errors
    /// [`AttackError::InvalidParam`] naming `c` when it is not finite and > 0.
    pub fn new(params: TopLambdaFlipsParams) -> Result<Self, AttackError> {
        check_c(params.c)?;
        Ok(Self { c: params.c })
    }
}

impl Poisoner for TopLambdaFlips {
    fn name(&self) -> &'static str {
        "top_lambda"
    }

    fn poison(&self, input: &PoisonInput<'_>, budget: usize, _rng: &mut FloralRng) -> Result<FlipSet, AttackError> {
        if let Some(done) = preamble(input, budget, self.name())? {
            return Ok(done);
        }
        let n = input.train.n();
        let q = SignedGram::new(input.gram.clone(), input.train.y())?;
        let sol = train(&mut smo()?, &q, self.c, None)?;
        let lambda: Vec<f64> = (0..n).map(|i| sol.lambda[i]).collect();
        Ok(FlipSet::new(top_k_desc(&lambda, budget.min(n)), n)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::poison_exact;
    use faer::Mat;
    use floral_data::{Dataset, Labels, Stream, stream};
    use floral_svm::{Gram, Linear, LinearParams};
    use std::sync::Arc;

    #[test]
    fn flips_the_support_vectors_nearest_the_gap() {
        // −1 at x = 0..4, +1 at x = 6..10: with a large C the only support vectors are x = 4
        // and x = 6 (indices 4 and 5), both with λ = 2/(gap²) = 0.5.
        let xs = [0.0, 1.0, 2.0, 3.0, 4.0, 6.0, 7.0, 8.0, 9.0, 10.0];
        let x = Mat::from_fn(10, 1, |i, _| xs[i]);
        let train = Dataset::new(x, Labels::from_signs((0..10).map(|i| i >= 5))).unwrap();
        let k = Linear::new(LinearParams::default()).unwrap();
        let gram = Arc::new(Gram::new(&k, train.x()));
        let input = PoisonInput { train: &train, kernel: &k, gram: &gram, validation: None };
        let p = TopLambdaFlips::new(TopLambdaFlipsParams { c: 100.0 }).unwrap();
        let f = poison_exact(&p, &input, 2, &mut stream(1, Stream::Data)).unwrap();
        assert_eq!(f.indices(), &[4, 5]);
        // A third flip has no support vector left: the lowest index with λ = 0 goes.
        let f = poison_exact(&p, &input, 3, &mut stream(1, Stream::Data)).unwrap();
        assert_eq!(f.indices(), &[0, 4, 5]);
    }

    #[test]
    fn bad_c_is_an_error_naming_the_field() {
        let e = TopLambdaFlips::new(TopLambdaFlipsParams { c: -2.0 }).unwrap_err().to_string();
        assert!(e.contains("`c`") && e.contains("-2"), "{e}");
    }
}
