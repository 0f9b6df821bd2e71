//! The analyzers and the monitor on small hand-built problems: verdicts, degenerate cases,
//! parameter validation, and divergence/cycle detection.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use faer::{Col, Mat};
use floral_data::Labels;
use floral_projection::{Bounds, ExactProjector};
use floral_stability::{
    AnalyticJacobian, AnalyticParams, DegenerateReason, FiniteDifference, FiniteDifferenceParams, Linearization,
    MonitorParams, StabilityAnalyzer, StabilityError, StabilityMonitor, Trajectory, Verdict,
};
use floral_svm::{Gram, PgdMap, Rbf, RbfParams, SignedGram, Smo, SmoParams};

/// Two interleaved classes of 10 points in the plane (deterministic), RBF γ = 0.8.
fn problem() -> SignedGram {
    let n = 10;
    let x = Mat::from_fn(n, 2, |i, j| {
        let t = i as f64;
        if j == 0 { (t * 0.37).sin() * 1.5 + t * 0.2 } else { (t * 0.91).cos() + if i % 2 == 0 { 0.4 } else { -0.4 } }
    });
    let g = Gram::new(&Rbf::new(RbfParams { gamma: 0.8 }).unwrap(), x.as_ref());
    let y = Labels::from_signs((0..n).map(|i| i % 2 == 0));
    SignedGram::new(g, &y).unwrap()
}

fn svm(q: &SignedGram, c: f64) -> Col<f64> {
    Smo::new(SmoParams { eps: 1e-13, ..SmoParams::default() })
        .unwrap()
        .solve(q, Bounds::Uniform(c), None)
        .unwrap()
        .lambda
}

fn analytic() -> AnalyticJacobian {
    AnalyticJacobian::new(AnalyticParams::default()).unwrap()
}

#[test]
fn verdict_flips_at_the_critical_step() {
    let q = problem();
    let c = 5.0;
    let lambda = svm(&q, c);
    let p = ExactProjector::default();
    let probe = PgdMap::new(&q, 0.01, Bounds::Uniform(c), &p).unwrap();
    let r = analytic().analyze(&probe, lambda.as_ref()).unwrap();
    assert!(r.free >= 2, "free set {}", r.free);
    let crit = r.critical_eta.unwrap();
    let lmax = r.lambda_max_k.unwrap();
    assert!((r.eta_bound.unwrap() - 2.0 / lmax).abs() < 1e-15);
    assert!(r.mu_max <= lmax * (1.0 + 1e-12), "μ_max {} > λ_max(K) {lmax}", r.mu_max);
    for (f, want) in
        [(0.5, Verdict::Stable), (0.99, Verdict::Stable), (1.01, Verdict::Unstable), (1.5, Verdict::Unstable)]
    {
        let map = PgdMap::new(&q, f * crit, Bounds::Uniform(c), &p).unwrap();
        let r = analytic().analyze(&map, lambda.as_ref()).unwrap();
        assert_eq!(r.verdict, want, "η = {f}·2/μ_max, ρ = {}", r.spectral_radius);
        // ρ = max(|1 − ημ_min|, |1 − ημ_max|).
        let mu_min = r.mu_min.unwrap();
        let want_rho = (1.0 - r.eta * mu_min).abs().max((1.0 - r.eta * r.mu_max).abs());
        assert!((r.spectral_radius - want_rho).abs() < 1e-12);
        assert_eq!(r.jacobian_eigenvalues.len(), r.free - 1);
    }
}

#[test]
fn finite_differences_agree_with_the_analytic_jacobian() {
    let q = problem();
    let c = 5.0;
    let lambda = svm(&q, c);
    let p = ExactProjector::default();
    let map = PgdMap::new(&q, 0.2, Bounds::Uniform(c), &p).unwrap();
    let fd = FiniteDifference::new(FiniteDifferenceParams::default()).unwrap();
    let r = fd.analyze(&map, lambda.as_ref()).unwrap();
    let check = r.fd.unwrap();
    assert!(check.max_abs_diff < 1e-6, "FD vs analytic {}", check.max_abs_diff);
    assert!((r.spectral_radius - check.analytic_spectral_radius).abs() < 1e-6);
    let a = analytic().analyze(&map, lambda.as_ref()).unwrap();
    assert_eq!(a.verdict, r.verdict);
    assert_eq!(a.free, r.free);
}

#[test]
fn empty_free_set_is_degenerate() {
    // C = 0: every coordinate is clipped to 0.
    let q = problem();
    let p = ExactProjector::default();
    let map = PgdMap::new(&q, 0.1, Bounds::Uniform(0.0), &p).unwrap();
    let r = analytic().analyze(&map, Col::zeros(q.n()).as_ref()).unwrap();
    assert_eq!(r.free, 0);
    assert_eq!(r.verdict, Verdict::Degenerate { reason: DegenerateReason::EmptyFreeSet });
    assert_eq!(r.spectral_radius, 0.0);
}

