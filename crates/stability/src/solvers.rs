//! The Jacobians of the other game solvers' updates with the labels held fixed
//! (`proofs/stability.md` (h)–(j)): extragradient, a map of λ, and optimistic gradient (OGDA),
//! a map of the pair (λ_t, λ_{t−1}).
//!
//! Notation as in [`crate::AnalyticJacobian`]: T(λ) = Π(λ − η(Q̃λ − 1)), F a free set, m = |F|,
//! P = I − ỹ_Fỹ_Fᵀ/m, μ_j the m − 1 eigenvalues of PQ̃_FFP on range(P), x_j = ημ_j, and
//! A_F = E_F P E_Fᵀ (the derivative of the projection while its active sets do not change).
//!
//! | solver | eigenvalues on range(P) | stable iff | critical step |
//! |---|---|---|---|
//! | PGD (T) | 1 − x_j | 0 < x_j < 2 | 2/μ_max |
//! | extragradient | 1 − x_j + x_j² | 0 < x_j < 1 | 1/μ_max |
//! | optimistic | ((1 − 2x_j) ± √(1 + 4x_j²))/2 | 0 < x_j < 2/3 | 2/(3μ_max) |
//!
//! With fixed labels the learner's problem is a minimisation with a symmetric Jacobian (real
//! eigenvalues): the stabilisers of min-max games, which damp the rotation of a skew part, buy
//! nothing here and shrink the stable range of η (by 2 and 3).

use faer::linalg::matmul::matmul;
use faer::{Accum, Col, ColRef, Mat, Par};
use floral_svm::PgdMap;

use crate::analytic::{check_tol, full_jacobian_on};
use crate::linalg::spectral_radius;
use crate::report::decide;
use crate::{AnalyticJacobian, AnalyticParams, Linearization, StabilityAnalyzer, StabilityError, StabilityReport};

/// Row i ∈ F of the result is (M_{i,:} − ỹ_i (1/m)Σ_{k∈F} ỹ_k M_{k,:}); rows outside F are 0:
/// the product A_F M = E_F P E_Fᵀ M.
fn project_rows(map: &PgdMap<'_>, free: &[usize], m: &Mat<f64>) -> Mat<f64> {
    let ys = map.signed_gram().labels().as_slice();
    let mut out = Mat::zeros(m.nrows(), m.ncols());
    if free.is_empty() {
        return out;
    }
    let inv = 1.0 / free.len() as f64;
    for j in 0..m.ncols() {
        let mean: f64 = free.iter().map(|&k| ys[k] * m[(k, j)]).sum::<f64>() * inv;
        for &i in free {
            out[(i, j)] = m[(i, j)] - ys[i] * mean;
        }
    }
    out
}

fn dense_q(map: &PgdMap<'_>) -> Mat<f64> {
    map.signed_gram().to_dense()
}

/// Central differences of `f` at `x`, column j = (f(x + h e_j) − f(x − h e_j))/(2h).
fn central<F>(x: &Col<f64>, rows: usize, h: f64, mut f: F) -> Result<Mat<f64>, StabilityError>
where
    F: FnMut(&Col<f64>) -> Result<Col<f64>, StabilityError>,
{
    let n = x.nrows();
    let mut jac = Mat::zeros(rows, n);
    let mut y = x.clone();
    for j in 0..n {
        let x0 = y[j];
        y[j] = x0 + h;
        let plus = f(&y)?;
        y[j] = x0 - h;
        let minus = f(&y)?;
        y[j] = x0;
        for i in 0..rows {
            jac[(i, j)] = (plus[i] - minus[i]) / (2.0 * h);
        }
    }
    Ok(jac)
}

fn check_h(h: f64) -> Result<(), StabilityError> {
    if h.is_finite() && h > 0.0 {
        Ok(())
    } else {
        Err(StabilityError::InvalidParam { field: "h", expected: "a finite number > 0", got: h.to_string() })
    }
}

fn check_len(map: &PgdMap<'_>, at: ColRef<'_, f64>, what: &'static str) -> Result<(), StabilityError> {
    if at.nrows() == map.n() {
        Ok(())
    } else {
        Err(StabilityError::DimensionMismatch { what, expected: map.n(), got: at.nrows() })
    }
}

