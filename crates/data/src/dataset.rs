//! `Dataset` (n×d features with binary labels) and the train/validation/test `Split`.

use std::sync::Arc;

use faer::{Mat, MatRef, RowRef};

use crate::{DataError, Labels};

/// A binary-labelled data set: an n×d feature matrix and n labels in {−1, +1}.
///
/// The features are shared (`Arc`): cloning a data set or relabelling it with
/// [`Dataset::with_labels`] copies only the n labels, so poisoned copies of one training set
/// hold a single feature matrix.
#[derive(Debug, Clone)]
pub struct Dataset {
    x: Arc<Mat<f64>>,
    y: Labels,
}

impl Dataset {
    /// A data set from features (one row per point) and labels.
    ///
    /// # Errors
    /// [`DataError::DimensionMismatch`] when the row count and label count differ, and
    /// [`DataError::NonFinite`] for a NaN or infinite feature.
    pub fn new(x: Mat<f64>, y: Labels) -> Result<Self, DataError> {
        if x.nrows() != y.len() {
            return Err(DataError::DimensionMismatch {
                what: "number of labels vs feature rows",
                expected: x.nrows(),
                got: y.len(),
            });
        }
        for j in 0..x.ncols() {
            for i in 0..x.nrows() {
                let v = x[(i, j)];
                if !v.is_finite() {
                    return Err(DataError::NonFinite { row: i, col: j, value: v });
                }
            }
        }
        Ok(Self { x: Arc::new(x), y })
    }

    /// Number of points n.
    pub fn n(&self) -> usize {
        self.x.nrows()
    }

    /// Number of features d.
    pub fn dim(&self) -> usize {
        self.x.ncols()
    }

    /// The n×d feature matrix.
    pub fn x(&self) -> MatRef<'_, f64> {
        (*self.x).as_ref()
    }

    /// Point i as a row view.
    ///
    /// # Panics
    /// If `i >= n`.
    pub fn row(&self, i: usize) -> RowRef<'_, f64> {
        self.x.row(i)
    }

    /// The labels.
    pub fn y(&self) -> &Labels {
        &self.y
    }

    /// The same features with other labels (e.g. a poisoned copy).
    ///
    /// # Errors
    /// [`DataError::DimensionMismatch`] when the label count differs.
    pub fn with_labels(&self, y: Labels) -> Result<Self, DataError> {
        if y.len() != self.n() {
            return Err(DataError::DimensionMismatch {
                what: "number of labels vs feature rows",
                expected: self.n(),
                got: y.len(),
            });
        }
        Ok(Self { x: self.x.clone(), y })
    }

    /// The points at `idx`, in that order.
    ///
    /// # Panics
    /// If an index is out of range.
    pub fn select(&self, idx: &[usize]) -> Dataset {
        let x = Mat::from_fn(idx.len(), self.dim(), |i, j| self.x[(idx[i], j)]);
        Dataset { x: Arc::new(x), y: self.y.select(idx) }
    }

    /// Consume into (features, labels); the features are copied only when shared.
    pub fn into_parts(self) -> (Mat<f64>, Labels) {
        (Arc::unwrap_or_clone(self.x), self.y)
    }

    /// True when both data sets hold the same features: the same shared matrix, or equal
    /// shapes and bitwise-equal entries.
    pub fn same_features(&self, other: &Dataset) -> bool {
        if Arc::ptr_eq(&self.x, &other.x) {
            return true;
        }
        let (a, b) = (self.x.as_ref(), other.x.as_ref());
        a.nrows() == b.nrows()
            && a.ncols() == b.ncols()
            && (0..a.ncols()).all(|j| (0..a.nrows()).all(|i| a[(i, j)].to_bits() == b[(i, j)].to_bits()))
    }
}

/// A train / validation / test split. Test labels are clean; training labels may be poisoned.
#[derive(Debug, Clone)]
pub struct Split {
    /// The training set (labels as the learner sees them, possibly poisoned).
    pub train: Dataset,
    /// Clean training labels, when known (used to measure how many poisoned labels a defence
    /// restores). `None` when the clean labels are unknown.
    pub train_clean: Option<Labels>,
    /// The validation set, used to choose settings; never the test set.
    pub validation: Option<Dataset>,
    /// The test set, clean labels.
    pub test: Dataset,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dataset_checks_shapes_and_finiteness() {
        let y = Labels::new(vec![1.0, -1.0]).unwrap();
        assert!(Dataset::new(Mat::zeros(2, 3), y.clone()).is_ok());
        assert!(Dataset::new(Mat::zeros(3, 3), y.clone()).is_err());
        let mut x = Mat::zeros(2, 1);
        x[(1, 0)] = f64::INFINITY;
        assert!(matches!(Dataset::new(x, y), Err(DataError::NonFinite { row: 1, col: 0, .. })));
    }

    #[test]
    fn select_keeps_rows_and_labels_together() {
        let x = Mat::from_fn(3, 2, |i, j| (10 * i + j) as f64);
        let d = Dataset::new(x, Labels::new(vec![1.0, -1.0, 1.0]).unwrap()).unwrap();
        let s = d.select(&[2, 0]);
        assert_eq!(s.x()[(0, 1)], 21.0);
        assert_eq!(s.y().as_slice(), &[1.0, 1.0]);
    }
}
