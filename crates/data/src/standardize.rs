//! Feature standardisation fitted on training data: z = (x − mean) / scale.

use faer::Mat;

use crate::{DataError, Dataset, Split};

/// Per-feature centring and scaling, z_ij = (x_ij − mean_j) / scale_j, where mean_j is the
/// feature's mean over the fitting data and scale_j its population standard deviation
/// √(Σ_i (x_ij − mean_j)² / n); a feature with zero variance gets scale 1.
#[derive(Debug, Clone, PartialEq)]
pub struct Standardizer {
    mean: Vec<f64>,
    scale: Vec<f64>,
}

impl Standardizer {
    /// Fits mean and scale on `data` (population standard deviation; scale 1 where it is 0 or
    /// overflows). An empty data set gives mean 0 and scale 1 for every feature.
    pub fn fit(data: &Dataset) -> Standardizer {
        let x = data.x();
        let n = x.nrows();
        let (mut mean, mut scale) = (vec![0.0; x.ncols()], vec![1.0; x.ncols()]);
        if n == 0 {
            return Standardizer { mean, scale };
        }
        for j in 0..x.ncols() {
            let m = (0..n).map(|i| x[(i, j)]).sum::<f64>() / n as f64;
            let var = (0..n).map(|i| (x[(i, j)] - m).powi(2)).sum::<f64>() / n as f64;
            let s = var.sqrt();
            mean[j] = m;
            if s > 0.0 && s.is_finite() {
                scale[j] = s;
            }
        }
        Standardizer { mean, scale }
    }

    /// The fitted per-feature means.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }

    /// The fitted per-feature scales (population standard deviations, 1 for constant features).
    pub fn scale(&self) -> &[f64] {
        &self.scale
    }

    /// Applies z_ij = (x_ij − mean_j) / scale_j to every point of `data`; labels are kept.
    ///
    /// # Errors
    /// [`DataError::DimensionMismatch`] when `data` has another number of features than the fit,
    /// and [`DataError::NonFinite`] if a result overflows.
    pub fn transform(&self, data: &Dataset) -> Result<Dataset, DataError> {
        if data.dim() != self.mean.len() {
            return Err(DataError::DimensionMismatch {
                what: "features of the data vs the fitted standardizer",
                expected: self.mean.len(),
                got: data.dim(),
            });
        }
        let x = data.x();
        let z = Mat::from_fn(x.nrows(), x.ncols(), |i, j| (x[(i, j)] - self.mean[j]) / self.scale[j]);
        Dataset::new(z, data.y().clone())
    }

    /// Fits on `split.train` only and applies that fit to train, validation and test
    /// (`train_clean` is kept).
    ///
    /// # Errors
    /// As [`Standardizer::transform`] (the parts of a split differ in feature count).
    pub fn transform_split(split: Split) -> Result<Split, DataError> {
        let s = Standardizer::fit(&split.train);
        Ok(Split {
            train: s.transform(&split.train)?,
            train_clean: split.train_clean,
            validation: split.validation.as_ref().map(|v| s.transform(v)).transpose()?,
            test: s.transform(&split.test)?,
        })
    }
}
