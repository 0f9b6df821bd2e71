//! The cell store: sharded, resumable runs of every kind.
//!
//! A *cell* is one unit of work of a study ([`super::CellId`]) and its result. `floral run`
//! keeps every finished cell in a store under the output directory,
//! `<out>/cells/<first 16 hex digits of the study's content hash>/`, one file per cell, so that
//!
//! - a run that is killed and started again skips the cells it finished;
//! - `floral run FILE --shard I/N` computes a deterministic share of the cells (cell index mod
//!   N equal to I, in cell order; I is 0-based like SLURM and HTCondor array indices), and
//!   `floral merge DIR...` assembles the report from the stores of all shards.
//!
//! Besides the cells, the store keeps each group's record (what the report needs from a
//! group's shared state, e.g. an experiment's poisoned labels and step-size bound), so a merge
//! never rebuilds a kernel matrix, and a manifest (`experiment.cell`) with the study's kind,
//! hash, source path and canonical RON, from which a merge loads the study again.
//!
//! Each file is written atomically (temporary file, then rename) and starts with a header:
//!
//! ```text
//! floral-cell 1
//! hash <the study's content hash, 64 hex digits>
//! key <the cell key, e.g. m0-v1-p2-s0>
//! bytes <payload length>
//! sha256 <sha256 of the payload, hex>
//! <payload: RON>
//! ```
//!
//! A file whose header, length, checksum, hash or key does not match, or whose payload does not
//! parse, is *damaged*: it is never used, the store lists it ([`CellStore::damaged`]) and the
//! cell is computed again. RON writes every f64 so that it reads back to the same bits
//! (infinities and −0 included), so a report assembled from stored cells equals one computed
//! in memory byte for byte.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use super::Study;
use crate::ExperimentError;

/// The directory under `--out` that holds cell stores.
pub const CELLS_DIR: &str = "cells";
/// The manifest's key (file `experiment.cell`).
pub const MANIFEST_KEY: &str = "experiment";
const MAGIC: &str = "floral-cell 1";
const EXT: &str = "cell";

/// Which share of the cells a run computes: the jobs whose index (in job order) is congruent to
/// `index` mod `count`. `index` is 0-based (0 ≤ index < count), as `$SLURM_ARRAY_TASK_ID` with
/// `--array=0-(N-1)` and HTCondor's `$(Process)` are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This shard, 0-based.
    pub index: usize,
    /// The number of shards (≥ 1).
    pub count: usize,
}

impl Shard {
    /// The whole experiment (shard 0 of 1).
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Parse `I/N` (0 ≤ I < N).
    ///
    /// # Errors
    /// A message saying what was expected.
    pub fn parse(s: &str) -> Result<Shard, String> {
        let Some((i, n)) = s.split_once('/') else {
            return Err(format!("expected I/N (shard I of N, 0-based: 0 ≤ I < N), got `{s}`"));
        };
        let parse = |t: &str, what: &str| {
            t.trim().parse::<usize>().map_err(|_| format!("expected I/N with whole numbers, got {what} `{t}` in `{s}`"))
        };
        let (index, count) = (parse(i, "I")?, parse(n, "N")?);
        if count == 0 {
            return Err(format!("the shard count N must be at least 1, got `{s}`"));
        }
        if index >= count {
            return Err(format!(
                "the shard index I is 0-based and must be below N = {count} (0..={}), got `{s}`",
                count - 1
            ));
        }
        Ok(Shard { index, count })
    }

    /// True when job `job` (its index in job order) belongs to this shard: job mod count = index.
    pub fn owns(&self, job: usize) -> bool {
        job % self.count == self.index
    }

    /// True for the whole experiment (a single shard).
    pub fn is_all(&self) -> bool {
        self.count == 1
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The store's manifest: what a merge needs to load the study again.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    /// The study's kind (`Experiment`, `Convergence`, …).
    pub kind: String,
    /// The study's content hash.
    pub hash: String,
    /// The experiment file (absolute when it could be resolved), for relative data paths.
    pub source: PathBuf,
    /// The study's canonical RON, re-parsed by a merge.
    pub canonical: String,
    /// Number of cells of the study.
    pub cells: usize,
}

/// One directory of cell files for one plan hash.
#[derive(Debug)]
pub struct CellStore {
    dir: PathBuf,
    hash: String,
    damaged: Mutex<Vec<PathBuf>>,
}

pub(crate) fn store_err(path: &Path, message: impl Into<String>) -> ExperimentError {
    ExperimentError::Store { path: path.to_path_buf(), message: message.into() }
}

/// The store directory of a plan hash under an output directory.
pub fn store_dir(out: &Path, hash: &str) -> PathBuf {
    out.join(CELLS_DIR).join(&hash[..hash.len().min(16)])
}

impl CellStore {
    /// Open (creating it when needed) the store of `study` under `out` and write its manifest.
    ///
    /// # Errors
    /// [`ExperimentError::Report`] when the directory or the manifest cannot be written.
    pub fn open(out: &Path, study: &dyn Study) -> Result<CellStore, ExperimentError> {
        let info = study.header();
        let dir = store_dir(out, info.hash);
        std::fs::create_dir_all(&dir).map_err(|source| {
            ExperimentError::Report(floral_report::ReportError::Io {
                op: "create directory",
                path: dir.clone(),
                source,
            })
        })?;
        let store = CellStore { dir, hash: info.hash.to_string(), damaged: Mutex::new(Vec::new()) };
        let source = std::fs::canonicalize(info.source).unwrap_or_else(|_| info.source.to_path_buf());
        let manifest = Manifest {
            kind: study.kind().to_string(),
            hash: info.hash.to_string(),
            source,
            canonical: info.canonical.to_string(),
            cells: study.jobs(),
        };
        if store.get::<Manifest>(MANIFEST_KEY).as_ref() != Some(&manifest) {
            store.put(MANIFEST_KEY, &manifest)?;
        }
        Ok(store)
    }

