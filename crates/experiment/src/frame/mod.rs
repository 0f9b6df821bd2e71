//! The study frame: every kind is spec → cells → results → report.
//!
//! A kind implements [`Kind`]: it lists its *cells* (units of work, each a pure function of the
//! checked study and the cell's key), groups them by the expensive state they share (kernel
//! matrices, poisoned splits: a [`Kind::Group`], built once per group and never stored), computes
//! one cell against its group, and renders the report from the collected results. The frame
//! does the rest the same way for every kind ([`runner`]): cells in parallel within a group and
//! collected in cell order (so results never depend on the thread count), every finished cell
//! kept in the cell store ([`crate::cells`]) so a killed run resumes, `--shard I/N` computing
//! the cells whose index is I mod N, and `floral merge` assembling the report from the stores.
//!
//! [`load`] is the one loader (byte-order mark, RON errors with `file:line:col`, canonical RON,
//! content hash) and [`Framed`] turns a kind into a [`Study`] that `floral run`, `floral check`,
//! `floral merge` and `floral submit` drive.

pub mod load;
pub mod report_frame;
pub mod runner;
pub mod store;

use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use report_frame::{DataSizes, ReportFrame};
pub use runner::ShardRun;
pub use store::{CellStore, Shard};

use crate::{ExperimentError, Plan};

/// What a study hands back after running: its report and what the terminal shows.
#[derive(Debug, Clone)]
pub struct StudyOutput {
    /// The report.
    pub document: floral_report::Document,
    /// `results.json` (canonicalised when written).
    pub results: serde_json::Value,
    /// Lines printed on the terminal after the run (a short summary).
    pub summary: Vec<String>,
    /// Warnings for the terminal (the report states them too).
    pub warnings: Vec<String>,
}

/// A checked study, ready to run. Checking does every cross-field check and loads the data, so
/// a study that checks runs unless a numerical failure occurs.
pub trait Study: Send + Sync {
    /// The RON kind (`Experiment`, `Convergence`, …).
    fn kind(&self) -> &'static str;
    /// The study's name; the default output directory is `reports/<name>`.
    fn name(&self) -> &str {
        self.header().name
    }
    /// Units of work the progress callback will be called for (0: no progress reporting).
    fn jobs(&self) -> usize;
    /// Lines `floral check` prints under its `ok` line (sizes, memory estimate, …).
    fn describe(&self) -> Vec<String>;
    /// Run it. `progress` is called once per finished unit of work, possibly from worker
    /// threads, with a short description.
    ///
    /// # Errors
    /// A numerical or internal failure.
    fn run(&self, progress: &(dyn Fn(&str) + Sync)) -> Result<StudyOutput, ExperimentError>;
    /// The content hash of the study (spec and data files).
    fn hash(&self) -> &str {
        self.header().hash
    }
    /// The experiment plan, for the `Experiment` kind (`floral bench scale` times its parts).
    fn as_plan(&self) -> Option<&Plan> {
        None
    }
    /// The peak-memory estimate, when the kind makes one (`floral submit` sizes its request).
    fn memory(&self) -> Option<&crate::memory::MemoryEstimate> {
        None
    }
    /// The study's name, source, canonical RON and content hash (the cell store's manifest
    /// records them, so `floral merge` can load the study again and check nothing changed).
    fn header(&self) -> StudyHeader<'_>;
    /// Compute the cells of `shard` missing from `store` (see [`crate::frame::runner::run_stored`]).
    ///
    /// # Errors
    /// A numerical or internal failure, or a store write error.
    fn run_cells(
        &self,
        store: &CellStore,
        shard: Shard,
        progress: &(dyn Fn(&str) + Sync),
    ) -> Result<ShardRun, ExperimentError>;
    /// The report assembled from the cells in `stores` (see [`crate::frame::runner::assemble`]).
    ///
    /// # Errors
    /// [`ExperimentError::Store`] when cells are missing.
    fn assemble(&self, stores: &[CellStore]) -> Result<StudyOutput, ExperimentError>;
}

/// One cell of a study: which group's shared state it reads, its key in the cell store, and
/// what it is (the kind's own description of the work).
#[derive(Debug, Clone, PartialEq)]
pub struct CellId<T> {
    /// The group whose [`Kind::Group`] the cell reads (0-based, below [`Kind::groups`]).
    pub group: usize,
    /// The cell's key: unique within the study, file-name safe (e.g. `m0-v1-p2-s0`).
    pub key: String,
    /// What the progress line says when the cell is done (e.g. `floral / random 10% / seed 7`).
    pub label: String,
    /// The kind's description of the work.
    pub what: T,
}

