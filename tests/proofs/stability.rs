//! Numerical checks of `proofs/stability.md` (claims (a)–(g)). Every test names its claim. The
//! reference computations here (dense P, dense Q̃, iterating T) are written without the
//! analyzer's compression of Q̃_FF; the iteration goes through the public `PgdMap` only.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::process::Command;
use std::sync::Arc;

use faer::{Col, Mat};
use floral::data::{FlipSet, FloralRng, Labels, Stream, Streams, stream};
use floral::defense::{BiasChoice, FloralLearner, FloralParams, Init, Schedule};
use floral::experiment::StabilityObserver;
use floral::game::{Attacker, Budget, GameError, GameParams, RoundView, play};
use floral::projection::{Bounds, ExactProjector, Projector};
use floral::stability::linalg::{general_eigenvalues, symmetric_eigenvalues};
use floral::stability::{
    AnalyticJacobian, AnalyticParams, FiniteDifference, FiniteDifferenceParams, Linearization, MonitorParams,
    StabilityAnalyzer, Trajectory, Verdict,
};
use floral::svm::{BoxBounds, Gram, PgdMap, Rbf, RbfParams, SignedGram, Smo, SmoParams};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use rand::Rng;

fn config(default_cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default_cases),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/proofs_stability.txt",
        ))),
        ..ProptestConfig::default()
    }
}

/// A small random problem from `seed` (stream `Analysis`): n ∈ [4, 12] points on distinct cells
/// of a 4×4 grid of spacing 1, jittered by up to ±0.2 per coordinate (so the RBF Gram matrix is
/// well conditioned), γ ∈ [0.5, 2], labels ±1 with both classes present, C ∈ [0.5, 5].
struct Problem {
    q: SignedGram,
    c: f64,
    rng: FloralRng,
}

fn problem(seed: u64) -> Problem {
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
    Problem { q: SignedGram::new(gram, &y).unwrap(), c, rng }
}

fn svm(q: &SignedGram, c: f64) -> Col<f64> {
    Smo::new(SmoParams { eps: 1e-13, ..SmoParams::default() })
        .unwrap()
        .solve(q, Bounds::Uniform(c), None)
        .unwrap()
        .lambda
}

fn lambda_max(q: &SignedGram) -> f64 {
    q.gram().max_eigenvalue().unwrap()
}

fn analytic() -> AnalyticJacobian {
    AnalyticJacobian::new(AnalyticParams::default()).unwrap()
}

fn norm(v: &Col<f64>) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

fn diff(a: &Col<f64>, b: &Col<f64>) -> Col<f64> {
    Col::from_fn(a.nrows(), |i| a[i] - b[i])
}

/// max_j Σ_i |(I − ηQ̃)_ij|: how far one coordinate step of size h moves z in ℓ∞ is at most h
/// times this.
fn col_sum_bound(q: &SignedGram, eta: f64) -> f64 {
    let n = q.n();
    (0..n)
        .map(|j| (0..n).map(|i| (f64::from(u8::from(i == j)) - eta * q.entry(i, j)).abs()).sum::<f64>())
        .fold(0.0, f64::max)
}

