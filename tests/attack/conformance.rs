//! Every in-game attacker passes this suite: the budget holds, indices are unique and in range,
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! the same seed gives the same flips, and degenerate sizes cause no panic.

use faer::{Col, Mat};
use floral_data::{FloralRng, Labels, Stream, stream};
use floral_game::{Attacker, Budget, FrozenLearner, RoundView};
use floral_svm::{Gram, SignedGram};

fn problem(n: usize) -> (SignedGram, Labels, Col<f64>) {
    let x = Mat::from_fn(n, 2, |i, j| ((i * 7 + j * 3) % 11) as f64 / 11.0);
    let k = Mat::from_fn(n, n, |i, j| {
        let d: f64 = (0..2).map(|c| (x[(i, c)] - x[(j, c)]).powi(2)).sum();
        (-d).exp()
    });
    let gram = Gram::from_mat(k).unwrap();
    let y = Labels::from_signs((0..n).map(|i| i % 2 == 0));
    let q = SignedGram::new(gram.clone(), &y).unwrap();
    let lambda = Col::from_fn(n, |i| if i % 3 == 0 { 0.0 } else { (i % 5) as f64 * 0.1 + 0.01 });
    (q, y, lambda)
}

fn flips(a: &mut dyn Attacker, n: usize, k: usize, rng: &mut FloralRng) -> Vec<usize> {
    let (q, y, lambda) = problem(n);
    let learner = FrozenLearner::new(lambda.as_ref(), 0.0);
    let mut f = Col::zeros(0);
    let view = RoundView::new(2, &learner, &q, &y, Budget { k }, &mut f);
    let f = a.attack(&view, rng).unwrap();
    assert_eq!(f.n(), n);
    f.indices().to_vec()
}

macro_rules! attacker_suite {
    ($($name:ident => $make:expr, randomized = $randomized:expr;)*) => {$(
        mod $name {
            use super::*;

            fn make(k: usize) -> Box<dyn Attacker> { ($make)(k) }

            #[test]
            fn budget_holds_and_indices_are_valid() {
                for (n, k) in [(30, 5), (30, 1), (7, 3), (50, 10)] {
                    let mut a = make(k);
                    let mut rng = stream(3, Stream::Attacker);
                    for _ in 0..20 {
                        let f = flips(a.as_mut(), n, k, &mut rng);
                        assert!(f.len() <= k);
                        assert!(f.windows(2).all(|w| w[0] < w[1]));
                        assert!(f.iter().all(|&i| i < n));
                    }
                }
            }

            #[test]
            fn same_seed_same_flips() {
                let run = |seed| {
                    let mut a = make(4);
                    let mut rng = stream(seed, Stream::Attacker);
                    (0..5).map(|_| flips(a.as_mut(), 40, 4, &mut rng)).collect::<Vec<_>>()
                };
                assert_eq!(run(11), run(11));
                if $randomized {
                    assert_ne!(run(11), run(12), "different seeds should differ on this instance");
                }
            }

            #[test]
            fn degenerate_sizes_do_not_panic() {
                let mut rng = stream(1, Stream::Attacker);
                assert!(flips(make(1).as_mut(), 1, 1, &mut rng).len() <= 1);
                assert!(flips(make(0).as_mut(), 10, 0, &mut rng).is_empty());
            }
        }
    )*};
}

attacker_suite! {
    random_top_k => |k| Box::new(floral_attack::RandomTopK::new(floral_attack::RandomTopKParams { k, pool: None, sv_threshold: 1e-5 }).unwrap()), randomized = true;
    zero_sum_hinge => |k| Box::new(floral_attack::ZeroSum::new(floral_attack::ZeroSumParams { k, objective: floral_attack::ZeroSumObjective::Hinge }).unwrap()), randomized = false;
    zero_sum_dual => |k| Box::new(floral_attack::ZeroSum::new(floral_attack::ZeroSumParams { k, objective: floral_attack::ZeroSumObjective::Dual }).unwrap()), randomized = false;
    look_ahead_singles => |k| Box::new(floral_attack::LookAhead::new(floral_attack::LookAheadParams { k, ..Default::default() }).unwrap()), randomized = false;
    look_ahead_beam => |k| Box::new(floral_attack::LookAhead::new(floral_attack::LookAheadParams { k, horizon: 2, search: floral_attack::LookAheadSearch::Beam { width: 2 }, ..Default::default() }).unwrap()), randomized = false;
}

