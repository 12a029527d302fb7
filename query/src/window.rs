//! Window functions over a block of rows.
//!
//! Each call sorts row positions by its PARTITION BY and ORDER BY keys once, finds the
//! partitions and the peer groups (rows of equal ORDER BY values) in that order, and computes
//! one value per row: ranks from positions, navigation functions (`lag`, `first_value`, …) as
//! a gather of the argument column, and aggregates from the frame of every row: `sum`,
//! `count`, `avg`, `min` and `max` by prefix sums and a monotonic deque (`frame_agg`), any
//! other by feeding each distinct frame's rows to an accumulator group, so rows that share a
//! frame (a whole partition, a peer group) share one computation.

mod frame_agg;

use std::ops::Range;
use std::sync::Arc;

use granary_storage::{Block, Column, ColumnRef, DataType, Value};

use crate::error::{bail, Result};
use crate::exec::{block_memory, same_values, QueryContext};
use crate::join::{take_padded, NONE};
use crate::aggregate::AggFunc;
use crate::plan::{FrameBound, SortKey, WindowCall, WindowFunc};
use crate::sort::sort_indices;
use crate::states::AggMode;

/// Rows fed to an accumulator at a time, to bound the memory of gathered frame rows.
const FEED_CHUNK: usize = 1 << 16;

/// The value of each window call for every row of `block`, in row order. The block, the
/// values computed so far and each call's sorted layout count against the memory limit.
pub fn compute(calls: &[WindowCall], block: &Block, ctx: &QueryContext) -> Result<Vec<ColumnRef>> {
    let mut held = block_memory(block);
    let mut out = Vec::with_capacity(calls.len());
    for call in calls {
        let column = compute_one(call, block, &|bytes| ctx.check_memory(held + bytes))?;
        held += column.memory_size();
        out.push(Arc::new(column));
    }
    Ok(out)
}

/// Fails when a call's working memory of the given bytes does not fit the limit.
type MemoryCheck<'a> = &'a dyn Fn(usize) -> Result<()>;

/// Sorted row positions with their partitions and peer groups.
struct Layout {
    /// Row index at each sorted position.
    order: Vec<u32>,
    /// Per position, its partition's range of positions.
    partition: Vec<Range<usize>>,
    /// Per position, its peer group's range of positions.
    peers: Vec<Range<usize>>,
    /// For RANGE frames with offsets: the one ORDER BY key as numbers, by row, with its
    /// direction and where its NULLs sort.
    range_key: Option<RangeKey>,
}

/// The ORDER BY key a RANGE frame's offsets measure.
struct RangeKey {
    values: Vec<f64>,
    nulls: Option<Vec<u8>>,
    desc: bool,
    nulls_first: bool,
}

impl Layout {
    /// Bytes the layout holds.
    fn memory_size(&self) -> usize {
        let ranges = std::mem::size_of::<Range<usize>>() * (self.partition.capacity() + self.peers.capacity());
        let key = self.range_key.as_ref().map_or(0, |k| 8 * k.values.capacity() + k.nulls.as_ref().map_or(0, Vec::capacity));
        4 * self.order.capacity() + ranges + key
    }
}

