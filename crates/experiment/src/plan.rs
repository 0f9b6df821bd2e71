//! `parse` → `check` → [`Plan`]: every cross-field check happens here, before anything runs.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use floral_data::{Dataset, Split, Stream, stream};
use floral_defense::Defence;
use floral_svm::Kernel;

use crate::ExperimentError;
pub use crate::frame::load::DataFile;
use crate::memory::MemoryEstimate;
pub use crate::registry::poison_name;
use crate::registry::{self, PlannedPoison};
use crate::spec::{AttackerSpec, DataSpec, ExperimentSpec, FloralSpec, KernelSpec, MethodSpec};

/// The built-in quickstart experiment (what `floral run` runs without a file).
pub const QUICKSTART: &str = include_str!("../../../experiments/quickstart.ron");

/// Parse an experiment from RON text; errors carry `path:line:col`.
///
/// # Errors
/// [`ExperimentError::Parse`].
pub fn parse(text: &str, path: &Path) -> Result<ExperimentSpec, ExperimentError> {
    // A UTF-8 byte-order mark (some editors write one) is not part of the RON text.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    ron::Options::default().from_str::<ExperimentSpec>(text).map_err(|e| ExperimentError::Parse {
        path: path.to_path_buf(),
        line: e.span.start.line,
        col: e.span.start.col,
        message: e.code.to_string(),
    })
}

/// Read and parse an experiment file.
///
/// # Errors
/// [`ExperimentError::Io`] or [`ExperimentError::Parse`].
pub fn read(path: &Path) -> Result<ExperimentSpec, ExperimentError> {
    let text =
        std::fs::read_to_string(path).map_err(|source| ExperimentError::Io { path: path.to_path_buf(), source })?;
    parse(&text, path)
}

/// One concrete FLORAL setting (a grid point of a tuned method, or the method itself).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FloralVariant {
    /// Human-readable description of what differs from the base setting ("" for the base).
    pub label: String,
    /// The full setting.
    pub spec: FloralSpec,
    /// When the grid includes output rules: the rule of this grid point.
    pub output: Option<floral_game::OutputRule>,
}

/// What kind of method a planned method is (the report has tables specific to some kinds).
#[derive(Debug, Clone)]
pub enum Family {
    /// Plain SVM; `cs` holds each variant's C, `gammas` its RBF γ when the method has a γ grid.
    Svm {
        /// The values of C, one per variant.
        cs: Vec<f64>,
        /// The values of γ, one per variant (None: the experiment's kernel).
        gammas: Vec<Option<f64>>,
    },
    /// FLORAL; one [`FloralVariant`] per variant.
    Floral {
        /// The variants' full settings.
        variants: Vec<FloralVariant>,
    },
    /// A baseline defence from the registry (one setting).
    Baseline,
}

/// One concrete setting of a method, ready to fit.
#[derive(Debug, Clone)]
pub struct PlannedVariant {
    /// What differs from the base setting ("" for the base).
    pub label: String,
    /// The defence, built by the registry.
    pub defence: Arc<dyn Defence>,
    /// The variant's own kernel: an index into [`Plan::variant_kernels`] (None: the
    /// experiment's kernel, whose matrices every other job shares).
    pub kernel: Option<usize>,
}

/// A checked method: one or more variants (more than one: chosen on validation).
#[derive(Debug, Clone)]
pub struct PlannedMethod {
    /// Name in the report.
    pub name: String,
    /// True when the variants form a grid chosen on the validation split.
    pub tuned: bool,
    /// The variants.
    pub variants: Vec<PlannedVariant>,
    /// The kind of method.
    pub family: Family,
}

/// A checked experiment, ready to run: the clean data per seed, the poison levels, the
/// methods, and which seeds share their points (and so one set of kernel matrices).
#[derive(Debug)]
pub struct Plan {
    /// The spec as parsed.
    pub spec: ExperimentSpec,
    /// Where it came from (`<built-in>` for the quickstart).
    pub source: PathBuf,
    /// The canonical RON of the spec (what the report echoes).
    pub canonical: String,
    /// sha256 of `canonical` (followed, for a `Files` spec, by each data file's role, path and
    /// sha256), hex.
    pub hash: String,
    /// The data files a `Files` spec reads, with their sha256 (empty otherwise).
    pub data_files: Vec<DataFile>,
    /// The kernel.
    pub kernel: Arc<dyn Kernel>,
    /// Kernels of method variants that override the experiment's (an SVM's γ grid), each with
    /// its own kernel matrices per group of seeds.
    pub variant_kernels: Vec<Arc<dyn Kernel>>,
    /// The clean split of each seed, in seed order.
    pub clean: Vec<Split>,
    /// The poison levels, in spec order.
    pub levels: Vec<PlannedPoison>,
    /// Poison level labels, in spec order.
    pub poison_names: Vec<String>,
    /// The methods.
    pub methods: Vec<PlannedMethod>,
    /// Seed indices grouped by identical points (train, validation and test features): each
    /// group gets one Gram matrix and one set of cross-kernels, shared by all its jobs.
    pub groups: Vec<Vec<usize>>,
    /// What a run will hold in memory at its peak, and the limit it was checked against.
    pub memory: MemoryEstimate,
    /// The validation split each seed's offline attack sees when it differs from the
    /// defenders' (the trusted-size study subsamples the defenders' trusted set but leaves the
    /// attacker's knowledge unchanged); None: the clean split's validation.
    pub attack_validation: Option<Vec<Option<Dataset>>>,
}

