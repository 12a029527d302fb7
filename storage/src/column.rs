//! Typed column vectors: the unit of data every operator reads and writes.
//!
//! A column is a logical type plus one primitive vector (`Vec<u32>`, `Vec<f64>`, …) or, for
//! strings, one byte buffer with offsets. Kernels match once on the variant and then run a
//! tight loop over a slice; no per-row dispatch, no per-row allocation.

use std::cmp::Ordering;
use std::sync::Arc;

use crate::error::{Result, StorageError};
use crate::types::{DataType, Physical};
use crate::array;
use crate::value::Value;

/// Strings as one byte buffer and `rows + 1` offsets into it.
#[derive(Debug, Clone, PartialEq)]
pub struct StringData {
    /// `offsets[i]..offsets[i + 1]` is row `i`; always starts with 0.
    pub offsets: Vec<u64>,
    /// All rows' bytes back to back.
    pub bytes: Vec<u8>,
}

impl Default for StringData {
    fn default() -> Self {
        StringData::with_capacity(0)
    }
}

impl StringData {
    /// An empty string vector with room for `rows` rows.
    pub fn with_capacity(rows: usize) -> Self {
        let mut offsets = Vec::with_capacity(rows + 1);
        offsets.push(0);
        StringData { offsets, bytes: Vec::new() }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes of row `i`.
    #[inline]
    pub fn get(&self, i: usize) -> &[u8] {
        &self.bytes[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }

    /// Appends one row.
    #[inline]
    pub fn push(&mut self, value: &[u8]) {
        self.bytes.extend_from_slice(value);
        self.offsets.push(self.bytes.len() as u64);
    }

    /// The rows at `indices`, in that order. Gathered rows are scattered over data larger
    /// than the CPU's caches, so each copy would wait for memory in turn: the offset of a row
    /// `2 * AHEAD` ahead and the bytes of a row `AHEAD` ahead are prefetched, and those
    /// loads overlap. (Sorting an insert's rows spent ~30% of a COPY's CPU here, mostly in
    /// the first load of each copied row.)
    fn take(&self, indices: &[u32]) -> StringData {
        const AHEAD: usize = 16;
        let mut out = StringData::with_capacity(indices.len());
        out.bytes.reserve(self.bytes.len() / self.len().max(1) * indices.len());
        for (k, &i) in indices.iter().enumerate() {
            if let Some(&far) = indices.get(k + 2 * AHEAD) {
                prefetch(self.offsets.as_ptr().wrapping_add(far as usize));
            }
            if let Some(&near) = indices.get(k + AHEAD) {
                prefetch(self.bytes.as_ptr().wrapping_add(self.offsets[near as usize] as usize));
            }
            out.push(self.get(i as usize));
        }
        out
    }

    /// Iterates over the rows.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.offsets.windows(2).map(|w| &self.bytes[w[0] as usize..w[1] as usize])
    }
}

/// Asks the CPU to start loading the cache line at `ptr`, for loops that know which
/// scattered rows or slots they read next (a no-op off x86-64). Only a hint: it never
/// faults, whatever the address.
#[inline(always)]
pub fn prefetch<T>(ptr: *const T) {
    // SAFETY: SSE is part of every x86_64 CPU, and a prefetch reads no memory.
    #[cfg(target_arch = "x86_64")]
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(ptr.cast())
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = ptr;
}

/// The values of a column in their physical layout.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnData {
    U8(Vec<u8>),
    U16(Vec<u16>),
    U32(Vec<u32>),
    U64(Vec<u64>),
    I8(Vec<i8>),
    I16(Vec<i16>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    F32(Vec<f32>),
    F64(Vec<f64>),
    Bytes(StringData),
}

/// Runs `$fixed` with `$v` bound to the primitive vector of any fixed-width variant, or
/// `$bytes` with `$s` bound to the string data.
#[macro_export]
macro_rules! match_data {
    ($data:expr, $v:ident => $fixed:expr, $s:ident => $bytes:expr) => {
        match $data {
            $crate::column::ColumnData::U8($v) => $fixed,
            $crate::column::ColumnData::U16($v) => $fixed,
            $crate::column::ColumnData::U32($v) => $fixed,
            $crate::column::ColumnData::U64($v) => $fixed,
            $crate::column::ColumnData::I8($v) => $fixed,
            $crate::column::ColumnData::I16($v) => $fixed,
            $crate::column::ColumnData::I32($v) => $fixed,
            $crate::column::ColumnData::I64($v) => $fixed,
            $crate::column::ColumnData::F32($v) => $fixed,
            $crate::column::ColumnData::F64($v) => $fixed,
            $crate::column::ColumnData::Bytes($s) => $bytes,
        }
    };
}

/// Like `match_data!`, but wraps the fixed-width result back into the same variant.
#[macro_export]
macro_rules! map_data {
    ($data:expr, $v:ident => $fixed:expr, $s:ident => $bytes:expr) => {
        match $data {
            $crate::column::ColumnData::U8($v) => $crate::column::ColumnData::U8($fixed),
            $crate::column::ColumnData::U16($v) => $crate::column::ColumnData::U16($fixed),
            $crate::column::ColumnData::U32($v) => $crate::column::ColumnData::U32($fixed),
            $crate::column::ColumnData::U64($v) => $crate::column::ColumnData::U64($fixed),
            $crate::column::ColumnData::I8($v) => $crate::column::ColumnData::I8($fixed),
            $crate::column::ColumnData::I16($v) => $crate::column::ColumnData::I16($fixed),
            $crate::column::ColumnData::I32($v) => $crate::column::ColumnData::I32($fixed),
            $crate::column::ColumnData::I64($v) => $crate::column::ColumnData::I64($fixed),
            $crate::column::ColumnData::F32($v) => $crate::column::ColumnData::F32($fixed),
            $crate::column::ColumnData::F64($v) => $crate::column::ColumnData::F64($fixed),
            $crate::column::ColumnData::Bytes($s) => $crate::column::ColumnData::Bytes($bytes),
        }
    };
}

/// A primitive that can live in a fixed-width column and be written to disk little-endian.
pub trait Primitive: Copy + PartialOrd + Default + Send + Sync + 'static {
    /// Width in bytes.
    const WIDTH: usize;
    /// Reads one value from `WIDTH` little-endian bytes.
    fn read_le(bytes: &[u8]) -> Self;
    /// The little-endian bytes of a value, as an array.
    type LeBytes: AsRef<[u8]>;
    /// Appends the little-endian bytes of the value.
    fn write_le(self, out: &mut Vec<u8>);
    /// The little-endian bytes of the value, without a buffer to append to.
    fn le_array(self) -> Self::LeBytes;
    /// Total order used by sorting (NaN last for floats).
    fn total_cmp(&self, other: &Self) -> Ordering;
    /// The value as a `Value`.
    fn to_value(self) -> Value;
}

