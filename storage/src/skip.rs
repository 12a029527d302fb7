//! Data-skipping indexes (`INDEX name col TYPE minmax | set(N) | bloom_filter GRANULARITY k`).
//!
//! A skip index summarises each run of `granularity` granules of one column (an index
//! block) so that a query can pass over blocks that cannot hold a wanted value even when the
//! column is not in the sort key: `minmax` keeps the block's smallest and largest value,
//! `set(N)` its distinct values (or nothing once there are more than N), `bloom_filter` a
//! Bloom filter of its values' hashes (equality only). The file `skp_idx_<name>.idx` holds
//! one entry per block, in order:
//!
//! * minmax: a flag byte (0 when every value was NULL) then min and max in column encoding;
//! * set: a flag byte (0 when the set overflowed), a u32 count, the values in column encoding;
//! * bloom_filter: a u32 word count, then the filter's 64-bit words.

use std::borrow::Cow;
use std::collections::HashSet;
use std::ops::Bound;

use serde::{Deserialize, Serialize};

use crate::column::Column;
use crate::error::{Result, StorageError};
use crate::index::ColumnRange;
use crate::types::DataType;

/// Bloom filter probes per value.
const BLOOM_HASHES: u32 = 4;

/// What a skip index keeps per block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SkipIndexKind {
    /// Smallest and largest value.
    MinMax,
    /// Up to `max_values` distinct values (0 = no limit).
    Set {
        /// Past this many distinct values the block is marked as matching anything.
        max_values: usize,
    },
    /// Bloom filter sized for the given false-positive rate.
    BloomFilter {
        /// Wanted false-positive rate (ClickHouse's default is 0.025).
        false_positive: f64,
    },
}

/// A skip index declared by a table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkipIndexSpec {
    /// Index name (also names its file).
    pub name: String,
    /// Index of the column it summarises, in the table layout.
    pub column: usize,
    /// Its kind.
    pub kind: SkipIndexKind,
    /// Granules per index block.
    pub granularity: usize,
}

impl SkipIndexSpec {
    /// The index file name in a part directory.
    pub fn file_name(&self) -> String {
        format!("skp_idx_{}.idx", crate::part::escape_file_name(&self.name))
    }
}

/// Builds a skip index while a part streams out, one block at a time.
pub struct SkipIndexWriter {
    spec: SkipIndexSpec,
    ty: DataType,
    /// Rows of the current block that still matter: for minmax the running extremes, for
    /// set and bloom_filter the distinct values seen so far.
    values: Column,
    seen: HashSet<Vec<u8>>,
    overflowed: bool,
    granules: usize,
    out: Vec<u8>,
}

impl SkipIndexWriter {
    /// A writer for `spec` over a column of type `ty`.
    pub fn new(spec: SkipIndexSpec, ty: &DataType) -> SkipIndexWriter {
        let ty = ty.value_type().non_null().clone();
        SkipIndexWriter { spec, values: Column::empty(ty.clone()), ty, seen: HashSet::new(), overflowed: false, granules: 0, out: Vec::new() }
    }

    /// The layout index of the column the index summarises.
    pub fn column(&self) -> usize {
        self.spec.column
    }

    /// Adds rows `start..end` of `column` as one granule.
    pub fn push_granule(&mut self, column: &Column, start: usize, end: usize) {
        match self.spec.kind {
            SkipIndexKind::MinMax => {
                if let Some((lo, hi)) = column.min_max_in(start..end) {
                    let mut both = Column::from_values(self.ty.clone(), &[lo, hi]).expect("min/max have the column's type");
                    if !self.values.is_empty() {
                        let (old_lo, old_hi) = (self.values.value(0), self.values.value(1));
                        let lo = if both.value(0).compare(&old_lo).is_lt() { both.value(0) } else { old_lo };
                        let hi = if both.value(1).compare(&old_hi).is_gt() { both.value(1) } else { old_hi };
                        both = Column::from_values(self.ty.clone(), &[lo, hi]).expect("min/max have the column's type");
                    }
                    self.values = both;
                }
            }
            SkipIndexKind::Set { .. } | SkipIndexKind::BloomFilter { .. } if !self.overflowed => {
                // Values are keyed by their encoding without the null map (NULLs are skipped).
                let nullable = column.nulls.is_some();
                let plain = match nullable {
                    true => Cow::Owned(column.slice(start, end - start).without_nulls()),
                    false => Cow::Borrowed(column),
                };
                let offset = if nullable { start } else { 0 };
                let keep_values = matches!(self.spec.kind, SkipIndexKind::Set { .. });
                let mut key = Vec::new();
                for row in start..end {
                    if column.is_null(row) {
                        continue;
                    }
                    key.clear();
                    plain.encode(row - offset, row - offset + 1, &mut key);
                    if !self.seen.contains(&key) {
                        self.seen.insert(key.clone());
                        if keep_values {
                            self.values.append_range(&plain, row - offset..row - offset + 1);
                        }
                    }
                }
                if let SkipIndexKind::Set { max_values } = self.spec.kind {
                    if max_values > 0 && self.seen.len() > max_values {
                        self.overflowed = true;
                        self.seen.clear();
                        self.values = Column::empty(self.ty.clone());
                    }
                }
            }
            _ => {}
        }
        self.granules += 1;
        if self.granules == self.spec.granularity.max(1) {
            self.finish_block();
        }
    }

