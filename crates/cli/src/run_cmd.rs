//! `floral run` and `floral check` (filled in by the game issue).

use crate::{CheckArgs, CliError, RunArgs};

pub(crate) fn run(_a: &RunArgs) -> Result<(), CliError> {
    Err(CliError::Internal(anyhow::anyhow!("`floral run` is not built yet")))
}

pub(crate) fn check(_a: &CheckArgs) -> Result<(), CliError> {
    Err(CliError::Internal(anyhow::anyhow!("`floral check` is not built yet")))
}
