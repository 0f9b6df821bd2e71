//! Checks of `proofs/stability.md` (h)–(j): the extragradient and optimistic-gradient
//! Jacobians against central differences of the actual updates (`PgdMap::extragradient`,
//! `PgdMap::optimistic`), their closed-form spectra against a general eigensolver, and the
//! predicted critical steps against the deterministic iteration with the labels held fixed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use faer::{Col, Mat};
use floral_data::{FloralRng, Labels, Stream, stream};
use floral_projection::{Bounds, ExactProjector};
use floral_stability::linalg::{general_eigenvalues, spectral_radius};
use floral_stability::{
    AnalyticJacobian, AnalyticParams, ExtragradientJacobian, Linearization, OptimisticJacobian, StabilityAnalyzer,
    StabilityError, Verdict,
};
use floral_svm::{Gram, PgdMap, Rbf, RbfParams, SignedGram, Smo, SmoParams};
use proptest::prelude::*;
use rand::Rng;

/// A small random problem (as in `tests/proofs/stability.rs`): n ∈ [4, 12] jittered points on a
/// 4×4 grid, γ ∈ [0.5, 2], both classes, C ∈ [0.5, 5].
fn problem(seed: u64) -> (SignedGram, f64, FloralRng) {
    let mut rng = stream(seed, Stream::Analysis);
    let n = rng.random_range(4..=12usize);
    let mut cells: Vec<usize> = (0..16).collect();
    for i in 0..n {
        let j = rng.random_range(i..16);
        cells.swap(i, j);
    }
    let mut x = Mat::<f64>::zeros(n, 2);
    for i in 0..n {
        x[(i, 0)] = (cells[i] % 4) as f64 + rng.random_range(-0.2..0.2);
        x[(i, 1)] = (cells[i] / 4) as f64 + rng.random_range(-0.2..0.2);
    }
    let gamma = rng.random_range(0.5..2.0);
    let mut signs: Vec<bool> = (0..n).map(|_| rng.random_bool(0.5)).collect();
    signs[0] = true;
    signs[1] = false;
    let y = Labels::from_signs(signs);
    let gram = Gram::new(&Rbf::new(RbfParams { gamma }).unwrap(), x.as_ref());
    let c = rng.random_range(0.5..5.0);
    (SignedGram::new(gram, &y).unwrap(), c, rng)
}

fn svm(q: &SignedGram, c: f64) -> Col<f64> {
    Smo::new(SmoParams { eps: 1e-13, ..SmoParams::default() })
        .unwrap()
        .solve(q, Bounds::Uniform(c), None)
        .unwrap()
        .lambda
}

fn params() -> AnalyticParams {
    AnalyticParams { tol: 1e-9, kernel_bound: false }
}

/// max_j Σ_i |(I − ηQ̃)_ij|: the ℓ∞ growth of one coordinate step through a gradient step.
fn col_sum_bound(q: &SignedGram, eta: f64) -> f64 {
    let n = q.n();
    (0..n)
        .map(|j| (0..n).map(|i| (f64::from(u8::from(i == j)) - eta * q.entry(i, j)).abs()).sum::<f64>())
        .fold(0.0, f64::max)
}

fn max_abs_diff(a: &Mat<f64>, b: &Mat<f64>) -> f64 {
    let mut m = 0.0_f64;
    for j in 0..a.ncols() {
        for i in 0..a.nrows() {
            m = m.max((a[(i, j)] - b[(i, j)]).abs());
        }
    }
    m
}

fn norm(v: &Col<f64>) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// A random direction in W = {e : e outside F = 0, ỹ_Fᵀe_F = 0}, unit ℓ2 norm.
fn direction(q: &SignedGram, free: &[usize], rng: &mut FloralRng) -> Col<f64> {
    let n = q.n();
    let mut d = Col::<f64>::zeros(n);
    for &i in free {
        d[i] = rng.random_range(-1.0..1.0);
    }
    let ys = q.labels().as_slice();
    let mean: f64 = free.iter().map(|&i| ys[i] * d[i]).sum::<f64>() / free.len() as f64;
    for &i in free {
        d[i] -= ys[i] * mean;
    }
    let s = norm(&d);
    Col::from_fn(n, |i| d[i] / s)
}

