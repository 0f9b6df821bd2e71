//! The `AttackStudy` kind: an experiment (methods × poison levels × seeds) asked an attack
//! question, with a measured answer. It runs the embedded `Experiment` exactly as `floral run`
//! would (its cells, groups and store are the experiment's), keeps its report, and adds the
//! question, the budgets, an answer written from the measured numbers, and the limits.
//! `Formulations` also plots where each in-game attacker's flips lie relative to a clean SVM's
//! boundary: one more cell per compared formulation, which replays its game with a recording
//! attacker ([`flips`]), so the report only reads stored results.

mod flips;
mod report;
pub mod spec;

use std::path::Path;

pub use spec::{AnswerSpec, AttackStudySpec, Comparison};

use crate::frame::{CellId, Kind};
use crate::frame::{Study, StudyHeader, StudyOutput};
use crate::run::{CellRecord, ExperimentGroup, GroupRecord, Job};
use crate::spec::{ExperimentSpec, MethodSpec};
use crate::{ExperimentError, Plan};

/// A checked attack study.
#[derive(Debug)]
pub struct AttackStudy {
    spec: AttackStudySpec,
    plan: Plan,
    canonical: String,
    hash: String,
}

/// Parse and check an `AttackStudy(...)` text.
///
/// # Errors
/// A parse error with line and column, the experiment's own check errors, or a name in
/// `answer` that is not a method or poison level of the experiment.
pub fn load(text: &str, path: &Path) -> Result<Box<dyn Study>, ExperimentError> {
    let spec: AttackStudySpec = crate::frame::load::parse_ron(text, path)?;
    let plan = crate::check(spec.experiment.clone(), path)?;
    let methods: Vec<&str> = spec.experiment.methods.iter().map(method_name).collect();
    let method = |field: &str, m: &str| {
        if methods.contains(&m) {
            Ok(())
        } else {
            Err(ExperimentError::invalid(path, field, format!("one of the methods {}", methods.join(", ")), m))
        }
    };
    let level = |field: &str, l: &str| {
        if plan.poison_names.iter().any(|p| p == l) {
            Ok(())
        } else {
            Err(ExperimentError::invalid(
                path,
                field,
                format!("one of the poison levels {}", plan.poison_names.join(", ")),
                l,
            ))
        }
    };
    match &spec.answer {
        AnswerSpec::Formulations { stackelberg, zero_sum, svm, .. } => {
            method("answer.stackelberg", stackelberg)?;
            method("answer.svm", svm)?;
            for z in zero_sum {
                method("answer.zero_sum", z)?;
            }
            for m in std::iter::once(stackelberg).chain(zero_sum) {
                if floral_spec(&spec.experiment, m).is_none() {
                    return Err(ExperimentError::invalid(path, "answer", "a FLORAL method", m));
                }
            }
        }
        AnswerSpec::Adaptive { comparisons, .. } => {
            if comparisons.is_empty() {
                return Err(ExperimentError::invalid(path, "answer.comparisons", "at least one", 0));
            }
            for c in comparisons {
                level("answer.comparisons.adaptive", &c.adaptive)?;
                if c.oblivious.is_empty() {
                    return Err(ExperimentError::invalid(path, "answer.comparisons.oblivious", "at least one", 0));
                }
                for o in &c.oblivious {
                    level("answer.comparisons.oblivious", o)?;
                }
            }
        }
    }
    let (canonical, hash) = crate::frame::load::canonical_and_hash(&spec, &plan.data_files)?;
    Ok(crate::frame::boxed(AttackStudy { spec, plan, canonical, hash }))
}

pub(crate) fn method_name(m: &MethodSpec) -> &str {
    match m {
        MethodSpec::Floral(f) => &f.name,
        MethodSpec::Baseline(b) => &b.name,
        MethodSpec::Svm { name, .. } => name,
    }
}

pub(crate) fn floral_spec<'a>(e: &'a ExperimentSpec, name: &str) -> Option<&'a crate::spec::FloralSpec> {
    e.methods.iter().find_map(|m| match m {
        MethodSpec::Floral(f) if f.name == name => Some(f.as_ref()),
        _ => None,
    })
}

/// One cell of an attack study: a run of the experiment, or one formulation's flip replay.
#[derive(Debug, Clone)]
pub enum AttackWhat {
    /// A cell of the embedded experiment.
    Run(Job),
    /// Replay the named FLORAL method's game and place its flips (Formulations only).
    Flips(String),
}

/// A stored cell of an attack study.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub enum AttackCell {
    /// A cell of the embedded experiment.
    Run(Box<CellRecord>),
    /// One formulation's flips placed by a clean SVM's margin.
    Flips(flips::FlipMargins),
}

impl AttackStudy {
    /// The FLORAL methods whose flips a Formulations answer places (none for Adaptive).
    fn replayed(&self) -> Vec<String> {
        match &self.spec.answer {
            AnswerSpec::Formulations { stackelberg, zero_sum, .. } => {
                std::iter::once(stackelberg.clone()).chain(zero_sum.iter().cloned()).collect()
            }
            AnswerSpec::Adaptive { .. } => Vec::new(),
        }
    }
}

impl Kind for AttackStudy {
    type What = AttackWhat;
    type Group = ExperimentGroup;
    type GroupRecord = GroupRecord;
    type Cell = AttackCell;
    const KIND: &'static str = "AttackStudy";

