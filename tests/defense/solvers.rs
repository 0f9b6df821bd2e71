//! The game-solver learners (extragradient, optimistic gradient) next to FLORAL's: without an
//! attack they converge to the SMO optimum; a step is the pure map of `PgdMap` (bit for bit);
//! forks are exact copies and never disturb the real trajectory; the cached bias is a fresh
//! bias; the extragradient responder sees λ̂ and its response sets the gradient's labels.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};

use super::Flipper;
use faer::{Col, ColRef};
use floral_attack::NoAttack;
use floral_data::{FlipSet, FloralRng, Labels, Stream, Streams, stream};
use floral_defense::{
    AttackerFactory, BiasChoice, ExtragradientLearner, ExtragradientParams, FloralLearner, FloralParams, Init,
    OptimisticLearner, OptimisticParams, Schedule,
};
use floral_game::{
    Attacker, Budget, Control, GameError, GameParams, Learner, NoObserver, Observer, RoundRecord, RoundView, play,
};
use floral_projection::{Bounds, ExactProjector, Projector};
use floral_svm::{BoxBounds, Gram, PgdMap, Rbf, RbfParams, SignedGram, Smo, SmoParams};

fn problem(n: usize, seed: u64) -> (SignedGram, Labels) {
    let mut rng = stream(seed, Stream::Data);
    let d = floral_data::moons(n, 0.2, &mut rng).unwrap();
    let k = Rbf::new(RbfParams { gamma: 1.0 }).unwrap();
    let q = SignedGram::new(Gram::new(&k, d.x()), d.y()).unwrap();
    (q, d.y().clone())
}

fn objective(q: &SignedGram, lambda: ColRef<'_, f64>) -> f64 {
    let mut g = Col::zeros(q.n());
    q.matvec_into(lambda, g.as_mut());
    (0..q.n()).map(|i| 0.5 * lambda[i] * g[i] - lambda[i]).sum()
}

fn base(c: f64, eta: f64) -> FloralParams {
    FloralParams {
        c,
        eta,
        schedule: Schedule::Constant,
        init: Init::Zero,
        bias: BiasChoice::FreeSupportVectors,
        sv_threshold: 1e-8,
    }
}

fn projector() -> Arc<dyn Projector> {
    Arc::new(ExactProjector::default())
}

fn floral(c: f64, eta: f64, b: BoxBounds) -> Box<dyn Learner> {
    Box::new(FloralLearner::new(base(c, eta), projector()).unwrap().with_bounds(b).unwrap())
}

fn extragradient(c: f64, eta: f64, b: BoxBounds) -> Box<dyn Learner> {
    Box::new(
        ExtragradientLearner::new(ExtragradientParams { base: base(c, eta) }, projector())
            .unwrap()
            .with_bounds(b)
            .unwrap(),
    )
}

fn optimistic(c: f64, eta: f64, b: BoxBounds) -> Box<dyn Learner> {
    Box::new(
        OptimisticLearner::new(OptimisticParams { base: base(c, eta) }, projector()).unwrap().with_bounds(b).unwrap(),
    )
}

/// Extragradient whose responder flips the two points of largest λ̂_i ([`TopTwo`]).
fn extragradient_responding(c: f64, eta: f64, b: BoxBounds) -> Box<dyn Learner> {
    let factory: AttackerFactory = Arc::new(|| Ok(Box::new(TopTwo) as Box<dyn Attacker>));
    Box::new(
        ExtragradientLearner::new(ExtragradientParams { base: base(c, eta) }, projector())
            .unwrap()
            .with_responder(factory, Budget { k: 2 }, 1)
            .unwrap()
            .with_bounds(b)
            .unwrap(),
    )
}

/// Flips the two points with the largest λ_i (ties to the lower index): deterministic.
#[derive(Debug)]
struct TopTwo;
impl Attacker for TopTwo {
    fn name(&self) -> &'static str {
        "top-two"
    }
    fn attack(&mut self, v: &RoundView<'_>, _rng: &mut FloralRng) -> Result<FlipSet, GameError> {
        let n = v.lambda.nrows();
        let mut idx: Vec<usize> = (0..n).collect();
        idx.sort_by(|&a, &b| v.lambda[b].total_cmp(&v.lambda[a]).then(a.cmp(&b)));
        Ok(FlipSet::new(idx[..2].to_vec(), n)?)
    }
}

