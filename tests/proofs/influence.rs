//! Numerical checks of `proofs/influence.md` (claims (a)–(d)). Every test names its claim. The
//! small-step check of the first-order estimate solves the continuous-label dual with an
//! independent interior-point solver (Clarabel), not with SMO or the KKT system being checked.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::sync::Arc;

use clarabel::algebra::CscMatrix;
use clarabel::solver::{DefaultSettings, DefaultSolver, IPSolver, NonnegativeConeT, SolverStatus, ZeroConeT};
use faer::{Col, Mat, MatRef};
use floral::data::{Dataset, Labels, Stream, moons, stratified_split, stream};
use floral::svm::{
    Bounds, EvalLoss, FirstOrder, Gram, InfluenceParams, InfluenceSets, Kernel, Linear, LinearParams, Rbf, RbfParams,
    SignedGram, Smo, SmoParams, cross_decision_values, influence, warm_start_without,
};

fn cross(k: &dyn Kernel, a: &Dataset, b: &Dataset) -> Mat<f64> {
    let mut m = Mat::zeros(a.n(), b.n());
    k.gram_into(a.x(), b.x(), m.as_mut());
    m
}

fn moon(seed: u64, n: usize) -> (Dataset, Dataset, Rbf) {
    let data = moons(n, 0.25, &mut stream(seed, Stream::Data)).unwrap();
    let split = stratified_split(&data, 0.3, 0.1, &mut stream(seed, Stream::Data)).unwrap();
    (split.train, split.validation.unwrap(), Rbf::new(RbfParams { gamma: 1.0 }).unwrap())
}

/// (a) A warm-started retrain (flip or removal) reaches the optimum of a cold solve: same dual
/// objective and the same decision function, for every support vector and some non-support
/// vectors of a Moon SVM.
#[test]
fn warm_started_retraining_matches_a_cold_solve() {
    let (train, val, k) = moon(11, 200);
    let gram = Arc::new(Gram::new(&k, train.x()));
    let kv = cross(&k, &val, &train);
    let n = train.n();
    let c = 1.0;
    let smo = || Smo::new(SmoParams { eps: 1e-9, ..SmoParams::default() }).unwrap();
    let q = SignedGram::new(gram.clone(), train.y()).unwrap();
    let base = smo().solve(&q, Bounds::Uniform(c), None).unwrap();
    let mut w = Col::zeros(n);
    let mut checked = 0;
    let mut fewer_iterations = 0;
    for i in (0..n).filter(|&i| base.lambda[i] > 0.0 || i % 10 == 0) {
        // Flip.
        let mut qf = q.clone();
        qf.flip(i);
        assert!(warm_start_without(base.lambda.as_ref(), qf.labels(), i, &mut w));
        let warm = smo().solve(&qf, Bounds::Uniform(c), Some(w.as_ref())).unwrap();
        let cold = smo().solve(&qf, Bounds::Uniform(c), None).unwrap();
        let tol = 1e-7 * cold.objective.abs().max(1.0);
        assert!((warm.objective - cold.objective).abs() <= tol, "flip {i}: {} vs {}", warm.objective, cold.objective);
        let fw = cross_decision_values(kv.as_ref(), qf.labels(), warm.lambda.as_ref(), warm.bias);
        let fc = cross_decision_values(kv.as_ref(), qf.labels(), cold.lambda.as_ref(), cold.bias);
        let gap = fw.iter().zip(&fc).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        assert!(gap < 1e-4, "flip {i}: decision values differ by {gap}");
        fewer_iterations += usize::from(warm.iterations < cold.iterations);
        // Removal: C_i = 0.
        let mut cs = vec![c; n];
        cs[i] = 0.0;
        assert!(warm_start_without(base.lambda.as_ref(), train.y(), i, &mut w));
        let warm = smo().solve(&q, Bounds::PerPoint(&cs), Some(w.as_ref())).unwrap();
        let cold = smo().solve(&q, Bounds::PerPoint(&cs), None).unwrap();
        let tol = 1e-7 * cold.objective.abs().max(1.0);
        assert!((warm.objective - cold.objective).abs() <= tol, "loo {i}: {} vs {}", warm.objective, cold.objective);
        assert_eq!(warm.lambda[i], 0.0);
        checked += 1;
    }
    assert!(checked > 20, "only {checked} points checked");
    assert!(fewer_iterations * 2 > checked, "warm starts saved iterations in only {fewer_iterations} of {checked}");
}