/// A study kind on the frame. Implementations hold the checked spec (and loaded data); every
/// method is a pure function of that state and its arguments.
pub trait Kind: Send + Sync + Sized + 'static {
    /// The kind's description of one cell's work (e.g. method, poison level and seed indices).
    type What: Send + Sync;
    /// The state a group of cells shares, built once per group and never stored (kernel
    /// matrices, poisoned splits).
    type Group: Send + Sync;
    /// What building a group measures for the report (stored beside the cells, so a merge never
    /// rebuilds a group).
    type GroupRecord: Serialize + DeserializeOwned + Send + Sync;
    /// One cell's result (stored; RON reads every f64 back to the same bits).
    type Cell: Serialize + DeserializeOwned + Send + Sync;

    /// The RON kind (`Experiment`, `Convergence`, …).
    const KIND: &'static str;

    /// The study's name, where it was read from (relative data paths resolve against it), its
    /// canonical RON ([`load::canonical`]; a merge re-parses it) and content hash
    /// ([`load::content_hash`]).
    fn header(&self) -> StudyHeader<'_>;
    /// Lines `floral check` prints under its `ok` line (sizes, memory estimate, …).
    fn describe(&self) -> Vec<String>;
    /// The number of groups.
    fn groups(&self) -> usize;
    /// Every cell, in report order.
    fn cells(&self) -> Vec<CellId<Self::What>>;
    /// Build group `g`'s shared state and its record.
    ///
    /// # Errors
    /// A numerical or internal failure.
    fn build_group(&self, g: usize) -> Result<(Self::Group, Self::GroupRecord), ExperimentError>;
    /// Compute one cell against its group's state.
    ///
    /// # Errors
    /// A numerical or internal failure.
    fn compute(&self, group: &Self::Group, cell: &CellId<Self::What>) -> Result<Self::Cell, ExperimentError>;
    /// The report from every group record (in group order) and every cell (in cell order).
    ///
    /// # Errors
    /// A numerical or internal failure.
    fn report(&self, groups: Vec<Self::GroupRecord>, cells: Vec<Self::Cell>) -> Result<StudyOutput, ExperimentError>;
    /// The experiment plan, for the `Experiment` kind (`floral bench scale` times its parts).
    fn as_plan(&self) -> Option<&Plan> {
        None
    }
    /// The peak-memory estimate of one job, when the kind makes one (`floral submit` sizes its
    /// memory request from it).
    fn memory(&self) -> Option<&crate::memory::MemoryEstimate> {
        None
    }
}

/// A [`Kind`] as a [`Study`]: what the kinds' loaders box.
#[derive(Debug)]
pub struct Framed<K>(pub K);

/// Box a checked kind as a [`Study`].
pub fn boxed<K: Kind>(k: K) -> Box<dyn Study> {
    Box::new(Framed(k))
}

impl<K: Kind> Study for Framed<K> {
    fn kind(&self) -> &'static str {
        K::KIND
    }
    fn jobs(&self) -> usize {
        self.0.cells().len()
    }
    fn describe(&self) -> Vec<String> {
        self.0.describe()
    }
    fn run(&self, progress: &(dyn Fn(&str) + Sync)) -> Result<StudyOutput, ExperimentError> {
        let (groups, cells) = runner::run_in_memory(&self.0, progress)?;
        self.0.report(groups, cells)
    }
    fn as_plan(&self) -> Option<&Plan> {
        self.0.as_plan()
    }
    fn memory(&self) -> Option<&crate::memory::MemoryEstimate> {
        self.0.memory()
    }
    fn header(&self) -> StudyHeader<'_> {
        self.0.header()
    }
    fn run_cells(
        &self,
        store: &CellStore,
        shard: Shard,
        progress: &(dyn Fn(&str) + Sync),
    ) -> Result<ShardRun, ExperimentError> {
        runner::run_stored(&self.0, store, shard, progress)
    }
    fn assemble(&self, stores: &[CellStore]) -> Result<StudyOutput, ExperimentError> {
        let (groups, cells) = runner::assemble(&self.0, stores)?;
        self.0.report(groups, cells)
    }
}

/// What every checked study holds the same way: its name, where it was read from, its canonical
/// RON and its content hash. The cell store's manifest records it (enough for `floral merge` to
/// load the study again, [`crate::study::load`] on the canonical text, and check that nothing
/// changed); the [`ReportFrame`] states it.
#[derive(Debug, Clone, Copy)]
pub struct StudyHeader<'a> {
    /// The study's name; the default output directory is `reports/<name>`.
    pub name: &'a str,
    /// The study file.
    pub source: &'a Path,
    /// Its canonical RON.
    pub canonical: &'a str,
    /// Its content hash.
    pub hash: &'a str,
}

