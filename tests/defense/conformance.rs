//! Every defence passes this suite: it fits a clean separable set and reports decision values
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! of the right sign, the same seed gives the same models, and a kernel matrix of the wrong
//! size is an error, not a panic.

use std::sync::Arc;

use faer::Mat;
use floral_data::{Dataset, FlipSet, FloralRng, Labels, Split, Streams};
use floral_defense::{
    CleanAction, ConfidentLearning, ConfidentLearningParams, Curie, CurieParams, Defence, FitInput, FloralDefence,
    FloralFitParams, FloralParams, KLid, KLidParams, LabelSanitisation, LabelSanitisationParams, LnSvm, LnSvmParams,
    Schedule, Solver, SvmDefence, SvmDefenceParams,
};
use floral_game::{Attacker, Evaluator, GameError, GameParams, RoundView, SplitKernels};
use floral_projection::ExactProjector;
use floral_svm::{Kernel, Rbf, RbfParams};

/// Two separated clusters on a line: x < 0 is −1, x > 0 is +1.
fn split() -> Split {
    let pts = |n: usize, off: f64| {
        let x = Mat::from_fn(
            n,
            1,
            |i, _| if i % 2 == 0 { -2.0 - off - 0.1 * i as f64 } else { 2.0 + off + 0.1 * i as f64 },
        );
        let y = Labels::from_signs((0..n).map(|i| i % 2 == 1));
        Dataset::new(x, y).unwrap()
    };
    let train = pts(24, 0.0);
    Split { train_clean: Some(train.y().clone()), train, validation: Some(pts(10, 0.3)), test: pts(12, 0.5) }
}

#[derive(Debug)]
struct Never;
impl Attacker for Never {
    fn name(&self) -> &'static str {
        "never"
    }
    fn attack(&mut self, v: &RoundView<'_>, _rng: &mut FloralRng) -> Result<FlipSet, GameError> {
        Ok(FlipSet::empty(v.clean.len()))
    }
}

fn floral() -> Box<dyn Defence> {
    floral_with(Solver::Pgd, 0.2)
}

/// The FLORAL defence with another solver. Extragradient and OGDA have critical steps 1/μ_max
/// and 2/(3μ_max), a half and a third of PGD's (proofs/stability.md (h), (i)): `eta` is
/// chosen below them.
fn floral_with(solver: Solver, eta: f64) -> Box<dyn Defence> {
    let p = FloralParams { c: 1.0, eta, schedule: Schedule::Constant, ..FloralParams::reference() };
    let fit = FloralFitParams {
        game: GameParams::new(300, 0, 0),
        record_every: 10,
        average_last: 20,
        rules: Vec::new(),
        solver,
    };
    Box::new(
        FloralDefence::new(
            p,
            fit,
            Arc::new(ExactProjector::default()),
            Arc::new(|| Ok(Box::new(Never) as Box<dyn Attacker>)),
        )
        .unwrap(),
    )
}

fn fit(
    d: &dyn Defence,
    s: &Split,
    kernels: &Arc<SplitKernels>,
    kernel: &dyn Kernel,
    seed: u64,
) -> floral_defense::Fitted {
    let input = FitInput {
        train: &s.train,
        trusted: s.validation.as_ref(),
        kernel,
        kernels,
        monitor: Some(Evaluator::shared(kernels.clone(), s)),
    };
    d.fit(input, &mut Streams::new(seed)).unwrap()
}

