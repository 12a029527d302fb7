//! Logical column types, as ClickHouse names them, and how each is laid out in memory.
//!
//! A `DataType` is what a user declares (`DateTime64(3)`, `Nullable(Int32)`); its `Physical`
//! is the primitive vector that holds it (`i64`). Every operator dispatches on the physical
//! type, so a new logical type that reuses an existing layout costs no new kernels:
//! `Decimal` is a scaled `i64`, `IPv4` a `u32`, `Enum8` an `i8`, `UUID` and `FixedString`
//! fixed-size byte strings, `Array(T)` one encoded byte string per row (see `array`).
//! `Nullable(T)` keeps `T`'s layout plus a null map on the column; `LowCardinality(T)` is
//! `T` with a request to dictionary-encode it on disk.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Result, StorageError};

/// The largest Decimal precision Granary stores (Decimal64: the scaled value fits an `i64`).
pub const MAX_DECIMAL_PRECISION: u8 = 18;

/// A column's declared type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DataType {
    UInt8,
    UInt16,
    UInt32,
    UInt64,
    Int8,
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    String,
    /// Days since 1970-01-01, stored as `u16` like ClickHouse.
    Date,
    /// Seconds since the epoch (UTC), stored as `u32`.
    DateTime,
    /// Ticks of 10^-precision seconds since the epoch (UTC), stored as `i64`.
    DateTime64(u8),
    /// Stored as `u8` 0/1.
    Bool,
    /// `precision` significant digits, `scale` of them after the point; stored as the value
    /// times 10^scale in an `i64`.
    Decimal { precision: u8, scale: u8 },
    /// Exactly `n` bytes, shorter values padded with NUL bytes.
    FixedString(u32),
    /// 16 bytes, stored in ClickHouse's sort order (see `value::uuid_bytes`).
    Uuid,
    /// An IPv4 address as a `u32`.
    IPv4,
    /// `Enum8` / `Enum16`: named integers, stored as their number.
    Enum(Arc<EnumType>),
    /// `T` or NULL; the column carries a null map next to `T`'s values.
    Nullable(Box<DataType>),
    /// `T`, dictionary-encoded on disk; reads give plain `T` columns.
    LowCardinality(Box<DataType>),
    /// A variable-length list of `T` per row.
    Array(Box<DataType>),
    /// The serialized state of aggregate `func` over arguments of `args` types, one per row
    /// (AggregatingMergeTree); the query engine writes, merges and finishes states.
    AggregateFunction { func: String, args: Vec<DataType> },
    /// A plain `arg` value that AggregatingMergeTree combines with `func` (sum, min, max,
    /// any, anyLast) when rows merge; reads give plain `arg` columns.
    SimpleAggregateFunction { func: String, arg: Box<DataType> },
}

/// The members of an `Enum8`/`Enum16`, sorted by number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EnumType {
    /// True for `Enum16` (stored as `i16`), false for `Enum8` (`i8`).
    pub wide: bool,
    /// `(name, number)` pairs in ascending number order.
    pub members: Vec<(String, i16)>,
}

impl EnumType {
    /// Builds an enum from declared members; names and numbers must be unique and numbers
    /// must fit the width.
    pub fn new(wide: bool, mut members: Vec<(String, i16)>) -> Result<EnumType> {
        let (lo, hi) = if wide { (i16::MIN, i16::MAX) } else { (i8::MIN as i16, i8::MAX as i16) };
        if members.is_empty() {
            return Err(StorageError::UnknownType("Enum with no members".into()));
        }
        members.sort_by_key(|m| m.1);
        for (i, (name, n)) in members.iter().enumerate() {
            if *n < lo || *n > hi {
                return Err(StorageError::UnknownType(format!("Enum member '{name}' = {n} is out of range")));
            }
            if members[..i].iter().any(|m| m.0 == *name || m.1 == *n) {
                return Err(StorageError::UnknownType(format!("Enum member '{name}' = {n} is duplicated")));
            }
        }
        Ok(EnumType { wide, members })
    }

    /// The number of a member name.
    pub fn number(&self, name: &str) -> Option<i16> {
        self.members.iter().find(|m| m.0 == name).map(|m| m.1)
    }

    /// The name of a member number.
    pub fn name(&self, number: i64) -> Option<&str> {
        self.members.iter().find(|m| m.1 as i64 == number).map(|m| m.0.as_str())
    }
}

/// The in-memory representation of a column's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Physical {
    U8,
    U16,
    U32,
    U64,
    I8,
    I16,
    I32,
    I64,
    F32,
    F64,
    /// Variable-length bytes.
    Bytes,
}

