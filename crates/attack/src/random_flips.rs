//! Random label flips: `budget` indices drawn uniformly without replacement.

use floral_data::{FlipSet, FloralRng};
use rand::seq::index::sample;

use crate::{AttackError, PoisonInput, Poisoner};

/// Flips `budget` labels chosen uniformly at random without replacement
/// (`rand::seq::index::sample(rng, n, budget)`).
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomFlips;

impl Poisoner for RandomFlips {
    fn name(&self) -> &'static str {
        "random_flips"
    }
    fn draws_per_seed(&self) -> bool {
        true
    }

    fn poison(&self, input: &PoisonInput<'_>, budget: usize, rng: &mut FloralRng) -> Result<FlipSet, AttackError> {
        let n = input.train.n();
        let idx: Vec<usize> = sample(rng, n, budget.min(n)).into_vec();
        Ok(FlipSet::new(idx, n)?)
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
    fn exact_budget_and_reproducible() {
        let x = Mat::from_fn(20, 1, |i, _| i as f64);
        let train = Dataset::new(x, Labels::from_signs((0..20).map(|i| i % 2 == 0))).unwrap();
        let k = Linear::new(LinearParams::default()).unwrap();
        let gram = Arc::new(Gram::new(&k, train.x()));
        let input = PoisonInput { train: &train, kernel: &k, gram: &gram, validation: None };
        let a = poison_exact(&RandomFlips, &input, 7, &mut stream(3, Stream::Data)).unwrap();
        let b = poison_exact(&RandomFlips, &input, 7, &mut stream(3, Stream::Data)).unwrap();
        assert_eq!(a.len(), 7);
        assert_eq!(a, b);
        assert!(poison_exact(&RandomFlips, &input, 21, &mut stream(3, Stream::Data)).is_err());
    }
}
