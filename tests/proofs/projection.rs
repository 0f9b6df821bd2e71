//! Numerical checks of `proofs/projection.md` (claims (a)–(g)). Every test names its claim; the
//! helpers here (φ, λ(μ), bisection) are written independently of `floral_projection`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use faer::Col;
use floral::data::{Labels, Stream, stream};
use floral::projection::{
    Bounds, ExactMethod, ExactParams, ExactProjector, FixedPointParams, FixedPointProjector, ProjInfo, Projector,
};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use rand::Rng;

/// A problem: z, labels ±1, per-point bounds.
#[derive(Debug, Clone)]
struct Inst {
    z: Vec<f64>,
    y: Vec<f64>,
    c: Vec<f64>,
}

impl Inst {
    fn n(&self) -> usize {
        self.z.len()
    }
    fn zmax(&self) -> f64 {
        self.z.iter().fold(0.0_f64, |m, v| m.max(v.abs()))
    }
    fn cmax(&self) -> f64 {
        self.c.iter().fold(0.0_f64, |m, v| m.max(*v))
    }
    fn scale(&self) -> f64 {
        1.0_f64.max(self.zmax()).max(self.cmax())
    }
    /// λ(μ) = clip(z − μy, 0, C).
    fn lambda(&self, mu: f64) -> Vec<f64> {
        (0..self.n()).map(|i| (self.z[i] - mu * self.y[i]).max(0.0).min(self.c[i])).collect()
    }
    /// φ(μ) = Σ y_i clip(z_i − μy_i, 0, C_i).
    fn phi(&self, mu: f64) -> f64 {
        self.lambda(mu).iter().zip(&self.y).map(|(l, y)| l * y).sum()
    }
    /// |I_x(μ)| = #{0 < z_i − μy_i < C_i}.
    fn free(&self, mu: f64) -> usize {
        (0..self.n())
            .filter(|&i| {
                let v = self.z[i] - mu * self.y[i];
                v > 0.0 && v < self.c[i]
            })
            .count()
    }
    /// All breakpoints μ with z_i − μy_i ∈ {0, C_i}, sorted.
    fn breakpoints(&self) -> Vec<f64> {
        let mut b: Vec<f64> =
            (0..self.n()).flat_map(|i| [self.y[i] * self.z[i], self.y[i] * (self.z[i] - self.c[i])]).collect();
        b.sort_by(f64::total_cmp);
        b
    }
    /// Bisection to adjacent floats for the boundary of {μ : keep_left(φ(μ))}, starting from a
    /// bracket outside every breakpoint.
    fn bisect(&self, keep_left: impl Fn(f64) -> bool) -> (f64, f64) {
        let r = self.zmax() + self.cmax() + 1.0;
        let (mut lo, mut hi) = (-r, r);
        loop {
            let mid = lo + (hi - lo) / 2.0;
            if mid <= lo || mid >= hi {
                return (lo, hi);
            }
            if keep_left(self.phi(mid)) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
    }
    /// A root of φ by bisection (the smallest one): the better of the two final endpoints.
    fn root(&self) -> f64 {
        let (lo, hi) = self.bisect(|f| f > 0.0);
        if self.phi(lo).abs() < self.phi(hi).abs() { lo } else { hi }
    }
    /// Π(z) from the bisection root: claim (a).
    fn projection(&self) -> Vec<f64> {
        self.lambda(self.root())
    }
    fn labels(&self) -> Labels {
        Labels::new(self.y.clone()).unwrap()
    }
    fn project(&self, p: &dyn Projector) -> (Vec<f64>, ProjInfo) {
        let z = Col::from_fn(self.n(), |i| self.z[i]);
        let mut out = Col::<f64>::zeros(self.n());
        let info = p.project_into(z.as_ref(), &self.labels(), Bounds::PerPoint(&self.c), out.as_mut()).unwrap();
        ((0..self.n()).map(|i| out[i]).collect(), info)
    }
}

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

fn l1(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum()
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/proofs_projection.txt",
        ))),
        ..ProptestConfig::default()
    }
}

