//! A small projected-gradient learner for the attack crate's tests (the attack crate may not
//! use the defence crate's FLORAL learner): λ ← T(λ) = Π(λ − η(Q̃λ − 1)) with the exact
//! projection, λ⁰ = 0, bias over all support vectors.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use faer::{Col, ColRef, Mat};
use floral_data::{Dataset, FloralRng, Labels};
use floral_game::{GameError, Learner, StepInfo};
use floral_projection::{Bounds, ExactProjector};
use floral_svm::{BiasRule, Gram, PgdMap, Rbf, RbfParams, SignedGram};

#[derive(Debug, Clone)]
pub struct PgdLearner {
    pub eta: f64,
    pub c: f64,
    pub lambda: Col<f64>,
    pub projector: Arc<ExactProjector>,
}

impl PgdLearner {
    pub fn new(eta: f64, c: f64) -> Self {
        Self { eta, c, lambda: Col::zeros(0), projector: Arc::new(ExactProjector::default()) }
    }
}

impl Learner for PgdLearner {
    fn name(&self) -> &'static str {
        "pgd_test"
    }
    fn reset(&mut self, q: &SignedGram) -> Result<(), GameError> {
        self.lambda = Col::zeros(q.n());
        Ok(())
    }
    fn step(&mut self, _round: usize, q: &SignedGram, _rng: &mut FloralRng) -> Result<StepInfo, GameError> {
        let map = PgdMap::new(q, self.eta, Bounds::Uniform(self.c), self.projector.as_ref()).unwrap();
        self.lambda = map.apply(self.lambda.as_ref()).unwrap();
        Ok(StepInfo { eta: self.eta, ..Default::default() })
    }
    fn lambda(&self) -> ColRef<'_, f64> {
        self.lambda.as_ref()
    }
    fn bias(&self, q: &SignedGram) -> f64 {
        floral_svm::bias(
            BiasRule::AllSupportVectors { threshold: 1e-5 },
            q,
            self.lambda.as_ref(),
            Bounds::Uniform(self.c),
        )
    }
    fn eta(&self, _round: usize) -> Option<f64> {
        Some(self.eta)
    }
    fn bounds(&self) -> Option<Bounds<'_>> {
        Some(Bounds::Uniform(self.c))
    }
    fn fork(&self) -> Box<dyn Learner> {
        Box::new(self.clone())
    }
}

/// Two noisy interleaved blobs in 2-D, n points, deterministic.
pub fn blobs(n: usize) -> Dataset {
    let x = Mat::from_fn(n, 2, |i, j| {
        let side = if i % 2 == 0 { 1.0 } else { -1.0 };
        let wobble = (((i * 37 + j * 11) % 17) as f64 / 17.0 - 0.5) * 1.6;
        side * 0.6 * (1 - j) as f64 + wobble
    });
    Dataset::new(x, Labels::from_signs((0..n).map(|i| i % 2 == 0))).unwrap()
}

pub fn signed_gram(d: &Dataset) -> SignedGram {
    let k = Rbf::new(RbfParams { gamma: 0.5 }).unwrap();
    SignedGram::new(Gram::new(&k, d.x()), d.y()).unwrap()
}
