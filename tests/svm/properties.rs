//! Math invariants on random small problems (n ≤ 30): KKT at the SMO solution, feasibility,
//! warm starts, the O(n) flip against a rebuilt Q̃, Gram symmetry and PSD, the gradient against
//! central differences, and cached-rows SMO against dense SMO.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::sync::Arc;

use faer::{Col, Mat, MatMut, MatRef, RowRef};
use floral_data::{Dataset, Labels};
use floral_svm::{
    Bounds, Dual, Gram, Kernel, Poly, PolyParams, Rbf, RbfParams, SignedGram, Smo, SmoParams, Termination, gram_naive,
};
use proptest::prelude::*;

/// A random problem: features (n×d), labels, RBF γ, and bounds (uniform or per point).
#[derive(Debug, Clone)]
struct Problem {
    x: Mat<f64>,
    y: Labels,
    gamma: f64,
    c: Vec<f64>,
    uniform: bool,
}

fn problem() -> impl Strategy<Value = Problem> {
    (2usize..=30, 1usize..=3).prop_flat_map(|(n, d)| {
        (
            prop::collection::vec(-2.0f64..2.0, n * d),
            prop::collection::vec(any::<bool>(), n),
            0.1f64..3.0,
            prop::collection::vec(0.05f64..10.0, n),
            any::<bool>(),
        )
            .prop_map(move |(xs, ys, gamma, c, uniform)| {
                let c = if uniform { vec![c[0]; n] } else { c };
                Problem { x: Mat::from_fn(n, d, |i, j| xs[i * d + j]), y: Labels::from_signs(ys), gamma, c, uniform }
            })
    })
}

impl Problem {
    fn bounds(&self) -> Bounds<'_> {
        if self.uniform { Bounds::Uniform(self.c[0]) } else { Bounds::PerPoint(&self.c) }
    }
    fn kernel(&self) -> Rbf {
        Rbf::new(RbfParams { gamma: self.gamma }).unwrap()
    }
    fn signed_gram(&self) -> SignedGram {
        SignedGram::new(Gram::new(&self.kernel(), self.x.as_ref()), &self.y).unwrap()
    }
    fn dataset(&self) -> Dataset {
        Dataset::new(self.x.clone(), self.y.clone()).unwrap()
    }
}

fn smo(shrinking: bool) -> Smo {
    Smo::new(SmoParams { shrinking, ..SmoParams::default() }).unwrap()
}

/// RBF with a Gram computed entry by entry through `eval`, so dense Gram entries and on-demand
/// kernel rows are bitwise equal (the built-in RBF Gram uses the matmul identity instead).
#[derive(Debug, Clone, Copy)]
struct EvalRbf(Rbf);