fn invalid(path: &Path, field: impl Into<String>, expected: impl Into<String>, got: impl ToString) -> ExperimentError {
    ExperimentError::invalid(path, field, expected, got)
}

fn pos_finite(path: &Path, field: &str, v: f64) -> Result<(), ExperimentError> {
    if v.is_finite() && v > 0.0 { Ok(()) } else { Err(invalid(path, field, "a finite number > 0", v)) }
}

pub(crate) fn build_kernel(path: &Path, k: &KernelSpec) -> Result<Arc<dyn Kernel>, ExperimentError> {
    use floral_svm::{Linear, Poly, PolyParams, Rbf, RbfParams};
    let map = |e: floral_svm::SvmError| invalid(path, "kernel", "valid kernel parameters", e);
    Ok(match *k {
        KernelSpec::Linear => Arc::new(Linear::new(floral_svm::LinearParams::default()).map_err(map)?),
        KernelSpec::Rbf { gamma } => {
            pos_finite(path, "kernel.gamma", gamma)?;
            Arc::new(Rbf::new(RbfParams { gamma }).map_err(map)?)
        }
        KernelSpec::Poly { degree, gamma, coef0 } => {
            pos_finite(path, "kernel.gamma", gamma)?;
            if degree == 0 {
                return Err(invalid(path, "kernel.degree", ">= 1", degree));
            }
            Arc::new(Poly::new(PolyParams { degree, gamma, coef0 }).map_err(map)?)
        }
    })
}

fn data_err(path: &Path) -> impl Fn(floral_data::DataError) -> ExperimentError + '_ {
    move |source| ExperimentError::Data { path: path.to_path_buf(), source }
}

pub(crate) fn resolve_relative(base: &Path, file: &str) -> PathBuf {
    let p = PathBuf::from(file);
    if p.is_absolute() {
        return p;
    }
    match base.parent() {
        Some(dir) if !dir.as_os_str().is_empty() && !p.exists() => dir.join(p),
        _ => p,
    }
}

/// Load the clean split of the data for one seed.
fn load_clean(path: &Path, spec: &ExperimentSpec, seed: u64) -> Result<Split, ExperimentError> {
    let de = data_err(path);
    let mut rng = stream(seed, Stream::Data);
    match &spec.data {
        DataSpec::Moons { n, noise, validation_fraction, test_fraction } => {
            let d = floral_data::moons(*n, *noise, &mut rng).map_err(&de)?;
            let s = floral_data::stratified_split(&d, *validation_fraction, *test_fraction, &mut rng).map_err(&de)?;
            floral_data::Standardizer::transform_split(s).map_err(&de)
        }
        DataSpec::Shipped { name, validation_fraction, resplit } => {
            if name == MOON {
                if !*resplit {
                    return floral_data::shipped::moon_floral("train").map_err(&de);
                }
                // The authors' sizes: 500/500/1,000 of the 2,000-point pool (1,000 per class).
                let pool = floral_data::shipped::load_sheet(name, "main").map_err(&de)?;
                let pool = pool.into_binary(&PathBuf::from(format!("{name}:main"))).map_err(&de)?;
                return floral_data::stratified_split(&pool, MOON_VALIDATION_SHARE, MOON_TEST_SHARE, &mut rng)
                    .map_err(&de);
            }
            let train = floral_data::shipped::load_sheet(name, "train").map_err(&de)?;
            let test = floral_data::shipped::load_sheet(name, "test").map_err(&de)?;
            let (mut train, mut test) = binary_pair(train, test, &PathBuf::from(name)).map_err(&de)?;
            if *resplit {
                // Same sizes as the shipped sheets: test share n_test / (n_train + n_test).
                let share = test.n() as f64 / (train.n() + test.n()) as f64;
                let pool = concat(&train, &test).map_err(&de)?;
                let s = floral_data::stratified_split(&pool, 0.0, share, &mut rng).map_err(&de)?;
                (train, test) = (s.train, s.test);
            }
            holdout(train, test, *validation_fraction, &mut rng).map_err(&de)
        }
        DataSpec::GaussianMixture { n, d, params, validation_fraction, test_fraction } => {
            let ds = floral_data::gaussian_mixture(*n, *d, params, &mut rng).map_err(&de)?;
            let s = floral_data::stratified_split(&ds, *validation_fraction, *test_fraction, &mut rng).map_err(&de)?;
            floral_data::Standardizer::transform_split(s).map_err(&de)
        }
        DataSpec::Embeddings { train, train_labels, test, test_labels, validation_fraction, standardize } => {
            let read = |x: &str, y: &Option<String>| -> Result<(PathBuf, floral_data::RawData), ExperimentError> {
                let xp = resolve_relative(path, x);
                let raw = match y {
                    Some(y) => floral_data::read_embeddings(&xp, &resolve_relative(path, y)),
                    None => floral_data::read_npz(&xp, "x", "y"),
                }
                .map_err(&de)?;
                Ok((xp, raw))
            };
            let (tp, mut tr) = read(train, train_labels)?;
            let (sp, mut te) = read(test, test_labels)?;
            floral_data::align_dims_checked(&mut tr, &tp, &mut te, &sp, false).map_err(&de)?;
            let train = tr.into_binary(&tp).map_err(&de)?;
            let test = te.into_binary(&sp).map_err(&de)?;
            let s = holdout(train, test, *validation_fraction, &mut rng).map_err(&de)?;
            if *standardize { floral_data::Standardizer::transform_split(s).map_err(&de) } else { Ok(s) }
        }
        DataSpec::Files { train, validation, test, standardize, pad_features } => {
            let tp = resolve_relative(path, train);
            let sp = resolve_relative(path, test);
            let mut tr = floral_data::read_data_file(&tp).map_err(&de)?;
            let mut te = floral_data::read_data_file(&sp).map_err(&de)?;
            floral_data::align_dims_checked(&mut tr, &tp, &mut te, &sp, *pad_features).map_err(&de)?;
            let mut va = None;
            if let Some(v) = validation {
                let vp = resolve_relative(path, v);
                let mut raw = floral_data::read_data_file(&vp).map_err(&de)?;
                floral_data::align_dims_checked(&mut tr, &tp, &mut raw, &vp, *pad_features).map_err(&de)?;
                floral_data::align_dims_checked(&mut te, &sp, &mut raw, &vp, *pad_features).map_err(&de)?;
                va = Some(raw.into_binary(&vp).map_err(&de)?);
            }
            let train = tr.into_binary(&tp).map_err(&de)?;
            let test = te.into_binary(&sp).map_err(&de)?;
            let s = Split { train_clean: Some(train.y().clone()), train, validation: va, test };
            if *standardize { floral_data::Standardizer::transform_split(s).map_err(&de) } else { Ok(s) }
        }
    }
}

