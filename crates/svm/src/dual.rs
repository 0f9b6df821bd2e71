//! The kernel-SVM dual under the current labels (docs/method.md §2): [`Dual`] (objective, gradient,
//! KKT residuals, feasibility) and the bias rules [`BiasRule`] / [`bias`].
//!
//! ```text
//! D(λ; ỹ) = ½ λᵀQ̃λ − 1ᵀλ,  0 ≤ λ_i ≤ C_i,  ỹᵀλ = 0,  ∇D = Q̃λ − 1.
//! ```
//!
//! Index sets used below (LIBSVM's notation, g = Q̃λ − 1):
//! I_up(λ) = {i : ỹ_i = +1, λ_i < C_i} ∪ {i : ỹ_i = −1, λ_i > 0},
//! I_low(λ) = {i : ỹ_i = +1, λ_i > 0} ∪ {i : ỹ_i = −1, λ_i < C_i},
//! m(λ) = max_{i ∈ I_up} −ỹ_i g_i,  M(λ) = min_{i ∈ I_low} −ỹ_i g_i.
//! λ is optimal iff it is feasible and m(λ) ≤ M(λ).

use faer::prelude::ReborrowMut;
use faer::{Col, ColMut, ColRef};

use crate::smo::bounds_vec;
use crate::{Bounds, SignedGram, SvmError};

/// The dual problem over a [`SignedGram`] and box bounds.
#[derive(Debug, Clone, Copy)]
pub struct Dual<'a> {
    q: &'a SignedGram,
    bounds: Bounds<'a>,
}

impl<'a> Dual<'a> {
    /// The dual over Q̃ with bounds C_i.
    ///
    /// # Errors
    /// [`SvmError::InvalidParam`] for a bound that is negative or not finite,
    /// [`SvmError::DimensionMismatch`] for per-point bounds of the wrong length.
    pub fn new(q: &'a SignedGram, bounds: Bounds<'a>) -> Result<Self, SvmError> {
        bounds_vec(bounds, q.n())?;
        Ok(Self { q, bounds })
    }

    /// The signed Gram matrix.
    pub fn signed_gram(&self) -> &'a SignedGram {
        self.q
    }

    /// The bounds.
    pub fn bounds(&self) -> Bounds<'a> {
        self.bounds
    }

    /// Number of dual variables n.
    pub fn n(&self) -> usize {
        self.q.n()
    }

    fn c(&self, i: usize) -> f64 {
        self.bounds.upper(i)
    }

    /// D(λ) = ½λᵀQ̃λ − 1ᵀλ.
    ///
    /// # Panics
    /// If `lambda` does not have length n.
    pub fn objective(&self, lambda: ColRef<'_, f64>) -> f64 {
        let mut ql = Col::zeros(self.n());
        self.q.matvec_into(lambda, ql.as_mut());
        let mut s = 0.0;
        for i in 0..self.n() {
            s += lambda[i] * (0.5 * ql[i] - 1.0);
        }
        s
    }

    /// out = ∇D(λ) = Q̃λ − 1 (no allocation).
    ///
    /// # Panics
    /// If `lambda` or `out` does not have length n.
    pub fn gradient_into(&self, lambda: ColRef<'_, f64>, mut out: ColMut<'_, f64>) {
        self.q.matvec_into(lambda, out.rb_mut());
        for i in 0..self.n() {
            out[i] -= 1.0;
        }
    }

    /// The maximal KKT violation max(0, m(λ) − M(λ)) (see the module doc), LIBSVM's stopping
    /// quantity: SMO stops when it is ≤ eps. 0 when I_up or I_low is empty.
    ///
    /// # Panics
    /// If `lambda` does not have length n.
    pub fn kkt_violation(&self, lambda: ColRef<'_, f64>) -> f64 {
        let n = self.n();
        let mut g = Col::zeros(n);
        self.gradient_into(lambda, g.as_mut());
        let y = self.q.labels().as_slice();
        let mut m_up = f64::NEG_INFINITY;
        let mut m_low = f64::INFINITY;
        for i in 0..n {
            let (li, ci) = (lambda[i], self.c(i));
            let v = -y[i] * g[i];
            let (in_up, in_low) = if y[i] > 0.0 { (li < ci, li > 0.0) } else { (li > 0.0, li < ci) };
            if in_up {
                m_up = m_up.max(v);
            }
            if in_low {
                m_low = m_low.min(v);
            }
        }
        if m_up.is_finite() && m_low.is_finite() { (m_up - m_low).max(0.0) } else { 0.0 }
    }

    /// Per-constraint KKT residuals for a given bias b, with ỹ_i f_i = (Q̃λ)_i + ỹ_i b:
    /// r_i = max(0, 1 − ỹ_i f_i) if λ_i = 0, |ỹ_i f_i − 1| if 0 < λ_i < C_i,
    /// max(0, ỹ_i f_i − 1) if λ_i = C_i (λ outside the box counts as at the nearer bound).
    /// Writes r into `out` and returns max_i r_i (0 for n = 0).
    ///
    /// # Panics
    /// If `lambda` or `out` does not have length n.
    pub fn kkt_residuals_into(&self, lambda: ColRef<'_, f64>, b: f64, mut out: ColMut<'_, f64>) -> f64 {
        self.gradient_into(lambda, out.rb_mut());
        let y = self.q.labels().as_slice();
        let mut worst: f64 = 0.0;
        for i in 0..self.n() {
            // ỹ_i f_i − 1 = (Q̃λ)_i − 1 + ỹ_i b = g_i + ỹ_i b
            let m = out[i] + y[i] * b;
            let r = if lambda[i] <= 0.0 {
                (-m).max(0.0)
            } else if lambda[i] >= self.c(i) {
                m.max(0.0)
            } else {
                m.abs()
            };
            out[i] = r;
            worst = worst.max(r);
        }
        worst
    }

    /// max(|ỹᵀλ|, max_i max(0, −λ_i, λ_i − C_i)): how far λ is from the feasible set.
    ///
    /// # Panics
    /// If `lambda` does not have length n.
    pub fn feasibility_residual(&self, lambda: ColRef<'_, f64>) -> f64 {
        let y = self.q.labels().as_slice();
        let mut eq = 0.0;
        let mut worst: f64 = 0.0;
        for i in 0..self.n() {
            let li = lambda[i];
            eq += y[i] * li;
            worst = worst.max(-li).max(li - self.c(i));
        }
        worst.max(eq.abs())
    }
}

