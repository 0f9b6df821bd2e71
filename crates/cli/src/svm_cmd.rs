//! `floral svm train` (filled in by the foundation issue).

use crate::{CliError, SvmTrainArgs};

pub(crate) fn train(_a: &SvmTrainArgs) -> Result<(), CliError> {
    Err(CliError::Internal(anyhow::anyhow!("`floral svm train` is not built yet")))
}