#[test]
fn random_top_k_draws_only_from_the_top_pool() {
    // λ has 20 support vectors; the pool is the top 6 by λ (indices with the largest λ).
    let n = 30;
    let (q, y, _) = problem(n);
    let lambda = Col::from_fn(n, |i| if i < 20 { 1.0 + i as f64 } else { 0.0 });
    let mut a =
        floral_attack::RandomTopK::new(floral_attack::RandomTopKParams { k: 3, pool: Some(6), sv_threshold: 1e-5 })
            .unwrap();
    let mut rng = stream(5, Stream::Attacker);
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..200 {
        let learner = FrozenLearner::new(lambda.as_ref(), 0.0);
        let mut fb = Col::zeros(0);
        let view = RoundView::new(2, &learner, &q, &y, Budget { k: 3 }, &mut fb);
        let f = a.attack(&view, &mut rng).unwrap();
        assert_eq!(f.len(), 3);
        seen.extend(f.indices().iter().copied());
    }
    assert_eq!(seen.into_iter().collect::<Vec<_>>(), vec![14, 15, 16, 17, 18, 19]);
}

/// Every offline poisoner: the budget is exact, indices are unique and in range, the same seed
/// gives the same flips, and n = 1 or a budget of 0 causes no panic.
mod poisoners {
    use std::sync::Arc;

    use faer::Mat;
    use floral_attack::{
        Alfa, AlfaParams, AlfaTilt, AlfaTiltParams, LabelSheet, Lfa, LfaLoss, LfaParams, MarginFlips,
        MarginFlipsParams, MarginOrder, PoisonInput, Poisoner, RandomFlips, TopLambdaFlips, TopLambdaFlipsParams,
        poison_exact,
    };
    use floral_data::{Dataset, Labels, Stream, stream};
    use floral_svm::{Gram, Rbf, RbfParams};

    fn data(n: usize) -> Dataset {
        let x = Mat::from_fn(n, 2, |i, j| ((i * 5 + j) % 7) as f64 / 7.0);
        Dataset::new(x, Labels::from_signs((0..n).map(|i| i % 3 == 0))).unwrap()
    }

    fn run(
        p: &dyn Poisoner,
        train: &Dataset,
        budget: usize,
        seed: u64,
    ) -> Result<Vec<usize>, floral_attack::AttackError> {
        let k = Rbf::new(RbfParams { gamma: 1.0 }).unwrap();
        let gram = Arc::new(Gram::new(&k, train.x()));
        let input = PoisonInput { train, kernel: &k, gram: &gram, validation: None };
        poison_exact(p, &input, budget, &mut stream(seed, Stream::Data)).map(|f| f.indices().to_vec())
    }

    macro_rules! poisoner_suite {
        ($($name:ident => $make:expr, budget = $budget:expr;)*) => {$(
            mod $name {
                use super::*;

                #[test]
                fn budget_exact_indices_valid_and_reproducible() {
                    let train = data(30);
                    let p = ($make)(&train);
                    let b = ($budget)(&train);
                    let f = run(&p, &train, b, 4).unwrap();
                    assert_eq!(f.len(), b);
                    assert!(f.windows(2).all(|w| w[0] < w[1]) && f.iter().all(|&i| i < 30));
                    assert_eq!(f, run(&p, &train, b, 4).unwrap());
                }

                #[test]
                fn degenerate_sizes_do_not_panic() {
                    let one = data(1);
                    let p = ($make)(&one);
                    let b = ($budget)(&one);
                    assert_eq!(run(&p, &one, b, 1).unwrap().len(), b);
                    assert!(run(&p, &one, 2, 1).is_err(), "a budget above n is an error");
                }
            }
        )*};
    }

