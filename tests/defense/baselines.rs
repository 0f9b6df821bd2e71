//! The baseline defences' defining behaviours on small constructed cases, and their answers to
//! bad inputs and bad parameters.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use faer::Mat;
use floral_data::{Dataset, Labels, Split, Streams};
use floral_defense::{
    CleanAction, ConfidentLearning, ConfidentLearningParams, Curie, CurieParams, Defence, DefenseError, FitInput,
    Fitted, KLid, KLidParams, KLidWeighting, LabelSanitisation, LabelSanitisationParams, LnSvm, LnSvmParams,
};
use floral_game::{Evaluator, SplitKernels};
use floral_projection::Bounds;
use floral_svm::{Gram, Rbf, RbfParams, SignedGram, Smo, SmoParams};

/// A side×side grid of spacing `step` with its lower-left corner at (x0, y0).
fn grid(side: usize, step: f64, x0: f64, y0: f64) -> Vec<[f64; 2]> {
    (0..side * side).map(|i| [x0 + (i % side) as f64 * step, y0 + (i / side) as f64 * step]).collect()
}

fn dataset(points: &[[f64; 2]], positive: impl Fn(usize) -> bool) -> Dataset {
    let x = Mat::from_fn(points.len(), 2, |i, c| points[i][c]);
    Dataset::new(x, Labels::from_signs((0..points.len()).map(positive))).unwrap()
}

/// The flipped point of [`two_clusters`]: the centre of the positive cluster.
const FLIPPED: usize = 25 + 12;

/// Two tight 5×5 clusters 3 apart: points 0–24 at x ≈ −1.5 are −1, points 25–49 at x ≈ 1.5 are
/// +1, except point [`FLIPPED`] (the positive cluster's centre), labelled −1. The trusted set is
/// a clean 4×4 grid inside each cluster; the test set two clean clusters.
fn two_clusters() -> Split {
    let mut pts = grid(5, 0.02, -1.54, -0.04);
    pts.extend(grid(5, 0.02, 1.46, -0.04));
    let train = dataset(&pts, |i| i >= 25 && i != FLIPPED);
    let mut tr = grid(4, 0.02, -1.53, -0.03);
    tr.extend(grid(4, 0.02, 1.47, -0.03));
    let trusted = dataset(&tr, |i| i >= 16);
    let mut te = grid(3, 0.1, -1.6, -0.1);
    te.extend(grid(3, 0.1, 1.4, -0.1));
    let test = dataset(&te, |i| i >= 9);
    Split { train_clean: Some(Labels::from_signs((0..50).map(|i| i >= 25))), train, validation: Some(trusted), test }
}

fn rbf() -> Rbf {
    Rbf::new(RbfParams { gamma: 0.5 }).unwrap()
}

fn fit_on(d: &dyn Defence, s: &Split, trusted: Option<&Dataset>) -> Result<Fitted, DefenseError> {
    let k = rbf();
    let kernels = Arc::new(SplitKernels::new(&k, s));
    let input = FitInput { train: &s.train, trusted, kernel: &k, kernels: &kernels, monitor: None };
    d.fit(input, &mut Streams::new(7))
}

fn fit(d: &dyn Defence, s: &Split) -> Fitted {
    fit_on(d, s, s.validation.as_ref()).unwrap()
}

fn test_accuracy(s: &Split, f: &Fitted) -> f64 {
    let kernels = Arc::new(SplitKernels::new(&rbf(), s));
    Evaluator::shared(kernels, s).test(&f.outputs[0].model).accuracy
}

#[test]
fn label_sanitisation_relabels_an_isolated_flip_inside_a_pure_cluster() {
    let s = two_clusters();
    let f = fit(&LabelSanitisation::new(LabelSanitisationParams::default()).unwrap(), &s);
    assert_eq!(f.final_labels.as_ref(), s.train_clean.as_ref());
    let sc = f.screening.as_ref().unwrap();
    assert_eq!(sc.relabelled, vec![FLIPPED]);
    assert!(sc.dropped.is_empty());
    assert!(sc.converged && sc.passes == 2, "{sc:?}");
    // The model is trained on the restored labels: its coefficient of the point is ≥ 0.
    assert!(f.outputs[0].model.coef[FLIPPED] >= 0.0);
    assert_eq!(test_accuracy(&s, &f), 1.0);
}

