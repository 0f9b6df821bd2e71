//! The trusted-data baselines: what a defender could do with its clean validation data without
//! any defence — train on it alone, or add it to the (poisoned) training set.

use std::sync::Arc;

use faer::Mat;
use floral_data::{Dataset, Labels, Streams};
use floral_game::DualModel;
use floral_projection::Bounds;
use floral_svm::{Gram, SignedGram, Smo, SmoParams};

use crate::defence::check_input;
use crate::{Basis, Defence, DefenseError, FitInput, Fitted, FittedOutput};

/// Which points the trusted baseline trains on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum TrustedPool {
    /// The trusted points alone.
    Trusted,
    /// The training points (labels as received) followed by the trusted points.
    TrainAndTrusted,
}

/// Parameters of [`TrustedSvm`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedSvmParams {
    /// Box bound C > 0.
    pub c: f64,
    /// The points trained on.
    pub pool: TrustedPool,
}

/// A plain kernel SVM (exact SMO) on the trusted points alone, or on train ∪ trusted: the
/// baselines every defence that reads trusted data must beat. Reads `FitInput::trusted` (it is
/// an error without it).
#[derive(Debug, Clone)]
pub struct TrustedSvm {
    p: TrustedSvmParams,
}

impl TrustedSvm {
    /// Validate C (finite, > 0).
    ///
    /// # Errors
    /// [`DefenseError::InvalidParam`] naming `c`.
    pub fn new(p: TrustedSvmParams) -> Result<Self, DefenseError> {
        if !(p.c.is_finite() && p.c > 0.0) {
            return Err(DefenseError::InvalidParam {
                field: "c",
                expected: "a finite number > 0",
                got: p.c.to_string(),
            });
        }
        Ok(Self { p })
    }
}

fn two_classes(y: &Labels, what: &str) -> Result<(), DefenseError> {
    let pos = y.as_slice().iter().filter(|&&v| v > 0.0).count();
    if pos == 0 || pos == y.len() {
        return Err(DefenseError::Input(format!(
            "{what} holds a single class ({} points): an SVM needs both labels",
            y.len()
        )));
    }
    Ok(())
}

impl Defence for TrustedSvm {
    fn name(&self) -> &'static str {
        match self.p.pool {
            TrustedPool::Trusted => "trusted_svm",
            TrustedPool::TrainAndTrusted => "train_trusted_svm",
        }
    }
    fn reads_trusted(&self) -> bool {
        true
    }
    /// Its own Gram matrix: m × m on the trusted points, (n + m)² on train ∪ trusted.
    fn extra_bytes(&self, n: usize, m: usize) -> usize {
        match self.p.pool {
            TrustedPool::Trusted => crate::defence::square_bytes(m),
            TrustedPool::TrainAndTrusted => crate::defence::square_bytes(n.saturating_add(m)),
        }
    }

    fn fit(&self, input: FitInput<'_>, _rngs: &mut Streams) -> Result<Fitted, DefenseError> {
        check_input(&input)?;
        let Some(trusted) = input.trusted else {
            return Err(DefenseError::Input(format!(
                "`{}` trains on trusted data: the experiment needs a validation split",
                self.name()
            )));
        };
        two_classes(trusted.y(), "the trusted set")?;
        let (points, basis): (Dataset, Basis) = match self.p.pool {
            TrustedPool::Trusted => (trusted.clone(), Basis::Trusted),
            TrustedPool::TrainAndTrusted => {
                let (a, b) = (input.train, trusted);
                if a.dim() != b.dim() {
                    return Err(DefenseError::Input(format!(
                        "training points have {} features, trusted points {}",
                        a.dim(),
                        b.dim()
                    )));
                }
                let n = a.n() + b.n();
                let x = Mat::from_fn(n, a.dim(), |i, j| if i < a.n() { a.x()[(i, j)] } else { b.x()[(i - a.n(), j)] });
                let y = Labels::new(a.y().as_slice().iter().chain(b.y().as_slice()).copied().collect())
                    .map_err(|e| DefenseError::Input(e.to_string()))?;
                (Dataset::new(x, y).map_err(|e| DefenseError::Input(e.to_string()))?, Basis::TrainThenTrusted)
            }
        };
        let gram = Arc::new(Gram::new(input.kernel, points.x()));
        let q = SignedGram::new(gram, points.y())?;
        let sol = Smo::new(SmoParams::default())?.solve(&q, Bounds::Uniform(self.p.c), None)?;
        let model = DualModel::new(sol.lambda.as_ref(), points.y(), sol.bias);
        let n_sv = sol.lambda.iter().filter(|&&l| l > 0.0).count();
        let mut f = Fitted::single("svm", model, sol.iterations, n_sv);
        f.outputs = vec![FittedOutput { rule: "svm".into(), model: f.outputs[0].model.clone(), basis }];
        // Decision plots show models over the training points only.
        f.plot_model = None;
        Ok(f)
    }
}
