//! Typed arguments of every subcommand.

use std::path::PathBuf;

use clap::Args;

/// `floral run [FILE.ron] [--out DIR]`
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The experiment file; without it, the built-in quickstart.
    pub file: Option<PathBuf>,
    /// Output directory (default: `reports/<experiment name>`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// No progress output (neither the bar on a terminal nor the per-run lines elsewhere);
    /// warnings and errors are still printed.
    #[arg(long)]
    pub quiet: bool,
    /// Compute only shard I of N (0-based: 0 ≤ I < N; the jobs whose index mod N is I) into the
    /// cell store under --out, without writing the report; `floral merge` assembles it.
    /// Experiment files only.
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    pub shard: Option<floral_experiment::Shard>,
    /// Keep the cell store (`OUT/cells/`) after a whole run has written its report (it is
    /// deleted by default; a killed run's store is always kept, and a rerun resumes from it).
    #[arg(long)]
    pub keep_cells: bool,
}

fn parse_shard(s: &str) -> Result<floral_experiment::Shard, String> {
    floral_experiment::Shard::parse(s)
}

/// `floral merge DIR... [--out DIR]`
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The --out directories of the shards (each holds a `cells/` store; one directory when
    /// every shard wrote to the same --out).
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Where to write the report (default: the first DIR).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// `floral submit FILE.ron --shards N (--slurm | --htcondor) [--out DIR] [--dir DIR]`
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("scheduler").required(true).args(["slurm", "htcondor"])))]
pub struct SubmitArgs {
    /// The experiment file.
    pub file: PathBuf,
    /// Number of shards (array tasks), ≥ 1.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub shards: u32,
    /// Write a SLURM script: an array job (`--array=0-(N-1)`, one shard per task) and a merge
    /// job that starts when every task succeeded.
    #[arg(long)]
    pub slurm: bool,
    /// Write HTCondor files: a submit file queueing N jobs (`$(Process)` = shard), a merge
    /// submit file and a DAG running the merge after the shards.
    #[arg(long)]
    pub htcondor: bool,
    /// The report directory the shards and the merge write to (default:
    /// `reports/<experiment name>`); must be on a file system every node sees.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Where to write the scripts (default: the current directory). Existing files are never
    /// overwritten.
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
    /// CPU cores per shard (RAYON_NUM_THREADS); the memory request follows `floral check`'s
    /// estimate for this many parallel jobs.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub cpus: u32,
}

/// `floral check FILE.ron`
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The experiment file to validate.
    pub file: PathBuf,
}

