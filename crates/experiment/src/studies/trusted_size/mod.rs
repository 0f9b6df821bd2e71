//! The trusted-set-size study (`TrustedSize(...)`): how much clean trusted data does a defence
//! need, and does it beat simply training an SVM on that data?
//!
//! For every size s in `sizes`, each seed's validation (trusted) split is subsampled to s
//! points, stratified and nested (per class, the points in one seeded shuffled order, the first
//! round(s · m_c / m) kept, m_c the class's count among the m validation points), and the whole
//! experiment (methods × poison levels × seeds) runs on it. The offline attacks always see the
//! full validation split, so the poisoned training labels do not change with s. An SVM on the
//! trusted points alone and one on train ∪ trusted are always in the comparison.

mod report;
pub mod spec;

use std::path::Path;

use floral_data::{Dataset, NamedStream, Split, named_stream};
use rand::seq::SliceRandom;

pub use spec::TrustedSizeSpec;

use crate::frame::{CellId, Kind};
use crate::frame::{Study, StudyHeader, StudyOutput};
use crate::run::{CellRecord, ExperimentGroup, GroupRecord, Job};
use crate::spec::{BaselineSpec, DefenceSpec, ExperimentSpec, MethodSpec};
use crate::{ExperimentError, Plan};

/// A checked trusted-size study.
#[derive(Debug)]
pub struct TrustedSize {
    spec: TrustedSizeSpec,
    /// The experiment on the full validation split (what each size's plan is derived from).
    base: Plan,
    /// Per seed, per class, the validation indices in the seeded order subsets are taken from.
    orders: Vec<[Vec<usize>; 2]>,
    /// The plan of each trusted size, in `sizes` order.
    plans: Vec<Plan>,
    /// The study's canonical RON (the spec with the trusted SVMs added) and content hash.
    canonical: String,
    hash: String,
}

/// Parse and check a `TrustedSize(...)` RON text.
///
/// # Errors
/// [`ExperimentError::Parse`] or [`ExperimentError::Invalid`] naming the field.
pub fn load(text: &str, path: &Path) -> Result<Box<dyn Study>, ExperimentError> {
    Ok(crate::frame::boxed(check(crate::frame::load::parse_ron(text, path)?, path)?))
}

/// The indices of the stratified, nested subset of `size` points (sorted).
fn subset(orders: &[Vec<usize>; 2], size: usize, m: usize) -> Vec<usize> {
    let mut idx = Vec::new();
    for o in orders {
        let k = ((size as f64 * o.len() as f64 / m as f64).round() as usize).min(o.len());
        idx.extend_from_slice(&o[..k]);
    }
    idx.sort_unstable();
    idx
}

