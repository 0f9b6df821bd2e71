//! [`AnalyticJacobian`]: the Jacobian of T on the free set in closed form and its spectrum.

use faer::linalg::matmul::matmul;
use faer::{Accum, ColRef, Mat, Par};
use floral_svm::PgdMap;
use serde::{Deserialize, Serialize};

use crate::linalg::{compressed_block, symmetric_eigenvalues};
use crate::report::decide;
use crate::{Linearization, StabilityAnalyzer, StabilityError, StabilityReport};

/// Parameters of [`AnalyticJacobian`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalyticParams {
    /// Tolerance of the verdict: strict complementarity needs min margin > tol·max(1, max C_i),
    /// and |ρ − 1| ≤ tol is marginal. Finite, in [0, 1). Default 1e-9.
    pub tol: f64,
    /// Also compute λ_max(K) and the label-independent bound 2/λ_max(K) (one eigenvalue
    /// decomposition of the whole n×n kernel matrix). Default true.
    pub kernel_bound: bool,
}

impl Default for AnalyticParams {
    fn default() -> Self {
        Self { tol: 1e-9, kernel_bound: true }
    }
}

pub(crate) fn check_tol(tol: f64) -> Result<(), StabilityError> {
    if tol.is_finite() && (0.0..1.0).contains(&tol) {
        Ok(())
    } else {
        Err(StabilityError::InvalidParam { field: "tol", expected: "a finite number in [0, 1)", got: tol.to_string() })
    }
}

/// The analytic linearisation of T(λ) = Π_{S(ỹ)}(λ − η(Q̃λ − 1)) (docs/method.md §8,
/// `proofs/stability.md`).
///
/// At the given point λ (a fixed point of T, or any point), let F be the free set of T(λ)
/// ([`Linearization`]). While the active sets do not change, Π(z) = clip(z − μ(z)ỹ, 0, C) with
/// μ(z) = (Σ_F ỹ_i z_i + Σ_upper ỹ_i C_i)/|F|, so the full n×n Jacobian of T is
///
/// ```text
/// DT(λ) = E_F P E_Fᵀ (I − ηQ̃),   P = I − ỹ_F ỹ_Fᵀ/|F|
/// ```
///
/// (rows outside F are zero). Its eigenvalues are 0 together with those of
/// J = P(I − ηQ̃_FF)P on range(P), which are 1 − ημ_j for the eigenvalues μ_j of P Q̃_FF P on
/// range(P). They are computed by compressing Q̃_FF onto an orthonormal basis of range(P)
/// ([`compressed_block`]) and one symmetric eigenvalue decomposition of order |F| − 1 (faer,
/// sequential). Reported: μ_max, μ_min, the critical step 2/μ_max, the spectral radius
/// ρ = max_j |1 − ημ_j|, optionally λ_max(K) and 2/λ_max(K), and the verdict.
///
/// The point analysed is the given λ: the free set and the margins are those of T(λ), which
/// are the ones that determine the derivative of T at λ. At a fixed point T(λ) = λ; elsewhere
/// the report's `fixed_point_residual` says how far λ is from one.
#[derive(Debug, Clone, Copy)]
pub struct AnalyticJacobian {
    params: AnalyticParams,
}

impl AnalyticJacobian {
    /// The analyzer.
    ///
    /// # Errors
    /// [`StabilityError::InvalidParam`] naming `tol` when it is not finite or not in [0, 1).
    pub fn new(params: AnalyticParams) -> Result<Self, StabilityError> {
        check_tol(params.tol)?;
        Ok(Self { params })
    }

    /// The parameters.
    pub fn params(&self) -> &AnalyticParams {
        &self.params
    }

    /// J = P(I − ηQ̃_FF)P as a dense |F|×|F| matrix, J_ij = P_ij − η(PQ̃_FFP)_ij with
    /// P_ij = δ_ij − ỹ_i ỹ_j/|F| (for checks and small problems: O(|F|³)).
    ///
    /// # Panics
    /// If an index in `free` is out of range.
    pub fn free_block(map: &PgdMap<'_>, free: &[usize]) -> Mat<f64> {
        let m = free.len();
        let q = map.signed_gram();
        let eta = map.eta();
        let ys: Vec<f64> = free.iter().map(|&i| q.labels().get(i)).collect();
        let inv_m = if m > 0 { 1.0 / m as f64 } else { 0.0 };
        let p = Mat::from_fn(m, m, |i, j| f64::from(u8::from(i == j)) - ys[i] * ys[j] * inv_m);
        let a = Mat::from_fn(m, m, |i, j| f64::from(u8::from(i == j)) - eta * q.entry(free[i], free[j]));
        let mut pa = Mat::zeros(m, m);
        matmul(pa.as_mut(), Accum::Replace, p.as_ref(), a.as_ref(), 1.0, Par::Seq);
        let mut j = Mat::zeros(m, m);
        matmul(j.as_mut(), Accum::Replace, pa.as_ref(), p.as_ref(), 1.0, Par::Seq);
        j
    }

