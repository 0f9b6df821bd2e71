//! Multi-class labels ([`ClassLabels`]), a multi-class data set ([`MulticlassData`]) and the
//! LIBSVM multi-class loader ([`read_libsvm_multiclass`]).
//!
//! A class is a small index c ∈ {0, …, K − 1}; the integer written in the file is kept beside
//! it ([`MulticlassData::names`]), so a file labelled {0, …, 9} maps label v to class v and a
//! file labelled {−1, 3, 7} maps −1 → 0, 3 → 1, 7 → 2 (ascending order).

use std::path::Path;

use faer::{Mat, MatRef};

use crate::{DataError, Labels, RawData};

/// Multi-class labels: one class index c_i ∈ {0, …, K − 1} per point, K ≥ 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassLabels {
    y: Vec<u16>,
    k: usize,
}

impl ClassLabels {
    /// Labels `y` over `n_classes` classes.
    ///
    /// # Errors
    /// [`DataError::InvalidParam`] when `n_classes` < 2 or > 65,536, or a label is ≥ `n_classes`.
    pub fn new(y: Vec<u16>, n_classes: usize) -> Result<Self, DataError> {
        if !(2..=usize::from(u16::MAX) + 1).contains(&n_classes) {
            return Err(DataError::InvalidParam {
                field: "n_classes",
                expected: "2..=65536",
                got: n_classes.to_string(),
            });
        }
        if let Some((i, &c)) = y.iter().enumerate().find(|&(_, &c)| usize::from(c) >= n_classes) {
            return Err(DataError::InvalidParam {
                field: "class label",
                expected: "a class index below the number of classes",
                got: format!("label {c} at index {i} ({n_classes} classes)"),
            });
        }
        Ok(Self { y, k: n_classes })
    }

    /// Number of points n.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// True when there are no points.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// Number of classes K.
    pub fn n_classes(&self) -> usize {
        self.k
    }

    /// The class of point i.
    ///
    /// # Panics
    /// If `i >= n`.
    pub fn get(&self, i: usize) -> usize {
        usize::from(self.y[i])
    }

    /// The class indices.
    pub fn as_slice(&self) -> &[u16] {
        &self.y
    }

    /// Move point i to class `c`; returns the class it had.
    ///
    /// # Errors
    /// [`DataError::InvalidParam`] when i ≥ n or c ≥ K.
    pub fn set(&mut self, i: usize, c: usize) -> Result<usize, DataError> {
        if i >= self.y.len() || c >= self.k {
            return Err(DataError::InvalidParam {
                field: "relabel",
                expected: "a point index below n and a class below K",
                got: format!("point {i} → class {c} (n = {}, K = {})", self.y.len(), self.k),
            });
        }
        let old = self.get(i);
        // c < K ≤ 65,536, so it fits in u16.
        self.y[i] = c as u16;
        Ok(old)
    }

    /// The one-vs-rest binary labels of class `c`: ỹ_i = +1 when c_i = c, else −1.
    pub fn one_vs_rest(&self, c: usize) -> Labels {
        Labels::from_signs(self.y.iter().map(|&v| usize::from(v) == c))
    }

    /// Points per class (length K).
    pub fn counts(&self) -> Vec<usize> {
        let mut n = vec![0; self.k];
        for &c in &self.y {
            n[usize::from(c)] += 1;
        }
        n
    }

    /// The points of class `c`, ascending.
    pub fn indices_of(&self, c: usize) -> Vec<usize> {
        (0..self.y.len()).filter(|&i| self.get(i) == c).collect()
    }

    /// The classes in order of first appearance (LIBSVM's internal class order); classes that
    /// never appear follow in ascending order.
    pub fn first_appearance_order(&self) -> Vec<usize> {
        let mut seen = vec![false; self.k];
        let mut order = Vec::with_capacity(self.k);
        for &c in &self.y {
            let c = usize::from(c);
            if !seen[c] {
                seen[c] = true;
                order.push(c);
            }
        }
        order.extend((0..self.k).filter(|&c| !seen[c]));
        order
    }

    /// The indices where `self` and `other` differ, ascending.
    ///
    /// # Errors
    /// [`DataError::DimensionMismatch`] when the lengths or class counts differ.
    pub fn diff(&self, other: &ClassLabels) -> Result<Vec<usize>, DataError> {
        if self.y.len() != other.y.len() || self.k != other.k {
            return Err(DataError::DimensionMismatch {
                what: "class labels (n, K) vs other class labels",
                expected: self.y.len(),
                got: other.y.len(),
            });
        }
        Ok((0..self.y.len()).filter(|&i| self.y[i] != other.y[i]).collect())
    }

    /// The labels of the points `idx` (in that order).
    ///
    /// # Panics
    /// If an index is out of range.
    pub fn select(&self, idx: &[usize]) -> ClassLabels {
        ClassLabels { y: idx.iter().map(|&i| self.y[i]).collect(), k: self.k }
    }
}

/// A multi-class data set: n×d features and [`ClassLabels`], with the label written in the
/// file for each class.
#[derive(Debug, Clone)]
pub struct MulticlassData {
    x: Mat<f64>,
    y: ClassLabels,
    names: Vec<i64>,
}

