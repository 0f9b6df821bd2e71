//! Seams: an attacker forks the learner and simulates it without touching the real
//! game; the view's decision values are the model's; shared kernels serve every job.

use std::sync::Arc;

use faer::Col;
use floral::attack::{RandomTopK, RandomTopKParams};
use floral::data::{FlipSet, FloralRng, Labels, Stream, Streams, stream};
use floral::defense::{FloralLearner, FloralParams, Init, Schedule};
use floral::game::{Attacker, Control, GameError, GameParams, Observer, RoundRecord, RoundView, play};
use floral::projection::ExactProjector;
use floral::svm::{Gram, Rbf, RbfParams, SignedGram};

fn problem(n: usize) -> (SignedGram, Labels) {
    let d = floral::data::moons(n, 0.2, &mut stream(4, Stream::Data)).unwrap();
    let gram = Gram::new(&Rbf::new(RbfParams { gamma: 1.0 }).unwrap(), d.x());
    (SignedGram::new(gram, d.y()).unwrap(), d.y().clone())
}

fn learner() -> FloralLearner {
    let p = FloralParams {
        c: 1.0,
        eta: 0.05,
        schedule: Schedule::InverseSqrt,
        init: Init::Zero,
        ..FloralParams::reference()
    };
    FloralLearner::new(p, Arc::new(ExactProjector::default())).unwrap()
}

/// RandomTopK that first forks the learner and simulates 3 steps on a hypothetical flip set
/// (its own draw from a separate rng), checking the simulation did something.
#[derive(Debug)]
struct Simulating {
    inner: RandomTopK,
    sim_rng: FloralRng,
    simulated: usize,
    checked_views: usize,
}

impl Attacker for Simulating {
    fn name(&self) -> &'static str {
        "simulating"
    }
    fn attack(&mut self, view: &RoundView<'_>, rng: &mut FloralRng) -> Result<FlipSet, GameError> {
        let n = view.clean.len();
        // The view's decision values are f = Kα + b of the current model, from scratch.
        let y = view.q.labels();
        let mut fresh = Col::zeros(n);
        view.q.matvec_into(view.lambda, fresh.as_mut());
        for i in 0..n {
            let f = y.get(i) * fresh[i] + view.bias;
            assert!((f - view.decision_values[i]).abs() <= 1e-12 * (1.0 + f.abs()), "f_{i}");
        }
        assert_eq!(view.eta, Some(0.05 / (view.round as f64).sqrt()));
        self.checked_views += 1;
        let idx = rand::seq::index::sample(&mut self.sim_rng, n, view.budget.k.min(n)).into_vec();
        let hypo = FlipSet::new(idx, n)?;
        let before = view.lambda.to_owned();
        let sim = view.simulate(&hypo, 3, &mut self.sim_rng)?;
        assert_eq!(sim.steps.len(), 3);
        assert_eq!(sim.q.labels(), &view.clean.apply(&hypo)?);
        if view.round > 2 {
            assert!(sim.lambda() != before.as_ref(), "three simulated steps moved λ");
        }
        // The real learner's λ is untouched by the simulation.
        assert_eq!(view.lambda.to_owned(), before);
        self.simulated += 1;
        self.inner.attack(view, rng)
    }
}

/// Records λ^t and b^t of every round, bit for bit.
#[derive(Default)]
struct Trajectory(Vec<(Vec<u64>, u64, Vec<usize>)>);

impl Observer for Trajectory {
    fn on_round(&mut self, rec: &RoundRecord<'_>) -> Result<Control, GameError> {
        self.0.push((
            rec.lambda.iter().map(|v| v.to_bits()).collect(),
            rec.bias.to_bits(),
            rec.flips.indices().to_vec(),
        ));
        Ok(Control::Continue)
    }
}

#[test]
fn forking_and_simulating_leaves_the_real_trajectory_unchanged() {
    let (q0, y) = problem(120);
    let params = GameParams::new(40, 5, 1);
    let top = || RandomTopK::new(RandomTopKParams { k: 5, pool: Some(15), sv_threshold: 1e-5 }).unwrap();

    let mut plain = Trajectory::default();
    let mut q = q0.clone();
    play(&params, &mut q, &y, &mut top(), &mut learner(), &mut Streams::new(11), &mut plain).unwrap();

    let mut forked = Trajectory::default();
    let mut q = q0.clone();
    let mut att = Simulating { inner: top(), sim_rng: stream(99, Stream::Attacker), simulated: 0, checked_views: 0 };
    play(&params, &mut q, &y, &mut att, &mut learner(), &mut Streams::new(11), &mut forked).unwrap();

    assert_eq!(att.simulated, 39);
    assert_eq!(att.checked_views, 39);
    assert_eq!(plain.0.len(), 40);
    assert!(plain.0 == forked.0, "the real game's trajectory changed after simulations");
    assert!(plain.0.iter().any(|r| !r.2.is_empty()), "the attacker flipped labels");
}

#[test]
fn the_signed_gram_is_a_view_over_one_shared_matrix() {
    let (q, y) = problem(50);
    let mut copy = q.clone();
    copy.flip(3);
    // Cloning and flipping never copy K: both views point at the same matrix.
    assert!(Arc::ptr_eq(q.gram(), copy.gram()));
    assert_eq!(copy.labels().get(3), -y.get(3));
    assert_eq!(copy.entry(3, 7), -q.entry(3, 7));
    assert_eq!(copy.entry(3, 3), q.entry(3, 3));
}
