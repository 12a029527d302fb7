//! The hash table of a GROUP BY: group keys to dense group ids, the keys' columns, and one
//! accumulator per aggregate call.
//!
//! Each scan thread fills a table of its own over the blocks it reads; the tables then merge
//! into one (`GroupTable::merge`: the other table's keys are looked up in this one, and its
//! accumulators fold into this one's through their states) and `finish` gives the result
//! block: the keys, then one column per aggregate.
//!
//! Group ids come from the key shape: one key of at most two bytes (an `Enum8`, a `UInt16`)
//! indexes a table of group ids directly; fixed-width, non-Nullable keys of at most 16 bytes
//! together (integers, dates, times, enums: `GROUP BY user_id`, `GROUP BY date, hour`) are
//! packed into one `u128` per row, a column at a time; other keys are encoded per row
//! (`append_key`'s encoding, written a column at a time) into a `KeyIndex`, which holds
//! encodings of up to 15 bytes (an id such as `u1489982`) in 24-byte slots and of up to 23
//! bytes (`tenant_id, scenario_id, date, hour`) in 32-byte ones, inline. A GROUP BY that ran
//! before with many groups sizes its table up front (`aggregation::remembered_groups`). The packed and inline keys live in `FlatMap`s: a block's keys are looked up as a
//! batch, with prefetching, one cache line per lookup.
//!
//! String keys may arrive from the scan as codes into their part's dictionary (see
//! `prewhere::ScanBlock`): the codes, packed with the other fixed-width keys, are looked up in
//! a small table of their own per set of dictionaries (`CodedGroups`), or index an array
//! directly when every key is coded and the dictionaries are small, and only a combination
//! met for the first time decodes its strings to find its group in the table above.
//!
//! A lone String key may also arrive as the numbers of ids made of one text and a number
//! (`u1489982`, see `Coding::Numbers`). Its groups are then found by number
//! (`NumberedGroups`: an array indexed by the number, lazily zeroed, for numbers below 2^24),
//! and a string that is the same text and a number in canonical form, met in a block of
//! strings, goes to its number's group too; only the other strings use the table above.

use std::sync::Arc;

use granary_storage::{Block, Column, ColumnRef};
use hashbrown::HashMap;

use granary_storage::column::{prefetch, ColumnData, Primitive};
use granary_storage::match_data;

use granary_storage::dict::number_after;

use crate::aggregate::{append_key, Accumulator};
use crate::coding::{numbered_strings, numbers as codes, split_numbered, Coding};
use crate::error::Result;
use crate::flat_map::{shared_seed, FlatKey, FlatMap, PREFETCH_AHEAD};
use crate::group_numbers::GroupNumbers;
use crate::plan::AggregatePlan;

/// Group keys to group ids.
enum KeyMap {
    /// One non-Nullable key of one or two bytes: the group id of each value (`NO_GROUP` for
    /// none yet), indexed by the value's bits.
    Direct(Vec<u32>),
    /// Fixed-width keys packed into a `u128`; the widths of the key columns in bytes.
    Packed(FlatMap<u128, u32>, Vec<usize>),
    /// Keys encoded by `append_key`.
    Bytes(KeyIndex<u32>),
}

/// Group ids for blocks whose keys include dictionary codes, for one set of dictionaries.
struct CodedGroups {
    /// Per key: the dictionary its codes index, `None` for a key that is not coded.
    dicts: Vec<Option<ColumnRef>>,
    /// Packed codes and other keys to an index into `groups`.
    local: FlatMap<u128, u32>,
    /// When every key is coded and the dictionaries' sizes multiply to at most
    /// `DIRECT_CODES`: each key's stride in a mixed-radix index of the codes, and per index
    /// its group id (`NO_GROUP` for none yet). A lookup is then one array read
    /// instead of a hash probe (Q09: 40 experiment ids by 3 groups).
    direct: Option<(Vec<u32>, Vec<u32>)>,
    /// The group id of each combination in `local` (unused with `direct`).
    groups: Vec<u32>,
}

/// The groups of a lone String key's values that are `prefix` followed by a number in
/// canonical form (`storage::dict::number_after`), by number.
struct NumberedGroups {
    prefix: Arc<[u8]>,
    /// Per number below its length (a power of two, at most `DIRECT_NUMBERS`): the number's
    /// group id + 1, 0 for none yet. Allocated zeroed, so the kernel backs only the pages
    /// numbers fall in.
    direct: Vec<u32>,
    /// The groups of numbers from `DIRECT_NUMBERS` on.
    far: FlatMap<u128, u32>,
    /// Each number with a group, and the group.
    members: Vec<(u32, u32)>,
}

/// Numbers from which a `NumberedGroups` looks groups up in a hash table instead of an array.
const DIRECT_NUMBERS: usize = 1 << 24;

impl NumberedGroups {
    fn new(prefix: Arc<[u8]>) -> NumberedGroups {
        NumberedGroups { prefix, direct: Vec::new(), far: FlatMap::default(), members: Vec::new() }
    }

    /// For each number, its group id (made by `new(i)` for `numbers[i]` met first), appended
    /// to `out`.
    fn get_or_insert(&mut self, numbers: &[u32], out: &mut Vec<u32>, mut new: impl FnMut(usize) -> u32) {
        if let Some(&max) = numbers.iter().max() {
            self.cover(max);
        }
        let NumberedGroups { direct, far, members, .. } = self;
        out.reserve(numbers.len());
        for (i, &n) in numbers.iter().enumerate() {
            // The array is larger than the caches: the entry of the number a few rows on
            // loads while this one is looked up.
            if let Some(ahead) = numbers.get(i + PREFETCH_AHEAD).and_then(|&a| direct.get(a as usize)) {
                prefetch(ahead);
            }
            let id = match direct.get_mut(n as usize) {
                Some(slot) => {
                    if *slot == 0 {
                        let g = new(i);
                        members.push((n, g));
                        *slot = g + 1;
                    }
                    *slot - 1
                }
                None => far.get_or_insert(u128::from(n), || {
                    let g = new(i);
                    members.push((n, g));
                    g
                }),
            };
            out.push(id);
        }
    }