/// λ_max(K) and the solver's label-independent bound `factor`/λ_max(K), when asked for.
fn kernel_bound(
    map: &PgdMap<'_>,
    params: &AnalyticParams,
    factor: f64,
) -> Result<(Option<f64>, Option<f64>), StabilityError> {
    if params.kernel_bound {
        let l = map.signed_gram().gram().max_eigenvalue()?;
        Ok((Some(l), (l > 0.0).then(|| factor / l)))
    } else {
        Ok((None, None))
    }
}

/// The linearisation of the extragradient map with the labels held fixed,
///
/// ```text
/// λ̂ = T(λ),   T_EG(λ) = Π(λ − η(Q̃λ̂ − 1))      (floral_svm::PgdMap::extragradient).
/// ```
///
/// With F̂ the free set of λ̂ = T(λ) and F that of T_EG(λ), and both projections strictly
/// complementary, T_EG is affine near λ with the n×n Jacobian
///
/// ```text
/// DT_EG(λ) = A_F (I − ηQ̃ A_F̂ (I − ηQ̃)).
/// ```
///
/// When F̂ = F (always at a fixed point of T, where λ̂ = λ) its nonzero spectrum is that of
/// P − ηPQ̃_FF P(I − ηQ̃_FF) on range(P), which in an orthonormal basis V of range(P)
/// (B = VᵀQ̃_FFV, P = VVᵀ) is I − ηB + η²B²: eigenvalues 1 − x_j + x_j², x_j = ημ_j. Hence
/// ρ = max_j |1 − x_j + x_j²| ≥ 3/4, stable iff 0 < ημ_j < 1 for all j, critical step
/// 1/μ_max (half of PGD's 2/μ_max), and η < 1/λ_max(K) suffices for every labelling. When
/// F̂ ≠ F the spectral radius is that of the dense n×n Jacobian (general eigensolver, O(n³)) and
/// `jacobian_eigenvalues` is empty. The report's `min_margin` is the smaller of the two
/// projections' margins, its `fixed_point_residual` ‖T_EG(λ) − λ‖_∞, and `free`, `at_lower`,
/// `at_upper` refer to T_EG(λ).
#[derive(Debug, Clone, Copy)]
pub struct ExtragradientJacobian {
    params: AnalyticParams,
}

impl ExtragradientJacobian {
    /// The analyzer (`tol` and `kernel_bound` as for [`AnalyticJacobian`]).
    ///
    /// # Errors
    /// [`StabilityError::InvalidParam`] naming `tol`.
    pub fn new(params: AnalyticParams) -> Result<Self, StabilityError> {
        check_tol(params.tol)?;
        Ok(Self { params })
    }

    /// The eigenvalues 1 − x + x² (x = ημ) of the map on range(P) for the μ of PQ̃_FFP.
    pub fn eigenvalues_from_mu(eta: f64, mu: &[f64]) -> Vec<f64> {
        let mut v: Vec<f64> = mu.iter().map(|&m| 1.0 - eta * m + (eta * m) * (eta * m)).collect();
        v.sort_by(f64::total_cmp);
        v
    }

    /// The two linearisations: of T at λ (inner, image λ̂) and of the outer projection.
    fn linearize(map: &PgdMap<'_>, at: ColRef<'_, f64>) -> Result<(Linearization, Linearization), StabilityError> {
        let inner = Linearization::new(map, at)?;
        let n = map.n();
        let mut z = vec![0.0; n];
        let mut scratch = vec![0.0; n];
        map.signed_gram().matvec_with_scratch_into(
            inner.image.as_ref(),
            &mut scratch,
            faer::ColMut::from_slice_mut(&mut z),
        );
        let lambda: Vec<f64> = at.iter().copied().collect();
        map.gradient_step_in_place(&lambda, &mut z);
        let outer = Linearization::from_step(map, at, &z)?;
        Ok((inner, outer))
    }

