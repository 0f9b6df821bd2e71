//! `floral submit`: cluster array-job scripts (SLURM, HTCondor) for a sharded run.
//!
//! Shard indices are 0-based, as SLURM's `$SLURM_ARRAY_TASK_ID` with `--array=0-(N-1)` and
//! HTCondor's `$(Process)` are, so each task runs `floral run FILE --shard $TASK/N` unchanged.

use std::path::{Path, PathBuf};

use anyhow::anyhow;
use floral_experiment::load_study_file;
use floral_experiment::memory::MemoryEstimate;

use crate::{CliError, SubmitArgs};

/// `s` quoted for a POSIX shell (single quotes; a single quote inside becomes '\'').
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// `s` quoted for HTCondor's new argument syntax (inside the double-quoted `arguments`):
/// single quotes, a single quote doubled, a double quote doubled.
fn condor_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''").replace('"', "\"\""))
}

fn absolute(p: &Path) -> Result<PathBuf, CliError> {
    std::path::absolute(p).map_err(|e| CliError::Input(anyhow!("{}: cannot make the path absolute: {e}", p.display())))
}

fn text(p: &Path) -> String {
    p.display().to_string()
}

/// Memory to request per shard, in MiB: `floral check`'s estimate for `cpus` parallel jobs
/// plus a quarter, rounded up.
fn request_mib(m: &MemoryEstimate, cpus: usize) -> u64 {
    let e = MemoryEstimate::new(m.kernel_bytes, m.data_bytes, m.job_bytes, cpus);
    (e.total_bytes as f64 * 1.25 / 1048576.0).ceil() as u64
}

/// What a cluster script needs: the shard count, CPUs per shard, the executable, study file and
/// output directory (absolute), the log directory, the memory request (MiB), the job name, the
/// scripts' header line, and where the scripts go.
struct Job<'a> {
    n: usize,
    cpus: usize,
    exe: PathBuf,
    exp: PathBuf,
    out: PathBuf,
    logs: PathBuf,
    mem: u64,
    name: String,
    header: String,
    dir: &'a Path,
}

pub(crate) fn run(a: &SubmitArgs) -> Result<(), CliError> {
    let study = load_study_file(&a.file).map_err(|e| CliError::Input(anyhow!(e)))?;
    let (n, cpus) = (a.shards as usize, a.cpus as usize);
    let exe = std::env::current_exe()
        .map_err(|e| CliError::Internal(anyhow!("cannot find the floral executable's path: {e}")))?;
    let exp = absolute(&a.file)?;
    let out = absolute(&a.out.clone().unwrap_or_else(|| PathBuf::from("reports").join(study.name())))?;
    let header = format!(
        "floral submit: {n} shard(s) of {} ({} runs), then a merge into {}",
        text(&exp),
        study.jobs(),
        text(&out)
    );
    let job = Job {
        n,
        cpus,
        logs: out.join("logs"),
        mem: study.memory().map_or(1024, |m| request_mib(m, cpus)),
        name: floral_experiment::names::slug(study.name()),
        exe,
        exp,
        out,
        header,
        dir: &a.dir,
    };
    let files = if a.slurm { slurm_files(&job) } else { condor_files(&job)? };
    write_new(&a.dir, &files)?;
    if a.slurm {
        println!("submit with: bash {}", files[0].0.display());
    } else {
        println!("submit with: mkdir -p {} && condor_submit_dag {}", job.logs.display(), files[2].0.display());
    }
    Ok(())
}

/// The Slurm script: an array job of the shards, then the merge job (afterok).
fn slurm_files(j: &Job<'_>) -> Vec<(PathBuf, String)> {
    let Job { n, cpus, exe, exp, out, logs, mem, name, header, dir } = j;
    let shard = format!(
        "RAYON_NUM_THREADS={cpus} {} run {} --out {} --shard ${{SLURM_ARRAY_TASK_ID}}/{n} --quiet",
        sh_quote(&text(exe)),
        sh_quote(&text(exp)),
        sh_quote(&text(out))
    );
    let merge = format!("{} merge {}", sh_quote(&text(exe)), sh_quote(&text(out)));
    let script = format!(
        "#!/usr/bin/env bash\n\
         # {header}.\n\
         # Submit with: bash {file}\n\
         # Task i of the array job (--array=0-{last}) runs shard i/{n} (0-based, as $SLURM_ARRAY_TASK_ID);\n\
         # the merge job starts when every task succeeded (afterok). A failed or killed task can be\n\
         # resubmitted alone (sbatch --array=i ...): it resumes from the cells already stored.\n\
         # Memory: floral check's estimate for {cpus} parallel job(s) + 25%.\n\
         set -euo pipefail\n\
         mkdir -p {logs}\n\
         jid=$(sbatch --parsable --job-name={jname} --array=0-{last} --cpus-per-task={cpus} --mem={mem}M \\\n  \
         --output={shard_log} \\\n  --wrap={shard})\n\
         jid=${{jid%%;*}}\n\
         mid=$(sbatch --parsable --job-name={jname}-merge --dependency=afterok:\"$jid\" --mem={mem}M \\\n  \
         --output={merge_log} \\\n  --wrap={merge})\n\
         echo \"submitted array job $jid ({n} shards) and merge job ${{mid%%;*}}; report: {report}\"\n",
        file = sh_quote(&text(&dir.join(format!("{name}.slurm.sh")))),
        last = n - 1,
        logs = sh_quote(&text(logs)),
        jname = sh_quote(&format!("floral-{name}")),
        shard_log = sh_quote(&text(&logs.join("shard-%a.log"))),
        merge_log = sh_quote(&text(&logs.join("merge.log"))),
        shard = sh_quote(&shard),
        merge = sh_quote(&merge),
        report = text(&out.join("report.md")).replace('"', "\\\""),
    );
    vec![(dir.join(format!("{name}.slurm.sh")), script)]
}

