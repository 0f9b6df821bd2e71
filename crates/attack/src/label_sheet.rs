//! A fixed poisoned labelling (e.g. one of the authors' released poisoned sheets) as a poisoner.

use floral_data::{FlipSet, FloralRng, Labels};

use crate::{AttackError, PoisonInput, Poisoner};

/// Flips exactly the labels where a given poisoned labelling differs from the clean one. Its
/// budget is that number of differences ([`LabelSheet::budget`]); the rng is not used.
#[derive(Debug, Clone)]
pub struct LabelSheet {
    name: String,
    labels: Labels,
}

impl LabelSheet {
    /// A sheet named `name` with the poisoned labels.
    pub fn new(name: impl Into<String>, labels: Labels) -> Self {
        Self { name: name.into(), labels }
    }

    /// The sheet's name.
    pub fn sheet(&self) -> &str {
        &self.name
    }

    /// The number of labels the sheet changes relative to `clean`.
    ///
    /// # Errors
    /// [`AttackError::Data`] when the sizes differ.
    pub fn budget(&self, clean: &Labels) -> Result<usize, AttackError> {
        Ok(clean.diff(&self.labels)?.len())
    }
}

impl Poisoner for LabelSheet {
    fn name(&self) -> &'static str {
        "label_sheet"
    }

    fn poison(&self, input: &PoisonInput<'_>, budget: usize, _rng: &mut FloralRng) -> Result<FlipSet, AttackError> {
        let clean = input.train.y();
        let idx = clean.diff(&self.labels)?;
        if idx.len() != budget {
            return Err(AttackError::BudgetNotMet { poisoner: self.name(), got: idx.len(), budget });
        }
        Ok(FlipSet::new(idx, clean.len())?)
    }
}