/// Iterate extragradient (`pair` false) or OGDA (`pair` true) from λ* + εd (OGDA from the pair
/// (λ* + εd, λ*)) for `steps` steps; the error norms ‖λ_t − λ*‖₂, t = 0..steps.
fn iterate(map: &PgdMap<'_>, star: &Col<f64>, start: &Col<f64>, steps: usize, pair: bool) -> Vec<f64> {
    let mut errs = vec![norm(&(start - star))];
    let (mut cur, mut prev) = (start.clone(), star.clone());
    for _ in 0..steps {
        let next = if pair {
            map.optimistic(cur.as_ref(), prev.as_ref()).unwrap()
        } else {
            map.extragradient(cur.as_ref()).unwrap()
        };
        prev = cur;
        cur = next;
        errs.push(norm(&(&cur - star)));
    }
    errs
}

/// (Q̃, C, λ*, F, μ_max, the problem's remaining random stream).
type StrictCase = (SignedGram, f64, Col<f64>, Vec<usize>, f64, FloralRng);

/// A problem whose SVM solution has |F| ≥ 2 and strict complementarity, with its free set,
/// μ_max and the affine radius of T (min margin / (2‖I − ηQ̃‖₁) at η = 0.5/μ_max).
fn strict_case(seed: u64) -> Option<StrictCase> {
    let (q, c, rng) = problem(seed);
    let star = svm(&q, c);
    let p = ExactProjector::default();
    let probe = PgdMap::new(&q, 0.1, Bounds::Uniform(c), &p).unwrap();
    let lin = Linearization::new(&probe, star.as_ref()).unwrap();
    if lin.free.len() < 2 || lin.fixed_point_residual > 1e-9 {
        return None;
    }
    let mu = AnalyticJacobian::projected_spectrum(&probe, &lin.free).unwrap();
    let mu_max = *mu.last().unwrap();
    // μ_min bounded away from 0 so the contraction is visible in a bounded number of steps.
    if mu[0] < 1e-3 * mu_max {
        return None;
    }
    let map = PgdMap::new(&q, 0.5 / mu_max, Bounds::Uniform(c), &p).unwrap();
    let lin = Linearization::new(&map, star.as_ref()).unwrap();
    if !lin.strictly_complementary(1e-6) {
        return None;
    }
    Some((q, c, star, lin.free, mu_max, rng))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Claim (h): at the SVM solution or a random point of the box, the dense
    /// DT_EG = A_F(I − ηQ̃ A_F̂(I − ηQ̃)) equals central differences of `PgdMap::extragradient`
    /// to 1e-6 (kept when both projections' margins exceed 8h‖I − ηQ̃‖₁²); at the fixed point
    /// its general eigenvalues are {1 − x_j + x_j²} and zeros, and the analyzer's ρ matches
    /// the finite-difference Jacobian's.
    #[test]
    fn extragradient_jacobian_matches_finite_differences(seed in any::<u64>(), at_svm in any::<bool>(), f in 0.05..2.0_f64) {
        let (q, c, mut rng) = problem(seed);
        let n = q.n();
        let lmax = q.gram().max_eigenvalue().unwrap();
        let eta = f / lmax;
        let p = ExactProjector::default();
        let map = PgdMap::new(&q, eta, Bounds::Uniform(c), &p).unwrap();
        let at = if at_svm { svm(&q, c) } else { Col::from_fn(n, |_| rng.random_range(0.0..c)) };
        let h = 1e-7;
        let r = ExtragradientJacobian::new(params()).unwrap().analyze(&map, at.as_ref()).unwrap();
        let cs = col_sum_bound(&q, eta);
        prop_assume!(r.min_margin > 8.0 * h * cs * cs.max(1.0) * (1.0 + eta * lmax));
        let fd = ExtragradientJacobian::finite_difference(&map, at.as_ref(), h).unwrap();
        let an = ExtragradientJacobian::full_jacobian(&map, at.as_ref()).unwrap();
        let d = max_abs_diff(&fd, &an);
        prop_assert!(d < 1e-6, "max |J_fd − J_EG| = {d}");
        let rho_fd = spectral_radius(fd.as_ref(), "fd").unwrap();
        prop_assert!((rho_fd - r.spectral_radius).abs() < 1e-6, "ρ fd {rho_fd} vs analytic {}", r.spectral_radius);
        if at_svm && r.free >= 2 {
            // Closed form: eigenvalues of the dense n×n Jacobian are 1 − x + x² and zeros.
            let mut ev: Vec<f64> = general_eigenvalues(an.as_ref(), "J_EG").unwrap().into_iter().map(|(re, im)| {
                assert!(im.abs() < 1e-9);
                re
            }).collect();
            ev.sort_by(f64::total_cmp);
            let mut want = r.jacobian_eigenvalues.clone();
            want.extend(std::iter::repeat_n(0.0, n - want.len()));
            want.sort_by(f64::total_cmp);
            for (a, b) in ev.iter().zip(&want) {
                prop_assert!((a - b).abs() < 1e-9, "{ev:?} vs {want:?}");
            }
            prop_assert_eq!(r.critical_eta, Some(1.0 / r.mu_max));
        }
    }

    /// Claim (i): at a pair (λ, λ_prev) — the SVM solution twice, or two random points of the box
    /// — the 2n×2n Jacobian [[A_F(I − 2ηQ̃), ηA_FQ̃], [I, 0]] equals central differences of the
    /// pair map through `PgdMap::optimistic` to 1e-6; its spectral radius matches the closed form
    /// max |((1 − 2x) ± √(1 + 4x²))/2|, and its nonzero eigenvalues are those.
    #[test]
    fn optimistic_jacobian_matches_finite_differences(seed in any::<u64>(), at_svm in any::<bool>(), f in 0.05..2.0_f64) {
        let (q, c, mut rng) = problem(seed);
        let n = q.n();
        let lmax = q.gram().max_eigenvalue().unwrap();
        let eta = f / lmax;
        let p = ExactProjector::default();
        let map = PgdMap::new(&q, eta, Bounds::Uniform(c), &p).unwrap();
        let (at, prev) = if at_svm {
            let s = svm(&q, c);
            (s.clone(), s)
        } else {
            (Col::from_fn(n, |_| rng.random_range(0.0..c)), Col::from_fn(n, |_| rng.random_range(0.0..c)))
        };
        let h = 1e-7;
        let an_r = OptimisticJacobian::new(params()).unwrap().analyze_pair(&map, at.as_ref(), prev.as_ref()).unwrap();
        let cs = col_sum_bound(&q, 2.0 * eta) + eta * lmax * (n as f64).sqrt();
        prop_assume!(an_r.min_margin > 4.0 * h * cs);
        let fd = OptimisticJacobian::finite_difference(&map, at.as_ref(), prev.as_ref(), h).unwrap();
        let an = OptimisticJacobian::full_jacobian(&map, at.as_ref(), prev.as_ref()).unwrap();
        let d = max_abs_diff(&fd, &an);
        prop_assert!(d < 1e-6, "max |J_fd − J_OG| = {d}");
        let rho_fd = spectral_radius(fd.as_ref(), "fd").unwrap();
        prop_assert!((rho_fd - an_r.spectral_radius).abs() < 1e-6, "ρ fd {rho_fd} vs closed form {}", an_r.spectral_radius);
        // Every closed-form eigenvalue is an eigenvalue of the dense Jacobian.
        let ev = general_eigenvalues(an.as_ref(), "J_OG").unwrap();
        for &nu in &an_r.jacobian_eigenvalues {
            let nearest = ev.iter().map(|&(re, im)| (re - nu).hypot(im)).fold(f64::INFINITY, f64::min);
            prop_assert!(nearest < 1e-6, "ν = {nu} not in {ev:?}");
        }
        if an_r.free >= 2 {
            prop_assert_eq!(an_r.critical_eta, Some(2.0 / (3.0 * an_r.mu_max)));
        }
    }

    /// Claims (h), (i): the predicted critical steps are those of the deterministic iteration.
    /// At the SVM solution (strict complementarity, |F| ≥ 2), η = f·η_crit for the solver:
    /// f ∈ [0.2, 0.9] is Stable and the iteration from λ* + εd, d ∈ W, converges (‖e_N‖ ≤
    /// 1e-2‖e_0‖ after N = ⌈ln 1e-2/ln ρ⌉ + 20 steps; OGDA's transient from the pair
    /// (λ* + εd, λ*) allowed for by a factor 4); f ∈ [1.1, 1.6] is Unstable and the error grows
    /// beyond 100‖e_0‖.
    #[test]
    fn predicted_critical_steps_match_iteration(seed in any::<u64>(), stable in any::<bool>(), u in 0.0..1.0_f64, ogda in any::<bool>()) {
        let case = strict_case(seed);
        prop_assume!(case.is_some());
        let (q, c, star, free, mu_max, mut rng) = case.unwrap();
        let p = ExactProjector::default();
        let crit = if ogda { 2.0 / (3.0 * mu_max) } else { 1.0 / mu_max };
        let f = if stable { 0.2 + 0.7 * u } else { 1.1 + 0.5 * u };
        let map = PgdMap::new(&q, f * crit, Bounds::Uniform(c), &p).unwrap();
        let r = if ogda {
            OptimisticJacobian::new(params()).unwrap().analyze(&map, star.as_ref()).unwrap()
        } else {
            ExtragradientJacobian::new(params()).unwrap().analyze(&map, star.as_ref()).unwrap()
        };
        prop_assume!(!matches!(r.verdict, Verdict::Degenerate { .. }));
        let cs = col_sum_bound(&q, 2.0 * f * crit);
        let eps = 1e-3 * r.min_margin / (2.0 * cs * cs.max(1.0) * (n_sqrt(&q)));
        let d = direction(&q, &free, &mut rng);
        let start = Col::from_fn(q.n(), |i| star[i] + eps * d[i]);
        let e0 = norm(&(&start - &star));
        prop_assume!(e0 > 1e-12);
        if stable {
            prop_assert_eq!(r.verdict, Verdict::Stable);
            let steps = ((1e-2_f64).ln() / r.spectral_radius.ln()).ceil() as usize + 20;
            prop_assume!(steps < 20_000);
            let errs = iterate(&map, &star, &start, steps, ogda);
            prop_assert!(*errs.last().unwrap() <= 4e-2 * e0, "ρ = {}, ‖e_N‖/‖e_0‖ = {}", r.spectral_radius, errs.last().unwrap() / e0);
        } else {
            prop_assert_eq!(r.verdict, Verdict::Unstable);
            let steps = (1e6_f64.ln() / r.spectral_radius.ln()).ceil() as usize + 50;
            prop_assume!(steps < 20_000);
            let errs = iterate(&map, &star, &start, steps, ogda);
            let worst = errs.iter().copied().fold(0.0, f64::max);
            prop_assert!(worst > 100.0 * e0, "ρ = {}, max ‖e_t‖/‖e_0‖ = {}", r.spectral_radius, worst / e0);
        }
    }
}

