//! `Labels` (entries exactly ±1) and `FlipSet` (sorted, unique, in-range indices).

use faer::ColRef;

use crate::DataError;

/// Binary labels, each exactly +1.0 or -1.0.
#[derive(Debug, Clone, PartialEq)]
pub struct Labels(Vec<f64>);

impl Labels {
    /// Labels from values that must each be exactly +1.0 or -1.0.
    ///
    /// # Errors
    /// [`DataError::InvalidLabel`] naming the first entry that is not ±1.
    pub fn new(values: Vec<f64>) -> Result<Self, DataError> {
        if let Some((index, &value)) = values.iter().enumerate().find(|&(_, &v)| v != 1.0 && v != -1.0) {
            return Err(DataError::InvalidLabel { index, value });
        }
        Ok(Self(values))
    }

    /// Labels from signs: `true` is +1, `false` is -1.
    pub fn from_signs(positive: impl IntoIterator<Item = bool>) -> Self {
        Self(positive.into_iter().map(|p| if p { 1.0 } else { -1.0 }).collect())
    }

    /// Number of labels.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are no labels.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Label i (+1.0 or -1.0).
    ///
    /// # Panics
    /// If `i >= len()`.
    #[inline]
    pub fn get(&self, i: usize) -> f64 {
        self.0[i]
    }

    /// Flip label i in place: y_i ← −y_i.
    ///
    /// # Panics
    /// If `i >= len()`.
    #[inline]
    pub fn flip(&mut self, i: usize) {
        self.0[i] = -self.0[i];
    }

    /// A copy with the labels in `flips` negated: ỹ_i = −y_i for i in the set, y_i otherwise.
    ///
    /// # Errors
    /// [`DataError::DimensionMismatch`] when the flip set was built for another length.
    pub fn apply(&self, flips: &FlipSet) -> Result<Labels, DataError> {
        if flips.n() != self.len() {
            return Err(DataError::DimensionMismatch {
                what: "flip set length vs labels",
                expected: self.len(),
                got: flips.n(),
            });
        }
        let mut out = self.clone();
        for &i in flips.indices() {
            out.flip(i);
        }
        Ok(out)
    }

    /// The labels as a slice.
    pub fn as_slice(&self) -> &[f64] {
        &self.0
    }

    /// The labels as a faer column view.
    pub fn as_col(&self) -> ColRef<'_, f64> {
        ColRef::from_slice(&self.0)
    }

    /// Number of +1 labels.
    pub fn n_positive(&self) -> usize {
        self.0.iter().filter(|&&v| v > 0.0).count()
    }

    /// Indices where `self` and `other` differ (the Hamming support).
    ///
    /// # Errors
    /// [`DataError::DimensionMismatch`] when the lengths differ.
    pub fn diff(&self, other: &Labels) -> Result<Vec<usize>, DataError> {
        if other.len() != self.len() {
            return Err(DataError::DimensionMismatch { what: "labels length", expected: self.len(), got: other.len() });
        }
        Ok((0..self.len()).filter(|&i| self.0[i] != other.0[i]).collect())
    }

    /// A subset of the labels, in the order of `idx`.
    ///
    /// # Panics
    /// If an index is out of range.
    pub fn select(&self, idx: &[usize]) -> Labels {
        Labels(idx.iter().map(|&i| self.0[i]).collect())
    }
}

/// A set of label indices to flip: sorted, unique, each `< n`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FlipSet {
    idx: Vec<usize>,
    n: usize,
}

impl FlipSet {
    /// A flip set over `n` labels. The indices may come in any order; they are sorted.
    ///
    /// # Errors
    /// [`DataError::FlipOutOfRange`] or [`DataError::DuplicateFlip`].
    pub fn new(mut idx: Vec<usize>, n: usize) -> Result<Self, DataError> {
        idx.sort_unstable();
        for w in idx.windows(2) {
            if w[0] == w[1] {
                return Err(DataError::DuplicateFlip { index: w[0] });
            }
        }
        if let Some(&last) = idx.last() {
            if last >= n {
                return Err(DataError::FlipOutOfRange { index: last, n });
            }
        }
        Ok(Self { idx, n })
    }

