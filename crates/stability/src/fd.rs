//! [`FiniteDifference`]: the Jacobian of T by central differences through [`PgdMap::apply`], an
//! independent check of the analytic formula.

use faer::{Col, ColRef, Mat};
use floral_svm::PgdMap;
use serde::{Deserialize, Serialize};

use crate::analytic::{check_tol, full_jacobian_on, radius_from_mu};
use crate::linalg::spectral_radius;
use crate::report::decide;
use crate::{AnalyticJacobian, FdCheck, Linearization, StabilityAnalyzer, StabilityError, StabilityReport};

/// Parameters of [`FiniteDifference`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FiniteDifferenceParams {
    /// The central-difference step h. Finite, > 0. Default 1e-7. The differences are exact up
    /// to rounding (T is affine on each piece) when every margin exceeds about
    /// 2h·(1 + η max_j Σ_i |Q̃_ij|); the report's `min_margin` lets the caller check.
    pub h: f64,
    /// Tolerance of the verdict, as [`crate::AnalyticParams::tol`]. Finite, in [0, 1).
    /// Default 1e-9.
    pub tol: f64,
}

impl Default for FiniteDifferenceParams {
    fn default() -> Self {
        Self { h: 1e-7, tol: 1e-9 }
    }
}

/// The Jacobian of T at λ by central differences, column j = (T(λ + h e_j) − T(λ − h e_j))/(2h)
/// (2n evaluations of T through [`PgdMap::apply`], O(n³) in all: small problems only). Its
/// spectral radius max_j |ν_j| comes from faer's general (non-symmetric) eigensolver, since this
/// Jacobian is not symmetric (rows outside the free set are zero, the F×(not F) block is not).
/// The report also gives the agreement max_ij |J_fd − DT(λ)| with the analytic n×n Jacobian
/// ([`AnalyticJacobian::full_jacobian`]) and the analytic spectral radius; the verdict uses the
/// finite-difference spectral radius.
#[derive(Debug, Clone, Copy)]
pub struct FiniteDifference {
    params: FiniteDifferenceParams,
}

impl FiniteDifference {
    /// The analyzer.
    ///
    /// # Errors
    /// [`StabilityError::InvalidParam`] naming `h` (not finite or ≤ 0) or `tol`.
    pub fn new(params: FiniteDifferenceParams) -> Result<Self, StabilityError> {
        if !(params.h.is_finite() && params.h > 0.0) {
            return Err(StabilityError::InvalidParam {
                field: "h",
                expected: "a finite number > 0",
                got: params.h.to_string(),
            });
        }
        check_tol(params.tol)?;
        Ok(Self { params })
    }

    /// The parameters.
    pub fn params(&self) -> &FiniteDifferenceParams {
        &self.params
    }

    /// The n×n central-difference Jacobian of T at `at`.
    ///
    /// # Errors
    /// [`StabilityError::DimensionMismatch`] for a point of the wrong length, the map's errors.
    pub fn jacobian(&self, map: &PgdMap<'_>, at: ColRef<'_, f64>) -> Result<Mat<f64>, StabilityError> {
        let n = map.n();
        if at.nrows() != n {
            return Err(StabilityError::DimensionMismatch {
                what: "point λ vs number of training points",
                expected: n,
                got: at.nrows(),
            });
        }
        let h = self.params.h;
        let mut jac = Mat::zeros(n, n);
        let mut x: Col<f64> = at.to_owned();
        for j in 0..n {
            let x0 = x[j];
            x[j] = x0 + h;
            let plus = map.apply(x.as_ref())?;
            x[j] = x0 - h;
            let minus = map.apply(x.as_ref())?;
            x[j] = x0;
            for i in 0..n {
                jac[(i, j)] = (plus[i] - minus[i]) / (2.0 * h);
            }
        }
        Ok(jac)
    }
}

impl StabilityAnalyzer for FiniteDifference {
    fn name(&self) -> &'static str {
        "finite_difference"
    }

    fn analyze(&self, map: &PgdMap<'_>, at: ColRef<'_, f64>) -> Result<StabilityReport, StabilityError> {
        let lin = Linearization::new(map, at)?;
        let jac = self.jacobian(map, at)?;
        let analytic = full_jacobian_on(map, &lin.free);
        let mut max_abs_diff = 0.0_f64;
        for j in 0..jac.ncols() {
            for i in 0..jac.nrows() {
                max_abs_diff = max_abs_diff.max((jac[(i, j)] - analytic[(i, j)]).abs());
            }
        }
        let rho = spectral_radius(jac.as_ref(), "finite-difference Jacobian of T")?;
        let mu = AnalyticJacobian::projected_spectrum(map, &lin.free)?;
        let eta = map.eta();
        let mu_max = mu.last().copied().unwrap_or(0.0).max(0.0);
        let verdict = decide(lin.free.len(), lin.min_margin, lin.min_margin_index, lin.scale, rho, self.params.tol);
        Ok(StabilityReport {
            method: self.name(),
            n: map.n(),
            eta,
            free: lin.free.len(),
            at_lower: lin.at_lower,
            at_upper: lin.at_upper,
            lambda_max_k: None,
            eta_bound: None,
            mu_max,
            mu_min: mu.first().copied(),
            critical_eta: (mu_max > 0.0).then(|| 2.0 / mu_max),
            spectral_radius: rho,
            jacobian_eigenvalues: Vec::new(),
            min_margin: lin.min_margin,
            fixed_point_residual: lin.fixed_point_residual,
            fd: Some(FdCheck { h: self.params.h, max_abs_diff, analytic_spectral_radius: radius_from_mu(eta, &mu) }),
            verdict,
        })
    }
}