#[test]
fn curie_drops_an_isolated_flip_inside_a_pure_cluster() {
    let s = two_clusters();
    let curie = Curie::new(CurieParams::default()).unwrap();
    let f = fit(&curie, &s);
    let sc = f.screening.as_ref().unwrap();
    assert!(sc.dropped.contains(&FLIPPED), "{sc:?}");
    assert_eq!(f.outputs[0].model.coef[FLIPPED], 0.0);
    assert!(f.final_labels.is_none());
    // Its z-score is the largest, and the two clusters are DBSCAN's two clusters.
    let screen = curie.screen(s.train.x(), s.train.y(), &mut Streams::new(7).learner);
    let top = (0..50).max_by(|&a, &b| screen.z[a].total_cmp(&screen.z[b])).unwrap();
    assert_eq!(top, FLIPPED);
    assert!(screen.clusters[..25].iter().all(|&c| c == Some(0)) && screen.clusters[25..].iter().all(|&c| c == Some(1)));
    assert_eq!(sc.dropped, (0..50).filter(|&i| screen.dropped[i]).collect::<Vec<_>>());
}

#[test]
fn k_lid_gives_a_flipped_point_a_smaller_box_than_its_neighbours() {
    let s = two_clusters();
    let f = fit(&KLid::new(KLidParams::default()).unwrap(), &s);
    let bounds = f.screening.as_ref().unwrap().bounds.clone().unwrap();
    assert_eq!(bounds.len(), 50);
    assert!(bounds.iter().all(|&c| (0.1 - 1e-12..=1.0 + 1e-12).contains(&c)));
    let neighbours = (25..50).filter(|&i| i != FLIPPED);
    for j in neighbours {
        assert!(bounds[FLIPPED] < bounds[j], "C_flipped {} vs C_{j} {}", bounds[FLIPPED], bounds[j]);
    }
    // It is the smallest bound of all, near the smallest weight w_min = 0.1; its neighbours keep
    // nearly all of C.
    assert!(bounds.iter().all(|&b| b >= bounds[FLIPPED]));
    assert!(bounds[FLIPPED] < 0.2, "{}", bounds[FLIPPED]);
    assert!((25..50).filter(|&i| i != FLIPPED).all(|j| bounds[j] > 0.9), "{bounds:?}");
    // The same with the reference code's min–max scaled likelihood ratios.
    let p = KLidParams { weighting: KLidWeighting::ScaledRatio, ..KLidParams::default() };
    let scaled = fit(&KLid::new(p).unwrap(), &s).screening.unwrap().bounds.unwrap();
    assert!((25..50).filter(|&i| i != FLIPPED).all(|j| scaled[FLIPPED] < scaled[j]), "{scaled:?}");
    // Its score (own-label K-LID over other-label K-LID) is the largest.
    let k = rbf();
    let kernels = SplitKernels::new(&k, &s);
    let w = KLid::new(KLidParams::default())
        .unwrap()
        .weights(&s.train, Gram::as_ref(&kernels.train), &k, s.validation.as_ref().unwrap())
        .unwrap();
    let top = (0..50).max_by(|&a, &b| w.scores[a].total_cmp(&w.scores[b])).unwrap();
    assert_eq!(top, FLIPPED);
}

