//! Logical column types, as ClickHouse names them, and how each is laid out in memory.
//!
//! A `DataType` is what a user declares (`DateTime64(3)`); its `Physical` is the primitive
//! vector that holds it (`i64`). Every operator dispatches on the physical type, so a new
//! logical type that reuses an existing layout costs no new kernels.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Result, StorageError};

/// A column's declared type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
            DataType::UInt32 | DataType::DateTime => Physical::U32,
            DataType::UInt64 => Physical::U64,
            DataType::Int8 => Physical::I8,
            DataType::Int16 => Physical::I16,
            DataType::Int32 => Physical::I32,
            DataType::Int64 | DataType::DateTime64(_) => Physical::I64,
            DataType::Float32 => Physical::F32,
            DataType::Float64 => Physical::F64,
            DataType::String => Physical::Bytes,
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

    /// True for types arithmetic works on (integers, floats and Bool).
    pub fn is_numeric(&self) -> bool {
        self.is_integer() || self.is_float() || *self == DataType::Bool
    }

    /// True for Date, DateTime and DateTime64.
    pub fn is_temporal(&self) -> bool {
        matches!(self, DataType::Date | DataType::DateTime | DataType::DateTime64(_))
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

    /// Parses a ClickHouse type name such as `UInt64` or `DateTime64(3)`.
    pub fn parse(name: &str, args: &[u64]) -> Result<DataType> {
        let ty = match (name.to_ascii_lowercase().as_str(), args) {
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
            ("string", []) | ("text", []) | ("varchar", _) => DataType::String,
            ("date", []) => DataType::Date,
            ("datetime", []) | ("timestamp", []) => DataType::DateTime,
            ("datetime64", []) => DataType::DateTime64(3),
            ("datetime64", [p]) if *p <= 9 => DataType::DateTime64(*p as u8),
            ("bool", []) | ("boolean", []) => DataType::Bool,
            _ => {
                return Err(StorageError::UnknownType(if args.is_empty() {
                    name.to_string()
                } else {
                    format!("{name}({})", args.iter().map(u64::to_string).collect::<Vec<_>>().join(", "))
                }))
            }
        };
        Ok(ty)
    }

    /// Parses the text form written by `Display` (`DateTime64(3)`, `UInt8`).
    pub fn from_name(text: &str) -> Result<DataType> {
        let text = text.trim();
        match text.find('(') {
            Some(open) if text.ends_with(')') => {
                let args = text[open + 1..text.len() - 1]
                    .split(',')
                    .map(|a| a.trim().parse::<u64>())
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .map_err(|_| StorageError::UnknownType(text.to_string()))?;
                DataType::parse(&text[..open], &args)
            }
            _ => DataType::parse(text, &[]),
        }
    }
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataType::DateTime64(p) => write!(f, "DateTime64({p})"),
            other => write!(f, "{other:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for ty in [DataType::UInt8, DataType::DateTime64(3), DataType::Bool, DataType::String] {
            assert_eq!(DataType::from_name(&ty.to_string()).unwrap(), ty);
        }
        assert!(DataType::from_name("Decimal(10, 2)").is_err());
    }
}
