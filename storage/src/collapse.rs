//! How rows with equal sort keys fold into one when parts merge, and when a `FINAL` read
//! merges on the fly: the table engine's merge mode (ordinary, replacing, summing).
//!
//! A `Collapser` takes the sorted blocks of a k-way merge and emits every run of equal keys
//! as one row. A run may continue into the next block, so the last run of each block is held
//! back until a block with a different key (or the end) arrives.

use std::ops::Range;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::block::Block;
use crate::column::{Column, ColumnData};
use crate::error::{Result, StorageError};
use crate::map_data;

/// What a merge does with rows whose sort keys are equal. Column numbers index the table's
/// columns.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub enum MergeMode {
    /// Keep every row (MergeTree).
    #[default]
    Ordinary,
    /// Keep one row per key: the one with the highest `version`, or the last inserted
    /// (ReplacingMergeTree).
    Replacing { version: Option<usize> },
    /// Keep one row per key with `columns` summed; a row whose sums are all zero is removed
    /// (SummingMergeTree). Other columns keep the first row's value.
    Summing { columns: Vec<usize> },
    /// Keep one row per key with each listed column combined across the run
    /// (AggregatingMergeTree). Other columns keep the first row's value.
    Aggregating { columns: Vec<(usize, Combine)> },
}

/// How an AggregatingMergeTree column combines the rows of one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Combine {
    /// `SimpleAggregateFunction(sum, T)`: wrapping sum.
    Sum,
    /// `SimpleAggregateFunction(min, T)`.
    Min,
    /// `SimpleAggregateFunction(max, T)`.
    Max,
    /// `SimpleAggregateFunction(any, T)`: the first row's value.
    Any,
    /// `SimpleAggregateFunction(anyLast, T)`: the last row's value.
    AnyLast,
    /// `AggregateFunction(f, T)`: states merged by the query engine's `StateMerger`.
    State,
}

/// Merges serialized aggregate states: what AggregatingMergeTree needs from the query
/// engine, which alone knows each aggregate function's state.
pub trait StateMerger: Send + Sync + std::fmt::Debug {
    /// One state per run: the states in rows `runs[i]` of `states` (a column of an
    /// `AggregateFunction` type) merged into one.
    fn merge_runs(&self, states: &Column, runs: &[Range<usize>]) -> Result<Column>;
}

/// Folds runs of equal keys in a sorted stream of blocks.
#[derive(Debug)]
pub struct Collapser {
    mode: MergeMode,
    key: Vec<usize>,
    states: Option<Arc<dyn StateMerger>>,
    /// The last run seen, which the next block may continue.
    carry: Option<Block>,
}

impl Collapser {
    /// A collapser for blocks whose columns are the table's columns, or `None` when the
    /// mode keeps every row. `states` merges AggregateFunction columns.
    pub fn new(mode: &MergeMode, key: &[usize], states: Option<Arc<dyn StateMerger>>) -> Option<Collapser> {
        match mode {
            MergeMode::Ordinary => None,
            mode => Some(Collapser { mode: mode.clone(), key: key.to_vec(), states, carry: None }),
        }
    }

    /// Takes the next sorted block; returns the folded rows of every run that is complete.
    pub fn push(&mut self, block: Block) -> Result<Block> {
        let block = match self.carry.take() {
            Some(carry) => Block::concat(&[carry, block]).expect("two blocks"),
            None => block,
        };
        let starts = run_starts(&block, &self.key);
        let last = *starts.last().expect("a non-empty block has a run") as usize;
        self.carry = Some(block.slice(last, block.rows() - last));
        self.fold(&block.slice(0, last), &starts[..starts.len() - 1])
    }

    /// Folds the run held back; call once the input is exhausted.
    pub fn finish(&mut self) -> Result<Option<Block>> {
        let Some(block) = self.carry.take() else { return Ok(None) };
        let out = self.fold(&block, &[0])?;
        Ok((out.rows() > 0).then_some(out))
    }

