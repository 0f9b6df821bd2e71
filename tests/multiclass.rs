//! Multi-class SVMs and multi-class FLORAL end to end on the shipped `mnist_5k`.

use std::sync::Arc;

use floral::data::{MulticlassData, shipped};
use floral::svm::{Gram, Rbf, RbfParams, SmoParams, cross_gram, fit_ovo, multiclass_accuracy};

/// LIBSVM's figure recorded by `scripts/libsvm-mnist-reference` (key-value lines).
fn libsvm_reference() -> (f64, f64, usize, usize) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/libsvm_mnist_5k.txt");
    let text = std::fs::read_to_string(path).unwrap();
    let get = |key: &str| -> String {
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(' ')).map(str::to_string))
            .unwrap_or_else(|| panic!("{path}: no `{key}` line"))
    };
    (
        get("c").parse().unwrap(),
        get("gamma").parse().unwrap(),
        get("correct").parse().unwrap(),
        get("total").parse().unwrap(),
    )
}

pub(crate) fn mnist_5k() -> (MulticlassData, MulticlassData) {
    let train = shipped::load_sheet("mnist_5k", "train").unwrap();
    let test = shipped::load_sheet("mnist_5k", "test").unwrap();
    let names = train.classes();
    let train = MulticlassData::from_raw(train, &names, &shipped::sheet_path("mnist_5k", "train").unwrap()).unwrap();
    let test = MulticlassData::from_raw(test, &names, &shipped::sheet_path("mnist_5k", "test").unwrap()).unwrap();
    (train, test)
}

/// Our one-vs-one SVM (LIBSVM's pair order and voting) on mnist_5k with LIBSVM's settings lands
/// within 0.5 point of LIBSVM's own test accuracy.
#[test]
fn ovo_matches_libsvm_on_mnist_5k() {
    let (c, gamma, correct, total) = libsvm_reference();
    let (train, test) = mnist_5k();
    assert_eq!((train.n(), test.n(), train.y().n_classes()), (4000, 1000, 10));
    assert_eq!(total, test.n());
    let kernel = Rbf::new(RbfParams { gamma }).unwrap();
    let gram = Arc::new(Gram::new(&kernel, train.x()));
    let order = train.y().first_appearance_order();
    let (model, info) = fit_ovo(&gram, train.y(), c, SmoParams::default(), &order).unwrap();
    assert_eq!(model.pairs().len(), 45);
    assert!(info.status.iter().all(|s| s.as_str() == "converged"));
    let pred = model.predict(cross_gram(&kernel, test.x(), train.x()).as_ref());
    let ours = multiclass_accuracy(test.y(), &pred);
    let libsvm = correct as f64 / total as f64;
    eprintln!("one-vs-one on mnist_5k: ours {ours}, LIBSVM {libsvm}");
    assert!((ours - libsvm).abs() <= 0.005, "ours {ours} vs LIBSVM {libsvm}");
}

mod game {
    use std::sync::Arc;

    use faer::Mat;
    use floral::attack::NoAttack;
    use floral::attack::{ConfusableTopK, ConfusableTopKParams, NewClass};
    use floral::data::{ClassLabels, FloralRng, Streams};
    use floral::defense::{FloralLearner, FloralParams, Init, MulticlassFloral, MulticlassFloralParams, Schedule};
    use floral::game::{
        Control, GameError, GameParams, MulticlassAttacker, MulticlassGame, MulticlassRecord, MulticlassView,
        NoObserver, Observer, Relabel, Termination, play,
    };
    use floral::projection::{ExactParams, ExactProjector, Projector};
    use floral::svm::{Gram, Rbf, RbfParams, SignedGram, SmoParams, fit_ovr};
    use proptest::prelude::*;
    use rand::Rng;

    /// Three clusters in the plane, 8 points each (class = i / 8), jittered deterministically.
    fn three_classes() -> (Arc<Gram>, ClassLabels) {
        let centres = [(0.0, 0.0), (3.0, 0.0), (0.0, 3.0)];
        let x = Mat::from_fn(24, 2, |i, d| {
            let (cx, cy) = centres[i / 8];
            let j = (i % 8) as f64;
            if d == 0 { cx + 0.3 * (j * 0.7).sin() } else { cy + 0.3 * (j * 1.3).cos() }
        });
        let k = Rbf::new(RbfParams { gamma: 0.5 }).unwrap();
        let y = ClassLabels::new((0..24).map(|i| (i / 8) as u16).collect(), 3).unwrap();
        (Arc::new(Gram::new(&k, x.as_ref())), y)
    }

    fn game(rounds: usize, k: usize) -> MulticlassFloral {
        let proj: Arc<dyn Projector> = Arc::new(ExactProjector::new(ExactParams::default()).unwrap());
        let learner = FloralParams { eta: 0.05, init: Init::Svm, ..FloralParams::reference() };
        MulticlassFloral::new(
            MulticlassFloralParams { learner, rounds, k, average_last: rounds.min(3), tol: None },
            proj,
        )
        .unwrap()
    }

