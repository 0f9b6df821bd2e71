//! floral-projection: Euclidean projection onto S(y) = {λ : 0 ≤ λ_i ≤ C_i, yᵀλ = 0}, the
//! feasible set of the kernel-SVM dual (docs/method.md §2, §5).
//!
//! Π(z) = argmin_{λ ∈ S(y)} ‖λ − z‖² = clip(z − μ*y, 0, C), with μ* a root of the
//! non-increasing piecewise-linear φ(μ) = Σ_i y_i clip(z_i − μ y_i, 0, C_i)
//! (derivations in `proofs/projection.md`).
//!
//! Implementations of [`Projector`]:
//! - [`ExactProjector`]: the exact root by safeguarded Newton with a selection fallback (default),
//!   median-of-breakpoints selection (O(n)) or sorting the breakpoints (O(n log n)),
//!   [`ExactMethod`]; feasible to rounding.
//! - [`FixedPointProjector`]: Algorithm 2 of the paper (the reference code's iterative
//!   projection), with an optional exact finish; reports its residual |yᵀλ| honestly.
//!
//! Bounds are one C for all points or a C_i per point ([`Bounds`]).
//!
//! ```
//! use faer::Col;
//! use floral_data::Labels;
//! use floral_projection::{Bounds, ExactProjector, Projector};
//!
//! let y = Labels::new(vec![1.0, 1.0, -1.0]).unwrap();
//! let z = Col::from_fn(3, |i| [0.9, 0.5, 0.2][i]);
//! let mut out = Col::<f64>::zeros(3);
//! let info = ExactProjector::default()
//!     .project_into(z.as_ref(), &y, Bounds::Uniform(1.0), out.as_mut())
//!     .unwrap();
//! // μ = 0.4: λ = clip((0.5, 0.1, 0.6), 0, 1), and yᵀλ = 0.5 + 0.1 − 0.6 = 0.
//! assert!((info.mu - 0.4).abs() < 1e-12);
//! assert!((out[0] - 0.5).abs() < 1e-12 && (out[2] - 0.6).abs() < 1e-12);
//! assert!(info.residual < 1e-12);
//! ```

mod common;
mod error;
mod exact;
mod fixed_point;
mod lanes;
mod projector;

pub use error::ProjError;
pub use exact::{ExactMethod, ExactParams, ExactProjector, ProjScratch};
pub use fixed_point::{FixedPointParams, FixedPointProjector};
pub use projector::{Bounds, ProjInfo, Projector};
