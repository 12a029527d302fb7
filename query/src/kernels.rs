//! Vectorized kernels: whole-column conversions, arithmetic and comparisons.
//!
//! Each kernel matches once on the physical layouts and then runs a plain loop over slices,
//! which the compiler vectorizes. Numbers are widened to a 64-bit compute domain (`i64`,
//! `u64` or `f64`) and narrowed to the result type at the end.

use std::cmp::Ordering;

use granary_storage::column::{ColumnData, StringData};
use granary_storage::types::Physical;
use granary_storage::{match_data, Column, DataType, Value};

use crate::error::{bail, Result};

/// The 64-bit domain a numeric computation runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Domain {
    /// Signed, wrapping.
    Int,
    /// Unsigned, wrapping.
    UInt,
    /// Floating point.
    Float,
}

impl Domain {
    /// The domain values of a type compute in.
    pub fn of(ty: &DataType) -> Domain {
        let ty = ty.non_null();
        if ty.is_float() {
            Domain::Float
        } else if ty.is_signed() || matches!(ty, DataType::DateTime64(_) | DataType::Decimal { .. } | DataType::Enum(_)) {
            Domain::Int
        } else {
            Domain::UInt
        }
    }
}

#[allow(clippy::unnecessary_cast)] // the same cast covers every width, including i64 itself
/// The column's values as `i64` (unsigned values wrap, floats truncate).
pub fn to_i64(col: &Column) -> Result<Vec<i64>> {
    Ok(match_data!(&col.data, v => v.iter().map(|&x| x as i64).collect(), _s => bail!(DatatypeMismatch, "expected a number, got {}", col.ty)))
}

#[allow(clippy::unnecessary_cast)]
/// The column's values as `u64` (negative values wrap, floats truncate).
pub fn to_u64(col: &Column) -> Result<Vec<u64>> {
    Ok(match_data!(&col.data, v => v.iter().map(|&x| x as u64).collect(), _s => bail!(DatatypeMismatch, "expected a number, got {}", col.ty)))
}

#[allow(clippy::unnecessary_cast)]
/// The column's values as `f64`.
pub fn to_f64(col: &Column) -> Result<Vec<f64>> {
    Ok(match_data!(&col.data, v => v.iter().map(|&x| x as f64).collect(), _s => bail!(DatatypeMismatch, "expected a number, got {}", col.ty)))
}

/// The column's integer values as `i128`, where signed and unsigned 64-bit values compare
/// exactly.
pub fn to_i128(col: &Column) -> Result<Vec<i128>> {
    Ok(if Domain::of(&col.ty) == Domain::UInt {
        to_u64(col)?.into_iter().map(|x| x as i128).collect()
    } else {
        to_i64(col)?.into_iter().map(|x| x as i128).collect()
    })
}

/// `t.div_euclid(divisor)` of every value. The divisors of time scales (10^3, 10^6, 10^9, a
/// day in seconds or milliseconds) are matched to constants, which the compiler divides by
/// with a multiply and shifts: a division by a value known only at run time is an `idiv` per
/// row, tens of cycles (converting a `DateTime64(3)` column to seconds was most of
/// `toStartOfHour`).
pub fn div_euclid_each(values: &[i64], divisor: i64) -> Vec<i64> {
    macro_rules! by {
        ($d:expr) => {
            values.iter().map(|t| t.div_euclid($d)).collect()
        };
    }
    match divisor {
        1_000 => by!(1_000),
        1_000_000 => by!(1_000_000),
        1_000_000_000 => by!(1_000_000_000),
        86_400 => by!(86_400),
        86_400_000 => by!(86_400_000),
        d => by!(d),
    }
}

/// A column of type `ty` from `i64` values, narrowing (wrapping) to the type's width.
pub fn from_i64(ty: DataType, v: Vec<i64>) -> Column {
    narrow(ty, v)
}

/// A column of type `ty` from `u64` values, narrowing (wrapping) to the type's width.
pub fn from_u64(ty: DataType, v: Vec<u64>) -> Column {
    narrow(ty, v)
}

/// A column of type `ty` from `f64` values (truncating toward zero for integer types).
pub fn from_f64(ty: DataType, v: Vec<f64>) -> Column {
    narrow(ty, v)
}

/// Conversion of a 64-bit compute value into any physical primitive with `as` semantics.
pub trait Narrow: Copy {
    /// `self as u8`, etc.
    fn to_u8(self) -> u8;
    fn to_u16(self) -> u16;
    fn to_u32(self) -> u32;
    fn to_u64(self) -> u64;
    fn to_i8(self) -> i8;
    fn to_i16(self) -> i16;
    fn to_i32(self) -> i32;
    fn to_i64(self) -> i64;
    fn to_f32(self) -> f32;
    fn to_f64(self) -> f64;
}

