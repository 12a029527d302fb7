//! Hash join of two blocks of rows: which left row pairs with which right row.
//!
//! The build side is the smaller one (the right one for ASOF): its rows are grouped by key
//! bytes into one array (a hash table from key to group, then a counting sort, so each key's
//! rows sit side by side in ascending row order), and the other side probes it a row at a
//! time. Rows with a NULL key component never match, as in SQL. ClickHouse's strictness then
//! decides how many pairs a row keeps (all, the first, whether any, the closest by an ASOF
//! inequality), and outer joins pad the rows no pair kept with `NONE` on the other side.

use std::cmp::Ordering;

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

/// How many partners a row of the join's preserved side keeps (ClickHouse's join strictness):
/// the side is the left one for INNER and LEFT joins, the right one for RIGHT joins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strictness {
    /// Every matching pair (`ALL`, the SQL join).
    All,
    /// The first match only (`ANY`); an `ANY INNER` join also uses each right row once.
    Any,
    /// The row with its first match, rows without one dropped (`SEMI`).
    Semi,
    /// Only rows without a match, padded (`ANTI`).
    Anti,
    /// The closest match by an inequality between the last key columns (`ASOF`), for INNER
    /// and LEFT joins.
    Asof(AsofOp),
}

/// An ASOF join's inequality `left op right` over one column per side, of one layout.
#[derive(Clone, Copy)]
struct Asof<'a> {
    left: &'a Column,
    right: &'a Column,
    op: AsofOp,
}

/// The inequality of an ASOF join, read as `left op right`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsofOp {
    /// `>=`: the latest right value not after the left one.
    Ge,
    /// `>`: the latest right value before the left one.
    Gt,
    /// `<=`: the earliest right value not before the left one.
    Le,
    /// `<`: the earliest right value after the left one.
    Lt,
}

impl AsofOp {
    /// The same inequality read the other way round (`right op left`).
    pub fn flipped(self) -> AsofOp {
        match self {
            AsofOp::Ge => AsofOp::Le,
            AsofOp::Gt => AsofOp::Lt,
            AsofOp::Le => AsofOp::Ge,
            AsofOp::Lt => AsofOp::Gt,
        }
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

/// The build side's rows grouped by key: `rows[starts[g]..starts[g + 1]]` are the rows of
/// group `g`, in ascending row order.
struct BuildTable {
    groups: HashMap<Box<[u8]>, u32, ahash::RandomState>,
    starts: Vec<u32>,
    rows: Vec<u32>,
}

impl BuildTable {
    /// Groups the `rows` rows of `keys` (rows with a NULL key component stay out).
    fn new(keys: &[ColumnRef], rows: usize) -> BuildTable {
        let mut groups: HashMap<Box<[u8]>, u32, ahash::RandomState> = HashMap::default();
        let mut group_of = vec![NONE; rows];
        let mut counts: Vec<u32> = Vec::new();
        let mut key = Vec::new();
        for (row, group) in group_of.iter_mut().enumerate() {
            if has_null(keys, row) {
                continue;
            }
            key.clear();
            keys.iter().for_each(|k| append_key(k, row, &mut key));
            *group = match groups.get(key.as_slice()) {
                Some(&g) => g,
                None => {
                    groups.insert(key.clone().into_boxed_slice(), counts.len() as u32);
                    counts.push(0);
                    counts.len() as u32 - 1
                }
            };
            counts[*group as usize] += 1;
        }
        let mut starts = Vec::with_capacity(counts.len() + 1);
        starts.push(0u32);
        for c in &counts {
            starts.push(starts.last().expect("a start") + c);
        }
        let mut fill = starts.clone();
        let mut sorted = vec![0u32; *starts.last().expect("a start") as usize];
        for (row, &g) in group_of.iter().enumerate().filter(|(_, g)| **g != NONE) {
            sorted[fill[g as usize] as usize] = row as u32;
            fill[g as usize] += 1;
        }
        BuildTable { groups, starts, rows: sorted }
    }

    /// Bytes the table holds, roughly: each key with its slot, and the row lists.
    fn memory_size(&self) -> usize {
        let slots = self.groups.capacity() * (std::mem::size_of::<(Box<[u8]>, u32)>() + 1);
        let keys: usize = self.groups.keys().map(|k| k.len()).sum();
        slots + keys + 4 * (self.starts.capacity() + self.rows.capacity())
    }

    /// The build rows whose key is row `row` of `keys`.
    fn matches(&self, keys: &[ColumnRef], row: usize, key: &mut Vec<u8>) -> &[u32] {
        if has_null(keys, row) {
            return &[];
        }
        key.clear();
        keys.iter().for_each(|k| append_key(k, row, key));
        match self.groups.get(key.as_slice()) {
            Some(&g) => &self.rows[self.starts[g as usize] as usize..self.starts[g as usize + 1] as usize],
            None => &[],
        }
    }

    /// Orders each group's rows by `values` (stable, rows with a NULL value dropped), for an
    /// ASOF probe's binary search.
    fn sort_groups_by(&mut self, values: &Column) {
        let mut kept = Vec::with_capacity(self.rows.len());
        let mut starts = vec![0u32];
        for g in 0..self.starts.len() - 1 {
            let group = &mut self.rows[self.starts[g] as usize..self.starts[g + 1] as usize];
            group.sort_by(|&a, &b| values.cmp_rows(a as usize, values, b as usize));
            kept.extend(group.iter().filter(|&&r| !values.is_null(r as usize)));
            starts.push(kept.len() as u32);
        }
        (self.rows, self.starts) = (kept, starts);
    }
}

fn has_null(keys: &[ColumnRef], row: usize) -> bool {
    keys.iter().any(|k| k.is_null(row))
}

/// Of `candidates` (right rows sorted by `asof.right`), the one closest to left row `row`
/// under the ASOF inequality, as a slice of one row or none.
fn closest<'c>(asof: &Asof, candidates: &'c [u32], row: usize) -> &'c [u32] {
    if asof.left.is_null(row) {
        return &[];
    }
    // How many right values sit below the left one (`Equal`) or not above it (`Greater`).
    let below = |stop: Ordering| candidates.partition_point(|&r| asof.right.cmp_rows(r as usize, asof.left, row) < stop);
    let at = match asof.op {
        AsofOp::Ge => below(Ordering::Greater).checked_sub(1),
        AsofOp::Gt => below(Ordering::Equal).checked_sub(1),
        AsofOp::Le => Some(below(Ordering::Equal)),
        AsofOp::Lt => Some(below(Ordering::Greater)),
    };
    at.and_then(|i| candidates.get(i..=i)).unwrap_or(&[])
}