/// The constructed case of (b): linear kernel, the positive point (1, 0) alone holds the margin
/// on its side against the negative pair (−1, ±1); every other point is far away.
fn lone_margin_case() -> (Dataset, Dataset) {
    let pts: &[(f64, f64, f64)] = &[
        (-1.0, -1.0, -1.0),
        (-1.0, 1.0, -1.0),
        (-3.0, 0.0, -1.0),
        (-4.0, 2.0, -1.0),
        (-4.0, -2.0, -1.0),
        (-5.0, 0.0, -1.0),
        (1.0, 0.0, 1.0),
        (3.0, 1.0, 1.0),
        (4.0, -2.0, 1.0),
        (5.0, 0.0, 1.0),
        (4.0, 2.0, 1.0),
    ];
    let x = Mat::from_fn(pts.len(), 2, |i, j| if j == 0 { pts[i].0 } else { pts[i].1 });
    let train = Dataset::new(x, Labels::new(pts.iter().map(|p| p.2).collect()).unwrap()).unwrap();
    let mut v = Vec::new();
    for a in -8..=8 {
        for b in [-2.0, -1.0, 0.0, 1.0, 2.0] {
            if a != 0 {
                v.push((a as f64 * 0.5, b));
            }
        }
    }
    let x = Mat::from_fn(v.len(), 2, |i, j| if j == 0 { v[i].0 } else { v[i].1 });
    let y = Labels::new(v.iter().map(|p| p.0.signum()).collect()).unwrap();
    (train, Dataset::new(x, y).unwrap())
}

fn argmax(v: impl Iterator<Item = f64>) -> usize {
    let v: Vec<f64> = v.collect();
    (0..v.len()).fold(0, |b, i| if v[i] > v[b] { i } else { b })
}

