//! Rows of Q̃ for the SMO solver, in the solver's (permuted) index order.
//!
//! One solver loop serves two storage schemes through [`RowSource`]:
//! - [`DenseSource`]: entries gathered from a dense n×n matrix (K with label signs, or Q̃);
//! - [`KernelSource`]: entries computed on demand with [`Kernel::row_into`] from a permuted
//!   row-major copy of the features.
//!
//! Either way rows pass through LIBSVM's LRU row cache ([`Cache`]): a row is kept as a prefix
//! of the current (permuted) order, extended when a longer prefix is asked for, and the least
//! recently used rows are dropped when the memory budget is exceeded.

use faer::MatRef;
use rayon::prelude::*;

use crate::Kernel;

/// Entries per parallel chunk when computing a kernel row.
const ROW_CHUNK: usize = 2048;

/// Where the entries Q̃_ij come from, in the solver's current index order.
pub(crate) trait RowSource {
    /// Number of points.
    fn n(&self) -> usize;
    /// Q̃_ii for position i (current order).
    fn diag(&self, i: usize) -> f64;
    /// out_t = Q̃_{i, start + t}, current order.
    fn fill(&self, i: usize, start: usize, out: &mut [f64]);
    /// Exchange positions i and j.
    fn swap(&mut self, i: usize, j: usize);
}

/// Entries (s_i s_j)·M_{perm(i), perm(j)} of a dense symmetric matrix M with signs s.
pub(crate) struct DenseSource<'a> {
    m: MatRef<'a, f64>,
    sign: Vec<f64>,
    perm: Vec<usize>,
}

impl<'a> DenseSource<'a> {
    /// `m` symmetric n×n, `sign` of length n (±1 each; all +1 when `m` is Q̃ already).
    pub(crate) fn new(m: MatRef<'a, f64>, sign: Vec<f64>) -> Self {
        let n = m.nrows();
        debug_assert_eq!(sign.len(), n);
        Self { m, sign, perm: (0..n).collect() }
    }

    /// The principal submatrix of `m` on the rows and columns `idx` (position t is row
    /// `idx[t]` of `m`), with signs `sign` (one per position): no copy of `m`.
    pub(crate) fn subset(m: MatRef<'a, f64>, idx: &[usize], sign: Vec<f64>) -> Self {
        debug_assert_eq!(sign.len(), idx.len());
        Self { m, sign, perm: idx.to_vec() }
    }
}

impl RowSource for DenseSource<'_> {
    fn n(&self) -> usize {
        self.perm.len()
    }

    fn diag(&self, i: usize) -> f64 {
        let p = self.perm[i];
        self.m[(p, p)]
    }

    fn fill(&self, i: usize, start: usize, out: &mut [f64]) {
        let si = self.sign[i];
        let col = self.m.col(self.perm[i]);
        let perm = &self.perm[start..start + out.len()];
        let sign = &self.sign[start..start + out.len()];
        match col.try_as_col_major() {
            Some(c) => {
                let c = c.as_slice();
                for ((o, &p), &sj) in out.iter_mut().zip(perm).zip(sign) {
                    *o = (si * sj) * c[p];
                }
            }
            None => {
                for ((o, &p), &sj) in out.iter_mut().zip(perm).zip(sign) {
                    *o = (si * sj) * col[p];
                }
            }
        }
    }

    fn swap(&mut self, i: usize, j: usize) {
        self.perm.swap(i, j);
        self.sign.swap(i, j);
    }
}

/// Entries (s_i s_j)·k(x_i, x_j) computed on demand from a permuted row-major copy of X.
pub(crate) struct KernelSource<'a> {
    kernel: &'a dyn Kernel,
    xs: Vec<f64>,
    d: usize,
    sign: Vec<f64>,
}

impl<'a> KernelSource<'a> {
    /// Copy `x` (n×d) row-major; `sign` of length n.
    pub(crate) fn new(kernel: &'a dyn Kernel, x: MatRef<'_, f64>, sign: Vec<f64>) -> Self {
        let (n, d) = (x.nrows(), x.ncols());
        debug_assert_eq!(sign.len(), n);
        let mut xs = vec![0.0; n * d];
        for k in 0..d {
            let col = x.col(k);
            for i in 0..n {
                xs[i * d + k] = col[i];
            }
        }
        Self { kernel, xs, d, sign }
    }

    fn point(&self, i: usize) -> &[f64] {
        &self.xs[i * self.d..(i + 1) * self.d]
    }
}

