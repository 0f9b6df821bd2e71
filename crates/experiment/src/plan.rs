//! `parse` → `check` → [`Plan`]: every cross-field check happens here, before anything runs.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use floral_data::{Dataset, FlipSet, Split, Stream, stream};
use floral_svm::Kernel;
use rand::seq::index::sample;
use sha2::{Digest, Sha256};

use crate::ExperimentError;
use crate::spec::{
    AttackerSpec, DataSpec, ExperimentSpec, FloralSpec, KernelSpec, MethodSpec, PoisonSpec,
    ProjectorSpec,
};

/// Largest training set an experiment accepts: the game and the evaluator hold dense n×n
/// kernel matrices (50,000² × 8 bytes = 18.6 GiB each).
pub const MAX_TRAIN: usize = 50_000;

/// The built-in quickstart experiment (what `floral run` runs without a file).
pub const QUICKSTART: &str = include_str!("../../../experiments/quickstart.ron");

/// Parse an experiment from RON text; errors carry `path:line:col`.
///
/// # Errors
/// [`ExperimentError::Parse`].
pub fn parse(text: &str, path: &Path) -> Result<ExperimentSpec, ExperimentError> {
    ron::Options::default()
        .from_str::<ExperimentSpec>(text)
        .map_err(|e| ExperimentError::Parse {
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
    let text = std::fs::read_to_string(path).map_err(|source| ExperimentError::Io {
        path: path.to_path_buf(),
        source,
    })?;
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

/// A checked method.
#[derive(Debug, Clone)]
pub enum PlannedMethod {
    /// Plain SVM, one C or (tuned) several.
    Svm {
        /// Name.
        name: String,
        /// The values of C (variants).
        cs: Vec<f64>,
        /// True when C is chosen on the validation split.
        tuned: bool,
    },
    /// FLORAL, one or more variants (more than one: validation-selected).
    Floral {
        /// Name.
        name: String,
        /// The variants.
        variants: Vec<FloralVariant>,
        /// True when the variants come from a tuning grid.
        tuned: bool,
    },
}

impl PlannedMethod {
    /// The method's name.
    pub fn name(&self) -> &str {
        match self {
            PlannedMethod::Svm { name, .. } | PlannedMethod::Floral { name, .. } => name,
        }
    }
}

/// A checked experiment, ready to run: data loaded, poisoned and split per (poison, seed).
#[derive(Debug)]
pub struct Plan {
    /// The spec as parsed.
    pub spec: ExperimentSpec,
    /// Where it came from (`<built-in>` for the quickstart).
    pub source: PathBuf,
    /// The canonical RON of the spec (what the report echoes).
    pub canonical: String,
    /// sha256 of `canonical`, hex.
    pub hash: String,
    /// The kernel.
    pub kernel: Arc<dyn Kernel>,
    /// Splits, indexed `[poison][seed]`.
    pub splits: Vec<Vec<Split>>,
    /// Poison level labels, in spec order.
    pub poison_names: Vec<String>,
    /// The methods.
    pub methods: Vec<PlannedMethod>,
}

fn invalid(path: &Path, field: impl Into<String>, expected: impl Into<String>, got: impl ToString) -> ExperimentError {
    ExperimentError::Invalid {
        path: path.to_path_buf(),
        field: field.into(),
        expected: expected.into(),
        got: got.to_string(),
    }
}

fn pos_finite(path: &Path, field: &str, v: f64) -> Result<(), ExperimentError> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(invalid(path, field, "a finite number > 0", v))
    }
}

/// The name of a poison level as shown in reports.
pub fn poison_name(p: &PoisonSpec) -> String {
    match p {
        PoisonSpec::Clean => "clean".into(),
        PoisonSpec::Sheet(s) => s.clone(),
        PoisonSpec::RandomFlips { fraction } => format!("random {}%", floral_report::fmt_num(100.0 * fraction)),
    }
}

fn build_kernel(path: &Path, k: &KernelSpec) -> Result<Arc<dyn Kernel>, ExperimentError> {
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
    move |source| ExperimentError::Data {
        path: path.to_path_buf(),
        source,
    }
}

fn resolve_relative(base: &Path, file: &str) -> PathBuf {
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
        DataSpec::Shipped { name, validation_fraction } => {
            if name == "moon_floral_seed42" {
                return floral_data::shipped::moon_floral("train").map_err(&de);
            }
            let train = floral_data::shipped::load_sheet(name, "train").map_err(&de)?;
            let test = floral_data::shipped::load_sheet(name, "test").map_err(&de)?;
            let (train, test) = binary_pair(train, test, &PathBuf::from(name)).map_err(&de)?;
            holdout(train, test, *validation_fraction, &mut rng).map_err(&de)
        }
        DataSpec::Files { train, validation, test, standardize } => {
            let tp = resolve_relative(path, train);
            let sp = resolve_relative(path, test);
            let mut tr = floral_data::read_data_file(&tp).map_err(&de)?;
            let mut te = floral_data::read_data_file(&sp).map_err(&de)?;
            floral_data::align_dims(&mut tr, &mut te);
            let mut va = None;
            if let Some(v) = validation {
                let vp = resolve_relative(path, v);
                let mut raw = floral_data::read_data_file(&vp).map_err(&de)?;
                floral_data::align_dims(&mut tr, &mut raw);
                floral_data::align_dims(&mut te, &mut raw);
                va = Some(raw.into_binary(&vp).map_err(&de)?);
            }
            let train = tr.into_binary(&tp).map_err(&de)?;
            let test = te.into_binary(&sp).map_err(&de)?;
            let s = Split {
                train_clean: Some(train.y().clone()),
                train,
                validation: va,
                test,
            };
            if *standardize {
                floral_data::Standardizer::transform_split(s).map_err(&de)
            } else {
                Ok(s)
            }
        }
    }
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
        return Ok(Split {
            train_clean: Some(train.y().clone()),
            train,
            validation: None,
            test,
        });
    }
    // The split's "test" part is the held-out validation share.
    let s = floral_data::stratified_split(&train, 0.0, fraction, rng)?;
    Ok(Split {
        train_clean: Some(s.train.y().clone()),
        train: s.train,
        validation: Some(s.test),
        test,
    })
}

