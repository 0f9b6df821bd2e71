//! floral-stability: local stability of the learner's update T(λ) = Π_{S(ỹ)}(λ − η(Q̃λ − 1))
//! (docs/method.md §8; the argument and its checks are in `proofs/stability.md`).
//!
//! Near a point where the active sets of the projection do not change (strict
//! complementarity) and the labels are fixed, T is affine. On the free set F its Jacobian is
//!
//! ```text
//! J = P(I − ηQ̃_FF)P,   P = I − ỹ_F ỹ_Fᵀ/|F|,
//! ```
//!
//! with eigenvalues 1 − ημ_j on range(P), μ_j the eigenvalues of P Q̃_FF P there. A fixed point
//! is locally asymptotically stable when the spectral radius max_j |1 − ημ_j| is below 1, i.e.
//! 0 < η < 2/μ_max (and μ_min > 0); η < 2/λ_max(K) suffices for every labelling and free set.
//!
//! - [`StabilityAnalyzer`]: analyse the map at a point → [`StabilityReport`] with a [`Verdict`]
//!   (stable, unstable, or degenerate with a [`DegenerateReason`]; data, never a panic).
//! - [`AnalyticJacobian`]: the closed form above; one symmetric eigenvalue decomposition of
//!   order |F| − 1 ([`linalg::compressed_block`]), optionally λ_max(K).
//! - [`FiniteDifference`]: central differences through [`floral_svm::PgdMap::apply`], its
//!   spectral radius from the general eigensolver, and the agreement with the analytic Jacobian.
//! - [`StabilityMonitor`]: per-round monitoring of a trajectory (spectral radius every m rounds,
//!   divergence, cycling); the game's observer adapter is `floral_experiment::StabilityObserver`.
//! - [`Linearization`]: the free set of T(λ) and the strict-complementarity margins.
//! - [`ExtragradientJacobian`], [`OptimisticJacobian`]: the same analysis for the other game
//!   solvers' fixed-label maps (extragradient: eigenvalues 1 − ημ_j + (ημ_j)², critical step
//!   1/μ_max; optimistic gradient on the pair (λ_t, λ_{t−1}): ((1 − 2ημ_j) ± √(1 + 4η²μ_j²))/2,
//!   critical step 2/(3μ_max)), with dense and finite-difference Jacobians for checks.
//!
//! ```
//! use faer::{Col, Mat};
//! use floral_data::Labels;
//! use floral_projection::{Bounds, ExactProjector};
//! use floral_stability::{AnalyticJacobian, AnalyticParams, StabilityAnalyzer, Verdict};
//! use floral_svm::{Gram, PgdMap, Rbf, RbfParams, SignedGram, Smo, SmoParams};
//!
//! // Six points on a line, two classes; the exact SVM solution is a fixed point of T.
//! let x = Mat::from_fn(6, 1, |i, _| [0.0, 0.6, 1.1, 2.0, 2.4, 3.1][i]);
//! let y = Labels::new(vec![-1.0, -1.0, -1.0, 1.0, 1.0, 1.0]).unwrap();
//! let gram = Gram::new(&Rbf::new(RbfParams { gamma: 1.0 }).unwrap(), x.as_ref());
//! let q = SignedGram::new(gram, &y).unwrap();
//! let sol = Smo::new(SmoParams { eps: 1e-12, ..SmoParams::default() }).unwrap()
//!     .solve(&q, Bounds::Uniform(10.0), None).unwrap();
//! let projector = ExactProjector::default();
//! let analyzer = AnalyticJacobian::new(AnalyticParams::default()).unwrap();
//!
//! // Below the critical step the fixed point is stable, above it unstable.
//! let map = PgdMap::new(&q, 0.1, Bounds::Uniform(10.0), &projector).unwrap();
//! let report = analyzer.analyze(&map, sol.lambda.as_ref()).unwrap();
//! assert!(report.free >= 2 && report.fixed_point_residual < 1e-8);
//! let critical = report.critical_eta.unwrap();
//! assert!(critical >= report.eta_bound.unwrap()); // 2/μ_max ≥ 2/λ_max(K)
//! assert_eq!(report.verdict, Verdict::Stable);
//! let map = PgdMap::new(&q, 1.1 * critical, Bounds::Uniform(10.0), &projector).unwrap();
//! assert_eq!(analyzer.analyze(&map, sol.lambda.as_ref()).unwrap().verdict, Verdict::Unstable);
//! ```

#![warn(missing_docs)]

mod analytic;
mod error;
mod fd;
pub mod linalg;
mod monitor;
mod point;
mod report;
mod solvers;

use faer::ColRef;
use floral_svm::PgdMap;

pub use analytic::{AnalyticJacobian, AnalyticParams};
pub use error::StabilityError;
pub use fd::{FiniteDifference, FiniteDifferenceParams};
pub use monitor::{MonitorParams, MonitorSample, MonitorSummary, StabilityMonitor, Trajectory};
pub use point::Linearization;
pub use report::{AttackerLocality, DegenerateReason, FdCheck, StabilityReport, Verdict};
pub use solvers::{ExtragradientJacobian, OptimisticJacobian};

/// A local stability analysis of the learner's map T at a point.
pub trait StabilityAnalyzer {
    /// A short stable name ("analytic", "finite_difference").
    fn name(&self) -> &'static str;

    /// Linearise `map` at `at` (a fixed point of T, or any point: the free set is that of
    /// T(at); see [`Linearization`]) and report the spectrum and the verdict. Degenerate points
    /// are a verdict, not an error.
    ///
    /// # Errors
    /// [`StabilityError`] for a point of the wrong length or with non-finite entries, a failing
    /// projection, or an eigenvalue iteration that does not converge.
    fn analyze(&self, map: &PgdMap<'_>, at: ColRef<'_, f64>) -> Result<StabilityReport, StabilityError>;
}