/// Check a trusted-size spec: the shared fields as an experiment, a validation split on every
/// seed, sizes that leave both classes in every subset.
///
/// # Errors
/// [`ExperimentError::Invalid`] naming the field.
pub fn check(mut spec: TrustedSizeSpec, path: &Path) -> Result<TrustedSize, ExperimentError> {
    if spec.sizes.is_empty() {
        return Err(ExperimentError::invalid(path, "sizes", "at least one trusted-set size", "[]"));
    }
    for (j, w) in spec.sizes.windows(2).enumerate() {
        if w[1] <= w[0] {
            return Err(ExperimentError::invalid(
                path,
                format!("sizes[{}]", j + 1),
                format!("a size above {}", w[0]),
                w[1],
            ));
        }
    }
    if let Some(c) = spec.trusted_c {
        if !(c.is_finite() && c > 0.0) {
            return Err(ExperimentError::invalid(path, "trusted_c", "a finite number > 0", c));
        }
    }
    // The data first: without a validation split there is no trusted set to vary.
    let probe = crate::plan::check_base(
        &spec.name,
        spec.seeds.clone(),
        spec.data.clone(),
        spec.poison.clone(),
        spec.kernel.clone(),
        path,
    )?;
    if probe.clean.iter().any(|s| s.validation.is_none()) {
        return Err(ExperimentError::invalid(
            path,
            "data",
            "a validation split (the trusted set whose size the study varies; e.g. validation_fraction > 0)",
            "no validation split",
        ));
    }
    let c = spec.trusted_c.unwrap_or_else(|| {
        spec.methods
            .iter()
            .find_map(|m| match m {
                MethodSpec::Svm { c, .. } => Some(*c),
                _ => None,
            })
            .unwrap_or(1.0)
    });
    for (pool, name) in [
        (floral_defense::TrustedPool::Trusted, "svm-trusted"),
        (floral_defense::TrustedPool::TrainAndTrusted, "svm-train+trusted"),
    ] {
        let present = spec.methods.iter().any(
            |m| matches!(m, MethodSpec::Baseline(b) if matches!(&b.defence, DefenceSpec::TrustedSvm(p) if p.pool == pool)),
        );
        if !present {
            spec.methods.push(MethodSpec::Baseline(BaselineSpec {
                name: name.into(),
                defence: DefenceSpec::TrustedSvm(floral_defense::TrustedSvmParams { c, pool }),
            }));
        }
    }
    let exp = ExperimentSpec {
        name: spec.name.clone(),
        description: spec.description.clone(),
        seeds: spec.seeds.clone(),
        data: spec.data.clone(),
        poison: spec.poison.clone(),
        kernel: spec.kernel.clone(),
        methods: spec.methods.clone(),
        record_every: spec.record_every,
        decision_plots: false,
    };
    let base = crate::plan::check(exp, path)?;
    let mut orders = Vec::new();
    for (si, s) in base.clean.iter().enumerate() {
        let Some(v) = &s.validation else { continue };
        let mut rng = named_stream(base.spec.seeds[si], NamedStream::TrustedSubset);
        let mut o: [Vec<usize>; 2] = [Vec::new(), Vec::new()];
        for (ci, class) in [-1.0, 1.0].into_iter().enumerate() {
            o[ci] = (0..v.n()).filter(|&i| v.y().get(i) == class).collect();
            o[ci].shuffle(&mut rng);
        }
        for (j, &size) in spec.sizes.iter().enumerate() {
            if size > v.n() {
                return Err(ExperimentError::invalid(
                    path,
                    format!("sizes[{j}]"),
                    format!("at most the validation split's {} points", v.n()),
                    size,
                ));
            }
            let idx = subset(&o, size, v.n());
            let pos = idx.iter().filter(|&&i| v.y().get(i) > 0.0).count();
            if pos == 0 || pos == idx.len() {
                return Err(ExperimentError::invalid(
                    path,
                    format!("sizes[{j}]"),
                    "a size whose stratified subset holds both classes (the trusted SVMs need two)",
                    format!("{size} (seed {}: {pos} of {} points positive)", base.spec.seeds[si], idx.len()),
                ));
            }
        }
        orders.push(o);
    }
    let (canonical, hash) = crate::frame::load::canonical_and_hash(&spec, &base.data_files)?;
    let mut study = TrustedSize { spec, base, orders, plans: Vec::new(), canonical, hash };
    study.plans = study.spec.sizes.iter().map(|&s| study.plan_for(s)).collect();
    Ok(study)
}

impl TrustedSize {
    /// The plan of one trusted size: the base plan with each seed's validation split cut to
    /// its stratified subset; the offline attacks keep the full validation split.
    fn plan_for(&self, size: usize) -> Plan {
        let b = &self.base;
        let clean: Vec<Split> = b
            .clean
            .iter()
            .zip(&self.orders)
            .map(|(s, o)| {
                let mut s = s.clone();
                if let Some(v) = &s.validation {
                    let idx = subset(o, size, v.n());
                    s.validation = Some(v.select(&idx));
                }
                s
            })
            .collect();
        Plan {
            spec: b.spec.clone(),
            source: b.source.clone(),
            canonical: b.canonical.clone(),
            hash: b.hash.clone(),
            data_files: b.data_files.clone(),
            kernel: b.kernel.clone(),
            variant_kernels: b.variant_kernels.clone(),
            groups: crate::plan::group_by_points(&clean),
            clean,
            levels: b.levels.clone(),
            poison_names: b.poison_names.clone(),
            methods: b.methods.clone(),
            memory: b.memory,
            attack_validation: Some(b.clean.iter().map(|s| s.validation.clone()).collect::<Vec<Option<Dataset>>>()),
        }
    }
}