impl Physical {
    /// What `Codec::BitPacked` needs to know of values of this type, when it can take them
    /// (integers of up to four bytes).
    pub fn ints(self) -> Option<crate::codec::Ints> {
        let (width, signed) = match self {
            Physical::U8 => (1, false),
            Physical::I8 => (1, true),
            Physical::U16 => (2, false),
            Physical::I16 => (2, true),
            Physical::U32 => (4, false),
            Physical::I32 => (4, true),
            _ => return None,
        };
        Some(crate::codec::Ints { width, signed })
    }

    /// Bytes per value, or 0 for variable-length bytes.
    pub fn width(self) -> usize {
        match self {
            Physical::U8 | Physical::I8 => 1,
            Physical::U16 | Physical::I16 => 2,
            Physical::U32 | Physical::I32 | Physical::F32 => 4,
            Physical::U64 | Physical::I64 | Physical::F64 => 8,
            Physical::Bytes => 0,
        }
    }
}

impl DataType {
    /// The primitive layout that holds values of this type.
    pub fn physical(&self) -> Physical {
        match self {
            DataType::UInt8 | DataType::Bool => Physical::U8,
            DataType::UInt16 | DataType::Date => Physical::U16,
            DataType::UInt32 | DataType::DateTime | DataType::IPv4 => Physical::U32,
            DataType::UInt64 => Physical::U64,
            DataType::Int8 => Physical::I8,
            DataType::Int16 => Physical::I16,
            DataType::Int32 => Physical::I32,
            DataType::Int64 | DataType::DateTime64(_) | DataType::Decimal { .. } => Physical::I64,
            DataType::Float32 => Physical::F32,
            DataType::Float64 => Physical::F64,
            DataType::String | DataType::FixedString(_) | DataType::Uuid | DataType::Array(_) | DataType::AggregateFunction { .. } => Physical::Bytes,
            DataType::SimpleAggregateFunction { arg, .. } => arg.physical(),
            DataType::Enum(e) if e.wide => Physical::I16,
            DataType::Enum(_) => Physical::I8,
            DataType::Nullable(t) | DataType::LowCardinality(t) => t.physical(),
        }
    }

    /// True for the integer types (not Bool, dates or times).
    pub fn is_integer(&self) -> bool {
        self.is_unsigned() || self.is_signed()
    }

    /// True for UInt8..UInt64.
    pub fn is_unsigned(&self) -> bool {
        matches!(self, DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64)
    }

    /// True for Int8..Int64.
    pub fn is_signed(&self) -> bool {
        matches!(self, DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64)
    }

    /// True for Float32 and Float64.
    pub fn is_float(&self) -> bool {
        matches!(self, DataType::Float32 | DataType::Float64)
    }

    /// True for Decimal.
    pub fn is_decimal(&self) -> bool {
        matches!(self, DataType::Decimal { .. })
    }

    /// True for types arithmetic works on (integers, floats, decimals and Bool).
    pub fn is_numeric(&self) -> bool {
        self.is_integer() || self.is_float() || self.is_decimal() || *self == DataType::Bool
    }

    /// True for Date, DateTime and DateTime64.
    pub fn is_temporal(&self) -> bool {
        matches!(self, DataType::Date | DataType::DateTime | DataType::DateTime64(_))
    }

    /// True for String and FixedString: types whose values are text-like bytes.
    pub fn is_string(&self) -> bool {
        matches!(self, DataType::String | DataType::FixedString(_))
    }

    /// True for `Nullable(T)`.
    pub fn is_nullable(&self) -> bool {
        matches!(self, DataType::Nullable(_))
    }

    /// `T` for `Nullable(T)`, else the type itself.
    pub fn non_null(&self) -> &DataType {
        match self {
            DataType::Nullable(t) => t,
            t => t,
        }
    }

    /// `Nullable(self)`, unless it already is (or cannot be: arrays are never nullable).
    pub fn nullable(self) -> DataType {
        match self {
            t @ (DataType::Nullable(_) | DataType::Array(_)) => t,
            t => DataType::Nullable(Box::new(t)),
        }
    }

    /// The type values have in memory: `LowCardinality` and `SimpleAggregateFunction`
    /// removed at any depth, since they only change how a column is stored and merged.
    pub fn value_type(&self) -> DataType {
        match self {
            DataType::LowCardinality(t) | DataType::SimpleAggregateFunction { arg: t, .. } => t.value_type(),
            DataType::Nullable(t) => DataType::Nullable(Box::new(t.value_type())),
            DataType::Array(t) => DataType::Array(Box::new(t.value_type())),
            t => t.clone(),
        }
    }