/// The bias the learner hands the game equals a fresh bias of (λ, ỹ^t) every round.
struct CheckBias {
    rounds: usize,
    bounds: Vec<f64>,
}
impl Observer for CheckBias {
    fn on_round(&mut self, rec: &RoundRecord<'_>) -> Result<Control, GameError> {
        let b = floral_svm::bias(
            floral_svm::BiasRule::FreeSupportVectors,
            rec.q,
            rec.lambda,
            Bounds::PerPoint(&self.bounds),
        );
        assert!((b - rec.bias).abs() <= 1e-12 * (1.0 + b.abs()), "round {}: {b} vs {}", rec.round, rec.bias);
        // The cached Q̃λ is a fresh product for the round's labels.
        let mut fresh = Col::zeros(rec.q.n());
        rec.q.matvec_into(rec.lambda, fresh.as_mut());
        let ql = rec.q_lambda.unwrap();
        assert!((0..fresh.nrows()).all(|i| (ql[i] - fresh[i]).abs() <= 1e-12 * (1.0 + fresh[i].abs())));
        self.rounds += 1;
        Ok(Control::Continue)
    }
}

/// A play on `q` with random flips applied by hand: (labels, rng) of each round from `seed`.
fn round_labels(y: &Labels, seed: u64, rounds: usize) -> Vec<Labels> {
    let mut rng = stream(seed, Stream::Attacker);
    let n = y.len();
    (0..rounds)
        .map(|_| y.apply(&FlipSet::new(rand::seq::index::sample(&mut rng, n, 3).into_vec(), n).unwrap()).unwrap())
        .collect()
}

macro_rules! learner_suite {
    ($($name:ident => $make:expr;)*) => {$(
        mod $name {
            use super::*;

            fn make(c: f64, eta: f64) -> Box<dyn Learner> { ($make)(c, eta, BoxBounds::Uniform(c)) }

            /// A fork stepped on other labels with another stream leaves the real trajectory bit
            /// for bit equal to an unforked twin's; a fork stepped like the original stays equal.
            #[test]
            fn fork_is_an_exact_copy_and_leaves_the_real_trajectory_unchanged() {
                let (q0, y) = problem(30, 7);
                let labels = round_labels(&y, 5, 12);
                let (mut a, mut b) = (make(1.0, 0.05), make(1.0, 0.05));
                a.reset(&q0).unwrap();
                b.reset(&q0).unwrap();
                let (mut ra, mut rb) = (stream(2, Stream::Learner), stream(2, Stream::Learner));
                let mut q = q0.clone();
                for (t, l) in labels.iter().enumerate() {
                    q.set_labels(l).unwrap();
                    if t == 5 {
                        // Disturbing fork: other labels, other stream, several steps.
                        let mut f = a.fork();
                        let mut qf = q0.clone();
                        let mut rf = stream(99, Stream::Learner);
                        for s in 0..4 {
                            f.step(t + 1 + s, &qf, &mut rf).unwrap();
                            qf.flip(s);
                        }
                        // Faithful fork: the same step as the original, compared below.
                        let mut g = a.fork();
                        let mut rg = ra.clone();
                        g.step(t + 1, &q, &mut rg).unwrap();
                        a.step(t + 1, &q, &mut ra).unwrap();
                        assert_eq!(g.lambda().to_owned(), a.lambda().to_owned());
                        assert_eq!(g.bias(&q).to_bits(), a.bias(&q).to_bits());
                        // And the next one (OGDA's previous gradient travels with the fork).
                        let q2 = { let mut q2 = q.clone(); q2.flip(0); q2 };
                        g.step(t + 2, &q2, &mut rg).unwrap();
                        let mut a2 = a.fork();
                        a2.step(t + 2, &q2, &mut ra.clone()).unwrap();
                        assert_eq!(g.lambda().to_owned(), a2.lambda().to_owned());
                    } else {
                        a.step(t + 1, &q, &mut ra).unwrap();
                    }
                    b.step(t + 1, &q, &mut rb).unwrap();
                    assert_eq!(a.lambda().to_owned(), b.lambda().to_owned(), "round {}", t + 1);
                }
                assert!(a.lambda().iter().any(|&v| v > 0.0));
            }

            /// Under attack the bias and Q̃λ the learner hands the game are fresh ones, with
            /// per-point bounds honoured (C_i = 0 for the first ten points).
            #[test]
            fn caches_are_fresh_and_per_point_bounds_hold_under_attack() {
                let (mut q, y) = problem(48, 5);
                let n = q.n();
                let cs: Vec<f64> = (0..n).map(|i| if i < 10 { 0.0 } else { 1.0 }).collect();
                assert_eq!(make(1.0, 0.05).bounds(), Some(Bounds::Uniform(1.0)));
                let mut lrn = ($make)(1.0, 0.05, BoxBounds::PerPoint(cs.clone().into()));
                let game = GameParams { rounds: 60, budget: Budget { k: 3 }, unattacked_rounds: 1, tol: None, diverge_above: f64::INFINITY };
                let mut obs = CheckBias { rounds: 0, bounds: cs.clone() };
                play(&game, &mut q, &y, &mut Flipper, lrn.as_mut(), &mut Streams::new(9), &mut obs).unwrap();
                assert_eq!(obs.rounds, 60);
                let l = lrn.lambda();
                assert!((0..10).all(|i| l[i] == 0.0));
                assert!((10..n).all(|i| (0.0..=1.0).contains(&l[i])));
                assert!((10..n).any(|i| l[i] > 0.0));
                assert_eq!(lrn.bounds(), Some(Bounds::PerPoint(&cs)));
            }

            /// The same seed gives the same game, bit for bit.
            #[test]
            fn games_are_deterministic() {
                let run = || {
                    let (mut q, y) = problem(40, 11);
                    let mut lrn = make(1.0, 0.05);
                    let game = GameParams { rounds: 40, budget: Budget { k: 3 }, unattacked_rounds: 1, tol: None, diverge_above: f64::INFINITY };
                    let out = play(&game, &mut q, &y, &mut Flipper, lrn.as_mut(), &mut Streams::new(4), &mut NoObserver).unwrap();
                    (out.lambda, out.bias.to_bits(), out.final_labels)
                };
                assert_eq!(run(), run());
            }
        }
    )*};
}

