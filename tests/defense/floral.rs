//! The FLORAL learner: without an attacker its projected-gradient iteration converges to the
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! exact SVM dual optimum (SMO); under attack its incrementally updated Q̃λ equals a fresh product;
//! its step is the pure map T; per-point bounds hold.

use super::Flipper;
use faer::{Col, ColRef};
use floral_attack::NoAttack;
use floral_data::{FlipSet, Labels, Stream, Streams, stream};
use floral_defense::{BiasChoice, FloralLearner, FloralParams, Init, Schedule};
use floral_game::{Budget, Control, GameError, GameParams, Learner, NoObserver, Observer, RoundRecord, play};
use floral_projection::{Bounds, ExactProjector};
use floral_svm::{Gram, Rbf, RbfParams, SignedGram, Smo, SmoParams};

fn problem(n: usize, seed: u64) -> (SignedGram, Labels) {
    let mut rng = stream(seed, Stream::Data);
    let d = floral_data::moons(n, 0.2, &mut rng).unwrap();
    let k = Rbf::new(RbfParams { gamma: 1.0 }).unwrap();
    let gram = Gram::new(&k, d.x());
    let q = SignedGram::new(gram.clone(), d.y()).unwrap();
    (q, d.y().clone())
}

fn objective(q: &SignedGram, lambda: ColRef<'_, f64>) -> f64 {
    let mut g = Col::zeros(q.n());
    q.matvec_into(lambda, g.as_mut());
    (0..q.n()).map(|i| 0.5 * lambda[i] * g[i] - lambda[i]).sum()
}

fn params(c: f64, eta: f64, init: Init) -> FloralParams {
    FloralParams {
        c,
        eta,
        schedule: Schedule::Constant,
        init,
        bias: BiasChoice::FreeSupportVectors,
        sv_threshold: 1e-8,
    }
}

#[test]
fn without_attack_pgd_converges_to_the_smo_optimum() {
    let (mut q, y) = problem(40, 3);
    let c = 1.0;
    let sol = Smo::new(SmoParams { eps: 1e-10, ..SmoParams::default() })
        .unwrap()
        .solve(&q, Bounds::Uniform(c), None)
        .unwrap();
    let opt = objective(&q, sol.lambda.as_ref());
    let lmax = Gram::from_mat(q.k().to_owned()).unwrap().max_eigenvalue().unwrap();
    let mut lrn =
        FloralLearner::new(params(c, 1.0 / lmax, Init::Zero), std::sync::Arc::new(ExactProjector::default())).unwrap();
    let game = GameParams {
        rounds: 20_000,
        budget: Budget { k: 0 },
        unattacked_rounds: 0,
        tol: None,
        diverge_above: f64::INFINITY,
    };
    play(&game, &mut q, &y, &mut NoAttack, &mut lrn, &mut Streams::new(1), &mut NoObserver).unwrap();
    let got = objective(&q, lrn.lambda());
    assert!((got - opt).abs() <= 1e-6 * (1.0 + opt.abs()), "PGD {got} vs SMO {opt}");
    // Feasible: 0 ≤ λ ≤ C and yᵀλ = 0.
    let l = lrn.lambda();
    assert!((0..l.nrows()).all(|i| (0.0..=c).contains(&l[i])));
    assert!((0..l.nrows()).map(|i| y.get(i) * l[i]).sum::<f64>().abs() < 1e-10);
}

#[test]
fn svm_init_starts_at_the_optimum_and_stays_there_without_attack() {
    let (mut q, y) = problem(30, 4);
    let lmax = Gram::from_mat(q.k().to_owned()).unwrap().max_eigenvalue().unwrap();
    let mut lrn =
        FloralLearner::new(params(1.0, 0.5 / lmax, Init::Svm), std::sync::Arc::new(ExactProjector::default())).unwrap();
    lrn.reset(&q).unwrap();
    let start = objective(&q, lrn.lambda());
    let game = GameParams {
        rounds: 50,
        budget: Budget { k: 0 },
        unattacked_rounds: 0,
        tol: None,
        diverge_above: f64::INFINITY,
    };
    play(&game, &mut q, &y, &mut NoAttack, &mut lrn, &mut Streams::new(1), &mut NoObserver).unwrap();
    let end = objective(&q, lrn.lambda());
    assert!(end <= start + 1e-9, "objective rose from {start} to {end}");
    assert!((end - start).abs() < 1e-3 * (1.0 + start.abs()));
}

/// The bias the learner caches equals the bias recomputed from scratch (observers see it).
struct CheckBias(usize);
impl Observer for CheckBias {
    fn on_round(&mut self, rec: &RoundRecord<'_>) -> Result<Control, GameError> {
        let b = floral_svm::bias(floral_svm::BiasRule::FreeSupportVectors, rec.q, rec.lambda, Bounds::Uniform(1.0));
        assert!((b - rec.bias).abs() <= 1e-12 * (1.0 + b.abs()));
        self.0 += 1;
        Ok(Control::Continue)
    }
}

