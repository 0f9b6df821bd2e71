//! The worked example of CONTRIBUTING's "Adding a study kind": a whole study kind written
//! against the public study frame, from outside the experiment crate. For every poison level
//! and seed it fits the exact SVM on the poisoned labels and reports its support vectors and
//! test accuracy.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use floral::data::Streams;
use floral::defense::{Defence, FitInput, SvmDefence, SvmDefenceParams};
use floral::experiment::frame::{CellId, Kind, StudyHeader, StudyOutput, load};
use floral::experiment::spec::{DataSpec, KernelSpec, PoisonSpec};
use floral::experiment::{ExperimentError, Plan};
use floral::game::{Evaluator, SplitKernels};
use floral::report::{Block, Cell, Table};
use serde::{Deserialize, Serialize};

/// `SvCount(...)`: the RON spec (the shared fields, plus the SVM's C).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename = "SvCount")]
pub struct SvCountSpec {
    pub name: String,
    pub seeds: Vec<u64>,
    pub data: DataSpec,
    pub poison: Vec<PoisonSpec>,
    pub kernel: KernelSpec,
    pub c: f64,
}

/// The checked study: the spec, the loaded data (a plan without methods), canonical RON, hash.
#[derive(Debug)]
pub struct SvCount {
    spec: SvCountSpec,
    plan: Plan,
    canonical: String,
    hash: String,
}

/// One cell's result.
#[derive(Debug, Serialize, Deserialize)]
pub struct SvCell {
    level: String,
    seed: u64,
    n_sv: usize,
    test_accuracy: f64,
}

/// Parse and check: the shared fields through `check_base`, then the kind's own fields.
pub fn load_sv_count(text: &str, path: &Path) -> Result<SvCount, ExperimentError> {
    let spec: SvCountSpec = load::parse_ron(text, path)?;
    let s = spec.clone();
    let plan = floral::experiment::plan::check_base(&s.name, s.seeds, s.data, s.poison, s.kernel, path)?;
    if !(spec.c.is_finite() && spec.c > 0.0) {
        return Err(ExperimentError::invalid(path, "c", "a finite number > 0", spec.c));
    }
    let (canonical, hash) = load::canonical_and_hash(&spec, &plan.data_files)?;
    Ok(SvCount { spec, plan, canonical, hash })
}

impl Kind for SvCount {
    type What = (usize, usize); // (poison level, seed index)
    type Group = Arc<SplitKernels>; // one seed's kernel matrices
    type GroupRecord = usize; // the seed's training-set size
    type Cell = SvCell;
    const KIND: &'static str = "SvCount";

    fn header(&self) -> StudyHeader<'_> {
        StudyHeader { name: &self.spec.name, source: &self.plan.source, canonical: &self.canonical, hash: &self.hash }
    }
    fn describe(&self) -> Vec<String> {
        vec![format!("{} cells", self.cells().len())]
    }
    fn groups(&self) -> usize {
        self.spec.seeds.len()
    }
    fn cells(&self) -> Vec<CellId<(usize, usize)>> {
        let mut v = Vec::new();
        for si in 0..self.spec.seeds.len() {
            for (p, level) in self.plan.poison_names.iter().enumerate() {
                let label = format!("{level} / seed {}", self.spec.seeds[si]);
                v.push(CellId { group: si, key: format!("p{p}-s{si}"), label, what: (p, si) });
            }
        }
        v
    }
    fn build_group(&self, si: usize) -> Result<(Arc<SplitKernels>, usize), ExperimentError> {
        let clean = &self.plan.clean[si];
        Ok((Arc::new(SplitKernels::new(self.plan.kernel.as_ref(), clean)), clean.train.n()))
    }
    fn compute(&self, kernels: &Arc<SplitKernels>, cell: &CellId<(usize, usize)>) -> Result<SvCell, ExperimentError> {
        let (p, si) = cell.what;
        let split = floral::experiment::run::poisoned_split(&self.plan, &self.plan.levels[p], si, kernels)?;
        let fail =
            |e: &dyn std::fmt::Display| ExperimentError::Run { what: cell.label.clone(), message: e.to_string() };
        let svm = SvmDefence::new(SvmDefenceParams { c: self.spec.c }).map_err(|e| fail(&e))?;
        let input =
            FitInput { train: &split.train, trusted: None, kernel: self.plan.kernel.as_ref(), kernels, monitor: None };
        let fitted = svm.fit(input, &mut Streams::new(self.spec.seeds[si])).map_err(|e| fail(&e))?;
        let model = &fitted.outputs.first().ok_or_else(|| fail(&"no output"))?.model;
        let test_accuracy = Evaluator::shared(kernels.clone(), &split).scores(model).test.accuracy;
        let (level, seed) = (self.plan.poison_names[p].clone(), self.spec.seeds[si]);
        Ok(SvCell { level, seed, n_sv: fitted.n_sv, test_accuracy })
    }
    fn report(&self, sizes: Vec<usize>, cells: Vec<SvCell>) -> Result<StudyOutput, ExperimentError> {
        let (title, varies) =
            (format!("floral sv count: {}", self.spec.name), "One row per seed: nothing is averaged.");
        let mut frame = floral::experiment::render::report_frame(&self.plan, title, varies.into());
        frame.header = self.header();
        frame.budgets = "the SVM uses no validation or trusted data.".into();
        let mut document = frame.document();
        let headers = ["poison", "seed", "n train", "support vectors", "test accuracy"];
        let rows = cells
            .iter()
            .map(|c| {
                let n = sizes[self.spec.seeds.iter().position(|&s| s == c.seed).unwrap_or(0)];
                let (level, seed) = (Cell::Text(c.level.clone()), Cell::Int(c.seed as i64));
                vec![level, seed, Cell::Int(n as i64), Cell::Int(c.n_sv as i64), Cell::Num(c.test_accuracy)]
            })
            .collect();
        let headers = headers.map(String::from).to_vec();
        document.push(Block::Table(Table { caption: None, headers, rows }));
        frame.close(&mut document);
        let results = serde_json::json!({ "kind": Self::KIND, "hash": self.hash, "cells": cells });
        Ok(StudyOutput { document, results, summary: Vec::new(), warnings: Vec::new() })
    }
}