/// Instances with ties on purpose: z on a half-integer grid part of the time, bounds from a small
/// set, so that breakpoints coincide and iterates land on them.
fn inst(max_n: usize) -> impl Strategy<Value = Inst> {
    (1..=max_n).prop_flat_map(|n| {
        let entry = prop_oneof![3 => -3.0..3.0_f64, 2 => (-6i32..=6).prop_map(|k| f64::from(k) * 0.5)];
        let bound = prop_oneof![Just(0.5), Just(1.0), Just(1.5), 0.0..4.0_f64];
        (
            proptest::collection::vec(entry, n),
            proptest::collection::vec(any::<bool>(), n),
            prop_oneof![bound.clone().prop_map(move |c| vec![c; n]), proptest::collection::vec(bound, n)],
        )
            .prop_map(|(z, s, c)| Inst { z, y: s.iter().map(|&p| if p { 1.0 } else { -1.0 }).collect(), c })
    })
}

/// A feasible point of S(y) built without any projector: a random box point with the heavier
/// label side scaled down.
fn feasible(inst: &Inst, u: &[f64]) -> Vec<f64> {
    let mut v: Vec<f64> = (0..inst.n()).map(|i| u[i] * inst.c[i]).collect();
    let p: f64 = (0..inst.n()).filter(|&i| inst.y[i] > 0.0).map(|i| v[i]).sum();
    let q: f64 = (0..inst.n()).filter(|&i| inst.y[i] < 0.0).map(|i| v[i]).sum();
    let (side, f) = if p > q { (1.0, q / p) } else { (-1.0, if q > 0.0 { p / q } else { 1.0 }) };
    for (i, vi) in v.iter_mut().enumerate() {
        if inst.y[i] == side {
            *vi *= f;
        }
    }
    v
}

fn fixed_point(max_iter: usize, tol: f64) -> FixedPointProjector {
    FixedPointProjector::new(FixedPointParams { tol, max_iter, finish_exact: false }).unwrap()
}