#[test]
fn a_bound_with_zero_slack_is_degenerate() {
    // Two points, labels +1/−1: T(λ) lands on the diagonal λ_0 = λ_1. Choose λ so that
    // z − μỹ is exactly C on both coordinates: T(λ) = (C, C) with zero margin.
    let k = Mat::from_fn(2, 2, |i, j| if i == j { 1.0 } else { 0.0 });
    let y = Labels::new(vec![1.0, -1.0]).unwrap();
    let q = SignedGram::new(Gram::from_mat(k).unwrap(), &y).unwrap();
    let p = ExactProjector::default();
    let (eta, c) = (0.5, 1.0);
    let map = PgdMap::new(&q, eta, Bounds::Uniform(c), &p).unwrap();
    // z_i = λ_i − η(λ_i − 1) = 0.5 λ_i + 0.5 = 1 at λ_i = 1.
    let at = Col::from_fn(2, |_| 1.0);
    let lin = Linearization::new(&map, at.as_ref()).unwrap();
    assert_eq!(lin.at_upper, 2);
    let r = analytic().analyze(&map, at.as_ref()).unwrap();
    assert!(matches!(r.verdict, Verdict::Degenerate { reason: DegenerateReason::EmptyFreeSet }));
    // A free point within tolerance of the bound.
    let at = Col::from_fn(2, |_| 1.0 - 1e-12);
    let r = analytic().analyze(&map, at.as_ref()).unwrap();
    assert_eq!(r.free, 2);
    assert!(
        matches!(r.verdict, Verdict::Degenerate { reason: DegenerateReason::NoStrictComplementarity { .. } }),
        "{:?}",
        r.verdict
    );
    // Away from the bound: stable (Q̃ = I on range(P), μ = 1, ρ = |1 − η| = 0.5).
    let at = Col::from_fn(2, |_| 0.5);
    let r = analytic().analyze(&map, at.as_ref()).unwrap();
    assert_eq!(r.verdict, Verdict::Stable);
    assert!((r.spectral_radius - 0.5).abs() < 1e-15);
}