fn layout(call: &WindowCall, block: &Block) -> Result<Layout> {
    let rows = block.rows();
    let partition_cols = call.partition.iter().map(|e| e.eval(block)).collect::<Result<Vec<_>>>()?;
    let order_cols = call.order.iter().map(|k| k.expr.eval(block)).collect::<Result<Vec<_>>>()?;
    let ascending = SortKey { expr: crate::expr::Expr::Literal { value: Value::Null, ty: DataType::UInt8 }, desc: false, nulls_first: false };
    let mut keys: Vec<(ColumnRef, &SortKey)> = partition_cols.iter().map(|c| (c.clone(), &ascending)).collect();
    keys.extend(order_cols.iter().cloned().zip(&call.order));
    let order = sort_indices(&keys, rows, None);
    let mut partition = Vec::with_capacity(rows);
    let mut peers = Vec::with_capacity(rows);
    let mut start = 0;
    while start < rows {
        let mut end = start + 1;
        while end < rows && same_values(&partition_cols, order[start], order[end]) {
            end += 1;
        }
        let mut peer_start = start;
        while peer_start < end {
            let mut peer_end = peer_start + 1;
            while peer_end < end && same_values(&order_cols, order[peer_start], order[peer_end]) {
                peer_end += 1;
            }
            for _ in peer_start..peer_end {
                partition.push(start..end);
                peers.push(peer_start..peer_end);
            }
            peer_start = peer_end;
        }
        start = end;
    }
    let offsets = |b: FrameBound| matches!(b, FrameBound::Preceding(n) | FrameBound::Following(n) if n > 0);
    let range_key = match (call.frame.rows, order_cols.first(), call.order.first()) {
        (false, Some(col), Some(key)) if offsets(call.frame.start) || offsets(call.frame.end) => {
            Some(RangeKey { values: crate::kernels::to_f64(&col.strip_nulls())?, nulls: col.nulls.clone(), desc: key.desc, nulls_first: key.nulls_first })
        }
        _ => None,
    };
    Ok(Layout { order, partition, peers, range_key })
}

/// The positions of the frame of position `p`.
fn frame_of(call: &WindowCall, l: &Layout, p: usize) -> Range<usize> {
    let (part, peers) = (&l.partition[p], &l.peers[p]);
    let f = call.frame;
    if let Some(key) = &l.range_key {
        return range_frame(call, l, key, p);
    }
    let back = |n: u64| p.saturating_sub(n as usize).max(part.start);
    let ahead = |n: u64| p.saturating_add(n as usize).min(part.end - 1);
    // RANGE frames bound by the current row (or offsets of 0) reach its peers.
    let start = match (f.start, f.rows) {
        (FrameBound::UnboundedPreceding, _) => part.start,
        (FrameBound::UnboundedFollowing, _) => part.end,
        (_, false) => peers.start,
        (FrameBound::Preceding(n), true) => back(n),
        (FrameBound::CurrentRow, true) => p,
        (FrameBound::Following(n), true) => p.saturating_add(n as usize).min(part.end),
    };
    let end = match (f.end, f.rows) {
        (FrameBound::UnboundedFollowing, _) => part.end,
        (FrameBound::UnboundedPreceding, _) => part.start,
        (_, false) => peers.end,
        (FrameBound::Following(n), true) => ahead(n) + 1,
        (FrameBound::CurrentRow, true) => p + 1,
        (FrameBound::Preceding(n), true) => (p + 1).saturating_sub(n as usize).max(part.start),
    };
    start..end.max(start)
}

/// A RANGE frame with offsets: the rows whose key lies within the offsets of the current
/// row's key (in the sort direction); a row with a NULL key frames its NULL peers.
fn range_frame(call: &WindowCall, l: &Layout, key: &RangeKey, p: usize) -> Range<usize> {
    let (part, peers) = (&l.partition[p], &l.peers[p]);
    let null = |q: usize| key.nulls.as_ref().is_some_and(|n| n[l.order[q] as usize] != 0);
    if null(p) {
        return peers.clone();
    }
    let v = key.values[l.order[p] as usize];
    let dir = if key.desc { -1.0 } else { 1.0 };
    // First position in the partition not before `t` (or, `strict`, after it) in sort order.
    let bound = |t: f64, strict: bool| {
        let before = |q: usize| {
            if null(q) {
                return key.nulls_first;
            }
            let x = key.values[l.order[q] as usize] * dir;
            if strict {
                x <= t * dir
            } else {
                x < t * dir
            }
        };
        let (mut lo, mut hi) = (part.start, part.end);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if before(mid) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    };
    // `end`: the bound closes the frame, so the current row's last peer and the last row at
    // an offset are inside it.
    let resolve = |frame_bound: &FrameBound, end: bool| match frame_bound {
        FrameBound::UnboundedPreceding => part.start,
        FrameBound::UnboundedFollowing => part.end,
        FrameBound::CurrentRow if end => peers.end,
        FrameBound::CurrentRow => peers.start,
        FrameBound::Preceding(n) => bound(v - *n as f64 * dir, end),
        FrameBound::Following(n) => bound(v + *n as f64 * dir, end),
    };
    let start = resolve(&call.frame.start, false);
    let end = resolve(&call.frame.end, true);
    start..end.max(start)
}

