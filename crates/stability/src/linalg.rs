//! Dense linear algebra the analyses share: symmetric and general eigenvalues (faer, `Par::Seq`
//! so results do not depend on the thread count) and the compression of Q̃_FF onto range(P).
#![allow(non_snake_case)]

use faer::diag::Diag;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::evd::{self, ComputeEigenvectors};
use faer::{Mat, MatRef, Par};
use floral_svm::SignedGram;

use crate::StabilityError;

/// All eigenvalues of the symmetric matrix `a` in nondecreasing order (faer's self-adjoint
/// eigensolver on the lower triangle, sequential). `what` names the matrix in errors.
///
/// # Errors
/// [`StabilityError::Eigen`] if the iteration does not converge, [`StabilityError::NonFinite`]
/// for a NaN or infinite entry in the lower triangle.
pub fn symmetric_eigenvalues(a: MatRef<'_, f64>, what: &'static str) -> Result<Vec<f64>, StabilityError> {
    let n = a.nrows();
    if a.ncols() != n {
        return Err(StabilityError::DimensionMismatch {
            what: "columns vs rows of a symmetric matrix",
            expected: n,
            got: a.ncols(),
        });
    }
    check_finite(a, what)?;
    if n == 0 {
        return Ok(Vec::new());
    }
    let par = Par::Seq;
    let mut s = Diag::<f64>::zeros(n);
    let mut buf =
        MemBuffer::new(evd::self_adjoint_evd_scratch::<f64>(n, ComputeEigenvectors::No, par, Default::default()));
    evd::self_adjoint_evd(a, s.as_mut(), None, par, MemStack::new(&mut buf), Default::default())
        .map_err(|_| StabilityError::Eigen { what, n })?;
    let mut v: Vec<f64> = s.column_vector().iter().copied().collect();
    v.sort_by(f64::total_cmp);
    Ok(v)
}

/// All eigenvalues of a general real square matrix as (real, imaginary) pairs (faer's real
/// Schur-based eigensolver, sequential), in the solver's order.
///
/// # Errors
/// [`StabilityError::Eigen`] if the iteration does not converge, [`StabilityError::NonFinite`]
/// for a NaN or infinite entry.
pub fn general_eigenvalues(a: MatRef<'_, f64>, what: &'static str) -> Result<Vec<(f64, f64)>, StabilityError> {
    let n = a.nrows();
    if a.ncols() != n {
        return Err(StabilityError::DimensionMismatch {
            what: "columns vs rows of a square matrix",
            expected: n,
            got: a.ncols(),
        });
    }
    for j in 0..n {
        for i in 0..n {
            let v = a[(i, j)];
            if !v.is_finite() {
                return Err(StabilityError::NonFinite { what, index: i * n + j, value: v });
            }
        }
    }
    if n == 0 {
        return Ok(Vec::new());
    }
    let par = Par::Seq;
    let mut re = Diag::<f64>::zeros(n);
    let mut im = Diag::<f64>::zeros(n);
    let mut buf = MemBuffer::new(evd::evd_scratch::<f64>(
        n,
        ComputeEigenvectors::No,
        ComputeEigenvectors::No,
        par,
        Default::default(),
    ));
    evd::evd_real(a, re.as_mut(), im.as_mut(), None, None, par, MemStack::new(&mut buf), Default::default())
        .map_err(|_| StabilityError::Eigen { what, n })?;
    Ok(re.column_vector().iter().zip(im.column_vector().iter()).map(|(&r, &i)| (r, i)).collect())
}

/// The spectral radius max_j |ν_j| = max_j √(Re ν_j² + Im ν_j²) of a general real square
/// matrix (0 for an empty matrix), from [`general_eigenvalues`].
///
/// # Errors
/// As [`general_eigenvalues`].
pub fn spectral_radius(a: MatRef<'_, f64>, what: &'static str) -> Result<f64, StabilityError> {
    Ok(general_eigenvalues(a, what)?.into_iter().map(|(r, i)| r.hypot(i)).fold(0.0, f64::max))
}

fn check_finite(a: MatRef<'_, f64>, what: &'static str) -> Result<(), StabilityError> {
    let n = a.nrows();
    for j in 0..a.ncols() {
        for i in j..n {
            let v = a[(i, j)];
            if !v.is_finite() {
                return Err(StabilityError::NonFinite { what, index: i * n + j, value: v });
            }
        }
    }
    Ok(())
}

