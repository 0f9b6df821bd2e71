//! [`Smo`]: LIBSVM's sequential minimal optimisation for the kernel-SVM dual
//!
//! ```text
//! min ½λᵀQ̃λ − 1ᵀλ   s.t.  0 ≤ λ_i ≤ C_i,  ỹᵀλ = 0      (docs/method.md §2)
//! ```
//!
//! with the second-order working-set selection of Fan, Chen and Lin (2005, "WSS2"), τ = 1e-12
//! for non-PSD pairs, per-point bounds C_i, warm starts, optional shrinking (LIBSVM's rule with
//! the gradient reconstruction before the final check) and an LRU kernel-row cache.

mod qmatrix;
mod solver;

use faer::{Col, ColRef, MatRef};
use floral_data::{Dataset, Labels};
use serde::{Deserialize, Serialize};

use crate::{Bounds, Dual, Gram, Kernel, SignedGram, SvmError, SvmModel};
use qmatrix::{CachedQ, DenseSource, KernelSource, RowSource};
use solver::{SolverOutput, SolverSettings};

/// Bytes in one MB as used by the memory parameters (MiB, as LIBSVM's `-m`).
const MB: f64 = 1024.0 * 1024.0;

/// How an iterative solver stopped. A status, not an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Termination {
    /// The stopping rule held: m(λ) − M(λ) ≤ eps (the maximal violating pair gap).
    Converged,
    /// The iteration limit was reached first.
    MaxIters,
}

impl Termination {
    /// "converged" or "max_iters".
    pub fn as_str(&self) -> &'static str {
        match self {
            Termination::Converged => "converged",
            Termination::MaxIters => "max_iters",
        }
    }
}

impl std::fmt::Display for Termination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parameters of [`Smo`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmoParams {
    /// Stopping tolerance on m(λ) − M(λ), the maximal KKT violation (LIBSVM's `-e`).
    /// Finite, > 0. Default 1e-3.
    pub eps: f64,
    /// Iteration limit. Default `None`: max(10,000,000, 100·n), as LIBSVM. If given, ≥ 1.
    pub max_iter: Option<usize>,
    /// LIBSVM's shrinking heuristic (`-h 1`). Default true.
    pub shrinking: bool,
    /// Kernel-row cache in MB (2^20 bytes of f64), at least two rows are always kept.
    /// Finite, ≥ 0. Default 200.
    pub cache_mb: f64,
    /// [`Smo::fit`] builds the dense n×n Gram matrix when n²·8 bytes ≤ `dense_limit_mb` MB
    /// (and d ≥ `dense_min_dim`), and otherwise computes kernel rows on demand through the LRU
    /// cache. Finite, ≥ 0. Default 1024 (n ≤ 11,585).
    pub dense_limit_mb: f64,
    /// [`Smo::fit`] uses the dense Gram only for data with at least this many features. SMO
    /// touches only a few kernel rows per support vector, so for narrow data computing rows on
    /// demand is cheaper than the whole Gram; the dense Gram's matmul pays off for wide data.
    /// Measured (release, 2 threads): two-moons d = 2, n = 1,000 / 4,000: rows 2.3 / 45 ms vs
    /// dense 4.5 / 134 ms; breast cancer d = 30, n = 398: rows ≈ 1 ms vs dense ≈ 4 ms; MNIST
    /// 1-vs-7 d = 784, n = 700: rows ≈ 50 ms vs dense ≈ 20 ms; parity around d ≈ 200–500.
    /// 0 leaves the choice to `dense_limit_mb` alone. Default 256.
    pub dense_min_dim: usize,
    /// Tolerance for accepting a warm start: |ỹᵀλ| ≤ feas_tol·max(1, ‖λ‖₁), and
    /// −feas_tol·max(1, C_i) ≤ λ_i ≤ C_i(1 + feas_tol) (entries within it are clipped to the
    /// box). Finite, ≥ 0. Default 1e-9.
    pub feas_tol: f64,
}

impl Default for SmoParams {
    fn default() -> Self {
        Self {
            eps: 1e-3,
            max_iter: None,
            shrinking: true,
            cache_mb: 200.0,
            dense_limit_mb: 1024.0,
            dense_min_dim: 256,
            feas_tol: 1e-9,
        }
    }
}

/// The solution of the dual returned by [`Smo::solve`].
#[derive(Debug, Clone, PartialEq)]
pub struct DualSolution {
    /// λ, length n, with 0 ≤ λ_i ≤ C_i.
    pub lambda: Col<f64>,
    /// Bias b = −ρ by LIBSVM's rule ([`crate::BiasRule::FreeSupportVectors`]).
    pub bias: f64,
    /// Dual objective ½λᵀQ̃λ − 1ᵀλ (LIBSVM's `obj`).
    pub objective: f64,
    /// Why the solver stopped.
    pub status: Termination,
    /// SMO iterations (pair updates) taken.
    pub iterations: usize,
}

/// A solver for the dual min ½λᵀQ̃λ − 1ᵀλ s.t. 0 ≤ λ ≤ C, ỹᵀλ = 0 (ARCHITECTURE.md).
pub trait DualSolver: std::fmt::Debug {
    /// A short name ("smo").
    fn name(&self) -> &'static str;

    /// Solve `dual` from λ = 0 or a feasible warm start.
    ///
    /// # Errors
    /// Bad bounds, an infeasible warm start, or non-finite numbers (solver specific).
    fn solve_dual(&mut self, dual: &Dual<'_>, warm: Option<ColRef<'_, f64>>) -> Result<DualSolution, SvmError>;
}

impl DualSolver for Smo {
    fn name(&self) -> &'static str {
        "smo"
    }

    /// [`Smo::solve`] on the dual's signed Gram matrix and bounds.
    fn solve_dual(&mut self, dual: &Dual<'_>, warm: Option<ColRef<'_, f64>>) -> Result<DualSolution, SvmError> {
        self.solve(dual.signed_gram(), dual.bounds(), warm)
    }
}