/// The HTCondor files: the shards' submit file, the merge's, and the DAG that orders them.
fn condor_files(j: &Job<'_>) -> Result<Vec<(PathBuf, String)>, CliError> {
    let Job { n, cpus, exe, exp, out, logs, mem, name, header, dir } = j;
    let shards_sub = dir.join(format!("{name}.shards.sub"));
    let merge_sub = dir.join(format!("{name}.merge.sub"));
    let dag = dir.join(format!("{name}.dag"));
    let common = |what: &str| {
        format!(
            "executable = {}\nrequest_memory = {mem}MB\nlog = {}\noutput = {}\nerror = {}\n",
            text(exe),
            text(&logs.join("condor.log")),
            text(&logs.join(format!("{what}.out"))),
            text(&logs.join(format!("{what}.err")))
        )
    };
    let shards = format!(
        "# {header}.\n\
         # Job $(Process) (0..{last}) runs shard $(Process)/{n}, 0-based. Submit the whole with:\n\
         #   mkdir -p {logs} && condor_submit_dag {dag}\n\
         # Memory: floral check's estimate for {cpus} parallel job(s) + 25%.\n\
         universe = vanilla\n{common}\
         arguments = \"run {exp} --out {out} --shard $(Process)/{n} --quiet\"\n\
         environment = \"RAYON_NUM_THREADS={cpus}\"\n\
         request_cpus = {cpus}\n\
         queue {n}\n",
        last = n - 1,
        logs = sh_quote(&text(logs)),
        dag = sh_quote(&text(&dag)),
        common = common("shard-$(Process)"),
        exp = condor_quote(&text(exp)),
        out = condor_quote(&text(out)),
    );
    let merge = format!(
        "# The merge step of {name}: assembles the report from the shards' cell stores.\n\
         universe = vanilla\n{common}\
         arguments = \"merge {out}\"\n\
         request_cpus = 1\n\
         queue\n",
        common = common("merge"),
        out = condor_quote(&text(out)),
    );
    let dagfile = format!(
        "# {header}.\n# Submit with: mkdir -p {logs} && condor_submit_dag {dag}\nJOB shards {shards}\nJOB merge {merge}\nPARENT shards CHILD merge\n",
        logs = sh_quote(&text(logs)),
        dag = sh_quote(&text(&dag)),
        shards = text(&absolute(&shards_sub)?),
        merge = text(&absolute(&merge_sub)?),
    );
    Ok(vec![(shards_sub, shards), (merge_sub, merge), (dag, dagfile)])
}

/// Write `files` under `dir`, refusing (before writing anything) when one exists already.
fn write_new(dir: &Path, files: &[(PathBuf, String)]) -> Result<(), CliError> {
    // Nothing is overwritten: refuse before writing anything.
    let existing: Vec<String> = files.iter().filter(|(p, _)| p.exists()).map(|(p, _)| text(p)).collect();
    if !existing.is_empty() {
        return Err(CliError::Input(anyhow!(
            "{} already exist(s); floral submit never overwrites a file (remove it or choose --dir)",
            existing.join(", ")
        )));
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| CliError::Input(anyhow!("{}: cannot create the directory: {e}", dir.display())))?;
    for (p, t) in files {
        floral_experiment::report::write_text_atomic(p, t).map_err(|e| CliError::Input(anyhow!(e)))?;
    }
    for (p, _) in files {
        println!("wrote {}", p.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quoting_survives_quotes_and_spaces() {
        assert_eq!(sh_quote("a b"), "'a b'");
        assert_eq!(sh_quote("it's"), r"'it'\''s'");
        assert_eq!(condor_quote("it's \"x\""), "'it''s \"\"x\"\"'");
    }
}