learner_suite! {
    pgd => floral;
    extragradient_fixed => extragradient;
    extragradient_responder => extragradient_responding;
    ogda => optimistic;
}

/// Without an attack (and without a responder) each solver reaches the exact dual optimum (SMO)
/// and is feasible.
#[test]
fn without_attack_every_solver_converges_to_the_smo_optimum() {
    type Make = fn(f64, f64, BoxBounds) -> Box<dyn Learner>;
    for make in [floral as Make, extragradient, optimistic] {
        let (mut q, y) = problem(40, 3);
        let c = 1.0;
        let sol = Smo::new(SmoParams { eps: 1e-10, ..SmoParams::default() })
            .unwrap()
            .solve(&q, Bounds::Uniform(c), None)
            .unwrap();
        let opt = objective(&q, sol.lambda.as_ref());
        let lmax = q.gram().max_eigenvalue().unwrap();
        // η = 0.5/λ_max(K): inside every solver's stable range (EG 1/μ_max, OGDA 2/(3μ_max)).
        let mut lrn = make(c, 0.5 / lmax, BoxBounds::Uniform(c));
        let game = GameParams {
            rounds: 20_000,
            budget: Budget { k: 0 },
            unattacked_rounds: 20_000,
            tol: None,
            diverge_above: f64::INFINITY,
        };
        play(&game, &mut q, &y, &mut NoAttack, lrn.as_mut(), &mut Streams::new(1), &mut NoObserver).unwrap();
        let got = objective(&q, lrn.lambda());
        assert!((got - opt).abs() <= 1e-6 * (1.0 + opt.abs()), "{}: {got} vs SMO {opt}", lrn.name());
        let l = lrn.lambda();
        assert!((0..l.nrows()).all(|i| (0.0..=c).contains(&l[i])));
        assert!((0..l.nrows()).map(|i| y.get(i) * l[i]).sum::<f64>().abs() < 1e-10);
    }
}

/// With fixed labels an extragradient step is `PgdMap::extragradient` and an optimistic step is
/// `PgdMap::optimistic` on (λ^{t−1}, λ^{t−2}), bit for bit; OGDA's first step is FLORAL's.
#[test]
fn steps_are_the_pure_maps() {
    let (q, _) = problem(50, 8);
    let p = ExactProjector::default();
    let map = PgdMap::new(&q, 0.07, Bounds::Uniform(1.0), &p).unwrap();
    let mut rng = stream(1, Stream::Learner);
    let mut eg = extragradient(1.0, 0.07, BoxBounds::Uniform(1.0));
    eg.reset(&q).unwrap();
    for t in 1..=4 {
        let before = eg.lambda().to_owned();
        eg.step(t, &q, &mut rng).unwrap();
        assert_eq!(eg.lambda().to_owned(), map.extragradient(before.as_ref()).unwrap(), "EG round {t}");
    }
    let mut og = optimistic(1.0, 0.07, BoxBounds::Uniform(1.0));
    let mut fl = floral(1.0, 0.07, BoxBounds::Uniform(1.0));
    og.reset(&q).unwrap();
    fl.reset(&q).unwrap();
    og.step(1, &q, &mut rng).unwrap();
    fl.step(1, &q, &mut rng).unwrap();
    assert_eq!(og.lambda().to_owned(), fl.lambda().to_owned());
    let mut prev = Col::zeros(q.n());
    for t in 2..=5 {
        let before = og.lambda().to_owned();
        og.step(t, &q, &mut rng).unwrap();
        let want = map.optimistic(before.as_ref(), prev.as_ref()).unwrap();
        assert_eq!(og.lambda().to_owned(), want, "OGDA round {t}");
        prev = before;
    }
    // From round 2 on OGDA is not PGD.
    fl.step(2, &q, &mut rng).unwrap();
    let mut og2 = optimistic(1.0, 0.07, BoxBounds::Uniform(1.0));
    og2.reset(&q).unwrap();
    og2.step(1, &q, &mut rng).unwrap();
    og2.step(2, &q, &mut rng).unwrap();
    assert_ne!(og2.lambda().to_owned(), fl.lambda().to_owned());
}