proptest! {
    #![proptest_config(config(64))]

    /// Claim (a): Q̃ = diag(ỹ) K diag(ỹ) has exactly the eigenvalues of K, for every labelling.
    #[test]
    fn signed_gram_has_the_spectrum_of_k(seed in any::<u64>()) {
        let p = problem(seed);
        let kq = symmetric_eigenvalues(p.q.to_dense().as_ref(), "Q̃").unwrap();
        let kk = symmetric_eigenvalues(p.q.k(), "K").unwrap();
        let scale = kk.last().copied().unwrap();
        for (a, b) in kq.iter().zip(&kk) {
            prop_assert!((a - b).abs() <= 1e-12 * scale, "{kq:?} vs {kk:?}");
        }
    }

    /// Claim (f): μ_max(P Q̃_FF P) ≤ λ_max(Q̃_FF) ≤ λ_max(K) for every free set and labelling, so
    /// the critical step 2/μ_max is never below the label-independent bound 2/λ_max(K).
    #[test]
    fn critical_step_is_at_least_the_kernel_bound(seed in any::<u64>()) {
        let mut p = problem(seed);
        let n = p.q.n();
        let proj = ExactProjector::default();
        let lmax = lambda_max(&p.q);
        for _ in 0..4 {
            let m = p.rng.random_range(2..=n);
            let mut idx: Vec<usize> = (0..n).collect();
            for i in 0..m {
                let j = p.rng.random_range(i..n);
                idx.swap(i, j);
            }
            let mut free = idx[..m].to_vec();
            free.sort_unstable();
            let map = PgdMap::new(&p.q, 0.1, Bounds::Uniform(p.c), &proj).unwrap();
            let mu = AnalyticJacobian::projected_spectrum(&map, &free).unwrap();
            let mu_max = mu.last().copied().unwrap();
            let qff = Mat::from_fn(m, m, |i, j| p.q.entry(free[i], free[j]));
            let lff = symmetric_eigenvalues(qff.as_ref(), "Q̃_FF").unwrap().last().copied().unwrap();
            prop_assert!(mu_max <= lff * (1.0 + 1e-12) + 1e-14, "μ_max {mu_max} > λ_max(Q̃_FF) {lff}");
            prop_assert!(lff <= lmax * (1.0 + 1e-12), "λ_max(Q̃_FF) {lff} > λ_max(K) {lmax}");
            prop_assert!(mu.iter().all(|&v| v >= -1e-12 * lmax), "negative μ: {mu:?}");
            // A fresh label flip changes nothing in the bound.
            let i = p.rng.random_range(0..n);
            p.q.flip(i);
            prop_assert!((lambda_max(&p.q) - lmax).abs() <= 1e-12 * lmax);
        }
    }

    /// Claim (c): where strict complementarity holds, T is affine near λ with
    /// DT(λ) = E_F P E_Fᵀ(I − ηQ̃), F the free set of T(λ): central differences through
    /// `PgdMap::apply` agree with the formula to 1e-6, and so do the spectral radii (the
    /// finite-difference one from the general eigensolver). Points: the SVM solution (a fixed
    /// point) and random points of the box [0, C]ⁿ; η from 0.05/λ_max(K) to 3/λ_max(K).
    #[test]
    fn analytic_and_finite_difference_jacobians_agree(seed in any::<u64>(), at_svm in any::<bool>(), f in 0.05..3.0_f64) {
        let mut p = problem(seed);
        let n = p.q.n();
        let eta = f / lambda_max(&p.q);
        let lambda = if at_svm { svm(&p.q, p.c) } else { Col::from_fn(n, |_| p.rng.random_range(0.0..p.c)) };
        let proj = ExactProjector::default();
        let map = PgdMap::new(&p.q, eta, Bounds::Uniform(p.c), &proj).unwrap();
        let fd = FiniteDifference::new(FiniteDifferenceParams::default()).unwrap();
        let h = fd.params().h;
        let lin = Linearization::new(&map, lambda.as_ref()).unwrap();
        // Strict complementarity with room for the differences: every margin above 4h·‖I − ηQ̃‖₁.
        prop_assume!(!lin.free.is_empty() && lin.min_margin > 4.0 * h * col_sum_bound(&p.q, eta));
        let r = fd.analyze(&map, lambda.as_ref()).unwrap();
        let check = r.fd.unwrap();
        prop_assert!(check.max_abs_diff <= 1e-6, "max |J_fd − J| = {}", check.max_abs_diff);
        prop_assert!((r.spectral_radius - check.analytic_spectral_radius).abs() <= 1e-6 * r.spectral_radius.max(1.0),
            "ρ_fd {} vs ρ {}", r.spectral_radius, check.analytic_spectral_radius);
        // The dense formula, built independently of the analyzer: rows in F are
        // P (I − ηQ̃)_{F,:}, the others 0.
        let full = AnalyticJacobian::full_jacobian(&map, lambda.as_ref()).unwrap();
        let m = lin.free.len();
        let ys: Vec<f64> = lin.free.iter().map(|&i| p.q.labels().get(i)).collect();
        for (a, &i) in lin.free.iter().enumerate() {
            for j in 0..n {
                let want: f64 = lin.free.iter().enumerate().map(|(b, &k)| {
                    let pab = f64::from(u8::from(a == b)) - ys[a] * ys[b] / m as f64;
                    pab * (f64::from(u8::from(k == j)) - eta * p.q.entry(k, j))
                }).sum();
                prop_assert!((full[(i, j)] - want).abs() <= 1e-12, "DT[{i},{j}]");
            }
        }
    }

    /// Claim (d): the eigenvalues of DT(λ) are 0 (n − |F| + 1 times) and 1 − ημ_j for the
    /// eigenvalues μ_j of P Q̃_FF P on range(P); the spectral radius of DT is
    /// ρ = max_j |1 − ημ_j|.
    #[test]
    fn jacobian_spectrum_is_one_minus_eta_mu(seed in any::<u64>(), f in 0.05..3.0_f64) {
        let mut p = problem(seed);
        let n = p.q.n();
        let eta = f / lambda_max(&p.q);
        let lambda = Col::from_fn(n, |_| p.rng.random_range(0.0..p.c));
        let proj = ExactProjector::default();
        let map = PgdMap::new(&p.q, eta, Bounds::Uniform(p.c), &proj).unwrap();
        let lin = Linearization::new(&map, lambda.as_ref()).unwrap();
        prop_assume!(lin.free.len() >= 2);
        let full = AnalyticJacobian::full_jacobian(&map, lambda.as_ref()).unwrap();
        let mut got = general_eigenvalues(full.as_ref(), "DT").unwrap();
        prop_assert!(got.iter().all(|&(_, im)| im.abs() <= 1e-9), "complex eigenvalues {got:?}");
        let mut got: Vec<f64> = got.drain(..).map(|(re, _)| re).collect();
        got.sort_by(f64::total_cmp);
        // μ_j from a dense P Q̃_FF P: its eigenvalue for ỹ_F is 0; drop the one closest to 0.
        let m = lin.free.len();
        let ys: Vec<f64> = lin.free.iter().map(|&i| p.q.labels().get(i)).collect();
        let pm = Mat::from_fn(m, m, |i, j| f64::from(u8::from(i == j)) - ys[i] * ys[j] / m as f64);
        let qff = Mat::from_fn(m, m, |i, j| p.q.entry(lin.free[i], lin.free[j]));
        let mut mu = symmetric_eigenvalues((&pm * &qff * &pm).as_ref(), "PQ̃P").unwrap();
        let zero = (0..m).min_by(|&a, &b| mu[a].abs().total_cmp(&mu[b].abs())).unwrap();
        mu.remove(zero);
        let mut want: Vec<f64> = mu.iter().map(|&v| 1.0 - eta * v).collect();
        want.extend(std::iter::repeat_n(0.0, n - m + 1));
        want.sort_by(f64::total_cmp);
        for (a, b) in got.iter().zip(&want) {
            prop_assert!((a - b).abs() <= 1e-9, "{got:?} vs {want:?}");
        }
        let r = analytic().analyze(&map, lambda.as_ref()).unwrap();
        let rho_dense = got.iter().map(|v| v.abs()).fold(0.0, f64::max);
        prop_assert!((r.spectral_radius - rho_dense).abs() <= 1e-9);
    }
}