/// Apply a poison level to a clean split.
fn poison(
    path: &Path,
    spec: &ExperimentSpec,
    clean: &Split,
    p: &PoisonSpec,
    seed: u64,
) -> Result<Split, ExperimentError> {
    let de = data_err(path);
    match p {
        PoisonSpec::Clean => Ok(clean.clone()),
        PoisonSpec::Sheet(sheet) => match &spec.data {
            DataSpec::Shipped { name, .. } if name == "moon_floral_seed42" => {
                floral_data::shipped::moon_floral(sheet).map_err(&de)
            }
            _ => Err(invalid(
                path,
                "poison",
                "Sheet(...) only with data: Shipped(name: \"moon_floral_seed42\")",
                format!("Sheet({sheet:?})"),
            )),
        },
        PoisonSpec::RandomFlips { fraction } => {
            if !(fraction.is_finite() && (0.0..1.0).contains(fraction)) {
                return Err(invalid(path, "poison.RandomFlips.fraction", "a number in [0, 1)", fraction));
            }
            let n = clean.train.n();
            let m = ((*fraction * n as f64).round() as usize).min(n);
            // A stream of its own so the data draw is unchanged by adding a poison level.
            let mut rng = stream(seed ^ 0x9e37_79b9_7f4a_7c15, Stream::Data);
            let idx: Vec<usize> = sample(&mut rng, n, m).into_vec();
            let flips = FlipSet::new(idx, n).map_err(&de)?;
            let y = clean.train.y().apply(&flips).map_err(&de)?;
            let mut s = clean.clone();
            s.train = clean.train.with_labels(y).map_err(&de)?;
            s.train_clean = Some(clean.train.y().clone());
            Ok(s)
        }
    }
}

/// Expand a FLORAL method into its variants (the tuning grid, or itself).
fn variants(f: &FloralSpec) -> Vec<FloralVariant> {
    let Some(t) = &f.tune else {
        return vec![FloralVariant {
            label: String::new(),
            spec: f.clone(),
            output: None,
        }];
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
        format!("output={}", crate::run::rule_name(*v))
    });
    out.into_iter()
        .map(|(label, mut spec, output)| {
            spec.tune = None;
            FloralVariant { label, spec, output }
        })
        .collect()
}