    /// True when the column should always be dictionary-encoded on disk.
    pub fn is_low_cardinality(&self) -> bool {
        matches!(self, DataType::LowCardinality(_))
    }

    /// The element type of `Array(T)`.
    pub fn element(&self) -> Option<&DataType> {
        match self {
            DataType::Array(t) => Some(t),
            _ => None,
        }
    }

    /// Width in bits of an integer type (Bool counts as 8).
    pub fn int_bits(&self) -> u32 {
        match self.physical() {
            Physical::U8 | Physical::I8 => 8,
            Physical::U16 | Physical::I16 => 16,
            Physical::U32 | Physical::I32 | Physical::F32 => 32,
            _ => 64,
        }
    }

    /// Parses a ClickHouse type name such as `UInt64`, `DateTime64(3)`,
    /// `Nullable(Enum8('a' = 1))` or `Array(Decimal(10, 2))` (names are case-insensitive).
    pub fn from_name(text: &str) -> Result<DataType> {
        let mut parser = TypeParser { text, pos: 0 };
        let ty = parser.parse_type()?;
        parser.skip_space();
        if parser.pos != text.len() {
            return Err(StorageError::UnknownType(text.to_string()));
        }
        Ok(ty)
    }
}

/// A recursive-descent reader of type names.
struct TypeParser<'a> {
    text: &'a str,
    pos: usize,
}

/// One argument inside a type's parentheses.
enum TypeArg {
    Number(i64),
    Member(String, i64),
    Type(DataType),
}

impl TypeParser<'_> {
    fn error(&self) -> StorageError {
        StorageError::UnknownType(self.text.to_string())
    }

    fn skip_space(&mut self) {
        while self.text[self.pos..].starts_with(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_space();
        if self.text[self.pos..].starts_with(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn word(&mut self) -> Option<&str> {
        self.skip_space();
        let start = self.pos;
        let len = self.text[start..].find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(self.text.len() - start);
        self.pos += len;
        (len > 0).then(|| &self.text[start..start + len])
    }

    fn number(&mut self) -> Option<i64> {
        self.skip_space();
        let start = self.pos;
        let neg = self.eat('-');
        let digits = self.text[self.pos..].find(|c: char| !c.is_ascii_digit()).unwrap_or(self.text.len() - self.pos);
        if digits == 0 {
            self.pos = start;
            return None;
        }
        let n: i64 = self.text[self.pos..self.pos + digits].parse().ok()?;
        self.pos += digits;
        Some(if neg { -n } else { n })
    }

    /// A single-quoted string with `''` or `\'` escapes.
    fn quoted(&mut self) -> Result<String> {
        let mut out = String::new();
        let mut chars = self.text[self.pos..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, e)) = chars.next() {
                        out.push(e);
                    }
                }
                '\'' if self.text[self.pos + i + 1..].starts_with('\'') => {
                    chars.next();
                    out.push('\'');
                }
                '\'' => {
                    self.pos += i + 1;
                    return Ok(out);
                }
                c => out.push(c),
            }
        }
        Err(self.error())
    }

    fn parse_args(&mut self) -> Result<Vec<TypeArg>> {
        let mut args = Vec::new();
        if !self.eat('(') {
            return Ok(args);
        }
        if self.eat(')') {
            return Ok(args);
        }
        loop {
            self.skip_space();
            let arg = if self.eat('\'') {
                let name = self.quoted()?;
                if !self.eat('=') {
                    return Err(self.error());
                }
                TypeArg::Member(name, self.number().ok_or_else(|| self.error())?)
            } else if let Some(n) = self.number() {
                TypeArg::Number(n)
            } else {
                TypeArg::Type(self.parse_type()?)
            };
            args.push(arg);
            if self.eat(')') {
                return Ok(args);
            }
            if !self.eat(',') {
                return Err(self.error());
            }
        }
    }

    fn parse_type(&mut self) -> Result<DataType> {
        let name = match self.word() {
            Some(w) => w.to_ascii_lowercase(),
            None => return Err(self.error()),
        };
        if name == "aggregatefunction" || name == "simpleaggregatefunction" {
            return self.parse_aggregate_type(name == "simpleaggregatefunction");
        }
        // Multi-word SQL spellings.
        if name == "double" {
            let save = self.pos;
            if self.word().map(|w| w.eq_ignore_ascii_case("precision")) != Some(true) {
                self.pos = save;
            }
        }
        let args = self.parse_args()?;
        let bad = || StorageError::UnknownType(self.text.to_string());
        let inner = |args: Vec<TypeArg>| match <[TypeArg; 1]>::try_from(args) {
            Ok([TypeArg::Type(t)]) => Ok(Box::new(t)),
            _ => Err(bad()),
        };
        let numbers: Option<Vec<i64>> = args.iter().map(|a| if let TypeArg::Number(n) = a { Some(*n) } else { None }).collect();
        let numbers = numbers.unwrap_or_default();
        Ok(match (name.as_str(), numbers.as_slice()) {
            ("nullable", _) => DataType::Nullable(inner(args)?).nullable_checked().ok_or_else(bad)?,
            ("lowcardinality", _) => DataType::LowCardinality(inner(args)?),
            ("array", _) => DataType::Array(inner(args)?),
            ("enum8" | "enum16", _) if !args.is_empty() => {
                let members = args
                    .into_iter()
                    .map(|a| match a {
                        TypeArg::Member(name, n) => i16::try_from(n).map(|n| (name, n)).map_err(|_| bad()),
                        _ => Err(bad()),
                    })
                    .collect::<Result<Vec<_>>>()?;
                DataType::Enum(Arc::new(EnumType::new(name == "enum16", members)?))
            }
            _ if numbers.len() != args.len() => return Err(bad()),
            ("uint8", []) => DataType::UInt8,
            ("uint16", []) => DataType::UInt16,
            ("uint32", []) => DataType::UInt32,
            ("uint64", []) => DataType::UInt64,
            ("int8", []) | ("tinyint", []) => DataType::Int8,
            ("int16", []) | ("smallint", []) => DataType::Int16,
            ("int32", []) | ("int", []) | ("integer", []) => DataType::Int32,
            ("int64", []) | ("bigint", []) => DataType::Int64,
            ("float32", []) | ("real", []) | ("float", []) => DataType::Float32,
            ("float64", []) | ("double", []) => DataType::Float64,
            ("string", []) | ("text", []) | ("varchar", _) | ("char", _) => DataType::String,
            ("fixedstring", [n]) if (1..=1 << 20).contains(n) => DataType::FixedString(*n as u32),
            ("date", []) => DataType::Date,
            ("datetime", []) | ("timestamp", []) => DataType::DateTime,
            ("datetime64", []) => DataType::DateTime64(3),
            ("datetime64", [p]) if (0..=9).contains(p) => DataType::DateTime64(*p as u8),
            ("bool", []) | ("boolean", []) => DataType::Bool,
            ("uuid", []) => DataType::Uuid,
            ("ipv4", []) => DataType::IPv4,
            ("decimal" | "numeric", [p]) => decimal(*p, 0)?,
            ("decimal" | "numeric", [p, s]) => decimal(*p, *s)?,
            ("decimal32", [s]) => decimal(9, *s)?,
            ("decimal64", [s]) => decimal(18, *s)?,
            _ => return Err(bad()),
        })
    }
}