    poisoner_suite! {
        random_flips => |_t: &Dataset| RandomFlips, budget = |t: &Dataset| t.n() / 3;
        label_sheet => |t: &Dataset| {
            let mut y = t.y().clone();
            for i in (0..t.n()).step_by(4) { y.flip(i); }
            LabelSheet::new("every_fourth", y)
        }, budget = |t: &Dataset| t.n().div_ceil(4);
        margin_far_first => |_t: &Dataset| MarginFlips::new(MarginFlipsParams { order: MarginOrder::FarFirst, ..Default::default() }).unwrap(), budget = |t: &Dataset| t.n() / 3;
        margin_nearest_first => |_t: &Dataset| MarginFlips::new(MarginFlipsParams { order: MarginOrder::NearestFirst, ..Default::default() }).unwrap(), budget = |t: &Dataset| t.n() / 3;
        top_lambda => |_t: &Dataset| TopLambdaFlips::new(TopLambdaFlipsParams::default()).unwrap(), budget = |t: &Dataset| t.n() / 3;
        alfa => |_t: &Dataset| Alfa::new(AlfaParams::default()).unwrap(), budget = |t: &Dataset| t.n() / 3;
        alfa_tilt => |_t: &Dataset| AlfaTilt::new(AlfaTiltParams::default()).unwrap(), budget = |t: &Dataset| t.n() / 3;
        lfa => |_t: &Dataset| Lfa::new(LfaParams::default()).unwrap(), budget = |t: &Dataset| t.n() / 3;
        knn_aware => |_t: &Dataset| floral_attack::KnnAwareFlips::new(floral_attack::KnnAwareFlipsParams { k: 5 }).unwrap(), budget = |t: &Dataset| t.n() / 3;
        look_ahead_floral_dynamics => |_t: &Dataset| floral_attack::LookAheadPoisoner::new(
            floral_attack::LookAheadPoisonParams { per_round: 2, warmup: 5, steps_between: 2, data: floral_attack::AttackerData::Train, ..Default::default() },
            std::sync::Arc::new(|| Ok(Box::new(crate::attack::common::PgdLearner::new(0.05, 1.0)) as Box<dyn floral_game::Learner>)),
        ).unwrap(), budget = |t: &Dataset| t.n() / 3;
        lfa_sampled_cold => |_t: &Dataset| Lfa::new(LfaParams { candidates: Some(4), warm_start: false, loss: LfaLoss::Hinge, ..Default::default() }).unwrap(), budget = |t: &Dataset| t.n() / 3;
    }