impl MulticlassData {
    /// Features and labels; `names[c]` is the label of class c as written in the source.
    ///
    /// # Errors
    /// [`DataError::DimensionMismatch`] when rows and labels or `names` and K disagree;
    /// [`DataError::NonFinite`] for a non-finite feature.
    pub fn new(x: Mat<f64>, y: ClassLabels, names: Vec<i64>) -> Result<Self, DataError> {
        if x.nrows() != y.len() {
            return Err(DataError::DimensionMismatch {
                what: "number of labels vs feature rows",
                expected: x.nrows(),
                got: y.len(),
            });
        }
        if names.len() != y.n_classes() {
            return Err(DataError::DimensionMismatch {
                what: "class names vs number of classes",
                expected: y.n_classes(),
                got: names.len(),
            });
        }
        for col in 0..x.ncols() {
            for row in 0..x.nrows() {
                let value = x[(row, col)];
                if !value.is_finite() {
                    return Err(DataError::NonFinite { row, col, value });
                }
            }
        }
        Ok(Self { x, y, names })
    }

    /// Raw data as a multi-class set over the classes `names` (ascending labels as written;
    /// label `names[c]` becomes class c). `path` names the source in errors.
    ///
    /// # Errors
    /// [`DataError::EmptyFile`] when there are no rows; [`DataError::LabelOutOfSet`] naming the
    /// file and line of a label not in `names`; the errors of [`ClassLabels::new`] and
    /// [`MulticlassData::new`].
    pub fn from_raw(raw: RawData, names: &[i64], path: &Path) -> Result<Self, DataError> {
        if raw.n() == 0 {
            return Err(DataError::EmptyFile { path: path.to_path_buf() });
        }
        let mut y = Vec::with_capacity(raw.n());
        for (row, &v) in raw.labels.iter().enumerate() {
            // Labels are integer-valued with |v| ≤ 2⁵³ by construction, so `as` is exact.
            match names.iter().position(|&c| c == v as i64) {
                Some(c) => y.push(u16::try_from(c).unwrap_or(u16::MAX)),
                None => {
                    return Err(DataError::LabelOutOfSet {
                        path: path.to_path_buf(),
                        line: raw.lines.get(row).copied().unwrap_or(0),
                        value: v,
                        allowed: format!(
                            "one of the classes {{{}}}",
                            names.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
                        ),
                    });
                }
            }
        }
        let y = ClassLabels::new(y, names.len())?;
        Self::new(raw.x, y, names.to_vec())
    }

    /// Number of points n.
    pub fn n(&self) -> usize {
        self.x.nrows()
    }

    /// Number of features d.
    pub fn dim(&self) -> usize {
        self.x.ncols()
    }

    /// The features.
    pub fn x(&self) -> MatRef<'_, f64> {
        self.x.as_ref()
    }

    /// The labels.
    pub fn y(&self) -> &ClassLabels {
        &self.y
    }

    /// The label of each class as written in the source.
    pub fn names(&self) -> &[i64] {
        &self.names
    }

    /// The same features with other labels.
    ///
    /// # Errors
    /// [`DataError::DimensionMismatch`] when n or K differ.
    pub fn with_labels(&self, y: ClassLabels) -> Result<Self, DataError> {
        self.y.diff(&y)?;
        Ok(Self { x: self.x.clone(), y, names: self.names.clone() })
    }

    /// The points `idx` (in that order).
    ///
    /// # Panics
    /// If an index is out of range.
    pub fn select(&self, idx: &[usize]) -> MulticlassData {
        let x = Mat::from_fn(idx.len(), self.dim(), |r, c| self.x[(idx[r], c)]);
        MulticlassData { x, y: self.y.select(idx), names: self.names.clone() }
    }
}

/// Read a LIBSVM / svmlight file (gzip read transparently) as a multi-class set whose classes
/// are its distinct labels in ascending order (label `v` of a file labelled {0, …, 9} is class v).
///
/// # Errors
/// The reader's errors ([`crate::read_libsvm`]); [`DataError::SingleClass`] when every label is
/// the same; the errors of [`MulticlassData::from_raw`].
pub fn read_libsvm_multiclass(path: &Path) -> Result<MulticlassData, DataError> {
    let raw = crate::read_libsvm(path)?;
    let names = raw.classes();
    if names.len() == 1 {
        return Err(DataError::SingleClass { path: path.to_path_buf(), label: raw.labels[0] });
    }
    MulticlassData::from_raw(raw, &names, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_checked_and_one_vs_rest_is_exact() {
        assert!(ClassLabels::new(vec![0, 1], 1).is_err());
        assert!(ClassLabels::new(vec![0, 3], 3).is_err());
        let y = ClassLabels::new(vec![2, 0, 1, 2], 3).unwrap();
        assert_eq!(y.one_vs_rest(2).as_slice(), &[1.0, -1.0, -1.0, 1.0]);
        assert_eq!(y.counts(), vec![1, 1, 2]);
        assert_eq!(y.first_appearance_order(), vec![2, 0, 1]);
        assert_eq!(y.indices_of(2), vec![0, 3]);
        let mut z = y.clone();
        assert_eq!(z.set(1, 2).unwrap(), 0);
        assert!(z.set(1, 3).is_err());
        assert_eq!(y.diff(&z).unwrap(), vec![1]);
    }

    #[test]
    fn raw_labels_map_to_classes_and_unknown_labels_name_the_line() {
        let raw = RawData::new(Mat::zeros(3, 1), vec![7.0, -1.0, 3.0]).unwrap();
        let d = MulticlassData::from_raw(raw.clone(), &raw.classes(), Path::new("f")).unwrap();
        assert_eq!(d.y().as_slice(), &[2, 0, 1]);
        assert_eq!(d.names(), &[-1, 3, 7]);
        let e = MulticlassData::from_raw(raw, &[-1, 3], Path::new("f.libsvm")).unwrap_err().to_string();
        assert!(e.contains("f.libsvm") && e.contains('7') && e.contains("{-1, 3}"), "{e}");
    }
}