/// A constant argument's value as a count.
fn constant(call: &WindowCall, i: usize, default: u64) -> Result<u64> {
    match call.args.get(i) {
        None => Ok(default),
        Some(e) => match e.eval_const()? {
            Value::UInt(n) => Ok(n),
            Value::Int(n) if n >= 0 => Ok(n as u64),
            other => bail!(InvalidParameter, "expected a non-negative integer constant, got {other:?}"),
        },
    }
}

fn compute_one(call: &WindowCall, block: &Block, check_memory: MemoryCheck) -> Result<Column> {
    let rows = block.rows();
    let l = layout(call, block)?;
    check_memory(l.memory_size())?;
    let numbers = |f: &dyn Fn(usize) -> u64| -> Column {
        let mut out = vec![0u64; rows];
        (0..rows).for_each(|p| out[l.order[p] as usize] = f(p));
        crate::kernels::from_u64(DataType::UInt64, out)
    };
    let fractions = |f: &dyn Fn(usize) -> f64| -> Column {
        let mut out = vec![0f64; rows];
        (0..rows).for_each(|p| out[l.order[p] as usize] = f(p));
        crate::kernels::from_f64(DataType::Float64, out)
    };
    let rank = |p: usize| (l.peers[p].start - l.partition[p].start + 1) as u64;
    Ok(match &call.func {
        WindowFunc::RowNumber => numbers(&|p| (p - l.partition[p].start + 1) as u64),
        WindowFunc::Rank => numbers(&rank),
        WindowFunc::DenseRank => {
            let mut dense = vec![0u64; rows];
            for p in 0..rows {
                dense[p] = match p {
                    _ if p == l.partition[p].start => 1,
                    _ if p == l.peers[p].start => dense[p - 1] + 1,
                    _ => dense[p - 1],
                };
            }
            numbers(&|p| dense[p])
        }
        WindowFunc::PercentRank => fractions(&|p| {
            let n = l.partition[p].len();
            if n <= 1 {
                0.0
            } else {
                (rank(p) - 1) as f64 / (n - 1) as f64
            }
        }),
        WindowFunc::CumeDist => fractions(&|p| (l.peers[p].end - l.partition[p].start) as f64 / l.partition[p].len() as f64),
        WindowFunc::Ntile => {
            let buckets = constant(call, 0, 1)? as usize;
            numbers(&|p| {
                let (i, n) = (p - l.partition[p].start, l.partition[p].len());
                let (size, extra) = (n / buckets, n % buckets);
                let big = extra * (size + 1);
                (if i < big { i / (size + 1) } else { extra + (i - big) / size.max(1) }) as u64 + 1
            })
        }
        &WindowFunc::Lag { in_frame } | &WindowFunc::Lead { in_frame } => {
            let offset = constant(call, 1, 1)? as usize;
            let lag = matches!(call.func, WindowFunc::Lag { .. });
            let source = |p: usize| {
                let bounds = if in_frame { frame_of(call, &l, p) } else { l.partition[p].clone() };
                let q = if lag { p.checked_sub(offset) } else { p.checked_add(offset) };
                q.filter(|q| bounds.contains(q))
            };
            gather(call, block, &l, source)?
        }
        &WindowFunc::FirstValue { ignore_nulls } | &WindowFunc::LastValue { ignore_nulls } => {
            let value = call.args[0].eval(block)?;
            let present = |q: &usize| !ignore_nulls || !value.is_null(l.order[*q] as usize);
            let first = matches!(call.func, WindowFunc::FirstValue { .. });
            gather(call, block, &l, |p| {
                let mut f = frame_of(call, &l, p);
                if first {
                    f.find(present)
                } else {
                    f.rev().find(present)
                }
            })?
        }
        WindowFunc::NthValue => {
            let n = constant(call, 1, 1)? as usize;
            gather(call, block, &l, |p| {
                let f = frame_of(call, &l, p);
                Some(f.start + n - 1).filter(|q| f.contains(q))
            })?
        }
        WindowFunc::Aggregate { func, mode } => {
            let args = call.args.iter().map(|a| a.eval(block)).collect::<Result<Vec<_>>>()?;
            let frames: Vec<Range<usize>> = (0..rows).map(|p| frame_of(call, &l, p)).collect();
            check_memory(l.memory_size() + std::mem::size_of_val(&frames[..]))?;
            let fast = match mode {
                AggMode::Plain => frame_agg::compute(func, &args, &call.ty, &l, &frames)?,
                _ => None,
            };
            match fast {
                Some(column) => column,
                None => feed_frames(call, func, *mode, &args, &l, &frames)?,
            }
        }
    })
}