    /// Folds `block`, whose runs begin at `starts`, into one row per run.
    fn fold(&self, block: &Block, starts: &[u32]) -> Result<Block> {
        if starts.is_empty() {
            return Ok(block.slice(0, 0));
        }
        let runs = || starts.iter().enumerate().map(|(i, &s)| s as usize..starts.get(i + 1).map_or(block.rows(), |&e| e as usize));
        Ok(match &self.mode {
            MergeMode::Ordinary => block.clone(),
            MergeMode::Replacing { version } => {
                let pick: Vec<u32> = runs()
                    .map(|run| match version {
                        // The highest version wins; among equal versions, the last row.
                        Some(v) => {
                            let col = &block.columns[*v];
                            run.clone().reduce(|best, i| if col.cmp_rows(i, col, best).is_ge() { i } else { best }).expect("runs are not empty") as u32
                        }
                        None => run.end as u32 - 1,
                    })
                    .collect();
                block.take(&pick)
            }
            MergeMode::Summing { columns } => {
                let mut out = block.take(starts);
                let runs: Vec<Range<usize>> = runs().collect();
                for &c in columns {
                    out.columns[c] = Arc::new(sum_runs(&block.columns[c], &runs));
                }
                if columns.is_empty() {
                    return Ok(out);
                }
                let mut keep = vec![0u8; out.rows()];
                for &c in columns {
                    mark_non_zero(&out.columns[c], &mut keep);
                }
                out.filter(&keep)
            }
            MergeMode::Aggregating { columns } => {
                let mut out = block.take(starts);
                let runs: Vec<Range<usize>> = runs().collect();
                for &(c, combine) in columns {
                    let column = &block.columns[c];
                    out.columns[c] = Arc::new(match combine {
                        Combine::Sum => sum_runs(column, &runs),
                        Combine::Any => continue,
                        Combine::AnyLast => column.take(&runs.iter().map(|r| r.end as u32 - 1).collect::<Vec<_>>()),
                        Combine::Min | Combine::Max => {
                            let better = if combine == Combine::Max { std::cmp::Ordering::Greater } else { std::cmp::Ordering::Less };
                            let pick: Vec<u32> = runs
                                .iter()
                                .map(|r| r.clone().reduce(|best, i| if column.cmp_rows(i, column, best) == better { i } else { best }).expect("runs are not empty") as u32)
                                .collect();
                            column.take(&pick)
                        }
                        Combine::State => match &self.states {
                            Some(states) => states.merge_runs(column, &runs)?,
                            None => return Err(StorageError::Invalid(format!("no aggregate state merger for column {}", column.ty))),
                        },
                    });
                }
                out
            }
        })
    }
}

/// The first row of every run of equal keys.
fn run_starts(block: &Block, key: &[usize]) -> Vec<u32> {
    let mut change = vec![0u8; block.rows()];
    if let Some(first) = change.first_mut() {
        *first = 1;
    }
    for &k in key {
        block.columns[k].mark_changes(&mut change);
    }
    change.iter().enumerate().filter(|(_, &c)| c != 0).map(|(i, _)| i as u32).collect()
}

/// A value that a SummingMergeTree adds up: integers wrap like ClickHouse's, floats add.
trait Summable: Copy {
    fn plus(self, other: Self) -> Self;
    fn is_zero(self) -> bool;
}

macro_rules! summable {
    (wrapping: $($t:ty),*; float: $($f:ty),*) => {
        $(impl Summable for $t {
            fn plus(self, other: Self) -> Self { self.wrapping_add(other) }
            fn is_zero(self) -> bool { self == 0 }
        })*
        $(impl Summable for $f {
            fn plus(self, other: Self) -> Self { self + other }
            fn is_zero(self) -> bool { self == 0.0 }
        })*
    };
}
summable!(wrapping: u8, u16, u32, u64, i8, i16, i32, i64; float: f32, f64);