#[test]
fn confident_learning_flags_an_isolated_flip_inside_a_pure_cluster() {
    let s = two_clusters();
    let drop = fit(&ConfidentLearning::new(ConfidentLearningParams::default()).unwrap(), &s);
    assert!(drop.screening.as_ref().unwrap().dropped.contains(&FLIPPED));
    assert_eq!(drop.outputs[0].model.coef[FLIPPED], 0.0);
    let p = ConfidentLearningParams { action: CleanAction::Relabel, ..ConfidentLearningParams::default() };
    let relabel = fit(&ConfidentLearning::new(p).unwrap(), &s);
    let sc = relabel.screening.as_ref().unwrap();
    assert!(sc.relabelled.contains(&FLIPPED));
    assert_eq!(relabel.final_labels.as_ref().unwrap().get(FLIPPED), 1.0);
    // The out-of-sample probability of +1 at the flipped point is high.
    let k = rbf();
    let kernels = SplitKernels::new(&k, &s);
    let screen = ConfidentLearning::new(ConfidentLearningParams::default())
        .unwrap()
        .screen(&kernels.train, s.train.y(), &mut Streams::new(7).learner)
        .unwrap();
    assert!(
        screen.p_positive[FLIPPED] > screen.thresholds.0,
        "{} vs {:?}",
        screen.p_positive[FLIPPED],
        screen.thresholds
    );
    assert!(screen.flagged.contains(&(FLIPPED, 1.0)));
}

/// 30 points on a noisy line with three flipped labels, a test set beside them.
fn noisy_line() -> Split {
    let x = |n: usize, off: f64| Mat::from_fn(n, 1, |i, _| -3.0 + 6.0 * (i as f64 + off) / n as f64);
    let train_x = x(30, 0.0);
    let y = Labels::from_signs((0..30).map(|i| (train_x[(i, 0)] > 0.0) ^ [4, 17, 20].contains(&i)));
    let train = Dataset::new(train_x, y).unwrap();
    let test_x = x(20, 0.37);
    let ty = Labels::from_signs((0..20).map(|i| test_x[(i, 0)] > 0.0));
    let test = Dataset::new(test_x, ty).unwrap();
    Split { train_clean: None, train, validation: None, test }
}

#[test]
fn ln_svm_scales_the_off_diagonal_by_one_minus_four_mu_one_minus_mu() {
    let s = noisy_line();
    let k = rbf();
    let gram = Gram::new(&k, s.train.x());
    for mu in [0.0, 0.05, 0.3] {
        let ln = LnSvm::new(LnSvmParams { c: 1.0, mu }).unwrap();
        let sc = 1.0 - 4.0 * mu * (1.0 - mu);
        assert_eq!(ln.scale(), sc);
        let corrected = ln.corrected_gram(&gram).unwrap();
        let (a, b) = (gram.as_ref(), corrected.as_ref());
        for i in 0..30 {
            for j in 0..30 {
                let want = if i == j { a[(i, i)] } else { sc * a[(i, j)] };
                assert_eq!(b[(i, j)], want, "({i}, {j}) at mu {mu}");
            }
        }
    }
}

#[test]
fn ln_svm_decision_values_are_those_of_an_svm_on_the_corrected_kernel() {
    let s = noisy_line();
    let k = rbf();
    let kernels = Arc::new(SplitKernels::new(&k, &s));
    let (mu, c) = (0.05, 2.0);
    let ln = fit_on(&LnSvm::new(LnSvmParams { c, mu }).unwrap(), &s, None).unwrap();
    // The explicitly corrected kernel, built entry by entry from the shared kernel matrices:
    // K'_ii = K_ii, K'_ij = (1 − 4μ(1 − μ)) K_ij, and the same factor between a test point and
    // every training point.
    let sc = 1.0 - 4.0 * mu * (1.0 - mu);
    let km = Gram::as_ref(&kernels.train);
    let kp = Mat::from_fn(30, 30, |i, j| if i == j { km[(i, i)] } else { sc * km[(i, j)] });
    let q = SignedGram::new(Gram::from_mat(kp).unwrap(), s.train.y()).unwrap();
    let sol = Smo::new(SmoParams::default()).unwrap().solve(&q, Bounds::Uniform(c), None).unwrap();
    let want: Vec<f64> = (0..20)
        .map(|t| {
            (0..30).map(|j| sol.lambda[j] * s.train.y().get(j) * (sc * kernels.test[(t, j)])).sum::<f64>() + sol.bias
        })
        .collect();
    let got = Evaluator::shared(kernels.clone(), &s).test_values(&ln.outputs[0].model);
    for (g, w) in got.iter().zip(&want) {
        assert!((g - w).abs() < 1e-9, "{g} vs {w}");
    }
    // The correction matters: the plain SVM's decision values differ.
    let plain = Smo::new(SmoParams::default())
        .unwrap()
        .solve(&SignedGram::new(kernels.train.clone(), s.train.y()).unwrap(), Bounds::Uniform(c), None)
        .unwrap();
    let pv = Evaluator::shared(kernels, &s).test_values(&floral_game::DualModel::new(
        plain.lambda.as_ref(),
        s.train.y(),
        plain.bias,
    ));
    assert!(pv.iter().zip(&got).any(|(p, g)| (p - g).abs() > 1e-3));
}