proptest! {
    #![proptest_config(config())]

    /// proofs/projection.md (a): clip(z − μ*y, 0, C) at an independently found root is feasible,
    /// satisfies the variational inequality against random feasible points, and is what
    /// `ExactProjector` returns.
    #[test]
    fn kkt_form_from_an_independent_root((p, us) in inst(30).prop_flat_map(|p| {
        let n = p.n();
        (Just(p), proptest::collection::vec(proptest::collection::vec(0.0..=1.0_f64, n), 4))
    })) {
        let mu = p.root();
        let l = p.lambda(mu);
        let s = p.scale();
        prop_assert!(l.iter().zip(&p.c).all(|(v, c)| *v >= 0.0 && v <= c));
        prop_assert!(p.phi(mu).abs() <= 1e-12 * s * p.n() as f64);
        for u in &us {
            let v = feasible(&p, u);
            let ip: f64 = (0..p.n()).map(|i| (p.z[i] - l[i]) * (v[i] - l[i])).sum();
            prop_assert!(ip <= 1e-10 * s * s * p.n() as f64, "⟨z − λ, v − λ⟩ = {ip}");
        }
        let (e, _) = p.project(&ExactProjector::default());
        prop_assert!(max_abs_diff(&e, &l) <= 1e-10 * s, "exact vs bisection: {}", max_abs_diff(&e, &l));
    }

    /// proofs/projection.md (b): φ is non-increasing, linear between consecutive breakpoints with
    /// slope −|I_x|, equals Σ_{y=+1} C_i below all breakpoints and −Σ_{y=−1} C_i above, and
    /// φ(−Z) ≥ 0 ≥ φ(Z).
    #[test]
    fn phi_is_monotone_piecewise_linear_with_a_root(p in inst(25)) {
        let b = p.breakpoints();
        let tol = 1e-12 * p.scale() * p.n() as f64;
        let (first, last) = (b[0], b[b.len() - 1]);
        let plus: f64 = (0..p.n()).filter(|&i| p.y[i] > 0.0).map(|i| p.c[i]).sum();
        let minus: f64 = (0..p.n()).filter(|&i| p.y[i] < 0.0).map(|i| p.c[i]).sum();
        prop_assert!((p.phi(first - 1.0) - plus).abs() <= tol);
        prop_assert!((p.phi(last + 1.0) + minus).abs() <= tol);
        prop_assert!(p.phi(-p.zmax()) >= -tol && p.phi(p.zmax()) <= tol);
        for w in b.windows(2) {
            let (l, r) = (w[0], w[1]);
            prop_assert!(p.phi(l) + tol >= p.phi(r), "not non-increasing on [{l}, {r}]");
            if r - l > 1e-9 {
                let m = l + (r - l) / 2.0;
                let q = l + (r - l) / 4.0;
                // Linear: the midpoint value is the mean of the ends; slope −|I_x| inside.
                prop_assert!((p.phi(m) - (p.phi(l) + p.phi(r)) / 2.0).abs() <= tol);
                let slope = (p.phi(m) - p.phi(q)) / (m - q);
                prop_assert!((slope + p.free(m) as f64).abs() <= 1e-6 * (1.0 + p.free(m) as f64), "slope {slope} vs −{}", p.free(m));
            }
        }
        let mu = p.root();
        prop_assert!(p.phi(mu).abs() <= tol);
    }

    /// proofs/projection.md (c1): the k-th iterate of Algorithm 2 (the projector stopped after k
    /// updates) equals μ_{k−1} + φ(μ_{k−1})/max(2|I_x(μ_{k−1})|, 1), with φ and I_x computed here.
    #[test]
    fn algorithm2_update_is_a_half_newton_step(p in inst(30)) {
        let mut prev = 0.0;
        for k in 1..=12 {
            let (_, info) = p.project(&fixed_point(k, 0.0));
            if info.iterations < k {
                break; // stopped: the update was exactly zero
            }
            let rho = (2 * p.free(prev)).max(1) as f64;
            let want = prev + p.phi(prev) / rho;
            prop_assert!((info.mu - want).abs() <= 1e-12 * (p.scale() + prev.abs()) * p.n() as f64,
                "k = {k}: μ_k = {} vs μ + φ/ρ = {want}", info.mu);
            prev = info.mu;
        }
    }

    /// proofs/projection.md (c2), (d): on every run the reported residual is the ℓ1 error of the
    /// output; runs that converge (residual at rounding level) return Π(z) and a root of φ; with a
    /// loose tol the stopping rule bounds the error by (max(2n, 1) + n)·tol.
    #[test]
    fn algorithm2_limit_is_the_projection(p in inst(30)) {
        let pi = p.projection();
        let s = p.scale();
        let n = p.n() as f64;
        let (l, info) = p.project(&FixedPointProjector::default());
        prop_assert!((l1(&l, &pi) - info.residual).abs() <= 1e-10 * s * n);
        if info.residual <= 1e-12 * (1.0 + l.iter().sum::<f64>()) {
            prop_assert!(max_abs_diff(&l, &pi) <= 1e-9 * s);
            prop_assert!(p.phi(info.mu).abs() <= 1e-11 * s * n);
        }
        let tol = 1e-6;
        let (l, info) = p.project(&fixed_point(1000, tol));
        if info.iterations < 1000 {
            let bound = ((2.0 * n).max(1.0) + n) * tol;
            prop_assert!(l1(&l, &pi) <= bound + 1e-10 * s * n, "‖λ − Π‖₁ = {} > {bound}", l1(&l, &pi));
        }
    }

    /// proofs/projection.md (c5): for every z in the open box (1, 2)² × (−1, 0)², y = (+, +, −, −),
    /// C = 1, Algorithm 2 alternates between μ = 0 and μ = 2 and reports residual 2, its true ℓ1
    /// error.
    #[test]
    fn algorithm2_cycles_on_an_open_set(z1 in 1.0001..1.9999_f64, z2 in 1.0001..1.9999_f64, z3 in -0.9999..-0.0001_f64, z4 in -0.9999..-0.0001_f64) {
        let p = Inst { z: vec![z1, z2, z3, z4], y: vec![1.0, 1.0, -1.0, -1.0], c: vec![1.0; 4] };
        for (max_iter, mu) in [(1000, 0.0), (999, 2.0), (1, 2.0), (2, 0.0)] {
            let (l, info) = p.project(&fixed_point(max_iter, 1e-21));
            prop_assert_eq!(info.iterations, max_iter);
            prop_assert_eq!(info.mu, mu);
            prop_assert_eq!(info.residual, 2.0);
            prop_assert!((l1(&l, &p.projection()) - 2.0).abs() <= 1e-12);
        }
    }

    /// proofs/projection.md (d): |φ(μ)| = ‖λ(μ) − Π(z)‖₁ for arbitrary μ.
    #[test]
    fn residual_equals_l1_distance((p, t) in inst(30).prop_flat_map(|p| (Just(p), -1.0..1.0_f64))) {
        let r = p.zmax() + p.cmax() + 1.0;
        let mu = t * r;
        let pi = p.projection();
        let lhs = p.phi(mu).abs();
        let rhs = l1(&p.lambda(mu), &pi);
        prop_assert!((lhs - rhs).abs() <= 1e-11 * p.scale() * p.n() as f64, "|φ(μ)| = {lhs}, ‖λ(μ) − Π‖₁ = {rhs}");
    }

    /// proofs/projection.md (e): replacing C_i by min(C_i, 2·max|z|) does not change Π (both
    /// computed by bisection, without the crate), and `ExactProjector` agrees for huge C.
    #[test]
    fn capping_large_bounds_changes_nothing((p, k) in inst(25).prop_flat_map(|p| (Just(p), 0..8i32))) {
        let zmax = p.zmax();
        let big = Inst { c: p.c.iter().map(|_| 2.0 * zmax * 10f64.powi(k) + 1e-3).collect(), ..p.clone() };
        let capped = Inst { c: big.c.iter().map(|c| c.min(2.0 * zmax)).collect(), ..p.clone() };
        let (a, b) = (big.projection(), capped.projection());
        prop_assert!(max_abs_diff(&a, &b) <= 1e-9 * big.scale());
        let (e, _) = big.project(&ExactProjector::default());
        prop_assert!(max_abs_diff(&e, &a) <= 1e-9 * big.scale());
    }

    /// proofs/projection.md (f): Π_{sC}(sz) = s·Π_C(z), against the bisection oracle for moderate
    /// s and for the projector alone at s = 2^±1000.
    #[test]
    fn positive_homogeneity((p, k) in inst(20).prop_flat_map(|p| (Just(p), -20..20i32))) {
        let s = 2f64.powi(k);
        let scaled = |s: f64| Inst { z: p.z.iter().map(|v| v * s).collect(), y: p.y.clone(), c: p.c.iter().map(|v| v * s).collect() };
        let a: Vec<f64> = scaled(s).projection().iter().map(|v| v / s).collect();
        prop_assert!(max_abs_diff(&a, &p.projection()) <= 1e-10 * p.scale());
        let (e, _) = p.project(&ExactProjector::default());
        for t in [-1000, 1000] {
            let s = 2f64.powi(t);
            let (es, _) = scaled(s).project(&ExactProjector::default());
            let back: Vec<f64> = es.iter().map(|v| v / s).collect();
            prop_assert!(max_abs_diff(&back, &e) <= 1e-12 * p.scale());
        }
    }

    /// proofs/projection.md (g): `ExactMethod::Newton` (certified Newton steps) returns the
    /// projection found by bisection, on instances built to put iterates on breakpoints.
    #[test]
    fn newton_certificate_is_exact(p in inst(40)) {
        let pi = p.projection();
        let newton = ExactProjector::new(ExactParams { method: ExactMethod::Newton }).unwrap();
        let (l, info) = p.project(&newton);
        prop_assert!(max_abs_diff(&l, &pi) <= 1e-10 * p.scale(), "Newton vs bisection: {}", max_abs_diff(&l, &pi));
        prop_assert!(info.residual <= 1e-12 * (1.0 + l.iter().sum::<f64>()));
    }
}

