//! `floral bench projection` (filled in by the projection issue).

use crate::{BenchProjectionArgs, CliError};

pub(crate) fn run(_a: &BenchProjectionArgs) -> Result<(), CliError> {
    Err(CliError::Internal(anyhow::anyhow!("`floral bench projection` is not built yet")))
}