/// LIBSVM's SMO solver (WSS2, shrinking, LRU row cache, per-point bounds, warm starts).
#[derive(Debug, Clone)]
pub struct Smo {
    params: SmoParams,
}

fn invalid(field: &'static str, expected: &'static str, got: String) -> SvmError {
    SvmError::InvalidParam { field, expected, got }
}

impl Smo {
    /// Validate the parameters.
    ///
    /// # Errors
    /// [`SvmError::InvalidParam`] naming the field: eps not finite and > 0, max_iter = 0,
    /// cache_mb, dense_limit_mb or feas_tol negative or not finite.
    pub fn new(params: SmoParams) -> Result<Smo, SvmError> {
        if !(params.eps.is_finite() && params.eps > 0.0) {
            return Err(invalid("eps", "a finite number > 0", params.eps.to_string()));
        }
        if params.max_iter == Some(0) {
            return Err(invalid("max_iter", "an integer ≥ 1", "0".into()));
        }
        for (field, v) in
            [("cache_mb", params.cache_mb), ("dense_limit_mb", params.dense_limit_mb), ("feas_tol", params.feas_tol)]
        {
            if !(v.is_finite() && v >= 0.0) {
                return Err(invalid(field, "a finite number ≥ 0", v.to_string()));
            }
        }
        Ok(Smo { params })
    }

    /// The parameters.
    pub fn params(&self) -> &SmoParams {
        &self.params
    }

    fn settings(&self, n: usize) -> SolverSettings {
        SolverSettings {
            eps: self.params.eps,
            max_iter: self.params.max_iter.unwrap_or_else(|| 10_000_000usize.max(n.saturating_mul(100))),
            shrinking: self.params.shrinking,
        }
    }

    fn cache_entries(&self) -> usize {
        // Saturating float-to-int conversion; the cache keeps at least two rows anyway.
        (self.params.cache_mb * MB / 8.0) as usize
    }

    /// Solve min ½λᵀQ̃λ − 1ᵀλ s.t. 0 ≤ λ_i ≤ C_i, ỹᵀλ = 0 over the dense Q̃ of `q`, from λ = 0 or
    /// from a feasible warm start.
    ///
    /// # Errors
    /// [`SvmError::InvalidParam`] / [`SvmError::DimensionMismatch`] for bad bounds,
    /// [`SvmError::InfeasibleWarmStart`] or [`SvmError::NonFinite`] for a bad warm start,
    /// [`SvmError::NonFinite`] for a non-finite kernel diagonal or solution.
    pub fn solve(
        &mut self,
        q: &SignedGram,
        bounds: Bounds<'_>,
        warm: Option<ColRef<'_, f64>>,
    ) -> Result<DualSolution, SvmError> {
        let n = q.n();
        let c = bounds_vec(bounds, n)?;
        let y = q.labels().as_slice();
        let alpha = start_point(warm, y, &c, self.params.feas_tol)?;
        let src = DenseSource::new(q.k(), y.to_vec());
        self.run(src, y, &c, alpha)
    }