    /// Open an existing store directory (as found by [`find_stores`]) for reading.
    ///
    /// # Errors
    /// [`ExperimentError::Store`] when its manifest is missing or damaged.
    pub fn existing(dir: &Path) -> Result<(CellStore, Manifest), ExperimentError> {
        let text = std::fs::read_to_string(dir.join(format!("{MANIFEST_KEY}.{EXT}")))
            .map_err(|e| store_err(dir, format!("no readable manifest {MANIFEST_KEY}.{EXT}: {e}")))?;
        let hash = header_field(&text, "hash").unwrap_or_default().to_string();
        let manifest: Manifest = decode(&text, &hash, MANIFEST_KEY)
            .ok_or_else(|| store_err(dir, format!("the manifest {MANIFEST_KEY}.{EXT} is damaged")))?;
        if manifest.hash != hash {
            return Err(store_err(dir, format!("the manifest {MANIFEST_KEY}.{EXT} is damaged")));
        }
        Ok((CellStore { dir: dir.to_path_buf(), hash, damaged: Mutex::new(Vec::new()) }, manifest))
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The plan hash every file of the store carries.
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// The file of a key.
    pub fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.{EXT}"))
    }

    /// The payload stored under `key`, when its file exists and is intact; a file that exists
    /// but is damaged is recorded in [`CellStore::damaged`] and not used.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        let path = self.path(key);
        let bytes = std::fs::read(&path).ok()?;
        let value = std::str::from_utf8(&bytes).ok().and_then(|text| decode(text, &self.hash, key));
        if value.is_none() {
            if let Ok(mut d) = self.damaged.lock() {
                if !d.contains(&path) {
                    d.push(path);
                }
            }
        }
        value
    }

    /// True when `key` has an intact file (damaged files are recorded as by [`CellStore::get`]).
    pub fn has<T: DeserializeOwned>(&self, key: &str) -> bool {
        self.get::<T>(key).is_some()
    }

    /// Store `value` under `key`, atomically.
    ///
    /// # Errors
    /// [`ExperimentError::Report`] (the file cannot be written) or [`ExperimentError::Run`]
    /// (the value cannot be serialised).
    pub fn put<T: Serialize>(&self, key: &str, value: &T) -> Result<(), ExperimentError> {
        let text = encode(&self.hash, key, value)
            .map_err(|e| ExperimentError::Run { what: format!("cell {key}"), message: e.to_string() })?;
        floral_report::write_text_atomic(&self.path(key), &text)?;
        Ok(())
    }

    /// Files found damaged so far (never used; their cells are computed again), in the order found.
    pub fn damaged(&self) -> Vec<PathBuf> {
        self.damaged.lock().map(|d| d.clone()).unwrap_or_default()
    }

    /// Delete the store's directory, and the `cells` directory above it when that is left empty.
    ///
    /// # Errors
    /// [`ExperimentError::Report`] when the directory cannot be removed.
    pub fn remove(self) -> Result<(), ExperimentError> {
        std::fs::remove_dir_all(&self.dir).map_err(|source| {
            ExperimentError::Report(floral_report::ReportError::Io {
                op: "remove directory",
                path: self.dir.clone(),
                source,
            })
        })?;
        if let Some(parent) = self.dir.parent() {
            // Only removes an empty directory; another plan's store stays.
            let _ = std::fs::remove_dir(parent);
        }
        Ok(())
    }
}

/// The text of a store file: the header, then the payload in RON.
fn encode<T: Serialize>(hash: &str, key: &str, value: &T) -> Result<String, ron::Error> {
    let payload = ron::to_string(value)?;
    let sum = format!("{:x}", Sha256::digest(payload.as_bytes()));
    Ok(format!("{MAGIC}\nhash {hash}\nkey {key}\nbytes {}\nsha256 {sum}\n{payload}", payload.len()))
}

fn header_field<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    text.lines().take(5).find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(' ')))
}