    /// Makes `direct` reach number `max` (or `DIRECT_NUMBERS`): a new zeroed array, twice as
    /// long or more, with the groups of the old one written in, one per member, so that only
    /// pages holding a group are touched.
    fn cover(&mut self, max: u32) {
        let want = (max as usize + 1).min(DIRECT_NUMBERS);
        if want <= self.direct.len() {
            return;
        }
        let mut direct = vec![0u32; want.next_power_of_two().max(1 << 12)];
        for &(n, g) in self.members.iter().filter(|(n, _)| (*n as usize) < self.direct.len()) {
            direct[n as usize] = g + 1;
        }
        self.direct = direct;
    }

    /// Looks every number of `other` up here as `FlatMap::merge` does.
    fn merge(&mut self, other: &NumberedGroups, mut new: impl FnMut(u32) -> u32, mut found: impl FnMut(u32, u32)) {
        let numbers: Vec<u32> = other.members.iter().map(|&(n, _)| n).collect();
        let mut ids = Vec::with_capacity(numbers.len());
        self.get_or_insert(&numbers, &mut ids, |i| new(other.members[i].1));
        other.members.iter().zip(ids).for_each(|(&(_, theirs), mine)| found(theirs, mine));
    }

    /// Bytes held: the members, the far table and the pages of `direct` touched, at most.
    fn memory_size(&self) -> usize {
        self.members.len() * 8 + self.far.memory_size() + (self.direct.len() * 4).min(self.members.len() * 4096)
    }
}

/// A `Direct` slot without a group.
const NO_GROUP: u32 = u32::MAX;