/// An aggregate of any function: one accumulator group per distinct frame of consecutive
/// positions, fed that frame's rows.
fn feed_frames(call: &WindowCall, func: &AggFunc, mode: AggMode, args: &[ColumnRef], l: &Layout, frames: &[Range<usize>]) -> Result<Column> {
    let rows = l.order.len();
    let arg_types: Vec<DataType> = call.args.iter().map(|a| a.ty()).collect();
    let mut acc = mode.accumulator(func, &arg_types, &call.ty)?;
    let mut group_of = vec![0u32; rows];
    let (mut ids, mut feed) = (Vec::new(), Vec::new());
    let mut groups = 0usize;
    let mut last: Option<&Range<usize>> = None;
    for (p, f) in frames.iter().enumerate() {
        if last != Some(f) {
            groups += 1;
            for q in f.clone() {
                ids.push((groups - 1) as u32);
                feed.push(l.order[q]);
            }
            if feed.len() >= FEED_CHUNK {
                let taken: Vec<ColumnRef> = args.iter().map(|a| Arc::new(a.take(&feed))).collect();
                acc.update(&ids, groups, &taken)?;
                ids.clear();
                feed.clear();
            }
            last = Some(f);
        }
        group_of[l.order[p] as usize] = (groups - 1) as u32;
    }
    let taken: Vec<ColumnRef> = args.iter().map(|a| Arc::new(a.take(&feed))).collect();
    acc.update(&ids, groups, &taken)?;
    acc.update(&[], groups, &[])?;
    Ok(acc.finish().take(&group_of))
}

/// The argument's value at another position (`source`), or the default (the third argument
/// of lag/lead, else the type's default) where there is none.
fn gather(call: &WindowCall, block: &Block, l: &Layout, source: impl Fn(usize) -> Option<usize>) -> Result<Column> {
    let rows = block.rows();
    let value = call.args[0].eval(block)?;
    let mut from = vec![NONE; rows];
    for p in 0..rows {
        if let Some(q) = source(p) {
            from[l.order[p] as usize] = l.order[q];
        }
    }
    let mut out = take_padded(&value, &from);
    if let Some(default) = call.args.get(2) {
        let default = default.eval(block)?;
        let pick: Vec<u32> = from.iter().enumerate().map(|(i, &f)| if f == NONE { (rows + i) as u32 } else { i as u32 }).collect();
        out = Column::concat(out.ty.clone(), &[Arc::new(out), default]).take(&pick);
    }
    Ok(out)
}
