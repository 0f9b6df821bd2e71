//! Parsing and checking a `Convergence(...)` study.

use std::path::Path;
use std::sync::Arc;

use floral_defense::FloralParams;
use floral_projection::ExactProjector;

use super::spec::ConvergenceSpec;
use crate::frame::load::{canonical_and_hash, parse_ron};
use crate::{ExperimentError, Plan};

/// A checked convergence study: the spec, the data it loaded, its canonical RON and hash.
pub struct ConvergenceStudy {
    pub(super) spec: ConvergenceSpec,
    pub(super) plan: Plan,
    pub(super) canonical: String,
    pub(super) hash: String,
}

impl std::fmt::Debug for ConvergenceStudy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConvergenceStudy").field("name", &self.spec.name).finish_non_exhaustive()
    }
}

/// Parse a `Convergence(...)` RON text; errors carry `path:line:col`.
///
/// # Errors
/// [`ExperimentError::Parse`].
pub fn parse(text: &str, path: &Path) -> Result<ConvergenceSpec, ExperimentError> {
    parse_ron(text, path)
}

fn check_steps(path: &Path, field: &str, v: &[f64], increasing: bool) -> Result<(), ExperimentError> {
    if v.is_empty() {
        return Err(ExperimentError::invalid(path, field, "at least one step", "[]"));
    }
    for (i, &x) in v.iter().enumerate() {
        if !(x.is_finite() && x > 0.0) {
            return Err(ExperimentError::invalid(path, format!("{field}[{i}]"), "a finite number > 0", x));
        }
        if increasing && i > 0 && x <= v[i - 1] {
            return Err(ExperimentError::invalid(path, format!("{field}[{i}]"), "strictly increasing steps", x));
        }
    }
    Ok(())
}

fn check_attacker(path: &Path, field: &str, (k, b): (usize, usize), n: usize) -> Result<(), ExperimentError> {
    if k == 0 || k > b || b > n {
        let expected = format!("(k, B) with 1 <= k <= B <= n_train = {n}");
        return Err(ExperimentError::invalid(path, field, expected, format!("({k}, {b})")));
    }
    Ok(())
}

/// The checks of the game's scalar settings (C, rounds, tail, thresholds, steps).
fn check_settings(spec: &ConvergenceSpec, path: &Path) -> Result<(), ExperimentError> {
    if !(spec.c.is_finite() && spec.c > 0.0) {
        return Err(ExperimentError::invalid(path, "c", "a finite number > 0", spec.c));
    }
    if spec.rounds == 0 || spec.rounds > 1_000_000 {
        return Err(ExperimentError::invalid(path, "rounds", "1..=1000000", spec.rounds));
    }
    if spec.unattacked_rounds >= spec.rounds {
        return Err(ExperimentError::invalid(path, "unattacked_rounds", "fewer than rounds", spec.unattacked_rounds));
    }
    if spec.tail == 0 || spec.tail > spec.rounds {
        return Err(ExperimentError::invalid(path, "tail", format!("1..=rounds ({})", spec.rounds), spec.tail));
    }
    if !(spec.spread_tol.is_finite() && spec.spread_tol >= 0.0) {
        return Err(ExperimentError::invalid(path, "spread_tol", "a finite number >= 0", spec.spread_tol));
    }
    if !(spec.diverge_cosine.is_finite() && spec.diverge_cosine > -1.0 && spec.diverge_cosine < 1.0) {
        return Err(ExperimentError::invalid(path, "diverge_cosine", "a number in (-1, 1)", spec.diverge_cosine));
    }
    if spec.monitor_every == 0 || spec.monitor_every > spec.tail {
        return Err(ExperimentError::invalid(
            path,
            "monitor_every",
            format!("1..=tail ({})", spec.tail),
            spec.monitor_every,
        ));
    }
    check_steps(path, "eta", spec.eta.values(), true)?;
    check_steps(path, "compare.eta", &spec.compare.eta, false)?;
    if spec.attackers.is_empty() {
        return Err(ExperimentError::invalid(path, "attackers", "at least one (k, B) pair", "[]"));
    }
    Ok(())
}

/// The checks against each seed's data (attacker pools, the validation split) and of the
/// comparison's averaging window and schedules.
fn check_against_data(spec: &ConvergenceSpec, plan: &Plan, path: &Path) -> Result<(), ExperimentError> {
    for (si, s) in plan.clean.iter().enumerate() {
        let n = s.train.n();
        for (i, &a) in spec.attackers.iter().enumerate() {
            check_attacker(path, &format!("attackers[{i}]"), a, n)?;
        }
        check_attacker(path, "compare.attacker", spec.compare.attacker, n)?;
        if s.validation.as_ref().is_none_or(|v| v.n() == 0) {
            return Err(ExperimentError::invalid(
                path,
                "data",
                "a validation split (the best-validation round and the trusted SVM read it)",
                format!("no validation points for seed {}", spec.seeds[si]),
            ));
        }
    }
    if spec.compare.average_last == 0 || spec.compare.average_last > spec.rounds {
        return Err(ExperimentError::invalid(
            path,
            "compare.average_last",
            format!("1..=rounds ({})", spec.rounds),
            spec.compare.average_last,
        ));
    }
    for (i, &schedule) in spec.compare.schedules.iter().enumerate() {
        let p = FloralParams { c: spec.c, eta: 1.0, schedule, init: spec.init, ..FloralParams::reference() };
        floral_defense::FloralLearner::new(p, Arc::new(ExactProjector::default()))
            .map_err(|e| ExperimentError::invalid(path, format!("compare.schedules[{i}]"), "a valid schedule", e))?;
    }
    Ok(())
}

/// Check a parsed spec and load its data (as an experiment does).
///
/// # Errors
/// [`ExperimentError::Invalid`] naming the field, or the data's loading errors.
pub fn check(spec: ConvergenceSpec, path: &Path) -> Result<ConvergenceStudy, ExperimentError> {
    let plan = crate::plan::check_base(
        &spec.name,
        spec.seeds.clone(),
        spec.data.clone(),
        vec![spec.poison.clone()],
        spec.kernel.clone(),
        path,
    )?;
    check_settings(&spec, path)?;
    check_against_data(&spec, &plan, path)?;
    let (canonical, hash) = canonical_and_hash(&spec, &plan.data_files)?;
    Ok(ConvergenceStudy { spec, plan, canonical, hash })
}
