//! The trusted-set-size study (`TrustedSize(...)`): how much clean trusted data does a defence
//! need, and does it beat simply training an SVM on that data?
//!
//! For every size s in `sizes`, each seed's validation (trusted) split is subsampled to s
//! points, stratified and nested (per class, the points in one seeded shuffled order, the first
//! round(s · m_c / m) kept, m_c the class's count among the m validation points), and the whole
//! experiment (methods × poison levels × seeds) runs on it. The offline attacks always see the
//! full validation split, so the poisoned training labels do not change with s. An SVM on the
//! trusted points alone and one on train ∪ trusted are always in the comparison.

use std::path::Path;

use floral_data::{Dataset, Split, Stream, stream};
use floral_report::{Block, Cell, Document, Figure, LinePlot, Plot, Series, Table, fmt_fixed};
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::evaluation::{RowKey, paired, row_accuracies, row_keys};
use crate::names::slug;
use crate::render::mean_std;
use crate::spec::{BaselineSpec, DataSpec, DefenceSpec, ExperimentSpec, KernelSpec, MethodSpec, PoisonSpec};
use crate::study::{Study, StudyOutput};
use crate::{ExperimentError, Plan, RunResult};

/// A trusted-set-size study.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename = "TrustedSize")]
pub struct TrustedSizeSpec {
    /// Name; the default output directory is `reports/<name>`.
    pub name: String,
    /// One free-text line shown under the title (the question).
    #[serde(default)]
    pub description: String,
    /// Replication seeds.
    pub seeds: Vec<u64>,
    /// The data (it must give a validation split: the trusted set).
    pub data: DataSpec,
    /// Poisoning levels of the training labels.
    pub poison: Vec<PoisonSpec>,
    /// The kernel.
    pub kernel: KernelSpec,
    /// The methods compared (the two trusted-data SVMs are added when missing).
    pub methods: Vec<MethodSpec>,
    /// Trusted-set sizes, increasing; each at most the validation split's size.
    pub sizes: Vec<usize>,
    /// C of the trusted-data SVMs added when the methods lack them (default: the C of the
    /// first `Svm` method, else 1).
    #[serde(default)]
    pub trusted_c: Option<f64>,
    /// Record FLORAL's metrics every this many rounds.
    #[serde(default = "ten")]
    pub record_every: usize,
}

fn ten() -> usize {
    10
}

/// Salt of the subsampling stream: the trusted subsets are drawn apart from the data split.
const SUBSAMPLE_SALT: u64 = 0x7472_7573_7465_6421;

/// A checked trusted-size study.
#[derive(Debug)]
pub struct TrustedSize {
    spec: TrustedSizeSpec,
    /// The experiment on the full validation split (what each size's plan is derived from).
    base: Plan,
    /// Per seed, per class, the validation indices in the seeded order subsets are taken from.
    orders: Vec<[Vec<usize>; 2]>,
}

fn invalid(path: &Path, field: impl Into<String>, expected: impl Into<String>, got: impl ToString) -> ExperimentError {
    ExperimentError::invalid(path, field, expected, got)
}