proptest! {
    #![proptest_config(config(48))]

    /// Claim (e): at the SVM solution λ* (a fixed point of T, claim (b)) with strict
    /// complementarity and |F| ≥ 2, iterating T with fixed labels from λ* + ε·d (d a random
    /// direction in range(P) on F, ε far inside the affine region) converges exactly when the
    /// predicted spectral radius is below 1: for η = f·2/μ_max, f ∈ [0.2, 0.95], the error
    /// contracts as ρ^t (‖e_t‖ ≤ ρ^t‖e_0‖ for every t, and ‖e_N‖ ≤ 1e-2‖e_0‖ after
    /// N = ⌈ln 1e-2 / ln ρ⌉ steps); for f ∈ [1.05, 1.6] it grows past 100‖e_0‖ and the
    /// iterates have not converged after N steps (‖e_N‖ > ‖e_0‖).
    #[test]
    fn predicted_stability_matches_iteration(seed in any::<u64>(), stable in any::<bool>(), u in 0.0..1.0_f64) {
        let mut p = problem(seed);
        let n = p.q.n();
        let star = svm(&p.q, p.c);
        let proj = ExactProjector::default();
        let probe = PgdMap::new(&p.q, 1.0 / lambda_max(&p.q), Bounds::Uniform(p.c), &proj).unwrap();
        let lin = Linearization::new(&probe, star.as_ref()).unwrap();
        // Claim (b): the SVM solution is a fixed point of T (for this and every η).
        prop_assert!(lin.fixed_point_residual <= 1e-9, "‖T(λ*) − λ*‖ = {}", lin.fixed_point_residual);
        prop_assume!(lin.free.len() >= 2 && lin.strictly_complementary(1e-6));
        let r0 = analytic().analyze(&probe, star.as_ref()).unwrap();
        let critical = r0.critical_eta.unwrap();
        let f = if stable { 0.2 + 0.75 * u } else { 1.05 + 0.55 * u };
        let eta = f * critical;
        let map = PgdMap::new(&p.q, eta, Bounds::Uniform(p.c), &proj).unwrap();
        let r = analytic().analyze(&map, star.as_ref()).unwrap();
        let lin = Linearization::new(&map, star.as_ref()).unwrap();
        prop_assume!(lin.strictly_complementary(1e-6));
        prop_assert_eq!(r.verdict, if stable { Verdict::Stable } else { Verdict::Unstable }, "ρ = {}", r.spectral_radius);
        // A random direction on F with ỹ_Fᵀd = 0 (dense P applied by hand).
        let ys = p.q.labels().as_slice();
        let mut d = Col::<f64>::zeros(n);
        for &i in &lin.free {
            d[i] = p.rng.random_range(-1.0..1.0);
        }
        let mean: f64 = lin.free.iter().map(|&i| ys[i] * d[i]).sum::<f64>() / lin.free.len() as f64;
        for &i in &lin.free {
            d[i] -= ys[i] * mean;
        }
        let dn = norm(&d);
        prop_assume!(dn > 1e-3);
        // Inside the affine region: ‖e‖∞ ≤ ‖e‖₂ and v moves by at most 2‖I − ηQ̃‖₁‖e‖∞.
        let eps = 1e-3 * lin.min_margin / col_sum_bound(&p.q, eta);
        let e0 = eps;
        let mut x = Col::from_fn(n, |i| star[i] + eps * d[i] / dn);
        let rho = r.spectral_radius;
        if stable {
            let steps = ((1e-2f64).ln() / rho.ln()).ceil() as usize;
            prop_assume!(steps <= 200_000);
            let mut bound = e0;
            for t in 1..=steps {
                x = map.apply(x.as_ref()).unwrap();
                bound *= rho;
                let e = norm(&diff(&x, &star));
                prop_assert!(e <= bound * (1.0 + 1e-6) + 1e-12, "step {t}: ‖e‖ = {e} > ρ^t‖e_0‖ = {bound}");
            }
            let e = norm(&diff(&x, &star));
            prop_assert!(e <= 1e-2 * e0 * (1.0 + 1e-6) + 1e-12, "after {steps} steps ‖e‖ = {e}, ‖e_0‖ = {e0}");
        } else {
            let steps = ((1e6f64).ln() / rho.ln()).ceil() as usize + 50;
            let mut peak = 0.0_f64;
            for _ in 0..steps {
                x = map.apply(x.as_ref()).unwrap();
                peak = peak.max(norm(&diff(&x, &star)));
            }
            let e = norm(&diff(&x, &star));
            prop_assert!(peak > 100.0 * e0, "peak ‖e‖ = {peak}, ‖e_0‖ = {e0}");
            prop_assert!(e > e0, "converged? ‖e_N‖ = {e}, ‖e_0‖ = {e0}, ρ = {rho}");
        }
    }
}

