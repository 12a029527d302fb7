//! The hash table of a GROUP BY: group keys to dense group ids, the keys' columns, and one
//! accumulator per aggregate call.
//!
//! Each scan thread fills a table of its own over the blocks it reads; the tables then merge
//! into one (`GroupTable::merge`: the other table's keys are looked up in this one, and its
//! accumulators fold into this one's through their states) and `finish` gives the result
//! block: the keys, then one column per aggregate.
//!
//! Keys of fixed-width, non-Nullable columns of at most 16 bytes together (integers, dates,
//! times, enums: `GROUP BY user_id`, `GROUP BY date, hour`) are packed into one `u128` per row,
//! a column at a time, and looked up as such; other keys are encoded to bytes per row
//! (`append_key`) and looked up in a `KeyIndex`, which holds encodings of up to 23 bytes
//! inline (a short string key, or `tenant_id, scenario_id, date, hour`): no allocation per
//! group and no pointer to follow per row.

use std::sync::Arc;

use granary_storage::{Block, Column, ColumnRef};
use hashbrown::HashMap;

use crate::aggregate::{append_key, Accumulator};
use crate::error::Result;
use crate::plan::AggregatePlan;

/// Group keys to group ids.
enum KeyMap {
    /// Fixed-width keys packed into a `u128`; the widths of the key columns in bytes.
    Packed(HashMap<u128, u32, ahash::RandomState>, Vec<usize>),
    /// Keys encoded by `append_key`.
    Bytes(KeyIndex<u32>),
}

/// One thread's (or the merged) grouping state.
pub struct GroupTable<'p> {
    plan: &'p AggregatePlan,
    accs: Vec<Box<dyn Accumulator>>,
    groups: KeyMap,
    /// Each group's key values, in group id order.
    key_columns: Vec<Column>,
    n_groups: usize,
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
        let widths: Vec<usize> = plan.keys.iter().map(|k| if k.ty().is_nullable() { 0 } else { k.ty().physical().width() }).collect();
        let groups = if !widths.is_empty() && !widths.contains(&0) && widths.iter().sum::<usize>() <= 16 {
            KeyMap::Packed(HashMap::default(), widths)
        } else {
            KeyMap::Bytes(KeyIndex::default())
        };
        Ok(GroupTable {
            plan,
            accs,
            groups,
            key_columns: plan.keys.iter().map(|k| Column::empty(k.ty())).collect(),
            n_groups: if plan.keys.is_empty() { 1 } else { 0 },
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
            let n_groups = &mut self.n_groups;
            let mut new_group = |row: usize| {
                first_rows.push(row as u32);
                *n_groups += 1;
                (*n_groups - 1) as u32
            };
            match &mut self.groups {
                KeyMap::Packed(map, widths) => {
                    for (row, key) in pack(&keys, widths, block.rows()).into_iter().enumerate() {
                        let id = *map.entry(key).or_insert_with(|| new_group(row));
                        self.ids.push(id);
                    }
                }
                KeyMap::Bytes(map) => {
                    let mut key = Vec::new();
                    for row in 0..block.rows() {
                        key.clear();
                        for k in &keys {
                            append_key(k, row, &mut key);
                        }
                        self.ids.push(map.get_or_insert(&key, || new_group(row)));
                    }
                }
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
        let per_group = 32 + 16 * self.accs.len();
        let key_bytes = match &self.groups {
            KeyMap::Packed(..) => 0,
            KeyMap::Bytes(map) => map.long_bytes(),
        };
        key_bytes + self.n_groups * per_group + self.key_columns.iter().map(Column::memory_size).sum::<usize>() + self.accs.iter().map(|a| a.memory_size()).sum::<usize>()
    }

    /// Folds another table of the same plan into this one.
    pub fn merge(&mut self, mut other: GroupTable) -> Result<()> {
        for acc in &mut other.accs {
            acc.update(&[], other.n_groups, &[])?;
        }
        let mut ids = vec![0u32; other.n_groups];
        let mut new_groups = Vec::new();
        let n_groups = &mut self.n_groups;
        let mut new_group = |their: u32| {
            new_groups.push(their);
            *n_groups += 1;
            (*n_groups - 1) as u32
        };
        match (&mut self.groups, other.groups) {
            (KeyMap::Packed(mine, _), KeyMap::Packed(theirs, _)) => {
                for (key, their) in theirs {
                    ids[their as usize] = *mine.entry(key).or_insert_with(|| new_group(their));
                }
            }
            (KeyMap::Bytes(mine), KeyMap::Bytes(theirs)) => {
                for (key, their) in theirs.iter() {
                    ids[their as usize] = mine.get_or_insert(key, || new_group(their));
                }
            }
            _ => unreachable!("tables of one plan key the same way"),
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

/// Each row's fixed-width keys packed into one `u128`, a column at a time (little-endian
/// bytes of each key, the first key lowest).
fn pack(keys: &[ColumnRef], widths: &[usize], rows: usize) -> Vec<u128> {
    let mut packed = vec![0u128; rows];
    let mut shift = 0;
    let mut bytes = Vec::new();
    for (k, &w) in keys.iter().zip(widths) {
        bytes.clear();
        k.encode(0, rows, &mut bytes);
        for (p, chunk) in packed.iter_mut().zip(bytes.chunks_exact(w)) {
            let mut b = [0u8; 16];
            b[..w].copy_from_slice(chunk);
            *p |= u128::from_le_bytes(b) << shift;
        }
        shift += 8 * w;
    }
    packed
}

/// Encoded keys (`append_key`) to values: encodings of up to `SHORT - 1` bytes live inline in
/// the table, longer ones in a box each.
pub(crate) struct KeyIndex<V> {
    short: HashMap<[u8; SHORT], V, ahash::RandomState>,
    long: HashMap<Box<[u8]>, V, ahash::RandomState>,
    /// Bytes of the boxed keys.
    long_bytes: usize,
}

/// The inline key size: the encoding, zero-padded, then its length in the last byte.
const SHORT: usize = 24;

impl<V> Default for KeyIndex<V> {
    fn default() -> Self {
        KeyIndex { short: HashMap::default(), long: HashMap::default(), long_bytes: 0 }
    }
}

impl<V: Copy> KeyIndex<V> {
    /// The value of `key`, made by `new` when the key is not there yet.
    pub(crate) fn get_or_insert(&mut self, key: &[u8], new: impl FnOnce() -> V) -> V {
        if key.len() < SHORT {
            return *self.short.entry(inline(key)).or_insert_with(new);
        }
        match self.long.get(key) {
            Some(&v) => v,
            None => {
                let v = new();
                self.long_bytes += key.len();
                self.long.insert(key.into(), v);
                v
            }
        }
    }

    /// Every `(key, value)`, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&[u8], V)> {
        let short = self.short.iter().map(|(k, &v)| (&k[..k[SHORT - 1] as usize], v));
        short.chain(self.long.iter().map(|(k, &v)| (&k[..], v)))
    }

    /// How many keys there are.
    pub(crate) fn len(&self) -> usize {
        self.short.len() + self.long.len()
    }

    /// Whether there are no keys.
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes of the keys too long to sit inline (the table's own slots are the caller's to count).
    pub(crate) fn long_bytes(&self) -> usize {
        self.long_bytes
    }
}

/// A short encoding as an inline key.
fn inline(key: &[u8]) -> [u8; SHORT] {
    let mut b = [0u8; SHORT];
    b[..key.len()].copy_from_slice(key);
    b[SHORT - 1] = key.len() as u8;
    b
}
