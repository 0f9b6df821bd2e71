//! Checking a parsed `Multiclass` spec: every field, the data, the poison levels, and the
//! canonical text and content hash.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use floral_attack::{ConfusableTopK, ConfusableTopKParams};
use floral_data::{MulticlassData, RawData};
use floral_defense::MulticlassFloral;
use floral_projection::{ExactParams, ExactProjector, Projector};
use floral_report::fmt_num;

use super::MulticlassStudy;
use super::spec::{MulticlassPoison, MulticlassSpec};
use crate::ExperimentError;
use crate::frame::load::DataFile;

fn invalid(path: &Path, field: impl Into<String>, expected: impl Into<String>, got: impl ToString) -> ExperimentError {
    ExperimentError::invalid(path, field, expected, got)
}

/// A level's name in the report (`clean`, `random 10%`, `targeted 5%`).
pub(super) fn level_name(p: &MulticlassPoison) -> String {
    match p {
        MulticlassPoison::Clean => "clean".into(),
        MulticlassPoison::Random { fraction } => format!("random {}%", fmt_num(fraction * 100.0)),
        MulticlassPoison::Targeted { fraction, .. } => format!("targeted {}%", fmt_num(fraction * 100.0)),
    }
}

/// The relabelling budget round(fraction·n).
pub(super) fn budget(fraction: f64, n: usize) -> usize {
    // fraction ∈ (0, 1], so the product is in [0, n].
    (fraction * n as f64).round() as usize
}

fn load_data(spec: &str, base: &Path) -> Result<(RawData, PathBuf), ExperimentError> {
    let data_err = |source| ExperimentError::Data { path: base.to_path_buf(), source };
    if let Some((name, sheet)) = spec.split_once(':') {
        if floral_data::shipped::names().contains(&name) {
            let p = floral_data::shipped::sheet_path(name, sheet).map_err(data_err)?;
            return Ok((floral_data::shipped::load_sheet(name, sheet).map_err(data_err)?, p));
        }
    }
    let p = crate::plan::resolve_relative(base, spec);
    Ok((floral_data::read_libsvm(&p).map_err(data_err)?, p))
}

/// Check a parsed spec and load its data.
///
/// # Errors
/// [`ExperimentError::Invalid`] naming the field; [`ExperimentError::Data`] for unreadable data.
pub fn check(spec: MulticlassSpec, path: &Path) -> Result<MulticlassStudy, ExperimentError> {
    check_fields(&spec, path)?;
    let kernel = crate::plan::build_kernel(path, &spec.kernel)?;
    check_games(&spec, path)?;
    let (train, test, files) = load_pair(&spec, path)?;
    let n_used = match spec.train_points {
        Some(m) if m < 2 || m > train.n() => {
            return Err(invalid(path, "train_points", format!("2..={} (the training points)", train.n()), m));
        }
        Some(m) => m,
        None => train.n(),
    };
    let mut levels = Vec::new();
    for (li, p) in spec.poison.iter().enumerate() {
        let field = format!("poison[{li}]");
        let pairs = check_level(p, &field, &train, n_used, path)?;
        let name = level_name(p);
        if levels.iter().any(|(n, _): &(String, _)| *n == name) {
            return Err(invalid(path, field, "distinct poison levels", name));
        }
        levels.push((name, pairs));
    }
    let data_files = hashed_files(&spec, &files)?;
    let (canonical, hash) = crate::frame::load::canonical_and_hash(&spec, &data_files)?;
    Ok(MulticlassStudy { spec, train, test, kernel, levels, hash, canonical, data_files, source: path.to_path_buf() })
}

/// The scalar fields: name, seeds, C, at least one level.
fn check_fields(spec: &MulticlassSpec, path: &Path) -> Result<(), ExperimentError> {
    if spec.name.is_empty() || spec.name.contains(['/', '\\']) || spec.name.starts_with('.') {
        return Err(invalid(path, "name", "a non-empty name without path separators", &spec.name));
    }
    if spec.seeds.is_empty() {
        return Err(invalid(path, "seeds", "at least one seed", "[]"));
    }
    let mut seen = std::collections::BTreeSet::new();
    for (i, s) in spec.seeds.iter().enumerate() {
        if !seen.insert(*s) {
            return Err(invalid(path, format!("seeds[{i}]"), "distinct seeds", s));
        }
    }
    if !(spec.c.is_finite() && spec.c > 0.0) {
        return Err(invalid(path, "c", "a finite number > 0", spec.c));
    }
    if spec.poison.is_empty() {
        return Err(invalid(path, "poison", "at least one level (e.g. [Clean])", "[]"));
    }
    Ok(())
}