macro_rules! impl_narrow {
    ($($t:ty),*) => {$(
        impl Narrow for $t {
            #[inline] fn to_u8(self) -> u8 { self as u8 }
            #[inline] fn to_u16(self) -> u16 { self as u16 }
            #[inline] fn to_u32(self) -> u32 { self as u32 }
            #[inline] fn to_u64(self) -> u64 { self as u64 }
            #[inline] fn to_i8(self) -> i8 { self as i8 }
            #[inline] fn to_i16(self) -> i16 { self as i16 }
            #[inline] fn to_i32(self) -> i32 { self as i32 }
            #[inline] fn to_i64(self) -> i64 { self as i64 }
            #[inline] fn to_f32(self) -> f32 { self as f32 }
            #[inline] fn to_f64(self) -> f64 { self as f64 }
        }
    )*};
}
impl_narrow!(i64, u64, f64);

fn narrow<T: Narrow>(ty: DataType, v: Vec<T>) -> Column {
    let ty = ty.non_null().clone();
    let data = match ty.physical() {
        Physical::U8 if ty == DataType::Bool => ColumnData::U8(v.into_iter().map(|x| (x.to_f64() != 0.0) as u8).collect()),
        Physical::U8 => ColumnData::U8(v.into_iter().map(Narrow::to_u8).collect()),
        Physical::U16 => ColumnData::U16(v.into_iter().map(Narrow::to_u16).collect()),
        Physical::U32 => ColumnData::U32(v.into_iter().map(Narrow::to_u32).collect()),
        Physical::U64 => ColumnData::U64(v.into_iter().map(Narrow::to_u64).collect()),
        Physical::I8 => ColumnData::I8(v.into_iter().map(Narrow::to_i8).collect()),
        Physical::I16 => ColumnData::I16(v.into_iter().map(Narrow::to_i16).collect()),
        Physical::I32 => ColumnData::I32(v.into_iter().map(Narrow::to_i32).collect()),
        Physical::I64 => ColumnData::I64(v.into_iter().map(Narrow::to_i64).collect()),
        Physical::F32 => ColumnData::F32(v.into_iter().map(Narrow::to_f32).collect()),
        Physical::F64 => ColumnData::F64(v.into_iter().map(Narrow::to_f64).collect()),
        Physical::Bytes => unreachable!("numeric kernel produced a string type"),
    };
    Column::new(ty, data)
}

/// Converts a column to another type: numbers to numbers (wrapping/truncating like ClickHouse),
/// dates and times to each other, strings parsed into any type, anything formatted as String,
/// NULLs kept where the target is Nullable.
pub fn cast(col: &Column, to: &DataType) -> Result<Column> {
    let to = to.value_type();
    if col.ty == to {
        return Ok(col.clone());
    }
    if col.nulls.is_some() || to.is_nullable() {
        let inner = cast(&col.strip_nulls(), to.non_null())?;
        let nulls = match (&col.nulls, to.is_nullable()) {
            (Some(n), true) => n.clone(),
            (None, true) => vec![0; col.len()],
            (Some(n), false) if n.contains(&1) => bail!(InvalidText, "cannot convert NULL to the non-Nullable type {to}"),
            (_, false) => return Ok(inner),
        };
        return Ok(Column::with_nulls(to, inner.data, Some(nulls)));
    }
    let from = &col.ty;
    if crate::states::same_layout(from, &to) {
        return Ok(Column::new(to, col.data.clone()));
    }
    if matches!(from, DataType::AggregateFunction { .. }) || matches!(to, DataType::AggregateFunction { .. }) {
        bail!(DatatypeMismatch, "cannot convert {from} to {to}: aggregate function states only go into a column of the same type");
    }
    let plain = |t: &DataType| t.is_integer() || t.is_float() || matches!(t, DataType::IPv4 | DataType::Enum(_));
    if from.physical() == to.physical() && plain(from) && (to.is_integer() || to.is_float() || to == DataType::IPv4) {
        return Ok(Column::new(to, col.data.clone()));
    }
    if to == DataType::String {
        let mut out = StringData::with_capacity(col.len());
        let mut buf = String::new();
        for i in 0..col.len() {
            buf.clear();
            from.format_value(&col.value(i), &mut buf);
            out.push(buf.as_bytes());
        }
        return Ok(Column::new(to, ColumnData::Bytes(out)));
    }
    // Temporal conversions work on a common tick scale; plain numbers go through the 64-bit
    // domains; everything else converts value by value the way INSERT does.
    let scale = |ty: &DataType| -> Option<i64> {
        match ty {
            DataType::Date => Some(-1),
            DataType::DateTime => Some(1),
            DataType::DateTime64(p) => Some(10i64.pow(*p as u32)),
            _ => None,
        }
    };
    let numeric = |t: &DataType| plain(t) || *t == DataType::Bool || t.is_temporal();
    match (scale(from), scale(&to)) {
        (Some(a), Some(b)) => {
            let v = to_i64(col)?;
            let out: Vec<i64> = match (a, b) {
                (-1, b) => v.iter().map(|d| d * 86_400 * b).collect(),
                (a, -1) => div_euclid_each(&v, a * 86_400),
                (a, b) if a >= b => div_euclid_each(&v, a / b),
                (a, b) => v.iter().map(|t| t * (b / a)).collect(),
            };
            Ok(from_i64(to, out))
        }
        _ if numeric(from) && (numeric(&to) && !matches!(to, DataType::Enum(_))) => Ok(match Domain::of(from) {
            Domain::Float if to.is_integer() || to == DataType::Bool => from_i64(to, to_f64(col)?.into_iter().map(|f| f as i64).collect()),
            Domain::Float => from_f64(to, to_f64(col)?),
            Domain::Int => from_i64(to, to_i64(col)?),
            Domain::UInt => from_u64(to, to_u64(col)?),
        }),
        // Array text: ClickHouse's `[1,2]` or Postgres's `{1,2}`.
        _ if from.is_string() && to.element().is_some() => {
            let values = (0..col.len()).map(|i| to.parse_text(&String::from_utf8_lossy(col.value(i).as_bytes()))).collect::<std::result::Result<Vec<_>, _>>();
            let values = values.map_err(|e| crate::error::QueryError::new(crate::error::ErrorKind::InvalidText, format!("cannot convert {from} to {to}: {e}")))?;
            Ok(Column::from_values(to.clone(), &values)?)
        }
        _ if from.element().is_some() != to.element().is_some() => bail!(DatatypeMismatch, "cannot convert {from} to {to}"),
        _ => {
            let values: Vec<Value> = (0..col.len()).map(|i| col.value(i)).collect();
            Column::from_values(to.clone(), &values).map_err(|e| crate::error::QueryError::new(crate::error::ErrorKind::InvalidText, format!("cannot convert {from} to {to}: {e}")))
        }
    }
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
}

