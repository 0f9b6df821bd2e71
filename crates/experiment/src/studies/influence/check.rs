//! Checking an influence spec: its own fields, then the shared ones ([`crate::plan::check_base`]).

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use floral_defense::FloralLearner;

use super::{InfluenceSpec, InfluenceStudy};
use crate::ExperimentError;
use crate::frame::load::canonical_and_hash;
use crate::spec::AttackerSpec;

/// Check a parsed influence spec and load its data.
///
/// # Errors
/// [`ExperimentError::Invalid`] naming the field, or the shared checks' errors.
pub fn check(spec: InfluenceSpec, path: &Path) -> Result<InfluenceStudy, ExperimentError> {
    let bad = |field: &str, expected: &str, got: String| ExperimentError::invalid(path, field, expected, got);
    if !(spec.c.is_finite() && spec.c > 0.0) {
        return Err(bad("c", "a finite number > 0", spec.c.to_string()));
    }
    let f = &spec.floral;
    if f.tune.is_some() {
        return Err(bad("floral.tune", "None (an influence study compares one FLORAL setting)", "Some(...)".into()));
    }
    if f.rounds == 0 {
        return Err(bad("floral.rounds", ">= 1", "0".into()));
    }
    FloralLearner::new(f.learner.clone(), Arc::new(floral_projection::ExactProjector::default()))
        .map_err(|e| bad("floral.learner", "valid learner parameters", e.to_string()))?;
    crate::registry::attacker(&f.attacker)
        .map_err(|e| bad("floral.attacker", "valid attacker parameters", e.to_string()))?;
    if let Some(i) = spec.rounds.iter().position(|&r| r == 0 || r > f.rounds) {
        return Err(bad(&format!("rounds[{i}]"), &format!("a round in 1..={}", f.rounds), spec.rounds[i].to_string()));
    }
    if spec.top_b.is_empty() {
        return Err(bad("top_b", "at least one B", "[]".into()));
    }
    let plan = crate::plan::check_base(
        &spec.name,
        spec.seeds.clone(),
        spec.data.clone(),
        spec.poison.clone(),
        spec.kernel.clone(),
        path,
    )?;
    let n = plan.clean.iter().map(|s| s.train.n()).min().unwrap_or(0);
    if plan.clean.iter().any(|s| s.validation.is_none()) {
        return Err(bad(
            "data",
            "data with a validation split (influence is measured on it): a validation_fraction > 0 or a validation file",
            "no validation split".into(),
        ));
    }
    if let Some(m) = spec.sample {
        if m < 2 || m > n {
            return Err(bad("sample", &format!("None or a count in 2..={n} (the training points)"), m.to_string()));
        }
    }
    let measured = spec.sample.unwrap_or(n);
    if let Some(i) = spec.top_b.iter().position(|&b| b == 0 || b > measured) {
        return Err(bad(&format!("top_b[{i}]"), &format!("a count in 1..={measured}"), spec.top_b[i].to_string()));
    }
    if let AttackerSpec::RandomTopK(p) = &f.attacker {
        let pool = p.pool.unwrap_or(2 * p.k);
        if p.k > n || pool > n {
            return Err(bad(
                "floral.attacker",
                &format!("k <= pool <= {n} (the training points)"),
                format!("k = {}, pool = {pool}", p.k),
            ));
        }
    }
    let mut rounds: BTreeSet<usize> = spec.rounds.iter().copied().collect();
    rounds.insert(f.rounds);
    let (canonical, hash) = canonical_and_hash(&spec, &plan.data_files)?;
    Ok(InfluenceStudy { spec, plan, canonical, hash, rounds: rounds.into_iter().collect() })
}