/// proofs/projection.md (c3): with every coordinate free on [0, μ*] (z_i ∈ (0.3, 0.7), C = 1,
/// balanced labels, |μ*| < 0.3), 0 lies in the root's linear piece and the iterates are exactly
/// μ*(1 − 2^−k) up to rounding.
#[test]
fn algorithm2_halves_the_error_near_the_root() {
    let mut rng = stream(11, Stream::Analysis);
    let mut checked = 0;
    for _ in 0..50 {
        let n = 40;
        let z: Vec<f64> = (0..n).map(|_| rng.random_range(0.3..0.7)).collect();
        let y: Vec<f64> = (0..n).map(|i| if i % 2 == 0 { 1.0 } else { -1.0 }).collect();
        let p = Inst { z, y, c: vec![1.0; n] };
        let root = p.root();
        assert!(root.abs() < 0.3, "μ* = {root}");
        if root == 0.0 {
            continue;
        }
        for k in 1..=30 {
            let (_, info) = p.project(&fixed_point(k, 0.0));
            let want = root * (1.0 - 0.5f64.powi(k as i32));
            assert!((info.mu - want).abs() <= 1e-15 * (1.0 + k as f64), "k = {k}: {} vs {want}", info.mu);
        }
        checked += 1;
    }
    assert!(checked >= 45);
}

