//! Hash join of two blocks of rows: which left row pairs with which right row.
//!
//! The build side is the smaller one: its rows go into a hash table of key bytes (head of a
//! chain per key, chains threaded through one `next` array, so a build is two allocations),
//! and the other side probes it a row at a time. Rows with a NULL key component never match,
//! as in SQL. Outer joins then pad the rows no pair kept with `NONE` on the other side.

use granary_storage::{Column, ColumnRef};
use hashbrown::HashMap;

use crate::aggregate::append_key;
use crate::error::Result;
use crate::exec::QueryContext;

/// Marks the missing side of a row an outer join pads.
pub const NONE: u32 = u32::MAX;

/// Which rows a join keeps beyond the matching pairs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinKind {
    /// Matching pairs only.
    Inner,
    /// Plus left rows without a match.
    Left,
    /// Plus right rows without a match.
    Right,
    /// Plus unmatched rows of both sides.
    Full,
    /// Every pair (no keys).
    Cross,
}

impl JoinKind {
    /// True when the join pads unmatched rows of the left side's partner (left rows survive).
    pub fn keeps_left(self) -> bool {
        matches!(self, JoinKind::Left | JoinKind::Full)
    }

    /// True when unmatched right rows survive.
    pub fn keeps_right(self) -> bool {
        matches!(self, JoinKind::Right | JoinKind::Full)
    }
}

/// The rest of an ON condition: given chunks of candidate pairs (left rows, right rows),
/// which of them hold (non-zero).
pub type Residual<'a> = &'a mut dyn FnMut(&[u32], &[u32]) -> Result<Vec<u8>>;

/// Pairs evaluated by a residual condition at a time, to bound the memory of the pair block.
const RESIDUAL_CHUNK: usize = 1 << 16;

/// Probe rows, and matching pairs, between checks for cancellation and memory.
const PROBE_CHECK_ROWS: usize = 1 << 12;
const PROBE_CHECK_PAIRS: usize = 1 << 20;

/// The row pairs of a join of `left_rows` and `right_rows` rows on equal keys (one column per
/// key component on each side, of equal types), filtered by `residual` (the rest of the ON
/// condition, evaluated over chunks of candidate pairs), then padded by the join kind.
pub fn join_pairs(
    kind: JoinKind,
    keys: (&[ColumnRef], &[ColumnRef]),
    rows: (usize, usize),
    mut residual: Option<Residual>,
    ctx: &QueryContext,
) -> Result<(Vec<u32>, Vec<u32>)> {
    let (left_keys, right_keys) = keys;
    let (left_rows, right_rows) = rows;
    // Build on the smaller side; `swap` says the build side is the left one.
    let swap = left_rows < right_rows;
    let (build_keys, probe_keys, build_rows, probe_rows) =
        if swap { (left_keys, right_keys, left_rows, right_rows) } else { (right_keys, left_keys, right_rows, left_rows) };
    let has_null = |keys: &[ColumnRef], row: usize| keys.iter().any(|k| k.is_null(row));
    let mut heads: HashMap<Box<[u8]>, u32, ahash::RandomState> = HashMap::default();
    let mut next = vec![NONE; build_rows];
    let mut key = Vec::new();
    // Insert in reverse so each chain lists its rows in ascending order.
    for row in (0..build_rows).rev() {
        if has_null(build_keys, row) {
            continue;
        }
        key.clear();
        build_keys.iter().for_each(|k| append_key(k, row, &mut key));
        match heads.get_mut(key.as_slice()) {
            Some(head) => {
                next[row] = *head;
                *head = row as u32;
            }
            None => {
                heads.insert(key.clone().into_boxed_slice(), row as u32);
            }
        }
    }
    let (mut probe_side, mut build_side) = (Vec::new(), Vec::new());
    for row in 0..probe_rows {
        if row % PROBE_CHECK_ROWS == 0 {
            // A join can fan out without end: stop when cancelled or past the memory limit.
            ctx.check()?;
            ctx.check_memory(2 * std::mem::size_of::<u32>() * probe_side.len())?;
        }
        if has_null(probe_keys, row) {
            continue;
        }
        key.clear();
        probe_keys.iter().for_each(|k| append_key(k, row, &mut key));
        let mut at = heads.get(key.as_slice()).copied().unwrap_or(NONE);
        while at != NONE {
            probe_side.push(row as u32);
            build_side.push(at);
            at = next[at as usize];
            if probe_side.len() % PROBE_CHECK_PAIRS == 0 {
                ctx.check()?;
                ctx.check_memory(2 * std::mem::size_of::<u32>() * probe_side.len())?;
            }
        }
    }
    let (mut left, mut right) = if swap { (build_side, probe_side) } else { (probe_side, build_side) };
    if let Some(residual) = residual.as_mut() {
        let mut keep = Vec::with_capacity(left.len());
        for start in (0..left.len()).step_by(RESIDUAL_CHUNK) {
            let end = (start + RESIDUAL_CHUNK).min(left.len());
            keep.extend(residual(&left[start..end], &right[start..end])?);
        }
        let mut i = 0;
        left.retain(|_| {
            i += 1;
            keep[i - 1] != 0
        });
        let mut i = 0;
        right.retain(|_| {
            i += 1;
            keep[i - 1] != 0
        });
    }
    pad_unmatched(kind.keeps_left(), &mut left, &mut right, left_rows);
    pad_unmatched(kind.keeps_right(), &mut right, &mut left, right_rows);
    Ok((left, right))
}