#[test]
fn singular_block_is_marginal() {
    // Two identical points: K = [[1, 1], [1, 1]], opposite labels: Q̃_FF = [[1, −1], [−1, 1]]
    // and range(P) is spanned by (1, 1)/√2, on which Q̃ vanishes: μ = 0, ρ = 1.
    let k = Mat::from_fn(2, 2, |_, _| 1.0);
    let y = Labels::new(vec![1.0, -1.0]).unwrap();
    let q = SignedGram::new(Gram::from_mat(k).unwrap(), &y).unwrap();
    let p = ExactProjector::default();
    let map = PgdMap::new(&q, 0.3, Bounds::Uniform(1.0), &p).unwrap();
    let r = analytic().analyze(&map, Col::from_fn(2, |_| 0.5).as_ref()).unwrap();
    assert!(matches!(r.verdict, Verdict::Degenerate { reason: DegenerateReason::Marginal { .. } }), "{:?}", r.verdict);
    assert_eq!(r.critical_eta, None);
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let q = problem();
    let p = ExactProjector::default();
    let map = PgdMap::new(&q, 0.1, Bounds::Uniform(1.0), &p).unwrap();
    assert!(matches!(analytic().analyze(&map, Col::zeros(3).as_ref()), Err(StabilityError::DimensionMismatch { .. })));
    let mut bad = Col::<f64>::zeros(q.n());
    bad[4] = f64::NAN;
    assert!(matches!(analytic().analyze(&map, bad.as_ref()), Err(StabilityError::NonFinite { index: 4, .. })));
    assert!(matches!(
        AnalyticJacobian::new(AnalyticParams { tol: -1.0, kernel_bound: false }),
        Err(StabilityError::InvalidParam { field: "tol", .. })
    ));
    assert!(matches!(
        FiniteDifference::new(FiniteDifferenceParams { h: 0.0, tol: 1e-9 }),
        Err(StabilityError::InvalidParam { field: "h", .. })
    ));
    for (field, params) in [
        ("every", MonitorParams { every: 0, ..MonitorParams::default() }),
        ("max_period", MonitorParams { max_period: 1, ..MonitorParams::default() }),
        ("cycle_tol", MonitorParams { cycle_tol: 1.0, ..MonitorParams::default() }),
        ("divergence_growth", MonitorParams { divergence_growth: 1.0, ..MonitorParams::default() }),
    ] {
        match StabilityMonitor::new(params) {
            Err(StabilityError::InvalidParam { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: {other:?}"),
        }
    }
}

/// Iterate T from λ* + ε·d and feed the monitor; returns the monitor.
fn run_monitor(f: f64, rounds: usize) -> (StabilityMonitor, f64) {
    let q = problem();
    let c = 5.0;
    let lambda = svm(&q, c);
    let p = ExactProjector::default();
    let probe = PgdMap::new(&q, 0.01, Bounds::Uniform(c), &p).unwrap();
    let r = analytic().analyze(&probe, lambda.as_ref()).unwrap();
    let eta = f * r.critical_eta.unwrap();
    let map = PgdMap::new(&q, eta, Bounds::Uniform(c), &p).unwrap();
    let lin = Linearization::new(&map, lambda.as_ref()).unwrap();
    // A direction on the free set with ỹ_Fᵀd = 0.
    let ys = q.labels().as_slice();
    let mut d = Col::<f64>::zeros(q.n());
    for (k, &i) in lin.free.iter().enumerate() {
        d[i] = ((k * 7 + 3) % 5) as f64 - 2.0;
    }
    let mean: f64 = lin.free.iter().map(|&i| ys[i] * d[i]).sum::<f64>() / lin.free.len() as f64;
    for &i in &lin.free {
        d[i] -= ys[i] * mean;
    }
    let eps = 1e-3 * lin.min_margin;
    let norm = d.iter().map(|v| v * v).sum::<f64>().sqrt();
    let mut x = Col::from_fn(q.n(), |i| lambda[i] + eps * d[i] / norm);
    let mut mon = StabilityMonitor::new(MonitorParams { every: 5, ..MonitorParams::default() }).unwrap();
    for t in 1..=rounds {
        x = map.apply(x.as_ref()).unwrap();
        mon.observe(t, Some(&map), x.as_ref(), false).unwrap();
    }
    (mon, eta)
}

#[test]
fn monitor_sees_convergence_below_the_critical_step() {
    let (mon, _) = run_monitor(0.6, 4000);
    let s = mon.summary();
    assert_eq!(s.first_divergence, None);
    assert_eq!(s.first_cycle, None);
    assert_eq!(s.last, Trajectory::Converged, "{s:?}");
    assert_eq!(s.samples, 800);
    assert!(s.max_spectral_radius.unwrap() < 1.0);
    assert_eq!(s.unstable_samples, 0);
}

#[test]
fn monitor_sees_divergence_then_a_cycle_above_it() {
    let (mon, _) = run_monitor(1.3, 4000);
    let s = mon.summary();
    assert!(s.first_divergence.is_some(), "{s:?}");
    assert!(s.max_spectral_radius.unwrap() > 1.0);
    assert!(s.unstable_samples > 0);
    assert_ne!(s.last, Trajectory::Converged, "{s:?}");
    // The box keeps the iterates bounded: after growing they settle into an oscillation.
    let (round, period) = s.first_cycle.expect("a cycle");
    assert!(round > s.first_divergence.unwrap() && period >= 2, "{s:?}");
}

#[test]
fn changed_labels_make_the_sample_degenerate() {
    let q = problem();
    let p = ExactProjector::default();
    let map = PgdMap::new(&q, 0.01, Bounds::Uniform(5.0), &p).unwrap();
    let lambda = svm(&q, 5.0);
    let mut mon = StabilityMonitor::new(MonitorParams { every: 1, ..MonitorParams::default() }).unwrap();
    mon.observe(1, Some(&map), lambda.as_ref(), false).unwrap();
    mon.observe(2, Some(&map), lambda.as_ref(), true).unwrap();
    let s = mon.samples();
    assert_eq!(s[0].verdict, Verdict::Stable);
    assert_eq!(s[1].verdict, Verdict::Degenerate { reason: DegenerateReason::AttackerNotLocallyConstant });
    assert_eq!(s[0].spectral_radius, s[1].spectral_radius);
    // A non-finite λ is a divergence state, not an error.
    let mut bad = lambda.clone();
    bad[0] = f64::INFINITY;
    assert!(matches!(mon.observe(3, None, bad.as_ref(), false).unwrap(), Trajectory::Diverging { .. }));
}

#[test]
fn the_dense_free_block_has_the_reported_eigenvalues() {
    // J = P(I − ηQ̃_FF)P built densely: its eigenvalues are the report's 1 − ημ_j plus one 0
    // (on ỹ_F).
    let q = problem();
    let c = 5.0;
    let lambda = svm(&q, c);
    let p = ExactProjector::default();
    let map = PgdMap::new(&q, 0.3, Bounds::Uniform(c), &p).unwrap();
    let lin = Linearization::new(&map, lambda.as_ref()).unwrap();
    let j = AnalyticJacobian::free_block(&map, &lin.free);
    assert_eq!(j.nrows(), lin.free.len());
    let mut dense = floral_stability::linalg::symmetric_eigenvalues(j.as_ref(), "J").unwrap();
    let r = analytic().analyze(&map, lambda.as_ref()).unwrap();
    let mut want = r.jacobian_eigenvalues.clone();
    want.push(0.0);
    want.sort_by(f64::total_cmp);
    dense.sort_by(f64::total_cmp);
    assert_eq!(dense.len(), want.len());
    for (a, b) in dense.iter().zip(&want) {
        assert!((a - b).abs() < 1e-12, "{dense:?} vs {want:?}");
    }
    let rho = dense.iter().map(|v| v.abs()).fold(0.0, f64::max);
    assert!((rho - r.spectral_radius).abs() < 1e-12);
}