    fn finish_block(&mut self) {
        let values = std::mem::replace(&mut self.values, Column::empty(self.ty.clone()));
        match self.spec.kind {
            SkipIndexKind::MinMax | SkipIndexKind::Set { .. } => {
                let present = !self.overflowed && (self.spec.kind != SkipIndexKind::MinMax || !values.is_empty());
                self.out.push(present as u8);
                if present {
                    if self.spec.kind != SkipIndexKind::MinMax {
                        self.out.extend_from_slice(&(values.len() as u32).to_le_bytes());
                    }
                    values.encode(0, values.len(), &mut self.out);
                }
            }
            SkipIndexKind::BloomFilter { false_positive } => {
                let words = bloom_words(self.seen.len(), false_positive);
                let mut bits = vec![0u64; words];
                for key in &self.seen {
                    for bit in probes(key, words) {
                        bits[bit / 64] |= 1 << (bit % 64);
                    }
                }
                self.out.extend_from_slice(&(words as u32).to_le_bytes());
                for w in bits {
                    self.out.extend_from_slice(&w.to_le_bytes());
                }
            }
        }
        self.seen.clear();
        self.overflowed = false;
        self.granules = 0;
    }

    /// The index file's content (closing a partly filled last block).
    pub fn finish(mut self) -> (SkipIndexSpec, Vec<u8>) {
        if self.granules > 0 {
            self.finish_block();
        }
        (self.spec, self.out)
    }
}

/// Bloom filter size in 64-bit words for `n` values at false-positive rate `p`.
fn bloom_words(n: usize, p: f64) -> usize {
    let p = p.clamp(1e-6, 0.5);
    let bits = (n.max(1) as f64 * -p.ln() / (std::f64::consts::LN_2 * std::f64::consts::LN_2)).ceil() as usize;
    bits.div_ceil(64).max(1)
}

/// The bit positions of a value (its encoded bytes) in a filter of `words` words: double
/// hashing over a 64-bit FNV-1a hash finished with a SplitMix64 mix, stable across builds
/// and machines since the bits are on disk.
fn probes(key: &[u8], words: usize) -> impl Iterator<Item = usize> {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in key {
        h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
    }
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^= h >> 31;
    let (h1, h2) = (h & 0xffff_ffff, (h >> 32) | 1);
    let bits = (words * 64) as u64;
    (0..BLOOM_HASHES as u64).map(move |i| (h1.wrapping_add(i.wrapping_mul(h2)) % bits) as usize)
}

/// One block's summary, as read back.
#[derive(Debug)]
enum BlockSummary {
    /// Nothing can be ruled out (an overflowed set).
    Anything,
    /// No non-NULL value (minmax of an all-NULL block).
    Nothing,
    /// The values: min and max, or the distinct set.
    Values(Column),
    /// Bloom filter words.
    Bloom(Vec<u64>),
}

/// A part's skip index, read into memory.
#[derive(Debug)]
pub struct SkipIndex {
    spec: SkipIndexSpec,
    ty: DataType,
    blocks: Vec<BlockSummary>,
}