impl Kernel for EvalRbf {
    fn name(&self) -> &'static str {
        "eval-rbf"
    }
    fn eval(&self, a: RowRef<'_, f64>, b: RowRef<'_, f64>) -> f64 {
        self.0.eval(a, b)
    }
    fn gram_into(&self, x: MatRef<'_, f64>, z: MatRef<'_, f64>, mut out: MatMut<'_, f64>) {
        out.copy_from(gram_naive(self, x, z));
    }
    fn clone_arc(&self) -> Arc<dyn Kernel> {
        Arc::new(*self)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn smo_solution_is_feasible_and_kkt(p in problem(), shrinking in any::<bool>()) {
        let q = p.signed_gram();
        let sol = smo(shrinking).solve(&q, p.bounds(), None).unwrap();
        prop_assert_eq!(sol.status, Termination::Converged);
        for i in 0..q.n() {
            prop_assert!(sol.lambda[i] >= 0.0 && sol.lambda[i] <= p.c[i], "λ_{} = {} outside [0, {}]", i, sol.lambda[i], p.c[i]);
        }
        let r: f64 = (0..q.n()).map(|i| p.y.get(i) * sol.lambda[i]).sum();
        prop_assert!(r.abs() <= 1e-10, "|ỹᵀλ| = {}", r.abs());
        let dual = Dual::new(&q, p.bounds()).unwrap();
        let gap = dual.kkt_violation(sol.lambda.as_ref());
        prop_assert!(gap <= 1e-3 + 1e-9, "KKT gap {}", gap);
        prop_assert!((dual.objective(sol.lambda.as_ref()) - sol.objective).abs() <= 1e-9 * (1.0 + sol.objective.abs()));
        // The returned bias satisfies the per-point KKT conditions up to the stopping tolerance.
        let mut res = Col::zeros(q.n());
        let worst = dual.kkt_residuals_into(sol.lambda.as_ref(), sol.bias, res.as_mut());
        prop_assert!(worst <= 1e-3 + 1e-9, "per-point KKT residual {}", worst);
        // The solution is no worse than λ = 0 (objective 0).
        prop_assert!(sol.objective <= 1e-12);
    }

    #[test]
    fn warm_start_from_the_solution_returns_it(p in problem()) {
        let q = p.signed_gram();
        let mut s = smo(true);
        let sol = s.solve(&q, p.bounds(), None).unwrap();
        let again = s.solve(&q, p.bounds(), Some(sol.lambda.as_ref())).unwrap();
        prop_assert!(again.iterations <= 2, "{} iterations from the optimum", again.iterations);
        for i in 0..q.n() {
            prop_assert!((again.lambda[i] - sol.lambda[i]).abs() <= 1e-9 * (1.0 + p.c[i]));
        }
        prop_assert!(again.objective <= sol.objective + 1e-12 * (1.0 + sol.objective.abs()));
    }

    #[test]
    fn flips_equal_a_rebuilt_signed_gram_bitwise(p in problem(), flips in prop::collection::vec(0usize..30, 0..20)) {
        let gram = Gram::new(&p.kernel(), p.x.as_ref());
        let mut q = SignedGram::new(gram.clone(), &p.y).unwrap();
        let mut y = p.y.clone();
        for &f in &flips {
            let i = f % q.n();
            q.flip(i);
            y.flip(i);
        }
        let rebuilt = SignedGram::new(gram.clone(), &y).unwrap();
        prop_assert_eq!(q.labels(), &y);
        for j in 0..q.n() {
            for i in 0..q.n() {
                prop_assert_eq!(q.entry(i, j).to_bits(), rebuilt.entry(i, j).to_bits());
            }
        }
        // The view's product ỹ∘K(ỹ∘λ) equals, bit for bit, the product with the explicitly
        // signed matrix Q̃_ij = K_ij·(ỹ_i ỹ_j) (sequential faer matvec), which is what a
        // materialised Q̃ gave before Q̃ became a view.
        let lambda = faer::Col::from_fn(q.n(), |i| ((i * 7) % 5) as f64 * 0.3 - 0.2);
        let mut via_view = faer::Col::zeros(q.n());
        q.matvec_into(lambda.as_ref(), via_view.as_mut());
        let dense = rebuilt.to_dense();
        let mut via_dense = faer::Col::zeros(q.n());
        faer::linalg::matmul::matmul(via_dense.as_mat_mut(), faer::Accum::Replace, dense.as_ref(), lambda.as_mat(), 1.0, faer::Par::Seq);
        for i in 0..q.n() {
            prop_assert_eq!(via_view[i].to_bits(), via_dense[i].to_bits());
        }
        // set_labels back to the original gives the original Q̃ bitwise.
        q.set_labels(&p.y).unwrap();
        let orig = SignedGram::new(gram.clone(), &p.y).unwrap();
        for j in 0..q.n() {
            for i in 0..q.n() {
                prop_assert_eq!(q.entry(i, j).to_bits(), orig.entry(i, j).to_bits());
            }
        }
    }

    #[test]
    fn gram_is_symmetric_and_psd(p in problem(), degree in 1u32..=3, coef0 in 0.0f64..2.0) {
        let kernels: Vec<Box<dyn Kernel>> = vec![
            Box::new(p.kernel()),
            Box::new(Poly::new(PolyParams { degree, gamma: p.gamma, coef0 }).unwrap()),
        ];
        for k in &kernels {
            let g = Gram::new(k.as_ref(), p.x.as_ref());
            let n = g.n();
            for i in 0..n {
                for j in 0..n {
                    prop_assert_eq!(g.as_ref()[(i, j)].to_bits(), g.as_ref()[(j, i)].to_bits());
                }
            }
            let ev = g.eigenvalues().unwrap();
            let scale = ev.last().copied().unwrap_or(0.0).max(1.0);
            prop_assert!(ev[0] >= -1e-9 * n as f64 * scale, "{}: smallest eigenvalue {}", k.name(), ev[0]);
            // Q̃ has the spectrum of K (diag(ỹ) is orthogonal).
            let q = SignedGram::new(g.clone(), &p.y).unwrap();
            let qg = Gram::from_mat(q.to_dense()).unwrap();
            let evq = qg.eigenvalues().unwrap();
            for (a, b) in ev.iter().zip(&evq) {
                prop_assert!((a - b).abs() <= 1e-9 * scale);
            }
        }
    }

    #[test]
    fn gradient_matches_central_differences(p in problem(), l in prop::collection::vec(0.0f64..1.0, 30)) {
        let q = p.signed_gram();
        let n = q.n();
        let dual = Dual::new(&q, p.bounds()).unwrap();
        let lambda = Col::from_fn(n, |i| l[i] * p.c[i]);
        let mut g = Col::zeros(n);
        dual.gradient_into(lambda.as_ref(), g.as_mut());
        let h = 1e-5;
        for i in 0..n {
            let mut plus = lambda.clone();
            let mut minus = lambda.clone();
            plus[i] += h;
            minus[i] -= h;
            let fd = (dual.objective(plus.as_ref()) - dual.objective(minus.as_ref())) / (2.0 * h);
            prop_assert!((fd - g[i]).abs() <= 1e-6 * (1.0 + g[i].abs()) * (1.0 + n as f64), "i = {}: fd {} vs {}", i, fd, g[i]);
        }
    }

    #[test]
    fn cached_rows_equal_dense_bitwise(p in problem(), shrinking in any::<bool>()) {
        // Same kernel values both ways; a tiny cache (two rows) forces evictions and the
        // shrinking swaps exercise the cache's index exchange.
        let k = EvalRbf(p.kernel());
        let train = p.dataset();
        let params = SmoParams { shrinking, cache_mb: 0.0, ..SmoParams::default() };
        let mut dense = Smo::new(SmoParams { dense_limit_mb: 1e6, dense_min_dim: 0, ..params }).unwrap();
        let mut rows = Smo::new(SmoParams { dense_limit_mb: 0.0, ..params }).unwrap();
        let (_, a) = dense.fit_bounded(&k, &train, p.bounds(), None).unwrap();
        let (_, b) = rows.fit_bounded(&k, &train, p.bounds(), None).unwrap();
        prop_assert_eq!(a.iterations, b.iterations);
        for i in 0..train.n() {
            prop_assert_eq!(a.lambda[i].to_bits(), b.lambda[i].to_bits());
        }
        prop_assert_eq!(a.bias.to_bits(), b.bias.to_bits());
        // And `solve` on the signed Gram takes the same path as the dense `fit`.
        let q = SignedGram::new(Gram::new(&k, p.x.as_ref()), &p.y).unwrap();
        let s = Smo::new(params).unwrap().solve(&q, p.bounds(), None).unwrap();
        prop_assert_eq!(s.iterations, a.iterations);
        for i in 0..train.n() {
            prop_assert_eq!(s.lambda[i].to_bits(), a.lambda[i].to_bits());
        }
    }

    #[test]
    fn builtin_rbf_rows_agree_with_dense_gram(p in problem()) {
        // The built-in RBF computes Gram blocks by matmul and rows by direct differences: the
        // two paths agree to rounding, so the solutions agree to the stopping tolerance.
        let train = p.dataset();
        let k = p.kernel();
        let mut dense = Smo::new(SmoParams { dense_limit_mb: 1e6, dense_min_dim: 0, ..SmoParams::default() }).unwrap();
        let mut rows = Smo::new(SmoParams { dense_limit_mb: 0.0, ..SmoParams::default() }).unwrap();
        let (_, a) = dense.fit_bounded(&k, &train, p.bounds(), None).unwrap();
        let (_, b) = rows.fit_bounded(&k, &train, p.bounds(), None).unwrap();
        let scale = 1.0 + a.objective.abs();
        prop_assert!((a.objective - b.objective).abs() <= 1e-3 * scale, "{} vs {}", a.objective, b.objective);
    }
}