/// The shipped Moon file's name.
const MOON: &str = "moon_floral_seed42";
/// Shares of the Moon pool (2,000 points) a resplit gives validation and test: 500 and 1,000.
const MOON_VALIDATION_SHARE: f64 = 0.25;
const MOON_TEST_SHARE: f64 = 0.5;

/// The points of `a` followed by those of `b` (same width).
fn concat(a: &Dataset, b: &Dataset) -> Result<Dataset, floral_data::DataError> {
    let y = floral_data::Labels::new(a.y().as_slice().iter().chain(b.y().as_slice()).copied().collect())?;
    Dataset::new(stack_rows(a.x(), b.x()), y)
}

fn stack_rows(x: faer::MatRef<'_, f64>, y: faer::MatRef<'_, f64>) -> faer::Mat<f64> {
    faer::Mat::from_fn(
        x.nrows() + y.nrows(),
        x.ncols(),
        |i, j| if i < x.nrows() { x[(i, j)] } else { y[(i - x.nrows(), j)] },
    )
}

fn binary_pair(
    mut a: floral_data::RawData,
    mut b: floral_data::RawData,
    path: &Path,
) -> Result<(Dataset, Dataset), floral_data::DataError> {
    floral_data::align_dims(&mut a, &mut b);
    Ok((a.into_binary(path)?, b.into_binary(path)?))
}

/// Hold out a stratified validation share of the training set (nothing when `fraction` is 0).
fn holdout(
    train: Dataset,
    test: Dataset,
    fraction: f64,
    rng: &mut floral_data::FloralRng,
) -> Result<Split, floral_data::DataError> {
    if fraction <= 0.0 {
        return Ok(Split { train_clean: Some(train.y().clone()), train, validation: None, test });
    }
    // The split's "test" part is the held-out validation share.
    let s = floral_data::stratified_split(&train, 0.0, fraction, rng)?;
    Ok(Split { train_clean: Some(s.train.y().clone()), train: s.train, validation: Some(s.test), test })
}