impl RowSource for KernelSource<'_> {
    fn n(&self) -> usize {
        self.sign.len()
    }

    fn diag(&self, i: usize) -> f64 {
        let mut out = [0.0];
        let a = self.point(i);
        self.kernel.row_into(a, a, &mut out);
        out[0]
    }

    fn fill(&self, i: usize, start: usize, out: &mut [f64]) {
        let d = self.d;
        let m = out.len();
        let a = self.point(i);
        let z = &self.xs[start * d..(start + m) * d];
        if m > ROW_CHUNK {
            out.par_chunks_mut(ROW_CHUNK).enumerate().for_each(|(c, o)| {
                let s = c * ROW_CHUNK;
                self.kernel.row_into(a, &z[s * d..(s + o.len()) * d], o);
            });
        } else {
            self.kernel.row_into(a, z, out);
        }
        let si = self.sign[i];
        for (o, &sj) in out.iter_mut().zip(&self.sign[start..start + m]) {
            *o *= si * sj;
        }
    }

    fn swap(&mut self, i: usize, j: usize) {
        if i == j {
            return;
        }
        self.sign.swap(i, j);
        let d = self.d;
        for k in 0..d {
            self.xs.swap(i * d + k, j * d + k);
        }
    }
}

/// LIBSVM's kernel-row cache: row prefixes in the current index order, least recently used
/// dropped first, total size bounded by a budget of f64 entries (at least two full rows).
pub(crate) struct Cache {
    l: usize,
    /// Free budget, in entries.
    free: usize,
    data: Vec<Vec<f64>>,
    /// Doubly linked LRU list; index `l` is the sentinel (next = least recent).
    prev: Vec<usize>,
    next: Vec<usize>,
}

impl Cache {
    /// A cache for `l` rows with room for `budget` entries (raised to 2l).
    pub(crate) fn new(l: usize, budget: usize) -> Self {
        let mut prev = vec![usize::MAX; l + 1];
        let mut next = vec![usize::MAX; l + 1];
        prev[l] = l;
        next[l] = l;
        Self { l, free: budget.max(2 * l), data: vec![Vec::new(); l], prev, next }
    }

    fn lru_delete(&mut self, h: usize) {
        let (p, n) = (self.prev[h], self.next[h]);
        self.next[p] = n;
        self.prev[n] = p;
    }

    fn lru_insert(&mut self, h: usize) {
        let s = self.l;
        let last = self.prev[s];
        self.next[h] = s;
        self.prev[h] = last;
        self.next[last] = h;
        self.prev[s] = h;
    }

    /// Make row `index` hold at least `len` entries (evicting others if needed) and mark it most
    /// recently used. Returns how many leading entries were already valid; entries from there
    /// up to `len` must be filled by the caller.
    pub(crate) fn get_data(&mut self, index: usize, len: usize) -> usize {
        let old = self.data[index].len();
        if old > 0 {
            self.lru_delete(index);
        }
        if len > old {
            let more = len - old;
            // An evicted row's buffer is reused for a row that has none, so a full cache
            // recycles its memory instead of freeing and re-allocating (and re-faulting) it.
            let mut spare: Option<Vec<f64>> = None;
            while self.free < more {
                let victim = self.next[self.l];
                if victim == self.l {
                    break;
                }
                self.lru_delete(victim);
                self.free += self.data[victim].len();
                let buf = std::mem::take(&mut self.data[victim]);
                if old == 0 && spare.as_ref().is_none_or(|b| b.capacity() < buf.capacity()) {
                    spare = Some(buf);
                }
            }
            if let Some(mut buf) = spare {
                buf.clear();
                self.data[index] = buf;
            }
            self.data[index].resize(len, 0.0);
            self.free = self.free.saturating_sub(more);
        }
        self.lru_insert(index);
        old
    }

    /// Row `index` (as many entries as are cached).
    pub(crate) fn row(&self, index: usize) -> &[f64] {
        &self.data[index]
    }

    /// Row `index`, mutable.
    pub(crate) fn row_mut(&mut self, index: usize) -> &mut [f64] {
        &mut self.data[index]
    }

    /// Exchange positions i and j: swap the two rows, and entries i and j inside every cached
    /// row; a row that covers i but not j is dropped (as LIBSVM does).
    pub(crate) fn swap_index(&mut self, i: usize, j: usize) {
        if i == j {
            return;
        }
        if !self.data[i].is_empty() {
            self.lru_delete(i);
        }
        if !self.data[j].is_empty() {
            self.lru_delete(j);
        }
        self.data.swap(i, j);
        if !self.data[i].is_empty() {
            self.lru_insert(i);
        }
        if !self.data[j].is_empty() {
            self.lru_insert(j);
        }
        let (lo, hi) = if i < j { (i, j) } else { (j, i) };
        let mut h = self.next[self.l];
        while h != self.l {
            let nx = self.next[h];
            let len = self.data[h].len();
            if len > lo {
                if len > hi {
                    self.data[h].swap(lo, hi);
                } else {
                    self.lru_delete(h);
                    self.free += len;
                    self.data[h] = Vec::new();
                }
            }
            h = nx;
        }
    }
}

