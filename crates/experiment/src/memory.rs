//! What a run will hold in memory, estimated by `check` before anything heavy is allocated, and
//! the machine's available memory to compare it with.

use floral_game::SplitKernels;

const MIB: f64 = 1024.0 * 1024.0;

/// Fixed allowance for the program itself, allocator slack and small buffers.
pub const BASE_BYTES: usize = 64 << 20;
/// Grid rows per chunk when computing decision-plot values (bounds the plot's memory).
pub const GRID_CHUNK: usize = 256;

/// The estimated peak memory of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MemoryEstimate {
    /// Kernel matrices of the largest group of seeds sharing points (Gram + cross-kernels),
    /// the only O(n²) memory: one group is alive at a time.
    pub kernel_bytes: usize,
    /// Features and labels of every loaded split.
    pub data_bytes: usize,
    /// The largest job's own memory (learner state, recorder, SMO row cache, plot chunk).
    pub job_bytes: usize,
    /// Jobs that run at once.
    pub parallel_jobs: usize,
    /// Total: base + data + kernels + parallel_jobs × job.
    pub total_bytes: usize,
    /// The machine's available memory when checked (None when it cannot be read).
    pub available_bytes: Option<usize>,
}

impl MemoryEstimate {
    /// Combine the parts.
    pub fn new(kernel_bytes: usize, data_bytes: usize, job_bytes: usize, parallel_jobs: usize) -> Self {
        let total_bytes = BASE_BYTES
            .saturating_add(data_bytes)
            .saturating_add(kernel_bytes)
            .saturating_add(job_bytes.saturating_mul(parallel_jobs));
        Self { kernel_bytes, data_bytes, job_bytes, parallel_jobs, total_bytes, available_bytes: available_bytes() }
    }

    /// True when the estimate exceeds the available memory (false when that is unknown).
    pub fn exceeds_available(&self) -> bool {
        self.available_bytes.is_some_and(|a| self.total_bytes > a)
    }

    /// "N MiB (kernels K MiB, data D MiB, J jobs × M MiB)".
    pub fn describe(&self) -> String {
        if self.parallel_jobs == 0 {
            return format!("{:.0} MiB for the kernel matrices alone", self.kernel_bytes as f64 / MIB);
        }
        format!(
            "{:.0} MiB (kernel matrices {:.0} MiB, data {:.0} MiB, {} parallel job(s) × {:.0} MiB)",
            self.total_bytes as f64 / MIB,
            self.kernel_bytes as f64 / MIB,
            self.data_bytes as f64 / MIB,
            self.parallel_jobs,
            self.job_bytes as f64 / MIB
        )
    }
}

/// Bytes of the shared kernel matrices for splits of these sizes (see [`SplitKernels`]).
pub fn kernel_bytes(n_train: usize, n_validation: usize, n_test: usize) -> usize {
    SplitKernels::bytes_for(n_train, n_validation, n_test)
}

/// Bytes one job holds beyond the shared kernels, for a training set of n points:
/// FLORAL ≈ 16 n-vectors (learner, fork-free caches, recorder's last/average/best models,
/// evaluation buffers) plus its trace; SVM: the SMO row cache (at most n² entries) plus 8
/// n-vectors; decision plots: one chunk of grid-by-train kernel rows.
pub fn job_bytes(n: usize, floral_trace_rounds: usize, has_svm: bool, plots: bool) -> usize {
    let vecs = 8usize.saturating_mul(n);
    let floral = vecs.saturating_mul(16).saturating_add(floral_trace_rounds.saturating_mul(256));
    let svm = if has_svm {
        let cache = (floral_defense::SVM_CACHE_MB * MIB) as usize;
        cache.min(vecs.saturating_mul(n)).saturating_add(vecs.saturating_mul(8))
    } else {
        0
    };
    let plot = if plots { vecs.saturating_mul(GRID_CHUNK) } else { 0 };
    floral.max(svm).saturating_add(plot)
}

/// MemAvailable from /proc/meminfo, in bytes (None where it cannot be read).
pub fn available_bytes() -> Option<usize> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    kb.checked_mul(1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_bytes_count_gram_and_cross_kernels() {
        assert_eq!(kernel_bytes(8000, 1000, 1000), 8 * 8000 * 10000);
        assert_eq!(kernel_bytes(usize::MAX, 1, 1), usize::MAX);
    }

    #[test]
    fn baselines_count_their_own_matrices() {
        use crate::spec::DefenceSpec;
        use floral_defense::{TrustedPool, TrustedSvmParams};
        let bytes = |d: DefenceSpec| {
            crate::registry::baseline(std::path::Path::new("t.ron"), "d", &d).unwrap().extra_bytes(100, 50)
        };
        assert_eq!(bytes(DefenceSpec::LnSvm(Default::default())), 8 * 100 * 100);
        assert_eq!(bytes(DefenceSpec::KLid(Default::default())), 8 * 50 * 100);
        let t = |pool| DefenceSpec::TrustedSvm(TrustedSvmParams { c: 1.0, pool });
        assert_eq!(bytes(t(TrustedPool::Trusted)), 8 * 50 * 50);
        assert_eq!(bytes(t(TrustedPool::TrainAndTrusted)), 8 * 150 * 150);
        assert_eq!(bytes(DefenceSpec::Curie(Default::default())), 0);
    }

    #[test]
    fn the_total_adds_parallel_jobs_and_flags_excess() {
        let mut e = MemoryEstimate::new(100, 10, 5, 2);
        assert_eq!(e.total_bytes, BASE_BYTES + 120);
        e.available_bytes = Some(BASE_BYTES);
        assert!(e.exceeds_available());
        e.available_bytes = None;
        assert!(!e.exceeds_available());
        assert!(e.describe().contains("2 parallel job(s)"));
    }
}
