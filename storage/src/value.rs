//! A single scalar value, used for literals, parameters, part min/max and results one cell at a time.
//!
//! Columns never hold `Value`s: this is the slow, convenient form for the edges of the system.
//! Temporal types travel as `Int` (days, seconds or ticks, see `DataType`).

use std::cmp::Ordering;
use std::fmt::Write;

use serde::{Deserialize, Serialize};

use crate::error::{Result, StorageError};
use crate::text;
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
    /// Raw bytes that are not text (a UUID's stored form); orders bytewise.
    Bytes(Vec<u8>),
    /// A Decimal: `raw` / 10^`scale`.
    Decimal { raw: i64, scale: u8 },
    /// The elements of an array.
    Array(Vec<Value>),
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
            (Array(a), Array(b)) => {
                a.iter().zip(b).map(|(x, y)| x.compare(y)).find(|o| o.is_ne()).unwrap_or_else(|| a.len().cmp(&b.len()))
            }
            (Array(_), _) => Ordering::Greater,
            (_, Array(_)) => Ordering::Less,
            (String(_) | Bytes(_), String(_) | Bytes(_)) => self.as_bytes().cmp(other.as_bytes()),
            (String(_) | Bytes(_), _) => Ordering::Greater,
            (_, String(_) | Bytes(_)) => Ordering::Less,
            (Decimal { raw: a, scale: sa }, Decimal { raw: b, scale: sb }) => {
                let p = |s: &u8| text::POW10[(*sa.max(sb) - s) as usize] as i128;
                (*a as i128 * p(sa)).cmp(&(*b as i128 * p(sb)))
            }
            (Decimal { raw, scale }, Int(_) | UInt(_) | Bool(_)) => (*raw as i128).cmp(&(other.as_i128() * text::POW10[*scale as usize] as i128)),
            (Int(_) | UInt(_) | Bool(_), Decimal { .. }) => other.compare(self).reverse(),
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
            Value::Decimal { raw, scale } => Some(*raw as f64 / text::POW10[*scale as usize] as f64),
            _ => None,
        }
    }

    /// An integer value widened to `i128` (0 for other kinds).
    fn as_i128(&self) -> i128 {
        match self {
            Value::Bool(b) => *b as i128,
            Value::UInt(v) => *v as i128,
            Value::Int(v) => *v as i128,
            _ => 0,
        }
    }

    /// The bytes of a string or bytes value (empty for other kinds).
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Value::String(s) => s.as_bytes(),
            Value::Bytes(b) => b,
            _ => &[],
        }
    }

    /// The value as a signed integer, for integer kinds (u64 wraps like ClickHouse casts).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Bool(b) => Some(*b as i64),
            Value::UInt(v) => Some(*v as i64),
            Value::Int(v) => Some(*v),
            Value::Decimal { raw, scale } => Some(raw / text::POW10[*scale as usize]),
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
            (DataType::Nullable(t) | DataType::LowCardinality(t), v) => t.format_value(v, out),
            (_, Value::Decimal { raw, scale }) => text::format_decimal(*raw, *scale, out),
            (DataType::IPv4, v) => text::format_ipv4(v.as_i64().unwrap_or(0) as u32, out),
            (DataType::Uuid, v) => text::format_uuid(v.as_bytes(), out),
            (DataType::Enum(e), v) => {
                let n = v.as_i64().unwrap_or(0);
                match e.name(n) {
                    Some(name) => out.push_str(name),
                    None => {
                        let _ = write!(out, "{n}");
                    }
                }
            }
            (DataType::Array(t), Value::Array(items)) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    if t.quoted_in_arrays() && *item != Value::Null {
                        let mut inner = String::new();
                        t.format_value(item, &mut inner);
                        text::quote_string(&inner, out);
                    } else {
                        t.format_value(item, out);
                    }
                }
                out.push(']');
            }
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
            (_, Value::Bytes(b)) => out.push_str(&String::from_utf8_lossy(b)),
            (_, Value::Array(items)) => out.push_str(&format!("{items:?}")),
        }
    }

    /// True for the types whose values ClickHouse quotes inside array text (`['a']`,
    /// `['2026-01-01']`), false for numbers.
    fn quoted_in_arrays(&self) -> bool {
        match self {
            DataType::Nullable(t) | DataType::LowCardinality(t) => t.quoted_in_arrays(),
            t => t.is_string() || t.is_temporal() || matches!(t, DataType::Uuid | DataType::IPv4 | DataType::Enum(_)),
        }
    }

    /// Parses the text form of a value of this type (what INSERT string literals and COPY carry).
    pub fn parse_text(&self, text: &str) -> Result<Value> {
        let bad = || StorageError::InvalidText { text: text.to_string(), ty: self.clone() };
        let t = text.trim();
        Ok(match self {
            DataType::String | DataType::FixedString(_) => Value::String(text.to_string()),
            DataType::Nullable(t) | DataType::LowCardinality(t) => t.parse_text(text)?,
            DataType::Decimal { precision, scale } => Value::Decimal { raw: text::parse_decimal(t, *precision, *scale).ok_or_else(bad)?, scale: *scale },
            DataType::Uuid => Value::Bytes(text::parse_uuid(t).ok_or_else(bad)?.to_vec()),
            DataType::IPv4 => Value::UInt(text::parse_ipv4(t).ok_or_else(bad)? as u64),
            DataType::Enum(e) => match (e.number(text), t.parse::<i64>()) {
                (Some(n), _) => Value::Int(n as i64),
                (None, Ok(n)) if e.name(n).is_some() => Value::Int(n),
                _ => return Err(StorageError::Invalid(format!("unknown element '{text}' for type {self}"))),
            },
            DataType::Array(element) => Value::Array(
                text::split_array(t).ok_or_else(bad)?.iter().map(|item| element.parse_text(item)).collect::<Result<_>>()?,
            ),
            DataType::Bool => match t.to_ascii_lowercase().as_str() {
                "true" | "t" | "1" | "yes" | "on" => Value::Bool(true),
                "false" | "f" | "0" | "no" | "off" => Value::Bool(false),
                _ => return Err(bad()),
            },
            DataType::Date => Value::Int(time::parse_date(t).ok_or_else(bad)?),
            // A bare integer is Unix seconds, as in ClickHouse.
            DataType::DateTime | DataType::DateTime64(_) if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) => {
                let p = if let DataType::DateTime64(p) = self { *p } else { 0 };
                let secs: i64 = t.parse().map_err(|_| bad())?;
                Value::Int(secs.checked_mul(10i64.pow(p as u32)).ok_or_else(bad)?)
            }
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