/// Q̃ rows through the cache: what the SMO loop talks to.
pub(crate) struct CachedQ<S: RowSource> {
    src: S,
    cache: Cache,
}

impl<S: RowSource> CachedQ<S> {
    /// Rows from `src` with a cache of `budget` entries.
    pub(crate) fn new(src: S, budget: usize) -> Self {
        let n = src.n();
        Self { src, cache: Cache::new(n, budget) }
    }

    pub(crate) fn n(&self) -> usize {
        self.src.n()
    }

    pub(crate) fn diag(&self, i: usize) -> f64 {
        self.src.diag(i)
    }

    fn ensure(&mut self, i: usize, len: usize) {
        let start = self.cache.get_data(i, len);
        if start < len {
            let row = self.cache.row_mut(i);
            self.src.fill(i, start, &mut row[start..len]);
        }
    }

    /// The first `len` entries of row i (current order).
    pub(crate) fn row(&mut self, i: usize, len: usize) -> &[f64] {
        self.ensure(i, len);
        &self.cache.row(i)[..len]
    }

    /// The first `len` entries of rows i and j, both valid at once.
    pub(crate) fn rows2(&mut self, i: usize, j: usize, len: usize) -> (&[f64], &[f64]) {
        self.ensure(i, len);
        self.ensure(j, len);
        // The budget holds at least two full rows and i was used just before j, so i is still
        // cached; re-ensure anyway (a no-op that only refreshes its LRU position).
        if self.cache.row(i).len() < len {
            self.ensure(i, len);
        }
        (&self.cache.row(i)[..len], &self.cache.row(j)[..len])
    }

    /// Exchange positions i and j in the source and the cache.
    pub(crate) fn swap_index(&mut self, i: usize, j: usize) {
        self.cache.swap_index(i, j);
        self.src.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::Mat;

    #[test]
    fn cache_evicts_least_recently_used_and_extends_prefixes() {
        let mut c = Cache::new(4, 8); // room for two full rows
        assert_eq!(c.get_data(0, 4), 0);
        c.row_mut(0).copy_from_slice(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(c.get_data(1, 2), 0);
        assert_eq!(c.get_data(1, 4), 2); // extend: two entries valid already
        assert_eq!(c.get_data(0, 3), 4); // hit, refresh row 0
        assert_eq!(c.get_data(2, 4), 0); // evicts row 1 (least recent)
        assert!(c.row(1).is_empty());
        assert_eq!(c.row(0), &[1.0, 2.0, 3.0, 4.0]);
    }

    #[test]
    fn cache_swap_keeps_rows_consistent() {
        let mut c = Cache::new(4, 100);
        for (r, len) in [(0usize, 4usize), (1, 2), (3, 4)] {
            c.get_data(r, len);
            for t in 0..len {
                c.row_mut(r)[t] = (10 * r + t) as f64;
            }
        }
        c.swap_index(1, 3);
        // Position 1 now holds old row 3 with entries 1 and 3 exchanged; row 0 likewise.
        assert_eq!(c.row(1), &[30.0, 33.0, 32.0, 31.0]);
        assert_eq!(c.row(0), &[0.0, 3.0, 2.0, 1.0]);
        // Old row 1 (now at position 3) has 2 entries: it covers position 1 but not 3, so it
        // is dropped and its budget returned.
        assert!(c.row(3).is_empty());
        assert_eq!(c.free, 100 - 8);
    }

    #[test]
    fn dense_and_kernel_sources_agree_after_swaps() {
        let k = crate::Rbf::new(crate::RbfParams { gamma: 0.4 }).unwrap();
        let x = Mat::from_fn(6, 2, |i, j| (i as f64) * 0.3 - (j as f64) * 0.7);
        let g = crate::kernel::gram_naive(&k, x.as_ref(), x.as_ref());
        let sign = vec![1.0, -1.0, -1.0, 1.0, 1.0, -1.0];
        let mut a = DenseSource::new(g.as_ref(), sign.clone());
        let mut b = KernelSource::new(&k, x.as_ref(), sign);
        for (i, j) in [(0, 5), (2, 3), (1, 4)] {
            a.swap(i, j);
            b.swap(i, j);
        }
        for i in 0..6 {
            let mut ra = vec![0.0; 4];
            let mut rb = vec![0.0; 4];
            a.fill(i, 2, &mut ra);
            b.fill(i, 2, &mut rb);
            assert_eq!(ra, rb);
            assert_eq!(a.diag(i), b.diag(i));
        }
    }
}