/// What a responder saw: the round, λ, the clean labels.
type Seen = Arc<Mutex<Vec<(usize, Col<f64>, Vec<f64>)>>>;

/// Records what the responder saw.
#[derive(Debug)]
struct Spy {
    seen: Seen,
    flips: Vec<usize>,
}
impl Attacker for Spy {
    fn name(&self) -> &'static str {
        "spy"
    }
    fn attack(&mut self, v: &RoundView<'_>, _rng: &mut FloralRng) -> Result<FlipSet, GameError> {
        self.seen.lock().unwrap().push((v.round, v.lambda.to_owned(), v.clean.as_slice().to_vec()));
        Ok(FlipSet::new(self.flips.clone(), v.clean.len())?)
    }
}

/// The responder sees round t, λ̂ = T_t(λ) and the clean labels; its flips set the gradient's
/// labels: λ⁺ = Π_{S(ỹ^t)}(λ − η(Q̂λ̂ − 1)), computed here through `PgdMap` by hand.
#[test]
fn the_responder_sees_the_extrapolated_point_and_sets_the_gradient_labels() {
    let (q0, y) = problem(30, 12);
    let eta = 0.08;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let factory: AttackerFactory =
        Arc::new(move || Ok(Box::new(Spy { seen: s2.clone(), flips: vec![1, 4, 9] }) as Box<dyn Attacker>));
    let mut lrn = ExtragradientLearner::new(ExtragradientParams { base: base(1.0, eta) }, projector())
        .unwrap()
        .with_responder(factory, Budget { k: 3 }, 2)
        .unwrap();
    lrn.reset(&q0).unwrap();
    let mut rng = stream(3, Stream::Learner);
    let p = ExactProjector::default();
    // Round labels: y with point 0 flipped (the game's attack this round).
    let mut q = q0.clone();
    q.flip(0);
    // Round 1 is before `from_round`: no response, the plain extragradient map on ỹ^1.
    let before = lrn.lambda().to_owned();
    lrn.step(1, &q, &mut rng).unwrap();
    let map = PgdMap::new(&q, eta, Bounds::Uniform(1.0), &p).unwrap();
    assert_eq!(lrn.lambda().to_owned(), map.extragradient(before.as_ref()).unwrap());
    assert!(seen.lock().unwrap().is_empty());
    assert_eq!(lrn.last_response().unwrap().as_slice(), q.labels().as_slice());
    for t in 2..=4 {
        let before = lrn.lambda().to_owned();
        lrn.step(t, &q, &mut rng).unwrap();
        let hat = map.apply(before.as_ref()).unwrap();
        let response = y.apply(&FlipSet::new(vec![1, 4, 9], 30).unwrap()).unwrap();
        let mut qr = q0.clone();
        qr.set_labels(&response).unwrap();
        let mut q_hat = Col::zeros(30);
        qr.matvec_into(hat.as_ref(), q_hat.as_mut());
        let mut want = Col::zeros(30);
        let mut z = vec![0.0; 30];
        let l: Vec<f64> = before.iter().copied().collect();
        map.apply_with_q_lambda_into(&l, q_hat.as_ref(), &mut z, want.as_mut()).unwrap();
        assert_eq!(lrn.lambda().to_owned(), want, "round {t}");
        // Feasible for the round's labels, not the response's.
        assert!((0..30).map(|i| q.labels().get(i) * want[i]).sum::<f64>().abs() < 1e-10);
        let s = seen.lock().unwrap();
        let (round, lam, clean) = s.last().unwrap();
        assert_eq!(*round, t);
        assert_eq!(lam, &hat);
        assert_eq!(clean.as_slice(), y.as_slice());
        assert_eq!(lrn.last_response().unwrap(), &response);
    }
    assert_eq!(seen.lock().unwrap().len(), 3);
}