/// Expand a FLORAL method into its variants (the tuning grid, or itself).
fn variants(f: &FloralSpec) -> Vec<FloralVariant> {
    let Some(t) = &f.tune else {
        return vec![FloralVariant { label: String::new(), spec: f.clone(), output: None }];
    };
    let mut out = vec![(String::new(), f.clone(), None)];
    fn expand<T: Clone>(
        cur: Vec<(String, FloralSpec, Option<floral_game::OutputRule>)>,
        vals: &[T],
        set: impl Fn(&mut FloralSpec, &mut Option<floral_game::OutputRule>, &T) -> String,
    ) -> Vec<(String, FloralSpec, Option<floral_game::OutputRule>)> {
        if vals.is_empty() {
            return cur;
        }
        let mut next = Vec::new();
        for (label, spec, out) in cur {
            for v in vals {
                let (mut s, mut o) = (spec.clone(), out);
                let l = set(&mut s, &mut o, v);
                let label = if label.is_empty() { l } else { format!("{label}, {l}") };
                next.push((label, s, o));
            }
        }
        next
    }
    out = expand(out, &t.eta, |s, _, v| {
        s.learner.eta = *v;
        format!("eta={}", floral_report::fmt_num(*v))
    });
    out = expand(out, &t.schedule, |s, _, v| {
        s.learner.schedule = *v;
        format!("schedule={v:?}")
    });
    out = expand(out, &t.init, |s, _, v| {
        s.learner.init = *v;
        format!("init={v:?}")
    });
    out = expand(out, &t.k_pool, |s, _, &(k, pool)| {
        if let AttackerSpec::RandomTopK(p) = &mut s.attacker {
            p.k = k;
            p.pool = Some(pool);
        }
        format!("k={k}, pool={pool}")
    });
    out = expand(out, &t.rounds, |s, _, v| {
        s.rounds = *v;
        format!("rounds={v}")
    });
    out = expand(out, &t.output, |_, o, v| {
        *o = Some(*v);
        format!("output={}", floral_defense::rule_name(*v))
    });
    out.into_iter()
        .map(|(label, mut spec, output)| {
            spec.tune = None;
            FloralVariant { label, spec, output }
        })
        .collect()
}

fn check_floral(
    path: &Path,
    i: usize,
    v: &FloralVariant,
    n_train: usize,
    has_val: bool,
) -> Result<(), ExperimentError> {
    let f = format!("methods[{i}]");
    let s = &v.spec;
    pos_finite(path, &format!("{f}.learner.c"), s.learner.c)?;
    pos_finite(path, &format!("{f}.learner.eta"), s.learner.eta)?;
    if !(1..=MAX_ROUNDS).contains(&s.rounds) {
        return Err(invalid(path, format!("{f}.rounds"), format!("1..={MAX_ROUNDS}"), s.rounds));
    }
    let average_last = match v.output {
        Some(floral_game::OutputRule::Average { last }) => last,
        _ => s.average_last,
    };
    // The default (50) shrinks to the number of rounds; an explicit value must fit.
    if average_last == 0 || (average_last > s.rounds && average_last != crate::spec::DEFAULT_AVERAGE_LAST) {
        return Err(invalid(
            path,
            format!("{f}.average_last"),
            format!("1..=rounds ({}): the averaged model uses that many final rounds", s.rounds),
            average_last,
        ));
    }
    // The attacker's and projector's own parameter checks, with the field path; then what only
    // the plan can check: a FLORAL method has an attacker with k ≥ 1 (`None` for none), and its
    // pool fits in the training set.
    crate::registry::attacker_at(path, &format!("{f}.attacker"), &s.attacker)?;
    crate::registry::projector_at(path, &format!("{f}.projector"), &s.projector)?;
    let pool = match &s.attacker {
        AttackerSpec::ZeroSum(p) => Some((p.k, p.k)),
        AttackerSpec::LookAhead(p) => Some((p.k, p.pool.unwrap_or(2 * p.k))),
        AttackerSpec::RelaxedLookAhead(p) => Some((p.k, p.pool.unwrap_or(2 * p.k))),
        AttackerSpec::RandomTopK(p) => Some((p.k, p.pool.unwrap_or(2 * p.k))),
        AttackerSpec::None => None,
    };
    if let Some((k, pool)) = pool {
        if k == 0 {
            return Err(invalid(
                path,
                format!("{f}.attacker.k"),
                ">= 1 (for no in-game attacker: `attacker: None`)",
                0,
            ));
        }
        if pool > n_train {
            return Err(invalid(
                path,
                format!("{f}.attacker.pool"),
                format!("<= the number of training points ({n_train})"),
                pool,
            ));
        }
    }
    floral_defense::FloralLearner::new(s.learner.clone(), Arc::new(floral_projection::ExactProjector::default()))
        .map_err(|e| invalid(path, format!("{f}.learner"), "valid learner parameters", e))?;
    if v.output == Some(floral_game::OutputRule::BestValidation) && !has_val {
        return Err(invalid(
            path,
            format!("{f}.tune.output"),
            "BestValidation only with a validation split",
            "BestValidation",
        ));
    }
    Ok(())
}

/// Check a parsed spec and load its data: the cross-field checks (k ≤ pool ≤ n_train, rounds ≥
/// 1, C > 0, η > 0, γ > 0, data files exist, unique method names, seeds non-empty) and every
/// (poison, seed) split.
///
/// # Errors
/// [`ExperimentError::Invalid`] naming the field, or [`ExperimentError::Data`].
pub fn check(spec: ExperimentSpec, source: &Path) -> Result<Plan, ExperimentError> {
    check_with(spec, source, false)
}

