//! `sum`, `count`, `avg`, `min` and `max` over window frames, from the frames' bounds alone.
//!
//! Feeding every frame to an accumulator costs the sum of the frame lengths: O(n²) for a
//! running total. Here sums and counts come from prefix sums (one pass, then one subtraction
//! per row) and `min`/`max` from a monotonic deque (frames only move forward), so running
//! and sliding frames cost O(n) after the sort. Results are the accumulators' to the bit:
//! integer sums wrap the same way, and a difference of wrapped prefix sums is exact; a Float
//! sum is the same left-to-right addition the accumulator does — a running total for frames
//! that start at the partition's start, else each frame added up on its own (a difference of
//! float prefix sums would lose the small frame to the large totals' rounding), which costs
//! the frame's width per row as in ClickHouse.

use std::collections::VecDeque;
use std::ops::Range;

use granary_storage::column::{ColumnData, Primitive};
use granary_storage::{match_data, Column, ColumnRef, DataType};

use super::Layout;
use crate::aggregate::AggFunc;
use crate::error::Result;
use crate::join::{take_padded, NONE};
use crate::kernels::{self, Domain};

/// The call's value for every row, in row order; `None` for a function this module does not
/// compute (the caller feeds the frames to an accumulator instead).
pub(super) fn compute(func: &AggFunc, args: &[ColumnRef], ty: &DataType, l: &Layout, frames: &[Range<usize>]) -> Result<Option<Column>> {
    let rows = l.order.len();
    let Some(arg) = args.first() else {
        return Ok(matches!(func, AggFunc::Count).then(|| kernels::from_u64(DataType::UInt64, by_row(l, |p| frames[p].len() as u64))));
    };
    let present = Present::new(arg, l);
    Ok(Some(match func {
        AggFunc::Count => kernels::from_u64(DataType::UInt64, by_row(l, |p| present.count(&frames[p]) as u64)),
        AggFunc::Sum => {
            let values = match Domain::of(ty) {
                Domain::Int => exact_sums::<i64>(kernels::to_i64(&arg.strip_nulls())?, l, frames),
                Domain::UInt => exact_sums::<u64>(kernels::to_u64(&arg.strip_nulls())?, l, frames),
                Domain::Float => ColumnData::F64(float_sums(&kernels::to_f64(&arg.strip_nulls())?, &present, l, frames)),
            };
            present.null_where_empty(ty, values, l, frames)
        }
        AggFunc::Avg => {
            let unit = match ty_scale(arg.ty.non_null()) {
                0 => 1.0,
                scale => granary_storage::text::POW10[scale as usize] as f64,
            };
            let sums = match integer_sums(arg, l, frames)? {
                Some(exact) => exact,
                None => float_sums(&kernels::to_f64(&arg.strip_nulls())?, &present, l, frames),
            };
            let avg = by_row(l, |p| sums[l.order[p] as usize] / unit / present.count(&frames[p]) as f64);
            present.null_where_empty(ty, ColumnData::F64(avg), l, frames)
        }
        AggFunc::Min | AggFunc::Max => {
            let better = if *func == AggFunc::Max { std::cmp::Ordering::Greater } else { std::cmp::Ordering::Less };
            let at = |p: usize| l.order[p] as usize;
            // The trait's order, as the accumulator compares (0.0 and -0.0 are equal; f64's own
            // `total_cmp` would tell them apart).
            let chosen = match_data!(&arg.data,
                v => extremes(&present, frames, |a, b| Primitive::total_cmp(&v[at(a)], &v[at(b)]) == better),
                s => extremes(&present, frames, |a, b| s.get(at(a)).cmp(s.get(at(b))) == better));
            let Some(chosen) = chosen else { return Ok(None) };
            let mut from = vec![NONE; rows];
            (0..rows).for_each(|p| from[at(p)] = chosen[p].map_or(NONE, |q| l.order[q]));
            take_padded(arg, &from)
        }
        _ => return Ok(None),
    }))
}

/// The scale of a Decimal (its values arrive scaled), else 0.
fn ty_scale(ty: &DataType) -> u8 {
    match ty {
        DataType::Decimal { scale, .. } => *scale,
        _ => 0,
    }
}

/// A value per row from a function of its sorted position.
fn by_row<T: Copy + Default>(l: &Layout, f: impl Fn(usize) -> T) -> Vec<T> {
    let mut out = vec![T::default(); l.order.len()];
    (0..out.len()).for_each(|p| out[l.order[p] as usize] = f(p));
    out
}

/// Which positions hold a non-NULL argument, with prefix counts of them.
struct Present {
    /// Per sorted position, whether the argument is NULL there; `None` without NULLs.
    null: Option<Vec<bool>>,
    /// Non-NULL positions before each position (`n + 1` entries).
    before: Vec<u32>,
}

impl Present {
    fn new(arg: &Column, l: &Layout) -> Present {
        let null = arg.nulls.as_ref().map(|n| l.order.iter().map(|&r| n[r as usize] != 0).collect::<Vec<_>>());
        let mut before = Vec::with_capacity(l.order.len() + 1);
        before.push(0u32);
        for p in 0..l.order.len() {
            before.push(before[p] + u32::from(null.as_ref().is_none_or(|n| !n[p])));
        }
        Present { null, before }
    }