fn n_sqrt(q: &SignedGram) -> f64 {
    (q.n() as f64).sqrt()
}

/// Claim (j), where extragradient does *not* help: with fixed labels, for η between the
/// extragradient and PGD critical steps (η = 1.5/μ_max), PGD converges from near the SVM
/// solution and extragradient (and OGDA) diverge; above PGD's (η = 2.2/μ_max) all three diverge.
/// The verdicts say the same.
#[test]
fn above_its_critical_step_extragradient_diverges_where_pgd_converges() {
    let mut checked = 0;
    for seed in 0..200u64 {
        let Some((q, c, star, free, mu_max, mut rng)) = strict_case(seed) else { continue };
        let p = ExactProjector::default();
        let d = direction(&q, &free, &mut rng);
        for (f, pgd_converges) in [(1.5, true), (2.2, false)] {
            let map = PgdMap::new(&q, f / mu_max, Bounds::Uniform(c), &p).unwrap();
            let pgd = AnalyticJacobian::new(params()).unwrap().analyze(&map, star.as_ref()).unwrap();
            let eg = ExtragradientJacobian::new(params()).unwrap().analyze(&map, star.as_ref()).unwrap();
            let og = OptimisticJacobian::new(params()).unwrap().analyze(&map, star.as_ref()).unwrap();
            if [&pgd, &eg, &og].iter().any(|r| matches!(r.verdict, Verdict::Degenerate { .. })) {
                continue;
            }
            assert_eq!(pgd.verdict, if pgd_converges { Verdict::Stable } else { Verdict::Unstable });
            assert_eq!(eg.verdict, Verdict::Unstable);
            assert_eq!(og.verdict, Verdict::Unstable);
            let cs = col_sum_bound(&q, 2.0 * f / mu_max);
            let eps = 1e-3 * pgd.min_margin.min(eg.min_margin) / (2.0 * cs * cs.max(1.0) * n_sqrt(&q));
            let start = Col::from_fn(q.n(), |i| star[i] + eps * d[i]);
            let e0 = norm(&(&start - &star));
            // PGD through the same map.
            let mut x = start.clone();
            let mut pgd_worst = 0.0_f64;
            for _ in 0..3000 {
                x = map.apply(x.as_ref()).unwrap();
                pgd_worst = pgd_worst.max(norm(&(&x - &star)));
            }
            let pgd_end = norm(&(&x - &star));
            let eg_worst = iterate(&map, &star, &start, 3000, false).into_iter().fold(0.0, f64::max);
            let og_worst = iterate(&map, &star, &start, 3000, true).into_iter().fold(0.0, f64::max);
            assert!(eg_worst > 100.0 * e0, "seed {seed}, f {f}: EG grew only to {}", eg_worst / e0);
            assert!(og_worst > 100.0 * e0, "seed {seed}, f {f}: OGDA grew only to {}", og_worst / e0);
            if pgd_converges {
                assert!(pgd_end < 1e-2 * e0, "seed {seed}: PGD error {} of the start", pgd_end / e0);
            } else {
                assert!(pgd_worst > 100.0 * e0, "seed {seed}: PGD grew only to {}", pgd_worst / e0);
            }
            checked += 1;
        }
        if checked >= 10 {
            break;
        }
    }
    assert!(checked >= 10, "only {checked} usable cases");
}