/// One thread's (or the merged) grouping state.
pub struct GroupTable<'p> {
    plan: &'p AggregatePlan,
    accs: Vec<Box<dyn Accumulator>>,
    groups: KeyMap,
    /// Lookups of coded keys, one per set of dictionaries met (one per part, typically).
    coded: Vec<CodedGroups>,
    /// The groups of a lone String key found by number, once a block of numbers came.
    numbered: Option<NumberedGroups>,
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
        let groups = if let [width @ (1 | 2)] = widths[..] {
            KeyMap::Direct(vec![NO_GROUP; 1 << (8 * width)])
        } else if !widths.is_empty() && !widths.contains(&0) && widths.iter().sum::<usize>() <= 16 {
            KeyMap::Packed(FlatMap::default(), widths)
        } else {
            KeyMap::Bytes(KeyIndex::default())
        };
        Ok(GroupTable {
            plan,
            accs,
            groups,
            coded: Vec::new(),
            numbered: None,
            key_columns: plan.keys.iter().map(|k| Column::empty(k.ty())).collect(),
            n_groups: if plan.keys.is_empty() { 1 } else { 0 },
            ids: Vec::new(),
        })
    }

    /// Folds one block of rows: one group id per row, then each accumulator folds the block.
    /// `codings` gives the form of the block's columns (see `Aggregation::update`).
    pub fn update(&mut self, block: &Block, codings: &[Coding]) -> Result<()> {
        if block.is_empty() {
            return Ok(());
        }
        // Numbers this plan does not read as numbers become strings again.
        let readable = match codings.iter().any(|c| c.prefix().is_some()) {
            true => self.plan.columns_read_as_numbers(block.columns.len()),
            false => Vec::new(),
        };
        if codings.iter().zip(&readable).any(|(c, &ok)| c.prefix().is_some() && !ok) {
            let columns = block.columns.iter().zip(codings).zip(&readable).map(|((col, c), &ok)| if ok { col.clone() } else { c.decode(col) }).collect();
            let codings: Vec<Coding> = codings.iter().zip(&readable).map(|(c, &ok)| if ok { c.clone() } else { Coding::Plain }).collect();
            return self.update(&Block::with_rows(columns, block.rows()), &codings);
        }
        let prefix_of = |e: &crate::expr::Expr| e.column_index().and_then(|c| codings.get(c)?.prefix());
        let mut ids = std::mem::take(&mut self.ids);
        if self.plan.keys.is_empty() {
            // Every row is group 0: the zeros stay from one block to the next.
            if ids.len() < block.rows() {
                ids.resize(block.rows(), 0);
            }
        } else {
            ids.clear();
            let keys = self.plan.keys.iter().map(|k| k.eval(block)).collect::<Result<Vec<_>>>()?;
            let key_dicts: Vec<Option<&ColumnRef>> = self.plan.keys.iter().map(|k| k.column_index().and_then(|c| codings.get(c)?.dict())).collect();
            if let (Some(prefix), [numbers]) = (prefix_of(&self.plan.keys[0]), &keys[..]) {
                self.assign_numbers(codes(numbers), prefix, &mut ids);
            } else if key_dicts.iter().all(Option::is_none) {
                self.assign(&keys, block.rows(), &mut ids);
            } else {
                self.assign_coded(&keys, &key_dicts, block.rows(), &mut ids);
            }
        }
        for (acc, call) in self.accs.iter_mut().zip(&self.plan.aggs) {
            let args = call.args.iter().map(|a| a.eval(block)).collect::<Result<Vec<_>>>()?;
            match (&args[..], call.args.first().and_then(prefix_of)) {
                ([numbers], Some(prefix)) => acc.update_numbers(&ids[..block.rows()], self.n_groups, numbers, prefix)?,
                _ => acc.update(&ids[..block.rows()], self.n_groups, &args)?,
            }
        }
        self.ids = ids;
        Ok(())
    }

    /// Appends the group id of each of `rows` rows of key values `keys` to `ids`, making the
    /// groups that are new. Once groups are found by number, a string that is their text and
    /// a number goes to its number's group.
    fn assign(&mut self, keys: &[ColumnRef], rows: usize, ids: &mut Vec<u32>) {
        let (Some(prefix), [key]) = (self.numbered.as_ref().map(|n| n.prefix.clone()), keys) else {
            return self.assign_keys(keys, rows, ids);
        };
        let (numbers, numbered_rows, other_rows) = split_numbered(key, &prefix);
        if other_rows.is_empty() {
            return self.assign_numbers(&numbers, &prefix, ids);
        }
        let start = ids.len();
        ids.resize(start + rows, 0);
        let mut found = Vec::with_capacity(rows);
        self.assign_numbers(&numbers, &prefix, &mut found);
        numbered_rows.iter().zip(&found).for_each(|(&row, &id)| ids[start + row as usize] = id);
        found.clear();
        self.assign_keys(&[Arc::new(key.take(&other_rows))], other_rows.len(), &mut found);
        other_rows.iter().zip(&found).for_each(|(&row, &id)| ids[start + row as usize] = id);
    }

    /// `assign` for a lone String key given as numbers after `prefix`: by number when the
    /// table finds groups by number after that text (or has no group yet, and starts to),
    /// else as the strings they stand for.
    fn assign_numbers(&mut self, numbers: &[u32], prefix: &Arc<[u8]>, ids: &mut Vec<u32>) {
        if self.numbered.is_none() && self.n_groups == 0 {
            self.numbered = Some(NumberedGroups::new(prefix.clone()));
        }
        let Some(numbered) = self.numbered.as_mut().filter(|n| n.prefix == *prefix) else {
            return self.assign_keys(&[Arc::new(numbered_strings(prefix, numbers))], numbers.len(), ids);
        };
        let mut first = Vec::new();
        let n_groups = &mut self.n_groups;
        numbered.get_or_insert(numbers, ids, |i| {
            first.push(numbers[i]);
            *n_groups += 1;
            (*n_groups - 1) as u32
        });
        if !first.is_empty() {
            self.key_columns[0].append(&numbered_strings(prefix, &first));
        }
    }

    /// `assign` through the key map (or the direct table) alone.
    fn assign_keys(&mut self, keys: &[ColumnRef], rows: usize, ids: &mut Vec<u32>) {
        let mut first_rows = Vec::new();
        let n_groups = &mut self.n_groups;
        let new_group = |row: usize| {
            first_rows.push(row as u32);
            *n_groups += 1;
            (*n_groups - 1) as u32
        };
        match &mut self.groups {
            KeyMap::Direct(table) => match &keys[0].data {
                ColumnData::U8(v) => direct_ids(table, v, |x| x as usize, ids, new_group),
                ColumnData::I8(v) => direct_ids(table, v, |x| x as u8 as usize, ids, new_group),
                ColumnData::U16(v) => direct_ids(table, v, |x| x as usize, ids, new_group),
                ColumnData::I16(v) => direct_ids(table, v, |x| x as u16 as usize, ids, new_group),
                _ => unreachable!("direct keys are one or two bytes wide"),
            },
            KeyMap::Packed(map, widths) => map.get_or_insert_batch(&pack(keys, widths, rows), ids, new_group),
            KeyMap::Bytes(map) => map.get_or_insert_rows(keys, rows, ids, new_group),
        }
        for (acc, k) in self.key_columns.iter_mut().zip(keys) {
            acc.append(&k.take(&first_rows));
        }
    }

    /// `assign` for keys some of which are codes into the dictionaries `dicts`. Codes and the
    /// other fixed-width keys pack into a `u128` looked up in a table of their own for this set
    /// of dictionaries; only a combination seen for the first time looks its strings up. Keys
    /// that do not pack (wider than 16 bytes together, or Nullable, or strings) are decoded.
    fn assign_coded(&mut self, keys: &[ColumnRef], dicts: &[Option<&ColumnRef>], rows: usize, ids: &mut Vec<u32>) {
        let widths: Vec<usize> = keys.iter().zip(dicts).map(|(k, d)| if d.is_some() { 4 } else if k.nulls.is_some() { 0 } else { k.ty.physical().width() }).collect();
        if widths.contains(&0) || widths.iter().sum::<usize>() > 16 {
            let decoded: Vec<ColumnRef> = keys.iter().zip(dicts).map(|(k, d)| d.map_or_else(|| k.clone(), |d| Arc::new(d.take(codes(k))))).collect();
            return self.assign(&decoded, rows, ids);
        }
        let same = |a: &Option<ColumnRef>, b: &Option<&ColumnRef>| match (a, b) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (a, b) => a.is_none() && b.is_none(),
        };
        let at = match self.coded.iter().position(|c| c.dicts.iter().zip(dicts).all(|(a, b)| same(a, b))) {
            Some(at) => at,
            None => {
                let dicts: Vec<Option<ColumnRef>> = dicts.iter().map(|d| d.cloned()).collect();
                let direct = direct_strides(&dicts).map(|(strides, size)| (strides, vec![NO_GROUP; size]));
                self.coded.push(CodedGroups { dicts, local: FlatMap::default(), direct, groups: Vec::new() });
                self.coded.len() - 1
            }
        };
        if self.coded[at].direct.is_some() {
            return self.assign_direct(at, keys, dicts, rows, ids);
        }
        let coded = &mut self.coded[at];
        let mut first_rows = Vec::new();
        let start = ids.len();
        let mut next = coded.groups.len() as u32;
        let new_local = |row: usize| {
            first_rows.push(row as u32);
            next += 1;
            next - 1
        };
        coded.local.get_or_insert_batch(&pack(keys, &widths, rows), ids, new_local);
        if !first_rows.is_empty() {
            let mut groups = std::mem::take(&mut self.coded[at].groups);
            self.assign(&decoded_rows(keys, dicts, &first_rows), first_rows.len(), &mut groups);
            self.coded[at].groups = groups;
        }
        let groups = &self.coded[at].groups;
        ids[start..].iter_mut().for_each(|id| *id = groups[*id as usize]);
    }

    /// `assign_coded` through the direct table of `self.coded[at]`: each row's index (its
    /// code, for one key) reads its group id in one array read, without a branch. Only a
    /// block that meets an index without a group yet (the first blocks of a part, mostly)
    /// looks the new keys' values up and writes their groups in.
    fn assign_direct(&mut self, at: usize, keys: &[ColumnRef], dicts: &[Option<&ColumnRef>], rows: usize, ids: &mut Vec<u32>) {
        let Some((strides, table)) = &self.coded[at].direct else { unreachable!("a direct table") };
        let index: std::borrow::Cow<[u32]> = match keys {
            [key] => codes(key).into(),
            _ => {
                let mut index = vec![0u32; rows];
                for (k, &stride) in keys.iter().zip(strides) {
                    index.iter_mut().zip(codes(k)).for_each(|(i, &c)| *i += c * stride);
                }
                index.into()
            }
        };
        let start = ids.len();
        let mut missing = false;
        ids.extend(index.iter().map(|&i| {
            let g = table[i as usize];
            missing |= g == NO_GROUP;
            g
        }));
        if !missing {
            return;
        }
        // Each index without a group, by the first row it is met in.
        let mut first_rows = Vec::new();
        let mut seen = hashbrown::HashSet::new();
        for (row, &i) in index.iter().enumerate() {
            if ids[start + row] == NO_GROUP && seen.insert(i) {
                first_rows.push(row as u32);
            }
        }
        let mut found = Vec::with_capacity(first_rows.len());
        self.assign(&decoded_rows(keys, dicts, &first_rows), first_rows.len(), &mut found);
        let Some((_, table)) = &mut self.coded[at].direct else { unreachable!("a direct table") };
        first_rows.iter().zip(found).for_each(|(&row, g)| table[index[row as usize] as usize] = g);
        ids[start..].iter_mut().zip(index.iter()).filter(|(id, _)| **id == NO_GROUP).for_each(|(id, &i)| *id = table[i as usize]);
    }

    /// How many groups there are.
    pub fn groups(&self) -> usize {
        self.n_groups
    }

    /// Makes the key lookup ready for `groups` groups in all, so that it does not grow (and
    /// place every key again, several times over) while they arrive.
    pub fn reserve(&mut self, groups: usize) {
        match &mut self.groups {
            KeyMap::Direct(_) => {}
            KeyMap::Packed(map, _) => map.reserve(groups),
            KeyMap::Bytes(map) => map.reserve(groups),
        }
    }

    /// Bytes held, roughly: keys, key columns, a state per group and call, accumulator data.
    pub fn memory_size(&self) -> usize {
        let per_group = 32 + 16 * self.accs.len();
        let key_bytes = match &self.groups {
            KeyMap::Direct(table) => table.len() * 4,
            KeyMap::Packed(map, _) => map.memory_size(),
            KeyMap::Bytes(map) => map.memory_size(),
        };
        let coded: usize = self.coded.iter().map(|c| c.local.memory_size() + c.direct.as_ref().map_or(0, |(_, table)| table.len() * 4) + c.groups.len() * 4).sum();
        let numbered = self.numbered.as_ref().map_or(0, NumberedGroups::memory_size);
        key_bytes + coded + numbered + self.n_groups * per_group + self.key_columns.iter().map(Column::memory_size).sum::<usize>() + self.accs.iter().map(|a| a.memory_size()).sum::<usize>()
    }

    /// Folds another table of the same plan into this one.
    pub fn merge(&mut self, mut other: GroupTable) -> Result<()> {
        for acc in &mut other.accs {
            acc.update(&[], other.n_groups, &[])?;
        }
        if self.numbered.is_none() && self.n_groups == 0 {
            self.numbered = other.numbered.as_ref().map(|n| NumberedGroups::new(n.prefix.clone()));
        }
        let alike = match (&self.numbered, &other.numbered) {
            (None, None) => true,
            (Some(mine), Some(theirs)) => mine.prefix == theirs.prefix,
            _ => false,
        };
        if !alike {
            // Keys found by number on one side only: the other table's keys are looked up here
            // as the values they are.
            let keys: Vec<ColumnRef> = other.key_columns.iter().map(|k| Arc::new(k.clone())).collect();
            let mut ids = Vec::with_capacity(other.n_groups);
            self.assign(&keys, other.n_groups, &mut ids);
            for (acc, theirs) in self.accs.iter_mut().zip(other.accs) {
                acc.merge_from(&ids, self.n_groups, theirs)?;
            }
            return Ok(());
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
            (KeyMap::Direct(mine), KeyMap::Direct(theirs)) => {
                for (value, &their) in theirs.iter().enumerate().filter(|(_, &g)| g != NO_GROUP) {
                    if mine[value] == NO_GROUP {
                        mine[value] = new_group(their);
                    }
                    ids[their as usize] = mine[value];
                }
            }
            (KeyMap::Packed(mine, _), KeyMap::Packed(theirs, _)) => mine.merge(&theirs, &mut new_group, |their, id| ids[their as usize] = id),
            (KeyMap::Bytes(mine), KeyMap::Bytes(theirs)) => mine.merge(&theirs, &mut new_group, |their, id| ids[their as usize] = id),
            _ => unreachable!("tables of one plan key the same way"),
        }
        if let (Some(mine), Some(theirs)) = (&mut self.numbered, &other.numbered) {
            mine.merge(theirs, &mut new_group, |their, id| ids[their as usize] = id);
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

    /// Readies every accumulator for the merge (see `Accumulator::seal`), on the thread that
    /// filled the table.
    pub fn seal(&mut self) {
        self.accs.iter_mut().for_each(|a| a.seal());
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

/// Appends the group id of each of `values` (a one- or two-byte key, `slot` its position in
/// `table`) to `ids`: one array read per row, without a branch (`GROUP BY action_type`: the
/// branch on a new group per row was a third of Q06's time), then, only when some value had
/// no group yet, a pass that makes the groups (`new(row)` for the first row of each).
fn direct_ids<T: Copy>(table: &mut [u32], values: &[T], slot: impl Fn(T) -> usize, ids: &mut Vec<u32>, mut new: impl FnMut(usize) -> u32) {
    let start = ids.len();
    let mut missing = false;
    ids.extend(values.iter().map(|&v| {
        let g = table[slot(v)];
        missing |= g == NO_GROUP;
        g
    }));
    if missing {
        for (row, (&v, id)) in values.iter().zip(&mut ids[start..]).enumerate().filter(|(_, (_, id))| **id == NO_GROUP) {
            let at = slot(v);
            if table[at] == NO_GROUP {
                table[at] = new(row);
            }
            *id = table[at];
        }
    }
}

/// The key values of `rows`: coded keys (those with a dictionary in `dicts`) decoded.
fn decoded_rows(keys: &[ColumnRef], dicts: &[Option<&ColumnRef>], rows: &[u32]) -> Vec<ColumnRef> {
    keys.iter()
        .zip(dicts)
        .map(|(k, d)| {
            let codes_or_rows = k.take(rows);
            Arc::new(match d {
                Some(d) => d.take(codes(&codes_or_rows)),
                None => codes_or_rows,
            })
        })
        .collect()
}

/// Index entries past which coded keys go through the hash table instead of `direct`.
const DIRECT_CODES: usize = 1 << 16;

/// For keys that are all codes into `dicts`: each key's stride in a mixed-radix index of its
/// codes (the first key's code lowest) and the number of indexes, when that is at most
/// `DIRECT_CODES`.
fn direct_strides(dicts: &[Option<ColumnRef>]) -> Option<(Vec<u32>, usize)> {
    let mut strides = Vec::with_capacity(dicts.len());
    let mut size = 1usize;
    for dict in dicts {
        strides.push(size as u32);
        size = size.checked_mul(dict.as_ref()?.len().max(1)).filter(|&n| n <= DIRECT_CODES)?;
    }
    Some((strides, size))
}

/// Each row's fixed-width keys packed into one `u128`, a column at a time (little-endian
/// bytes of each key, the first key lowest).
fn pack(keys: &[ColumnRef], widths: &[usize], rows: usize) -> Vec<u128> {
    let mut packed = vec![0u128; rows];
    let mut shift = 0;
    for (k, &w) in keys.iter().zip(widths) {
        match_data!(&k.data,
            v => for (p, x) in packed.iter_mut().zip(v) {
                // The value's own width (a constant in each arm), not `w`: a fixed-size copy.
                let mut b = [0u8; 16];
                b[..std::mem::size_of_val(x)].copy_from_slice(x.le_array().as_ref());
                *p |= u128::from_le_bytes(b) << shift;
            },
            _s => unreachable!("packed keys are fixed-width"));
        shift += 8 * w;
    }
    packed
}

/// Encoded keys (`append_key`) to values: encodings of up to `NARROW - 1` bytes (a short id,
/// a number or two) live inline in one `FlatMap`, those of up to `SHORT - 1` bytes in
/// another with wider slots, longer ones in a box each. A table of a million short ids so
/// takes 24-byte slots instead of 32, a `uniqExact` set 17-byte ones instead of 25.
pub(crate) struct KeyIndex<V> {
    narrow: FlatMap<[u8; NARROW], V>,
    short: FlatMap<[u8; SHORT], V>,
    long: HashMap<Box<[u8]>, V, ahash::RandomState>,
    /// Bytes of the boxed keys.
    long_bytes: usize,
}

/// The inline key size: the encoding, zero-padded, then its length in the last byte.
const SHORT: usize = 24;
/// The narrow inline key size, laid out as a `SHORT` one.
const NARROW: usize = 16;
/// The length byte of an inline key whose encoding outgrew it.
const LONG: u8 = u8::MAX;

impl<V: Copy + Default> Default for KeyIndex<V> {
    fn default() -> Self {
        KeyIndex { narrow: FlatMap::default(), short: FlatMap::default(), long: HashMap::default(), long_bytes: 0 }
    }
}

impl<V: Copy + Default> KeyIndex<V> {
    /// How many keys there are.
    pub(crate) fn len(&self) -> usize {
        self.narrow.len() + self.short.len() + self.long.len()
    }

    /// Makes room for `keys` keys, expected to be narrow ones (the common case).
    pub(crate) fn reserve(&mut self, keys: usize) {
        self.narrow.reserve(keys);
    }

    /// The value of `key`, made by `new` when the key is not there yet.
    pub(crate) fn get_or_insert(&mut self, key: &[u8], new: impl FnOnce() -> V) -> V {
        if key.len() < SHORT {
            return self.get_or_insert_inline(&inline(key), new);
        }
        self.get_or_insert_long(key, new)
    }

    /// `get_or_insert` of a key that fits inline, in the table its length picks.
    fn get_or_insert_inline(&mut self, key: &[u8; SHORT], new: impl FnOnce() -> V) -> V {
        match narrow(key) {
            Some(n) => self.narrow.get_or_insert(n, new),
            None => self.short.get_or_insert(*key, new),
        }
    }

    fn get_or_insert_long(&mut self, key: &[u8], new: impl FnOnce() -> V) -> V {
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

    /// For each of `rows` rows, the value of its key (its value in each column, encoded as
    /// `append_key` does), appended to `out`; `new(row)` makes the value of a key not there
    /// yet. Short keys are encoded a column at a time and looked up as one batch.
    pub(crate) fn get_or_insert_rows(&mut self, columns: &[ColumnRef], rows: usize, out: &mut Vec<V>, mut new: impl FnMut(usize) -> V) {
        let keys = inline_keys(columns, rows);
        if keys.iter().all(|k| (k[SHORT - 1] as usize) < NARROW) {
            let narrow: Vec<[u8; NARROW]> = keys.iter().map(|k| narrow(k).expect("checked")).collect();
            return self.narrow.get_or_insert_batch(&narrow, out, new);
        }
        if keys.iter().all(|k| (NARROW..SHORT).contains(&(k[SHORT - 1] as usize))) {
            return self.short.get_or_insert_batch(&keys, out, new);
        }
        let mut long = Vec::new();
        for (row, key) in keys.iter().enumerate() {
            let value = match key[SHORT - 1] {
                LONG => self.get_or_insert_long(long_key(columns, row, &mut long), || new(row)),
                _ => self.get_or_insert_inline(key, || new(row)),
            };
            out.push(value);
        }
    }

    /// Looks every key of `other` up here as `FlatMap::merge` does.
    pub(crate) fn merge(&mut self, other: &KeyIndex<V>, mut new: impl FnMut(V) -> V, mut found: impl FnMut(V, V)) {
        self.narrow.merge(&other.narrow, &mut new, &mut found);
        self.short.merge(&other.short, &mut new, &mut found);
        for (key, theirs) in other.long.iter() {
            found(*theirs, self.get_or_insert_long(key, || new(*theirs)));
        }
    }

    /// Every `(key, value)`, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&[u8], V)> {
        let narrow = self.narrow.iter().map(|(k, v)| (&k[..k[NARROW - 1] as usize], v));
        let short = self.short.iter().map(|(k, v)| (&k[..k[SHORT - 1] as usize], v));
        narrow.chain(short).chain(self.long.iter().map(|(k, &v)| (&k[..], v)))
    }

    /// Bytes held: the inline tables and the boxed keys.
    pub(crate) fn memory_size(&self) -> usize {
        self.narrow.memory_size() + self.short.memory_size() + self.long_bytes + self.long.len() * 32
    }
}

/// An inline key as a narrow one, when its encoding fits.
#[inline]
fn narrow(key: &[u8; SHORT]) -> Option<[u8; NARROW]> {
    let len = key[SHORT - 1] as usize;
    (len < NARROW).then(|| {
        let mut n = [0u8; NARROW];
        n[..NARROW - 1].copy_from_slice(&key[..NARROW - 1]);
        n[NARROW - 1] = len as u8;
        n
    })
}

/// A short encoding as an inline key.
fn inline(key: &[u8]) -> [u8; SHORT] {
    let mut b = [0u8; SHORT];
    b[..key.len()].copy_from_slice(key);
    b[SHORT - 1] = key.len() as u8;
    b
}

/// Appends `bytes` to an inline key, or marks it `LONG` when they do not fit.
#[inline]
fn push_inline(key: &mut [u8; SHORT], bytes: &[u8]) {
    let len = key[SHORT - 1] as usize;
    if len + bytes.len() < SHORT {
        key[len..len + bytes.len()].copy_from_slice(bytes);
        key[SHORT - 1] = (len + bytes.len()) as u8;
    } else {
        key[SHORT - 1] = LONG;
    }
}

/// Each row's key (its `append_key` encoding in every column) as an inline key, or marked
/// `LONG` when it does not fit.
fn inline_keys(columns: &[ColumnRef], rows: usize) -> Vec<[u8; SHORT]> {
    let mut keys = vec![[0u8; SHORT]; rows];
    columns.iter().for_each(|c| append_inline(c, &mut keys));
    keys
}

/// Row `row`'s key as `append_key` encodes it, in `buf`.
fn long_key<'b>(columns: &[ColumnRef], row: usize, buf: &'b mut Vec<u8>) -> &'b [u8] {
    buf.clear();
    columns.iter().for_each(|c| append_key(c, row, buf));
    buf
}

/// Appends each row's `append_key` encoding of `col` to that row's inline key.
fn append_inline(col: &Column, keys: &mut [[u8; SHORT]]) {
    if let Some(nulls) = &col.nulls {
        keys.iter_mut().zip(nulls).for_each(|(k, n)| push_inline(k, &[*n]));
    }
    match_data!(&col.data,
        v => keys.iter_mut().zip(v).for_each(|(k, x)| push_inline(k, x.le_array().as_ref())),
        s => for (row, k) in keys.iter_mut().enumerate() {
            let (at, end) = (s.offsets[row] as usize, s.offsets[row + 1] as usize);
            push_inline(k, &((end - at) as u32).to_le_bytes());
            push_inline_text(k, &s.bytes, at, end - at);
        })
}

/// `push_inline` of `src[at..at + len]`. Text of up to 16 bytes with 16 bytes of `src`
/// behind it, going to the first 8 bytes of the key, is copied as one masked 16-byte word
/// instead of through a `memcpy` call per row (the bytes past the key's end are zero).
#[inline]
fn push_inline_text(key: &mut [u8; SHORT], src: &[u8], at: usize, len: usize) {
    let used = key[SHORT - 1] as usize;
    if let (true, Some(window)) = (len <= 16 && used + 16 < SHORT, src.get(at..at + 16)) {
        let word = u128::from_le_bytes(window.try_into().unwrap());
        let mask = if len == 16 { u128::MAX } else { (1u128 << (8 * len)) - 1 };
        key[used..used + 16].copy_from_slice(&(word & mask).to_le_bytes());
        key[SHORT - 1] = (used + len) as u8;
        return;
    }
    push_inline(key, &src[at..at + len]);
}

/// Per group, the set of its distinct keys (`append_key` encodings): `uniqExact`'s state.
/// Every set hashes with one process-wide seed, so a row's key is hashed once, the set of the
/// row `PREFETCH_AHEAD` rows on is prefetched while the current row is probed, and a set can
/// move from one table to another whole.
///
/// Keys of one String that arrive as numbers after a text (`Coding::Numbers`) go to the
/// groups' numbers instead (`GroupNumbers`: a set per group, or sorted runs), and so does
/// every string key that is that text and a number in canonical form: a key is in exactly
/// one of a group's two sets. The numbers must be `seal`ed before they are read.
pub(crate) struct KeySets {
    /// How many groups there are.
    groups: usize,
    /// Each group's set of keys, for groups below its length: the vector only grows to the
    /// groups once a key that is not a number arrives, so sets of numbers carry no empty
    /// key tables.
    sets: Vec<KeyIndex<()>>,
    /// Keys held in all sets.
    keys: usize,
    /// The text before the numbers, and each group's numbers.
    numbered: Option<(Arc<[u8]>, GroupNumbers)>,
}

impl KeySets {
    /// No groups yet.
    pub(crate) fn new() -> KeySets {
        KeySets { groups: 0, sets: Vec::new(), keys: 0, numbered: None }
    }

    /// Makes groups `0..n` exist (the new ones empty).
    pub(crate) fn resize(&mut self, n: usize) {
        self.groups = n;
        self.sets.truncate(n);
        if let Some((_, numbers)) = &mut self.numbered {
            numbers.resize(n);
        }
    }

    /// Makes a set of keys for every group, before a key that is not a number goes in.
    fn make_key_sets(&mut self) {
        if self.sets.len() < self.groups {
            self.sets.resize_with(self.groups, KeyIndex::default);
        }
    }

    /// How many groups there are.
    pub(crate) fn groups(&self) -> usize {
        self.groups
    }

    /// Sorts logged numbers in (see `GroupNumbers::seal`): before `len` and `for_each_key`,
    /// and on each scan thread before the threads' tables merge.
    pub(crate) fn seal(&mut self) {
        if let Some((_, numbers)) = &mut self.numbered {
            numbers.seal();
        }
    }

    /// How many keys group `g` holds (once sealed).
    pub(crate) fn len(&self, g: usize) -> usize {
        self.sets.get(g).map_or(0, KeyIndex::len) + self.numbered.as_ref().map_or(0, |(_, numbers)| numbers.len(g))
    }

    /// Calls `f` with each key of group `g` (numbers as the strings' encodings), in no
    /// particular order (once sealed).
    pub(crate) fn for_each_key(&self, g: usize, mut f: impl FnMut(&[u8])) {
        self.sets.get(g).into_iter().flat_map(KeyIndex::iter).for_each(|(k, ())| f(k));
        if let Some((prefix, numbers)) = &self.numbered {
            let mut key = Vec::new();
            numbers.for_each(g, |n| {
                key.clear();
                append_key(&numbered_strings(prefix, &[n]), 0, &mut key);
                f(&key);
            });
        }
    }

    /// Adds an encoded key to group `g`'s set.
    pub(crate) fn insert(&mut self, g: u32, key: &[u8]) {
        if let Some((prefix, numbers)) = &mut self.numbered {
            // A lone string's encoding: its length, then its bytes.
            if let Some(n) = key.get(4..).and_then(|text| number_after(text, prefix)) {
                numbers.insert(g, n);
                return;
            }
        }
        self.make_key_sets();
        let keys = &mut self.keys;
        self.sets[g as usize].get_or_insert(key, || *keys += 1);
    }

    /// Adds each number (`prefix` and the number, a lone String key) to the set of its group
    /// (`groups[row]`). Sets that hold no key yet start to keep numbers after `prefix`;
    /// numbers after another text go in as strings.
    pub(crate) fn insert_numbers(&mut self, groups: &[u32], numbers: &[u32], prefix: &Arc<[u8]>) {
        if self.numbered.is_none() && self.keys == 0 {
            self.numbered = Some((prefix.clone(), GroupNumbers::new(self.groups)));
        }
        match &mut self.numbered {
            Some((mine, held)) if mine == prefix => held.insert_numbers(groups, numbers),
            _ => self.insert_rows(groups, &[Arc::new(numbered_strings(prefix, numbers))]),
        }
    }

    /// Adds each row's key (its values in `columns`) to the set of its group (`groups[row]`).
    pub(crate) fn insert_rows(&mut self, groups: &[u32], columns: &[ColumnRef]) {
        if let (Some((prefix, held)), [column]) = (&mut self.numbered, columns) {
            // Strings that are the text and a number go to the numbers.
            let (numbers, numbered_rows, rest) = split_numbered(column, prefix);
            for (&row, &n) in numbered_rows.iter().zip(&numbers) {
                held.insert(groups[row as usize], n);
            }
            if !numbered_rows.is_empty() {
                let groups: Vec<u32> = rest.iter().map(|&row| groups[row as usize]).collect();
                return self.insert_key_rows(&groups, &[Arc::new(column.take(&rest))]);
            }
        }
        self.insert_key_rows(groups, columns)
    }

    /// `insert_rows` into the sets of keys.
    fn insert_key_rows(&mut self, groups: &[u32], columns: &[ColumnRef]) {
        self.make_key_sets();
        let keys = inline_keys(columns, groups.len());
        let seed = shared_seed();
        // Each key hashed as the table its length picks will hash it.
        let hashes: Vec<u64> = keys.iter().map(|k| narrow(k).map_or_else(|| k.hash(seed), |n| n.hash(seed))).collect();
        let mut long = Vec::new();
        let added = &mut self.keys;
        for (row, (key, &g)) in keys.iter().zip(groups).enumerate() {
            if row > 0 && groups[row - 1] == g && keys[row - 1] == *key {
                continue;
            }
            if let (Some(&ahead), Some(&h)) = (groups.get(row + PREFETCH_AHEAD), hashes.get(row + PREFETCH_AHEAD)) {
                let set = &self.sets[ahead as usize];
                match (keys[row + PREFETCH_AHEAD][SHORT - 1] as usize) < NARROW {
                    true => set.narrow.prefetch(h),
                    false => set.short.prefetch(h),
                }
            }
            let set = &mut self.sets[g as usize];
            match key[SHORT - 1] {
                LONG => set.get_or_insert_long(long_key(columns, row, &mut long), || *added += 1),
                _ => match narrow(key) {
                    Some(n) => set.narrow.probe(n, hashes[row], || *added += 1),
                    None => set.short.probe(*key, hashes[row], || *added += 1),
                },
            }
        }
    }

    /// Folds another table's sets in, theirs group `g` into this one's `groups[g]`: a set
    /// moves whole where this table's group has no keys yet.
    pub(crate) fn merge(&mut self, groups: &[u32], mut other: KeySets) {
        self.seal();
        other.seal();
        if self.numbered.is_none() && self.keys == 0 {
            self.numbered = other.numbered.as_ref().map(|(prefix, _)| (prefix.clone(), GroupNumbers::new(self.groups)));
        }
        let alike = match (&self.numbered, &other.numbered) {
            (None, None) => true,
            (Some((mine, _)), Some((theirs, _))) => mine == theirs,
            (Some(_), None) => other.keys == 0,
            (None, Some(_)) => false,
        };
        if !alike {
            for (g, &mine) in groups.iter().enumerate() {
                other.for_each_key(g, |key| self.insert(mine, key));
            }
            return;
        }
        if let (Some((_, mine)), Some((_, theirs))) = (&mut self.numbered, other.numbered) {
            mine.merge(groups, theirs);
        }
        if other.keys > 0 {
            self.make_key_sets();
        }
        for (set, &g) in other.sets.into_iter().zip(groups).filter(|(set, _)| set.len() > 0) {
            // Keys and numbers are apart: an empty set of keys takes theirs whole.
            if self.sets[g as usize].len() == 0 {
                self.keys += set.len();
                self.sets[g as usize] = set;
            } else {
                let added = &mut self.keys;
                self.sets[g as usize].merge(&set, |()| *added += 1, |(), ()| {});
            }
        }
    }

    /// Bytes held, roughly: two slots per key (the tables are between a quarter and half
    /// full), the empty key sets, and the numbers.
    pub(crate) fn memory_size(&self) -> usize {
        let numbered = self.numbered.as_ref().map_or(0, |(_, numbers)| numbers.memory_size());
        self.keys * 64 + self.sets.len() * std::mem::size_of::<KeyIndex<()>>() + numbered
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use granary_storage::{DataType, Value};

    #[test]
    fn coded_keys_index_a_direct_table_while_their_dictionaries_multiply_small() {
        let dict = |n: usize| -> Option<ColumnRef> {
            let values: Vec<Value> = (0..n).map(|i| Value::String(format!("v{i}"))).collect();
            Some(Arc::new(Column::from_values(DataType::String, &values).unwrap()))
        };
        assert_eq!(direct_strides(&[dict(40), dict(3)]), Some((vec![1, 40], 120)));
        assert_eq!(direct_strides(&[dict(256), dict(256)]), Some((vec![1, 256], DIRECT_CODES)));
        assert_eq!(direct_strides(&[dict(256), dict(257)]), None, "past DIRECT_CODES");
        assert_eq!(direct_strides(&[dict(4), None]), None, "a key that is not coded");
    }

    #[test]
    fn keys_of_every_length_find_their_values_in_batches_and_one_by_one() {
        // Encodings of 4 + 1..40 bytes: narrow (under 16), short (under 24) and boxed.
        let texts: Vec<String> = (0..600).map(|i| "x".repeat(1 + i % 40) + &(i / 40).to_string()).collect();
        let column = |rows: &[String]| -> ColumnRef {
            let values: Vec<Value> = rows.iter().map(|t| Value::String(t.clone())).collect();
            Arc::new(Column::from_values(DataType::String, &values).unwrap())
        };
        let mut index: KeyIndex<u32> = KeyIndex::default();
        let mut ids = Vec::new();
        // All narrow, then all short, then mixed: each batch path, then the row-by-row one.
        let narrow: Vec<String> = texts.iter().filter(|t| t.len() + 4 < NARROW).cloned().collect();
        let short: Vec<String> = texts.iter().filter(|t| (NARROW..SHORT).contains(&(t.len() + 4))).cloned().collect();
        let mut next = 0;
        for rows in [&narrow, &short, &texts, &texts] {
            ids.clear();
            index.get_or_insert_rows(&[column(rows)], rows.len(), &mut ids, |_| {
                next += 1;
                next - 1
            });
            for (text, &id) in rows.iter().zip(&ids) {
                let mut key = Vec::new();
                append_key(&column(std::slice::from_ref(text)), 0, &mut key);
                assert_eq!(index.get_or_insert(&key, || unreachable!("{text} was inserted")), id, "{text}");
            }
        }
        let distinct: std::collections::HashSet<&String> = texts.iter().collect();
        assert_eq!((index.len(), next as usize), (distinct.len(), distinct.len()));
        assert!(index.narrow.len() > 0 && index.short.len() > 0 && !index.long.is_empty());
        assert_eq!(index.iter().count(), distinct.len());
    }

    #[test]
    fn sets_of_numbers_and_of_strings_merge_into_each_groups_distinct_ids() {
        let strings = |rows: &[&str]| -> ColumnRef {
            let values: Vec<Value> = rows.iter().map(|t| Value::String(t.to_string())).collect();
            Arc::new(Column::from_values(DataType::String, &values).unwrap())
        };
        let prefix: Arc<[u8]> = Arc::from(&b"u"[..]);
        let per_group = |sets: &KeySets| (0..sets.groups()).map(|g| sets.len(g)).collect::<Vec<_>>();
        // Numbers only: no table of string keys is made for the groups.
        let mut numbers = KeySets::new();
        numbers.resize(4);
        numbers.insert_numbers(&[0, 0, 1, 2, 2], &[5, 5, 6, 7, 9], &prefix);
        assert!(numbers.sets.is_empty());
        // Strings only, in a table with one group more.
        let mut strings_only = KeySets::new();
        strings_only.resize(5);
        strings_only.insert_rows(&[0, 1, 1, 2, 4], &[strings(&["u5", "x", "x", "u8", "y"])]);
        assert_eq!(per_group(&strings_only), [1, 1, 1, 0, 1]);
        // Theirs group g is ours g + 0, and their group 4 is a new group 4 here. `u5` is
        // the number 5 group 0 holds already; `x` and `y` are strings in a set of keys.
        numbers.resize(5);
        numbers.merge(&[0, 1, 2, 3, 4], strings_only);
        assert_eq!(per_group(&numbers), [1, 2, 3, 0, 1]);
        // The other way round: numbers merge into a table of strings.
        let mut strings_first = KeySets::new();
        strings_first.resize(2);
        strings_first.insert_rows(&[0, 1], &[strings(&["u7", "z"])]);
        let mut more = KeySets::new();
        more.resize(2);
        more.insert_numbers(&[0, 1, 1], &[7, 7, 8], &prefix);
        strings_first.merge(&[1, 0], more);
        // Group 0: `u7` and the numbers 7 and 8 (7 is `u7`); group 1: `z` and 7.
        assert_eq!(per_group(&strings_first), [2, 2]);
    }
}