    /// The n×n Jacobian DT_EG(λ) = A_F(I − ηQ̃ A_F̂(I − ηQ̃)) at `at` (dense, O(n³); for checks).
    ///
    /// # Errors
    /// As [`Linearization::new`].
    pub fn full_jacobian(map: &PgdMap<'_>, at: ColRef<'_, f64>) -> Result<Mat<f64>, StabilityError> {
        let (inner, outer) = Self::linearize(map, at)?;
        let n = map.n();
        let inner_jac = full_jacobian_on(map, &inner.free); // A_F̂ (I − ηQ̃)
        let q = dense_q(map);
        let mut m = Mat::<f64>::identity(n, n);
        matmul(m.as_mut(), Accum::Add, q.as_ref(), inner_jac.as_ref(), -map.eta(), Par::Seq);
        Ok(project_rows(map, &outer.free, &m))
    }

    /// The n×n central-difference Jacobian of T_EG at `at` through
    /// [`PgdMap::extragradient`] (4n map evaluations).
    ///
    /// # Errors
    /// [`StabilityError::InvalidParam`] naming `h`, a point of the wrong length, the map's errors.
    pub fn finite_difference(map: &PgdMap<'_>, at: ColRef<'_, f64>, h: f64) -> Result<Mat<f64>, StabilityError> {
        check_h(h)?;
        check_len(map, at, "point λ vs number of training points")?;
        central(&at.to_owned(), map.n(), h, |x| Ok(map.extragradient(x.as_ref())?))
    }
}

impl StabilityAnalyzer for ExtragradientJacobian {
    fn name(&self) -> &'static str {
        "extragradient"
    }

    fn analyze(&self, map: &PgdMap<'_>, at: ColRef<'_, f64>) -> Result<StabilityReport, StabilityError> {
        let (inner, outer) = Self::linearize(map, at)?;
        let eta = map.eta();
        let mu = AnalyticJacobian::projected_spectrum(map, &outer.free)?;
        let mu_max = mu.last().copied().unwrap_or(0.0).max(0.0);
        let (spectral_radius, jacobian_eigenvalues) = if inner.free == outer.free {
            let ev = Self::eigenvalues_from_mu(eta, &mu);
            (ev.iter().fold(0.0_f64, |r, v| r.max(v.abs())), ev)
        } else {
            let jac = Self::full_jacobian(map, at)?;
            (spectral_radius(jac.as_ref(), "extragradient Jacobian")?, Vec::new())
        };
        let (min_margin, min_index) = if inner.min_margin < outer.min_margin {
            (inner.min_margin, inner.min_margin_index)
        } else {
            (outer.min_margin, outer.min_margin_index)
        };
        let (lambda_max_k, eta_bound) = kernel_bound(map, &self.params, 1.0)?;
        let verdict = decide(outer.free.len(), min_margin, min_index, outer.scale, spectral_radius, self.params.tol);
        Ok(StabilityReport {
            method: self.name(),
            n: map.n(),
            eta,
            free: outer.free.len(),
            at_lower: outer.at_lower,
            at_upper: outer.at_upper,
            lambda_max_k,
            eta_bound,
            mu_max,
            mu_min: mu.first().copied(),
            critical_eta: (mu_max > 0.0).then(|| 1.0 / mu_max),
            spectral_radius,
            jacobian_eigenvalues,
            min_margin,
            fixed_point_residual: outer.fixed_point_residual,
            fd: None,
            verdict,
        })
    }
}