fn all_defences() -> Vec<Box<dyn Defence>> {
    vec![
        Box::new(LnSvm::new(LnSvmParams::default()).unwrap()),
        Box::new(Curie::new(CurieParams::default()).unwrap()),
        Box::new(LabelSanitisation::new(LabelSanitisationParams::default()).unwrap()),
        Box::new(KLid::new(KLidParams::default()).unwrap()),
        Box::new(ConfidentLearning::new(ConfidentLearningParams::default()).unwrap()),
        Box::new(
            ConfidentLearning::new(ConfidentLearningParams {
                action: CleanAction::Relabel,
                ..ConfidentLearningParams::default()
            })
            .unwrap(),
        ),
    ]
}

#[test]
fn a_training_set_with_one_class_is_an_error_naming_train() {
    let mut s = two_clusters();
    s.train = s.train.with_labels(Labels::from_signs((0..50).map(|_| true))).unwrap();
    for d in all_defences() {
        let e = fit_on(d.as_ref(), &s, s.validation.as_ref()).unwrap_err();
        assert!(matches!(e, DefenseError::InvalidInput { field: "train", .. }), "{}: {e}", d.name());
        assert!(e.to_string().contains("`train`"), "{e}");
    }
}

#[test]
fn k_lid_needs_a_trusted_set_with_both_classes() {
    let s = two_clusters();
    let klid = KLid::new(KLidParams::default()).unwrap();
    let one_class = s.validation.as_ref().unwrap().select(&(0..16).collect::<Vec<_>>());
    for trusted in [None, Some(&one_class)] {
        let e = fit_on(&klid, &s, trusted).unwrap_err();
        assert!(matches!(e, DefenseError::InvalidInput { field: "trusted", .. }), "{e}");
        assert!(e.to_string().contains("`trusted`"), "{e}");
    }
    let e = fit_on(&klid, &s, Some(&one_class)).unwrap_err().to_string();
    assert!(
        e.contains("16 points labelled −1 and 0 labelled +1") || e.contains("0 points labelled +1 and 16 labelled −1"),
        "{e}"
    );
}

#[test]
fn screening_that_leaves_one_class_never_panics() {
    // One positive point among 30 negatives: label sanitisation relabels it, leaving one class;
    // what the sanitised labels support is the constant classifier f(x) = −1 (no SVM, no panic).
    let pts = grid(6, 0.02, 0.0, 0.0);
    let train = dataset(&pts[..31], |i| i == 14);
    let s = Split { train_clean: None, train: train.clone(), validation: None, test: train };
    let f = fit_on(&LabelSanitisation::new(LabelSanitisationParams::default()).unwrap(), &s, None).unwrap();
    assert_eq!(f.final_labels.as_ref().unwrap().n_positive(), 0);
    assert_eq!(f.outputs[0].model.bias, -1.0);
    assert!(f.outputs[0].model.coef.iter().all(|&c| c == 0.0));
    assert_eq!(f.screening.as_ref().unwrap().relabelled, vec![14]);
    // Confident learning cannot cross-validate a class of one point.
    let e = fit_on(&ConfidentLearning::new(ConfidentLearningParams::default()).unwrap(), &s, None).unwrap_err();
    assert!(e.to_string().contains("at least 2 points of each class"), "{e}");
}

fn field_of(e: DefenseError) -> &'static str {
    match e {
        DefenseError::InvalidParam { field, .. } => field,
        other => panic!("not a parameter error: {other}"),
    }
}

