//! The game loop's contract: budget checks name the attacker, flips are applied relative to the
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! clean labels and kept in step with Q̃, observers can stop the game, runs are reproducible.

use faer::{Col, ColRef, Mat};
use floral_data::{FlipSet, FloralRng, Labels, Streams};
use floral_game::{
    Attacker, Budget, Control, GameError, GameParams, Learner, NoObserver, Observer, RoundRecord, RoundView, StepInfo,
    Termination, play,
};
use floral_svm::{Gram, SignedGram};
use rand::Rng;

fn setup(n: usize) -> (SignedGram, Labels) {
    let k = Mat::from_fn(n, n, |i, j| (-((i as f64 - j as f64) / 3.0).powi(2)).exp());
    let gram = Gram::from_mat(k).unwrap();
    let y = Labels::from_signs((0..n).map(|i| i < n / 2));
    (SignedGram::new(gram.clone(), &y).unwrap(), y)
}

/// Flips `k` random indices (or `k + extra` to break the budget).
#[derive(Debug)]
struct Random {
    k: usize,
    extra: usize,
}

impl Attacker for Random {
    fn name(&self) -> &'static str {
        "test_random"
    }
    fn attack(&mut self, v: &RoundView<'_>, rng: &mut FloralRng) -> Result<FlipSet, GameError> {
        let n = v.clean.len();
        let idx = rand::seq::index::sample(rng, n, self.k + self.extra).into_vec();
        Ok(FlipSet::new(idx, n)?)
    }
}

/// A learner that records the labels it saw; λ = a random draw per step.
#[derive(Debug, Clone)]
struct Spy {
    lambda: Col<f64>,
    seen: Vec<Vec<f64>>,
}

impl Default for Spy {
    fn default() -> Self {
        Self { lambda: Col::zeros(0), seen: Vec::new() }
    }
}

impl Learner for Spy {
    fn name(&self) -> &'static str {
        "spy"
    }
    fn reset(&mut self, q: &SignedGram) -> Result<(), GameError> {
        self.lambda = Col::zeros(q.n());
        Ok(())
    }
    fn step(&mut self, _round: usize, q: &SignedGram, rng: &mut FloralRng) -> Result<StepInfo, GameError> {
        self.seen.push(q.labels().as_slice().to_vec());
        for i in 0..q.n() {
            self.lambda[i] = rng.random::<f64>();
        }
        Ok(StepInfo::default())
    }
    fn lambda(&self) -> ColRef<'_, f64> {
        self.lambda.as_ref()
    }
    fn bias(&self, _q: &SignedGram) -> f64 {
        0.0
    }
    fn fork(&self) -> Box<dyn Learner> {
        Box::new(self.clone())
    }
}

struct Checker {
    clean: Labels,
    k: usize,
    gram: Mat<f64>,
    stop_at: Option<usize>,
    rounds: usize,
}

impl Observer for Checker {
    fn on_round(&mut self, rec: &RoundRecord<'_>) -> Result<Control, GameError> {
        self.rounds += 1;
        // ỹ = y with exactly the round's flips (no accumulation across rounds).
        assert_eq!(self.clean.diff(rec.labels).unwrap(), rec.flips.indices());
        assert!(rec.flips.len() <= self.k);
        // Q̃ kept in step with ỹ: equals diag(ỹ) K diag(ỹ) rebuilt from scratch.
        let n = rec.q.n();
        for i in 0..n {
            for j in 0..n {
                let want = rec.labels.get(i) * self.gram[(i, j)] * rec.labels.get(j);
                assert_eq!(rec.q.entry(i, j), want);
            }
        }
        Ok(if Some(rec.round) == self.stop_at { Control::Stop } else { Control::Continue })
    }
}

#[test]
fn flips_are_relative_to_clean_labels_and_q_stays_in_step() {
    let (mut q, y) = setup(12);
    let gram = q.k().to_owned();
    let params = GameParams {
        rounds: 15,
        budget: Budget { k: 3 },
        unattacked_rounds: 2,
        tol: None,
        diverge_above: f64::INFINITY,
    };
    let mut obs = Checker { clean: y.clone(), k: 3, gram, stop_at: None, rounds: 0 };
    let mut lrn = Spy::default();
    let out =
        play(&params, &mut q, &y, &mut Random { k: 3, extra: 0 }, &mut lrn, &mut Streams::new(1), &mut obs).unwrap();
    assert_eq!(out.status, Termination::RoundsDone);
    assert_eq!(out.rounds_played, 15);
    assert_eq!(obs.rounds, 15);
    // The unattacked rounds see the clean labels.
    assert_eq!(lrn.seen[0], y.as_slice());
    assert_eq!(lrn.seen[1], y.as_slice());
    assert!(lrn.seen[2..].iter().any(|s| s != y.as_slice()));
}