    fn header(&self) -> StudyHeader<'_> {
        StudyHeader {
            name: &self.plan.spec.name,
            source: &self.plan.source,
            canonical: &self.canonical,
            hash: &self.hash,
        }
    }
    fn describe(&self) -> Vec<String> {
        self.plan.describe()
    }
    fn groups(&self) -> usize {
        self.plan.groups()
    }
    fn cells(&self) -> Vec<CellId<AttackWhat>> {
        let mut cells: Vec<CellId<AttackWhat>> = self
            .plan
            .cells()
            .into_iter()
            .map(|c| CellId { group: c.group, key: c.key, label: c.label, what: AttackWhat::Run(c.what) })
            .collect();
        // The replays read the first poison level of the first seed: they join that seed's group.
        let group = self.plan.groups.iter().position(|g| g.contains(&0)).unwrap_or(0);
        for (i, m) in self.replayed().into_iter().enumerate() {
            let label = format!("{m} / flip replay");
            cells.push(CellId { group, key: format!("flips-{i}"), label, what: AttackWhat::Flips(m) });
        }
        cells
    }
    fn build_group(&self, g: usize) -> Result<(ExperimentGroup, GroupRecord), ExperimentError> {
        self.plan.build_group(g)
    }
    fn compute(&self, group: &ExperimentGroup, cell: &CellId<AttackWhat>) -> Result<AttackCell, ExperimentError> {
        match &cell.what {
            AttackWhat::Run(job) => {
                let c = CellId { group: cell.group, key: cell.key.clone(), label: cell.label.clone(), what: *job };
                Ok(AttackCell::Run(Box::new(self.plan.compute(group, &c)?)))
            }
            AttackWhat::Flips(m) => Ok(AttackCell::Flips(self.flip_margins(group, m)?)),
        }
    }
    fn report(&self, groups: Vec<GroupRecord>, cells: Vec<AttackCell>) -> Result<StudyOutput, ExperimentError> {
        let (mut runs, mut flips) = (Vec::new(), Vec::new());
        for c in cells {
            match c {
                AttackCell::Run(r) => runs.push(*r),
                AttackCell::Flips(f) => flips.push(f),
            }
        }
        Ok(self.render(&crate::run::executed(&self.plan, groups, runs)?, &flips))
    }
    fn memory(&self) -> Option<&crate::memory::MemoryEstimate> {
        Some(&self.plan.memory)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn text(answer: &str) -> String {
        format!(
            r#"AttackStudy(question: "q", budgets: [], variation: "v", limits: [], answer: {answer},
            experiment: Experiment(name: "t", seeds: [1],
                data: Moons(n: 60, noise: 0.2, validation_fraction: 0.2, test_fraction: 0.3),
                poison: [Clean, Attack(fraction: 0.1, attack: KnnAware(()))], kernel: Rbf(gamma: 1.0),
                methods: [Floral((name: "f", learner: (c: 1.0, eta: 0.05, schedule: Constant), attacker: ZeroSum((k: 2)), rounds: 5)),
                          Svm(name: "svm", c: 1.0)]))"#
        )
    }

    fn err(t: &str) -> String {
        match load(t, Path::new("a.ron")) {
            Ok(_) => panic!("loaded"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn answer_names_must_exist() {
        let ok = text(r#"Formulations(rule: "last", stackelberg: "f", zero_sum: [], svm: "svm")"#);
        let s = load(&ok, Path::new("a.ron")).unwrap();
        assert_eq!(s.kind(), "AttackStudy");
        let bad = text(r#"Formulations(rule: "last", stackelberg: "nope", zero_sum: [], svm: "svm")"#);
        let e = err(&bad);
        assert!(e.contains("answer.stackelberg") && e.contains("nope"), "{e}");
        let not_floral = text(r#"Formulations(rule: "last", stackelberg: "svm", zero_sum: [], svm: "svm")"#);
        assert!(err(&not_floral).contains("FLORAL"));
        let bad_level = text(r#"Adaptive(rule: "last", comparisons: [(adaptive: "knn-aware 10%", oblivious: ["x"])])"#);
        let e = err(&bad_level);
        assert!(e.contains("answer.comparisons.oblivious") && e.contains("clean"), "{e}");
    }

    #[test]
    fn a_small_adaptive_study_runs_and_answers_from_its_numbers() {
        let t = text(r#"Adaptive(rule: "last", comparisons: [(adaptive: "knn-aware 10%", oblivious: ["clean"])])"#);
        let s = load(&t, Path::new("a.ron")).unwrap();
        let out = s.run(&|_| {}).unwrap();
        let md = floral_report::render_markdown(&out.document);
        assert!(md.contains("## Answer") && md.contains("## Limits") && md.contains("- Budgets: "), "{md}");
        let answer = out.results["answer"]["numbers"].as_object().unwrap();
        // One entry per method, each a measured difference.
        assert_eq!(answer.len(), 2);
        for v in answer.values() {
            assert!(v["delta"].as_f64().unwrap().is_finite());
        }
    }

    #[test]
    fn the_attack_study_shards_merge_and_resume_byte_for_byte() {
        let t = text(r#"Formulations(rule: "last", stackelberg: "f", zero_sum: [], svm: "svm")"#);
        let src = Path::new("a.ron");
        crate::frame::testing::assert_shards_merge_to_the_whole_run(&t, src, "attack-study-shards");
        crate::frame::testing::assert_resume_recomputes_only_missing_cells(&t, src, "attack-study-resume");
    }
}