#[test]
fn bad_parameters_are_errors_naming_the_field() {
    let ln = |p: LnSvmParams| field_of(LnSvm::new(p).unwrap_err());
    assert_eq!(ln(LnSvmParams { c: 0.0, ..LnSvmParams::default() }), "c");
    assert_eq!(ln(LnSvmParams { c: f64::NAN, ..LnSvmParams::default() }), "c");
    assert_eq!(ln(LnSvmParams { mu: 0.5, ..LnSvmParams::default() }), "mu");
    assert_eq!(ln(LnSvmParams { mu: -0.1, ..LnSvmParams::default() }), "mu");

    let cu = |p: CurieParams| field_of(Curie::new(p).unwrap_err());
    let d = CurieParams::default;
    assert_eq!(cu(CurieParams { c: -1.0, ..d() }), "c");
    assert_eq!(cu(CurieParams { eps: 0.0, ..d() }), "eps");
    assert_eq!(cu(CurieParams { min_samples: 0, ..d() }), "min_samples");
    assert_eq!(cu(CurieParams { label_weight: -0.1, ..d() }), "label_weight");
    assert_eq!(cu(CurieParams { samples: 0, ..d() }), "samples");
    assert_eq!(cu(CurieParams { z_threshold: f64::INFINITY, ..d() }), "z_threshold");

    let ls = |p: LabelSanitisationParams| field_of(LabelSanitisation::new(p).unwrap_err());
    let d = LabelSanitisationParams::default;
    assert_eq!(ls(LabelSanitisationParams { c: 0.0, ..d() }), "c");
    assert_eq!(ls(LabelSanitisationParams { k: 0, ..d() }), "k");
    assert_eq!(ls(LabelSanitisationParams { threshold: 0.5, ..d() }), "threshold");
    assert_eq!(ls(LabelSanitisationParams { threshold: 1.1, ..d() }), "threshold");
    assert_eq!(ls(LabelSanitisationParams { max_sweeps: 0, ..d() }), "max_sweeps");

    let kl = |p: KLidParams| field_of(KLid::new(p).unwrap_err());
    let d = KLidParams::default;
    assert_eq!(kl(KLidParams { c: 0.0, ..d() }), "c");
    assert_eq!(kl(KLidParams { k: 0, ..d() }), "k");
    assert_eq!(kl(KLidParams { w_min: 1.5, ..d() }), "w_min");
    assert_eq!(kl(KLidParams { lr_max: 0.0, ..d() }), "lr_max");
    assert_eq!(kl(KLidParams { lid_max: f64::NAN, ..d() }), "lid_max");

    let cl = |p: ConfidentLearningParams| field_of(ConfidentLearning::new(p).unwrap_err());
    let d = ConfidentLearningParams::default;
    assert_eq!(cl(ConfidentLearningParams { c: 0.0, ..d() }), "c");
    assert_eq!(cl(ConfidentLearningParams { folds: 1, ..d() }), "folds");

    // The messages carry the field and the value received.
    let e = Curie::new(CurieParams { eps: -2.0, ..CurieParams::default() }).unwrap_err().to_string();
    assert!(e.contains("`eps`") && e.contains("-2"), "{e}");
}