impl TypeParser<'_> {
    /// The parameters of a parametric aggregate function, `0.5, 0.9)` after its `(`, each
    /// number in its shortest form, so that `quantile(0.90)` and `quantile(0.9)` name one type.
    fn function_params(&mut self) -> Result<Vec<String>> {
        let rest = &self.text[self.pos..];
        let end = rest.find(')').ok_or_else(|| self.error())?;
        let params = rest[..end].split(',').map(|p| p.trim().parse::<f64>().map(|x| x.to_string()).map_err(|_| self.error())).collect::<Result<Vec<_>>>()?;
        self.pos += end + 1;
        Ok(params)
    }

    /// `AggregateFunction(func, T...)` / `SimpleAggregateFunction(func, T)`; `func` may carry
    /// parameters (`quantile(0.9)`).
    fn parse_aggregate_type(&mut self, simple: bool) -> Result<DataType> {
        if !self.eat('(') {
            return Err(self.error());
        }
        let mut func = match self.word() {
            Some(w) => w.to_string(),
            None => return Err(self.error()),
        };
        if self.eat('(') {
            func = format!("{func}({})", self.function_params()?.join(", "));
        }
        let mut args = Vec::new();
        while self.eat(',') {
            args.push(self.parse_type()?);
        }
        if !self.eat(')') {
            return Err(self.error());
        }
        Ok(match (simple, <[DataType; 1]>::try_from(args)) {
            (true, Ok([arg])) if ["sum", "min", "max", "any", "anylast"].contains(&func.to_ascii_lowercase().as_str()) => {
                DataType::SimpleAggregateFunction { func, arg: Box::new(arg) }
            }
            (true, _) => return Err(StorageError::UnknownType(format!("{}: SimpleAggregateFunction takes sum, min, max, any or anyLast and one type", self.text))),
            (false, Ok(arg)) => DataType::AggregateFunction { func, args: arg.to_vec() },
            (false, Err(args)) => DataType::AggregateFunction { func, args },
        })
    }
}