/// The linearisation of the optimistic-gradient (OGDA) iteration with the labels held fixed,
/// a map of the pair (λ, λ_prev) (λ = λ_t, λ_prev = λ_{t−1}):
///
/// ```text
/// Φ(λ, λ_prev) = (Π(λ − η(2g(λ) − g(λ_prev))), λ),   g(λ) = Q̃λ − 1   (floral_svm::PgdMap::optimistic).
/// ```
///
/// With F the free set of the projection and strict complementarity, Φ is affine near the pair
/// with the 2n×2n Jacobian [[A_F(I − 2ηQ̃), ηA_FQ̃], [I, 0]]. Its 2|F|-dimensional part on
/// F × F is [[P(I − 2ηQ̃_FF), ηPQ̃_FF], [I, 0]]; in the basis V of range(P) and the direction
/// u = ỹ_F/√m (which the projection removes: α' = 0, β' = α, two zero eigenvalues), the
/// 2(m − 1) block is [[I − 2ηB, ηB], [I, 0]], B = VᵀQ̃_FFV. Per eigenvalue μ of B, with
/// x = ημ, its eigenvalues solve ν² − (1 − 2x)ν − x = 0:
///
/// ```text
/// ν± = ((1 − 2x) ± √(1 + 4x²))/2     (always real).
/// ```
///
/// By the Jury (Schur–Cohn) conditions p(1) = x > 0, p(−1) = 2 − 3x > 0, |x| < 1, both lie in
/// the open unit disc iff 0 < x < 2/3: stable iff 0 < ημ_j < 2/3, critical step 2/(3μ_max) (a
/// third of PGD's), and η < 2/(3λ_max(K)) suffices for every labelling. All other eigenvalues of
/// the 2n×2n Jacobian are 0, so ρ = max_j max(|ν+|, |ν−|).
#[derive(Debug, Clone, Copy)]
pub struct OptimisticJacobian {
    params: AnalyticParams,
}

impl OptimisticJacobian {
    /// The analyzer (`tol` and `kernel_bound` as for [`AnalyticJacobian`]).
    ///
    /// # Errors
    /// [`StabilityError::InvalidParam`] naming `tol`.
    pub fn new(params: AnalyticParams) -> Result<Self, StabilityError> {
        check_tol(params.tol)?;
        Ok(Self { params })
    }

    /// The 2(m − 1) eigenvalues ν± = ((1 − 2x) ± √(1 + 4x²))/2 (x = ημ) of the pair map on
    /// range(P) × range(P), ascending.
    pub fn eigenvalues_from_mu(eta: f64, mu: &[f64]) -> Vec<f64> {
        let mut v = Vec::with_capacity(2 * mu.len());
        for &m in mu {
            let x = eta * m;
            let s = (1.0 + 4.0 * x * x).sqrt();
            v.push(0.5 * ((1.0 - 2.0 * x) + s));
            v.push(0.5 * ((1.0 - 2.0 * x) - s));
        }
        v.sort_by(f64::total_cmp);
        v
    }

    /// The step z = λ − η(2g(λ) − g(λ_prev)) and the linearisation of its projection.
    fn linearize(
        map: &PgdMap<'_>,
        at: ColRef<'_, f64>,
        prev: ColRef<'_, f64>,
    ) -> Result<Linearization, StabilityError> {
        check_len(map, at, "point λ vs number of training points")?;
        check_len(map, prev, "previous point λ_prev vs number of training points")?;
        if let Some(i) = (0..prev.nrows()).find(|&i| !prev[i].is_finite()) {
            return Err(StabilityError::NonFinite { what: "previous point λ_prev", index: i, value: prev[i] });
        }
        let n = map.n();
        let mut scratch = vec![0.0; n];
        let mut g_prev = vec![0.0; n];
        map.signed_gram().matvec_with_scratch_into(prev, &mut scratch, faer::ColMut::from_slice_mut(&mut g_prev));
        for g in &mut g_prev {
            *g -= 1.0;
        }
        let mut z = vec![0.0; n];
        map.signed_gram().matvec_with_scratch_into(at, &mut scratch, faer::ColMut::from_slice_mut(&mut z));
        let lambda: Vec<f64> = at.iter().copied().collect();
        map.optimistic_step_in_place(&lambda, &g_prev, &mut z);
        Linearization::from_step(map, at, &z)
    }