const TEXT: &str = r#"SvCount(name: "sv", seeds: [1, 2], kernel: Rbf(gamma: 1.0), c: 1.0,
    data: Moons(n: 120, noise: 0.2, validation_fraction: 0.2, test_fraction: 0.3),
    poison: [Clean, Attack(fraction: 0.1, attack: Random)])"#;

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("floral-example-kind-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn the_worked_example_kind_runs_in_memory_through_the_store_and_in_shards() {
    use floral::experiment::{Shard, run_stored, run_study};
    let study = floral::experiment::frame::boxed(load_sv_count(TEXT, Path::new("sv.ron")).unwrap());
    assert_eq!((study.kind(), study.jobs()), ("SvCount", 4));
    let (a, b) = (scratch("memory"), scratch("stored"));
    let memory = run_study(study.as_ref(), &a, &|_| {}).unwrap();
    let stored = run_stored(study.as_ref(), &b, None, false, &|_| {}).unwrap().output.unwrap();
    assert_eq!(memory.results, stored.results);
    assert_eq!(std::fs::read(a.join("report.md")).unwrap(), std::fs::read(b.join("report.md")).unwrap());
    let md = std::fs::read_to_string(a.join("report.md")).unwrap();
    assert!(md.starts_with("# floral sv count: sv") && md.contains("## Setup") && md.contains("## Study file"), "{md}");
    assert!(md.contains("One test point is worth") && md.contains(&format!("`{}`", study.hash())), "{md}");
    let cells = stored.results["cells"].as_array().unwrap();
    assert!(cells.iter().all(|c| c["n_sv"].as_u64().unwrap() > 0 && c["test_accuracy"].as_f64().unwrap() > 0.5));
    for index in 0..2 {
        let r = run_stored(study.as_ref(), &scratch("shard"), Some(Shard { index, count: 2 }), false, &|_| {});
        assert_eq!(r.unwrap().run.computed, 2, "shard {index}/2 computes its two cells");
    }
    let e = load_sv_count(&TEXT.replace("c: 1.0", "c: -1.0"), Path::new("sv.ron")).unwrap_err();
    assert!(e.is_input_error() && e.to_string().contains("field `c`"), "{e}");
}

#[test]
fn contributing_shows_this_file_and_it_stays_under_200_lines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let this = std::fs::read_to_string(root.join("tests/example_kind.rs")).unwrap();
    let contributing = std::fs::read_to_string(root.join("CONTRIBUTING.md")).unwrap();
    let kind_part: String = this.split("const TEXT").next().unwrap().to_string();
    assert!(contributing.contains(kind_part.trim()), "CONTRIBUTING.md must show tests/example_kind.rs's kind verbatim");
    assert!(kind_part.lines().count() <= 200, "the example kind takes {} lines", kind_part.lines().count());
}