/// How the bias b of f(x) = Σ_j λ_j ỹ_j k(x_j, x) + b is computed from a dual point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BiasRule {
    /// LIBSVM's rule. With g = Q̃λ − 1 and the free set F = {i : 0 < λ_i < C_i}:
    /// b = −(1/|F|) Σ_{i∈F} ỹ_i g_i = (1/|F|) Σ_{i∈F} (ỹ_i − Σ_j λ_j ỹ_j K_ij).
    /// With no free variable, b = −(ub + lb)/2, the midpoint of the interval of biases that
    /// satisfy the KKT conditions, where ub = min{ỹ_i g_i : (λ_i = 0, ỹ_i = +1) or
    /// (λ_i = C_i, ỹ_i = −1)} and lb = max{ỹ_i g_i : (λ_i = 0, ỹ_i = −1) or (λ_i = C_i, ỹ_i = +1)};
    /// the finite end when the other is empty; 0 when both are. Points with C_i = 0 are ignored.
    FreeSupportVectors,
    /// The FLORAL reference code's rule: with S = {s : λ_s > threshold},
    /// b = (1/|S|) Σ_{s∈S} (ỹ_s − Σ_j λ_j ỹ_j K_sj), bounded support vectors included;
    /// b = 0 when S is empty. The reference threshold is 1e-5 ([`BiasRule::REFERENCE_THRESHOLD`]).
    AllSupportVectors {
        /// Support-vector threshold (λ_s > threshold).
        threshold: f64,
    },
}

impl BiasRule {
    /// The FLORAL reference code's support-vector threshold, 1e-5.
    pub const REFERENCE_THRESHOLD: f64 = 1e-5;

    /// `AllSupportVectors` with the reference threshold 1e-5.
    pub fn reference() -> Self {
        BiasRule::AllSupportVectors { threshold: Self::REFERENCE_THRESHOLD }
    }
}

/// The bias b for λ under `rule` (formulas at [`BiasRule`]).
///
/// # Panics
/// If `lambda` does not have length n, or per-point bounds have the wrong length.
pub fn bias(rule: BiasRule, q: &SignedGram, lambda: ColRef<'_, f64>, bounds: Bounds<'_>) -> f64 {
    let n = q.n();
    assert_eq!(lambda.nrows(), n, "bias: lambda length");
    let mut g = Col::zeros(n);
    q.matvec_into(lambda, g.as_mut());
    bias_from_q_lambda(rule, q.labels().as_slice(), lambda, g.as_ref(), bounds)
}