/// A moons problem for the game-level checks: 40 points, noise 0.2, RBF γ = 1, C = 1.
fn moons_problem() -> (SignedGram, Labels) {
    let d = floral::data::moons(40, 0.2, &mut stream(3, Stream::Data)).unwrap();
    let gram = Gram::new(&Rbf::new(RbfParams { gamma: 1.0 }).unwrap(), d.x());
    (SignedGram::new(gram, d.y()).unwrap(), d.y().clone())
}

#[derive(Debug)]
struct NoAttack;

impl Attacker for NoAttack {
    fn name(&self) -> &'static str {
        "none"
    }
    fn attack(&mut self, v: &RoundView<'_>, _rng: &mut FloralRng) -> Result<FlipSet, GameError> {
        Ok(FlipSet::empty(v.clean.len()))
    }
}

/// Play `rounds` rounds of FLORAL started at the SVM solution with step f·2/μ_max (μ_max at that
/// solution), with `attacker`, through `StabilityObserver`; returns the observer and 2/μ_max.
fn monitored_game(f: f64, rounds: usize, attacker: &mut dyn Attacker) -> (StabilityObserver, f64) {
    let (mut q, y) = moons_problem();
    let c = 1.0;
    let star = svm(&q, c);
    let proj: Arc<dyn Projector> = Arc::new(ExactProjector::default());
    let probe = PgdMap::new(&q, 0.01, Bounds::Uniform(c), proj.as_ref()).unwrap();
    let r = analytic().analyze(&probe, star.as_ref()).unwrap();
    assert!(r.free >= 2 && matches!(r.verdict, Verdict::Stable), "{r:?}");
    let critical = r.critical_eta.unwrap();
    let params = FloralParams {
        c,
        eta: f * critical,
        schedule: Schedule::Constant,
        init: Init::Svm,
        bias: BiasChoice::FreeSupportVectors,
        sv_threshold: 1e-8,
    };
    let mut learner = FloralLearner::new(params, proj.clone()).unwrap();
    let mut obs =
        StabilityObserver::new(MonitorParams { every: 5, ..MonitorParams::default() }, BoxBounds::Uniform(c), proj)
            .unwrap();
    let game =
        GameParams { rounds, budget: Budget { k: 2 }, unattacked_rounds: 0, tol: None, diverge_above: f64::INFINITY };
    play(&game, &mut q, &y, attacker, &mut learner, &mut Streams::new(1), &mut obs).unwrap();
    (obs, critical)
}