    /// The 2n×2n Jacobian [[A_F(I − 2ηQ̃), ηA_FQ̃], [I, 0]] of the pair map at (λ, λ_prev)
    /// (dense; for checks). Coordinates: λ first, then λ_prev.
    ///
    /// # Errors
    /// As [`Linearization::new`], for either point.
    pub fn full_jacobian(
        map: &PgdMap<'_>,
        at: ColRef<'_, f64>,
        prev: ColRef<'_, f64>,
    ) -> Result<Mat<f64>, StabilityError> {
        let lin = Self::linearize(map, at, prev)?;
        let n = map.n();
        let eta = map.eta();
        let q = dense_q(map);
        let left = Mat::from_fn(n, n, |i, j| f64::from(u8::from(i == j)) - 2.0 * eta * q[(i, j)]);
        let right = Mat::from_fn(n, n, |i, j| eta * q[(i, j)]);
        let (left, right) = (project_rows(map, &lin.free, &left), project_rows(map, &lin.free, &right));
        Ok(Mat::from_fn(2 * n, 2 * n, |i, j| match (i < n, j < n) {
            (true, true) => left[(i, j)],
            (true, false) => right[(i, j - n)],
            (false, true) => f64::from(u8::from(i - n == j)),
            (false, false) => 0.0,
        }))
    }

    /// The 2n×2n central-difference Jacobian of the pair map at (λ, λ_prev) through
    /// [`PgdMap::optimistic`].
    ///
    /// # Errors
    /// [`StabilityError::InvalidParam`] naming `h`, points of the wrong length, the map's errors.
    pub fn finite_difference(
        map: &PgdMap<'_>,
        at: ColRef<'_, f64>,
        prev: ColRef<'_, f64>,
        h: f64,
    ) -> Result<Mat<f64>, StabilityError> {
        check_h(h)?;
        check_len(map, at, "point λ vs number of training points")?;
        check_len(map, prev, "previous point λ_prev vs number of training points")?;
        let n = map.n();
        let pair = Col::from_fn(2 * n, |i| if i < n { at[i] } else { prev[i - n] });
        central(&pair, 2 * n, h, |x| {
            let (l, p) = (x.as_ref().subrows(0, n), x.as_ref().subrows(n, n));
            let next = map.optimistic(l, p)?;
            Ok(Col::from_fn(2 * n, |i| if i < n { next[i] } else { l[i - n] }))
        })
    }

    /// Analyse the pair map at (λ, λ_prev); [`StabilityAnalyzer::analyze`] is the fixed-point
    /// pair (λ, λ). `fixed_point_residual` is max(‖λ⁺ − λ‖_∞, ‖λ − λ_prev‖_∞).
    ///
    /// # Errors
    /// As [`Linearization::new`], for either point; an eigenvalue failure.
    pub fn analyze_pair(
        &self,
        map: &PgdMap<'_>,
        at: ColRef<'_, f64>,
        prev: ColRef<'_, f64>,
    ) -> Result<StabilityReport, StabilityError> {
        let lin = Self::linearize(map, at, prev)?;
        let eta = map.eta();
        let mu = AnalyticJacobian::projected_spectrum(map, &lin.free)?;
        let mu_max = mu.last().copied().unwrap_or(0.0).max(0.0);
        let ev = Self::eigenvalues_from_mu(eta, &mu);
        let spectral_radius = ev.iter().fold(0.0_f64, |r, v| r.max(v.abs()));
        let (lambda_max_k, eta_bound) = kernel_bound(map, &self.params, 2.0 / 3.0)?;
        let drift = (0..at.nrows()).map(|i| (at[i] - prev[i]).abs()).fold(0.0, f64::max);
        let verdict =
            decide(lin.free.len(), lin.min_margin, lin.min_margin_index, lin.scale, spectral_radius, self.params.tol);
        Ok(StabilityReport {
            method: "optimistic",
            n: map.n(),
            eta,
            free: lin.free.len(),
            at_lower: lin.at_lower,
            at_upper: lin.at_upper,
            lambda_max_k,
            eta_bound,
            mu_max,
            mu_min: mu.first().copied(),
            critical_eta: (mu_max > 0.0).then(|| 2.0 / (3.0 * mu_max)),
            spectral_radius,
            jacobian_eigenvalues: ev,
            min_margin: lin.min_margin,
            fixed_point_residual: lin.fixed_point_residual.max(drift),
            fd: None,
            verdict,
        })
    }
}

impl StabilityAnalyzer for OptimisticJacobian {
    fn name(&self) -> &'static str {
        "optimistic"
    }

    fn analyze(&self, map: &PgdMap<'_>, at: ColRef<'_, f64>) -> Result<StabilityReport, StabilityError> {
        self.analyze_pair(map, at, at)
    }
}
