//! Fast evaluation of kernel models during a game: cross-kernel matrices are computed once, so a
//! round's evaluation is one matrix-vector product per split.

use std::sync::Arc;

use faer::{Accum, Col, ColRef, Mat, MatRef, Par, linalg::matmul::matmul};
use floral_data::{Dataset, Labels, Split};
use floral_svm::{Gram, Kernel};

/// Accuracy and mean hinge loss of a model on one labelled set.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Score {
    /// Share of points with sign(f(x_i)) = y_i (f = 0 counts as +1).
    pub accuracy: f64,
    /// Mean hinge loss (1/m) Σ max(0, 1 − y_i f(x_i)).
    pub hinge: f64,
}

/// Score decision values `f` against labels `y`: accuracy of sign(f) (0 → +1) and mean hinge.
pub fn score(f: &[f64], y: &Labels) -> Score {
    let m = f.len().max(1) as f64;
    let mut correct = 0usize;
    let mut hinge = 0.0;
    for (fi, &yi) in f.iter().zip(y.as_slice()) {
        let pred = if *fi >= 0.0 { 1.0 } else { -1.0 };
        if pred == yi {
            correct += 1;
        }
        hinge += (1.0 - yi * fi).max(0.0);
    }
    Score { accuracy: correct as f64 / m, hinge: hinge / m }
}

/// A kernel model in dual form over the training points: f(x) = Σ_j α_j k(x_j, x) + b with
/// α_j = λ_j ỹ_j.
#[derive(Debug, Clone, PartialEq)]
pub struct DualModel {
    /// Coefficients α_j = λ_j ỹ_j (length n_train).
    pub coef: Col<f64>,
    /// Bias b.
    pub bias: f64,
}

impl DualModel {
    /// α = λ ∘ ỹ with bias b.
    pub fn new(lambda: ColRef<'_, f64>, labels: &Labels, bias: f64) -> Self {
        let coef = Col::from_fn(lambda.nrows(), |i| lambda[i] * labels.get(i));
        Self { coef, bias }
    }

    /// Decision values f = K α + b for the rows of a kernel matrix K (points × training
    /// points), written into `out` (resized to K's row count; sequential faer product, so the
    /// result does not depend on the thread count).
    ///
    /// # Panics
    /// If K's column count differs from the number of coefficients.
    pub fn decision_values_into(&self, k: MatRef<'_, f64>, out: &mut Vec<f64>) {
        out.clear();
        out.resize(k.nrows(), 0.0);
        let mut col = faer::ColMut::from_slice_mut(out.as_mut_slice());
        matmul(col.as_mut().as_mat_mut(), Accum::Replace, k, self.coef.as_mat(), 1.0, Par::Seq);
        for v in out.iter_mut() {
            *v += self.bias;
        }
    }
}

/// The kernel matrices of one data set, computed once and shared read-only (`Arc`) by every
/// method, seed, poison level and job on that data set (only labels differ between them):
/// the Gram matrix K(train, train) and the cross-kernels K(validation, train), K(test, train).
#[derive(Debug)]
pub struct SplitKernels {
    /// K(train, train), exactly symmetric.
    pub train: Arc<Gram>,
    /// K(validation, train) (None without a validation split).
    pub validation: Option<Mat<f64>>,
    /// K(test, train).
    pub test: Mat<f64>,
}

impl SplitKernels {
    /// Compute the Gram matrix of the training points and the cross-kernels of the other
    /// splits.
    pub fn new(kernel: &dyn Kernel, split: &Split) -> Self {
        let train = &split.train;
        Self {
            train: Arc::new(Gram::new(kernel, train.x())),
            validation: split.validation.as_ref().map(|v| cross(kernel, v, train)),
            test: cross(kernel, &split.test, train),
        }
    }

    /// Bytes these matrices hold: 8 · n_train · (n_train + n_validation + n_test).
    pub fn bytes(&self) -> usize {
        let n = self.train.n();
        8 * n * (n + self.validation.as_ref().map_or(0, |v| v.nrows()) + self.test.nrows())
    }

    /// Bytes [`SplitKernels::new`] will hold for splits of these sizes.
    pub fn bytes_for(n_train: usize, n_validation: usize, n_test: usize) -> usize {
        8usize.saturating_mul(n_train).saturating_mul(n_train.saturating_add(n_validation).saturating_add(n_test))
    }
}

/// Scores kernel models on every split through shared [`SplitKernels`]: one matrix-vector
/// product per split and model.
#[derive(Debug, Clone)]
pub struct Evaluator {
    kernels: Arc<SplitKernels>,
    y_train: Labels,
    y_val: Option<Labels>,
    y_test: Labels,
    buf: Vec<f64>,
}

/// Scores of one model on every split.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct SplitScores {
    /// On the training set, against the training labels given to the game.
    pub train: Score,
    /// On the validation set (None when there is none).
    pub validation: Option<Score>,
    /// On the (clean) test set.
    pub test: Score,
}

