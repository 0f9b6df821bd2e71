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
    ($($name:ident => $make:expr;)*) => {$(
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
                assert_ne!(run(11), run(12), "different seeds should differ on this instance");
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
    random_top_k => |k| Box::new(floral_attack::RandomTopK::new(floral_attack::RandomTopKParams { k, pool: None, sv_threshold: 1e-5 }).unwrap());
}

#[test]
fn random_top_k_draws_only_from_the_top_pool() {
    // λ has 20 support vectors; the pool is the top 6 by λ (indices with the largest λ).
    let n = 30;
    let (q, y, _) = problem(n);
    let lambda = Col::from_fn(n, |i| if i < 20 { 1.0 + i as f64 } else { 0.0 });
    let mut a = floral_attack::RandomTopK::new(floral_attack::RandomTopKParams { k: 3, pool: Some(6), sv_threshold: 1e-5 }).unwrap();
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
    use floral_attack::{LabelSheet, PoisonInput, Poisoner, RandomFlips, poison_exact};
    use floral_data::{Dataset, Labels, Stream, stream};
    use floral_svm::{Gram, Rbf, RbfParams};

    fn data(n: usize) -> Dataset {
        let x = Mat::from_fn(n, 2, |i, j| ((i * 5 + j) % 7) as f64 / 7.0);
        Dataset::new(x, Labels::from_signs((0..n).map(|i| i % 3 == 0))).unwrap()
    }

    fn run(p: &dyn Poisoner, train: &Dataset, budget: usize, seed: u64) -> Result<Vec<usize>, floral_attack::AttackError> {
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
