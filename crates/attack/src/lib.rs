//! floral-attack: attackers that flip training labels.
//!
//! In-game attackers (implement [`floral_game::Attacker`]; they read the budget k, the model's
//! decision values and a fork handle on the learner from [`floral_game::RoundView`]):
//! - [`RandomTopK`]: FLORAL's randomized top-k attacker (docs/method.md §3).
//! - [`NoAttack`]: never flips (plain projected gradient descent).
//! - [`ConfusableTopK`]: multi-class FLORAL's attacker ([`floral_game::MulticlassAttacker`]): k
//!   relabels among the top-B points by λ in their own class's problem, each to the most
//!   confusable class.
//! - [`ZeroSum`]: the zero-sum minimax attacker (the paper's Eq. 3): the k largest clean
//!   margins (hinge loss) or the greedy dual-objective increase.
//! - [`LookAhead`]: the adaptive look-ahead attacker: forks the learner, simulates h steps per
//!   candidate set (singles, greedy or beam search) and plays the most damaging set.
//! - [`RelaxedLookAhead`]: its continuous relaxation (flip weights, gradient through the
//!   unrolled steps, L-BFGS via argmin), rounded to k flips.
//!
//! Offline poisoners (implement [`Poisoner`]; [`poison_exact`] enforces the exact budget):
//! - [`RandomFlips`]: `budget` labels uniformly at random.
//! - [`LabelSheet`]: a fixed poisoned labelling (e.g. the authors' released sheets).
//! - [`MarginFlips`]: far-first or nearest-first by the margin y_i f(x_i) of a clean SVM.
//! - [`TopLambdaFlips`]: the `budget` largest dual weights λ_i of a clean SVM.
//! - [`Alfa`]: ALFA (Xiao et al. 2012), alternating LP and QP solved with Clarabel.
//! - [`AlfaTilt`]: ALFA-tilt (Xiao et al. 2015), the most damaging of N scored trials.
//! - Multi-class: [`random_relabels`] (uniform new class) and [`targeted_relabels`]
//!   (source → target class pairs), exact budget.
//! - [`Lfa`]: greedy label flips maximising validation error, warm-started SMO retrains.
//! - [`LookAheadPoisoner`]: defence-aware: the look-ahead search against the defender's own
//!   learner dynamics (e.g. FLORAL's), flips accumulated to the budget.
//! - [`KnnAwareFlips`]: defence-aware against kNN label sanitisation: flips whose neighbours
//!   mostly share the flipped label, so the relabelling keeps them.
//!
//! Adding one: a file here, a `mod`/`pub use` line below, a line in `tests/conformance.rs`,
//! and one arm in the experiment crate's registry (see CONTRIBUTING.md).
//!
//! ```
//! use floral_attack::{RandomTopK, RandomTopKParams};
//! let a = RandomTopK::new(RandomTopKParams { k: 2, pool: None, sv_threshold: 1e-5 }).unwrap();
//! assert_eq!(a.pool(2), 4);
//! ```

mod alfa;
mod alfa_tilt;
mod error;
mod knn_aware;
mod label_sheet;
mod lfa;
mod lookahead;
mod lookahead_poisoner;
mod margin_flips;
mod model_common;
mod multiclass;
mod no_attack;
mod poisoner;
mod random_flips;
mod random_top_k;
mod relaxation;
mod top_lambda;
mod zero_sum;

pub use alfa::{Alfa, AlfaParams};
pub use alfa_tilt::{AlfaTilt, AlfaTiltParams};
pub use error::AttackError;
pub use knn_aware::{KnnAwareFlips, KnnAwareFlipsParams, knn_indices};
pub use label_sheet::LabelSheet;
pub use lfa::{Lfa, LfaLoss, LfaParams};
pub use lookahead::{
    EvalSet, LookAhead, LookAheadObjective, LookAheadParams, LookAheadScore, LookAheadSearch, SearchConfig,
    SearchResult, candidates, cross_matvec, objective_value, score_flips, search_flips,
};
pub use lookahead_poisoner::{AttackerData, LearnerFactory, LookAheadPoisonParams, LookAheadPoisoner};
pub use margin_flips::{MarginFlips, MarginFlipsParams, MarginOrder};
pub use multiclass::{ConfusableTopK, ConfusableTopKParams, NewClass, random_relabels, targeted_relabels};
pub use no_attack::NoAttack;
pub use poisoner::{PoisonInput, Poisoner, poison_exact};
pub use random_flips::RandomFlips;
pub use random_top_k::{RandomTopK, RandomTopKParams};
pub use relaxation::{RelaxedLookAhead, RelaxedLookAheadParams, Unrolled};
pub use top_lambda::{TopLambdaFlips, TopLambdaFlipsParams};
pub use zero_sum::{ZeroSum, ZeroSumObjective, ZeroSumParams, dual_increase, top_margins};