fn cross(kernel: &dyn Kernel, a: &Dataset, train: &Dataset) -> Mat<f64> {
    let mut m = Mat::zeros(a.n(), train.n());
    kernel.gram_into(a.x(), train.x(), m.as_mut());
    m
}

impl Evaluator {
    /// Compute the split's kernel matrices and score against its labels (for a one-off
    /// evaluation; runs share one [`SplitKernels`] through [`Evaluator::shared`]).
    pub fn new(kernel: &dyn Kernel, split: &Split) -> Self {
        Self::shared(Arc::new(SplitKernels::new(kernel, split)), split)
    }

    /// Score against the labels of `split` (the training labels as given to the model, the
    /// clean validation and test labels) through shared kernel matrices computed on the same
    /// points.
    ///
    /// # Panics
    /// If the split's sizes differ from those the kernels were computed for.
    pub fn shared(kernels: Arc<SplitKernels>, split: &Split) -> Self {
        assert_eq!(kernels.train.n(), split.train.n(), "Evaluator::shared: training size");
        assert_eq!(kernels.test.nrows(), split.test.n(), "Evaluator::shared: test size");
        assert_eq!(
            kernels.validation.as_ref().map(|m| m.nrows()),
            split.validation.as_ref().map(Dataset::n),
            "Evaluator::shared: validation size"
        );
        Self {
            kernels,
            y_train: split.train.y().clone(),
            y_val: split.validation.as_ref().map(|v| v.y().clone()),
            y_test: split.test.y().clone(),
            buf: Vec::new(),
        }
    }

    /// The shared kernel matrices.
    pub fn kernels(&self) -> &Arc<SplitKernels> {
        &self.kernels
    }

    /// Decision values f = K α + b of `model` on the rows of `k`.
    fn values(k: MatRef<'_, f64>, model: &DualModel, buf: &mut Vec<f64>) {
        model.decision_values_into(k, buf);
    }

    /// Decision values on the test set.
    pub fn test_values(&mut self, model: &DualModel) -> Vec<f64> {
        let mut buf = Vec::new();
        Self::values(self.kernels.test.as_ref(), model, &mut buf);
        buf
    }

    /// Scores of `model` on train, validation and test.
    pub fn scores(&mut self, model: &DualModel) -> SplitScores {
        self.scores_with_train_values(model, None)
    }

    /// As [`Evaluator::scores`], with the training decision values f(x_i) given when known
    /// (f(x_i) = ỹ_i (Q̃λ)_i + b), which saves one O(n²) product.
    ///
    /// # Panics
    /// If `train_values` has the wrong length.
    pub fn scores_with_train_values(&mut self, model: &DualModel, train_values: Option<&[f64]>) -> SplitScores {
        let mut buf = std::mem::take(&mut self.buf);
        let train = match train_values {
            Some(f) => {
                assert_eq!(f.len(), self.y_train.len(), "train values length");
                score(f, &self.y_train)
            }
            None => {
                Self::values(Gram::as_ref(&self.kernels.train), model, &mut buf);
                score(&buf, &self.y_train)
            }
        };
        let validation = match (&self.kernels.validation, &self.y_val) {
            (Some(k), Some(y)) => {
                Self::values(k.as_ref(), model, &mut buf);
                Some(score(&buf, y))
            }
            _ => None,
        };
        Self::values(self.kernels.test.as_ref(), model, &mut buf);
        let test = score(&buf, &self.y_test);
        self.buf = buf;
        SplitScores { train, validation, test }
    }

    /// The training labels scores are computed against (those given to the game).
    pub fn train_labels(&self) -> &Labels {
        &self.y_train
    }

    /// Test score only.
    pub fn test(&mut self, model: &DualModel) -> Score {
        let mut buf = std::mem::take(&mut self.buf);
        Self::values(self.kernels.test.as_ref(), model, &mut buf);
        let s = score(&buf, &self.y_test);
        self.buf = buf;
        s
    }

    /// Validation score only (None without a validation set).
    pub fn validation(&mut self, model: &DualModel) -> Option<Score> {
        let mut buf = std::mem::take(&mut self.buf);
        let s = match (&self.kernels.validation, &self.y_val) {
            (Some(k), Some(y)) => {
                Self::values(k.as_ref(), model, &mut buf);
                Some(score(&buf, y))
            }
            _ => None,
        };
        self.buf = buf;
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_counts_zero_as_positive_and_averages_hinge() {
        let y = Labels::new(vec![1.0, -1.0, 1.0, -1.0]).unwrap();
        let s = score(&[0.0, -2.0, -0.5, 0.5], &y);
        assert_eq!(s.accuracy, 0.5);
        // hinge: 1, 0, 1.5, 1.5 → mean 1.0
        assert!((s.hinge - 1.0).abs() < 1e-15);
    }
}