/// Appends `(row, NONE)` for every row of `side` (of `rows` rows) that no pair holds.
fn pad_unmatched(keep: bool, side: &mut Vec<u32>, other: &mut Vec<u32>, rows: usize) {
    if !keep {
        return;
    }
    let mut matched = vec![false; rows];
    side.iter().filter(|&&r| r != NONE).for_each(|&r| matched[r as usize] = true);
    for (row, _) in matched.iter().enumerate().filter(|(_, m)| !**m) {
        side.push(row as u32);
        other.push(NONE);
    }
}

/// Rows `indices` of a column, where `NONE` gives the type's default (NULL if Nullable):
/// how an outer join pads the side a row lacks.
pub fn take_padded(col: &Column, indices: &[u32]) -> Column {
    if !indices.contains(&NONE) {
        return col.take(indices);
    }
    let mut padded = col.clone();
    padded.append(&Column::defaults(col.ty.clone(), 1));
    let default = (padded.len() - 1) as u32;
    padded.take(&indices.iter().map(|&i| if i == NONE { default } else { i }).collect::<Vec<_>>())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use granary_storage::{Column, DataType, Value};

    use super::*;

    fn ints(v: &[i64]) -> ColumnRef {
        Arc::new(Column::from_values(DataType::Int64, &v.iter().map(|&x| Value::Int(x)).collect::<Vec<_>>()).unwrap())
    }

    fn sorted(pairs: (Vec<u32>, Vec<u32>)) -> Vec<(u32, u32)> {
        let mut v: Vec<(u32, u32)> = pairs.0.into_iter().zip(pairs.1).collect();
        v.sort();
        v
    }

    #[test]
    fn inner_and_outer_pairs_on_duplicate_keys() {
        let (l, r) = (ints(&[1, 2, 2, 5]), ints(&[2, 2, 3, 1]));
        let keys = (std::slice::from_ref(&l), std::slice::from_ref(&r));
        let inner = join_pairs(JoinKind::Inner, keys, (4, 4), None, &QueryContext::default()).unwrap();
        assert_eq!(sorted(inner), vec![(0, 3), (1, 0), (1, 1), (2, 0), (2, 1)]);
        let full = join_pairs(JoinKind::Full, keys, (4, 4), None, &QueryContext::default()).unwrap();
        assert_eq!(sorted(full), vec![(0, 3), (1, 0), (1, 1), (2, 0), (2, 1), (3, NONE), (NONE, 2)]);
    }

    #[test]
    fn residual_decides_what_counts_as_a_match() {
        let (l, r) = (ints(&[1, 1]), ints(&[1]));
        let keys = (std::slice::from_ref(&l), std::slice::from_ref(&r));
        let mut only_first = |left: &[u32], _: &[u32]| -> Result<Vec<u8>> { Ok(left.iter().map(|&x| (x == 0) as u8).collect()) };
        let pairs = join_pairs(JoinKind::Left, keys, (2, 1), Some(&mut only_first), &QueryContext::default()).unwrap();
        assert_eq!(sorted(pairs), vec![(0, 0), (1, NONE)]);
    }

    #[test]
    fn null_keys_never_match() {
        let l: ColumnRef = Arc::new(Column::from_values(DataType::Int64.nullable(), &[Value::Null, Value::Int(1)]).unwrap());
        let r: ColumnRef = Arc::new(Column::from_values(DataType::Int64.nullable(), &[Value::Null, Value::Int(1)]).unwrap());
        let pairs = join_pairs(JoinKind::Inner, (std::slice::from_ref(&l), std::slice::from_ref(&r)), (2, 2), None, &QueryContext::default()).unwrap();
        assert_eq!(sorted(pairs), vec![(1, 1)]);
    }
}