impl CmpOp {
    /// Whether an ordering satisfies the operator.
    #[inline]
    pub fn test(self, o: Ordering) -> bool {
        match self {
            CmpOp::Eq => o == Ordering::Equal,
            CmpOp::NotEq => o != Ordering::Equal,
            CmpOp::Lt => o == Ordering::Less,
            CmpOp::LtEq => o != Ordering::Greater,
            CmpOp::Gt => o == Ordering::Greater,
            CmpOp::GtEq => o != Ordering::Less,
        }
    }

    /// The operator with its operands swapped (`a < b` ⇔ `b > a`).
    pub fn flip(self) -> CmpOp {
        match self {
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::LtEq => CmpOp::GtEq,
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::GtEq => CmpOp::LtEq,
            other => other,
        }
    }
}

#[inline]
fn cmp_slices<T: PartialOrd + Copy>(a: &[T], b: &[T], op: CmpOp) -> Vec<u8> {
    macro_rules! lanes {
        ($op:tt) => { a.iter().zip(b).map(|(x, y)| (x $op y) as u8).collect() };
    }
    match op {
        CmpOp::Eq => lanes!(==),
        CmpOp::NotEq => lanes!(!=),
        CmpOp::Lt => lanes!(<),
        CmpOp::LtEq => lanes!(<=),
        CmpOp::Gt => lanes!(>),
        CmpOp::GtEq => lanes!(>=),
    }
}

/// Compares two columns of compatible types row by row; the result is a UInt8 mask column.
/// Both sides must already be converted to a common comparable type family.
pub fn compare(a: &Column, b: &Column, op: CmpOp) -> Result<Vec<u8>> {
    match (&a.data, &b.data) {
        (ColumnData::Bytes(x), ColumnData::Bytes(y)) => Ok(x.iter().zip(y.iter()).map(|(p, q)| op.test(p.cmp(q)) as u8).collect()),
        (ColumnData::Bytes(_), _) | (_, ColumnData::Bytes(_)) => bail!(DatatypeMismatch, "cannot compare {} with {}", a.ty, b.ty),
        _ => {
            let (da, db) = (Domain::of(&a.ty), Domain::of(&b.ty));
            Ok(if da == Domain::Float || db == Domain::Float {
                cmp_slices(&to_f64(a)?, &to_f64(b)?, op)
            } else if da == Domain::UInt && db == Domain::UInt {
                cmp_slices(&to_u64(a)?, &to_u64(b)?, op)
            } else if da == Domain::Int && db == Domain::Int {
                cmp_slices(&to_i64(a)?, &to_i64(b)?, op)
            } else {
                cmp_slices(&to_i128(a)?, &to_i128(b)?, op)
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn division_by_a_time_scale_floors_like_div_euclid_for_every_divisor() {
        let values: Vec<i64> = vec![0, 1, -1, 999, 1_000, -1_000, -1_001, 86_399_999, -86_400_001, i64::MAX, i64::MIN + 1, 1_700_000_000_123];
        for divisor in [1_000, 1_000_000, 1_000_000_000, 86_400, 86_400_000, 7, 3_600_000] {
            let expected: Vec<i64> = values.iter().map(|t| t.div_euclid(divisor)).collect();
            assert_eq!(div_euclid_each(&values, divisor), expected, "divisor {divisor}");
        }
    }
}