/// A cell of the study: the trusted size's index and the experiment job at that size.
#[derive(Debug, Clone, Copy)]
pub struct SizedJob {
    size: usize,
    job: Job,
}

impl TrustedSize {
    /// (size index, group index within that size's plan) of a study-wide group index.
    fn locate(&self, g: usize) -> Option<(usize, usize)> {
        let mut g = g;
        for (si, p) in self.plans.iter().enumerate() {
            if g < p.groups.len() {
                return Some((si, g));
            }
            g -= p.groups.len();
        }
        None
    }
}

impl Kind for TrustedSize {
    type What = SizedJob;
    type Group = ExperimentGroup;
    type GroupRecord = GroupRecord;
    type Cell = CellRecord;
    const KIND: &'static str = "TrustedSize";

    fn header(&self) -> StudyHeader<'_> {
        StudyHeader { name: &self.spec.name, source: &self.base.source, canonical: &self.canonical, hash: &self.hash }
    }
    fn describe(&self) -> Vec<String> {
        let mut d = self.base.describe();
        d.insert(
            0,
            format!(
                "trusted sizes {} (each a full run of the experiment below)",
                self.spec.sizes.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")
            ),
        );
        d
    }
    fn groups(&self) -> usize {
        self.plans.iter().map(|p| p.groups.len()).sum()
    }
    /// Every size's experiment cells, sizes in order; keys and labels carry the size.
    fn cells(&self) -> Vec<CellId<SizedJob>> {
        let mut out = Vec::new();
        let mut offset = 0;
        for (si, (plan, &size)) in self.plans.iter().zip(&self.spec.sizes).enumerate() {
            for c in plan.cells() {
                out.push(CellId {
                    group: offset + c.group,
                    key: format!("t{size}-{}", c.key),
                    label: format!("trusted {size} / {}", c.label),
                    what: SizedJob { size: si, job: c.what },
                });
            }
            offset += plan.groups.len();
        }
        out
    }
    fn build_group(&self, g: usize) -> Result<(ExperimentGroup, GroupRecord), ExperimentError> {
        let (si, pg) = self.locate(g).ok_or_else(|| ExperimentError::Run {
            what: "trusted size".into(),
            message: format!("group {g} out of range"),
        })?;
        self.plans[si].build_group(pg)
    }
    fn compute(&self, group: &ExperimentGroup, cell: &CellId<SizedJob>) -> Result<CellRecord, ExperimentError> {
        let plan = &self.plans[cell.what.size];
        let inner = CellId { group: cell.group, key: String::new(), label: String::new(), what: cell.what.job };
        plan.compute(group, &inner)
    }
    fn report(&self, groups: Vec<GroupRecord>, cells: Vec<CellRecord>) -> Result<StudyOutput, ExperimentError> {
        let mut groups = groups.into_iter();
        let mut cells = cells.into_iter();
        let mut per_size = Vec::with_capacity(self.plans.len());
        for plan in &self.plans {
            let g: Vec<GroupRecord> = groups.by_ref().take(plan.groups.len()).collect();
            let c: Vec<CellRecord> = cells.by_ref().take(crate::job_count(plan)).collect();
            per_size.push(crate::run::executed(plan, g, c)?.results);
        }
        Ok(self.render(&per_size))
    }
    fn memory(&self) -> Option<&crate::memory::MemoryEstimate> {
        Some(&self.base.memory)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    const TINY: &str = r#"TrustedSize(
        name: "ts",
        seeds: [1, 2],
        data: Moons(n: 120, noise: 0.2, validation_fraction: 0.25, test_fraction: 0.3),
        poison: [Clean, Attack(fraction: 0.1, attack: Random)],
        kernel: Rbf(gamma: 1.0),
        methods: [Svm(name: "svm", c: 1.0)],
        sizes: [10, 30],
    )"#;

    #[test]
    fn the_trusted_size_study_shards_merge_and_resume_byte_for_byte() {
        let src = Path::new("ts.ron");
        crate::frame::testing::assert_shards_merge_to_the_whole_run(TINY, src, "trusted-size-shards");
        crate::frame::testing::assert_resume_recomputes_only_missing_cells(TINY, src, "trusted-size-resume");
    }
}
