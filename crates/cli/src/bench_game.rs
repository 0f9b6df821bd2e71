//! `floral bench game` (filled in by the game issue).

use crate::{BenchGameArgs, CliError};

pub(crate) fn run(_a: &BenchGameArgs) -> Result<(), CliError> {
    Err(CliError::Internal(anyhow::anyhow!("`floral bench game` is not built yet")))
}