impl SkipIndex {
    /// Parses an index file written by `SkipIndexWriter` for a column of type `ty`.
    pub fn decode(spec: SkipIndexSpec, ty: &DataType, bytes: &[u8]) -> Result<SkipIndex> {
        let ty = ty.value_type().non_null().clone();
        let bad = || StorageError::Invalid(format!("skip index {} is truncated", spec.name));
        let u32_at = |pos: usize| -> Result<usize> { Ok(u32::from_le_bytes(bytes.get(pos..pos + 4).ok_or_else(bad)?.try_into().unwrap()) as usize) };
        let mut blocks = Vec::new();
        let mut pos = 0;
        while pos < bytes.len() {
            let block = match spec.kind {
                SkipIndexKind::MinMax | SkipIndexKind::Set { .. } => {
                    let present = bytes[pos] != 0;
                    pos += 1;
                    if !present {
                        if spec.kind == SkipIndexKind::MinMax { BlockSummary::Nothing } else { BlockSummary::Anything }
                    } else {
                        let count = match spec.kind {
                            SkipIndexKind::MinMax => 2,
                            _ => {
                                pos += 4;
                                u32_at(pos - 4)?
                            }
                        };
                        let mut values = Column::empty(ty.clone());
                        pos += values.decode_append(&bytes[pos..], count)?;
                        BlockSummary::Values(values)
                    }
                }
                SkipIndexKind::BloomFilter { .. } => {
                    let words = u32_at(pos)?;
                    pos += 4;
                    let raw = bytes.get(pos..pos + words * 8).ok_or_else(bad)?;
                    pos += words * 8;
                    BlockSummary::Bloom(raw.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().unwrap())).collect())
                }
            };
            blocks.push(block);
        }
        Ok(SkipIndex { spec, ty, blocks })
    }

    /// The index's declaration.
    pub fn spec(&self) -> &SkipIndexSpec {
        &self.spec
    }

    /// False when granule `g` cannot hold a value inside `range` (a range on this index's
    /// column). Unknown or unusable cases answer true: skipping is never lossy.
    pub fn granule_may_match(&self, g: usize, range: &ColumnRange) -> bool {
        let Some(block) = self.blocks.get(g / self.spec.granularity.max(1)) else { return true };
        match block {
            BlockSummary::Anything => true,
            BlockSummary::Nothing => false,
            BlockSummary::Values(v) if self.spec.kind == SkipIndexKind::MinMax => range.overlaps(&v.value(0), &v.value(1)),
            BlockSummary::Values(v) => (0..v.len()).any(|i| {
                let x = v.value(i);
                range.overlaps(&x, &x)
            }),
            BlockSummary::Bloom(words) => match (&range.lo, &range.hi) {
                (Bound::Included(lo), Bound::Included(hi)) if lo.compare(hi).is_eq() => {
                    let Ok(col) = Column::from_values(self.ty.clone(), std::slice::from_ref(lo)) else { return true };
                    let mut key = Vec::new();
                    col.encode(0, 1, &mut key);
                    probes(&key, words.len()).all(|bit| words[bit / 64] & (1 << (bit % 64)) != 0)
                }
                _ => true,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    fn spec(kind: SkipIndexKind, granularity: usize) -> SkipIndexSpec {
        SkipIndexSpec { name: "i".into(), column: 0, kind, granularity }
    }

    fn eq(v: Value) -> ColumnRange {
        ColumnRange { column: 0, lo: Bound::Included(v.clone()), hi: Bound::Included(v) }
    }

    /// Six granules of two rows: strings `s{g}a`, `s{g}b` in granule g.
    fn build(kind: SkipIndexKind, granularity: usize) -> SkipIndex {
        let values: Vec<Value> = (0..6).flat_map(|g| [Value::String(format!("s{g}a")), Value::String(format!("s{g}b"))]).collect();
        let col = Column::from_values(DataType::String, &values).unwrap();
        let mut w = SkipIndexWriter::new(spec(kind, granularity), &DataType::String);
        for g in 0..6 {
            w.push_granule(&col, g * 2, g * 2 + 2);
        }
        let (spec, bytes) = w.finish();
        SkipIndex::decode(spec, &DataType::String, &bytes).unwrap()
    }

    #[test]
    fn each_kind_rules_out_blocks_without_the_value() {
        for kind in [SkipIndexKind::MinMax, SkipIndexKind::Set { max_values: 10 }, SkipIndexKind::BloomFilter { false_positive: 0.001 }] {
            let index = build(kind.clone(), 2);
            let hits: Vec<usize> = (0..6).filter(|&g| index.granule_may_match(g, &eq(Value::String("s3b".into())))).collect();
            assert_eq!(hits, vec![2, 3], "{kind:?}");
        }
    }

    #[test]
    fn an_overflowed_set_matches_everything_and_minmax_serves_ranges() {
        let index = build(SkipIndexKind::Set { max_values: 3 }, 2);
        assert!((0..6).all(|g| index.granule_may_match(g, &eq(Value::String("zzz".into())))));
        let index = build(SkipIndexKind::MinMax, 1);
        let r = ColumnRange { column: 0, lo: Bound::Excluded(Value::String("s4b".into())), hi: Bound::Unbounded };
        assert_eq!((0..6).filter(|&g| index.granule_may_match(g, &r)).collect::<Vec<_>>(), vec![5]);
    }
}