/// Multi-class FLORAL's settings and the in-game attacker's.
fn check_games(spec: &MulticlassSpec, path: &Path) -> Result<(), ExperimentError> {
    let projector: Arc<dyn Projector> =
        Arc::new(ExactProjector::new(ExactParams::default()).map_err(|e| invalid(path, "projector", "valid", e))?);
    MulticlassFloral::new(spec.floral.clone(), projector)
        .map_err(|e| invalid(path, "floral", "valid multi-class FLORAL settings", e))?;
    if spec.floral.k == 0 {
        return Err(invalid(path, "floral.k", ">= 1", 0));
    }
    ConfusableTopK::new(ConfusableTopKParams {
        k: spec.floral.k,
        pool: spec.attacker_pool,
        sv_threshold: spec.floral.learner.sv_threshold,
        new_class: spec.attacker_new_class,
    })
    .map_err(|e| invalid(path, "attacker_pool", ">= floral.k", e))?;
    Ok(())
}

/// The training and test data (test classes among the training classes) and their files.
fn load_pair(
    spec: &MulticlassSpec,
    path: &Path,
) -> Result<(MulticlassData, MulticlassData, [PathBuf; 2]), ExperimentError> {
    let (mut tr, tr_path) = load_data(&spec.train, path)?;
    let (mut te, te_path) = load_data(&spec.test, path)?;
    if tr.dim() != te.dim() {
        if tr.sparse && te.sparse {
            floral_data::align_dims(&mut tr, &mut te);
        } else {
            return Err(invalid(path, "test", format!("{} features as the training data", tr.dim()), te.dim()));
        }
    }
    let names = tr.classes();
    if names.len() < 2 {
        return Err(invalid(path, "train", "at least two classes", format!("{} class", names.len())));
    }
    let data_err = |p: &Path| {
        let p = p.to_path_buf();
        move |source| ExperimentError::Data { path: p.clone(), source }
    };
    let train = MulticlassData::from_raw(tr, &names, &tr_path).map_err(data_err(&tr_path))?;
    let test = MulticlassData::from_raw(te, &names, &te_path).map_err(data_err(&te_path))?;
    Ok((train, test, [tr_path, te_path]))
}

/// One poison level: its fraction, and for a targeted level its (source, target) class-index
/// pairs, with a budget that fits the source classes' expected share of the subsample.
fn check_level(
    p: &MulticlassPoison,
    field: &str,
    train: &MulticlassData,
    n_used: usize,
    path: &Path,
) -> Result<Vec<(usize, usize)>, ExperimentError> {
    let mut pairs = Vec::new();
    match p {
        MulticlassPoison::Clean => {}
        MulticlassPoison::Random { fraction } | MulticlassPoison::Targeted { fraction, .. } => {
            if !(fraction.is_finite() && *fraction > 0.0 && *fraction <= 1.0) {
                return Err(invalid(path, format!("{field}.fraction"), "a number in (0, 1]", fraction));
            }
        }
    }
    let MulticlassPoison::Targeted { fraction, pairs: ps } = p else {
        return Ok(pairs);
    };
    if ps.is_empty() {
        return Err(invalid(path, format!("{field}.pairs"), "at least one (source, target) pair", "[]"));
    }
    let names = train.names();
    for &(s, t) in ps {
        let find = |v: i64| names.iter().position(|&c| c == v);
        match (find(s), find(t)) {
            (Some(a), Some(b)) if a != b && !pairs.iter().any(|&(x, _)| x == a) => pairs.push((a, b)),
            _ => {
                return Err(invalid(
                    path,
                    format!("{field}.pairs"),
                    format!("(source, target) pairs of distinct classes among {names:?}, each source once"),
                    format!("({s}, {t})"),
                ));
            }
        }
    }
    // The smallest source-class count over seeds is unknown before the draw; require the
    // budget to fit the expected count with a margin, and let the run report a shortfall.
    let budget = budget(*fraction, n_used);
    let share: usize = pairs.iter().map(|&(a, _)| train.y().counts()[a]).sum();
    let expected = share * n_used / train.n().max(1);
    if budget > expected {
        return Err(invalid(
            path,
            format!("{field}.fraction"),
            format!("a budget within the source classes' ~{expected} points"),
            format!("{budget} points"),
        ));
    }
    Ok(pairs)
}

/// The train and test files with the sha256 of their bytes, for the content hash.
fn hashed_files(spec: &MulticlassSpec, files: &[PathBuf; 2]) -> Result<Vec<DataFile>, ExperimentError> {
    [("train", &spec.train), ("test", &spec.test)]
        .into_iter()
        .zip(files)
        .map(|((role, written), p)| DataFile::read(role, written, p))
        .collect()
}