/// Parse and check a `TrustedSize(...)` RON text.
///
/// # Errors
/// [`ExperimentError::Parse`] or [`ExperimentError::Invalid`] naming the field.
pub fn load(text: &str, path: &Path) -> Result<Box<dyn Study>, ExperimentError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let spec: TrustedSizeSpec = ron::Options::default().from_str(text).map_err(|e| ExperimentError::Parse {
        path: path.to_path_buf(),
        line: e.span.start.line,
        col: e.span.start.col,
        message: e.code.to_string(),
    })?;
    Ok(Box::new(check(spec, path)?))
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
        return Err(invalid(path, "sizes", "at least one trusted-set size", "[]"));
    }
    for (j, w) in spec.sizes.windows(2).enumerate() {
        if w[1] <= w[0] {
            return Err(invalid(path, format!("sizes[{}]", j + 1), format!("a size above {}", w[0]), w[1]));
        }
    }
    if let Some(c) = spec.trusted_c {
        if !(c.is_finite() && c > 0.0) {
            return Err(invalid(path, "trusted_c", "a finite number > 0", c));
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
        return Err(invalid(
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
        let mut rng = stream(base.spec.seeds[si] ^ SUBSAMPLE_SALT, Stream::Data);
        let mut o: [Vec<usize>; 2] = [Vec::new(), Vec::new()];
        for (ci, class) in [-1.0, 1.0].into_iter().enumerate() {
            o[ci] = (0..v.n()).filter(|&i| v.y().get(i) == class).collect();
            o[ci].shuffle(&mut rng);
        }
        for (j, &size) in spec.sizes.iter().enumerate() {
            if size > v.n() {
                return Err(invalid(
                    path,
                    format!("sizes[{j}]"),
                    format!("at most the validation split's {} points", v.n()),
                    size,
                ));
            }
            let idx = subset(&o, size, v.n());
            let pos = idx.iter().filter(|&&i| v.y().get(i) > 0.0).count();
            if pos == 0 || pos == idx.len() {
                return Err(invalid(
                    path,
                    format!("sizes[{j}]"),
                    "a size whose stratified subset holds both classes (the trusted SVMs need two)",
                    format!("{size} (seed {}: {pos} of {} points positive)", base.spec.seeds[si], idx.len()),
                ));
            }
        }
        orders.push(o);
    }
    Ok(TrustedSize { spec, base, orders })
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

/// One measured point: a row at a poison level and a trusted size.
#[derive(Debug, Clone, Serialize)]
struct Point {
    method: String,
    poison: String,
    size: usize,
    test_accuracy: Vec<f64>,
    mean: f64,
    std: f64,
}

impl Study for TrustedSize {
    fn kind(&self) -> &'static str {
        "TrustedSize"
    }
    fn name(&self) -> &str {
        &self.spec.name
    }
    fn jobs(&self) -> usize {
        crate::job_count(&self.base) * self.spec.sizes.len()
    }
    fn describe(&self) -> Vec<String> {
        let mut d = crate::frame::Kind::describe(&self.base);
        d.insert(
            0,
            format!(
                "trusted sizes {} (each a full run of the experiment below)",
                self.spec.sizes.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")
            ),
        );
        d
    }
    fn hash(&self) -> Option<&str> {
        Some(&self.base.hash)
    }
    fn run(&self, progress: &(dyn Fn(&str) + Sync)) -> Result<StudyOutput, ExperimentError> {
        let sizes = &self.spec.sizes;
        let mut per_size: Vec<(Plan, Vec<RunResult>)> = Vec::new();
        for &size in sizes {
            let plan = self.plan_for(size);
            let tag = format!("trusted {size} / ");
            let ran = crate::execute(&plan, &|s: &str| progress(&format!("{tag}{s}")))?;
            per_size.push((plan, ran.results));
        }
        let (plan0, res0) = &per_size[0];
        let keys = row_keys(plan0, res0);
        let mut points = Vec::new();
        for (p, pname) in self.base.poison_names.iter().enumerate() {
            for k in &keys {
                for ((plan, results), &size) in per_size.iter().zip(sizes) {
                    let a = row_accuracies(plan, results, k, p);
                    let (mean, std) = mean_std(&a);
                    points.push(Point {
                        method: k.label.clone(),
                        poison: pname.clone(),
                        size,
                        test_accuracy: a,
                        mean,
                        std,
                    });
                }
            }
        }
        let document = self.document(&keys, &per_size, &points);
        let results = json!({
            "kind": "TrustedSize",
            "name": self.spec.name,
            "floral_version": env!("CARGO_PKG_VERSION"),
            "hash": self.base.hash,
            "spec": ron::ser::to_string_pretty(&self.spec, ron::ser::PrettyConfig::new().struct_names(true)).unwrap_or_default(),
            "sizes": sizes,
            "seeds": self.spec.seeds,
            "poison": self.base.poison_names,
            "points": points,
        });
        let summary = points
            .iter()
            .filter(|pt| pt.size == *sizes.last().unwrap_or(&0) || pt.size == sizes[0])
            .map(|pt| {
                format!(
                    "{:<28} {:<16} trusted {:>4}: test accuracy {} ± {}",
                    pt.method,
                    pt.poison,
                    pt.size,
                    fmt_fixed(pt.mean, 3),
                    fmt_fixed(pt.std, 3)
                )
            })
            .collect();
        Ok(StudyOutput { document, results, summary, warnings: Vec::new() })
    }
}

fn acc(v: f64) -> String {
    fmt_fixed(v, 3)
}

impl TrustedSize {
    fn document(&self, keys: &[RowKey], per_size: &[(Plan, Vec<RunResult>)], points: &[Point]) -> Document {
        let sizes = &self.spec.sizes;
        let b = &self.base;
        let mut doc = Document::new(format!("floral report: {}", self.spec.name));
        if !self.spec.description.is_empty() {
            doc.push(Block::Paragraph(self.spec.description.clone()));
        }
        let s0 = &b.clean[0];
        doc.push(Block::Paragraph(format!(
            "Command: `floral run` on this file. Training points: {}, full validation (trusted) split: {}, test: {} (clean labels), features: {}. Seeds: {}. Trusted sizes: {}; each seed's trusted set at size s is a stratified subset of its validation split, nested across sizes (drawn from a stream of the seed of its own). The offline attacks see the full validation split at every size, so the poisoned training labels are the same for every size. Content hash of the underlying experiment: `{}`.",
            s0.train.n(),
            s0.validation.as_ref().map_or(0, Dataset::n),
            s0.test.n(),
            s0.train.dim(),
            b.spec.seeds.iter().map(u64::to_string).collect::<Vec<_>>().join(", "),
            sizes.iter().map(usize::to_string).collect::<Vec<_>>().join(", "),
            b.hash
        )));
        doc.push(Block::Paragraph(format!(
            "{} At each size the trusted subset is drawn per seed as well.",
            crate::evaluation::variation_text(b)
        )));
        if let Some((plan, results)) = per_size.last() {
            let mut t = crate::evaluation::budget_table(plan, results, keys);
            t.caption = Some(format!(
                "Validation budget and trusted data at the largest size ({}); at size s the trusted points are s.",
                sizes.last().copied().unwrap_or(0)
            ));
            doc.push(Block::Table(t));
        }
        let ta = keys.iter().find(|k| {
            matches!(&b.spec.methods[k.method], MethodSpec::Baseline(bs) if matches!(&bs.defence, DefenceSpec::TrustedSvm(p) if p.pool == floral_defense::TrustedPool::Trusted))
        });
        let mut answers = Vec::new();
        let mut figs = Vec::new();
        for pname in &b.poison_names {
            doc.push(Block::Heading { level: 2, text: format!("Training labels: {pname}") });
            let mut headers = vec!["method".to_string()];
            headers.extend(sizes.iter().map(|s| format!("trusted {s}")));
            let rows =
                keys.iter()
                    .map(|k| {
                        let mut cells = vec![Cell::Text(k.label.clone())];
                        for &size in sizes {
                            let pt =
                                points.iter().find(|x| x.method == k.label && x.poison == *pname && x.size == size);
                            cells.push(pt.filter(|x| !x.test_accuracy.is_empty()).map_or(Cell::Missing, |x| {
                                Cell::MeanStdFixed { mean: x.mean, std: x.std, decimals: 3 }
                            }));
                        }
                        cells
                    })
                    .collect();
            doc.push(Block::Table(Table {
                caption: Some(format!(
                    "Test accuracy (mean ± std over {} seeds) against the size of the trusted set, training labels {pname}.",
                    b.spec.seeds.len()
                )),
                headers,
                rows,
            }));
            let series = keys
                .iter()
                .map(|k| Series {
                    name: k.label.clone(),
                    points: points
                        .iter()
                        .filter(|x| x.method == k.label && x.poison == *pname && !x.test_accuracy.is_empty())
                        .map(|x| (x.size as f64, x.mean))
                        .collect(),
                    band: None,
                })
                .collect();
            figs.push(Figure {
                file: format!("trusted_size_{}.svg", slug(pname)),
                caption: format!("Test accuracy vs trusted-set size, training labels {pname} (mean over seeds)."),
                plot: Plot::Lines(LinePlot {
                    title: format!("Test accuracy vs trusted size ({pname})"),
                    x_label: "trusted (validation) points".into(),
                    y_label: "test accuracy".into(),
                    series,
                    y_range: None,
                }),
            });
            // The answer at this level: per size, the best row and the best trusted-data user
            // against the SVM on the trusted points alone (paired over seeds).
            let Some(ta) = ta else { continue };
            let mut verdicts = Vec::new();
            for &size in sizes {
                let at =
                    |label: &str| points.iter().find(|x| x.method == label && x.poison == *pname && x.size == size);
                let Some(tap) = at(&ta.label) else { continue };
                let best = points
                    .iter()
                    .filter(|x| {
                        x.poison == *pname && x.size == size && x.method != ta.label && !x.test_accuracy.is_empty()
                    })
                    .max_by(|a, b| a.mean.total_cmp(&b.mean));
                let Some(best) = best else { continue };
                let v = match paired(&best.test_accuracy, &tap.test_accuracy) {
                    Some((d, lo, hi, wins, n)) => format!(
                        "{size}: best other row {} {} vs {} {} (paired difference {}, 95 % t interval [{}, {}], better on {wins} of {n} seeds{})",
                        best.method,
                        acc(best.mean),
                        ta.label,
                        acc(tap.mean),
                        fmt_fixed(d, 3),
                        fmt_fixed(lo, 3),
                        fmt_fixed(hi, 3),
                        if lo > 0.0 {
                            ""
                        } else if hi < 0.0 {
                            "; worse"
                        } else {
                            "; no difference shown"
                        }
                    ),
                    None => format!(
                        "{size}: best other row {} {} vs {} {}",
                        best.method,
                        acc(best.mean),
                        ta.label,
                        acc(tap.mean)
                    ),
                };
                verdicts.push(v);
            }
            answers.push(format!("{pname}: {}.", verdicts.join("; ")));
        }
        if !answers.is_empty() {
            doc.push(Block::Heading { level: 2, text: "What this shows".into() });
            doc.push(Block::Paragraph(
                "Per poison level and trusted size, the most accurate row other than the SVM on the trusted points alone, compared with that SVM (paired over seeds):".into(),
            ));
            doc.push(Block::List(answers));
            doc.push(Block::Paragraph(format!(
                "Limits: one data set; {} seeds; the defences' own settings are fixed (not re-tuned per size), except where a method's grid is chosen on the trusted subset itself.",
                b.spec.seeds.len()
            )));
        }
        doc.push(Block::Heading { level: 2, text: "Plots".into() });
        for f in figs {
            doc.push(Block::Figure(f));
        }
        doc.push(Block::Heading { level: 2, text: "Study".into() });
        doc.push(Block::Code {
            lang: "ron".into(),
            text: ron::ser::to_string_pretty(&self.spec, ron::ser::PrettyConfig::new().struct_names(true))
                .unwrap_or_default(),
        });
        doc
    }
}
