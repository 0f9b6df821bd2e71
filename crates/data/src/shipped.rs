//! The data sets shipped in the repository's `data/` folder (sources, licences, sizes and
//! checksums in `data/README.md`).
//!
//! | name | sheets | rows | features |
//! |---|---|---|---|
//! | `moon_floral_seed42` | `train`, `validation`, `test`, `main`, `train_adv_{5,10,15,20,25}`, `train_adv_{5,10,25}_lfa`, `test_adv_{5,10,25}` | 500 / 500 / 1000 / 2000 / 500 each / 500 each / 1000 each | 2 |
//! | `mnist_1v7` | `train`, `test` | 700 / 300 | 784 |
//! | `mnist_5k` | `train`, `test` (labels 0–9) | 4000 / 1000 | 784 |
//! | `breast_cancer` | `train`, `test` | 398 / 171 | 30 |
//!
//! A spec `name:sheet` (e.g. `moon_floral_seed42:train_adv_10`) names a shipped sheet in
//! [`resolve`]; anything else is a file path.

use std::path::{Path, PathBuf};

use crate::read::{RawData, pad_features};
use crate::{DataError, Split};

/// The FLORAL authors' Moon data set (already standardised).
pub const MOON: &str = "moon_floral_seed42";

const MOON_SHEETS: &[&str] = &[
    "train",
    "validation",
    "test",
    "main",
    "train_adv_5",
    "train_adv_10",
    "train_adv_15",
    "train_adv_20",
    "train_adv_25",
    "train_adv_5_lfa",
    "train_adv_10_lfa",
    "train_adv_25_lfa",
    "test_adv_5",
    "test_adv_10",
    "test_adv_25",
];
const TRAIN_TEST: &[&str] = &["train", "test"];

/// One shipped data set: its folder under `data/`, sheets, file extension and documented width.
struct Entry {
    name: &'static str,
    sheets: &'static [&'static str],
    ext: &'static str,
    dim: usize,
}

const ENTRIES: &[Entry] = &[
    Entry { name: MOON, sheets: MOON_SHEETS, ext: "csv", dim: 2 },
    Entry { name: "mnist_1v7", sheets: TRAIN_TEST, ext: "libsvm.gz", dim: 784 },
    Entry { name: "mnist_5k", sheets: TRAIN_TEST, ext: "libsvm.gz", dim: 784 },
    Entry { name: "breast_cancer", sheets: TRAIN_TEST, ext: "libsvm", dim: 30 },
];

const NAMES: &[&str] = &[MOON, "mnist_1v7", "mnist_5k", "breast_cancer"];

/// The folder holding the shipped data: the environment variable `FLORAL_DATA_DIR` when set and
/// non-empty, otherwise the repository's `data/` (`<crates/data>/../../data`, canonicalised when
/// it exists).
pub fn data_dir() -> PathBuf {
    data_dir_from(std::env::var_os("FLORAL_DATA_DIR"))
}

fn data_dir_from(var: Option<std::ffi::OsString>) -> PathBuf {
    match var {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => {
            let p = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data"));
            p.canonicalize().unwrap_or(p)
        }
    }
}

/// The names of the shipped data sets: `moon_floral_seed42`, `mnist_1v7`, `mnist_5k`,
/// `breast_cancer`.
pub fn names() -> &'static [&'static str] {
    NAMES
}

fn entry(name: &str) -> Result<&'static Entry, DataError> {
    ENTRIES
        .iter()
        .find(|e| e.name == name)
        .ok_or_else(|| DataError::UnknownDataset { name: name.to_string(), known: NAMES.join(", ") })
}

/// The sheets of a shipped data set (the Moon set has 15, the others `train` and `test`).
///
/// # Errors
/// [`DataError::UnknownDataset`] listing the known names.
pub fn sheets(name: &str) -> Result<&'static [&'static str], DataError> {
    entry(name).map(|e| e.sheets)
}

/// The documented number of features of a shipped data set (files are padded to it on load).
///
/// # Errors
/// [`DataError::UnknownDataset`] listing the known names.
pub fn n_features(name: &str) -> Result<usize, DataError> {
    entry(name).map(|e| e.dim)
}

