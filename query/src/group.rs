//! The hash table of a GROUP BY: group keys to dense group ids, the keys' columns, and one
//! accumulator per aggregate call.
//!
//! Each scan thread fills a table of its own over the blocks it reads; the tables then merge
//! into one (`GroupTable::merge`: the other table's keys are looked up in this one, and its
//! accumulators fold into this one's through their states) and `finish` gives the result
//! block: the keys, then one column per aggregate.

use std::sync::Arc;

use granary_storage::{Block, Column, ColumnRef};
use hashbrown::HashMap;

use crate::aggregate::{append_key, Accumulator};
use crate::error::Result;
use crate::plan::AggregatePlan;

/// One thread's (or the merged) grouping state.
pub struct GroupTable<'p> {
    plan: &'p AggregatePlan,
    accs: Vec<Box<dyn Accumulator>>,
    /// Encoded key (see `append_key`) → group id.
    groups: HashMap<Box<[u8]>, u32, ahash::RandomState>,
    /// Each group's key values, in group id order.
    key_columns: Vec<Column>,
    n_groups: usize,
    /// Bytes of the encoded keys held.
    key_bytes: usize,
    /// Scratch: the group id of each row of the current block.
    ids: Vec<u32>,
}

impl<'p> GroupTable<'p> {
    /// An empty table for a plan (with one group already when there are no keys).
    pub fn new(plan: &'p AggregatePlan) -> Result<GroupTable<'p>> {
        let accs = plan
            .aggs
            .iter()
            .map(|a| a.mode.accumulator(&a.func, &a.args.iter().map(|e| e.ty()).collect::<Vec<_>>(), &a.ty))
            .collect::<Result<_>>()?;
        Ok(GroupTable {
            plan,
            accs,
            groups: HashMap::default(),
            key_columns: plan.keys.iter().map(|k| Column::empty(k.ty())).collect(),
            n_groups: if plan.keys.is_empty() { 1 } else { 0 },
            key_bytes: 0,
            ids: Vec::new(),
        })
    }

    /// Folds one block of rows: one group id per row, then each accumulator folds the block.
    pub fn update(&mut self, block: &Block) -> Result<()> {
        if block.is_empty() {
            return Ok(());
        }
        self.ids.clear();
        if self.plan.keys.is_empty() {
            self.ids.resize(block.rows(), 0);
        } else {
            let keys = self.plan.keys.iter().map(|k| k.eval(block)).collect::<Result<Vec<_>>>()?;
            let mut first_rows = Vec::new();
            let mut key = Vec::new();
            for row in 0..block.rows() {
                key.clear();
                for k in &keys {
                    append_key(k, row, &mut key);
                }
                let id = match self.groups.get(key.as_slice()) {
                    Some(&id) => id,
                    None => {
                        let id = self.n_groups as u32;
                        self.key_bytes += key.len();
                        self.groups.insert(key.clone().into_boxed_slice(), id);
                        self.n_groups += 1;
                        first_rows.push(row as u32);
                        id
                    }
                };
                self.ids.push(id);
            }
            for (acc, k) in self.key_columns.iter_mut().zip(&keys) {
                acc.append(&k.take(&first_rows));
            }
        }
        for (acc, call) in self.accs.iter_mut().zip(&self.plan.aggs) {
            let args = call.args.iter().map(|a| a.eval(block)).collect::<Result<Vec<_>>>()?;
            acc.update(&self.ids, self.n_groups, &args)?;
        }
        Ok(())
    }

    /// Bytes held, roughly: keys, key columns, a state per group and call, accumulator data.
    pub fn memory_size(&self) -> usize {
        let per_group = 16 + 16 * self.accs.len();
        self.key_bytes + self.n_groups * per_group + self.key_columns.iter().map(Column::memory_size).sum::<usize>() + self.accs.iter().map(|a| a.memory_size()).sum::<usize>()
    }

    /// Folds another table of the same plan into this one.
    pub fn merge(&mut self, mut other: GroupTable) -> Result<()> {
        for acc in &mut other.accs {
            acc.update(&[], other.n_groups, &[])?;
        }
        let mut ids = vec![0u32; other.n_groups];
        let mut new_groups = Vec::new();
        for (key, their) in other.groups.drain() {
            ids[their as usize] = match self.groups.get(&key) {
                Some(&id) => id,
                None => {
                    let id = self.n_groups as u32;
                    self.key_bytes += key.len();
                    self.groups.insert(key, id);
                    self.n_groups += 1;
                    new_groups.push(their);
                    id
                }
            };
        }
        // New groups got ids in the order of `new_groups`.
        for (mine, theirs) in self.key_columns.iter_mut().zip(&other.key_columns) {
            mine.append(&theirs.take(&new_groups));
        }
        for (acc, theirs) in self.accs.iter_mut().zip(other.accs) {
            acc.merge_from(&ids, self.n_groups, theirs)?;
        }
        Ok(())
    }

    /// The result: the keys, then one column per aggregate call, one row per group.
    pub fn finish(mut self) -> Result<Block> {
        let mut columns: Vec<ColumnRef> = self.key_columns.into_iter().map(Arc::new).collect();
        for acc in self.accs.iter_mut() {
            // Groups that no block touched still need a state (the empty-input single group).
            acc.update(&[], self.n_groups, &[])?;
        }
        columns.extend(self.accs.into_iter().map(|a| Arc::new(a.finish())));
        Ok(Block::with_rows(columns, self.n_groups))
    }
}