    /// Run the solver; a non-finite kernel diagonal, objective, bias or λ (e.g. a polynomial
    /// kernel overflowing) is reported as [`SvmError::NonFinite`].
    fn run<S: RowSource>(&self, src: S, y: &[f64], c: &[f64], alpha: Vec<f64>) -> Result<DualSolution, SvmError> {
        let n = src.n();
        if let Some(i) = (0..n).find(|&i| !src.diag(i).is_finite()) {
            return Err(SvmError::NonFinite { what: "kernel diagonal k(x_i, x_i)", index: i, value: src.diag(i) });
        }
        let settings = self.settings(n);
        let cq = CachedQ::new(src, self.cache_entries());
        let SolverOutput { alpha, rho, obj, iters, status } = solver::solve(cq, y, c, alpha, &settings);
        if let Some(i) = alpha.iter().position(|a| !a.is_finite()) {
            return Err(SvmError::NonFinite { what: "solution λ", index: i, value: alpha[i] });
        }
        for (what, v) in [("dual objective", obj), ("bias", rho)] {
            if !v.is_finite() {
                return Err(SvmError::NonFinite { what, index: 0, value: v });
            }
        }
        Ok(DualSolution {
            lambda: Col::from_fn(n, |i| alpha[i]),
            bias: if rho == 0.0 { 0.0 } else { -rho },
            objective: obj,
            status,
            iterations: iters,
        })
    }

    /// Solve the dual of the sub-problem on the points `idx` of a shared kernel matrix K:
    /// min ½λᵀQ̃λ − 1ᵀλ s.t. 0 ≤ λ_t ≤ C_t, ỹᵀλ = 0 with Q̃_st = ỹ_s ỹ_t K_{idx[s], idx[t]}
    /// (position t of λ, `y` and the bounds is point `idx[t]`). Entries are read from K in
    /// place: the sub-matrix is never copied (one-vs-one multi-class training).
    ///
    /// # Errors
    /// [`SvmError::DimensionMismatch`] when `y` and `idx` differ in length or K is not square;
    /// [`SvmError::InvalidParam`] for an index out of range or an empty `idx`; as [`Smo::solve`].
    pub fn solve_subset(
        &mut self,
        k: MatRef<'_, f64>,
        idx: &[usize],
        y: &Labels,
        bounds: Bounds<'_>,
    ) -> Result<DualSolution, SvmError> {
        let n = idx.len();
        if y.len() != n {
            return Err(SvmError::DimensionMismatch { what: "labels vs subset size", expected: n, got: y.len() });
        }
        if k.nrows() != k.ncols() {
            return Err(SvmError::DimensionMismatch {
                what: "kernel matrix columns vs rows",
                expected: k.nrows(),
                got: k.ncols(),
            });
        }
        if n == 0 {
            return Err(invalid("idx", "at least one point", "0 points".into()));
        }
        if let Some(&i) = idx.iter().find(|&&i| i >= k.nrows()) {
            return Err(invalid("idx", "indices below the kernel order", format!("{i} (order {})", k.nrows())));
        }
        let c = bounds_vec(bounds, n)?;
        let ys = y.as_slice();
        let alpha = start_point(None, ys, &c, self.params.feas_tol)?;
        let src = DenseSource::subset(k, idx, ys.to_vec());
        self.run(src, ys, &c, alpha)
    }

    /// Solve the dual of a training set from λ = 0 with uniform bound C and return the fitted
    /// model (support vectors λ_j > 0, LIBSVM's bias). The Gram matrix is dense when
    /// [`Smo::uses_dense_gram`], otherwise kernel rows are computed on demand.
    ///
    /// # Errors
    /// [`SvmError::InvalidParam`] for C not finite and > 0 or an empty training set;
    /// [`SvmError::NonFinite`] when the kernel overflows (non-finite diagonal or solution).
    pub fn fit(&mut self, kernel: &dyn Kernel, train: &Dataset, c: f64) -> Result<SvmModel, SvmError> {
        if !(c.is_finite() && c > 0.0) {
            return Err(invalid("c", "a finite number > 0", c.to_string()));
        }
        Ok(self.fit_bounded(kernel, train, Bounds::Uniform(c), None)?.0)
    }