/// The shared part of a study (`crate::study`): seeds, data, poison levels and kernel, checked
/// and loaded exactly like an experiment's, with no methods. The study runs its own machinery
/// on `plan.clean`, `plan.levels` ([`crate::run::poisoned_split`]) and `plan.kernel`.
///
/// # Errors
/// As [`check`].
pub fn check_base(
    name: &str,
    seeds: Vec<u64>,
    data: DataSpec,
    poison: Vec<crate::spec::PoisonSpec>,
    kernel: KernelSpec,
    source: &Path,
) -> Result<Plan, ExperimentError> {
    let spec = ExperimentSpec {
        name: name.to_string(),
        description: String::new(),
        seeds,
        data,
        poison,
        kernel,
        methods: Vec::new(),
        record_every: 1,
        decision_plots: false,
    };
    check_with(spec, source, true)
}

fn check_with(spec: ExperimentSpec, source: &Path, allow_no_methods: bool) -> Result<Plan, ExperimentError> {
    let path = source;
    check_scalars(path, &spec, allow_no_methods)?;
    check_data(path, &spec)?;
    let kernel = build_kernel(path, &spec.kernel)?;
    check_names(path, &spec)?;
    let mut clean = Vec::new();
    for &seed in &spec.seeds {
        clean.push(load_clean(path, &spec, seed)?);
    }
    let mut levels = Vec::new();
    for (i, p) in spec.poison.iter().enumerate() {
        levels.push(registry::poison_level(path, &spec, i, p, &clean)?);
    }
    let mut extra_kernels: Vec<(f64, Arc<dyn Kernel>)> = Vec::new();
    let methods = plan_methods(path, &spec, &clean, &mut extra_kernels)?;
    let groups = group_by_points(&clean);
    let variant_kernels: Vec<Arc<dyn Kernel>> = extra_kernels.into_iter().map(|(_, k)| k).collect();
    let memory = estimate_memory(&spec, &clean, &groups, &methods, variant_kernels.len());
    if memory.exceeds_available() {
        let n_max = clean.iter().map(|s| s.train.n()).max().unwrap_or(0);
        return Err(memory_error(path, &memory, n_max));
    }
    let data_files = hashed_files(path, &spec)?;
    let (canonical, hash) = crate::frame::load::canonical_and_hash(&spec, &data_files)?;
    Ok(Plan {
        data_files,
        poison_names: spec.poison.iter().map(poison_name).collect(),
        spec,
        source: source.to_path_buf(),
        canonical,
        hash,
        kernel,
        variant_kernels,
        clean,
        levels,
        methods,
        groups,
        memory,
        attack_validation: None,
    })
}

/// The scalar fields: a usable name, distinct seeds, at least one poison level and (unless a
/// study asks for none) one method, `record_every` ≥ 1.
fn check_scalars(path: &Path, spec: &ExperimentSpec, allow_no_methods: bool) -> Result<(), ExperimentError> {
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
    if spec.poison.is_empty() {
        return Err(invalid(path, "poison", "at least one level (e.g. [Clean])", "[]"));
    }
    if spec.methods.is_empty() && !allow_no_methods {
        return Err(invalid(path, "methods", "at least one method", "[]"));
    }
    if spec.record_every == 0 {
        return Err(invalid(path, "record_every", ">= 1", 0));
    }
    Ok(())
}

/// The data spec's own fields (sizes, fractions), and no authors' sheet on a re-split.
fn check_data(path: &Path, spec: &ExperimentSpec) -> Result<(), ExperimentError> {
    if let DataSpec::Moons { n, noise, validation_fraction, test_fraction } = spec.data {
        if n < 10 {
            return Err(invalid(path, "data.n", ">= 10", n));
        }
        if !(noise.is_finite() && noise >= 0.0) {
            return Err(invalid(path, "data.noise", "a finite number >= 0", noise));
        }
        check_generated(path, n, 0, validation_fraction, test_fraction)?;
    }
    if let DataSpec::GaussianMixture { n, d, validation_fraction, test_fraction, .. } = spec.data {
        if n < 10 || d == 0 {
            return Err(invalid(path, "data.n/d", "n >= 10 points of d >= 1 features", format!("{n}/{d}")));
        }
        check_generated(path, n, d, validation_fraction, test_fraction)?;
    }
    if let DataSpec::Embeddings { validation_fraction, .. } = spec.data {
        if !(validation_fraction.is_finite() && (0.0..1.0).contains(&validation_fraction)) {
            return Err(invalid(path, "data.validation_fraction", "a fraction in [0, 1)", validation_fraction));
        }
    }
    if let DataSpec::Shipped { validation_fraction, resplit, .. } = spec.data {
        if !(validation_fraction.is_finite() && (0.0..1.0).contains(&validation_fraction)) {
            return Err(invalid(path, "data.validation_fraction", "a fraction in [0, 1)", validation_fraction));
        }
        // Refused before any data is loaded: the sheets exist only for the fixed split.
        if let Some((p, sheet)) = spec.poison.iter().enumerate().find_map(|(p, l)| match l {
            crate::spec::PoisonSpec::Sheet(s) => Some((p, s)),
            _ => None,
        }) {
            if resplit {
                return Err(invalid(
                    path,
                    format!("poison[{p}]"),
                    "no Sheet(...) level with data.resplit: true (a sheet flips the authors' fixed training \
                     split; use Attack(...) levels, or resplit: false)",
                    format!("Sheet({sheet:?})"),
                ));
            }
        }
    }
    Ok(())
}

