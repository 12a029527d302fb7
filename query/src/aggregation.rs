//! One GROUP BY over a stream of blocks: a `GroupTable` for a plain GROUP BY, one per set for
//! `GROUPING SETS` (and the `ROLLUP` and `CUBE` that expand to them).
//!
//! Every block feeds every set's table, so the rows are read once whatever the number of
//! sets. The result lists each set's groups after the previous set's, as a UNION ALL would:
//! all the plan's keys, a key the set does not group by showing its type's default (0, '',
//! NULL when Nullable) as ClickHouse does without `group_by_use_nulls`, then the set's number
//! (from 1, which `grouping(…)` reads), then the aggregates. As in ClickHouse, grouping sets
//! with keys over no rows give no rows, not even for the empty set.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use granary_storage::{Block, Column, ColumnData, ColumnRef, DataType};

use crate::coding::Coding;
use crate::error::Result;
use crate::group::GroupTable;
use crate::plan::AggregatePlan;

/// The grouping state of one thread (or, once merged, of the whole query).
pub struct Aggregation<'p> {
    plan: &'p AggregatePlan,
    tables: Vec<GroupTable<'p>>,
    /// `WITH TOTALS`: the one group of every row.
    totals: Option<GroupTable<'p>>,
    /// Rows folded so far.
    rows: usize,
}