/// `floral svm train --train FILE [--test FILE] --kernel rbf --gamma G --c C [--eps E] [--json]`
#[derive(Debug, Args)]
pub struct SvmTrainArgs {
    /// Training data (LIBSVM/svmlight, optionally .gz, or CSV with a `label` column), or a
    /// shipped data set as `name:split` (e.g. `moon_floral_seed42:train_adv_10`).
    #[arg(long)]
    pub train: String,
    /// Test data, same formats.
    #[arg(long)]
    pub test: Option<String>,
    /// Kernel: linear, rbf or poly.
    #[arg(long, default_value = "rbf")]
    pub kernel: String,
    /// Kernel γ (rbf, poly). Default 1/d.
    #[arg(long)]
    pub gamma: Option<f64>,
    /// Polynomial degree.
    #[arg(long, default_value_t = 3)]
    pub degree: u32,
    /// Polynomial coef0.
    #[arg(long, default_value_t = 0.0)]
    pub coef0: f64,
    /// Box constraint C.
    #[arg(long, default_value_t = 1.0)]
    pub c: f64,
    /// Stopping tolerance on the maximal KKT violation (LIBSVM's -e).
    #[arg(long, default_value_t = 1e-3)]
    pub eps: f64,
    /// Maximum SMO iterations.
    #[arg(long)]
    pub max_iter: Option<usize>,
    /// Kernel cache size in MB for kernel rows computed on demand (LIBSVM's default, 100).
    #[arg(long, default_value_t = 100.0)]
    pub cache_mb: f64,
    /// Build the dense n×n Gram matrix when it needs at most this many MB (n²·8 bytes);
    /// otherwise kernel rows are computed on demand through the cache.
    #[arg(long, default_value_t = 1024.0)]
    pub dense_limit_mb: f64,
    /// Use the dense Gram only for data with at least this many features (narrower data:
    /// kernel rows on demand are faster); 0 leaves the choice to --dense-limit-mb.
    #[arg(long, default_value_t = 256)]
    pub dense_min_dim: usize,
    /// Turn off LIBSVM's shrinking heuristic (LIBSVM's `-h 0`).
    #[arg(long)]
    pub no_shrinking: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Pad the file with fewer features with zero columns (LIBSVM files are padded anyway: an
    /// omitted trailing feature is zero).
    #[arg(long)]
    pub pad_features: bool,
    /// Save the trained model in LIBSVM's model format (readable by `svm-predict` and
    /// `floral svm predict`); written atomically.
    #[arg(long)]
    pub model_out: Option<std::path::PathBuf>,
}

/// `floral stability --train FILE --kernel rbf --gamma G --c C --eta E [--at svm|zero|FILE] [--json]`
#[derive(Debug, Args)]
pub struct StabilityArgs {
    /// Training data (LIBSVM/svmlight, optionally .gz, or CSV with a `label` column), or a
    /// shipped data set as `name:sheet` (e.g. `moon_floral_seed42:train`).
    #[arg(long)]
    pub train: String,
    /// Kernel: linear, rbf or poly.
    #[arg(long, default_value = "rbf")]
    pub kernel: String,
    /// Kernel γ (rbf, poly). Default 1/d.
    #[arg(long)]
    pub gamma: Option<f64>,
    /// Polynomial degree.
    #[arg(long, default_value_t = 3)]
    pub degree: u32,
    /// Polynomial coef0.
    #[arg(long, default_value_t = 0.0)]
    pub coef0: f64,
    /// Box constraint C (finite, > 0).
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub c: f64,
    /// The step η of the learner's map T(λ) = Π(λ − η(Q̃λ − 1)) (finite, > 0).
    #[arg(long, allow_negative_numbers = true)]
    pub eta: f64,
    /// Where to linearise: `svm` (the exact SVM solution from SMO, a fixed point of T), `zero`
    /// (λ = 0, FLORAL's start), or a text file of n numbers, one λ_i per line (blank lines and
    /// lines starting with `#` are skipped; write `./svm` for a file named `svm`).
    #[arg(long, default_value = "svm")]
    pub at: String,
    /// SMO stopping tolerance for `--at svm` (maximal KKT violation).
    #[arg(long, default_value_t = 1e-10)]
    pub eps: f64,
    /// Verdict tolerance: strict complementarity needs every margin > tol·max(1, C), and a
    /// spectral radius within tol of 1 is marginal.
    #[arg(long, default_value_t = 1e-9)]
    pub tol: f64,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `floral bench projection --n N [--json]`
#[derive(Debug, Args)]
pub struct BenchProjectionArgs {
    /// Problem size.
    #[arg(long, default_value_t = 100_000)]
    pub n: usize,
    /// Seed of the random instance.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Box bound C (finite, >= 0). The instance is z_i = C·u_i, u_i uniform in [−0.5, 1.5),
    /// labels ±1 with probability ½.
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub c: f64,
    /// Repetitions (the minimum time is reported).
    #[arg(long, default_value_t = 5)]
    pub reps: usize,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `floral bench lookahead [--reps R] [--json]`
#[derive(Debug, Args)]
pub struct BenchLookaheadArgs {
    /// Repetitions per configuration (the minimum time is reported).
    #[arg(long, default_value_t = 3)]
    pub reps: usize,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `floral bench game [--json]`
#[derive(Debug, Args)]
pub struct BenchGameArgs {
    /// Rounds of the full run.
    #[arg(long, default_value_t = 501)]
    pub rounds: usize,
    /// Train on N generated two-moons points instead of the shipped Moon file (n = 500), and
    /// also measure the memory bandwidth of streaming the kernel matrix once.
    #[arg(long)]
    pub n: Option<usize>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `floral bench scale [FILE.ron] [--out DIR]`
#[derive(Debug, Args)]
pub struct BenchScaleArgs {
    /// The experiment to time (its first seed and poison level, each method's first variant).
    #[arg(default_value = "experiments/scale_20k.ron")]
    pub file: PathBuf,
    /// Where to write the timing report (report.md, results.json).
    #[arg(long, default_value = "reports/scale_20k")]
    pub out: PathBuf,
    /// Repetitions of the streaming pass and of the product (their minimum is reported).
    #[arg(long, default_value_t = 3)]
    pub reps: usize,
}

/// `floral svm predict --model FILE --test FILE [--out FILE] [--json]`
#[derive(Debug, Args)]
pub struct SvmPredictArgs {
    /// A binary C-SVC model in LIBSVM's format (from `floral svm train --model-out` or
    /// `svm-train`).
    #[arg(long)]
    pub model: std::path::PathBuf,
    /// Data to predict (LIBSVM/svmlight, CSV with a `label` column, or `name:sheet`); its labels
    /// give the accuracy.
    #[arg(long)]
    pub test: String,
    /// Write one predicted label (+1 or -1) per line, as `svm-predict` does; written atomically.
    #[arg(long)]
    pub out: Option<std::path::PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}
