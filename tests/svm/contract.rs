//! Public contract of floral-svm: errors instead of panics on bad input, status values,
//! edge cases, bias rules and the model's prediction API.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::sync::Arc;

use faer::{Col, Mat};
use floral_data::{Dataset, Labels, Stream, moons, stream};
use floral_svm::{
    BiasRule, Bounds, Dual, DualSolver, Gram, Kernel, Linear, LinearParams, PolyParams, Rbf, RbfParams, SignedGram,
    Smo, SmoParams, SvmError, SvmModel, Termination, bias,
};

fn moons_set(n: usize, seed: u64) -> Dataset {
    moons(n, 0.2, &mut stream(seed, Stream::Data)).unwrap()
}

fn rbf(gamma: f64) -> Rbf {
    Rbf::new(RbfParams { gamma }).unwrap()
}

#[test]
fn kernel_params_deserialize_strictly() {
    let p: RbfParams = serde_json::from_str(r#"{"gamma": 0.5}"#).unwrap();
    assert_eq!(p.gamma, 0.5);
    assert!(serde_json::from_str::<RbfParams>(r#"{"gamma": 0.5, "gama": 1}"#).is_err());
    let p: PolyParams = serde_json::from_str(r#"{"degree": 2, "gamma": 1.0, "coef0": 1.0}"#).unwrap();
    assert_eq!(p.degree, 2);
    assert!(serde_json::from_str::<LinearParams>(r#"{"x": 1}"#).is_err());
    let e = Rbf::new(RbfParams { gamma: -1.0 }).unwrap_err();
    assert!(e.to_string().contains("gamma"), "{e}");
}

#[test]
fn infeasible_warm_starts_are_typed_errors() {
    let d = moons_set(40, 1);
    let q = SignedGram::new(Gram::new(&rbf(0.5), d.x()), d.y()).unwrap();
    let mut smo = Smo::new(SmoParams::default()).unwrap();
    // Violates ỹᵀλ = 0.
    let w = Col::from_fn(40, |i| if i == 0 { 1.0 } else { 0.0 });
    assert!(matches!(
        smo.solve(&q, Bounds::Uniform(10.0), Some(w.as_ref())),
        Err(SvmError::InfeasibleWarmStart { .. })
    ));
    // Outside the box.
    let w = Col::from_fn(40, |_| 11.0);
    assert!(matches!(
        smo.solve(&q, Bounds::Uniform(10.0), Some(w.as_ref())),
        Err(SvmError::InfeasibleWarmStart { .. })
    ));
    // Wrong length.
    let w = Col::<f64>::zeros(39);
    assert!(matches!(smo.solve(&q, Bounds::Uniform(10.0), Some(w.as_ref())), Err(SvmError::DimensionMismatch { .. })));
    // Bad bounds.
    assert!(smo.solve(&q, Bounds::Uniform(f64::NAN), None).is_err());
    assert!(smo.solve(&q, Bounds::PerPoint(&[1.0; 3]), None).is_err());
    assert!(matches!(smo.fit(&rbf(0.5), &d, 0.0), Err(SvmError::InvalidParam { field: "c", .. })));
}

#[test]
fn a_feasible_warm_start_reaches_the_same_optimum() {
    let d = moons_set(120, 2);
    let q = SignedGram::new(Gram::new(&rbf(0.5), d.x()), d.y()).unwrap();
    let mut smo = Smo::new(SmoParams { eps: 1e-6, ..SmoParams::default() }).unwrap();
    let cold = smo.solve(&q, Bounds::Uniform(10.0), None).unwrap();
    // A feasible but non-optimal start: equal mass on one point of each class.
    let (ip, ineg) = ((0..120).find(|&i| d.y().get(i) > 0.0).unwrap(), (0..120).find(|&i| d.y().get(i) < 0.0).unwrap());
    let w = Col::from_fn(120, |i| if i == ip || i == ineg { 3.0 } else { 0.0 });
    let warm = smo.solve(&q, Bounds::Uniform(10.0), Some(w.as_ref())).unwrap();
    assert!((warm.objective - cold.objective).abs() <= 1e-6 * cold.objective.abs());
}

#[test]
fn iteration_limit_is_a_status_not_an_error() {
    let d = moons_set(200, 3);
    let q = SignedGram::new(Gram::new(&rbf(0.5), d.x()), d.y()).unwrap();
    let sol = Smo::new(SmoParams { max_iter: Some(5), ..SmoParams::default() })
        .unwrap()
        .solve(&q, Bounds::Uniform(10.0), None)
        .unwrap();
    assert_eq!(sol.status, Termination::MaxIters);
    assert_eq!(sol.iterations, 5);
    let dual = Dual::new(&q, Bounds::Uniform(10.0)).unwrap();
    assert!(dual.feasibility_residual(sol.lambda.as_ref()) <= 1e-12);
    assert!(dual.kkt_violation(sol.lambda.as_ref()) > 1e-3);
}

#[test]
fn degenerate_problems_do_not_panic() {
    let mut smo = Smo::new(SmoParams::default()).unwrap();
    // One point.
    let one = Dataset::new(Mat::from_fn(1, 2, |_, j| j as f64), Labels::new(vec![1.0]).unwrap()).unwrap();
    let m = smo.fit(&rbf(1.0), &one, 1.0).unwrap();
    assert_eq!(m.n_sv(), 0);
    assert_eq!(m.predict(one.x()), vec![1.0]);
    // A single class: λ = 0 and the bias predicts that class.
    let neg = Dataset::new(Mat::from_fn(5, 1, |i, _| i as f64), Labels::new(vec![-1.0; 5]).unwrap()).unwrap();
    let m = smo.fit(&rbf(1.0), &neg, 1.0).unwrap();
    assert_eq!(m.status(), Some(Termination::Converged));
    assert_eq!(m.accuracy(&neg), 1.0);
    // Duplicate points with opposite labels (singular Q̃).
    let dup = Dataset::new(Mat::from_fn(4, 1, |i, _| (i / 2) as f64), Labels::new(vec![1.0, -1.0, 1.0, -1.0]).unwrap())
        .unwrap();
    let m = smo.fit(&Linear::new(LinearParams {}).unwrap(), &dup, 1.0).unwrap();
    assert_eq!(m.status(), Some(Termination::Converged));
    // Empty training set.
    let empty = Dataset::new(Mat::zeros(0, 2), Labels::new(vec![]).unwrap()).unwrap();
    assert!(matches!(smo.fit(&rbf(1.0), &empty, 1.0), Err(SvmError::InvalidParam { .. })));
}

#[test]
fn bias_rules_agree_with_the_solver() {
    let d = moons_set(150, 4);
    let q = SignedGram::new(Gram::new(&rbf(0.5), d.x()), d.y()).unwrap();
    let sol = Smo::new(SmoParams::default()).unwrap().solve(&q, Bounds::Uniform(1.0), None).unwrap();
    // The DualSolver trait gives the same solution.
    let dual = Dual::new(&q, Bounds::Uniform(1.0)).unwrap();
    let mut smo = Smo::new(SmoParams::default()).unwrap();
    let via_trait = DualSolver::solve_dual(&mut smo, &dual, None).unwrap();
    assert_eq!(via_trait.lambda, sol.lambda);
    assert_eq!(DualSolver::name(&smo), "smo");
    let b_free = bias(BiasRule::FreeSupportVectors, &q, sol.lambda.as_ref(), Bounds::Uniform(1.0));
    assert!((b_free - sol.bias).abs() <= 1e-9, "{b_free} vs {}", sol.bias);
    // The reference rule averages over bounded SVs too: a different but nearby value.
    let b_all = bias(BiasRule::reference(), &q, sol.lambda.as_ref(), Bounds::Uniform(1.0));
    assert!(b_all.is_finite());
    assert!((b_all - b_free).abs() < 1.0);
    // Direct formula for the reference rule.
    let k = q.k();
    let y = d.y().as_slice();
    let sv: Vec<usize> = (0..150).filter(|&s| sol.lambda[s] > 1e-5).collect();
    let direct =
        sv.iter().map(|&s| y[s] - (0..150).map(|j| sol.lambda[j] * y[j] * k[(s, j)]).sum::<f64>()).sum::<f64>()
            / sv.len() as f64;
    assert!((b_all - direct).abs() <= 1e-10);
}

#[test]
fn model_decision_values_match_training_decision_values() {
    let d = moons_set(300, 5);
    let k = rbf(0.5);
    let mut smo = Smo::new(SmoParams::default()).unwrap();
    let model = smo.fit(&k, &d, 10.0).unwrap();
    let q = SignedGram::new(Gram::new(&k, d.x()), d.y()).unwrap();
    let mut f = Col::zeros(300);
    q.decision_values_into(model.lambda(), f.as_mut());
    let g = model.decision_function(d.x());
    for i in 0..300 {
        assert!((g[i] - (f[i] + model.bias())).abs() <= 1e-9, "{i}");
    }
    assert_eq!(model.lambda().nrows(), 300);
    assert!(model.n_bounded_sv().unwrap() <= model.n_sv());
    // Rebuilding from the dual reproduces the decision function.
    let again = SvmModel::from_dual(Arc::new(k) as Arc<dyn Kernel>, d.x(), d.y(), model.lambda(), model.bias(), 0.0);
    assert_eq!(again.decision_function(d.x()), g);
    assert_eq!(again.n_bounded_sv(), None);
    assert!(model.accuracy(&moons_set(500, 6)) > 0.9);
}

#[test]
fn matvec_is_q_times_lambda() {
    let d = moons_set(50, 7);
    let q = SignedGram::new(Gram::new(&rbf(0.5), d.x()), d.y()).unwrap();
    let l = Col::from_fn(50, |i| (i % 7) as f64 / 7.0);
    let mut out = Col::zeros(50);
    q.matvec_into(l.as_ref(), out.as_mut());
    for i in 0..50 {
        let direct: f64 = (0..50).map(|j| q.entry(i, j) * l[j]).sum();
        assert!((out[i] - direct).abs() <= 1e-12);
    }
    let ev = Gram::new(&rbf(0.5), d.x()).max_eigenvalue().unwrap();
    assert!((1.0..=50.0).contains(&ev), "λ_max(K) = {ev} must lie in [max K_ii, trace K]");
}

/// Results do not depend on the number of threads: the Gram matrix, predictions and SMO on
/// kernel rows (computed in parallel) are bitwise equal on a 1-thread and a 4-thread pool.
#[test]
fn results_do_not_depend_on_the_thread_count() {
    let d = moons_set(700, 8);
    let k = rbf(0.5);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            let g = Gram::new(&k, d.x());
            let mut smo = Smo::new(SmoParams { dense_limit_mb: 0.0, ..SmoParams::default() }).unwrap();
            let m = smo.fit(&k, &d, 10.0).unwrap();
            let f = m.decision_function(moons_set(600, 9).x());
            (g, m.lambda().to_owned(), f)
        })
    };
    let (g1, l1, f1) = run(1);
    let (g4, l4, f4) = run(4);
    assert!(g1 == g4, "Gram differs between 1 and 4 threads");
    for i in 0..l1.nrows() {
        assert_eq!(l1[i].to_bits(), l4[i].to_bits());
    }
    for (a, b) in f1.iter().zip(&f4) {
        assert_eq!(a.to_bits(), b.to_bits());
    }
}

/// A kernel that only implements `gram_into` still gets an exactly symmetric `Gram`.
#[test]
fn foreign_kernels_get_a_symmetric_gram() {
    #[derive(Debug, Clone, Copy)]
    struct Lopsided;
    impl Kernel for Lopsided {
        fn name(&self) -> &'static str {
            "lopsided"
        }
        fn eval(&self, a: faer::RowRef<'_, f64>, b: faer::RowRef<'_, f64>) -> f64 {
            // symmetric in exact arithmetic, not in floating point (association order)
            a[0] + (b[0] + a[0] * b[0])
        }
        fn gram_into(&self, x: faer::MatRef<'_, f64>, z: faer::MatRef<'_, f64>, mut out: faer::MatMut<'_, f64>) {
            out.copy_from(floral_svm::gram_naive(self, x, z));
        }
        fn clone_arc(&self) -> Arc<dyn Kernel> {
            Arc::new(*self)
        }
    }
    let x = Mat::from_fn(40, 1, |i, _| (i as f64).sqrt() * 1.37);
    let raw = floral_svm::gram_naive(&Lopsided, x.as_ref(), x.as_ref());
    assert!(Gram::from_mat(raw).is_err(), "precondition: the kernel's own Gram is not bitwise symmetric");
    let g = Gram::new(&Lopsided, x.as_ref());
    for i in 0..40 {
        for j in 0..40 {
            assert_eq!(g.as_ref()[(i, j)].to_bits(), g.as_ref()[(j, i)].to_bits());
        }
    }
    assert!(Gram::from_mat(g.as_ref().to_owned()).is_ok());
}

#[test]
fn overflowing_kernels_are_errors_not_nan_models() {
    let x = Mat::from_fn(6, 1, |i, _| 1e60 * (i as f64 + 1.0));
    let y = Labels::new(vec![1.0, -1.0, 1.0, -1.0, 1.0, -1.0]).unwrap();
    let d = Dataset::new(x, y).unwrap();
    let k = floral_svm::Poly::new(PolyParams { degree: 9, gamma: 1.0, coef0: 0.0 }).unwrap();
    let e = Smo::new(SmoParams::default()).unwrap().fit(&k, &d, 1.0).unwrap_err();
    assert!(matches!(e, SvmError::NonFinite { .. }), "{e}");
}
