//! The one runner every kind shares: groups one after the other (one group's shared state in
//! memory at a time), each group's cells in parallel (rayon) and collected in cell order, so
//! results never depend on the thread count.

use rayon::prelude::*;

use super::store::{CellStore, Shard};
use super::{CellId, Kind};
use crate::ExperimentError;

/// What a run through the cell store did for its shard ([`crate::frame::runner::run_stored`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShardRun {
    /// Cells of the shard.
    pub cells: usize,
    /// Cells computed by this call.
    pub computed: usize,
    /// Cells found intact in the store (not computed again).
    pub stored: usize,
}

/// Every group record (group order) and every cell (cell order) of a study.
pub type Collected<K> = (Vec<<K as Kind>::GroupRecord>, Vec<<K as Kind>::Cell>);

/// Called with each finished cell (its index and result) before its progress line.
type OnDone<'a, C> = dyn Fn(usize, &C) -> Result<(), ExperimentError> + Sync + 'a;

/// The store key of group `g`'s record.
pub fn group_key(g: usize) -> String {
    format!("group-g{g}")
}

fn internal(message: &str) -> ExperimentError {
    ExperimentError::Run { what: "study frame".into(), message: message.into() }
}

/// The indices of the cells of group `g` among `cells`.
fn of_group<T>(cells: &[CellId<T>], g: usize, keep: impl Fn(usize) -> bool) -> Vec<usize> {
    (0..cells.len()).filter(|&i| cells[i].group == g && keep(i)).collect()
}

/// Compute `todo` (cell indices of one group) against the group's state, in parallel,
/// returning the results in the order of `todo`; `done` is called with each result as it
/// finishes (from worker threads), then `progress` with the cell's label.
fn compute_group<K: Kind>(
    k: &K,
    group: &K::Group,
    cells: &[CellId<K::What>],
    todo: &[usize],
    done: &OnDone<'_, K::Cell>,
    progress: &(dyn Fn(&str) + Sync),
) -> Vec<Result<K::Cell, ExperimentError>> {
    todo.par_iter()
        .map(|&i| {
            let r = k.compute(group, &cells[i]).and_then(|c| done(i, &c).map(|()| c));
            progress(&cells[i].label);
            r
        })
        .collect()
}

/// Run every cell in memory: the group records in group order and the cells in cell order.
///
/// # Errors
/// The first failure in cell order within the first group that fails.
pub fn run_in_memory<K: Kind>(k: &K, progress: &(dyn Fn(&str) + Sync)) -> Result<Collected<K>, ExperimentError> {
    let cells = k.cells();
    let mut slots: Vec<Option<K::Cell>> = (0..cells.len()).map(|_| None).collect();
    let mut records = Vec::with_capacity(k.groups());
    for g in 0..k.groups() {
        let (group, record) = k.build_group(g)?;
        records.push(record);
        let todo = of_group(&cells, g, |_| true);
        let out = compute_group(k, &group, &cells, &todo, &|_, _| Ok(()), progress);
        for (i, r) in todo.into_iter().zip(out) {
            slots[i] = Some(r?);
        }
    }
    let cells = slots.into_iter().collect::<Option<Vec<_>>>().ok_or_else(|| internal("a cell belongs to no group"))?;
    Ok((records, cells))
}

/// Compute the cells of `shard` that `store` lacks, storing each as soon as it finishes (a
/// killed run loses only the cells in flight), group by group. A group is built only when one
/// of its owned cells is missing, or when its record is missing and the shard owns it (group
/// index ≡ shard index mod shard count, or one of its cells): so after every shard has run, each
/// group record is stored and no shard built a group it did not need. `progress` is called once
/// per owned cell: for a stored cell first, its label followed by ` (stored)`.
///
/// # Errors
/// The first failure within the first group that fails, or a store write error. Cells finished
/// before the failure stay stored.
pub fn run_stored<K: Kind>(
    k: &K,
    store: &CellStore,
    shard: Shard,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<ShardRun, ExperimentError> {
    let cells = k.cells();
    let mut run = ShardRun::default();
    for g in 0..k.groups() {
        let mine = of_group(&cells, g, |i| shard.owns(i));
        run.cells += mine.len();
        let mut missing = Vec::new();
        for &i in &mine {
            if store.has::<K::Cell>(&cells[i].key) {
                run.stored += 1;
                progress(&format!("{} (stored)", cells[i].label));
            } else {
                missing.push(i);
            }
        }
        let owns_record = shard.owns(g) || !mine.is_empty();
        let need_record = owns_record && !store.has::<K::GroupRecord>(&group_key(g));
        if missing.is_empty() && !need_record {
            continue;
        }
        let (group, record) = k.build_group(g)?;
        if need_record {
            store.put(&group_key(g), &record)?;
        }
        let out = compute_group(k, &group, &cells, &missing, &|i, c| store.put(&cells[i].key, c), progress);
        for r in out {
            r?;
            run.computed += 1;
        }
    }
    Ok(run)
}

/// Every group record and cell, read from `stores` (the first intact copy of each file wins):
/// what [`run_in_memory`] returns, so the report does not depend on where or how the cells were
/// computed.
///
/// # Errors
/// [`ExperimentError::Store`] listing what is missing when the stores are incomplete.
pub fn assemble<K: Kind>(k: &K, stores: &[CellStore]) -> Result<Collected<K>, ExperimentError> {
    let cells = k.cells();
    let mut missing = Vec::new();
    let mut records = Vec::with_capacity(k.groups());
    for g in 0..k.groups() {
        let key = group_key(g);
        match stores.iter().find_map(|s| s.get::<K::GroupRecord>(&key)) {
            Some(r) => records.push(r),
            None => missing.push(format!("the record of group {g} ({key})")),
        }
    }
    let mut found = Vec::with_capacity(cells.len());
    for (i, c) in cells.iter().enumerate() {
        match stores.iter().find_map(|s| s.get::<K::Cell>(&c.key)) {
            Some(r) => found.push(r),
            None => missing.push(format!("cell {i} ({}: {})", c.key, c.label)),
        }
    }
    if !missing.is_empty() {
        let path = stores.first().map_or_else(std::path::PathBuf::new, |s| s.dir().to_path_buf());
        let shown: Vec<&str> = missing.iter().take(10).map(String::as_str).collect();
        let more = if missing.len() > 10 { format!(" and {} more", missing.len() - 10) } else { String::new() };
        return Err(ExperimentError::Store {
            path,
            message: format!(
                "the cell stores are incomplete ({} of {} cells present); missing: {}{more}. Run the missing shards (or `floral run` without --shard into the same --out) and merge again",
                found.len(),
                cells.len(),
                shown.join(", ")
            ),
        });
    }
    Ok((records, found))
}