    /// The empty flip set over `n` labels.
    pub fn empty(n: usize) -> Self {
        Self { idx: Vec::new(), n }
    }

    /// The sorted indices.
    pub fn indices(&self) -> &[usize] {
        &self.idx
    }

    /// Number of flips (the Hamming distance it causes).
    pub fn len(&self) -> usize {
        self.idx.len()
    }

    /// True when nothing is flipped.
    pub fn is_empty(&self) -> bool {
        self.idx.is_empty()
    }

    /// The number of labels this set was built for.
    pub fn n(&self) -> usize {
        self.n
    }

    /// True when index i is flipped (binary search).
    pub fn contains(&self, i: usize) -> bool {
        self.idx.binary_search(&i).is_ok()
    }

    /// Symmetric difference with another flip set over the same n: the indices whose label
    /// differs between `y.apply(self)` and `y.apply(other)`.
    ///
    /// # Errors
    /// [`DataError::DimensionMismatch`] when the two sets were built for different n.
    pub fn symmetric_difference(&self, other: &FlipSet) -> Result<FlipSet, DataError> {
        if self.n != other.n {
            return Err(DataError::DimensionMismatch { what: "flip set length", expected: self.n, got: other.n });
        }
        let (a, b) = (&self.idx, &other.idx);
        let (mut i, mut j) = (0, 0);
        let mut out = Vec::with_capacity(a.len() + b.len());
        while i < a.len() || j < b.len() {
            match (a.get(i), b.get(j)) {
                (Some(&x), Some(&y)) if x == y => {
                    i += 1;
                    j += 1;
                }
                (Some(&x), Some(&y)) if x < y => {
                    out.push(x);
                    i += 1;
                }
                (Some(_), Some(&y)) => {
                    out.push(y);
                    j += 1;
                }
                (Some(&x), None) => {
                    out.push(x);
                    i += 1;
                }
                (None, Some(&y)) => {
                    out.push(y);
                    j += 1;
                }
                (None, None) => break,
            }
        }
        Ok(FlipSet { idx: out, n: self.n })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_reject_non_unit_values() {
        assert!(Labels::new(vec![1.0, -1.0]).is_ok());
        let e = Labels::new(vec![1.0, 0.0]).unwrap_err();
        assert!(matches!(e, DataError::InvalidLabel { index: 1, .. }));
        assert!(Labels::new(vec![f64::NAN]).is_err());
    }

    #[test]
    fn flipset_sorts_and_validates() {
        let f = FlipSet::new(vec![3, 1], 4).unwrap();
        assert_eq!(f.indices(), &[1, 3]);
        assert!(f.contains(3) && !f.contains(2));
        assert!(matches!(FlipSet::new(vec![1, 1], 4), Err(DataError::DuplicateFlip { index: 1 })));
        assert!(matches!(FlipSet::new(vec![4], 4), Err(DataError::FlipOutOfRange { index: 4, n: 4 })));
    }

    #[test]
    fn apply_and_diff_agree() {
        let y = Labels::new(vec![1.0, -1.0, 1.0, 1.0]).unwrap();
        let f = FlipSet::new(vec![0, 2], 4).unwrap();
        let t = y.apply(&f).unwrap();
        assert_eq!(t.as_slice(), &[-1.0, -1.0, -1.0, 1.0]);
        assert_eq!(y.diff(&t).unwrap(), vec![0, 2]);
        assert!(y.apply(&FlipSet::empty(3)).is_err());
    }

    #[test]
    fn symmetric_difference_matches_label_diff() {
        let y = Labels::new(vec![1.0; 6]).unwrap();
        let a = FlipSet::new(vec![0, 2, 5], 6).unwrap();
        let b = FlipSet::new(vec![2, 3], 6).unwrap();
        let d = a.symmetric_difference(&b).unwrap();
        assert_eq!(d.indices(), y.apply(&a).unwrap().diff(&y.apply(&b).unwrap()).unwrap());
    }
}
