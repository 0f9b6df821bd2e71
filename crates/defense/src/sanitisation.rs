//! Label sanitisation, "LS-SVM" (Paudice, Muñoz-González, Lupu 2018, "Label sanitization
//! against label flipping poisoning attacks"): kNN relabelling, then the SVM on the relabelled
//! set (docs/method.md §7).

use faer::MatRef;
use floral_data::{Labels, Streams};
use floral_projection::Bounds;

use crate::common::{check_c, knn, svm, train_has_both_classes};
use crate::defence::{Screening, check_input};
use crate::{Defence, DefenseError, FitInput, Fitted};

/// Parameters of [`LabelSanitisation`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LabelSanitisationParams {
    /// Box bound C > 0 of the SVM on the relabelled set. Default 1.
    pub c: f64,
    /// Neighbours consulted, k ≥ 1 (cut to n − 1 on smaller sets). Default 20.
    pub k: usize,
    /// A point is relabelled when at least this share of its k neighbours carries the other
    /// label; 0.5 < threshold ≤ 1 (above one half, so a vote is never tied). Default 0.75.
    pub threshold: f64,
    /// Limit on relabelling sweeps over the set, ≥ 1. Default 100.
    pub max_sweeps: usize,
}

impl Default for LabelSanitisationParams {
    fn default() -> Self {
        Self { c: 1.0, k: 20, threshold: 0.75, max_sweeps: 100 }
    }
}

/// Label sanitisation: each point's k nearest neighbours (Euclidean, in feature space, the
/// point itself excluded; ties broken by index) are found once; a sweep visits the points in
/// index order and relabels point i when the number of its neighbours whose current label
/// differs from ỹ_i is at least `threshold`·k, updating in place (a later point in the same
/// sweep sees the new label, as in the FLORAL authors' reference code). Sweeps repeat until one
/// changes nothing (a fixed point) or `max_sweeps` is reached; [`Fitted::screening`] reports
/// the sweeps and whether the fixed point was reached, [`Fitted::final_labels`] the labels the
/// SVM was trained on. Uses no trusted data and no randomness.
///
/// When the relabelling leaves a single class (a heavily poisoned set can flip to it), no SVM
/// can be trained: the output is the constant classifier f(x) = ±1 predicting that class
/// (coefficients 0, bias the class), which is what the sanitised labels support, and
/// [`Fitted::final_labels`] shows the collapse.
///
/// The FLORAL authors' reference code finds the neighbours with the point itself among its k (it
/// queries the training points against themselves); here the k neighbours are k other points.
#[derive(Debug, Clone)]
pub struct LabelSanitisation {
    p: LabelSanitisationParams,
}

/// The result of the relabelling.
#[derive(Debug, Clone, PartialEq)]
pub struct Sanitised {
    /// The labels after the last sweep.
    pub labels: Labels,
    /// Sweeps made (the last one changed nothing when `converged`).
    pub sweeps: usize,
    /// Whether the last sweep changed nothing.
    pub converged: bool,
}

impl LabelSanitisation {
    /// Validate the parameters.
    ///
    /// # Errors
    /// [`DefenseError::InvalidParam`] naming `c`, `k` (≥ 1), `threshold` (0.5 < t ≤ 1) or
    /// `max_sweeps` (≥ 1).
    pub fn new(p: LabelSanitisationParams) -> Result<Self, DefenseError> {
        check_c(p.c)?;
        if p.k == 0 {
            return Err(DefenseError::InvalidParam { field: "k", expected: "an integer ≥ 1", got: "0".into() });
        }
        if !(p.threshold > 0.5 && p.threshold <= 1.0) {
            return Err(DefenseError::InvalidParam {
                field: "threshold",
                expected: "a number in (0.5, 1]",
                got: p.threshold.to_string(),
            });
        }
        if p.max_sweeps == 0 {
            return Err(DefenseError::InvalidParam {
                field: "max_sweeps",
                expected: "an integer ≥ 1",
                got: "0".into(),
            });
        }
        Ok(Self { p })
    }

    /// Relabel `y` by the kNN rule of the type's docs, sweeping to a fixed point or the sweep
    /// limit.
    pub fn sanitise(&self, x: MatRef<'_, f64>, y: &Labels) -> Sanitised {
        let nn = knn(x, self.p.k);
        let mut labels = y.clone();
        let mut sweeps = 0;
        let mut converged = false;
        while sweeps < self.p.max_sweeps {
            sweeps += 1;
            let mut changed = false;
            for (i, nb) in nn.iter().enumerate() {
                if nb.is_empty() {
                    continue;
                }
                let yi = labels.get(i);
                let other = nb.iter().filter(|&&j| labels.get(j) != yi).count();
                if other as f64 >= self.p.threshold * nb.len() as f64 {
                    labels.flip(i);
                    changed = true;
                }
            }
            if !changed {
                converged = true;
                break;
            }
        }
        Sanitised { labels, sweeps, converged }
    }
}