/// The file of one sheet: `data_dir()/<name>/<sheet>.<csv|libsvm|libsvm.gz>`.
///
/// # Errors
/// [`DataError::UnknownDataset`] for an unknown name or sheet, listing the known ones.
pub fn sheet_path(name: &str, sheet: &str) -> Result<PathBuf, DataError> {
    let e = entry(name)?;
    if !e.sheets.contains(&sheet) {
        return Err(DataError::UnknownDataset {
            name: format!("{name}:{sheet}"),
            known: e.sheets.iter().map(|s| format!("{name}:{s}")).collect::<Vec<_>>().join(", "),
        });
    }
    Ok(data_dir().join(name).join(format!("{sheet}.{}", e.ext)))
}

/// Loads one sheet of a shipped data set, padded to the set's documented feature count (a LIBSVM
/// file omits trailing zero features, so e.g. `mnist_1v7` test reads 776 wide and is padded to 784).
///
/// # Errors
/// [`DataError::UnknownDataset`] for an unknown name or sheet; the reader's errors (e.g.
/// [`DataError::Io`] when the data folder is missing; set `FLORAL_DATA_DIR`);
/// [`DataError::DimensionMismatch`] if the file is wider than documented.
pub fn load_sheet(name: &str, sheet: &str) -> Result<RawData, DataError> {
    let path = sheet_path(name, sheet)?;
    let mut raw = crate::read_data_file(&path)?;
    pad_features(&mut raw, entry(name)?.dim)?;
    Ok(raw)
}

/// The Moon split of the FLORAL paper: train = `train_sheet` (e.g. `train_adv_10`),
/// train_clean = the labels of `train`, validation = `validation`, test = `test`. The Moon
/// features are already standardised, so nothing is rescaled.
///
/// # Errors
/// [`DataError::UnknownDataset`] for an unknown sheet; [`DataError::InvalidParam`] when the sheet
/// does not hold the points of `train` (only `train` and `train_adv_*` do); the errors of
/// [`load_sheet`] and [`RawData::into_binary`].
pub fn moon_floral(train_sheet: &str) -> Result<Split, DataError> {
    let load = |sheet: &str| -> Result<crate::Dataset, DataError> {
        let path = sheet_path(MOON, sheet)?;
        load_sheet(MOON, sheet)?.into_binary(&path)
    };
    let clean = load("train")?;
    let train = if train_sheet == "train" { clean.clone() } else { load(train_sheet)? };
    let same_points = train.n() == clean.n()
        && (0..clean.n()).all(|i| (0..clean.dim()).all(|j| train.x()[(i, j)] == clean.x()[(i, j)]));
    if !same_points {
        return Err(DataError::InvalidParam {
            field: "train_sheet",
            expected: "a Moon sheet with the points of `train` (train, train_adv_*)",
            got: train_sheet.to_string(),
        });
    }
    Ok(Split {
        train,
        train_clean: Some(clean.y().clone()),
        validation: Some(load("validation")?),
        test: load("test")?,
    })
}

/// Resolves a data spec: `name:sheet` for a shipped sheet (e.g. `moon_floral_seed42:train_adv_10`,
/// `breast_cancer:train`), otherwise a file path read with
/// [`read_data_file`](crate::read_data_file).
///
/// A spec with a `:` whose part before it is not a shipped name is read as a path when that
/// file exists, and otherwise refused as an unknown data set.
///
/// # Errors
/// [`DataError::UnknownDataset`] for an unknown shipped sheet or for a `name:sheet` spec that is
/// neither shipped nor an existing file; the errors of [`load_sheet`] or of the file reader.
pub fn resolve(spec: &str) -> Result<RawData, DataError> {
    if let Some((name, sheet)) = spec.split_once(':') {
        if NAMES.contains(&name) {
            return load_sheet(name, sheet);
        }
        if !Path::new(spec).exists() {
            return Err(DataError::UnknownDataset {
                name: spec.to_string(),
                known: format!("a file path or name:sheet with name one of {}", NAMES.join(", ")),
            });
        }
    }
    crate::read_data_file(Path::new(spec))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_entries() {
        let from_entries: Vec<&str> = ENTRIES.iter().map(|e| e.name).collect();
        assert_eq!(from_entries, NAMES);
    }

    #[test]
    fn data_dir_prefers_the_env_value() {
        assert_eq!(data_dir_from(Some("/some/where".into())), PathBuf::from("/some/where"));
        let default = data_dir_from(None);
        assert_eq!(default, data_dir_from(Some("".into())));
        assert!(default.ends_with("data"), "{}", default.display());
        assert!(default.join(MOON).join("train.csv").exists());
    }
}
