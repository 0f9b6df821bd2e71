//! The [`Poisoner`] trait: an offline label-flipping attack, (training set, budget, rng) →
//! [`FlipSet`] with exactly `budget` flips.

use std::sync::Arc;

use floral_data::{Dataset, FlipSet, FloralRng};
use floral_svm::{Gram, Kernel};

use crate::AttackError;

/// What an offline attack sees: the clean training set, the kernel and the shared Gram matrix
/// of its points (so margin- or model-based attacks train on it without recomputing), and the
/// validation split when the experiment has one (attacks that optimise validation error).
#[derive(Debug, Clone, Copy)]
pub struct PoisonInput<'a> {
    /// The clean training set.
    pub train: &'a Dataset,
    /// The kernel.
    pub kernel: &'a dyn Kernel,
    /// K(train, train), shared.
    pub gram: &'a Arc<Gram>,
    /// The validation split, if any.
    pub validation: Option<&'a Dataset>,
}

/// An offline poisoning attack: flips exactly `budget` training labels (relative to the clean
/// labels), deterministically for a given rng state.
///
/// Implementations: [`crate::RandomFlips`], [`crate::LabelSheet`], [`crate::MarginFlips`],
/// [`crate::TopLambdaFlips`], [`crate::Alfa`], [`crate::AlfaTilt`], [`crate::Lfa`],
/// [`crate::LookAheadPoisoner`], [`crate::KnnAwareFlips`].
pub trait Poisoner: std::fmt::Debug + Send + Sync {
    /// Short stable name.
    fn name(&self) -> &'static str;
    /// The flips; `budget` ≤ n.
    ///
    /// # Errors
    /// An [`AttackError`] when the attack cannot produce `budget` flips.
    fn poison(&self, input: &PoisonInput<'_>, budget: usize, rng: &mut FloralRng) -> Result<FlipSet, AttackError>;
    /// True when the flips depend on the seed's own random draws (not only on the data), so
    /// they differ between seeds that share their points.
    fn draws_per_seed(&self) -> bool {
        false
    }
}

/// Run a poisoner and enforce the contract: exactly `budget` flips over the training set's n.
///
/// # Errors
/// [`AttackError::InvalidParam`] for a budget above n, [`AttackError::BudgetNotMet`] when the
/// poisoner returns another number of flips, or the poisoner's own error.
pub fn poison_exact(
    poisoner: &dyn Poisoner,
    input: &PoisonInput<'_>,
    budget: usize,
    rng: &mut FloralRng,
) -> Result<FlipSet, AttackError> {
    let n = input.train.n();
    if budget > n {
        return Err(AttackError::InvalidParam {
            field: "budget",
            expected: "at most the number of training points",
            got: format!("{budget} (n = {n})"),
        });
    }
    let flips = poisoner.poison(input, budget, rng)?;
    if flips.len() != budget || flips.n() != n {
        return Err(AttackError::BudgetNotMet { poisoner: poisoner.name(), got: flips.len(), budget });
    }
    Ok(flips)
}