    /// Relabels a fixed list in every round.
    #[derive(Debug)]
    struct Fixed(Vec<Relabel>);
    impl MulticlassAttacker for Fixed {
        fn name(&self) -> &'static str {
            "fixed"
        }
        fn attack(&mut self, _: &MulticlassView<'_>, _: &mut FloralRng) -> Result<Vec<Relabel>, GameError> {
            Ok(self.0.clone())
        }
    }

    /// Up to k random relabels per round (random points, random other classes).
    #[derive(Debug)]
    struct Random;
    impl MulticlassAttacker for Random {
        fn name(&self) -> &'static str {
            "random"
        }
        fn attack(&mut self, v: &MulticlassView<'_>, rng: &mut FloralRng) -> Result<Vec<Relabel>, GameError> {
            let m = rng.random_range(0..=v.k);
            let mut pts = rand::seq::index::sample(rng, v.clean.len(), m).into_vec();
            pts.sort_unstable();
            Ok(pts
                .into_iter()
                .map(|point| {
                    let own = v.clean.get(point);
                    let c = rng.random_range(0..v.clean.n_classes() - 1);
                    Relabel { point, class: if c >= own { c + 1 } else { c } }
                })
                .collect())
        }
    }

    /// Moving point 3 from class 0 to class 2 flips its label in problems 0 (+1 → −1) and 2
    /// (−1 → +1) only: problem 1 keeps its labels and its learner's iterates are bit for bit those
    /// of the unattacked game.
    #[test]
    fn a_relabel_changes_exactly_its_two_binary_problems() {
        let (g, y) = three_classes();
        let attacked =
            game(5, 1).fit(&g, &y, &mut Fixed(vec![Relabel { point: 3, class: 2 }]), &mut Streams::new(1)).unwrap();
        let clean = game(5, 1).fit(&g, &y, &mut Fixed(vec![]), &mut Streams::new(1)).unwrap();
        let d0 = y.one_vs_rest(0).diff(&attacked.labels[0]).unwrap();
        let d1 = y.one_vs_rest(1).diff(&attacked.labels[1]).unwrap();
        let d2 = y.one_vs_rest(2).diff(&attacked.labels[2]).unwrap();
        assert_eq!((d0, d1, d2), (vec![3], vec![], vec![3]));
        assert_eq!((attacked.labels[0].get(3), attacked.labels[2].get(3)), (-1.0, 1.0));
        // Round 1 moves the point (two problems touched); later rounds keep it there (none).
        assert_eq!(attacked.problems_touched, vec![2, 0, 0, 0, 0]);
        assert_eq!(attacked.relabelled, vec![1; 5]);
        assert_eq!(attacked.last.coef(1), clean.last.coef(1));
        assert_eq!(attacked.last.bias()[1], clean.last.bias()[1]);
        assert_ne!(attacked.last.coef(0), clean.last.coef(0));
        assert_ne!(attacked.last.coef(2), clean.last.coef(2));
    }

    /// The in-game attacker spends its budget exactly once the learners have support vectors:
    /// k points differ from the clean labels in every round, each in a class other than its own.
    #[test]
    fn the_multiclass_attacker_spends_exactly_k() {
        let (g, y) = three_classes();
        for new_class in [NewClass::MostConfusable, NewClass::Uniform] {
            let mut a =
                ConfusableTopK::new(ConfusableTopKParams { k: 2, pool: Some(6), sv_threshold: 1e-5, new_class })
                    .unwrap();
            let fit = game(6, 2).fit(&g, &y, &mut a, &mut Streams::new(7)).unwrap();
            assert_eq!(fit.relabelled, vec![2; 6], "{new_class:?}");
            let changed = y.diff(&fit.final_labels).unwrap();
            assert_eq!(changed.len(), 2);
            for c in 0..3 {
                assert_eq!(fit.labels[c], fit.final_labels.one_vs_rest(c));
            }
        }
    }

    /// FLORAL's learner from λ = 0 with a constant step η = 0.05.
    fn constant_step() -> FloralParams {
        FloralParams { eta: 0.05, init: Init::Zero, schedule: Schedule::Constant, ..FloralParams::reference() }
    }

    fn zero_start_game(rounds: usize, tol: Option<f64>) -> MulticlassFloral {
        let proj: Arc<dyn Projector> = Arc::new(ExactProjector::new(ExactParams::default()).unwrap());
        let learner = constant_step();
        MulticlassFloral::new(MulticlassFloralParams { learner, rounds, k: 1, average_last: 3, tol }, proj).unwrap()
    }

    /// Control with a known answer: with no relabels, projected gradient descent on each
    /// one-vs-rest SVM dual (a convex QP, constant η below 2/L) converges to the SVM solution, so
    /// a tolerance stops the multi-class game `Converged` well before its last round, at the
    /// one-vs-rest SVM's coefficients (SMO), and its average (no round in the window) falls back
    /// to the last iterate, said by `averaged_rounds = 0`.
    #[test]
    fn an_unattacked_multiclass_game_with_a_tolerance_stops_converged_at_the_svm() {
        let (g, y) = three_classes();
        let rounds = 20_000;
        let fit = zero_start_game(rounds, Some(1e-5)).fit(&g, &y, &mut Fixed(vec![]), &mut Streams::new(3)).unwrap();
        assert_eq!(fit.status, Termination::Converged);
        assert!(fit.rounds_played < rounds - 3, "played {}", fit.rounds_played);
        assert_eq!(fit.relabelled.len(), fit.rounds_played);
        assert_eq!((fit.averaged_rounds, &fit.average), (0, &fit.last));
        let (svm, _) = fit_ovr(&g, &y, 10.0, SmoParams::default()).unwrap();
        for c in 0..3 {
            let gap = fit.last.coef(c).iter().zip(svm.coef(c)).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
            // Within 0.1 % of the box C = 10 (the tolerance bounds the step, not the distance).
            assert!(gap < 1e-2, "class {c}: max |α − α_svm| = {gap}");
        }
        let all = zero_start_game(rounds, None).fit(&g, &y, &mut Fixed(vec![]), &mut Streams::new(3)).unwrap();
        assert_eq!((all.status, all.rounds_played, all.averaged_rounds), (Termination::RoundsDone, rounds, 3));
    }

    /// Stops after a given round and counts what it saw.
    struct StopAt(usize, Vec<(usize, usize)>);
    impl Observer<MulticlassGame> for StopAt {
        fn on_round(&mut self, rec: &MulticlassRecord<'_>) -> Result<Control, GameError> {
            self.1.push((rec.round, rec.relabelled));
            assert_eq!(rec.learners.len(), 3);
            Ok(if rec.round == self.0 { Control::Stop } else { Control::Continue })
        }
    }

    /// An observer sees every round of the multi-class game and can stop it, as in the binary
    /// game: the fit reports `StoppedByObserver` after exactly the rounds it saw.
    #[test]
    fn an_observer_sees_every_multiclass_round_and_can_stop_the_game() {
        let (g, y) = three_classes();
        let mut obs = StopAt(4, Vec::new());
        let fit = game(10, 1)
            .fit_observed(&g, &y, &mut Fixed(vec![Relabel { point: 3, class: 2 }]), &mut Streams::new(1), &mut obs)
            .unwrap();
        assert_eq!((fit.status, fit.rounds_played), (Termination::StoppedByObserver, 4));
        assert_eq!(obs.1, vec![(1, 1), (2, 1), (3, 1), (4, 1)]);
        assert_eq!(fit.relabelled, vec![1; 4]);
    }

    /// The same loop: with no relabels, class c's learner in the multi-class game steps exactly
    /// as a binary FLORAL game on the one-vs-rest labels of c (no attacker), bit for bit.
    #[test]
    fn an_unattacked_multiclass_game_is_k_binary_games_bit_for_bit() {
        let (g, y) = three_classes();
        let rounds = 40;
        let fit = zero_start_game(rounds, None).fit(&g, &y, &mut Fixed(vec![]), &mut Streams::new(5)).unwrap();
        let proj: Arc<dyn Projector> = Arc::new(ExactProjector::new(ExactParams::default()).unwrap());
        let params = constant_step();
        for c in 0..3 {
            let ovr = y.one_vs_rest(c);
            let mut q = SignedGram::new(g.clone(), &ovr).unwrap();
            let mut learner = FloralLearner::new(params.clone(), proj.clone()).unwrap();
            let out = play(
                &GameParams::new(rounds, 0, 0),
                &mut q,
                &ovr,
                &mut NoAttack,
                &mut learner,
                &mut Streams::new(5),
                &mut NoObserver,
            )
            .unwrap();
            let coef: Vec<f64> = (0..ovr.len()).map(|i| out.lambda[i] * ovr.get(i)).collect();
            assert_eq!(fit.last.coef(c), coef.as_slice(), "class {c}");
            assert_eq!(fit.last.bias()[c], out.bias, "class {c}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

        /// For any sequence of relabels, after every game the K binary label vectors equal the
        /// one-vs-rest labels of the round's multi-class labels, at most k labels differ from the
        /// clean ones, and each round touches exactly the classes a changed point leaves or
        /// enters.
        #[test]
        fn binary_labels_stay_in_step_with_the_multiclass_labels(seed in 0u64..1000, k in 0usize..6, rounds in 1usize..5) {
            let (g, y) = three_classes();
            let fit = game(rounds, k).fit(&g, &y, &mut Random, &mut Streams::new(seed)).unwrap();
            for c in 0..3 {
                prop_assert_eq!(&fit.labels[c], &fit.final_labels.one_vs_rest(c));
            }
            prop_assert!(fit.relabelled.iter().all(|&r| r <= k));
            prop_assert_eq!(fit.relabelled.len(), rounds);
            prop_assert!(fit.problems_touched.iter().all(|&t| t <= 3));
            prop_assert_eq!(*fit.relabelled.last().unwrap(), y.diff(&fit.final_labels).unwrap().len());
        }
    }
}
