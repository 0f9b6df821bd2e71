//! [`SvmModel`]: a fitted kernel SVM, f(x) = Σ_j λ_j ỹ_j k(x_j, x) + b.

use std::sync::Arc;

use faer::linalg::matmul::matmul;
use faer::{Accum, Col, ColRef, Mat, MatRef, Par};
use floral_data::{Dataset, Labels};
use rayon::prelude::*;

use crate::smo::bounds_vec;
use crate::{Bounds, Kernel, SvmError, Termination};

/// Rows of the query matrix per block in [`SvmModel::decision_function`] (fixed, so results do
/// not depend on the thread count).
const PREDICT_BLOCK: usize = 256;

/// A fitted kernel SVM: the support vectors x_j (λ_j > threshold), their coefficients λ_j ỹ_j,
/// the bias b and the kernel; also the full dual vector λ of the training set.
#[derive(Debug, Clone)]
pub struct SvmModel {
    kernel: Arc<dyn Kernel>,
    sv: Mat<f64>,
    coef: Col<f64>,
    support: Vec<usize>,
    lambda: Col<f64>,
    bias: f64,
    n_bounded: Option<usize>,
    objective: Option<f64>,
    status: Option<Termination>,
    iterations: Option<usize>,
}

impl SvmModel {
    /// A model from a dual point: support vectors are the j with λ_j > `sv_threshold` (0 keeps
    /// every λ_j > 0, as LIBSVM), with coefficients λ_j ỹ_j; f(x) = Σ_j λ_j ỹ_j k(x_j, x) + b.
    ///
    /// # Panics
    /// If `train` rows, `labels` and `lambda` differ in length.
    pub fn from_dual(
        kernel: Arc<dyn Kernel>,
        train: MatRef<'_, f64>,
        labels: &Labels,
        lambda: ColRef<'_, f64>,
        bias: f64,
        sv_threshold: f64,
    ) -> SvmModel {
        let n = train.nrows();
        assert_eq!(labels.len(), n, "from_dual: labels vs training rows");
        assert_eq!(lambda.nrows(), n, "from_dual: lambda vs training rows");
        let support: Vec<usize> = (0..n).filter(|&j| lambda[j] > sv_threshold).collect();
        let sv = Mat::from_fn(support.len(), train.ncols(), |r, k| train[(support[r], k)]);
        let coef = Col::from_fn(support.len(), |r| lambda[support[r]] * labels.get(support[r]));
        SvmModel {
            kernel,
            sv,
            coef,
            support,
            lambda: lambda.to_owned(),
            bias,
            n_bounded: None,
            objective: None,
            status: None,
            iterations: None,
        }
    }

    /// A model from its parts: support vectors (one per row), coefficients α_j and bias b, with
    /// f(x) = Σ_j α_j k(x_j, x) + b (e.g. read from a model file). λ_j is taken as |α_j| and the
    /// support indices as 0..n_sv.
    ///
    /// # Panics
    /// If `sv` and `coef` differ in length.
    pub fn from_parts(kernel: Arc<dyn Kernel>, sv: Mat<f64>, coef: Col<f64>, bias: f64) -> SvmModel {
        assert_eq!(sv.nrows(), coef.nrows(), "from_parts: support vectors vs coefficients");
        let n = coef.nrows();
        SvmModel {
            kernel,
            lambda: Col::from_fn(n, |r| coef[r].abs()),
            sv,
            coef,
            support: (0..n).collect(),
            bias,
            n_bounded: None,
            objective: None,
            status: None,
            iterations: None,
        }
    }

    /// Record the box bounds the dual was solved under, so [`SvmModel::n_bounded_sv`] can count
    /// the support vectors at their bound (λ_j ≥ C_j).
    ///
    /// # Errors
    /// [`SvmError::InvalidParam`] / [`SvmError::DimensionMismatch`] for invalid bounds.
    pub fn with_bounds(mut self, bounds: Bounds<'_>) -> Result<SvmModel, SvmError> {
        let c = bounds_vec(bounds, self.lambda.nrows())?;
        self.n_bounded = Some(self.support.iter().filter(|&&j| self.lambda[j] >= c[j]).count());
        Ok(self)
    }

    /// Record the solver's objective, status and iteration count.
    pub fn with_solution_info(mut self, objective: f64, status: Termination, iterations: usize) -> SvmModel {
        self.objective = Some(objective);
        self.status = Some(status);
        self.iterations = Some(iterations);
        self
    }