    /// [`Smo::fit`] with per-point bounds C_i and an optional warm start; also returns the
    /// [`DualSolution`].
    ///
    /// # Errors
    /// As [`Smo::fit`] and [`Smo::solve`].
    pub fn fit_bounded(
        &mut self,
        kernel: &dyn Kernel,
        train: &Dataset,
        bounds: Bounds<'_>,
        warm: Option<ColRef<'_, f64>>,
    ) -> Result<(SvmModel, DualSolution), SvmError> {
        let n = train.n();
        if n == 0 {
            return Err(invalid("train", "a training set with at least one point", "0 points".into()));
        }
        let c = bounds_vec(bounds, n)?;
        let y = train.y().as_slice();
        let alpha = start_point(warm, y, &c, self.params.feas_tol)?;
        let sol = if self.uses_dense_gram(n, train.dim()) {
            let gram = Gram::new(kernel, train.x());
            let src = DenseSource::new(gram.as_ref(), y.to_vec());
            self.run(src, y, &c, alpha)?
        } else {
            let src = KernelSource::new(kernel, train.x(), y.to_vec());
            self.run(src, y, &c, alpha)?
        };
        let model = SvmModel::from_dual(kernel.clone_arc(), train.x(), train.y(), sol.lambda.as_ref(), sol.bias, 0.0)
            .with_bounds(bounds)?
            .with_solution_info(sol.objective, sol.status, sol.iterations);
        Ok((model, sol))
    }

    /// Whether [`Smo::fit`] builds the dense Gram for n points with d features:
    /// n²·8 bytes ≤ `dense_limit_mb` MB and d ≥ `dense_min_dim`.
    pub fn uses_dense_gram(&self, n: usize, d: usize) -> bool {
        (n as f64) * (n as f64) * 8.0 <= self.params.dense_limit_mb * MB && d >= self.params.dense_min_dim
    }

    /// Solve with the on-demand kernel-row path regardless of `dense_limit_mb` (for tests and
    /// benchmarks comparing the two storage schemes).
    ///
    /// # Errors
    /// As [`Smo::fit_bounded`].
    pub fn solve_kernel_rows(
        &mut self,
        kernel: &dyn Kernel,
        train: &Dataset,
        bounds: Bounds<'_>,
        warm: Option<ColRef<'_, f64>>,
    ) -> Result<DualSolution, SvmError> {
        let n = train.n();
        let c = bounds_vec(bounds, n)?;
        let y = train.y().as_slice();
        let alpha = start_point(warm, y, &c, self.params.feas_tol)?;
        let src = KernelSource::new(kernel, train.x(), y.to_vec());
        self.run(src, y, &c, alpha)
    }
}

/// The bounds as one C_i per point, validated: finite, ≥ 0, length n.
pub(crate) fn bounds_vec(bounds: Bounds<'_>, n: usize) -> Result<Vec<f64>, SvmError> {
    match bounds {
        Bounds::Uniform(c) => {
            if !(c.is_finite() && c >= 0.0) {
                return Err(invalid("c", "a finite number ≥ 0", c.to_string()));
            }
            Ok(vec![c; n])
        }
        Bounds::PerPoint(cs) => {
            if cs.len() != n {
                return Err(SvmError::DimensionMismatch {
                    what: "per-point bounds vs number of points",
                    expected: n,
                    got: cs.len(),
                });
            }
            if let Some((i, &v)) = cs.iter().enumerate().find(|&(_, &v)| !(v.is_finite() && v >= 0.0)) {
                return Err(SvmError::InvalidParam {
                    field: "c_i",
                    expected: "finite numbers ≥ 0",
                    got: format!("C_{i} = {v}"),
                });
            }
            Ok(cs.to_vec())
        }
    }
}