/// proofs/projection.md (c4): on random instances where the free count m(t) stays within a
/// factor 2 on the interval between 0 and the nearest root (checked here from the breakpoints),
/// Algorithm 2's iterates approach the root monotonically with contraction ≤ ¾, and its result
/// is Π(z).
#[test]
fn algorithm2_converges_under_the_slope_ratio_condition() {
    let mut rng = stream(12, Stream::Analysis);
    let (mut checked, mut varying) = (0, 0);
    for trial in 0..400 {
        let n = 24;
        // Half the trials keep every point free near 0; the others spread z so that m varies.
        let (lo, hi) = if trial % 2 == 0 { (0.2, 0.8) } else { (-0.3, 1.3) };
        let z: Vec<f64> = (0..n).map(|_| rng.random_range(lo..hi)).collect();
        let y: Vec<f64> = (0..n).map(|_| if rng.random::<bool>() { 1.0 } else { -1.0 }).collect();
        let p = Inst { z, y, c: vec![1.0; n] };
        let f0 = p.phi(0.0);
        if f0 == 0.0 {
            continue;
        }
        // The root nearest to 0: the smallest root if φ(0) > 0, the largest if φ(0) < 0.
        let target = if f0 > 0.0 { p.bisect(|f| f > 0.0).1 } else { p.bisect(|f| f >= 0.0).0 };
        let (a, b) = (target.min(0.0), target.max(0.0));
        let mut pts: Vec<f64> = p.breakpoints().into_iter().filter(|&t| t > a && t < b).collect();
        pts.insert(0, a);
        pts.push(b);
        let mut probes = pts.clone();
        probes.extend(pts.windows(2).map(|w| w[0] + (w[1] - w[0]) / 2.0));
        let ms: Vec<usize> = probes.iter().map(|&t| p.free(t)).collect();
        let (mmin, mmax) = (*ms.iter().min().unwrap(), *ms.iter().max().unwrap());
        if mmin == 0 || mmax > 2 * mmin {
            continue;
        }
        checked += 1;
        varying += usize::from(mmax > mmin);
        let mut err = (target - 0.0).abs();
        for k in 1..=25 {
            let (_, info) = p.project(&fixed_point(k, 0.0));
            if info.iterations < k {
                break;
            }
            let e = target - info.mu;
            assert!(e * (target - 0.0) >= -1e-15, "trial {trial}: iterate crossed the root");
            assert!(e.abs() <= 0.75 * err + 1e-15, "trial {trial}, k = {k}: {} > ¾·{err}", e.abs());
            err = e.abs();
        }
        let (l, _) = p.project(&FixedPointProjector::default());
        assert!(max_abs_diff(&l, &p.projection()) <= 1e-9);
    }
    assert!(checked >= 50 && varying >= 5, "condition held in {checked} trials ({varying} with varying m)");
}
