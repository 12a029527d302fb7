//! A single scalar value, used for literals, parameters, part min/max and results one cell at a time.
//!
//! Columns never hold `Value`s: this is the slow, convenient form for the edges of the system.
//! Temporal types travel as `Int` (days, seconds or ticks, see `DataType`).

use std::cmp::Ordering;
use std::fmt::Write;

use serde::{Deserialize, Serialize};

use crate::error::{Result, StorageError};
use crate::time;
use crate::types::DataType;

/// One scalar value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Value {
    Null,
    Bool(bool),
    UInt(u64),
    Int(i64),
    Float(f64),
    String(String),
}

impl Value {
    /// Orders two values of comparable kinds (numbers with numbers, strings with strings).
    /// Numbers of different kinds compare by mathematical value; NaN sorts last.
    pub fn compare(&self, other: &Value) -> Ordering {
        use Value::*;
        match (self, other) {
            (Null, Null) => Ordering::Equal,
            (Null, _) => Ordering::Greater,
            (_, Null) => Ordering::Less,
            (String(a), String(b)) => a.as_bytes().cmp(b.as_bytes()),
            (String(_), _) => Ordering::Greater,
            (_, String(_)) => Ordering::Less,
            (UInt(a), UInt(b)) => a.cmp(b),
            (Int(a), Int(b)) => a.cmp(b),
            (UInt(a), Int(b)) => (*a as i128).cmp(&(*b as i128)),
            (Int(a), UInt(b)) => (*a as i128).cmp(&(*b as i128)),
            (a, b) => {
                let (x, y) = (a.as_f64().unwrap_or(0.0), b.as_f64().unwrap_or(0.0));
                x.partial_cmp(&y).unwrap_or_else(|| x.is_nan().cmp(&y.is_nan()))
            }
        }
    }

    /// The value as a float, for numeric kinds.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Bool(b) => Some(*b as u8 as f64),
            Value::UInt(v) => Some(*v as f64),
            Value::Int(v) => Some(*v as f64),
            Value::Float(v) => Some(*v),
            _ => None,
        }
    }

    /// The value as a signed integer, for integer kinds (u64 wraps like ClickHouse casts).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Bool(b) => Some(*b as i64),
            Value::UInt(v) => Some(*v as i64),
            Value::Int(v) => Some(*v),
            _ => None,
        }
    }
}

impl DataType {
    /// Writes a value of this type in the text form ClickHouse and Postgres clients read
    /// (`2026-01-01`, `2026-01-01 10:00:00.123`, `true`, `3.5`).
    pub fn format_value(&self, value: &Value, out: &mut String) {
        match (self, value) {
            (_, Value::Null) => out.push_str("NULL"),
            (DataType::Date, v) => time::format_date(v.as_i64().unwrap_or(0), out),
            (DataType::DateTime, v) => time::format_datetime(v.as_i64().unwrap_or(0), 0, out),
            (DataType::DateTime64(p), v) => time::format_datetime(v.as_i64().unwrap_or(0), *p, out),
            (_, Value::Bool(b)) => out.push_str(if *b { "true" } else { "false" }),
            (DataType::Bool, v) => out.push_str(if v.as_i64().unwrap_or(0) != 0 { "true" } else { "false" }),
            (_, Value::UInt(v)) => {
                let _ = write!(out, "{v}");
            }
            (_, Value::Int(v)) => {
                let _ = write!(out, "{v}");
            }
            (DataType::Float32, Value::Float(v)) => format_float(*v as f32 as f64, true, out),
            (_, Value::Float(v)) => format_float(*v, false, out),
            (_, Value::String(s)) => out.push_str(s),
        }
    }

    /// Parses the text form of a value of this type (what INSERT string literals and COPY carry).
    pub fn parse_text(&self, text: &str) -> Result<Value> {
        let bad = || StorageError::InvalidText { text: text.to_string(), ty: *self };
        let t = text.trim();
        Ok(match self {
            DataType::String => Value::String(text.to_string()),
            DataType::Bool => match t.to_ascii_lowercase().as_str() {
                "true" | "t" | "1" | "yes" | "on" => Value::Bool(true),
                "false" | "f" | "0" | "no" | "off" => Value::Bool(false),
                _ => return Err(bad()),
            },
            DataType::Date => Value::Int(time::parse_date(t).ok_or_else(bad)?),
            DataType::DateTime => Value::Int(time::parse_datetime(t, 0).ok_or_else(bad)?),
            DataType::DateTime64(p) => Value::Int(time::parse_datetime(t, *p).ok_or_else(bad)?),
            ty if ty.is_float() => Value::Float(match t.to_ascii_lowercase().as_str() {
                "inf" | "+inf" | "infinity" => f64::INFINITY,
                "-inf" | "-infinity" => f64::NEG_INFINITY,
                "nan" => f64::NAN,
                _ => t.parse().map_err(|_| bad())?,
            }),
            ty if ty.is_unsigned() => Value::UInt(t.parse().map_err(|_| bad())?),
            _ => Value::Int(t.parse().map_err(|_| bad())?),
        })
    }
}

/// Writes a float the way ClickHouse does: shortest round-trip digits, `inf`, `-inf`, `nan`,
/// and exponent notation for very large or small magnitudes.
pub fn format_float(v: f64, single: bool, out: &mut String) {
    if v.is_nan() {
        out.push_str("nan");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "inf" } else { "-inf" });
    } else {
        let abs = v.abs();
        let exp_form = abs != 0.0 && !(1e-7..1e21).contains(&abs);
        let _ = match (single, exp_form) {
            (true, false) => write!(out, "{}", v as f32),
            (true, true) => write!(out, "{:e}", v as f32),
            (false, false) => write!(out, "{v}"),
            (false, true) => write!(out, "{v:e}"),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_and_parse() {
        let mut s = String::new();
        DataType::Float64.format_value(&Value::Float(3.5), &mut s);
        assert_eq!(s, "3.5");
        let v = DataType::Date.parse_text("2026-01-01").unwrap();
        s.clear();
        DataType::Date.format_value(&v, &mut s);
        assert_eq!(s, "2026-01-01");
        assert!(DataType::UInt8.parse_text("x").is_err());
        assert_eq!(Value::UInt(3).compare(&Value::Int(-1)), Ordering::Greater);
    }
}