macro_rules! impl_primitive {
    ($t:ty, $x:ident => $value:expr, $a:ident, $b:ident => $cmp:expr) => {
        impl Primitive for $t {
            const WIDTH: usize = std::mem::size_of::<$t>();
            type LeBytes = [u8; std::mem::size_of::<$t>()];
            #[inline]
            fn read_le(bytes: &[u8]) -> Self {
                <$t>::from_le_bytes(bytes[..Self::WIDTH].try_into().unwrap())
            }
            #[inline]
            fn write_le(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            #[inline]
            fn le_array(self) -> Self::LeBytes {
                self.to_le_bytes()
            }
            #[inline]
            fn total_cmp(&self, other: &Self) -> Ordering {
                let ($a, $b) = (self, other);
                $cmp
            }
            #[inline]
            fn to_value(self) -> Value {
                let $x = self;
                $value
            }
        }
    };
}
impl_primitive!(u8, x => Value::UInt(x as u64), a, b => a.cmp(b));
impl_primitive!(u16, x => Value::UInt(x as u64), a, b => a.cmp(b));
impl_primitive!(u32, x => Value::UInt(x as u64), a, b => a.cmp(b));
impl_primitive!(u64, x => Value::UInt(x), a, b => a.cmp(b));
impl_primitive!(i8, x => Value::Int(x as i64), a, b => a.cmp(b));
impl_primitive!(i16, x => Value::Int(x as i64), a, b => a.cmp(b));
impl_primitive!(i32, x => Value::Int(x as i64), a, b => a.cmp(b));
impl_primitive!(i64, x => Value::Int(x), a, b => a.cmp(b));
impl_primitive!(f32, x => Value::Float(x as f64), a, b => a.partial_cmp(b).unwrap_or_else(|| a.is_nan().cmp(&b.is_nan())));
impl_primitive!(f64, x => Value::Float(x), a, b => a.partial_cmp(b).unwrap_or_else(|| a.is_nan().cmp(&b.is_nan())));

/// Appends `src[at..at + len]` to `out`; `None` when `src` is too short. A value of up to 16
/// bytes with 16 bytes of `src` behind it is copied as a fixed 16-byte block and the excess cut
/// off again: one vector store instead of a `memcpy` call per short string.
#[inline]
pub fn push_short(out: &mut Vec<u8>, src: &[u8], at: usize, len: usize) -> Option<()> {
    match src.get(at..at + 16) {
        Some(window) if len <= 16 => {
            let end = out.len() + len;
            out.extend_from_slice(&<[u8; 16]>::try_from(window).unwrap());
            out.truncate(end);
        }
        _ => out.extend_from_slice(src.get(at..at + len)?),
    }
    Some(())
}

/// A typed column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// The logical type (never `LowCardinality`, which only changes the on-disk form).
    pub ty: DataType,
    /// The values; rows that are NULL hold the type's default.
    pub data: ColumnData,
    /// For `Nullable` types (and only for them): 1 where the row is NULL, one byte per row.
    pub nulls: Option<Vec<u8>>,
}