/// Checks every kind's tests call: sharded runs merge to the unsharded report byte for byte,
/// and a resumed run recomputes no stored cell.
#[cfg(test)]
pub(crate) mod testing {
    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};

    use super::Study;
    use super::store::{CELLS_DIR, Shard};
    use crate::study::{PROVENANCE_FILE, load, merge, run_stored};

    /// A fresh scratch directory under the target directory's temp area.
    pub(crate) fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("floral-frame-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    /// The report files of a directory (provenance.json aside), by name.
    pub(crate) fn report_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
        let mut m = BTreeMap::new();
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            if e.file_type().unwrap().is_file() && name != PROVENANCE_FILE {
                m.insert(name, std::fs::read(e.path()).unwrap());
            }
        }
        assert!(m.contains_key("report.md") && m.contains_key("results.json"), "{dir:?}: {:?}", m.keys());
        m
    }

    fn load_text(ron: &str, source: &Path) -> Box<dyn Study> {
        load(ron, source).unwrap()
    }

    /// Run `ron` whole through the cell store, then in N = 2 and N = 3 shards merged by
    /// `floral merge`'s function; every report file must equal the whole run's byte for byte,
    /// and equal an in-memory run's too. `source` is where relative data paths resolve.
    pub(crate) fn assert_shards_merge_to_the_whole_run(ron: &str, source: &Path, name: &str) {
        let study = load_text(ron, source);
        let quiet = |_: &str| {};
        let root = scratch(name);
        let whole = root.join("whole");
        run_stored(study.as_ref(), &whole, None, false, &quiet).unwrap();
        assert!(!whole.join(CELLS_DIR).exists(), "a whole run removes its store");
        let want = report_files(&whole);
        let memory = root.join("memory");
        crate::study::run_study(study.as_ref(), &memory, &quiet).unwrap();
        assert!(report_files(&memory) == want, "{name}: the in-memory run differs from the stored run");
        for count in [2, 3] {
            let dirs: Vec<PathBuf> = (0..count).map(|i| root.join(format!("n{count}-s{i}"))).collect();
            for (index, d) in dirs.iter().enumerate() {
                let r = run_stored(study.as_ref(), d, Some(Shard { index, count }), false, &quiet).unwrap();
                assert!(r.output.is_none(), "a shard writes no report");
            }
            let out = root.join(format!("n{count}-merged"));
            let merged = merge(&dirs, &out).unwrap();
            assert_eq!(merged.study.kind(), study.kind());
            let got = report_files(&out);
            assert_eq!(got.keys().collect::<Vec<_>>(), want.keys().collect::<Vec<_>>(), "{name}, N = {count}");
            for (file, bytes) in &want {
                assert!(&got[file] == bytes, "{name}: {file} differs after merging {count} shards");
            }
        }
        let _ = std::fs::remove_dir_all(&root);
    }

    /// Run `ron` as shard 0/1 (cells kept), delete every other cell file, run again: exactly
    /// the deleted cells are computed, the kept files are not rewritten (same inode and bytes),
    /// and the report equals a run from scratch.
    pub(crate) fn assert_resume_recomputes_only_missing_cells(ron: &str, source: &Path, name: &str) {
        use std::os::unix::fs::MetadataExt;
        let study = load_text(ron, source);
        let quiet = |_: &str| {};
        let root = scratch(name);
        let out = root.join("out");
        let first = run_stored(study.as_ref(), &out, Some(Shard::ALL), false, &quiet).unwrap();
        assert_eq!(first.run.computed, study.jobs());
        let mut files: Vec<PathBuf> = std::fs::read_dir(&first.store_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                let n = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                n != format!("{}.cell", super::store::MANIFEST_KEY) && !n.starts_with("group-")
            })
            .collect();
        files.sort();
        assert!(files.len() >= 2, "{name}: too few cells to test a resume: {files:?}");
        let (deleted, kept): (Vec<_>, Vec<_>) = files.iter().enumerate().partition(|(i, _)| i % 2 == 0);
        let before: Vec<(u64, Vec<u8>)> =
            kept.iter().map(|(_, p)| (std::fs::metadata(p).unwrap().ino(), std::fs::read(p).unwrap())).collect();
        for (_, p) in &deleted {
            std::fs::remove_file(p).unwrap();
        }
        let again = run_stored(study.as_ref(), &out, None, true, &quiet).unwrap();
        assert_eq!(again.run.computed, deleted.len(), "{name}: exactly the deleted cells are computed");
        assert_eq!(again.run.stored, kept.len(), "{name}: every kept cell is taken from the store");
        for ((_, p), (ino, bytes)) in kept.iter().zip(&before) {
            assert_eq!(std::fs::metadata(p).unwrap().ino(), *ino, "{p:?} was rewritten");
            assert!(&std::fs::read(p).unwrap() == bytes, "{p:?} changed");
        }
        let fresh = root.join("fresh");
        run_stored(study.as_ref(), &fresh, None, false, &quiet).unwrap();
        assert!(report_files(&out) == report_files(&fresh), "{name}: the resumed report differs");
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn the_quickstart_shards_merge_and_resume_on_the_frame() {
        let src = Path::new("quickstart.ron");
        assert_shards_merge_to_the_whole_run(crate::QUICKSTART, src, "quickstart-shards");
        assert_resume_recomputes_only_missing_cells(crate::QUICKSTART, src, "quickstart-resume");
    }
}
