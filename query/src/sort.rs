//! Row order for ORDER BY: the positions of a block's rows in sort order, all of them or,
//! under a LIMIT, the first few.
//!
//! A LIMIT far below the row count (the top 10 of two million groups) first narrows the rows
//! on the first sort key alone, in a typed pass: a heap of the `limit` best values, then the
//! rows that tie or beat the worst of them. Only those candidates meet the generic comparator,
//! which goes key by key through each column's variant.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use granary_storage::column::Primitive;
use granary_storage::{match_data, Column, ColumnRef};

use crate::plan::SortKey;

/// Rows per LIMIT row past which the typed first-key pass pays for itself.
const NARROW_FROM: usize = 16;

/// Row order for the sort keys (ties in row order); with `limit`, only the first `limit`
/// positions are exact.
pub(crate) fn sort_indices(keys: &[(ColumnRef, &SortKey)], rows: usize, limit: Option<usize>) -> Vec<u32> {
    let cmp = |a: &u32, b: &u32| {
        for (col, key) in keys {
            let (a, b) = (*a as usize, *b as usize);
            let (na, nb) = (col.is_null(a), col.is_null(b));
            if na != nb {
                return if na == key.nulls_first { Ordering::Less } else { Ordering::Greater };
            }
            let o = col.cmp_rows(a, col, b);
            if o.is_ne() {
                return if key.desc { o.reverse() } else { o };
            }
        }
        a.cmp(b)
    };
    let narrowed = match (limit, keys.first()) {
        (Some(k), Some((first, key))) if k > 0 && rows / k >= NARROW_FROM => candidates(first, key.desc, k),
        _ => None,
    };
    let mut idx = narrowed.unwrap_or_else(|| (0..rows as u32).collect());
    if let Some(k) = limit.filter(|&k| k < idx.len()) {
        if k > 0 {
            idx.select_nth_unstable_by(k - 1, cmp);
        }
        idx.truncate(k);
    }
    idx.sort_unstable_by(cmp);
    idx
}

/// The rows that can be among the first `k` in the order of `column` (descending with
/// `desc`): those whose value ties or beats the `k`-th best. `None` for a column with NULLs
/// or of strings, which keep the generic path.
fn candidates(column: &Column, desc: bool, k: usize) -> Option<Vec<u32>> {
    if column.nulls.is_some() {
        return None;
    }
    match_data!(&column.data, v => Some(ties_or_beats_kth(v, desc, k)), _s => None)
}

/// A value ordered as the sort wants it: less is earlier.
#[derive(Clone, Copy)]
struct Ranked<T> {
    value: T,
    desc: bool,
}

impl<T: Primitive> Ord for Ranked<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        let o = self.value.total_cmp(&other.value);
        if self.desc {
            o.reverse()
        } else {
            o
        }
    }
}

impl<T: Primitive> PartialOrd for Ranked<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<T: Primitive> PartialEq for Ranked<T> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl<T: Primitive> Eq for Ranked<T> {}

/// `candidates` over a column's values (`0 < k < values.len()`).
fn ties_or_beats_kth<T: Primitive>(values: &[T], desc: bool, k: usize) -> Vec<u32> {
    // A max-heap of the k earliest values so far: its top is the latest of them, the bar a
    // value has to beat to get in.
    let mut best: BinaryHeap<Ranked<T>> = values[..k].iter().map(|&value| Ranked { value, desc }).collect();
    let mut bar = *best.peek().expect("k > 0");
    for &value in &values[k..] {
        let ranked = Ranked { value, desc };
        if ranked < bar {
            *best.peek_mut().expect("k > 0") = ranked;
            bar = *best.peek().expect("k > 0");
        }
    }
    values.iter().enumerate().filter(|(_, &value)| Ranked { value, desc } <= bar).map(|(i, _)| i as u32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::Expr;
    use granary_storage::{DataType, Value};
    use std::sync::Arc;

    #[test]
    fn a_small_limit_gives_the_rows_a_full_sort_puts_first() {
        // Two keys: a count with many ties (descending), then a text (ascending); NULLs in a
        // copy of the first key send it down the generic path, which must agree.
        let rows = 5000;
        let counts: Vec<Value> = (0..rows).map(|i| Value::UInt((i * 7919 % 97) as u64)).collect();
        let texts: Vec<Value> = (0..rows).map(|i| Value::String(format!("u{}", i * 31 % 1009))).collect();
        let column = |ty: DataType, v: &[Value]| Arc::new(Column::from_values(ty, v).unwrap());
        let (count, text) = (column(DataType::UInt64, &counts), column(DataType::String, &texts));
        let mut with_null = counts.clone();
        with_null[3] = Value::Null;
        let nullable = column(DataType::Nullable(Box::new(DataType::UInt64)), &with_null);
        let key = |desc| SortKey { expr: Expr::Column { index: 0, ty: DataType::UInt64 }, desc, nulls_first: false };
        let (down, up) = (key(true), key(false));
        for first in [count, nullable] {
            for first_key in [&down, &up] {
                let keys = [(first.clone(), first_key), (text.clone(), &up)];
                let full = sort_indices(&keys, rows, None);
                for k in [1, 10, 60, 300] {
                    assert_eq!(sort_indices(&keys, rows, Some(k)), full[..k], "k = {k}");
                }
            }
        }
    }

    #[test]
    fn the_first_key_pass_keeps_every_tie_of_the_kth_value() {
        let values = [5u64, 1, 9, 9, 3, 9, 7, 1];
        assert_eq!(ties_or_beats_kth(&values, true, 2), vec![2, 3, 5]);
        assert_eq!(ties_or_beats_kth(&values, false, 2), vec![1, 7]);
        assert_eq!(ties_or_beats_kth(&values, false, 3), vec![1, 4, 7]);
    }
}