/// The row pairs of a join of `left_rows` and `right_rows` rows on equal keys (one column per
/// key component on each side, of equal types; for ASOF the last ones are the columns of its
/// inequality), filtered by `residual` (the rest of the ON condition, evaluated over chunks of
/// candidate pairs; an ASOF join takes none), narrowed by the strictness, then padded by the
/// join kind.
pub fn join_pairs(
    kind: JoinKind,
    strictness: Strictness,
    keys: (&[ColumnRef], &[ColumnRef]),
    rows: (usize, usize),
    mut residual: Option<Residual>,
    ctx: &QueryContext,
) -> Result<(Vec<u32>, Vec<u32>)> {
    let (mut left_keys, mut right_keys) = keys;
    let (left_rows, right_rows) = rows;
    let asof = match (strictness, left_keys.split_last(), right_keys.split_last()) {
        (Strictness::Asof(op), Some((left, left_equal)), Some((right, right_equal))) => {
            (left_keys, right_keys) = (left_equal, right_equal);
            Some(Asof { left, right, op })
        }
        _ => None,
    };
    // Build on the smaller side (on the right for ASOF); `swap` says the build side is the left one.
    let swap = asof.is_none() && left_rows < right_rows;
    let (build_keys, probe_keys, build_rows, probe_rows) =
        if swap { (left_keys, right_keys, left_rows, right_rows) } else { (right_keys, left_keys, right_rows, left_rows) };
    let mut table = BuildTable::new(build_keys, build_rows);
    let table_bytes = table.memory_size();
    let pairs_bytes = |pairs: usize| table_bytes + 2 * std::mem::size_of::<u32>() * pairs;
    ctx.check_memory(table_bytes)?;
    if let Some(asof) = &asof {
        table.sort_groups_by(asof.right);
    }
    // The side whose rows keep at most one partner; when it is the probe side and no residual
    // condition can reject a pair, its first candidate is the only one worth listing.
    let one_per_row = match (strictness, kind) {
        (Strictness::Any | Strictness::Semi | Strictness::Anti, JoinKind::Right) => Some(true),
        (Strictness::Any | Strictness::Semi | Strictness::Anti, _) => Some(false),
        _ => None,
    };
    let first_only = residual.is_none() && one_per_row == Some(swap);
    let (mut probe_side, mut build_side) = (Vec::new(), Vec::new());
    let mut key = Vec::new();
    for row in 0..probe_rows {
        if row % PROBE_CHECK_ROWS == 0 {
            // A join can fan out without end: stop when cancelled or past the memory limit.
            ctx.check()?;
            ctx.check_memory(pairs_bytes(probe_side.len()))?;
        }
        let candidates = table.matches(probe_keys, row, &mut key);
        let chosen = match &asof {
            Some(asof) => closest(asof, candidates, row),
            None if first_only => &candidates[..candidates.len().min(1)],
            None => candidates,
        };
        for &at in chosen {
            probe_side.push(row as u32);
            build_side.push(at);
            if probe_side.len() % PROBE_CHECK_PAIRS == 0 {
                ctx.check()?;
                ctx.check_memory(pairs_bytes(probe_side.len()))?;
            }
        }
    }
    let (mut left, mut right) = if swap { (build_side, probe_side) } else { (probe_side, build_side) };
    if let Some(residual) = residual.as_mut() {
        let mut keep = Vec::with_capacity(left.len());
        for start in (0..left.len()).step_by(RESIDUAL_CHUNK) {
            let end = (start + RESIDUAL_CHUNK).min(left.len());
            keep.extend(residual(&left[start..end], &right[start..end])?.into_iter().map(|k| k != 0));
        }
        retain_pairs(&mut left, &mut right, &keep);
    }
    match strictness {
        Strictness::All | Strictness::Asof(_) => {}
        Strictness::Any | Strictness::Semi => {
            // Pairs list each row's partners in ascending order: the first is the first match.
            if kind != JoinKind::Right {
                keep_first_per_row(&mut left, &mut right, left_rows);
            }
            if kind != JoinKind::Left {
                keep_first_per_row(&mut right, &mut left, right_rows);
            }
        }
        Strictness::Anti => {
            let (side, rows) = if kind == JoinKind::Right { (&right, right_rows) } else { (&left, left_rows) };
            let unmatched = unmatched(side, rows);
            let padding = vec![NONE; unmatched.len()];
            return Ok(if kind == JoinKind::Right { (padding, unmatched) } else { (unmatched, padding) });
        }
    }
    if !matches!(strictness, Strictness::Semi) {
        pad_unmatched(kind.keeps_left(), &mut left, &mut right, left_rows);
        pad_unmatched(kind.keeps_right(), &mut right, &mut left, right_rows);
    }
    Ok((left, right))
}

