//! The FLORAL learner: without an attacker its projected-gradient iteration converges to the
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! exact SVM dual optimum (SMO); under attack its incrementally updated Q̃λ equals a fresh product.

use faer::{Col, ColRef};
use floral_data::{FlipSet, FloralRng, Labels, Stream, Streams, stream};
use floral_defense::{BiasChoice, FloralLearner, FloralParams, Init, Schedule};
use floral_game::{
    Attacker, Budget, Control, GameError, GameParams, Learner, NoObserver, Observer, RoundRecord, RoundView, play,
};
use floral_projection::{Bounds, ExactProjector};
use floral_svm::{Gram, Rbf, RbfParams, SignedGram, Smo, SmoParams};

fn problem(n: usize, seed: u64) -> (SignedGram, Labels) {
    let mut rng = stream(seed, Stream::Data);
    let d = floral_data::moons(n, 0.2, &mut rng).unwrap();
    let k = Rbf::new(RbfParams { gamma: 1.0 }).unwrap();
    let gram = Gram::new(&k, d.x());
    let q = SignedGram::new(&gram, d.y()).unwrap();
    (q, d.y().clone())
}

fn objective(q: &SignedGram, lambda: ColRef<'_, f64>) -> f64 {
    let mut g = Col::zeros(q.n());
    q.matvec_into(lambda, g.as_mut());
    (0..q.n()).map(|i| 0.5 * lambda[i] * g[i] - lambda[i]).sum()
}

fn params(c: f64, eta: f64, init: Init) -> FloralParams {
    FloralParams { c, eta, schedule: Schedule::Constant, init, bias: BiasChoice::FreeSupportVectors, sv_threshold: 1e-8 }
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

#[test]
fn without_attack_pgd_converges_to_the_smo_optimum() {
    let (mut q, y) = problem(40, 3);
    let c = 1.0;
    let sol = Smo::new(SmoParams { eps: 1e-10, ..SmoParams::default() }).unwrap().solve(&q, Bounds::Uniform(c), None).unwrap();
    let opt = objective(&q, sol.lambda.as_ref());
    let lmax = Gram::from_mat(q.k().to_owned()).unwrap().max_eigenvalue().unwrap();
    let mut lrn = FloralLearner::new(params(c, 1.0 / lmax, Init::Zero), Box::new(ExactProjector::default())).unwrap();
    let game = GameParams { rounds: 20_000, budget: Budget { k: 0 }, unattacked_rounds: 0, tol: None, diverge_above: f64::INFINITY };
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
    let mut lrn = FloralLearner::new(params(1.0, 0.5 / lmax, Init::Svm), Box::new(ExactProjector::default())).unwrap();
    lrn.reset(&q).unwrap();
    let start = objective(&q, lrn.lambda());
    let game = GameParams { rounds: 50, budget: Budget { k: 0 }, unattacked_rounds: 0, tol: None, diverge_above: f64::INFINITY };
    play(&game, &mut q, &y, &mut NoAttack, &mut lrn, &mut Streams::new(1), &mut NoObserver).unwrap();
    let end = objective(&q, lrn.lambda());
    assert!(end <= start + 1e-9, "objective rose from {start} to {end}");
    assert!((end - start).abs() < 1e-3 * (1.0 + start.abs()));
}

/// Flips 3 random labels per round.
#[derive(Debug)]
struct Flipper;
impl Attacker for Flipper {
    fn name(&self) -> &'static str {
        "flipper"
    }
    fn attack(&mut self, v: &RoundView<'_>, rng: &mut FloralRng) -> Result<FlipSet, GameError> {
        let n = v.clean.len();
        Ok(FlipSet::new(rand::seq::index::sample(rng, n, 3).into_vec(), n)?)
    }
}

struct CheckQLambda(usize);
impl Observer for CheckQLambda {
    fn on_round(&mut self, rec: &RoundRecord<'_>) -> Result<Control, GameError> {
        let ql = rec.q_lambda.expect("the FLORAL learner provides Q̃λ");
        let mut fresh = Col::zeros(rec.q.n());
        rec.q.matvec_into(rec.lambda, fresh.as_mut());
        for i in 0..fresh.nrows() {
            assert!((ql[i] - fresh[i]).abs() <= 1e-12 * (1.0 + fresh[i].abs()));
        }
        // The bias the learner caches equals the bias recomputed from scratch.
        let b = floral_svm::bias(floral_svm::BiasRule::FreeSupportVectors, rec.q, rec.lambda, Bounds::Uniform(1.0));
        assert!((b - rec.bias).abs() <= 1e-12 * (1.0 + b.abs()));
        self.0 += 1;
        Ok(Control::Continue)
    }
}

#[test]
fn incremental_gradient_and_cached_bias_match_a_fresh_product_under_attack() {
    let (mut q, y) = problem(64, 5);
    let mut lrn = FloralLearner::new(params(1.0, 0.05, Init::Zero), Box::new(ExactProjector::default())).unwrap();
    let game = GameParams { rounds: 60, budget: Budget { k: 3 }, unattacked_rounds: 1, tol: None, diverge_above: f64::INFINITY };
    let mut obs = CheckQLambda(0);
    play(&game, &mut q, &y, &mut Flipper, &mut lrn, &mut Streams::new(9), &mut obs).unwrap();
    assert_eq!(obs.0, 60);
}

#[test]
fn invalid_params_name_the_field() {
    let bad = FloralParams { c: 0.0, ..FloralParams::reference() };
    let e = FloralLearner::new(bad, Box::new(ExactProjector::default())).unwrap_err().to_string();
    assert!(e.contains("`c`"), "{e}");
    let bad = FloralParams { eta: f64::NAN, ..FloralParams::reference() };
    let e = FloralLearner::new(bad, Box::new(ExactProjector::default())).unwrap_err().to_string();
    assert!(e.contains("`eta`"), "{e}");
}