/// The analyzers refuse bad input with errors, never panics.
#[test]
fn bad_input_is_an_error() {
    let (q, c, _) = problem(1);
    let p = ExactProjector::default();
    let map = PgdMap::new(&q, 0.1, Bounds::Uniform(c), &p).unwrap();
    let short = Col::<f64>::zeros(q.n() - 1);
    let ok = Col::<f64>::zeros(q.n());
    let mut nan = Col::<f64>::zeros(q.n());
    nan[0] = f64::NAN;
    assert!(matches!(
        ExtragradientJacobian::new(params()).unwrap().analyze(&map, short.as_ref()),
        Err(StabilityError::DimensionMismatch { .. })
    ));
    assert!(matches!(
        OptimisticJacobian::new(params()).unwrap().analyze_pair(&map, ok.as_ref(), short.as_ref()),
        Err(StabilityError::DimensionMismatch { .. })
    ));
    assert!(matches!(
        OptimisticJacobian::new(params()).unwrap().analyze_pair(&map, ok.as_ref(), nan.as_ref()),
        Err(StabilityError::NonFinite { .. })
    ));
    assert!(matches!(
        ExtragradientJacobian::finite_difference(&map, ok.as_ref(), 0.0),
        Err(StabilityError::InvalidParam { field: "h", .. })
    ));
    assert!(matches!(
        ExtragradientJacobian::new(AnalyticParams { tol: 2.0, kernel_bound: false }),
        Err(StabilityError::InvalidParam { field: "tol", .. })
    ));
    // The label-independent bounds: 1/λ_max(K) and 2/(3λ_max(K)).
    let lmax = q.gram().max_eigenvalue().unwrap();
    let kp = AnalyticParams { tol: 1e-9, kernel_bound: true };
    let eg = ExtragradientJacobian::new(kp).unwrap().analyze(&map, ok.as_ref()).unwrap();
    let og = OptimisticJacobian::new(kp).unwrap().analyze(&map, ok.as_ref()).unwrap();
    assert!((eg.eta_bound.unwrap() - 1.0 / lmax).abs() < 1e-15);
    assert!((og.eta_bound.unwrap() - 2.0 / (3.0 * lmax)).abs() < 1e-15);
}