/// Columns are shared between blocks and operators without copying.
pub type ColumnRef = Arc<Column>;

impl ColumnData {
    /// An empty vector of the given layout with room for `rows` rows.
    pub fn with_capacity(physical: Physical, rows: usize) -> ColumnData {
        match physical {
            Physical::U8 => ColumnData::U8(Vec::with_capacity(rows)),
            Physical::U16 => ColumnData::U16(Vec::with_capacity(rows)),
            Physical::U32 => ColumnData::U32(Vec::with_capacity(rows)),
            Physical::U64 => ColumnData::U64(Vec::with_capacity(rows)),
            Physical::I8 => ColumnData::I8(Vec::with_capacity(rows)),
            Physical::I16 => ColumnData::I16(Vec::with_capacity(rows)),
            Physical::I32 => ColumnData::I32(Vec::with_capacity(rows)),
            Physical::I64 => ColumnData::I64(Vec::with_capacity(rows)),
            Physical::F32 => ColumnData::F32(Vec::with_capacity(rows)),
            Physical::F64 => ColumnData::F64(Vec::with_capacity(rows)),
            Physical::Bytes => ColumnData::Bytes(StringData::with_capacity(rows)),
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        match_data!(self, v => v.len(), s => s.len())
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Column {
    /// A column from its type and values (no NULLs); the layout must match the type.
    pub fn new(ty: DataType, data: ColumnData) -> Column {
        let nulls = ty.is_nullable().then(|| vec![0; data.len()]);
        Column::with_nulls(ty, data, nulls)
    }

    /// A column from its type, values and null map (`Some` exactly when the type is Nullable).
    pub fn with_nulls(ty: DataType, data: ColumnData, nulls: Option<Vec<u8>>) -> Column {
        let ty = ty.value_type();
        debug_assert_eq!(ColumnData::with_capacity(ty.physical(), 0).variant_name(), data.variant_name());
        debug_assert_eq!(ty.is_nullable(), nulls.is_some());
        debug_assert!(nulls.as_ref().is_none_or(|n| n.len() == data.len()));
        Column { ty, data, nulls }
    }

    /// An empty column of a type.
    pub fn empty(ty: DataType) -> Column {
        Column::new(ty.clone(), ColumnData::with_capacity(ty.physical(), 0))
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// True when row `row` is NULL.
    #[inline]
    pub fn is_null(&self, row: usize) -> bool {
        self.nulls.as_ref().is_some_and(|n| n[row] != 0)
    }

    /// The same values without the null map, typed as the non-null type (NULL rows read as
    /// the default); what kernels that ignore NULLs compute on.
    pub fn strip_nulls(&self) -> Column {
        self.clone().without_nulls()
    }

    /// `strip_nulls` for a column that is no longer needed, without copying its values.
    pub fn without_nulls(self) -> Column {
        Column { ty: self.ty.non_null().clone(), data: self.data, nulls: None }
    }

    /// The value at `row`, for the edges of the system (results, metadata), never hot loops.
    pub fn value(&self, row: usize) -> Value {
        if self.is_null(row) {
            return Value::Null;
        }
        let ty = self.ty.non_null();
        match (ty, &self.data) {
            (DataType::Bool, ColumnData::U8(v)) => return Value::Bool(v[row] != 0),
            (DataType::Uuid, ColumnData::Bytes(s)) => return Value::Bytes(s.get(row).to_vec()),
            (DataType::Decimal { scale, .. }, ColumnData::I64(v)) => return Value::Decimal { raw: v[row], scale: *scale },
            (DataType::Array(element), ColumnData::Bytes(s)) => {
                let items = array::decode_row(element, s.get(row)).expect("array rows are well formed");
                return Value::Array((0..items.len()).map(|i| items.value(i)).collect());
            }
            _ => {}
        }
        let v = match_data!(&self.data, v => v[row].to_value(),
            s => Value::String(String::from_utf8_lossy(s.get(row)).into_owned()));
        match (ty.is_temporal(), v) {
            (true, Value::UInt(u)) => Value::Int(u as i64),
            (_, v) => v,
        }
    }

    /// Builds a column from values, converting each to the column's type the way an INSERT
    /// does (integers wrap to the width, strings are parsed); errors on values of another kind.
    pub fn from_values(ty: DataType, values: &[Value]) -> Result<Column> {
        let mut out = Column::new(ty.clone(), ColumnData::with_capacity(ty.physical(), values.len()));
        for value in values {
            out.push_value(value)?;
        }
        Ok(out)
    }

    /// Keeps the rows whose `mask` byte is non-zero.
    pub fn filter(&self, mask: &[u8]) -> Column {
        debug_assert_eq!(mask.len(), self.len());
        let data = map_data!(&self.data,
            v => v.iter().zip(mask).filter(|(_, m)| **m != 0).map(|(x, _)| *x).collect(),
            s => {
                let mut out = StringData::with_capacity(count_nonzero(mask));
                for (i, m) in mask.iter().enumerate() {
                    if *m != 0 {
                        out.push(s.get(i));
                    }
                }
                out
            });
        let nulls = self.nulls.as_ref().map(|n| n.iter().zip(mask).filter(|(_, m)| **m != 0).map(|(x, _)| *x).collect());
        Column { ty: self.ty.clone(), data, nulls }
    }

    /// Gathers the rows at `indices`, in that order.
    pub fn take(&self, indices: &[u32]) -> Column {
        let data = map_data!(&self.data,
            v => indices.iter().map(|&i| v[i as usize]).collect(),
            s => s.take(indices));
        let nulls = self.nulls.as_ref().map(|n| indices.iter().map(|&i| n[i as usize]).collect());
        Column { ty: self.ty.clone(), data, nulls }
    }

    /// Rows `start..start + len` as a new column.
    pub fn slice(&self, start: usize, len: usize) -> Column {
        let mut out = Column::with_capacity(self.ty.clone(), len);
        out.append_range(self, start..start + len);
        out
    }

    /// An empty column of a type with room for `rows` rows.
    pub fn with_capacity(ty: DataType, rows: usize) -> Column {
        let data = ColumnData::with_capacity(ty.physical(), rows);
        let nulls = ty.is_nullable().then(|| Vec::with_capacity(rows));
        Column::with_nulls(ty, data, nulls)
    }

    /// Appends all rows of `other`, which must have the same layout.
    pub fn append(&mut self, other: &Column) {
        self.append_range(other, 0..other.len());
    }

    /// Appends rows `rows` of `other`, which must have the same layout.
    pub fn append_range(&mut self, other: &Column, rows: std::ops::Range<usize>) {
        if let Some(nulls) = &mut self.nulls {
            match &other.nulls {
                Some(o) => nulls.extend_from_slice(&o[rows.clone()]),
                None => nulls.resize(nulls.len() + rows.len(), 0),
            }
        }
        match (&mut self.data, &other.data) {
            (ColumnData::Bytes(a), ColumnData::Bytes(b)) => {
                let (lo, hi) = (b.offsets[rows.start], b.offsets[rows.end]);
                let base = a.bytes.len() as u64;
                a.bytes.extend_from_slice(&b.bytes[lo as usize..hi as usize]);
                a.offsets.extend(b.offsets[rows.start + 1..=rows.end].iter().map(|o| o - lo + base));
            }
            (a, b) => append_fixed(a, b, rows),
        }
    }

    /// Concatenates columns of one type.
    pub fn concat(ty: DataType, parts: &[ColumnRef]) -> Column {
        let mut out = Column::with_capacity(ty, parts.iter().map(|c| c.len()).sum());
        for p in parts {
            out.append(p);
        }
        out
    }

    /// Compares row `a` of this column with row `b` of `other` (same layout). NULL sorts
    /// after every value; arrays compare element by element.
    #[inline]
    pub fn cmp_rows(&self, a: usize, other: &Column, b: usize) -> Ordering {
        if self.nulls.is_some() || other.nulls.is_some() {
            match (self.is_null(a), other.is_null(b)) {
                (false, false) => {}
                (x, y) => return x.cmp(&y),
            }
        }
        macro_rules! cmp {
            ($($variant:ident),*) => {
                match (&self.data, &other.data) {
                    $((ColumnData::$variant(x), ColumnData::$variant(y)) => x[a].total_cmp(&y[b]),)*
                    (ColumnData::Bytes(x), ColumnData::Bytes(y)) => match self.ty.element() {
                        None => cmp_strings(x.get(a), y.get(b)),
                        Some(element) => array::cmp_rows(element, x.get(a), y.get(b)),
                    },
                    _ => panic!("cmp_rows on columns of different layouts"),
                }
            };
        }
        cmp!(U8, U16, U32, U64, I8, I16, I32, I64, F32, F64)
    }

    /// The smallest and largest value, or `None` for an empty column (NaN is ignored).
    pub fn min_max(&self) -> Option<(Value, Value)> {
        self.min_max_in(0..self.len())
    }

    /// Smallest and largest non-NULL value among `rows` (NaN ignored); `None` when there is
    /// none, and for arrays (which nothing prunes on).
    pub fn min_max_in(&self, rows: std::ops::Range<usize>) -> Option<(Value, Value)> {
        if let Some(nulls) = &self.nulls {
            if nulls[rows.clone()].contains(&1) {
                let kept: Vec<u32> = rows.filter(|&i| nulls[i] == 0).map(|i| i as u32).collect();
                let present = self.take(&kept);
                return present.min_max_in(0..present.len());
            }
        }
        fn fixed<T: Primitive>(v: &[T]) -> Option<(T, T)> {
            // NaN is the one value not comparable with itself; min/max ignore it.
            let mut it = v.iter().copied().filter(|x| x.partial_cmp(x).is_some());
            let first = it.next()?;
            Some(it.fold((first, first), |(lo, hi), x| {
                (if x < lo { x } else { lo }, if x > hi { x } else { hi })
            }))
        }
        if self.ty.element().is_some() {
            return None;
        }
        let temporal = self.ty.non_null().is_temporal();
        let (lo, hi) = match_data!(&self.data,
            v => fixed(&v[rows]).map(|(a, b)| (a.to_value(), b.to_value()))?,
            s => {
                let first = rows.start;
                if first >= rows.end {
                    return None;
                }
                let (mut lo, mut hi) = (first, first);
                for i in rows {
                    let v = s.get(i);
                    if cmp_strings(v, s.get(lo)).is_lt() {
                        lo = i;
                    } else if cmp_strings(v, s.get(hi)).is_gt() {
                        hi = i;
                    }
                }
                (self.value(lo), self.value(hi))
            });
        let fix = |v: Value| match (temporal, v) {
            (true, Value::UInt(u)) => Value::Int(u as i64),
            (_, v) => v,
        };
        Some((fix(lo), fix(hi)))
    }

    /// Serializes rows `start..end` in the on-disk form: for Nullable columns one null byte
    /// per row first; then little-endian values, or for strings a LEB128 length then the
    /// bytes of each row.
    pub fn encode(&self, start: usize, end: usize, out: &mut Vec<u8>) {
        if let Some(nulls) = &self.nulls {
            out.extend_from_slice(&nulls[start..end]);
        }
        match_data!(&self.data,
            v => {
                out.reserve(std::mem::size_of_val(&v[start..end]));
                for x in &v[start..end] {
                    x.write_le(out);
                }
            },
            s => {
                out.reserve((s.offsets[end] - s.offsets[start]) as usize + (end - start));
                for i in start..end {
                    let b = s.get(i);
                    write_varint(b.len() as u64, out);
                    out.extend_from_slice(b);
                }
            })
    }

    /// Appends `rows` rows decoded from the on-disk form; returns the bytes consumed.
    pub fn decode_append(&mut self, bytes: &[u8], rows: usize) -> Result<usize> {
        let short = || StorageError::Invalid("column data is shorter than its row count".into());
        let mut pos = 0;
        if let Some(nulls) = &mut self.nulls {
            nulls.extend_from_slice(bytes.get(..rows).ok_or_else(short)?);
            pos = rows;
        }
        let bytes = &bytes[pos..];
        Ok(pos + match_data!(&mut self.data,
            v => decode_fixed(v, bytes, rows).ok_or_else(short)?,
            s => {
                s.offsets.reserve(rows);
                decode_strings(s, bytes, rows, None).ok_or_else(short)?
            }))
    }

    /// Like `decode_append`, but appends only the rows whose `keep` byte is non-zero (all
    /// rows without a mask); still returns the bytes of all `rows` consumed.
    ///
    /// Only the kept rows are decoded: a late-materialised read that keeps a row or two of a
    /// granule (`WHERE user_id = …`) copies those, not the granule.
    pub fn decode_append_kept(&mut self, bytes: &[u8], rows: usize, keep: Option<&[u8]>) -> Result<usize> {
        let Some(keep) = keep else { return self.decode_append(bytes, rows) };
        let short = || StorageError::Invalid("column data is shorter than its row count".into());
        let mut pos = 0;
        if let Some(nulls) = &mut self.nulls {
            let map = bytes.get(..rows).ok_or_else(short)?;
            nulls.extend(map.iter().zip(keep).filter(|(_, &k)| k != 0).map(|(&n, _)| n));
            pos = rows;
        }
        let bytes = &bytes[pos..];
        Ok(pos + match_data!(&mut self.data,
            v => decode_fixed_kept(v, bytes, rows, keep).ok_or_else(short)?,
            s => decode_strings(s, bytes, rows, Some(keep)).ok_or_else(short)?))
    }

    /// Sets `flags[i]` to 1 where row `i` differs from row `i - 1` (row 0 is left alone), so
    /// that OR-ing over several columns marks where a composite key changes.
    pub fn mark_changes(&self, flags: &mut [u8]) {
        fn fixed<T: Primitive>(v: &[T], flags: &mut [u8]) {
            for (f, w) in flags[1..].iter_mut().zip(v.windows(2)) {
                *f |= w[1].total_cmp(&w[0]).is_ne() as u8;
            }
        }
        match_data!(&self.data, v => fixed(v, flags), s => {
            for (i, f) in flags.iter_mut().enumerate().skip(1) {
                *f |= (s.get(i) != s.get(i - 1)) as u8;
            }
        });
        if let Some(nulls) = &self.nulls {
            for (f, w) in flags[1..].iter_mut().zip(nulls.windows(2)) {
                *f |= (w[0] != w[1]) as u8;
            }
        }
    }

    /// Approximate bytes held in memory.
    pub fn memory_size(&self) -> usize {
        let values = match_data!(&self.data, v => std::mem::size_of_val(&v[..]), s => s.bytes.len() + s.offsets.len() * 8);
        values + self.nulls.as_ref().map_or(0, Vec::len)
    }

    /// A column of `rows` default values: 0, '', the zero UUID, empty arrays; NULL for
    /// Nullable types.
    pub fn defaults(ty: DataType, rows: usize) -> Column {
        let mut out = Column::with_capacity(ty.clone(), rows);
        for _ in 0..rows {
            push_default(&mut out.data, ty.non_null());
        }
        if let Some(nulls) = &mut out.nulls {
            nulls.resize(rows, 1);
        }
        out
    }

    /// Appends one value converted to the column's type (integers wrap, floats truncate
    /// toward zero when stored as integers, strings are parsed as the type's text form,
    /// NULL only into Nullable columns).
    pub fn push_value(&mut self, value: &Value) -> Result<()> {
        let Column { ty, data, nulls } = self;
        match (nulls, value) {
            (Some(nulls), Value::Null) => {
                nulls.push(1);
                push_default(data, ty.non_null());
                Ok(())
            }
            (None, Value::Null) => Err(StorageError::Invalid(format!("cannot insert NULL into a column of type {ty}"))),
            (nulls, _) => {
                push_converted(data, ty.non_null(), value)?;
                if let Some(nulls) = nulls {
                    nulls.push(0);
                }
                Ok(())
            }
        }
    }
}

/// Appends the default value of non-Nullable `ty` (zero bytes, or an empty byte string).
fn push_default(data: &mut ColumnData, ty: &DataType) {
    match (data, ty) {
        (ColumnData::Bytes(s), DataType::FixedString(n)) => {
            s.bytes.resize(s.bytes.len() + *n as usize, 0);
            s.offsets.push(s.bytes.len() as u64);
        }
        (ColumnData::Bytes(s), DataType::Uuid) => s.push(&[0; 16]),
        (ColumnData::Bytes(s), DataType::Array(_)) => s.push(&[0]),
        (ColumnData::Bytes(s), _) => s.push(b""),
        // An enum's default is its smallest member, as in ClickHouse.
        (ColumnData::I8(v), DataType::Enum(e)) => v.push(e.members[0].1 as i8),
        (ColumnData::I16(v), DataType::Enum(e)) => v.push(e.members[0].1),
        (data, _) => {
            macro_rules! zero {
                ($($variant:ident),*) => {
                    match data {
                        $(ColumnData::$variant(v) => v.push(Default::default()),)*
                        ColumnData::Bytes(_) => unreachable!(),
                    }
                };
            }
            zero!(U8, U16, U32, U64, I8, I16, I32, I64, F32, F64)
        }
    }
}

impl ColumnData {
    fn variant_name(&self) -> &'static str {
        match self {
            ColumnData::U8(_) => "U8",
            ColumnData::U16(_) => "U16",
            ColumnData::U32(_) => "U32",
            ColumnData::U64(_) => "U64",
            ColumnData::I8(_) => "I8",
            ColumnData::I16(_) => "I16",
            ColumnData::I32(_) => "I32",
            ColumnData::I64(_) => "I64",
            ColumnData::F32(_) => "F32",
            ColumnData::F64(_) => "F64",
            ColumnData::Bytes(_) => "Bytes",
        }
    }
}

fn decode_fixed<T: Primitive>(v: &mut Vec<T>, bytes: &[u8], rows: usize) -> Option<usize> {
    let need = rows * T::WIDTH;
    v.extend(bytes.get(..need)?.chunks_exact(T::WIDTH).map(T::read_le));
    Some(need)
}

/// `decode_fixed` of the rows whose `keep` byte is non-zero only.
fn decode_fixed_kept<T: Primitive>(v: &mut Vec<T>, bytes: &[u8], rows: usize, keep: &[u8]) -> Option<usize> {
    let need = rows * T::WIDTH;
    extend_kept(v, bytes.get(..need)?.chunks_exact(T::WIDTH).map(T::read_le), &keep[..rows]);
    Some(need)
}

/// How many of `bytes` are non-zero (rows a mask keeps): counted in byte lanes over chunks of
/// 255 bytes, which the compiler vectorizes 32 or 64 bytes at a time, where counting into a
/// `usize` per byte widens every byte first.
pub fn count_nonzero(bytes: &[u8]) -> usize {
    bytes.chunks(255).map(|chunk| chunk.iter().fold(0u8, |n, &b| n + (b != 0) as u8) as usize).sum()
}

/// Appends the values whose `keep` byte (one per value) is non-zero to `out`. Every value is
/// written and only a kept one advances the end: no branch per value, which matters where
/// the kept rows are a random half.
pub fn extend_kept<T: Copy + Default>(out: &mut Vec<T>, values: impl Iterator<Item = T>, keep: &[u8]) {
    let start = out.len();
    out.resize(start + keep.len(), T::default());
    let mut n = start;
    for (value, &k) in values.zip(keep) {
        out[n] = value;
        n += (k != 0) as usize;
    }
    out.truncate(n);
}

/// Appends `rows` strings of the column encoding (each a LEB128 length, then its bytes) to
/// `s`, only those whose `keep` byte is non-zero when there is a mask; the bytes consumed, or
/// `None` when `bytes` ends too soon.
fn decode_strings(s: &mut StringData, bytes: &[u8], rows: usize, keep: Option<&[u8]>) -> Option<usize> {
    let mut pos = 0;
    for row in 0..rows {
        let (len, n) = read_length(bytes, pos)?;
        pos += n;
        if keep.is_none_or(|k| k[row] != 0) {
            push_short(&mut s.bytes, bytes, pos, len)?;
            s.offsets.push(s.bytes.len() as u64);
        }
        pos += len;
    }
    (pos <= bytes.len()).then_some(pos)
}

/// The length prefix of the string at `pos` of the column encoding: the length and the bytes
/// the prefix takes (one byte, the common case, without the LEB128 loop).
#[inline]
pub fn read_length(bytes: &[u8], pos: usize) -> Option<(usize, usize)> {
    match bytes.get(pos) {
        Some(&b) if b < 0x80 => Some((b as usize, 1)),
        _ => read_varint(bytes.get(pos..)?).map(|(l, n)| (l as usize, n)),
    }
}

fn append_fixed(a: &mut ColumnData, b: &ColumnData, rows: std::ops::Range<usize>) {
    macro_rules! app {
        ($($variant:ident),*) => {
            match (a, b) {
                $((ColumnData::$variant(x), ColumnData::$variant(y)) => x.extend_from_slice(&y[rows]),)*
                _ => panic!("append of columns with different layouts"),
            }
        };
    }
    app!(U8, U16, U32, U64, I8, I16, I32, I64, F32, F64)
}

/// Appends one non-NULL value converted to `ty`, a non-Nullable type.
fn push_converted(data: &mut ColumnData, ty: &DataType, value: &Value) -> Result<()> {
    let parsed;
    let value = match value {
        Value::String(s) if *ty != DataType::String && !matches!(ty, DataType::FixedString(_)) => {
            parsed = ty.parse_text(s)?;
            &parsed
        }
        v => v,
    };
    let mismatch = || StorageError::Invalid(format!("cannot store {value:?} in a column of type {ty}"));
    if let ColumnData::Bytes(s) = data {
        match (ty, value) {
            (DataType::FixedString(n), Value::String(v)) => {
                let n = *n as usize;
                if v.len() > n {
                    return Err(StorageError::Invalid(format!("string '{v}' is too long for FixedString({n})")));
                }
                s.bytes.extend_from_slice(v.as_bytes());
                s.bytes.resize(s.bytes.len() + n - v.len(), 0);
                s.offsets.push(s.bytes.len() as u64);
            }
            (DataType::String, Value::String(v)) => s.push(v.as_bytes()),
            (DataType::Uuid, Value::Bytes(b)) if b.len() == 16 => s.push(b),
            (DataType::Array(element), Value::Array(items)) => {
                let items = Column::from_values((**element).clone(), items)?;
                let mut row = Vec::new();
                array::encode_row(&items, &mut row);
                s.push(&row);
            }
            _ => return Err(mismatch()),
        }
        return Ok(());
    }
    if let DataType::Decimal { scale, .. } = ty {
        return push_decimal(data, *scale, value).ok_or_else(|| StorageError::Invalid(format!("value {value:?} does not fit {ty}")));
    }
    let (int, float) = match value {
        Value::Bool(b) => (*b as i64, *b as u8 as f64),
        Value::UInt(u) => (*u as i64, *u as f64),
        Value::Int(i) => (*i, *i as f64),
        Value::Float(f) => (*f as i64, *f),
        Value::Decimal { raw, scale } => (raw / crate::text::POW10[*scale as usize], *raw as f64 / crate::text::POW10[*scale as usize] as f64),
        Value::String(_) | Value::Bytes(_) | Value::Array(_) | Value::Null => return Err(mismatch()),
    };
    if let DataType::Enum(e) = ty {
        if e.name(int).is_none() || matches!(value, Value::Float(_)) {
            return Err(StorageError::Invalid(format!("unknown element {int} for type {ty}")));
        }
    }
    match data {
        ColumnData::U8(v) => v.push(if *ty == DataType::Bool { (int != 0) as u8 } else { int as u8 }),
        ColumnData::U16(v) => v.push(int as u16),
        ColumnData::U32(v) => v.push(int as u32),
        ColumnData::U64(v) => v.push(match value {
            Value::UInt(u) => *u,
            _ => int as u64,
        }),
        ColumnData::I8(v) => v.push(int as i8),
        ColumnData::I16(v) => v.push(int as i16),
        ColumnData::I32(v) => v.push(int as i32),
        ColumnData::I64(v) => v.push(int),
        ColumnData::F32(v) => v.push(float as f32),
        ColumnData::F64(v) => v.push(float),
        ColumnData::Bytes(_) => unreachable!(),
    }
    Ok(())
}

/// Stores a number in a Decimal column of `scale`: integers are scaled exactly, floats go
/// through their shortest text so `0.1` is 0.1 and not 0.1000000000000000055.
fn push_decimal(data: &mut ColumnData, scale: u8, value: &Value) -> Option<()> {
    let ColumnData::I64(v) = data else { return None };
    let pow = crate::text::POW10[scale as usize];
    let raw = match value {
        Value::Int(i) => i.checked_mul(pow)?,
        Value::UInt(u) => i64::try_from(*u).ok()?.checked_mul(pow)?,
        Value::Bool(b) => *b as i64 * pow,
        Value::Float(f) if f.is_finite() => crate::text::parse_decimal(&format!("{f}"), crate::types::MAX_DECIMAL_PRECISION, scale)?,
        Value::Decimal { raw, scale: from } => crate::text::rescale(*raw, *from, scale)?,
        _ => return None,
    };
    v.push(raw);
    Some(())
}

/// Appends `v` as LEB128.
pub fn write_varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads a LEB128 number; returns it and the bytes used.
pub fn read_varint(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for (i, &b) in bytes.iter().enumerate().take(10) {
        v |= ((b & 0x7f) as u64) << (7 * i);
        if b < 0x80 {
            return Some((v, i + 1));
        }
    }
    None
}

/// The first eight bytes of a string as a big-endian integer, zero-padded.
#[inline]
fn string_prefix(b: &[u8]) -> u64 {
    match b.first_chunk::<8>() {
        Some(head) => u64::from_be_bytes(*head),
        None => {
            let mut key = 0u64;
            for (i, &byte) in b.iter().enumerate() {
                key |= (byte as u64) << (56 - 8 * i);
            }
            key
        }
    }
}

/// Byte-wise string order, settled by the leading eight bytes as integers where they differ
/// (or when both strings are that short), and by `memcmp` only past them.
#[inline]
pub fn cmp_strings(a: &[u8], b: &[u8]) -> Ordering {
    let (pa, pb) = (string_prefix(a), string_prefix(b));
    if pa != pb {
        return pa.cmp(&pb);
    }
    if a.len() <= 8 && b.len() <= 8 {
        // Equal padded prefixes: the shorter string is a prefix of the longer one.
        return a.len().cmp(&b.len());
    }
    a.cmp(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The prefix shortcut orders strings exactly as bytes do, zero bytes and prefixes included.
    #[test]
    fn cmp_strings_is_byte_order() {
        let words: Vec<&[u8]> = vec![
            b"", b"\0", b"a", b"ab", b"ab\0", b"ab\0c", b"abcdefgh", b"abcdefgh\0", b"abcdefghi", b"abcdefgz", b"abcdefg",
            b"b", b"\xff", b"\xff\xff\xff\xff\xff\xff\xff\xff\xff", b"u1999999", b"u287520", b"u28752",
        ];
        for a in &words {
            for b in &words {
                assert_eq!(cmp_strings(a, b), a.cmp(b), "{a:?} vs {b:?}");
            }
        }
    }

    #[test]
    fn encode_decode_round_trip() {
        let strings = Column::from_values(DataType::String, &[Value::String("a".into()), Value::String("".into()), Value::String("xyz".into())]).unwrap();
        let ints = Column::from_values(DataType::Int32, &[Value::Int(-5), Value::UInt(7), Value::Int(1 << 20)]).unwrap();
        for col in [strings, ints] {
            let mut buf = Vec::new();
            col.encode(1, 3, &mut buf);
            let mut back = Column::empty(col.ty.clone());
            assert_eq!(back.decode_append(&buf, 2).unwrap(), buf.len());
            assert_eq!(back, col.slice(1, 2));
        }
    }

    #[test]
    fn insert_conversion_wraps_like_clickhouse() {
        let c = Column::from_values(DataType::UInt8, &[Value::UInt(300), Value::Int(-1)]).unwrap();
        assert_eq!(c.data, ColumnData::U8(vec![44, 255]));
        let d = Column::from_values(DataType::Date, &[Value::String("1970-01-02".into())]).unwrap();
        assert_eq!(d.value(0), Value::Int(1));
        assert!(Column::from_values(DataType::String, &[Value::UInt(1)]).is_err());
    }

    #[test]
    fn filter_take_min_max() {
        let c = Column::from_values(DataType::Float64, &[Value::Float(2.0), Value::Float(f64::NAN), Value::Float(-1.0)]).unwrap();
        assert_eq!(c.min_max(), Some((Value::Float(-1.0), Value::Float(2.0))));
        assert_eq!(c.filter(&[1, 0, 1]).take(&[1, 0]).value(0), Value::Float(-1.0));
    }
}