#[test]
fn params_parse_with_documented_defaults_and_reject_unknown_fields() {
    assert_eq!(serde_json::from_str::<LnSvmParams>("{}").unwrap(), LnSvmParams { c: 1.0, mu: 0.05 });
    assert_eq!(
        serde_json::from_str::<CurieParams>(r#"{"c": 10.0}"#).unwrap(),
        CurieParams { c: 10.0, eps: 0.5, min_samples: 5, label_weight: 0.05, samples: 20, z_threshold: 0.75 }
    );
    assert_eq!(
        serde_json::from_str::<LabelSanitisationParams>("{}").unwrap(),
        LabelSanitisationParams { c: 1.0, k: 20, threshold: 0.75, max_sweeps: 100 }
    );
    assert_eq!(
        serde_json::from_str::<KLidParams>("{}").unwrap(),
        KLidParams { c: 1.0, k: 50, w_min: 0.1, weighting: KLidWeighting::Posterior, lr_max: 25.0, lid_max: 1000.0 }
    );
    assert_eq!(
        serde_json::from_str::<KLidParams>(r#"{"weighting": "scaled_ratio"}"#).unwrap().weighting,
        KLidWeighting::ScaledRatio
    );
    assert_eq!(
        serde_json::from_str::<ConfidentLearningParams>(r#"{"action": "relabel"}"#).unwrap(),
        ConfidentLearningParams { c: 1.0, folds: 5, action: CleanAction::Relabel }
    );
    assert!(serde_json::from_str::<LnSvmParams>(r#"{"nu": 0.1}"#).is_err());
    assert!(serde_json::from_str::<CurieParams>(r#"{"epsilon": 0.1}"#).is_err());
    assert!(serde_json::from_str::<LabelSanitisationParams>(r#"{"neighbours": 3}"#).is_err());
    assert!(serde_json::from_str::<KLidParams>(r#"{"gamma": 1}"#).is_err());
    assert!(serde_json::from_str::<ConfidentLearningParams>(r#"{"action": "keep"}"#).is_err());
}

/// Two moons (n = 500, noise 0.15) with 50 random flips, a clean trusted set of 500 and a test
/// set of 1,000.
fn noisy_moons() -> (Split, Vec<usize>) {
    use floral_data::{Stream, moons, stream};
    let mut rng = stream(42, Stream::Data);
    let train = moons(500, 0.15, &mut rng).unwrap();
    let trusted = moons(500, 0.15, &mut rng).unwrap();
    let test = moons(1000, 0.15, &mut rng).unwrap();
    let clean = train.y().clone();
    let mut y = clean.clone();
    for i in rand::seq::index::sample(&mut rng, 500, 50).iter() {
        y.flip(i);
    }
    let flipped = clean.diff(&y).unwrap();
    (Split { train: train.with_labels(y).unwrap(), train_clean: Some(clean), validation: Some(trusted), test }, flipped)
}

/// Share of `found` that is in `flipped`, and share of `flipped` found.
fn precision_recall(found: &[usize], flipped: &[usize]) -> (f64, f64) {
    let hit = found.iter().filter(|i| flipped.contains(i)).count() as f64;
    (hit / found.len().max(1) as f64, hit / flipped.len() as f64)
}

#[test]
fn on_noisy_moons_the_screenings_mostly_find_the_flipped_points() {
    let (s, flipped) = noisy_moons();
    let c = 10.0;
    // Confident learning.
    let k = rbf();
    let kernels = Arc::new(SplitKernels::new(&k, &s));
    let input = FitInput { train: &s.train, trusted: None, kernel: &k, kernels: &kernels, monitor: None };
    let cl = ConfidentLearning::new(ConfidentLearningParams { c, ..ConfidentLearningParams::default() }).unwrap();
    let f = cl.fit(input, &mut Streams::new(1)).unwrap();
    let (p, r) = precision_recall(&f.screening.unwrap().dropped, &flipped);
    assert!(p >= 0.8 && r >= 0.5, "confident learning: precision {p}, recall {r}");
    // Label sanitisation.
    let f =
        fit(&LabelSanitisation::new(LabelSanitisationParams { c, ..LabelSanitisationParams::default() }).unwrap(), &s);
    let (p, r) = precision_recall(&f.screening.unwrap().relabelled, &flipped);
    assert!(p >= 0.8 && r >= 0.8, "label sanitisation: precision {p}, recall {r}");
    // K-LID: flipped points get much smaller boxes on average.
    let f = fit(&KLid::new(KLidParams { c, ..KLidParams::default() }).unwrap(), &s);
    let b = f.screening.unwrap().bounds.unwrap();
    let mean = |idx: &mut dyn Iterator<Item = usize>| {
        let v: Vec<f64> = idx.map(|i| b[i]).collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    let (bf, bc) = (mean(&mut flipped.iter().copied()), mean(&mut (0..500).filter(|i| !flipped.contains(i))));
    assert!(bf < 0.5 * bc, "K-LID: mean C_i {bf} on flipped vs {bc} on clean points");
}