#[test]
fn cached_bias_matches_a_fresh_computation_under_attack() {
    let (mut q, y) = problem(64, 5);
    let mut lrn =
        FloralLearner::new(params(1.0, 0.05, Init::Zero), std::sync::Arc::new(ExactProjector::default())).unwrap();
    let game = GameParams {
        rounds: 60,
        budget: Budget { k: 3 },
        unattacked_rounds: 1,
        tol: None,
        diverge_above: f64::INFINITY,
    };
    let mut obs = CheckBias(0);
    play(&game, &mut q, &y, &mut Flipper, &mut lrn, &mut Streams::new(9), &mut obs).unwrap();
    assert_eq!(obs.0, 60);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 24, ..Default::default() })]

    /// Q̃λ the step uses, updated incrementally across label flips (O(n·|F|)),
    /// equals a fresh ỹ∘K(ỹ∘λ) to 1e-12 relative (in the max norm), after random sequences of
    /// flip sets and steps.
    #[test]
    fn incremental_q_lambda_equals_a_fresh_product(
        seed in 0u64..1000,
        // At most 4 flips a set, so at most 8 of 80 labels differ from the last step's
        // (8·8 < 80): every check takes the incremental path.
        flip_sets in proptest::collection::vec(proptest::collection::btree_set(0usize..80, 0..5), 1..12),
    ) {
        let (q0, y) = problem(80, seed);
        let mut lrn = FloralLearner::new(params(1.0, 0.05, Init::Zero), std::sync::Arc::new(ExactProjector::default())).unwrap();
        lrn.reset(&q0).unwrap();
        let mut q = q0.clone();
        let mut rng = stream(seed, Stream::Learner);
        // A few steps on the clean labels so λ has support.
        for t in 1..=5 {
            lrn.step(t, &q, &mut rng).unwrap();
        }
        for (r, set) in flip_sets.iter().enumerate() {
            let flips = FlipSet::new(set.iter().copied().collect(), 80).unwrap();
            q.set_labels(&y.apply(&flips).unwrap()).unwrap();
            let changed = lrn.lambda().nrows(); // n
            let mut fresh = Col::zeros(changed);
            q.matvec_into(lrn.lambda(), fresh.as_mut());
            let scale = fresh.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(f64::MIN_POSITIVE);
            let inc = lrn.q_lambda_for(&q).to_owned();
            let worst = (0..changed).map(|i| (inc[i] - fresh[i]).abs()).fold(0.0, f64::max);
            proptest::prop_assert!(worst <= 1e-12 * scale, "round {r}: max |Δ| {worst} vs scale {scale}");
            lrn.step(6 + r, &q, &mut rng).unwrap();
        }
    }
}

#[test]
fn per_point_bounds_flow_through_the_learner() {
    let (mut q, y) = problem(40, 6);
    let n = q.n();
    // C_i = 0 for the first ten points (they can never become support vectors), 1 elsewhere.
    let cs: std::sync::Arc<[f64]> = (0..n).map(|i| if i < 10 { 0.0 } else { 1.0 }).collect();
    let mut lrn = FloralLearner::new(params(1.0, 0.05, Init::Zero), std::sync::Arc::new(ExactProjector::default()))
        .unwrap()
        .with_bounds(floral_svm::BoxBounds::PerPoint(cs))
        .unwrap();
    let game = GameParams {
        rounds: 200,
        budget: Budget { k: 0 },
        unattacked_rounds: 0,
        tol: None,
        diverge_above: f64::INFINITY,
    };
    play(&game, &mut q, &y, &mut NoAttack, &mut lrn, &mut Streams::new(1), &mut NoObserver).unwrap();
    let l = lrn.lambda();
    assert!((0..10).all(|i| l[i] == 0.0));
    assert!((10..n).all(|i| (0.0..=1.0).contains(&l[i])));
    assert!((10..n).any(|i| l[i] > 0.0));
    assert_eq!(
        lrn.bounds(),
        Some(Bounds::PerPoint(&(0..n).map(|i| if i < 10 { 0.0 } else { 1.0 }).collect::<Vec<_>>()))
    );
    let bad: std::sync::Arc<[f64]> = vec![f64::NAN; n].into();
    assert!(
        FloralLearner::new(params(1.0, 0.05, Init::Zero), std::sync::Arc::new(ExactProjector::default()))
            .unwrap()
            .with_bounds(floral_svm::BoxBounds::PerPoint(bad))
            .is_err()
    );
}

#[test]
fn a_learner_step_is_the_pure_map() {
    // λ^1 from the learner equals T(λ^0) from PgdMap, bit for bit, on the same labels.
    let (q, _) = problem(50, 8);
    let mut lrn =
        FloralLearner::new(params(1.0, 0.07, Init::Zero), std::sync::Arc::new(ExactProjector::default())).unwrap();
    lrn.reset(&q).unwrap();
    let mut rng = stream(1, Stream::Learner);
    for t in 1..=3 {
        let before = lrn.lambda().to_owned();
        let expect = lrn.map(t, &q).unwrap().apply(before.as_ref()).unwrap();
        lrn.step(t, &q, &mut rng).unwrap();
        assert_eq!(lrn.lambda().to_owned(), expect, "round {t}");
    }
}

#[test]
fn invalid_params_name_the_field() {
    let bad = FloralParams { c: 0.0, ..FloralParams::reference() };
    let e = FloralLearner::new(bad, std::sync::Arc::new(ExactProjector::default())).unwrap_err().to_string();
    assert!(e.contains("`c`"), "{e}");
    let bad = FloralParams { eta: f64::NAN, ..FloralParams::reference() };
    let e = FloralLearner::new(bad, std::sync::Arc::new(ExactProjector::default())).unwrap_err().to_string();
    assert!(e.contains("`eta`"), "{e}");
}