    /// The poisoners that train an SVM on the training set: a budget of 0 is an empty flip set,
    /// n = 1 or any one-class training set is a `SingleClass` error (no panic), two points of
    /// different classes can be flipped, and malformed inputs are errors naming the field.
    macro_rules! model_poisoner_suite {
        ($($name:ident => $make:expr;)*) => {$(
            mod $name {
                use super::*;

                fn make() -> Box<dyn Poisoner> { Box::new(($make)()) }

                #[test]
                fn budget_zero_is_empty() {
                    assert!(run(make().as_ref(), &data(30), 0, 1).unwrap().is_empty());
                    assert!(run(make().as_ref(), &data(1), 0, 1).unwrap().is_empty());
                }

                #[test]
                fn one_class_is_a_clear_error() {
                    for n in [1, 12] {
                        let x = Mat::from_fn(n, 2, |i, j| (i + j) as f64);
                        let one = Dataset::new(x, Labels::from_signs((0..n).map(|_| false))).unwrap();
                        let e = run(make().as_ref(), &one, 1, 1).unwrap_err();
                        assert!(matches!(e, AttackError::SingleClass { n: m, label, .. } if m == n && label == -1.0), "{e}");
                        assert!(e.to_string().contains("both classes"), "{e}");
                    }
                }

                #[test]
                fn two_points_of_each_class_can_be_flipped() {
                    let x = Mat::from_fn(2, 2, |i, j| (i + j) as f64);
                    let two = Dataset::new(x, Labels::from_signs([true, false])).unwrap();
                    for b in [1, 2] {
                        assert_eq!(run(make().as_ref(), &two, b, 1).unwrap().len(), b);
                    }
                }

                #[test]
                fn malformed_inputs_name_the_field() {
                    let train = data(20);
                    let k = Rbf::new(RbfParams { gamma: 1.0 }).unwrap();
                    let small = Arc::new(Gram::new(&k, data(19).x()));
                    let input = PoisonInput { train: &train, kernel: &k, gram: &small, validation: None };
                    let e = poison_exact(make().as_ref(), &input, 3, &mut stream(1, Stream::Data)).unwrap_err().to_string();
                    assert!(e.contains("`gram`") && e.contains("19×19"), "{e}");
                    let gram = Arc::new(Gram::new(&k, train.x()));
                    let wide = Dataset::new(Mat::zeros(5, 3), Labels::from_signs((0..5).map(|i| i % 2 == 0))).unwrap();
                    let input = PoisonInput { train: &train, kernel: &k, gram: &gram, validation: Some(&wide) };
                    let e = poison_exact(make().as_ref(), &input, 3, &mut stream(1, Stream::Data)).unwrap_err().to_string();
                    assert!(e.contains("`validation`") && e.contains("dimension 3"), "{e}");
                }

                #[test]
                fn a_validation_split_is_accepted() {
                    let train = data(24);
                    let val = data(9);
                    let k = Rbf::new(RbfParams { gamma: 1.0 }).unwrap();
                    let gram = Arc::new(Gram::new(&k, train.x()));
                    let input = PoisonInput { train: &train, kernel: &k, gram: &gram, validation: Some(&val) };
                    let f = poison_exact(make().as_ref(), &input, 5, &mut stream(2, Stream::Data)).unwrap();
                    assert_eq!(f.len(), 5);
                    assert_eq!(f, poison_exact(make().as_ref(), &input, 5, &mut stream(2, Stream::Data)).unwrap());
                }
            }
        )*};
    }

    mod model {
        use super::*;
        use floral_attack::AttackError;
        use floral_data::Labels;

        model_poisoner_suite! {
            margin_far_first => || MarginFlips::new(MarginFlipsParams::default()).unwrap();
            margin_nearest_first => || MarginFlips::new(MarginFlipsParams { order: MarginOrder::NearestFirst, ..Default::default() }).unwrap();
            top_lambda => || TopLambdaFlips::new(TopLambdaFlipsParams::default()).unwrap();
            alfa => || Alfa::new(AlfaParams::default()).unwrap();
            alfa_tilt => || AlfaTilt::new(AlfaTiltParams::default()).unwrap();
            lfa => || Lfa::new(LfaParams::default()).unwrap();
            lfa_sampled_cold => || Lfa::new(LfaParams { candidates: Some(3), warm_start: false, ..Default::default() }).unwrap();
        }
    }

    #[test]
    fn random_flips_differ_across_seeds() {
        let train = data(40);
        assert_ne!(run(&RandomFlips, &train, 10, 1).unwrap(), run(&RandomFlips, &train, 10, 2).unwrap());
    }

    #[test]
    fn a_sheet_refuses_another_budget() {
        let train = data(12);
        let mut y = train.y().clone();
        y.flip(0);
        let e = run(&LabelSheet::new("one", y), &train, 3, 1).unwrap_err().to_string();
        assert!(e.contains("budget is exactly 3"), "{e}");
    }
}