fn check_floral(path: &Path, i: usize, v: &FloralVariant, n_train: usize, has_val: bool) -> Result<(), ExperimentError> {
    let f = format!("methods[{i}]");
    let s = &v.spec;
    pos_finite(path, &format!("{f}.learner.c"), s.learner.c)?;
    pos_finite(path, &format!("{f}.learner.eta"), s.learner.eta)?;
    if s.rounds == 0 {
        return Err(invalid(path, format!("{f}.rounds"), ">= 1", 0));
    }
    if s.average_last == 0 {
        return Err(invalid(path, format!("{f}.average_last"), ">= 1", 0));
    }
    if let AttackerSpec::RandomTopK(p) = &s.attacker {
        let pool = p.pool.unwrap_or(2 * p.k);
        if p.k == 0 {
            return Err(invalid(path, format!("{f}.attacker.k"), ">= 1", 0));
        }
        if pool < p.k {
            return Err(invalid(path, format!("{f}.attacker.pool"), format!(">= k = {}", p.k), pool));
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
    if let ProjectorSpec::FixedPoint { tol, max_iter, .. } = s.projector {
        if !(tol.is_finite() && tol >= 0.0) {
            return Err(invalid(path, format!("{f}.projector.tol"), "a finite number >= 0", tol));
        }
        if max_iter == 0 {
            return Err(invalid(path, format!("{f}.projector.max_iter"), ">= 1", 0));
        }
    }
    floral_defense::FloralLearner::new(s.learner.clone(), Box::new(floral_projection::ExactProjector::default()))
        .map_err(|e| invalid(path, format!("{f}.learner"), "valid learner parameters", e))?;
    if v.output == Some(floral_game::OutputRule::BestValidation) && !has_val {
        return Err(invalid(path, format!("{f}.tune.output"), "BestValidation only with a validation split", "BestValidation"));
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
    let path = source;
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
    if spec.methods.is_empty() {
        return Err(invalid(path, "methods", "at least one method", "[]"));
    }
    if spec.record_every == 0 {
        return Err(invalid(path, "record_every", ">= 1", 0));
    }
    if let DataSpec::Moons { n, noise, validation_fraction, test_fraction } = spec.data {
        if !(10..=MAX_TRAIN).contains(&n) {
            return Err(invalid(path, "data.n", format!("10..={MAX_TRAIN} (the game holds dense n×n kernel matrices)"), n));
        }
        if !(noise.is_finite() && noise >= 0.0) {
            return Err(invalid(path, "data.noise", "a finite number >= 0", noise));
        }
        if !(validation_fraction >= 0.0 && test_fraction > 0.0 && validation_fraction + test_fraction < 1.0) {
            return Err(invalid(
                path,
                "data.validation_fraction/test_fraction",
                "validation >= 0, test > 0, sum < 1",
                format!("{validation_fraction}/{test_fraction}"),
            ));
        }
    }
    if let DataSpec::Shipped { validation_fraction, .. } = spec.data {
        if !(validation_fraction.is_finite() && (0.0..1.0).contains(&validation_fraction)) {
            return Err(invalid(path, "data.validation_fraction", "a fraction in [0, 1)", validation_fraction));
        }
    }
    let kernel = build_kernel(path, &spec.kernel)?;
    let mut names = std::collections::BTreeSet::new();
    let mut methods = Vec::new();
    for (i, m) in spec.methods.iter().enumerate() {
        let name = match m {
            MethodSpec::Svm { name, .. } => name,
            MethodSpec::Floral(f) => &f.name,
        };
        if name.is_empty() || !names.insert(name.clone()) {
            return Err(invalid(path, format!("methods[{i}].name"), "a unique non-empty name", name));
        }
        methods.push(match m {
            MethodSpec::Svm { name, c, c_grid } => {
                pos_finite(path, &format!("methods[{i}].c"), *c)?;
                for (j, cj) in c_grid.iter().enumerate() {
                    pos_finite(path, &format!("methods[{i}].c_grid[{j}]"), *cj)?;
                }
                let tuned = !c_grid.is_empty();
                PlannedMethod::Svm {
                    name: name.clone(),
                    cs: if tuned { c_grid.clone() } else { vec![*c] },
                    tuned,
                }
            }
            MethodSpec::Floral(f) => PlannedMethod::Floral {
                name: f.name.clone(),
                variants: variants(f),
                tuned: f.tune.is_some(),
            },
        });
    }
    let mut splits = Vec::new();
    let mut clean = Vec::new();
    for &seed in &spec.seeds {
        clean.push(load_clean(path, &spec, seed)?);
    }
    for p in &spec.poison {
        let mut per_seed = Vec::new();
        for (si, &seed) in spec.seeds.iter().enumerate() {
            per_seed.push(poison(path, &spec, &clean[si], p, seed)?);
        }
        splits.push(per_seed);
    }
    let n_train = splits.iter().flatten().map(|s| s.train.n()).min().unwrap_or(0);
    let n_max = splits.iter().flatten().map(|s| s.train.n()).max().unwrap_or(0);
    if n_max > MAX_TRAIN {
        return Err(invalid(
            path,
            "data",
            format!("at most {MAX_TRAIN} training points (the game holds dense n×n kernel matrices: {} GiB here)", n_max.saturating_mul(n_max).saturating_mul(8) >> 30),
            format!("{n_max} training points"),
        ));
    }
    let has_val = splits.iter().flatten().all(|s| s.validation.is_some());
    for (i, m) in methods.iter().enumerate() {
        let tuned = match m {
            PlannedMethod::Floral { tuned, .. } | PlannedMethod::Svm { tuned, .. } => *tuned,
        };
        if tuned && !has_val {
            let field = match m {
                PlannedMethod::Floral { .. } => format!("methods[{i}].tune"),
                PlannedMethod::Svm { .. } => format!("methods[{i}].c_grid"),
            };
            return Err(invalid(path, field, "a validation split to choose on (e.g. validation_fraction > 0)", "no validation split"));
        }
        if let PlannedMethod::Floral { variants, .. } = m {
            for v in variants {
                check_floral(path, i, v, n_train, has_val)?;
            }
        }
    }
    let canonical = ron::ser::to_string_pretty(&spec, ron::ser::PrettyConfig::new().struct_names(true))
        .map_err(|e| ExperimentError::Run { what: "echo spec".into(), message: e.to_string() })?;
    let hash = format!("{:x}", Sha256::digest(canonical.as_bytes()));
    Ok(Plan {
        poison_names: spec.poison.iter().map(poison_name).collect(),
        spec,
        source: source.to_path_buf(),
        canonical,
        hash,
        kernel,
        splits,
        methods,
    })
}
