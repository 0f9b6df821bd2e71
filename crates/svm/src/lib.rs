//! floral-svm: kernels, Gram matrices, the signed Gram matrix with O(n) label flips, the
//! kernel-SVM dual and an exact SMO solver to the standard of LIBSVM.
//!
//! The problem (docs/method.md §2), for labels ỹ ∈ {±1}ⁿ and bounds C_i:
//!
//! ```text
//! min_λ ½ λᵀQ̃λ − 1ᵀλ   s.t. 0 ≤ λ_i ≤ C_i, ỹᵀλ = 0,   Q̃ = diag(ỹ) K diag(ỹ),
//! ```
//!
//! with decision function f(x) = Σ_j λ_j ỹ_j k(x_j, x) + b.
//!
//! Implementations:
//! - [`Kernel`]: [`Linear`] k = aᵀb, [`Rbf`] k = exp(−γ‖a−b‖²), [`Poly`] k = (γaᵀb + coef0)^degree;
//!   Gram blocks via faer matmul, parallel over fixed blocks (thread-count independent).
//! - [`Gram`]: K, checked square, finite and exactly symmetric; λ_max(K) for the stability bound
//!   η < 2/λ_max(K).
//! - [`SignedGram`]: Q̃ = diag(ỹ) K diag(ỹ) as a view (shared `Arc<Gram>` plus labels, never
//!   materialised): Q̃λ = ỹ ∘ K(ỹ ∘ λ); [`SignedGram::flip`] is O(1) and exact.
//! - [`PgdMap`]: the learner's update as a pure map T(λ) = Π_{S(ỹ)}(λ − η(Q̃λ − 1)), shared by
//!   the FLORAL learner, simulating attackers and stability analyses; [`BoxBounds`].
//! - [`Dual`]: objective, gradient Q̃λ − 1, LIBSVM's KKT gap m(λ) − M(λ), per-point residuals,
//!   feasibility; [`BiasRule`] and [`bias`] (LIBSVM's free-SV rule or the FLORAL reference rule).
//! - [`Smo`]: LIBSVM's SMO (WSS2 working-set selection, shrinking, LRU kernel-row cache,
//!   per-point bounds, warm starts), on a dense Q̃ ([`Smo::solve`]) or on a data set
//!   ([`Smo::fit`], dense Gram or kernel rows on demand). Status [`Termination`]. It implements
//!   [`DualSolver`] (solve a [`Dual`]).
//! - Multi-class on one shared Gram: [`fit_ovr`] / [`OvrModel`] (one-vs-rest, argmax of decision
//!   values) and [`fit_ovo`] / [`OvoModel`] (one-vs-one with LIBSVM's pair order and voting);
//!   [`Smo::solve_subset`] solves a pair in place on K; [`confusion`], [`multiclass_accuracy`].
//! - [`influence`]: the effect of flipping or removing each training point, by exact warm-started
//!   retraining, and a first-order estimate from the KKT system on the free set ([`FirstOrder`]).
//! - [`SvmModel`]: support vectors, coefficients λ_j ỹ_j, bias; decision values, predictions,
//!   accuracy.
//!
//! ```
//! use faer::Mat;
//! use floral_data::{Dataset, Labels};
//! use floral_svm::{Rbf, RbfParams, Smo, SmoParams};
//!
//! // Two clusters on a line.
//! let x = Mat::from_fn(6, 1, |i, _| if i < 3 { i as f64 } else { 10.0 + i as f64 });
//! let y = Labels::new(vec![-1.0, -1.0, -1.0, 1.0, 1.0, 1.0]).unwrap();
//! let train = Dataset::new(x, y).unwrap();
//! let kernel = Rbf::new(RbfParams { gamma: 0.1 }).unwrap();
//! let model = Smo::new(SmoParams::default()).unwrap().fit(&kernel, &train, 10.0).unwrap();
//! assert_eq!(model.accuracy(&train), 1.0);
//! assert!(model.n_sv() >= 2);
//! ```

#![warn(missing_docs)]

mod dual;
mod error;
mod gram;
mod influence;
mod kernel;
mod libsvm_model;
mod model;
mod multiclass;
mod pgd;
mod smo;

pub use dual::{BiasRule, Dual, bias, bias_from_q_lambda};
pub use error::SvmError;
pub use floral_projection::Bounds;
pub use gram::{Gram, MATVEC_ROWS, PAR_MATVEC_MIN, PowerEstimate, SignedGram, kernel_matvec_into};
pub use influence::{
    EvalLoss, FirstOrder, Influence, InfluenceParams, InfluenceSets, PointInfluence, cross_decision_values, influence,
    warm_start_without,
};
pub use kernel::{Kernel, LibsvmKernel, Linear, LinearParams, Poly, PolyParams, Rbf, RbfParams, gram_naive};
pub use model::SvmModel;
pub use multiclass::{
    MulticlassFitInfo, OvoModel, OvoPair, OvrModel, argmax_rows, confusion, cross_gram, fit_ovo, fit_ovr,
    multiclass_accuracy,
};
pub use pgd::{BoxBounds, PgdMap};
pub use smo::{DualSolution, DualSolver, Smo, SmoParams, Termination};