/// Unique method names, the SVM methods' C and grids, distinct poison-level names.
fn check_names(path: &Path, spec: &ExperimentSpec) -> Result<(), ExperimentError> {
    let mut names = std::collections::BTreeMap::new();
    for (i, m) in spec.methods.iter().enumerate() {
        let name = match m {
            MethodSpec::Svm { name, .. } => name,
            MethodSpec::Floral(f) => &f.name,
            MethodSpec::Baseline(b) => &b.name,
        };
        check_name(path, &format!("methods[{i}].name"), name, &mut names)?;
        if let MethodSpec::Svm { c, c_grid, gamma_grid, .. } = m {
            pos_finite(path, &format!("methods[{i}].c"), *c)?;
            for (j, cj) in c_grid.iter().enumerate() {
                pos_finite(path, &format!("methods[{i}].c_grid[{j}]"), *cj)?;
            }
            for (j, g) in gamma_grid.iter().enumerate() {
                pos_finite(path, &format!("methods[{i}].gamma_grid[{j}]"), *g)?;
            }
            if !gamma_grid.is_empty() && !matches!(spec.kernel, KernelSpec::Rbf { .. }) {
                return Err(invalid(
                    path,
                    format!("methods[{i}].gamma_grid"),
                    "an Rbf experiment kernel (the grid varies its γ)",
                    format!("{:?}", spec.kernel),
                ));
            }
        }
    }
    let mut level_names = std::collections::BTreeMap::new();
    for (p, level) in spec.poison.iter().enumerate() {
        let name = poison_name(level);
        let key = crate::names::slug(&name);
        if let Some(first) = level_names.insert(key.clone(), p) {
            return Err(invalid(
                path,
                format!("poison[{p}]"),
                format!("a level distinct from poison[{first}] (file names use `{key}`)"),
                name,
            ));
        }
    }
    Ok(())
}

/// Every method planned (its variants built by the registry), with the checks that need the
/// loaded data: a validation split for what chooses or trains on it, FLORAL's pools.
fn plan_methods(
    path: &Path,
    spec: &ExperimentSpec,
    clean: &[Split],
    extra_kernels: &mut Vec<(f64, Arc<dyn Kernel>)>,
) -> Result<Vec<PlannedMethod>, ExperimentError> {
    let n_train = clean.iter().map(|s| s.train.n()).min().unwrap_or(0);
    let has_val = clean.iter().all(|s| s.validation.is_some());
    let mut methods = Vec::new();
    for (i, m) in spec.methods.iter().enumerate() {
        let tuned = match m {
            MethodSpec::Floral(f) => f.tune.is_some(),
            MethodSpec::Svm { c_grid, gamma_grid, .. } => !c_grid.is_empty() || !gamma_grid.is_empty(),
            MethodSpec::Baseline(_) => false,
        };
        if tuned && !has_val {
            let field = match m {
                MethodSpec::Floral(_) => format!("methods[{i}].tune"),
                MethodSpec::Svm { .. } | MethodSpec::Baseline(_) => format!("methods[{i}].c_grid"),
            };
            return Err(invalid(
                path,
                field,
                "a validation split to choose on (e.g. validation_fraction > 0)",
                "no validation split",
            ));
        }
        if let MethodSpec::Floral(f) = m {
            for v in variants(f) {
                check_floral(path, i, &v, n_train, has_val)?;
            }
        }
        methods.push(plan_method(path, i, m, spec, extra_kernels)?);
        if let MethodSpec::Baseline(_) = m {
            let reads_trusted = methods.last().is_some_and(|pm| pm.variants.iter().any(|v| v.defence.reads_trusted()));
            if reads_trusted && !has_val {
                return Err(invalid(
                    path,
                    format!("methods[{i}].defence"),
                    "a validation split (the defence trains on trusted data)",
                    "no validation split",
                ));
            }
        }
    }
    Ok(methods)
}

/// The data files a spec reads, with the sha256 of their bytes (the content hash covers the
/// data, not only the paths).
fn hashed_files(path: &Path, spec: &ExperimentSpec) -> Result<Vec<DataFile>, ExperimentError> {
    let mut data_files = Vec::new();
    let files: Vec<(&'static str, Option<&String>)> = match &spec.data {
        DataSpec::Files { train, validation, test, .. } => {
            vec![("train", Some(train)), ("validation", validation.as_ref()), ("test", Some(test))]
        }
        DataSpec::Embeddings { train, train_labels, test, test_labels, .. } => vec![
            ("train", Some(train)),
            ("train_labels", train_labels.as_ref()),
            ("test", Some(test)),
            ("test_labels", test_labels.as_ref()),
        ],
        _ => Vec::new(),
    };
    for (role, f) in files {
        let Some(f) = f else { continue };
        data_files.push(DataFile::read(role, f, &resolve_relative(path, f))?);
    }
    Ok(data_files)
}