/// The compression of Q̃_FF onto range(P), P = I − ỹ_F ỹ_Fᵀ/|F|: with u = ỹ_F/√|F| (a unit
/// vector since ỹ_i = ±1) and the Householder reflector H = I − β v vᵀ, v = u + sign(u_1) e_1,
/// β = 2/(vᵀv), which maps u to −sign(u_1) e_1, the columns 2..m of H are an orthonormal basis
/// V of u^⊥ = range(P), and
///
/// ```text
/// B = Vᵀ Q̃_FF V = (H Q̃_FF H)[2..m, 2..m],
/// H Q̃ H = Q̃ − β(v pᵀ + p vᵀ) + β² s v vᵀ,   p = Q̃v,  s = vᵀQ̃v,
/// ```
///
/// formed in O(m²) from the entries Q̃_ij = K_ij ỹ_i ỹ_j (i, j ∈ F). B is (m−1)×(m−1) and
/// bitwise symmetric; its eigenvalues are those of P Q̃_FF P on range(P) (P Q̃_FF P has one more
/// eigenvalue, 0, on u). Returns an empty matrix for m ≤ 1 (range(P) = {0}).
///
/// # Panics
/// If an index in `free` is out of range.
pub fn compressed_block(q: &SignedGram, free: &[usize]) -> Mat<f64> {
    let m = free.len();
    if m <= 1 {
        return Mat::zeros(0, 0);
    }
    let k = q.k();
    let ys = q.labels().as_slice();
    // Q̃_FF, column-major.
    let mut a = Mat::from_fn(m, m, |i, j| {
        let (fi, fj) = (free[i], free[j]);
        k[(fi, fj)] * (ys[fi] * ys[fj])
    });
    let inv_sqrt_m = 1.0 / (m as f64).sqrt();
    let mut v: Vec<f64> = free.iter().map(|&f| ys[f] * inv_sqrt_m).collect();
    let sign = if v[0] >= 0.0 { 1.0 } else { -1.0 };
    v[0] += sign;
    let vtv: f64 = v.iter().map(|x| x * x).sum();
    let beta = 2.0 / vtv;
    // p = Q̃v (Q̃ symmetric: accumulate column by column).
    let mut p = vec![0.0; m];
    for (j, &vj) in v.iter().enumerate() {
        let col = a.col(j);
        for (pi, i) in p.iter_mut().zip(0..m) {
            *pi += col[i] * vj;
        }
    }
    let s: f64 = v.iter().zip(&p).map(|(a, b)| a * b).sum();
    let b2s = beta * beta * s;
    for j in 0..m {
        for i in 0..m {
            let upd = beta * (v[i] * p[j] + p[i] * v[j]) - b2s * (v[i] * v[j]);
            a[(i, j)] -= upd;
        }
    }
    a.as_ref().submatrix(1, 1, m - 1, m - 1).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::Mat;
    use floral_data::Labels;
    use floral_svm::Gram;

    #[test]
    fn general_eigenvalues_of_a_rotation() {
        // [[0, −1], [1, 0]] has eigenvalues ±i.
        let a = Mat::from_fn(2, 2, |i, j| match (i, j) {
            (0, 1) => -1.0,
            (1, 0) => 1.0,
            _ => 0.0,
        });
        let ev = general_eigenvalues(a.as_ref(), "rotation").unwrap();
        assert_eq!(ev.len(), 2);
        for (re, im) in ev {
            assert!(re.abs() < 1e-14 && (im.abs() - 1.0).abs() < 1e-14);
        }
        assert!((spectral_radius(a.as_ref(), "rotation").unwrap() - 1.0).abs() < 1e-14);
    }

    #[test]
    fn compression_matches_p_q_p() {
        let n = 5;
        let k = Mat::from_fn(n, n, |i, j| (-0.3 * ((i as f64) - (j as f64)).powi(2)).exp());
        let y = Labels::new(vec![1.0, -1.0, -1.0, 1.0, 1.0]).unwrap();
        let q = SignedGram::new(Gram::from_mat(k).unwrap(), &y).unwrap();
        let free = [0, 1, 3, 4];
        let b = compressed_block(&q, &free);
        assert_eq!((b.nrows(), b.ncols()), (3, 3));
        // Eigenvalues of P Q̃_FF P built directly: B's plus one 0.
        let m = free.len();
        let yf: Vec<f64> = free.iter().map(|&i| y.get(i)).collect();
        let p = Mat::from_fn(m, m, |i, j| f64::from(u8::from(i == j)) - yf[i] * yf[j] / m as f64);
        let qff = Mat::from_fn(m, m, |i, j| q.entry(free[i], free[j]));
        let pqp = &p * &qff * &p;
        let mut direct = symmetric_eigenvalues(pqp.as_ref(), "PQP").unwrap();
        let mut comp = symmetric_eigenvalues(b.as_ref(), "B").unwrap();
        comp.push(0.0);
        comp.sort_by(f64::total_cmp);
        direct.sort_by(f64::total_cmp);
        for (a, b) in comp.iter().zip(&direct) {
            assert!((a - b).abs() < 1e-12, "{comp:?} vs {direct:?}");
        }
        assert!(compressed_block(&q, &[2]).nrows() == 0);
    }

    #[test]
    fn non_finite_and_non_square_are_errors() {
        let mut a = Mat::<f64>::identity(2, 2);
        a[(1, 0)] = f64::NAN;
        assert!(matches!(symmetric_eigenvalues(a.as_ref(), "x"), Err(StabilityError::NonFinite { index: 2, .. })));
        assert!(matches!(general_eigenvalues(a.as_ref(), "x"), Err(StabilityError::NonFinite { .. })));
        let b = Mat::<f64>::zeros(2, 3);
        assert!(matches!(symmetric_eigenvalues(b.as_ref(), "x"), Err(StabilityError::DimensionMismatch { .. })));
    }
}