impl Defence for LabelSanitisation {
    fn name(&self) -> &'static str {
        "ls-svm"
    }

    fn fit(&self, input: FitInput<'_>, _rngs: &mut Streams) -> Result<Fitted, DefenseError> {
        check_input(&input)?;
        let y = input.train.y();
        train_has_both_classes(y)?;
        let s = self.sanitise(input.train.x(), y);
        let relabelled = y.diff(&s.labels).map_err(|e| DefenseError::Input(e.to_string()))?;
        if s.labels.n_positive() == 0 || s.labels.n_positive() == s.labels.len() {
            // One class left: the constant classifier f(x) = that class.
            let class = if s.labels.n_positive() == 0 { -1.0 } else { 1.0 };
            let model = floral_game::DualModel { coef: faer::Col::zeros(s.labels.len()), bias: class };
            let mut fitted = Fitted::single("ls-svm", model, 0, 0);
            fitted.screening =
                Some(Screening { relabelled, passes: s.sweeps, converged: s.converged, ..Screening::default() });
            fitted.final_labels = Some(s.labels);
            return Ok(fitted);
        }
        let run = svm(input.kernels.train.clone(), &s.labels, Bounds::Uniform(self.p.c))?;
        let mut fitted = Fitted::single("ls-svm", run.model(&s.labels), run.iterations, run.n_sv);
        fitted.screening =
            Some(Screening { relabelled, passes: s.sweeps, converged: s.converged, ..Screening::default() });
        fitted.final_labels = Some(s.labels);
        Ok(fitted)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use faer::Mat;

    fn ls(k: usize, max_sweeps: usize) -> LabelSanitisation {
        LabelSanitisation::new(LabelSanitisationParams { k, max_sweeps, ..LabelSanitisationParams::default() }).unwrap()
    }

    #[test]
    fn an_isolated_flip_inside_a_pure_cluster_is_relabelled_in_one_sweep() {
        // 30 points on a line, +1; point 10 carries −1.
        let x = Mat::from_fn(30, 1, |i, _| i as f64);
        let y = Labels::from_signs((0..30).map(|i| i != 10));
        let s = ls(4, 100).sanitise(x.as_ref(), &y);
        assert_eq!(s.labels, Labels::from_signs((0..30).map(|_| true)));
        // One sweep relabels, the second confirms the fixed point.
        assert_eq!((s.sweeps, s.converged), (2, true));
    }

    #[test]
    fn the_sweep_limit_is_reported_when_it_stops_the_relabelling() {
        // Two points, k = 1, threshold 1: in index order point 0 takes point 1's label
        // and point 1 then agrees; with one sweep allowed the fixed point is not confirmed.
        let x = Mat::from_fn(2, 1, |i, _| i as f64);
        let y = Labels::new(vec![1.0, -1.0]).unwrap();
        let p = LabelSanitisationParams { k: 1, threshold: 1.0, max_sweeps: 1, ..LabelSanitisationParams::default() };
        let s = LabelSanitisation::new(p).unwrap().sanitise(x.as_ref(), &y);
        assert_eq!(s.labels.as_slice(), &[-1.0, -1.0]);
        assert_eq!((s.sweeps, s.converged), (1, false));
    }

    #[test]
    fn a_collapse_to_one_class_gives_the_constant_classifier() {
        use floral_game::SplitKernels;
        // 12 points: 9 of class −1 around 0, 3 of class +1 among them; k = 4, threshold 0.75:
        // every +1 point has only −1 neighbours and is relabelled.
        let x = Mat::from_fn(12, 1, |i, _| i as f64);
        let y = Labels::from_signs((0..12).map(|i| i % 4 == 1));
        let train = floral_data::Dataset::new(x, y).unwrap();
        let kernel = floral_svm::Rbf::new(floral_svm::RbfParams { gamma: 0.5 }).unwrap();
        let split =
            floral_data::Split { train_clean: None, train: train.clone(), validation: None, test: train.clone() };
        let kernels = std::sync::Arc::new(SplitKernels::new(&kernel, &split));
        let input = FitInput { train: &train, trusted: None, kernel: &kernel, kernels: &kernels, monitor: None };
        let f = ls(4, 100).fit(input, &mut floral_data::Streams::new(1)).unwrap();
        let fin = f.final_labels.as_ref().unwrap();
        assert_eq!(fin.n_positive(), 0, "{fin:?}");
        let m = &f.outputs[0].model;
        assert_eq!(m.bias, -1.0);
        assert!(m.coef.iter().all(|&c| c == 0.0));
        assert_eq!(f.screening.as_ref().unwrap().relabelled, vec![1, 5, 9]);
    }

    #[test]
    fn a_boundary_between_balanced_clusters_is_left_alone() {
        // Two runs of 10 points; no point has 75 % of its 4 neighbours in the other class.
        let x = Mat::from_fn(20, 1, |i, _| i as f64);
        let y = Labels::from_signs((0..20).map(|i| i >= 10));
        let s = ls(4, 100).sanitise(x.as_ref(), &y);
        assert_eq!(s.labels, y);
        assert_eq!((s.sweeps, s.converged), (1, true));
    }
}