/// Largest number of rounds a FLORAL setting may ask for.
pub const MAX_ROUNDS: usize = 10_000_000;

/// A method name must be non-empty, free of parentheses (the report writes rules as
/// `name (rule)`), and distinct from every other name also in its file-name form.
fn check_name(
    path: &Path,
    field: &str,
    name: &str,
    seen: &mut std::collections::BTreeMap<String, String>,
) -> Result<(), ExperimentError> {
    if name.trim().is_empty() {
        return Err(invalid(path, field, "a non-empty name", format!("{name:?}")));
    }
    if name.contains(['(', ')']) {
        return Err(invalid(
            path,
            field,
            "a name without parentheses (the report writes output rules as `name (rule)`)",
            format!("{name:?}"),
        ));
    }
    let key = crate::names::slug(name);
    if key.is_empty() {
        return Err(invalid(
            path,
            field,
            "a name with at least one ASCII letter or digit (plot file names use them)",
            format!("{name:?}"),
        ));
    }
    if let Some(other) = seen.insert(key.clone(), name.to_string()) {
        return Err(invalid(
            path,
            field,
            format!("a name distinct from {other:?} also as a file name (both give `{key}`)"),
            format!("{name:?}"),
        ));
    }
    Ok(())
}

/// The split fractions of generated data, and a memory check before anything is generated:
/// the kernel matrices (and `d`-dimensional features, when d > 0) alone must fit.
fn check_generated(
    path: &Path,
    n: usize,
    d: usize,
    validation_fraction: f64,
    test_fraction: f64,
) -> Result<(), ExperimentError> {
    if !(validation_fraction >= 0.0 && test_fraction > 0.0 && validation_fraction + test_fraction < 1.0) {
        return Err(invalid(
            path,
            "data.validation_fraction/test_fraction",
            "validation >= 0, test > 0, sum < 1",
            format!("{validation_fraction}/{test_fraction}"),
        ));
    }
    let n_val = (n as f64 * validation_fraction) as usize;
    let n_test = (n as f64 * test_fraction) as usize;
    let n_train = n.saturating_sub(n_val + n_test);
    let bytes =
        crate::memory::kernel_bytes(n_train, n_val, n_test).saturating_add(8usize.saturating_mul(n).saturating_mul(d));
    let pre = MemoryEstimate::new(bytes, 0, 0, 0);
    if pre.exceeds_available() {
        return Err(memory_error(path, &pre, n_train));
    }
    Ok(())
}

fn memory_error(path: &Path, m: &MemoryEstimate, n_train: usize) -> ExperimentError {
    let avail = m.available_bytes.map_or_else(|| "unknown".to_string(), |a| format!("{:.0} MiB", a as f64 / 1048576.0));
    invalid(
        path,
        "data",
        format!("a run that fits in the available memory ({avail}); every n×n kernel matrix holds 8·n² bytes"),
        format!("{n_train} training points: an estimated peak of {}", m.describe()),
    )
}

/// Build a checked method's variants through the registry. An SVM's γ grid adds its kernels
/// to `extra` (one per distinct γ other than the experiment's).
fn plan_method(
    path: &Path,
    i: usize,
    m: &MethodSpec,
    spec: &ExperimentSpec,
    extra: &mut Vec<(f64, Arc<dyn Kernel>)>,
) -> Result<PlannedMethod, ExperimentError> {
    Ok(match m {
        MethodSpec::Svm { name, c, c_grid, gamma_grid } => {
            let tuned = !c_grid.is_empty() || !gamma_grid.is_empty();
            let c_values = if c_grid.is_empty() { vec![*c] } else { c_grid.clone() };
            let g_values: Vec<Option<f64>> =
                if gamma_grid.is_empty() { vec![None] } else { gamma_grid.iter().map(|&g| Some(g)).collect() };
            let base_gamma = match spec.kernel {
                KernelSpec::Rbf { gamma } => Some(gamma),
                KernelSpec::Linear | KernelSpec::Poly { .. } => None,
            };
            let (mut cs, mut gammas, mut variants) = (Vec::new(), Vec::new(), Vec::new());
            for &g in &g_values {
                let kernel = match g {
                    Some(g) if Some(g) != base_gamma => match extra.iter().position(|(x, _)| *x == g) {
                        Some(k) => Some(k),
                        None => {
                            let field = format!("methods[{i}].gamma_grid");
                            extra.push((
                                g,
                                build_kernel(path, &KernelSpec::Rbf { gamma: g }).map_err(|e| match e {
                                    ExperimentError::Invalid { .. } => invalid(path, &field, "γ > 0", g),
                                    other => other,
                                })?,
                            ));
                            Some(extra.len() - 1)
                        }
                    },
                    _ => None,
                };
                for &c in &c_values {
                    let mut label = format!("C={}", floral_report::fmt_num(c));
                    if let Some(g) = g {
                        label.push_str(&format!(", γ={}", floral_report::fmt_num(g)));
                    }
                    variants.push(PlannedVariant { label, defence: registry::svm(c)?, kernel });
                    cs.push(c);
                    gammas.push(g);
                }
            }
            PlannedMethod { name: name.clone(), tuned, variants, family: Family::Svm { cs, gammas } }
        }
        MethodSpec::Baseline(b) => PlannedMethod {
            name: b.name.clone(),
            tuned: false,
            variants: vec![PlannedVariant {
                label: String::new(),
                defence: registry::baseline(path, &format!("methods[{i}].defence"), &b.defence)?,
                kernel: None,
            }],
            family: Family::Baseline,
        },
        MethodSpec::Floral(f) => {
            let fv = variants(f);
            let mut variants = Vec::new();
            for v in &fv {
                variants.push(PlannedVariant {
                    label: v.label.clone(),
                    defence: registry::floral(&v.spec, v.output, spec.record_every)?,
                    kernel: None,
                });
            }
            PlannedMethod {
                name: f.name.clone(),
                tuned: f.tune.is_some(),
                variants,
                family: Family::Floral { variants: fv },
            }
        }
    })
}