    /// f(x_i) = Σ_j λ_j ỹ_j k(x_j, x_i) + b for every row x_i of `x`, computed block-wise with
    /// [`Kernel::gram_into`] and a sequential matvec per block (thread-count independent).
    ///
    /// # Panics
    /// If `x` has a different number of columns than the training data.
    pub fn decision_function(&self, x: MatRef<'_, f64>) -> Vec<f64> {
        assert_eq!(x.ncols(), self.sv.ncols(), "decision_function: feature dimension");
        let m = x.nrows();
        let mut out = vec![self.bias; m];
        let nsv = self.support.len();
        if nsv == 0 {
            return out;
        }
        out.par_chunks_mut(PREDICT_BLOCK).enumerate().for_each(|(b, o)| {
            let r0 = b * PREDICT_BLOCK;
            let rows = o.len();
            let mut k = Mat::zeros(rows, nsv);
            self.kernel.gram_into(x.subrows(r0, rows), self.sv.as_ref(), k.as_mut());
            let mut f = Col::zeros(rows);
            matmul(f.as_mat_mut(), Accum::Replace, k.as_ref(), self.coef.as_mat(), 1.0, Par::Seq);
            for (oi, fi) in o.iter_mut().zip(f.iter()) {
                *oi += fi;
            }
        });
        out
    }

    /// Predicted labels sign(f(x_i)), with f = 0 mapped to +1.
    ///
    /// # Panics
    /// As [`SvmModel::decision_function`].
    pub fn predict(&self, x: MatRef<'_, f64>) -> Vec<f64> {
        self.decision_function(x).into_iter().map(|f| if f >= 0.0 { 1.0 } else { -1.0 }).collect()
    }

    /// Fraction of points of `data` whose predicted label equals its label (0 for an empty set).
    ///
    /// # Panics
    /// As [`SvmModel::decision_function`].
    pub fn accuracy(&self, data: &Dataset) -> f64 {
        if data.n() == 0 {
            return 0.0;
        }
        let p = self.predict(data.x());
        let hits = p.iter().zip(data.y().as_slice()).filter(|(a, b)| a == b).count();
        hits as f64 / data.n() as f64
    }

    /// Training indices of the support vectors, ascending.
    pub fn support_indices(&self) -> &[usize] {
        &self.support
    }

    /// The full dual vector λ (length n of the training set).
    pub fn lambda(&self) -> ColRef<'_, f64> {
        self.lambda.as_ref()
    }

    /// The coefficients λ_j ỹ_j of the support vectors, in `support_indices` order.
    pub fn coefficients(&self) -> ColRef<'_, f64> {
        self.coef.as_ref()
    }

    /// The support vectors (one row each).
    pub fn support_vectors(&self) -> MatRef<'_, f64> {
        self.sv.as_ref()
    }

    /// The bias b.
    pub fn bias(&self) -> f64 {
        self.bias
    }

    /// The kernel.
    pub fn kernel(&self) -> &Arc<dyn Kernel> {
        &self.kernel
    }

    /// Number of support vectors.
    pub fn n_sv(&self) -> usize {
        self.support.len()
    }

    /// Number of support vectors at their upper bound (λ_j ≥ C_j); `None` unless the bounds were
    /// given ([`SvmModel::with_bounds`]; models from [`crate::Smo::fit`] have them).
    pub fn n_bounded_sv(&self) -> Option<usize> {
        self.n_bounded
    }

    /// The dual objective ½λᵀQ̃λ − 1ᵀλ, when the model came from a solver.
    pub fn objective(&self) -> Option<f64> {
        self.objective
    }

    /// The solver status, when the model came from a solver.
    pub fn status(&self) -> Option<Termination> {
        self.status
    }

    /// The solver's iteration count, when the model came from a solver.
    pub fn iterations(&self) -> Option<usize> {
        self.iterations
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Linear, LinearParams};

    #[test]
    fn decision_function_matches_direct_sum() {
        let x = Mat::from_fn(3, 1, |i, _| i as f64 - 1.0); // -1, 0, 1
        let y = Labels::new(vec![-1.0, 1.0, 1.0]).unwrap();
        let lambda = Col::from_fn(3, |i| [0.5, 0.0, 0.5][i]);
        let m = SvmModel::from_dual(
            Arc::new(Linear::new(LinearParams {}).unwrap()),
            x.as_ref(),
            &y,
            lambda.as_ref(),
            0.25,
            0.0,
        );
        assert_eq!(m.support_indices(), &[0, 2]);
        let q = Mat::from_fn(PREDICT_BLOCK + 3, 1, |i, _| i as f64 / 100.0 - 1.0);
        let f = m.decision_function(q.as_ref());
        for (i, fi) in f.iter().enumerate() {
            // f(t) = 0.5·(−1)·(−1·t) + 0.5·(1)·(1·t) + 0.25 = t + 0.25
            let t = q[(i, 0)];
            assert!((fi - (t + 0.25)).abs() < 1e-14);
        }
        assert_eq!(m.predict(Mat::from_fn(1, 1, |_, _| -0.25).as_ref()), vec![1.0]);
        let m = m.with_bounds(Bounds::Uniform(0.5)).unwrap();
        assert_eq!(m.n_bounded_sv(), Some(2));
    }
}