macro_rules! defence_suite {
    ($($name:ident => $make:expr;)*) => {$(
        mod $name {
            use super::*;

            fn make() -> Box<dyn Defence> { ($make)() }

            #[test]
            fn fits_a_clean_separable_set_and_reports_decision_values() {
                let s = split();
                let k = Rbf::new(RbfParams { gamma: 0.5 }).unwrap();
                let kernels = Arc::new(SplitKernels::new(&k, &s));
                let f = fit(make().as_ref(), &s, &kernels, &k, 1);
                assert!(!f.outputs.is_empty());
                let mut eval = Evaluator::shared(kernels.clone(), &s);
                for o in &f.outputs {
                    assert_eq!(o.model.coef.nrows(), s.train.n());
                    let sc = eval.scores(&o.model);
                    assert_eq!(sc.test.accuracy, 1.0, "{}", o.rule);
                    // Decision values have the label's sign on every test point.
                    let fv = eval.test_values(&o.model);
                    assert!(fv.iter().zip(s.test.y().as_slice()).all(|(f, y)| f * y > 0.0), "{}", o.rule);
                }
                assert!(f.n_sv >= 2);
            }

            #[test]
            fn same_seed_same_models() {
                let s = split();
                let k = Rbf::new(RbfParams { gamma: 0.5 }).unwrap();
                let kernels = Arc::new(SplitKernels::new(&k, &s));
                let a = fit(make().as_ref(), &s, &kernels, &k, 3);
                let b = fit(make().as_ref(), &s, &kernels, &k, 3);
                assert_eq!(a.outputs, b.outputs);
            }

            #[test]
            fn kernels_of_other_points_are_an_error() {
                let s = split();
                let k = Rbf::new(RbfParams { gamma: 0.5 }).unwrap();
                let mut other = s.clone();
                other.train = s.train.select(&(0..10).collect::<Vec<_>>());
                other.train_clean = Some(other.train.y().clone());
                let kernels = Arc::new(SplitKernels::new(&k, &other));
                let input = FitInput { train: &s.train, trusted: None, kernel: &k, kernels: &kernels, monitor: Some(Evaluator::shared(kernels.clone(), &other)) };
                assert!(make().fit(input, &mut Streams::new(1)).is_err());
            }
        }
    )*};
}

defence_suite! {
    svm => || Box::new(SvmDefence::new(SvmDefenceParams { c: 1.0 }).unwrap()) as Box<dyn Defence>;
    floral_learner => floral;
    floral_extragradient => || floral_with(Solver::Extragradient { respond: true }, 0.05);
    floral_extragradient_fixed => || floral_with(Solver::Extragradient { respond: false }, 0.05);
    floral_optimistic => || floral_with(Solver::Optimistic, 0.05);
    ln_svm => || Box::new(LnSvm::new(LnSvmParams::default()).unwrap()) as Box<dyn Defence>;
    curie => || Box::new(Curie::new(CurieParams::default()).unwrap()) as Box<dyn Defence>;
    label_sanitisation => || Box::new(LabelSanitisation::new(LabelSanitisationParams::default()).unwrap()) as Box<dyn Defence>;
    k_lid => || Box::new(KLid::new(KLidParams::default()).unwrap()) as Box<dyn Defence>;
    confident_learning => || Box::new(ConfidentLearning::new(ConfidentLearningParams::default()).unwrap()) as Box<dyn Defence>;
    confident_learning_relabel => || Box::new(ConfidentLearning::new(ConfidentLearningParams { action: CleanAction::Relabel, ..ConfidentLearningParams::default() }).unwrap()) as Box<dyn Defence>;
}

#[test]
fn floral_hands_out_last_average_and_best_validation() {
    let s = split();
    let k = Rbf::new(RbfParams { gamma: 0.5 }).unwrap();
    let kernels = Arc::new(SplitKernels::new(&k, &s));
    let f = fit(floral().as_ref(), &s, &kernels, &k, 1);
    let rules: Vec<&str> = f.outputs.iter().map(|o| o.rule.as_str()).collect();
    assert_eq!(rules, ["last", "avg-20", "best-val"]);
    assert_eq!(f.iterations, 300);
    assert!(f.best_validation_round.is_some());
    assert_eq!(f.final_labels.as_ref(), Some(s.train.y()));
    assert!(!f.trace.is_empty());
}

#[test]
fn invalid_parameters_name_the_field() {
    let e = SvmDefence::new(SvmDefenceParams { c: 0.0 }).unwrap_err().to_string();
    assert!(e.contains("`c`"), "{e}");
    let fit = FloralFitParams {
        game: GameParams { rounds: 0, ..GameParams::default() },
        record_every: 1,
        average_last: 1,
        rules: Vec::new(),
        solver: Solver::Pgd,
    };
    let e = FloralDefence::new(
        FloralParams::reference(),
        fit,
        Arc::new(ExactProjector::default()),
        Arc::new(|| Ok(Box::new(Never) as Box<dyn Attacker>)),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("`rounds`"), "{e}");
}