impl DataType {
    /// `Some(self)` when a `Nullable` wraps a type that may be nullable (not an array, not
    /// another Nullable), as ClickHouse requires.
    fn nullable_checked(self) -> Option<DataType> {
        match &self {
            DataType::Nullable(t) if matches!(**t, DataType::Nullable(_) | DataType::Array(_)) => None,
            _ => Some(self),
        }
    }
}

fn decimal(precision: i64, scale: i64) -> Result<DataType> {
    if !(1..=MAX_DECIMAL_PRECISION as i64).contains(&precision) {
        return Err(StorageError::UnknownType(format!(
            "Decimal({precision}, {scale}): precision must be between 1 and {MAX_DECIMAL_PRECISION} (Decimal128 and wider are not supported)"
        )));
    }
    if !(0..=precision).contains(&scale) {
        return Err(StorageError::UnknownType(format!("Decimal({precision}, {scale}): scale must be between 0 and the precision")));
    }
    Ok(DataType::Decimal { precision: precision as u8, scale: scale as u8 })
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataType::DateTime64(p) => write!(f, "DateTime64({p})"),
            DataType::Decimal { precision, scale } => write!(f, "Decimal({precision}, {scale})"),
            DataType::FixedString(n) => write!(f, "FixedString({n})"),
            DataType::Uuid => f.write_str("UUID"),
            DataType::Enum(e) => {
                f.write_str(if e.wide { "Enum16(" } else { "Enum8(" })?;
                for (i, (name, n)) in e.members.iter().enumerate() {
                    let sep = if i == 0 { "" } else { ", " };
                    write!(f, "{sep}'{}' = {n}", name.replace('\\', "\\\\").replace('\'', "\\'"))?;
                }
                f.write_str(")")
            }
            DataType::Nullable(t) => write!(f, "Nullable({t})"),
            DataType::LowCardinality(t) => write!(f, "LowCardinality({t})"),
            DataType::Array(t) => write!(f, "Array({t})"),
            DataType::AggregateFunction { func, args } => {
                write!(f, "AggregateFunction({func}")?;
                args.iter().try_for_each(|a| write!(f, ", {a}"))?;
                f.write_str(")")
            }
            DataType::SimpleAggregateFunction { func, arg } => write!(f, "SimpleAggregateFunction({func}, {arg})"),
            other => write!(f, "{other:?}"),
        }
    }
}

impl Serialize for DataType {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for DataType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<DataType, D::Error> {
        let name = String::deserialize(d)?;
        DataType::from_name(&name).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for name in [
            "UInt8",
            "DateTime64(3)",
            "Bool",
            "String",
            "Decimal(10, 2)",
            "FixedString(4)",
            "UUID",
            "IPv4",
            "Enum8('neg' = -3, 'a' = 1, 'it\\'s' = 2)",
            "Nullable(Int32)",
            "LowCardinality(Nullable(String))",
            "Array(Array(UInt32))",
            "AggregateFunction(uniqExact, String)",
            "AggregateFunction(count)",
            "AggregateFunction(quantile(0.9), Float64)",
            "AggregateFunction(quantiles(0.5, 0.9), UInt32)",
            "AggregateFunction(groupArray(3), Nullable(String))",
            "SimpleAggregateFunction(sum, UInt64)",
        ] {
            assert_eq!(DataType::from_name(name).unwrap().to_string(), name);
        }
        assert_eq!(DataType::from_name("Enum16('x' = 1000, 'y' = -1000)").unwrap().to_string(), "Enum16('y' = -1000, 'x' = 1000)");
        assert_eq!(DataType::from_name("double precision").unwrap(), DataType::Float64);
        assert_eq!(DataType::from_name("AggregateFunction(quantiles( 0.50 ,1e-1), Int8)").unwrap().to_string(), "AggregateFunction(quantiles(0.5, 0.1), Int8)");
        for bad in ["Decimal(40, 2)", "Enum8('a' = 300)", "Enum8('a' = 1, 'a' = 2)", "Nullable(Array(UInt8))", "Nullable(Nullable(UInt8))", "UInt8(", "Foo", "AggregateFunction(quantile(high), Float64)", "AggregateFunction(quantile(0.9, Float64)"] {
            assert!(DataType::from_name(bad).is_err(), "{bad}");
        }
    }
}