/// Keeps the pairs whose `keep` flag is set.
fn retain_pairs(left: &mut Vec<u32>, right: &mut Vec<u32>, keep: &[bool]) {
    let mut flags = keep.iter();
    left.retain(|_| *flags.next().expect("a flag per pair"));
    let mut flags = keep.iter();
    right.retain(|_| *flags.next().expect("a flag per pair"));
}

/// Keeps only the first pair of each row of `side` (of `rows` rows).
fn keep_first_per_row(side: &mut Vec<u32>, other: &mut Vec<u32>, rows: usize) {
    let mut seen = vec![false; rows];
    let keep: Vec<bool> = side.iter().map(|&r| !std::mem::replace(&mut seen[r as usize], true)).collect();
    retain_pairs(side, other, &keep);
}

/// The rows of `side` (of `rows` rows) that no pair holds, in order.
fn unmatched(side: &[u32], rows: usize) -> Vec<u32> {
    let mut matched = vec![false; rows];
    side.iter().filter(|&&r| r != NONE).for_each(|&r| matched[r as usize] = true);
    (0..rows as u32).filter(|&r| !matched[r as usize]).collect()
}

/// Appends `(row, NONE)` for every row of `side` (of `rows` rows) that no pair holds.
fn pad_unmatched(keep: bool, side: &mut Vec<u32>, other: &mut Vec<u32>, rows: usize) {
    if !keep {
        return;
    }
    let missing = unmatched(side, rows);
    other.extend(std::iter::repeat_n(NONE, missing.len()));
    side.extend(missing);
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
        let inner = join_pairs(JoinKind::Inner, Strictness::All, keys, (4, 4), None, &QueryContext::default()).unwrap();
        assert_eq!(sorted(inner), vec![(0, 3), (1, 0), (1, 1), (2, 0), (2, 1)]);
        let full = join_pairs(JoinKind::Full, Strictness::All, keys, (4, 4), None, &QueryContext::default()).unwrap();
        assert_eq!(sorted(full), vec![(0, 3), (1, 0), (1, 1), (2, 0), (2, 1), (3, NONE), (NONE, 2)]);
    }

    #[test]
    fn residual_decides_what_counts_as_a_match() {
        let (l, r) = (ints(&[1, 1]), ints(&[1]));
        let keys = (std::slice::from_ref(&l), std::slice::from_ref(&r));
        let mut only_first = |left: &[u32], _: &[u32]| -> Result<Vec<u8>> { Ok(left.iter().map(|&x| (x == 0) as u8).collect()) };
        let pairs = join_pairs(JoinKind::Left, Strictness::All, keys, (2, 1), Some(&mut only_first), &QueryContext::default()).unwrap();
        assert_eq!(sorted(pairs), vec![(0, 0), (1, NONE)]);
    }

    #[test]
    fn null_keys_never_match() {
        let l: ColumnRef = Arc::new(Column::from_values(DataType::Int64.nullable(), &[Value::Null, Value::Int(1)]).unwrap());
        let r: ColumnRef = Arc::new(Column::from_values(DataType::Int64.nullable(), &[Value::Null, Value::Int(1)]).unwrap());
        let pairs = join_pairs(JoinKind::Inner, Strictness::All, (std::slice::from_ref(&l), std::slice::from_ref(&r)), (2, 2), None, &QueryContext::default()).unwrap();
        assert_eq!(sorted(pairs), vec![(1, 1)]);
    }

    #[test]
    fn strictness_narrows_the_pairs() {
        let (l, r) = (ints(&[1, 1, 2, 3]), ints(&[1, 1, 2, 4]));
        let keys = (std::slice::from_ref(&l), std::slice::from_ref(&r));
        let run = |kind, strictness| sorted(join_pairs(kind, strictness, keys, (4, 4), None, &QueryContext::default()).unwrap());
        assert_eq!(run(JoinKind::Left, Strictness::Any), vec![(0, 0), (1, 0), (2, 2), (3, NONE)]);
        assert_eq!(run(JoinKind::Inner, Strictness::Any), vec![(0, 0), (2, 2)]);
        assert_eq!(run(JoinKind::Left, Strictness::Semi), vec![(0, 0), (1, 0), (2, 2)]);
        assert_eq!(run(JoinKind::Right, Strictness::Semi), vec![(0, 0), (0, 1), (2, 2)]);
        assert_eq!(run(JoinKind::Left, Strictness::Anti), vec![(3, NONE)]);
        assert_eq!(run(JoinKind::Right, Strictness::Anti), vec![(NONE, 3)]);
    }

    #[test]
    fn asof_takes_the_closest_match() {
        let left = [ints(&[1, 1, 1, 2]), ints(&[5, 10, 0, 7])];
        let right = [ints(&[1, 1, 1, 2]), ints(&[9, 3, 5, 8])];
        let keys = (&left[..], &right[..]);
        let run = |kind, op| {
            sorted(join_pairs(kind, Strictness::Asof(op), keys, (4, 4), None, &QueryContext::default()).unwrap())
        };
        assert_eq!(run(JoinKind::Inner, AsofOp::Ge), vec![(0, 2), (1, 0)]);
        assert_eq!(run(JoinKind::Inner, AsofOp::Gt), vec![(0, 1), (1, 0)]);
        assert_eq!(run(JoinKind::Left, AsofOp::Le), vec![(0, 2), (1, NONE), (2, 1), (3, 3)]);
        assert_eq!(run(JoinKind::Inner, AsofOp::Lt), vec![(0, 0), (2, 1), (3, 3)]);
    }
}