/// (b) When one point alone defines the margin on its side, it has the largest dual variable
/// (λ = 1/2 against 1/4 for each point of the opposite pair, by the hard-margin KKT conditions)
/// and the largest influence: removing it changes the validation hinge loss and the decision
/// function more than removing any other point, and flipping it more than flipping any other
/// support vector. (b′) flipping a far non-support vector can still move the SVM more.
#[test]
fn the_lone_margin_point_has_the_largest_lambda_and_influence() {
    let (train, val) = lone_margin_case();
    let k = Linear::new(LinearParams::default()).unwrap();
    let gram = Arc::new(Gram::new(&k, train.x()));
    let kv = cross(&k, &val, &train);
    let sets = InfluenceSets { validation: kv.as_ref(), validation_labels: val.y(), test: kv.as_ref() };
    let params = InfluenceParams { c: 10.0, warm_start: true, smo: SmoParams { eps: 1e-10, ..SmoParams::default() } };
    let idx: Vec<usize> = (0..train.n()).collect();
    let inf = influence(&gram, train.y(), &sets, &params, &idx).unwrap();
    let lone = 6;
    let lam = &inf.base.lambda;
    assert!((lam[lone] - 0.5).abs() < 1e-6 && (lam[0] - 0.25).abs() < 1e-6 && (lam[1] - 0.25).abs() < 1e-6);
    assert_eq!(argmax(inf.points.iter().map(|p| p.lambda)), lone);
    // Removal: only support vectors matter, and the lone point matters most.
    for (what, m) in [
        ("removal hinge", argmax(inf.points.iter().map(|p| p.loo_val_hinge_delta))),
        ("removal |Δf|", argmax(inf.points.iter().map(|p| p.loo_test_df))),
    ] {
        assert_eq!(m, lone, "{what}: the largest influence is point {m}, not the lone margin point");
    }
    // Flips: among the support vectors, the lone point's flip moves the SVM most.
    let sv: Vec<_> = inf.points.iter().filter(|p| p.lambda > 0.0).collect();
    for (what, f) in [
        ("flip hinge", (|p: &floral::svm::PointInfluence| p.flip_val_hinge_delta) as fn(&_) -> f64),
        ("flip error", |p| p.flip_val_error_delta),
        ("flip |Δf|", |p| p.flip_test_df),
    ] {
        let m = sv[argmax(sv.iter().map(|p| f(p)))].index;
        assert_eq!(m, lone, "{what}: among support vectors the largest influence is point {m}");
    }
    // (b′) But a flip's influence is not bounded by λ: flipping the far positive (4, 2), a
    // non-support vector (λ = 0), creates an outlier at the bound C that moves the linear SVM
    // more than flipping the lone margin point.
    let far = &inf.points[10];
    assert_eq!(far.lambda, 0.0);
    assert!(far.flip_val_hinge_delta > inf.points[lone].flip_val_hinge_delta);
    assert!(far.flip_test_df > inf.points[lone].flip_test_df);
    // The lone point's influence is strictly larger than the runner-up's.
    let mut d: Vec<f64> = inf.points.iter().map(|p| p.loo_test_df).collect();
    d.sort_by(|a, b| b.total_cmp(a));
    assert!(d[0] > 1.5 * d[1], "{d:?}");
}

/// The dual with continuous labels y(t) = y with y_i ← y_i(1 − 2t), solved by Clarabel:
/// min ½λᵀD K D λ − 1ᵀλ s.t. y(t)ᵀλ = 0, 0 ≤ λ ≤ C. Returns (α = y(t)∘λ, b), with b from the
/// free points (y_j(t) f_j = 1).
fn continuous_label_svm(k: MatRef<'_, f64>, y: &[f64], i: usize, t: f64, c: f64) -> (Vec<f64>, f64) {
    let n = y.len();
    let mut yt = y.to_vec();
    yt[i] *= 1.0 - 2.0 * t;
    // Upper triangle of P = D K D, column by column.
    let (mut colptr, mut rowval, mut nzval) = (vec![0], Vec::new(), Vec::new());
    for col in 0..n {
        for row in 0..=col {
            rowval.push(row);
            nzval.push(yt[row] * k[(row, col)] * yt[col]);
        }
        colptr.push(rowval.len());
    }
    let p = CscMatrix::new(n, n, colptr, rowval, nzval);
    // Rows: y(t)ᵀ (zero cone); −I; I (nonnegative cone: −λ ≤ 0, λ ≤ C).
    let (mut colptr, mut rowval, mut nzval) = (vec![0], Vec::new(), Vec::new());
    for (col, &ytc) in yt.iter().enumerate() {
        rowval.extend([0, 1 + col, 1 + n + col]);
        nzval.extend([ytc, -1.0, 1.0]);
        colptr.push(rowval.len());
    }
    let a = CscMatrix::new(1 + 2 * n, n, colptr, rowval, nzval);
    let mut b = vec![0.0; 1 + 2 * n];
    b[1 + n..].fill(c);
    let q = vec![-1.0; n];
    let cones = [ZeroConeT(1), NonnegativeConeT(2 * n)];
    let settings = DefaultSettings {
        verbose: false,
        tol_gap_abs: 1e-13,
        tol_gap_rel: 1e-13,
        tol_feas: 1e-13,
        tol_ktratio: 1e-10,
        max_iter: 400,
        ..DefaultSettings::default()
    };
    let mut s = DefaultSolver::new(&p, &q, &a, &b, &cones, settings).unwrap();
    s.solve();
    assert!(matches!(s.solution.status, SolverStatus::Solved | SolverStatus::AlmostSolved), "{:?}", s.solution.status);
    let lam = s.solution.x.clone();
    let alpha: Vec<f64> = (0..n).map(|j| yt[j] * lam[j]).collect();
    let free: Vec<usize> = (0..n).filter(|&j| lam[j] > 1e-6 * c && lam[j] < c * (1.0 - 1e-6)).collect();
    assert!(!free.is_empty());
    let bias = free.iter().map(|&j| 1.0 / yt[j] - (0..n).map(|l| k[(j, l)] * alpha[l]).sum::<f64>()).sum::<f64>()
        / free.len() as f64;
    (alpha, bias)
}