fn sum_runs(column: &Column, runs: &[Range<usize>]) -> Column {
    fn sum<T: Summable>(v: &[T], runs: &[Range<usize>]) -> Vec<T> {
        runs.iter().map(|r| v[r.start + 1..r.end].iter().fold(v[r.start], |a, &b| a.plus(b))).collect()
    }
    let data = map_data!(&column.data, v => sum(v, runs), s => {
        // Only numeric columns are summed; a string column keeps each run's first value.
        let mut out = crate::column::StringData::with_capacity(runs.len());
        for r in runs {
            out.push(s.get(r.start));
        }
        out
    });
    let nulls = column.nulls.as_ref().map(|n| runs.iter().map(|r| n[r.start]).collect());
    Column::with_nulls(column.ty.clone(), data, nulls)
}

fn mark_non_zero(column: &Column, keep: &mut [u8]) {
    fn mark<T: Summable>(v: &[T], keep: &mut [u8]) {
        for (k, x) in keep.iter_mut().zip(v) {
            *k |= !x.is_zero() as u8;
        }
    }
    match &column.data {
        ColumnData::U8(v) => mark(v, keep),
        ColumnData::U16(v) => mark(v, keep),
        ColumnData::U32(v) => mark(v, keep),
        ColumnData::U64(v) => mark(v, keep),
        ColumnData::I8(v) => mark(v, keep),
        ColumnData::I16(v) => mark(v, keep),
        ColumnData::I32(v) => mark(v, keep),
        ColumnData::I64(v) => mark(v, keep),
        ColumnData::F32(v) => mark(v, keep),
        ColumnData::F64(v) => mark(v, keep),
        ColumnData::Bytes(_) => keep.fill(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::DataType;
    use crate::value::Value;

    fn block(keys: &[u64], vals: &[i64]) -> Block {
        let k = Column::from_values(DataType::UInt64, &keys.iter().map(|&k| Value::UInt(k)).collect::<Vec<_>>()).unwrap();
        let v = Column::from_values(DataType::Int64, &vals.iter().map(|&v| Value::Int(v)).collect::<Vec<_>>()).unwrap();
        Block::new(vec![Arc::new(k), Arc::new(v)])
    }

    fn rows(b: &Block) -> Vec<(Value, Value)> {
        (0..b.rows()).map(|i| (b.columns[0].value(i), b.columns[1].value(i))).collect()
    }

    #[test]
    fn summing_folds_runs_across_blocks_and_drops_zero_sums() {
        let mut c = Collapser::new(&MergeMode::Summing { columns: vec![1] }, &[0], None).unwrap();
        let a = c.push(block(&[1, 1, 2, 3], &[5, 6, 1, 2])).unwrap();
        let b = c.push(block(&[3, 4], &[-2, 7])).unwrap();
        let end = c.finish().unwrap().unwrap();
        assert_eq!(rows(&a), vec![(Value::UInt(1), Value::Int(11)), (Value::UInt(2), Value::Int(1))]);
        assert_eq!(rows(&b), vec![], "key 3 sums to zero and is removed");
        assert_eq!(rows(&end), vec![(Value::UInt(4), Value::Int(7))]);
    }

    #[test]
    fn replacing_keeps_highest_version_then_last() {
        let mut c = Collapser::new(&MergeMode::Replacing { version: Some(1) }, &[0], None).unwrap();
        let mut out = rows(&c.push(block(&[1, 1, 1, 2, 2], &[3, 9, 4, 1, 1])).unwrap());
        out.extend(rows(&c.finish().unwrap().unwrap()));
        assert_eq!(out, vec![(Value::UInt(1), Value::Int(9)), (Value::UInt(2), Value::Int(1))]);
        let mut last = Collapser::new(&MergeMode::Replacing { version: None }, &[0], None).unwrap();
        let mut out = rows(&last.push(block(&[1, 1, 2], &[3, 9, 4])).unwrap());
        out.extend(rows(&last.finish().unwrap().unwrap()));
        assert_eq!(out, vec![(Value::UInt(1), Value::Int(9)), (Value::UInt(2), Value::Int(4))]);
    }
}