/// The payload of a store file when every header line matches (`hash`, `key`), the length and
/// checksum agree and the RON parses; None otherwise.
fn decode<T: DeserializeOwned>(text: &str, hash: &str, key: &str) -> Option<T> {
    let mut parts = text.splitn(6, '\n');
    if parts.next()? != MAGIC {
        return None;
    }
    if parts.next()?.strip_prefix("hash ")? != hash || hash.is_empty() {
        return None;
    }
    if parts.next()?.strip_prefix("key ")? != key {
        return None;
    }
    let len: usize = parts.next()?.strip_prefix("bytes ")?.parse().ok()?;
    let sum = parts.next()?.strip_prefix("sha256 ")?;
    let payload = parts.next()?;
    if payload.len() != len || format!("{:x}", Sha256::digest(payload.as_bytes())) != sum {
        return None;
    }
    ron::from_str(payload).ok()
}

/// Every cell store under the output directories `dirs` (`DIR/cells/*/`), with its manifest,
/// in directory order.
///
/// # Errors
/// [`ExperimentError::Store`] when a directory has no store or a manifest is damaged.
pub fn find_stores(dirs: &[PathBuf]) -> Result<Vec<(CellStore, Manifest)>, ExperimentError> {
    let mut out = Vec::new();
    for d in dirs {
        let cells = d.join(CELLS_DIR);
        let entries = std::fs::read_dir(&cells).map_err(|e| {
            store_err(
                d,
                format!(
                    "no cell store ({}: {e}); expected the --out directory of `floral run --shard`",
                    cells.display()
                ),
            )
        })?;
        let mut subdirs: Vec<PathBuf> =
            entries.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_dir()).collect();
        subdirs.sort();
        if subdirs.is_empty() {
            return Err(store_err(d, format!("{} holds no cell store", cells.display())));
        }
        for s in subdirs {
            out.push(CellStore::existing(&s)?);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_parsing_is_zero_based_and_checked() {
        assert_eq!(Shard::parse("0/1"), Ok(Shard::ALL));
        assert_eq!(Shard::parse("2/3"), Ok(Shard { index: 2, count: 3 }));
        for bad in ["3/2", "2/2", "0/0", "1", "a/2", "1/b", "-1/2", ""] {
            let e = Shard::parse(bad).unwrap_err();
            assert!(e.contains(bad), "{bad}: {e}");
        }
        assert!(Shard::parse("0/0").unwrap_err().contains("at least 1"));
        assert!(Shard::parse("3/2").unwrap_err().contains("0-based"));
    }

    #[test]
    fn shards_partition_the_jobs_evenly() {
        for count in 1..6 {
            let shards: Vec<Shard> = (0..count).map(|index| Shard { index, count }).collect();
            for job in 0..50 {
                assert_eq!(shards.iter().filter(|s| s.owns(job)).count(), 1);
            }
            let sizes: Vec<usize> = shards.iter().map(|s| (0..50).filter(|&j| s.owns(j)).count()).collect();
            assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1, "{sizes:?}");
        }
    }

    #[test]
    fn floats_read_back_to_the_same_bits() {
        let xs = vec![0.0, -0.0, 0.1, 1.0 / 3.0, 5e-324, f64::MIN_POSITIVE, 1e300, f64::INFINITY, f64::NEG_INFINITY];
        let text = encode("h", "k", &xs).unwrap();
        let back: Vec<f64> = decode(&text, "h", "k").unwrap();
        assert_eq!(
            xs.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            back.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
        );
        let nan: Vec<f64> = decode(&encode("h", "k", &vec![f64::NAN]).unwrap(), "h", "k").unwrap();
        assert!(nan[0].is_nan());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        /// Every f64 but NaN reads back to the same bits (NaN reads back as a NaN).
        #[test]
        fn any_f64_round_trips_through_a_cell_file(bits in proptest::collection::vec(proptest::prelude::any::<u64>(), 1..20)) {
            let xs: Vec<f64> = bits.iter().map(|&b| f64::from_bits(b)).collect();
            let back: Vec<f64> = decode(&encode("h", "k", &xs).unwrap(), "h", "k").unwrap();
            for (x, y) in xs.iter().zip(&back) {
                proptest::prop_assert!(if x.is_nan() { y.is_nan() } else { x.to_bits() == y.to_bits() }, "{x:e} read back as {y:e}");
            }
        }
    }

    #[test]
    fn damaged_or_foreign_files_are_refused() {
        let text = encode("h", "k", &vec![1.5f64, 2.5]).unwrap();
        assert_eq!(decode::<Vec<f64>>(&text, "h", "k"), Some(vec![1.5, 2.5]));
        // Another plan, another cell.
        assert_eq!(decode::<Vec<f64>>(&text, "g", "k"), None);
        assert_eq!(decode::<Vec<f64>>(&text, "h", "j"), None);
        // Truncated anywhere.
        for cut in 0..text.len() {
            assert_eq!(decode::<Vec<f64>>(&text[..cut], "h", "k"), None, "cut at {cut}");
        }
        // A changed payload byte of the same length.
        let tampered = text.replace("2.5", "2.6");
        assert_eq!(decode::<Vec<f64>>(&tampered, "h", "k"), None);
    }
}