#[test]
fn budget_violation_names_the_attacker_and_round() {
    let (mut q, y) = setup(10);
    let params = GameParams {
        rounds: 5,
        budget: Budget { k: 2 },
        unattacked_rounds: 0,
        tol: None,
        diverge_above: f64::INFINITY,
    };
    let err = play(
        &params,
        &mut q,
        &y,
        &mut Random { k: 2, extra: 1 },
        &mut Spy::default(),
        &mut Streams::new(1),
        &mut NoObserver,
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, GameError::BudgetExceeded { round: 1, got: 3, k: 2, .. }), "{msg}");
    assert!(msg.contains("test_random"), "{msg}");
}

#[test]
fn observer_can_stop_and_zero_rounds_is_an_error() {
    let (mut q, y) = setup(10);
    let gram = q.k().to_owned();
    let params = GameParams {
        rounds: 50,
        budget: Budget { k: 1 },
        unattacked_rounds: 0,
        tol: None,
        diverge_above: f64::INFINITY,
    };
    let mut obs = Checker { clean: y.clone(), k: 1, gram, stop_at: Some(4), rounds: 0 };
    let out =
        play(&params, &mut q, &y, &mut Random { k: 1, extra: 0 }, &mut Spy::default(), &mut Streams::new(2), &mut obs)
            .unwrap();
    assert_eq!(out.status, Termination::StoppedByObserver);
    assert_eq!(out.rounds_played, 4);
    let zero = GameParams { rounds: 0, ..params };
    assert!(
        play(
            &zero,
            &mut q,
            &y,
            &mut Random { k: 1, extra: 0 },
            &mut Spy::default(),
            &mut Streams::new(2),
            &mut NoObserver
        )
        .is_err()
    );
}

#[test]
fn same_seed_same_game() {
    let run = |seed| {
        let (mut q, y) = setup(16);
        let params = GameParams {
            rounds: 10,
            budget: Budget { k: 4 },
            unattacked_rounds: 0,
            tol: None,
            diverge_above: f64::INFINITY,
        };
        let mut lrn = Spy::default();
        let out = play(
            &params,
            &mut q,
            &y,
            &mut Random { k: 4, extra: 0 },
            &mut lrn,
            &mut Streams::new(seed),
            &mut NoObserver,
        )
        .unwrap();
        (out.final_flips, lrn.seen)
    };
    assert_eq!(run(3), run(3));
    assert_ne!(run(3), run(4));
}

/// λ_i = 10^t after step t: an unbounded learner.
#[derive(Debug, Clone)]
struct Grower(Col<f64>, f64);

impl Learner for Grower {
    fn name(&self) -> &'static str {
        "grower"
    }
    fn reset(&mut self, q: &SignedGram) -> Result<(), GameError> {
        self.0 = Col::zeros(q.n());
        self.1 = 1.0;
        Ok(())
    }
    fn step(&mut self, _round: usize, _q: &SignedGram, _rng: &mut FloralRng) -> Result<StepInfo, GameError> {
        self.1 *= 10.0;
        for i in 0..self.0.nrows() {
            self.0[i] = self.1;
        }
        Ok(StepInfo::default())
    }
    fn lambda(&self) -> ColRef<'_, f64> {
        self.0.as_ref()
    }
    fn bias(&self, _q: &SignedGram) -> f64 {
        0.0
    }
    fn fork(&self) -> Box<dyn Learner> {
        Box::new(self.clone())
    }
}

#[test]
fn unbounded_growth_ends_as_diverged_not_as_an_error() {
    let (mut q, y) = setup(8);
    let params =
        GameParams { rounds: 100, budget: Budget { k: 0 }, unattacked_rounds: 0, tol: None, diverge_above: 1e6 };
    let mut lrn = Grower(Col::zeros(0), 1.0);
    let out =
        play(&params, &mut q, &y, &mut Random { k: 0, extra: 0 }, &mut lrn, &mut Streams::new(1), &mut NoObserver)
            .unwrap();
    assert_eq!(out.status, Termination::Diverged);
    assert_eq!(out.rounds_played, 7); // λ = 10^6 after round 6 is not above 1e6; 10^7 after round 7 is
}
