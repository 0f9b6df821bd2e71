//! Margin flips: rank the training points by their margin under a clean SVM and flip the first
//! `budget` (docs/method.md §6: far-from-boundary flips are what the zero-sum minimax attacker
//! does for the hinge loss; near-boundary flips are its counterpart).

use floral_data::{FlipSet, FloralRng};
use floral_svm::SignedGram;
use serde::{Deserialize, Serialize};

use crate::model_common::{check_c, decision_values, margins, preamble, smo, top_k_desc, train};
use crate::{AttackError, PoisonInput, Poisoner};

/// Which end of the margin ranking [`MarginFlips`] flips first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MarginOrder {
    /// Largest margin m_i = y_i f(x_i) first: confidently correct points, far from the boundary
    /// (the zero-sum minimax attacker's choice for the hinge loss, whose flipped loss is
    /// 1 + y_i f(x_i)).
    FarFirst,
    /// Smallest |m_i| = |f(x_i)| first: the points nearest the decision boundary, on either
    /// side of it.
    NearestFirst,
}

/// Parameters of [`MarginFlips`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarginFlipsParams {
    /// Box bound C of the clean SVM. Finite, > 0. Default 1.
    #[serde(default = "default_c")]
    pub c: f64,
    /// Which points go first. Default [`MarginOrder::FarFirst`].
    #[serde(default = "default_order")]
    pub order: MarginOrder,
}

fn default_c() -> f64 {
    1.0
}

fn default_order() -> MarginOrder {
    MarginOrder::FarFirst
}

impl Default for MarginFlipsParams {
    fn default() -> Self {
        Self { c: default_c(), order: default_order() }
    }
}

/// Margin flips. Train the SVM on the clean labels y with SMO over the shared Gram matrix (box
/// C, LIBSVM's tolerance 1e-3), compute each training point's margin m_i = y_i f(x_i) with
/// f(x_i) = Σ_j λ_j y_j K_ij + b, and flip the `budget` points with the largest score:
/// score_i = m_i ([`MarginOrder::FarFirst`]) or score_i = −|m_i| ([`MarginOrder::NearestFirst`]);
/// ties go to the lower index. Deterministic: the rng is not used.
#[derive(Debug, Clone)]
pub struct MarginFlips {
    c: f64,
    order: MarginOrder,
}

impl MarginFlips {
    /// Validate the parameters.
    ///
    /// # Errors
    /// [`AttackError::InvalidParam`] naming `c` when it is not finite and > 0.
    pub fn new(params: MarginFlipsParams) -> Result<Self, AttackError> {
        check_c(params.c)?;
        Ok(Self { c: params.c, order: params.order })
    }

    /// The ranking order.
    pub fn order(&self) -> MarginOrder {
        self.order
    }
}

impl Poisoner for MarginFlips {
    fn name(&self) -> &'static str {
        match self.order {
            MarginOrder::FarFirst => "margin_far_first",
            MarginOrder::NearestFirst => "margin_nearest_first",
        }
    }

    fn poison(&self, input: &PoisonInput<'_>, budget: usize, _rng: &mut FloralRng) -> Result<FlipSet, AttackError> {
        if let Some(done) = preamble(input, budget, self.name())? {
            return Ok(done);
        }
        let n = input.train.n();
        let y = input.train.y();
        let q = SignedGram::new(input.gram.clone(), y)?;
        let sol = train(&mut smo()?, &q, self.c, None)?;
        let m = margins(&decision_values(&q, &sol), y);
        let score: Vec<f64> = match self.order {
            MarginOrder::FarFirst => m,
            MarginOrder::NearestFirst => m.iter().map(|v| -v.abs()).collect(),
        };
        Ok(FlipSet::new(top_k_desc(&score, budget.min(n)), n)?)
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

    /// Points on a line, −1 left of 0 and +1 right of it: the far points are the ends, the near
    /// ones the middle.
    fn line() -> Dataset {
        let x = Mat::from_fn(10, 1, |i, _| i as f64 - 4.5);
        Dataset::new(x, Labels::from_signs((0..10).map(|i| i >= 5))).unwrap()
    }

    fn flips(order: MarginOrder, budget: usize) -> Vec<usize> {
        let train = line();
        let k = Linear::new(LinearParams::default()).unwrap();
        let gram = Arc::new(Gram::new(&k, train.x()));
        let input = PoisonInput { train: &train, kernel: &k, gram: &gram, validation: None };
        let p = MarginFlips::new(MarginFlipsParams { c: 10.0, order }).unwrap();
        poison_exact(&p, &input, budget, &mut stream(1, Stream::Data)).unwrap().indices().to_vec()
    }

    #[test]
    fn far_first_takes_the_ends_and_nearest_first_the_middle() {
        assert_eq!(flips(MarginOrder::FarFirst, 2), vec![0, 9]);
        assert_eq!(flips(MarginOrder::NearestFirst, 2), vec![4, 5]);
    }

    #[test]
    fn bad_c_is_an_error_naming_the_field() {
        for c in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let e = MarginFlips::new(MarginFlipsParams { c, ..Default::default() }).unwrap_err().to_string();
            assert!(e.contains("`c`"), "{e}");
        }
    }
}