/// The bias b for λ under `rule` (formulas at [`BiasRule`]) when Q̃λ is already known:
/// `q_lambda` = Q̃λ for the labels `y`, so Σ_j λ_j ỹ_j K_sj = ỹ_s (Q̃λ)_s. Saves the O(n²)
/// product that [`bias`] computes.
///
/// # Panics
/// If `lambda`, `q_lambda` and `y` differ in length, or per-point bounds have the wrong length.
pub fn bias_from_q_lambda(
    rule: BiasRule,
    y: &[f64],
    lambda: ColRef<'_, f64>,
    q_lambda: ColRef<'_, f64>,
    bounds: Bounds<'_>,
) -> f64 {
    let n = y.len();
    assert_eq!(lambda.nrows(), n, "bias: lambda length");
    assert_eq!(q_lambda.nrows(), n, "bias: q_lambda length");
    let g = q_lambda;
    let b = match rule {
        BiasRule::AllSupportVectors { threshold } => {
            let mut sum = 0.0;
            let mut cnt = 0usize;
            for s in 0..n {
                if lambda[s] > threshold {
                    // ỹ_s − Σ_j λ_j ỹ_j K_sj = ỹ_s − ỹ_s (Q̃λ)_s
                    sum += y[s] - y[s] * g[s];
                    cnt += 1;
                }
            }
            if cnt == 0 { 0.0 } else { sum / cnt as f64 }
        }
        BiasRule::FreeSupportVectors => {
            let mut ub = f64::INFINITY;
            let mut lb = f64::NEG_INFINITY;
            let mut sum = 0.0;
            let mut cnt = 0usize;
            for i in 0..n {
                let ci = bounds.upper(i);
                if ci <= 0.0 {
                    continue;
                }
                let yg = y[i] * (g[i] - 1.0);
                let li = lambda[i];
                if li >= ci {
                    if y[i] < 0.0 { ub = ub.min(yg) } else { lb = lb.max(yg) }
                } else if li <= 0.0 {
                    if y[i] > 0.0 { ub = ub.min(yg) } else { lb = lb.max(yg) }
                } else {
                    sum += yg;
                    cnt += 1;
                }
            }
            let rho = if cnt > 0 {
                sum / cnt as f64
            } else {
                match (ub.is_finite(), lb.is_finite()) {
                    (true, true) => (ub + lb) / 2.0,
                    (true, false) => ub,
                    (false, true) => lb,
                    (false, false) => 0.0,
                }
            };
            -rho
        }
    };
    if b == 0.0 { 0.0 } else { b }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Gram;
    use faer::Mat;
    use floral_data::Labels;

    fn two_point() -> SignedGram {
        let g = Gram::from_mat(Mat::from_fn(2, 2, |i, j| if i == j { 1.0 } else { -1.0 })).unwrap();
        SignedGram::new(g.clone(), &Labels::new(vec![1.0, -1.0]).unwrap()).unwrap()
    }

    #[test]
    fn objective_gradient_and_kkt_on_closed_form() {
        let q = two_point();
        let d = Dual::new(&q, Bounds::Uniform(10.0)).unwrap();
        let opt = Col::from_fn(2, |_| 0.5);
        assert!((d.objective(opt.as_ref()) + 0.5).abs() < 1e-15);
        let mut g = Col::zeros(2);
        d.gradient_into(opt.as_ref(), g.as_mut());
        assert!(g[0].abs() < 1e-15 && g[1].abs() < 1e-15);
        assert_eq!(d.kkt_violation(opt.as_ref()), 0.0);
        let mut r = Col::zeros(2);
        assert!(d.kkt_residuals_into(opt.as_ref(), 0.0, r.as_mut()) < 1e-15);
        // λ = 0 is feasible but not optimal: m − M = max(1, 1) − min(−1·−1...) = 2.
        let zero = Col::zeros(2);
        assert!((d.kkt_violation(zero.as_ref()) - 2.0).abs() < 1e-15);
        let bad = Col::from_fn(2, |i| if i == 0 { 11.0 } else { 0.0 });
        assert!((d.feasibility_residual(bad.as_ref()) - 11.0).abs() < 1e-15);
    }

    #[test]
    fn bias_rules() {
        let q = two_point();
        let opt = Col::from_fn(2, |_| 0.5);
        assert!(bias(BiasRule::FreeSupportVectors, &q, opt.as_ref(), Bounds::Uniform(10.0)).abs() < 1e-15);
        assert!(bias(BiasRule::reference(), &q, opt.as_ref(), Bounds::Uniform(10.0)).abs() < 1e-15);
        let zero = Col::zeros(2);
        assert_eq!(bias(BiasRule::reference(), &q, zero.as_ref(), Bounds::Uniform(10.0)), 0.0);
        // λ = 0: g = −1; ub = ỹ_0 g_0 = −1 (λ=0, ỹ=+1), lb = ỹ_1 g_1 = 1 (λ=0, ỹ=−1): b = 0.
        assert_eq!(bias(BiasRule::FreeSupportVectors, &q, zero.as_ref(), Bounds::Uniform(10.0)), 0.0);
        assert!(Dual::new(&q, Bounds::PerPoint(&[1.0])).is_err());
        assert!(Dual::new(&q, Bounds::Uniform(-1.0)).is_err());
    }
}