fn values(kv: MatRef<'_, f64>, alpha: &[f64], b: f64) -> Vec<f64> {
    (0..kv.nrows()).map(|v| b + (0..alpha.len()).map(|j| kv[(v, j)] * alpha[j]).sum::<f64>()).collect()
}

/// (c) In the small-step limit the first-order estimate is exact: for labels y_i(t) =
/// y_i(1 − 2t), (f_t − f_0)/t on the validation points and the difference quotient of the mean
/// validation hinge loss approach [`FirstOrder`]'s derivatives as t → 0 — checked for a free
/// support vector, a support vector at the bound C and a non-support vector.
#[test]
fn first_order_estimate_matches_retraining_in_the_small_step_limit() {
    let (train, val, k) = moon(5, 60);
    let gram = Gram::new(&k, train.x());
    let kv = cross(&k, &val, &train);
    let c = 1.0;
    let q = SignedGram::new(Arc::new(gram.clone()), train.y()).unwrap();
    let base = Smo::new(SmoParams { eps: 1e-12, ..SmoParams::default() })
        .unwrap()
        .solve(&q, Bounds::Uniform(c), None)
        .unwrap();
    let first = FirstOrder::new(&gram, train.y(), base.lambda.as_ref(), c).unwrap();
    let n = train.n();
    let y = train.y().as_slice();
    let free = (0..n).find(|&i| base.lambda[i] > 1e-3 && base.lambda[i] < c - 1e-3).unwrap();
    let bound = (0..n).find(|&i| base.lambda[i] == c).unwrap();
    let non_sv = (0..n).find(|&i| base.lambda[i] == 0.0).unwrap();
    let (a0, b0) = continuous_label_svm(gram.as_ref(), y, free, 0.0, c);
    let f0 = values(kv.as_ref(), &a0, b0);
    let h0 = EvalLoss::of(&f0, val.y()).hinge;
    for i in [free, bound, non_sv] {
        let df = first.flip_decision_change(i, kv.as_ref());
        let dh = first.flip(i, kv.as_ref(), val.y(), &f0);
        let scale = df.iter().fold(1e-3_f64, |m, d| m.max(d.abs()));
        let mut errs = Vec::new();
        for t in [1e-3, 1e-4] {
            let (at, bt) = continuous_label_svm(gram.as_ref(), y, i, t, c);
            let ft = values(kv.as_ref(), &at, bt);
            let err = ft.iter().zip(&f0).zip(&df).map(|((a, b), d)| ((a - b) / t - d).abs()).fold(0.0, f64::max);
            errs.push(err / scale);
            let ht = EvalLoss::of(&ft, val.y()).hinge;
            if t == 1e-4 {
                assert!(
                    ((ht - h0) / t - dh).abs() < 1e-2 * dh.abs().max(1e-2),
                    "point {i}: hinge {} vs {dh}",
                    (ht - h0) / t
                );
            }
        }
        assert!(errs[1] < 1e-3, "point {i} (λ = {}): relative error {errs:?}", base.lambda[i]);
        // First order: the error shrinks with t (or is already at the solver's precision).
        assert!(errs[1] <= errs[0] + 1e-6, "point {i}: {errs:?}");
    }
}