impl<'p> Aggregation<'p> {
    /// Empty tables for a plan.
    pub fn new(plan: &'p AggregatePlan) -> Result<Aggregation<'p>> {
        let tables = match plan.sets.is_empty() {
            true => vec![GroupTable::new(plan)?],
            false => plan.sets.iter().map(|s| GroupTable::new(&s.plan)).collect::<Result<_>>()?,
        };
        let totals = plan.totals.as_deref().map(GroupTable::new).transpose()?;
        Ok(Aggregation { plan, tables, totals, rows: 0 })
    }

    /// Folds one block of rows into every table; `codings` gives the form of each column of
    /// the block (see `Coding`; it may be empty when every column is plain).
    pub fn update(&mut self, block: &Block, codings: &[Coding]) -> Result<()> {
        self.rows += block.rows();
        self.tables.iter_mut().chain(&mut self.totals).try_for_each(|t| t.update(block, codings))
    }

    /// Groups of a plain GROUP BY so far (0 with grouping sets, which are not pre-sized).
    pub fn groups(&self) -> usize {
        match self.plan.sets.is_empty() {
            true => self.tables[0].groups(),
            false => 0,
        }
    }

    /// Makes a plain GROUP BY's table ready for `groups` groups (see `GroupTable::reserve`).
    pub fn reserve(&mut self, groups: usize) {
        if self.plan.sets.is_empty() {
            self.tables[0].reserve(groups);
        }
    }

    /// Bytes held, roughly.
    pub fn memory_size(&self) -> usize {
        self.tables.iter().chain(&self.totals).map(GroupTable::memory_size).sum()
    }

    /// Readies every table for the merge (see `GroupTable::seal`), on the thread that filled it.
    pub fn seal(&mut self) {
        self.tables.iter_mut().chain(&mut self.totals).for_each(GroupTable::seal);
    }

    /// Folds another thread's state into this one.
    pub fn merge(&mut self, other: Aggregation) -> Result<()> {
        self.rows += other.rows;
        if let (Some(mine), Some(theirs)) = (&mut self.totals, other.totals) {
            mine.merge(theirs)?;
        }
        self.tables.iter_mut().zip(other.tables).try_for_each(|(mine, theirs)| mine.merge(theirs))
    }

    /// The result block (see the module comment for its columns), and with `WITH TOTALS` the
    /// totals row in the same columns: each key at its type's default, then the aggregates
    /// over every row (of none, when no row came).
    pub fn finish(self) -> Result<(Block, Option<Block>)> {
        let plan = self.plan;
        let totals = match self.totals {
            Some(table) => {
                let aggs = table.finish()?;
                let keys = plan.keys.iter().map(|k| Arc::new(Column::defaults(k.ty(), 1)));
                Some(Block::with_rows(keys.chain(aggs.columns).collect(), 1))
            }
            None => None,
        };
        // With keys (or grouped by outer values), no rows in gives no rows out, the empty
        // set's group included.
        let none = self.rows == 0 && (!plan.keys.is_empty() || plan.grouped_by_outer);
        let block = match plan.sets.is_empty() {
            true => self.tables.into_iter().next().expect("one table").finish()?,
            false => sets_block(plan, self.tables)?,
        };
        Ok((if none { block.slice(0, 0) } else { block }, totals))
    }
}

/// The groups of every set, one set after another, with the set number column.
fn sets_block(plan: &AggregatePlan, tables: Vec<GroupTable>) -> Result<Block> {
    let width = plan.width();
    let mut parts: Vec<Vec<ColumnRef>> = vec![Vec::new(); width];
    let mut rows = 0;
    for (number, (set, table)) in plan.sets.iter().zip(tables).enumerate() {
        let block = table.finish()?;
        let n = block.rows();
        for (k, key) in plan.keys.iter().enumerate() {
            parts[k].push(match set.keys.iter().position(|&s| s == k) {
                Some(p) => block.columns[p].clone(),
                None => Arc::new(Column::defaults(key.ty(), n)),
            });
        }
        parts[plan.keys.len()].push(Arc::new(Column::new(DataType::UInt64, ColumnData::U64(vec![number as u64 + 1; n]))));
        parts[plan.first_aggregate()..].iter_mut().zip(&block.columns[set.keys.len()..]).for_each(|(p, c)| p.push(c.clone()));
        rows += n;
    }
    let columns = parts.into_iter().map(|p| Arc::new(Column::concat(p[0].ty.clone(), &p))).collect();
    Ok(Block::with_rows(columns, rows))
}

/// How many groups the GROUP BYs run lately ended with, by query shape: most per thread, and
/// after the merge. The next run of the same query sizes its tables from them up front, as
/// ClickHouse does (`collect_hash_table_stats_during_aggregation`). Dashboards run the same
/// GROUP BY again and again, and a table of a million groups grown by doubling places every
/// key about twice over and touches twice the memory.
static GROUP_COUNTS: Mutex<Option<HashMap<u64, (usize, usize)>>> = Mutex::new(None);
/// Shapes remembered before the memory starts over.
const SHAPES_REMEMBERED: usize = 4096;
/// Fewer groups than this grow fast enough: not remembered.
const GROUPS_WORTH_REMEMBERING: usize = 16_384;

/// The group counts (most per thread, merged) the query of this shape ended with last time.
pub fn remembered_groups(shape: u64) -> Option<(usize, usize)> {
    GROUP_COUNTS.lock().ok()?.as_ref()?.get(&shape).copied()
}

/// Records the group counts of a query of this shape for its next run.
pub fn remember_groups(shape: u64, per_thread: usize, merged: usize) {
    let Ok(mut counts) = GROUP_COUNTS.lock() else { return };
    let counts = counts.get_or_insert_with(HashMap::new);
    if merged < GROUPS_WORTH_REMEMBERING {
        counts.remove(&shape);
        return;
    }
    if counts.len() >= SHAPES_REMEMBERED {
        counts.clear();
    }
    counts.insert(shape, (per_thread, merged));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_counts_are_remembered_by_shape_when_large() {
        let (big, small) = (0x5eed_0001, 0x5eed_0002);
        remember_groups(big, 40_000, 70_000);
        remember_groups(small, 10, 10);
        assert_eq!(remembered_groups(big), Some((40_000, 70_000)));
        assert_eq!(remembered_groups(small), None, "small tables grow fast enough");
        // The same shape with few groups now forgets the old count.
        remember_groups(big, 5, 5);
        assert_eq!(remembered_groups(big), None);
    }
}