/// A responder that flips no label answers with the clean labels: in a game without attack that
/// is the plain extragradient step, bit for bit; under attack (ỹ^t ≠ y) it is not.
#[test]
fn a_silent_responder_answers_with_the_clean_labels() {
    let factory: AttackerFactory = Arc::new(|| Ok(Box::new(NoAttack) as Box<dyn Attacker>));
    let run = |attacker: &mut dyn Attacker, responder: bool| {
        let (mut q, y) = problem(36, 13);
        let mut lrn = extragradient(1.0, 0.05, BoxBounds::Uniform(1.0));
        if responder {
            lrn = Box::new(
                ExtragradientLearner::new(ExtragradientParams { base: base(1.0, 0.05) }, projector())
                    .unwrap()
                    .with_responder(factory.clone(), Budget { k: 3 }, 1)
                    .unwrap(),
            );
        }
        let game = GameParams {
            rounds: 30,
            budget: Budget { k: 3 },
            unattacked_rounds: 1,
            tol: None,
            diverge_above: f64::INFINITY,
        };
        play(&game, &mut q, &y, attacker, lrn.as_mut(), &mut Streams::new(4), &mut NoObserver).unwrap().lambda
    };
    let (a, b) = (run(&mut NoAttack, true), run(&mut NoAttack, false));
    assert_eq!(a, b);
    assert!(a.iter().any(|&v| v > 0.0));
    assert_ne!(run(&mut Flipper, true), run(&mut Flipper, false));
}

/// Flips more labels than its budget.
#[derive(Debug)]
struct Greedy;
impl Attacker for Greedy {
    fn name(&self) -> &'static str {
        "greedy"
    }
    fn attack(&mut self, v: &RoundView<'_>, _rng: &mut FloralRng) -> Result<FlipSet, GameError> {
        Ok(FlipSet::new((0..v.budget.k + 1).collect(), v.clean.len())?)
    }
}

#[test]
fn a_responder_over_budget_is_an_error_and_bad_params_name_the_field() {
    let (q, _) = problem(20, 14);
    let factory: AttackerFactory = Arc::new(|| Ok(Box::new(Greedy) as Box<dyn Attacker>));
    let mut lrn = ExtragradientLearner::new(ExtragradientParams { base: base(1.0, 0.05) }, projector())
        .unwrap()
        .with_responder(factory.clone(), Budget { k: 2 }, 1)
        .unwrap();
    lrn.reset(&q).unwrap();
    let e = lrn.step(1, &q, &mut stream(1, Stream::Learner)).unwrap_err();
    assert!(matches!(e, GameError::BudgetExceeded { attacker: "greedy", round: 1, got: 3, k: 2 }), "{e}");
    let e = ExtragradientLearner::new(ExtragradientParams::default(), projector())
        .unwrap()
        .with_responder(factory, Budget { k: 2 }, 0)
        .unwrap_err()
        .to_string();
    assert!(e.contains("`from_round`"), "{e}");
    let bad = FloralParams { eta: -1.0, ..FloralParams::reference() };
    let e = ExtragradientLearner::new(ExtragradientParams { base: bad.clone() }, projector()).unwrap_err().to_string();
    assert!(e.contains("`eta`"), "{e}");
    let e = OptimisticLearner::new(OptimisticParams { base: FloralParams { c: f64::NAN, ..bad } }, projector())
        .unwrap_err()
        .to_string();
    assert!(e.contains("`c`"), "{e}");
    // Stepping before a reset is an error, not a panic.
    let mut fresh = OptimisticLearner::new(OptimisticParams::default(), projector()).unwrap();
    assert!(fresh.step(1, &q, &mut stream(1, Stream::Learner)).is_err());
    let mut fresh = ExtragradientLearner::new(ExtragradientParams::default(), projector()).unwrap();
    assert!(fresh.step(1, &q, &mut stream(1, Stream::Learner)).is_err());
}

/// The parameters read from RON with defaults and refuse unknown fields.
#[test]
fn params_parse_with_defaults_and_refuse_unknown_fields() {
    let p: OptimisticParams = ron::from_str("(base: (c: 2.0))").unwrap();
    assert_eq!(p.base, FloralParams { c: 2.0, ..FloralParams::reference() });
    let p: ExtragradientParams = ron::from_str("()").unwrap();
    assert_eq!(p, ExtragradientParams::default());
    assert!(ron::from_str::<ExtragradientParams>("(eta: 0.1)").is_err());
}