/// λ = 0, or the warm start checked for feasibility (entries within the tolerance of the box
/// are clipped into it).
fn start_point(warm: Option<ColRef<'_, f64>>, y: &[f64], c: &[f64], tol: f64) -> Result<Vec<f64>, SvmError> {
    let n = y.len();
    let Some(w) = warm else {
        return Ok(vec![0.0; n]);
    };
    if w.nrows() != n {
        return Err(SvmError::DimensionMismatch {
            what: "warm start length vs number of points",
            expected: n,
            got: w.nrows(),
        });
    }
    let mut a = Vec::with_capacity(n);
    let mut l1 = 0.0;
    for i in 0..n {
        let v = w[i];
        if !v.is_finite() {
            return Err(SvmError::NonFinite { what: "warm start λ", index: i, value: v });
        }
        let ci = c[i];
        if v < -tol * ci.max(1.0) || v > ci + tol * ci.max(1.0) {
            return Err(SvmError::InfeasibleWarmStart {
                reason: format!("λ_{i} = {v} is outside [0, C_{i}] = [0, {ci}]"),
            });
        }
        let v = v.clamp(0.0, ci);
        l1 += v;
        a.push(v);
    }
    let r: f64 = a.iter().zip(y).map(|(ai, yi)| ai * yi).sum();
    if r.abs() > tol * l1.max(1.0) {
        return Err(SvmError::InfeasibleWarmStart {
            reason: format!(
                "|ỹᵀλ| = {} exceeds the tolerance {} (feas_tol · max(1, ‖λ‖₁))",
                r.abs(),
                tol * l1.max(1.0)
            ),
        });
    }
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::Mat;
    use floral_data::Labels;

    #[test]
    fn params_validated() {
        assert!(Smo::new(SmoParams::default()).is_ok());
        for p in [
            SmoParams { eps: 0.0, ..SmoParams::default() },
            SmoParams { max_iter: Some(0), ..SmoParams::default() },
            SmoParams { cache_mb: -1.0, ..SmoParams::default() },
            SmoParams { dense_limit_mb: f64::NAN, ..SmoParams::default() },
        ] {
            assert!(matches!(Smo::new(p), Err(SvmError::InvalidParam { .. })));
        }
    }

    #[test]
    fn two_points_have_the_closed_form_solution() {
        // Linear kernel, x = ±1, y = ±1: K = [[1,-1],[-1,1]], Q̃ = [[1,1],[1,1]].
        // λ1 = λ2 = t, objective 2t² − 2t, minimum at t = 1/2 (inside C = 10), b = 0.
        let g = Gram::from_mat(Mat::from_fn(2, 2, |i, j| if i == j { 1.0 } else { -1.0 })).unwrap();
        let y = Labels::new(vec![1.0, -1.0]).unwrap();
        let q = SignedGram::new(g.clone(), &y).unwrap();
        let sol = Smo::new(SmoParams::default()).unwrap().solve(&q, Bounds::Uniform(10.0), None).unwrap();
        assert!((sol.lambda[0] - 0.5).abs() < 1e-12 && (sol.lambda[1] - 0.5).abs() < 1e-12);
        assert!((sol.objective + 0.5).abs() < 1e-12);
        assert!(sol.bias.abs() < 1e-12);
        assert_eq!(sol.status, Termination::Converged);
    }

    #[test]
    fn warm_start_checks() {
        let y = [1.0, -1.0];
        let c = [1.0, 1.0];
        let w = Col::from_fn(2, |_| 0.5);
        assert!(start_point(Some(w.as_ref()), &y, &c, 1e-9).is_ok());
        let w = Col::from_fn(2, |i| if i == 0 { 0.5 } else { 0.4 });
        assert!(matches!(start_point(Some(w.as_ref()), &y, &c, 1e-9), Err(SvmError::InfeasibleWarmStart { .. })));
        let w = Col::from_fn(2, |_| 1.5);
        assert!(matches!(start_point(Some(w.as_ref()), &y, &c, 1e-9), Err(SvmError::InfeasibleWarmStart { .. })));
        let w = Col::from_fn(2, |_| f64::NAN);
        assert!(matches!(start_point(Some(w.as_ref()), &y, &c, 1e-9), Err(SvmError::NonFinite { .. })));
        let w = Col::from_fn(2, |_| 1.0 + 1e-12);
        assert_eq!(start_point(Some(w.as_ref()), &y, &c, 1e-9).unwrap(), vec![1.0, 1.0]);
    }
}