    fn at(&self, p: usize) -> bool {
        self.null.as_ref().is_none_or(|n| !n[p])
    }

    /// Non-NULL arguments in a frame.
    fn count(&self, frame: &Range<usize>) -> u32 {
        self.before[frame.end] - self.before[frame.start]
    }

    /// The values (by row) as a column of `ty`, NULL (when `ty` is Nullable) where a frame
    /// holds no non-NULL argument, as the accumulators' `SkipNulls` answers.
    fn null_where_empty(&self, ty: &DataType, values: ColumnData, l: &Layout, frames: &[Range<usize>]) -> Column {
        let plain = Column::new(ty.non_null().clone(), values);
        if !ty.is_nullable() {
            return plain;
        }
        let nulls = by_row(l, |p| u8::from(self.count(&frames[p]) == 0));
        Column::with_nulls(ty.clone(), plain.data, Some(nulls))
    }
}

/// Wrapping 64-bit integers, whose sums a difference of prefix sums gives exactly.
trait Wrapping: Copy + Default {
    fn add(self, other: Self) -> Self;
    fn sub(self, other: Self) -> Self;
    fn column(values: Vec<Self>) -> ColumnData;
}

macro_rules! impl_wrapping {
    ($($t:ident => $variant:ident),*) => {$(
        impl Wrapping for $t {
            fn add(self, other: Self) -> Self {
                self.wrapping_add(other)
            }
            fn sub(self, other: Self) -> Self {
                self.wrapping_sub(other)
            }
            fn column(values: Vec<Self>) -> ColumnData {
                ColumnData::$variant(values)
            }
        }
    )*};
}
impl_wrapping!(i64 => I64, u64 => U64);

/// Wrapping sums of each frame (NULL rows hold 0), by row.
fn exact_sums<T: Wrapping>(values: Vec<T>, l: &Layout, frames: &[Range<usize>]) -> ColumnData {
    let mut prefix = Vec::with_capacity(values.len() + 1);
    prefix.push(T::default());
    for p in 0..values.len() {
        prefix.push(prefix[p].add(values[l.order[p] as usize]));
    }
    T::column(by_row(l, |p| prefix[frames[p].end].sub(prefix[frames[p].start])))
}

/// Sums of an integer (or Decimal) argument as `f64`, by row, when they are exact: while the
/// absolute values add up to less than 2^53, every partial sum an `f64` accumulator forms is
/// an exact integer, so the exact sum is its answer too. `None` otherwise, and for floats.
fn integer_sums(arg: &Column, l: &Layout, frames: &[Range<usize>]) -> Result<Option<Vec<f64>>> {
    if Domain::of(&arg.ty) == Domain::Float {
        return Ok(None);
    }
    let values = kernels::to_i128(&arg.strip_nulls())?;
    if values.iter().map(|v| v.unsigned_abs()).sum::<u128>() >= 1 << 53 {
        return Ok(None);
    }
    let mut prefix = Vec::with_capacity(values.len() + 1);
    prefix.push(0i128);
    for p in 0..values.len() {
        prefix.push(prefix[p] + values[l.order[p] as usize]);
    }
    Ok(Some(by_row(l, |p| (prefix[frames[p].end] - prefix[frames[p].start]) as f64)))
}

/// Float sums of each frame, by row, added left to right from 0 as the accumulator does:
/// a running total where the frame starts at its partition's start, else the frame alone.
fn float_sums(values: &[f64], present: &Present, l: &Layout, frames: &[Range<usize>]) -> Vec<f64> {
    let sorted: Vec<f64> = l.order.iter().map(|&r| values[r as usize]).collect();
    // Through position p, from its partition's start.
    let mut running = vec![0f64; sorted.len()];
    for p in 0..sorted.len() {
        let before = if p == l.partition[p].start { 0.0 } else { running[p - 1] };
        running[p] = if present.at(p) { before + sorted[p] } else { before };
    }
    by_row(l, |p| {
        let f = &frames[p];
        match f.start == l.partition[p].start {
            _ if f.is_empty() => 0.0,
            true => running[f.end - 1],
            false => f.clone().filter(|&q| present.at(q)).fold(0.0, |sum, q| sum + sorted[q]),
        }
    })
}

/// Per sorted position, the position of the best non-NULL argument of its frame (the first
/// among equals, which is the one an accumulator keeps), through a deque of candidates whose
/// values get strictly worse from front to back. `None` when frames do not only move forward.
fn extremes(present: &Present, frames: &[Range<usize>], better: impl Fn(usize, usize) -> bool) -> Option<Vec<Option<usize>>> {
    let mut deque: VecDeque<usize> = VecDeque::new();
    let mut out = Vec::with_capacity(frames.len());
    let (mut added, mut last) = (0usize, 0..0);
    for f in frames {
        if f.start < last.start || f.end < last.end {
            return None;
        }
        while added < f.end {
            if added >= f.start && present.at(added) {
                while deque.back().is_some_and(|&b| better(added, b)) {
                    deque.pop_back();
                }
                deque.push_back(added);
            }
            added += 1;
        }
        while deque.front().is_some_and(|&q| q < f.start) {
            deque.pop_front();
        }
        out.push(deque.front().copied());
        last = f.clone();
    }
    Some(out)
}