/// Claim (g), through the game: the observer adapter samples the spectral radius every m rounds
/// of a FLORAL game (no attack, started at the SVM solution). Below the critical step the
/// samples equal the analyzer's ρ at λ* and the trajectory stays converged; above it the
/// rounding-level error grows at rate ρ > 1, which the monitor reports as divergence (and the
/// box then holds the iterates in an oscillation).
#[test]
fn observer_monitors_a_floral_game() {
    let (obs, critical) = monitored_game(0.8, 400, &mut NoAttack);
    let s = obs.monitor().summary();
    assert_eq!((s.rounds, s.samples), (400, 80));
    assert_eq!(s.first_divergence, None, "{s:?}");
    assert_eq!(s.first_cycle, None, "{s:?}");
    assert!(matches!(s.last, Trajectory::Converged | Trajectory::Moving), "{s:?}");
    let first = &obs.monitor().samples()[0];
    assert!((first.eta - 0.8 * critical).abs() <= 1e-15 * critical);
    assert!(first.spectral_radius < 1.0 && first.verdict == Verdict::Stable && !first.labels_changed);
    assert!(obs.monitor().samples().iter().all(|x| (x.spectral_radius - first.spectral_radius).abs() < 1e-9));

    let (obs, _) = monitored_game(1.3, 400, &mut NoAttack);
    let s = obs.monitor().summary();
    assert!(s.first_divergence.is_some(), "{s:?}");
    assert!(s.max_spectral_radius.unwrap() > 1.0);
    assert!(s.unstable_samples > 0);
}

/// A deterministic attacker that alternates between flipping label 0 and label 1: the labels
/// change every round.
#[derive(Debug)]
struct Alternate(usize);

impl Attacker for Alternate {
    fn name(&self) -> &'static str {
        "alternate"
    }
    fn attack(&mut self, v: &RoundView<'_>, _rng: &mut FloralRng) -> Result<FlipSet, GameError> {
        self.0 += 1;
        Ok(FlipSet::new(vec![self.0 % 2], v.clean.len())?)
    }
}