#[test]
fn per_point_bounds_are_honoured() {
    // Separable 1-d data with heavy overlap at the boundary: with C_i tiny for a few points,
    // those points sit at their own bound, and every other bound is respected.
    let n = 20;
    let x = Mat::from_fn(n, 1, |i, _| (i as f64 - 9.5) / 4.0);
    let y = Labels::from_signs((0..n).map(|i| (i % 3 == 0) ^ (i >= 10)));
    let k = Rbf::new(RbfParams { gamma: 1.0 }).unwrap();
    let q = SignedGram::new(Gram::new(&k, x.as_ref()), &y).unwrap();
    let mut c = vec![5.0; n];
    for i in [0usize, 3, 9, 12] {
        c[i] = 0.01;
    }
    let sol = smo(true).solve(&q, Bounds::PerPoint(&c), None).unwrap();
    let uniform = smo(true).solve(&q, Bounds::Uniform(5.0), None).unwrap();
    for (i, &ci) in c.iter().enumerate() {
        assert!(sol.lambda[i] >= 0.0 && sol.lambda[i] <= ci);
    }
    // Mislabelled-looking points are at the bound under the uniform C, and pinned to their
    // own (small) bound under per-point C.
    let capped: Vec<usize> = [0usize, 3, 9, 12].into_iter().filter(|&i| uniform.lambda[i] > 0.01).collect();
    assert!(!capped.is_empty(), "test data should make some small-C point active");
    for &i in &capped {
        assert_eq!(sol.lambda[i], 0.01, "λ_{i} should sit at its own bound C_{i} = 0.01");
    }
    let dual = Dual::new(&q, Bounds::PerPoint(&c)).unwrap();
    assert!(dual.kkt_violation(sol.lambda.as_ref()) <= 1e-3);
    // All C_i equal to C reproduces the uniform solution exactly.
    let same = smo(true).solve(&q, Bounds::PerPoint(&[5.0; 20]), None).unwrap();
    assert_eq!(same.lambda, uniform.lambda);
}

#[test]
fn zero_bounds_pin_points_at_zero() {
    let n = 8;
    let x = Mat::from_fn(n, 2, |i, j| ((i * 3 + j * 5) % 7) as f64 / 3.0);
    let y = Labels::from_signs((0..n).map(|i| i % 2 == 0));
    let q = SignedGram::new(Gram::new(&Rbf::new(RbfParams { gamma: 0.5 }).unwrap(), x.as_ref()), &y).unwrap();
    let mut c = vec![1.0; n];
    c[2] = 0.0;
    c[5] = 0.0;
    let sol = smo(true).solve(&q, Bounds::PerPoint(&c), None).unwrap();
    assert_eq!(sol.status, Termination::Converged);
    assert_eq!(sol.lambda[2], 0.0);
    assert_eq!(sol.lambda[5], 0.0);
    assert!(Dual::new(&q, Bounds::PerPoint(&c)).unwrap().kkt_violation(sol.lambda.as_ref()) <= 1e-3);
}
