//! `sum`, `count`, `avg`, `min` and `max` over window frames, from the frames' bounds alone.
//!
//! Feeding every frame to an accumulator costs the sum of the frame lengths: O(n²) for a
//! running total. Here sums and counts come from prefix sums (one pass, then one subtraction
//! per row) and `min`/`max` from a monotonic deque (frames only move forward), so running
//! and sliding frames cost O(n) after the sort. Integer sums are the accumulators' to the bit:
//! they wrap the same way, and a difference of wrapped prefix sums is exact. A Float sum is
//! ClickHouse's own addition where that is cheap: a running total for frames that start at
//! the partition's start, and for frames of up to `NAIVE_FRAME_ROWS` rows the frame added left
//! to right from 0. ClickHouse adds a wider frame anew for each row, in 16 partial sums (its
//! unrolled sum), which costs the frame's width per row; here a wider frame takes the
//! difference of exact fixed-point prefix sums (`FixedSums`), rounded once: ClickHouse's
//! answer whenever its additions round nowhere (integers, halves, … below 2^53), else the
//! correctly rounded sum, which ClickHouse's may miss by its partial sums' rounding (a
//! difference of float prefix sums would lose a small frame to the large totals' rounding).
//! Only values the fixed point cannot hold (infinities, NaN, magnitudes spanning more than
//! 2^126) are added frame by frame.

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

/// Frames of up to this many rows add their Float values one by one, as ClickHouse does
/// below the 16 values its unrolled sum starts at.
const NAIVE_FRAME_ROWS: usize = 15;

/// Float sums of each frame, by row (see the module comment): a running total where the frame
/// starts at its partition's start, the frame added left to right from 0 where it is narrow,
/// else a difference of exact prefix sums.
fn float_sums(values: &[f64], present: &Present, l: &Layout, frames: &[Range<usize>]) -> Vec<f64> {
    let sorted: Vec<f64> = l.order.iter().map(|&r| values[r as usize]).collect();
    // Through position p, from its partition's start.
    let mut running = vec![0f64; sorted.len()];
    for p in 0..sorted.len() {
        let before = if p == l.partition[p].start { 0.0 } else { running[p - 1] };
        running[p] = if present.at(p) { before + sorted[p] } else { before };
    }
    let wide = |p: usize| frames[p].start != l.partition[p].start && frames[p].len() > NAIVE_FRAME_ROWS;
    let fixed = (0..frames.len()).any(wide).then(|| FixedSums::new(&sorted, present)).flatten();
    by_row(l, |p| {
        let f = &frames[p];
        match &fixed {
            _ if f.is_empty() => 0.0,
            _ if f.start == l.partition[p].start => running[f.end - 1],
            Some(fixed) if wide(p) => fixed.sum(f),
            _ => f.clone().filter(|&q| present.at(q)).fold(0.0, |sum, q| sum + sorted[q]),
        }
    })
}

/// Exact prefix sums of Float values in fixed point: every value is an integer multiple of
/// 2^`scale`, the smallest unit among their last significant bits, so the prefix sums are
/// exact `i128`s and a frame's sum is one subtraction, rounded once to an `f64`.
struct FixedSums {
    /// Sums of the non-NULL values before each position, in units of 2^`scale`.
    prefix: Vec<i128>,
    /// The unit's exponent (at least -1022, so a nonzero sum is a normal float).
    scale: i32,
}

impl FixedSums {
    /// The prefix sums, or `None` when a value is not finite or the magnitudes span too many
    /// bits for an `i128` sum of them all.
    fn new(sorted: &[f64], present: &Present) -> Option<FixedSums> {
        let parts = || (0..sorted.len()).filter(|&p| present.at(p)).map(|p| integer_and_exponent(sorted[p]));
        let (mut lowest, mut highest) = (i32::MAX, i32::MIN);
        for part in parts() {
            let (m, e) = part?;
            if m != 0 {
                lowest = lowest.min(e);
                highest = highest.max(e + (64 - m.unsigned_abs().leading_zeros()) as i32);
            }
        }
        let scale = if lowest == i32::MAX { 0 } else { lowest };
        // Each value is below 2^(highest - scale) units; their sum gains at most log2(n) bits.
        let count_bits = (usize::BITS - sorted.len().leading_zeros()) as i32;
        if scale < -1022 || highest.saturating_sub(scale).saturating_add(count_bits) > 126 {
            return None;
        }
        let mut prefix = Vec::with_capacity(sorted.len() + 1);
        prefix.push(0i128);
        for p in 0..sorted.len() {
            let units = match integer_and_exponent(sorted[p]) {
                Some((m, e)) if present.at(p) && m != 0 => i128::from(m) << (e - scale),
                _ => 0,
            };
            prefix.push(prefix[p] + units);
        }
        Some(FixedSums { prefix, scale })
    }

    /// The sum of a frame's values, correctly rounded.
    fn sum(&self, frame: &Range<usize>) -> f64 {
        let units = self.prefix[frame.end] - self.prefix[frame.start];
        // `as` rounds to nearest, ties to even; scaling by a power of two in the normal range is exact.
        units as f64 * f64::from_bits(((self.scale + 1023) as u64) << 52)
    }
}

/// A finite float as an integer (odd, or 0) times a power of two: `(m, e)` with `x = m · 2^e`.
fn integer_and_exponent(x: f64) -> Option<(i64, i32)> {
    if !x.is_finite() {
        return None;
    }
    let bits = x.to_bits();
    let (biased, fraction) = (((bits >> 52) & 0x7ff) as i32, (bits & ((1 << 52) - 1)) as i64);
    let (m, e) = match biased {
        0 => (fraction, -1074),
        _ => (fraction | (1 << 52), biased - 1075),
    };
    if m == 0 {
        return Some((0, 0));
    }
    let zeros = m.trailing_zeros();
    let m = m >> zeros;
    Some((if x < 0.0 { -m } else { m }, e + zeros as i32))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_split_into_an_odd_integer_and_a_power_of_two() {
        for x in [1.0, -3.5, 0.1, 1e300, -2.5e-300, f64::MIN_POSITIVE, 5e-324, 0.0, -0.0] {
            let (m, e) = integer_and_exponent(x).expect("finite");
            assert!(m == 0 || m % 2 != 0, "{x}: {m}");
            assert_eq!(m as f64 * 2f64.powi(e / 2) * 2f64.powi(e - e / 2), x, "{x}");
        }
        assert_eq!(integer_and_exponent(f64::NAN), None);
        assert_eq!(integer_and_exponent(f64::INFINITY), None);
    }

    #[test]
    fn fixed_sums_are_exact_then_rounded_once() {
        let values = [0.1, 0.2, 0.3, 1e16, 1.0, -1e16, 0.7];
        let all = Present { null: None, before: (0..=values.len() as u32).collect() };
        let fixed = FixedSums::new(&values, &all).expect("fits");
        // 0.1 + 0.2 + 0.3 added one by one is 0.6000000000000001; the exact sum rounds to 0.6.
        assert_eq!(fixed.sum(&(0..3)), 0.6);
        // 1e16 + 1 - 1e16 loses the 1 when added one by one.
        assert_eq!(fixed.sum(&(3..6)), 1.0);
        let nulls = Present { null: Some(vec![false, true, false]), before: vec![0, 1, 1, 2] };
        assert_eq!(FixedSums::new(&[1.5, 9.0, 2.25], &nulls).expect("fits").sum(&(0..3)), 3.75);
        assert!(FixedSums::new(&[1.0, f64::INFINITY], &all).is_none());
        assert!(FixedSums::new(&[1e300, 1e-300], &all).is_none());
    }
}