    /// The full n×n Jacobian DT(λ) = E_F P E_Fᵀ(I − ηQ̃) at `at`, with F the free set of T(λ):
    /// row i ∈ F is ((I − ηQ̃)_{i,:} − ỹ_i · (1/|F|)Σ_{k∈F} ỹ_k (I − ηQ̃)_{k,:}), rows outside F
    /// are zero. O(n·|F|) beyond the linearisation; for checks against finite differences.
    ///
    /// # Errors
    /// As [`Linearization::new`].
    pub fn full_jacobian(map: &PgdMap<'_>, at: ColRef<'_, f64>) -> Result<Mat<f64>, StabilityError> {
        let lin = Linearization::new(map, at)?;
        Ok(full_jacobian_on(map, &lin.free))
    }

    /// The spectrum of J on range(P) for free set `free`: the eigenvalues μ_j of P Q̃_FF P on
    /// range(P), ascending (|F| − 1 of them; none for |F| ≤ 1).
    ///
    /// # Errors
    /// [`StabilityError::Eigen`] if the eigenvalue iteration does not converge.
    pub fn projected_spectrum(map: &PgdMap<'_>, free: &[usize]) -> Result<Vec<f64>, StabilityError> {
        let b = compressed_block(map.signed_gram(), free);
        symmetric_eigenvalues(b.as_ref(), "compressed P Q̃_FF P")
    }
}

/// DT(λ) for a known free set (see [`AnalyticJacobian::full_jacobian`]).
pub(crate) fn full_jacobian_on(map: &PgdMap<'_>, free: &[usize]) -> Mat<f64> {
    let n = map.n();
    let q = map.signed_gram();
    let eta = map.eta();
    let ys = q.labels().as_slice();
    let m = free.len();
    let mut jac = Mat::zeros(n, n);
    if m == 0 {
        return jac;
    }
    let inv_m = 1.0 / m as f64;
    for j in 0..n {
        // a_i = (I − ηQ̃)_{ij} for i ∈ F, and the ỹ-weighted mean over F.
        let a = |i: usize| f64::from(u8::from(i == j)) - eta * q.entry(i, j);
        let mean: f64 = free.iter().map(|&k| ys[k] * a(k)).sum::<f64>() * inv_m;
        for &i in free {
            jac[(i, j)] = a(i) - ys[i] * mean;
        }
    }
    jac
}

/// ρ = max_j |1 − ημ_j| over the μ_j on range(P) (0 when there are none).
pub(crate) fn radius_from_mu(eta: f64, mu: &[f64]) -> f64 {
    mu.iter().map(|&m| (1.0 - eta * m).abs()).fold(0.0, f64::max)
}

impl StabilityAnalyzer for AnalyticJacobian {
    fn name(&self) -> &'static str {
        "analytic"
    }

    fn analyze(&self, map: &PgdMap<'_>, at: ColRef<'_, f64>) -> Result<StabilityReport, StabilityError> {
        let lin = Linearization::new(map, at)?;
        let mu = Self::projected_spectrum(map, &lin.free)?;
        let eta = map.eta();
        let mu_max = mu.last().copied().unwrap_or(0.0).max(0.0);
        let spectral_radius = radius_from_mu(eta, &mu);
        let mut jacobian_eigenvalues: Vec<f64> = mu.iter().map(|&m| 1.0 - eta * m).collect();
        jacobian_eigenvalues.sort_by(f64::total_cmp);
        let (lambda_max_k, eta_bound) = if self.params.kernel_bound {
            let l = map.signed_gram().gram().max_eigenvalue()?;
            (Some(l), (l > 0.0).then(|| 2.0 / l))
        } else {
            (None, None)
        };
        let verdict =
            decide(lin.free.len(), lin.min_margin, lin.min_margin_index, lin.scale, spectral_radius, self.params.tol);
        Ok(StabilityReport {
            method: self.name(),
            n: map.n(),
            eta,
            free: lin.free.len(),
            at_lower: lin.at_lower,
            at_upper: lin.at_upper,
            lambda_max_k,
            eta_bound,
            mu_max,
            mu_min: mu.first().copied(),
            critical_eta: (mu_max > 0.0).then(|| 2.0 / mu_max),
            spectral_radius,
            jacobian_eigenvalues,
            min_margin: lin.min_margin,
            fixed_point_residual: lin.fixed_point_residual,
            fd: None,
            verdict,
        })
    }
}