/// Seed indices grouped by identical points (train, validation and test features), in seed
/// order: generated data gives one group per seed, a fixed data set one group in all.
pub(crate) fn group_by_points(clean: &[Split]) -> Vec<Vec<usize>> {
    let same = |a: &Split, b: &Split| {
        a.train.same_features(&b.train)
            && a.test.same_features(&b.test)
            && match (&a.validation, &b.validation) {
                (Some(x), Some(y)) => x.same_features(y),
                (None, None) => true,
                _ => false,
            }
    };
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (si, s) in clean.iter().enumerate() {
        match groups.iter_mut().find(|g| same(&clean[g[0]], s)) {
            Some(g) => g.push(si),
            None => groups.push(vec![si]),
        }
    }
    groups
}

fn estimate_memory(
    spec: &ExperimentSpec,
    clean: &[Split],
    groups: &[Vec<usize>],
    methods: &[PlannedMethod],
    variant_kernels: usize,
) -> MemoryEstimate {
    let sizes = |s: &Split| (s.train.n(), s.validation.as_ref().map_or(0, Dataset::n), s.test.n());
    // The experiment's kernel matrices and those of every variant kernel (an SVM's γ grid).
    let kernel = groups
        .iter()
        .map(|g| {
            let (a, b, c) = sizes(&clean[g[0]]);
            crate::memory::kernel_bytes(a, b, c).saturating_mul(1 + variant_kernels)
        })
        .max()
        .unwrap_or(0);
    let levels = spec.poison.len();
    let data: usize = clean
        .iter()
        .enumerate()
        .map(|(si, s)| {
            let (a, b, c) = sizes(s);
            let pts = a + b + c;
            // Features once per group (shared), labels per poison level.
            let feats = if groups.iter().any(|g| g[0] == si) { 8 * pts * s.train.dim() } else { 0 };
            feats + 8 * a * (levels + 1) + 8 * (b + c)
        })
        .sum();
    let n_max = clean.iter().map(|s| s.train.n()).max().unwrap_or(0);
    let trace_rounds = spec
        .methods
        .iter()
        .filter_map(|m| match m {
            MethodSpec::Floral(f) => Some(f.rounds / spec.record_every + 2),
            MethodSpec::Svm { .. } | MethodSpec::Baseline(_) => None,
        })
        .max()
        .unwrap_or(0);
    let has_svm = methods.iter().any(|m| matches!(m.family, Family::Svm { .. }));
    let plots = spec.decision_plots && clean.first().is_some_and(|s| s.train.dim() == 2);
    let m_max = clean.iter().map(|s| s.validation.as_ref().map_or(0, Dataset::n)).max().unwrap_or(0);
    // A baseline's own matrices come on top of its SVM's (the largest of them bounds a job).
    let baseline =
        methods.iter().flat_map(|m| m.variants.iter().map(|v| v.defence.extra_bytes(n_max, m_max))).max().unwrap_or(0);
    let has_svm = has_svm || spec.methods.iter().any(|m| matches!(m, MethodSpec::Baseline(_)));
    let job = crate::memory::job_bytes(n_max, trace_rounds, has_svm, plots).saturating_add(baseline);
    let jobs_per_group = methods.iter().map(|m| m.variants.len()).sum::<usize>()
        * levels
        * groups.iter().map(Vec::len).max().unwrap_or(1);
    let parallel = rayon::current_num_threads().min(jobs_per_group).max(1);
    MemoryEstimate::new(kernel, data, job, parallel)
}