/// Claim (g), the assumption on the attacker: when the labels change between rounds the
/// observer's samples are `Degenerate { AttackerNotLocallyConstant }`, whatever their ρ.
#[test]
fn changing_labels_are_reported_as_an_attacker_that_is_not_locally_constant() {
    let (obs, _) = monitored_game(0.5, 20, &mut Alternate(0));
    let samples = obs.monitor().samples();
    assert_eq!(samples.len(), 4);
    for x in samples {
        assert!(x.labels_changed);
        assert_eq!(x.verdict.reason(), Some(floral::stability::DegenerateReason::AttackerNotLocallyConstant));
    }
}

/// The numbers of `tests/fixtures/stability_moon_numpy.txt` (computed with numpy and
/// scikit-learn; its header has the script and the command).
fn fixture() -> Vec<(String, Vec<String>)> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/stability_moon_numpy.txt"))
        .unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut w = l.split_whitespace().map(str::to_string);
            let key = w.next().unwrap();
            (key, w.collect())
        })
        .collect()
}

fn cli_json(at: &str, eta: f64) -> serde_json::Value {
    let o = Command::new(env!("CARGO_BIN_EXE_floral"))
        .args(["stability", "--train", "moon_floral_seed42:train", "--kernel", "rbf", "--gamma", "0.5", "--c", "10"])
        .args(["--eta", &eta.to_string(), "--at", at, "--json"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(f64::MIN_POSITIVE)
}

/// Claims (a), (e), (f) on the Moon training set, against numbers computed independently with
/// numpy (`tests/fixtures/stability_moon_numpy.txt`): λ_max(K), 2/λ_max(K), |F|, μ_max and the
/// spectral radius (and 1 − ρ, where ρ is close to 1) agree to 1e-6 relative, at scikit-learn's
/// SVM solution (`--at FILE`), at floral's own SMO solution (`--at svm`, same free set) and at
/// λ = 0, for η = 1e-4, 0.005, 0.02.
#[test]
fn cli_matches_the_numpy_fixture() {
    let fx = fixture();
    let get = |key: &str| fx.iter().find(|(k, _)| k == key).map(|(_, v)| v[0].parse::<f64>().unwrap()).unwrap();
    let lmax = get("lambda_max_k");
    let bound = get("eta_bound");
    let lambda_file = "tests/fixtures/moon_train_svc_lambda.txt";
    let mut checked = 0;
    for (key, v) in fx.iter().filter(|(k, _)| k == "at") {
        assert_eq!(key, "at");
        // at <svc|zero> eta <η> free <m> mu_max <μ> spectral_radius <ρ>
        let eta: f64 = v[2].parse().unwrap();
        let free: usize = v[4].parse().unwrap();
        let mu_max: f64 = v[6].parse().unwrap();
        let rho: f64 = v[8].parse().unwrap();
        let ats: Vec<&str> = if v[0] == "svc" { vec![lambda_file, "svm"] } else { vec!["zero"] };
        for at in ats {
            let j = cli_json(at, eta);
            let what = format!("--at {at} --eta {eta}");
            assert!(rel(j["lambda_max_k"].as_f64().unwrap(), lmax) <= 1e-6, "{what}: {j}");
            assert!(rel(j["eta_bound"].as_f64().unwrap(), bound) <= 1e-6, "{what}: {j}");
            assert_eq!(j["free"].as_u64().unwrap() as usize, free, "{what}: {j}");
            assert!(rel(j["mu_max"].as_f64().unwrap(), mu_max) <= 1e-6, "{what}: {j}");
            let got = j["spectral_radius"].as_f64().unwrap();
            assert!(rel(got, rho) <= 1e-6, "{what}: ρ {got} vs numpy {rho}");
            if (rho - 1.0).abs() > 1e-9 {
                // Where ρ is close to 1, the distance to 1 carries the information.
                assert!(rel(1.0 - got, 1.0 - rho) <= 1e-6, "{what}: 1 − ρ {} vs numpy {}", 1.0 - got, 1.0 - rho);
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 9, "fixture lines checked");
}
