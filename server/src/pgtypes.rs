//! Granary and Postgres types: OID mapping, DataRow encoding (text and binary) and Bind
//! parameter decoding (text and binary).
use bytes::{BufMut, BytesMut};
use pgwire::api::portal::Format;
use pgwire::api::results::{FieldFormat, FieldInfo};
use pgwire::api::Type;
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::data::DataRow;

use granary_engine::time;
use granary_engine::{Block, DataType, Field, Value};

const PG_EPOCH_DAYS: i64 = 10_957; // days from 1970-01-01 to 2000-01-01
const PG_EPOCH_MICROS: i64 = PG_EPOCH_DAYS * 86_400 * 1_000_000;

/// An ErrorResponse with a SQLSTATE and message.
pub fn pg_error(code: &str, msg: impl Into<String>) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new("ERROR".into(), code.into(), msg.into())))
}

/// The Postgres type a Granary type is sent as (the one `pg_catalog` lists for it).
pub fn pg_type(dt: &DataType) -> Type {
    Type::from_oid(granary_engine::pg_type_oid(dt)).unwrap_or(Type::TEXT)
}

/// Like `Format::format_for`, but a short format-code list cannot panic.
pub fn format_for(format: &Format, idx: usize) -> FieldFormat {
    match format {
        Format::Individual(codes) => FieldFormat::from(codes.get(idx).copied().unwrap_or(0)),
        other => other.format_for(idx),
    }
}

/// RowDescription entries; `format` is None for Describe(statement) (always text).
pub fn field_infos(fields: &[Field], format: Option<&Format>) -> Vec<FieldInfo> {
    fields.iter().enumerate().map(|(i, f)| {
        let fmt = format.map_or(FieldFormat::Text, |fm| format_for(fm, i));
        FieldInfo::new(f.name.clone(), None, None, pg_type(&f.ty), fmt)
    }).collect()
}

// ---------------------------------------------------------------- results

/// Encodes every row of a block as DataRows, each column in its requested format.
pub fn encode_block(types: &[&DataType], formats: &[FieldFormat], block: &Block,
                    out: &mut Vec<DataRow>) -> PgWireResult<()> {
    let (mut buf, mut text) = (BytesMut::new(), String::new());
    for row in 0..block.rows() {
        for (c, col) in block.columns.iter().enumerate() {
            let v = col.value(row);
            if matches!(v, Value::Null) { buf.put_i32(-1); continue; }
            let len_pos = buf.len();
            buf.put_i32(0);
            if formats[c] == FieldFormat::Binary {
                write_binary(types[c], &v, &mut buf)?;
            } else {
                text.clear();
                write_text(types[c], &v, &mut text);
                buf.put_slice(text.as_bytes());
            }
            let len = (buf.len() - len_pos - 4) as i32;
            buf[len_pos..len_pos + 4].copy_from_slice(&len.to_be_bytes());
        }
        out.push(DataRow::new(buf.split(), block.columns.len() as i16));
    }
    Ok(())
}

/// A value in Postgres's text output format (what DataRows and COPY TO carry).
pub fn write_text(ty: &DataType, v: &Value, out: &mut String) {
    match (ty.non_null(), v) {
        (DataType::Array(element), Value::Array(items)) => {
            // Postgres array text: `{1,2}`, `{"a","b \"q\""}`, NULL unquoted.
            out.push('{');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                match item {
                    Value::Null => out.push_str("NULL"),
                    item => {
                        let mut text = String::new();
                        write_text(element, item, &mut text);
                        out.push('"');
                        out.push_str(&text.replace('\\', "\\\\").replace('"', "\\\""));
                        out.push('"');
                    }
                }
            }
            out.push('}');
        }
        (_, Value::Bool(b)) => out.push_str(if *b { "t" } else { "f" }),
        (_, Value::Float(f)) if f.is_nan() => out.push_str("NaN"),
        (_, Value::Float(f)) if f.is_infinite() => out.push_str(if *f > 0.0 { "Infinity" } else { "-Infinity" }),
        (DataType::Float32, Value::Float(f)) => out.push_str(&(*f as f32).to_string()),
        (DataType::DateTime64(p), Value::Int(t)) if *p > 6 => match ticks_to_micros(*t, *p) {
            Some(us) => DataType::DateTime64(6).format_value(&Value::Int(us), out),
            None => ty.format_value(v, out),
        },
        _ => ty.format_value(v, out),
    }
}

fn write_binary(ty: &DataType, v: &Value, buf: &mut BytesMut) -> PgWireResult<()> {
    let range = || pg_error("22003", format!("value {v:?} out of range for {}", pg_type(ty).name()));
    match ty.non_null() {
        DataType::UInt8 | DataType::Int8 | DataType::Int16 => buf.put_i16(i16::try_from(as_int(v)?).map_err(|_| range())?),
        DataType::UInt16 | DataType::Int32 => buf.put_i32(i32::try_from(as_int(v)?).map_err(|_| range())?),
        DataType::UInt32 | DataType::UInt64 | DataType::Int64 => buf.put_i64(as_int(v)?),
        DataType::Float32 => buf.put_f32(as_float(v)? as f32),
        DataType::Float64 => buf.put_f64(as_float(v)?),
        DataType::Bool => buf.put_u8(u8::from(as_int(v)? != 0)),
        DataType::Date => buf.put_i32(i32::try_from(as_int(v)? - PG_EPOCH_DAYS).map_err(|_| range())?),
        DataType::DateTime => buf.put_i64(as_int(v)?.checked_mul(1_000_000)
            .and_then(|us| us.checked_sub(PG_EPOCH_MICROS)).ok_or_else(range)?),
        DataType::DateTime64(p) => buf.put_i64(ticks_to_micros(as_int(v)?, *p)
            .and_then(|us| us.checked_sub(PG_EPOCH_MICROS)).ok_or_else(range)?),
        DataType::String | DataType::FixedString(_) => buf.put_slice(v.as_bytes()),
        DataType::IPv4 | DataType::Enum(_) => { let mut s = String::new(); write_text(ty, v, &mut s); buf.put_slice(s.as_bytes()) }
        DataType::Uuid => {
            // Stored with the halves swapped (see storage::text::parse_uuid); the wire wants
            // the bytes in text order.
            let b = v.as_bytes();
            buf.put_slice(b.get(8..16).unwrap_or_default());
            buf.put_slice(b.get(..8).unwrap_or_default());
        }
        DataType::Array(element) => {
            // One dimension: ndim, has-nulls, element OID, then length and lower bound 1.
            let Value::Array(items) = v else { return Err(pg_error("42804", format!("cannot encode {v:?} as an array"))) };
            buf.put_i32(i32::from(!items.is_empty()));
            buf.put_i32(i32::from(items.iter().any(|i| matches!(i, Value::Null))));
            buf.put_u32(pg_type(element).oid());
            if !items.is_empty() {
                buf.put_i32(i32::try_from(items.len()).map_err(|_| range())?);
                buf.put_i32(1);
            }
            for item in items {
                if matches!(item, Value::Null) {
                    buf.put_i32(-1);
                    continue;
                }
                let len_pos = buf.len();
                buf.put_i32(0);
                write_binary(element, item, buf)?;
                let len = (buf.len() - len_pos - 4) as i32;
                buf[len_pos..len_pos + 4].copy_from_slice(&len.to_be_bytes());
            }
        }
        DataType::Decimal { .. } => match v {
            Value::Decimal { raw, scale } => write_numeric(*raw, *scale, buf),
            other => return Err(pg_error("42804", format!("cannot encode {other:?} as numeric"))),
        },
        other => return Err(pg_error("0A000", format!("binary results of type {other} are not supported yet; ask for text format"))),
    }
    Ok(())
}

/// A decimal `raw / 10^scale` in Postgres's binary `numeric`: digit count, weight (the power
/// of 10000 of the first digit), sign, display scale, then base-10000 digits, most significant
/// first, without leading or trailing zero digits.
fn write_numeric(raw: i64, scale: u8, buf: &mut BytesMut) {
    let fraction_digits = (scale as u32).div_ceil(4);
    // Pad the fraction to whole base-10000 digits.
    let mut rest = raw.unsigned_abs() as u128 * 10u128.pow(fraction_digits * 4 - scale as u32);
    let mut digits = Vec::new(); // least significant first
    while rest > 0 {
        digits.push((rest % 10_000) as i16);
        rest /= 10_000;
    }
    let weight = digits.len() as i32 - fraction_digits as i32 - 1;
    let trailing_zeros = digits.iter().take_while(|&&d| d == 0).count();
    let digits = &digits[trailing_zeros..];
    buf.put_i16(digits.len() as i16);
    buf.put_i16(if digits.is_empty() { 0 } else { weight as i16 });
    buf.put_u16(if raw < 0 { 0x4000 } else { 0 });
    buf.put_u16(scale as u16);
    for &d in digits.iter().rev() {
        buf.put_i16(d);
    }
}

fn as_int(v: &Value) -> PgWireResult<i64> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::UInt(u) => i64::try_from(*u).map_err(|_| pg_error("22003", format!("{u} out of range for bigint"))),
        Value::Bool(b) => Ok(i64::from(*b)),
        other => Err(pg_error("42804", format!("cannot encode {other:?} as an integer"))),
    }
}

fn as_float(v: &Value) -> PgWireResult<f64> {
    match v {
        Value::Float(f) => Ok(*f),
        Value::Int(i) => Ok(*i as f64),
        Value::UInt(u) => Ok(*u as f64),
        other => Err(pg_error("42804", format!("cannot encode {other:?} as a float"))),
    }
}

fn ticks_to_micros(t: i64, p: u8) -> Option<i64> {
    if p <= 6 { t.checked_mul(10i64.pow(6 - p as u32)) } else { Some(t.div_euclid(10i64.pow(p as u32 - 6))) }
}

// ---------------------------------------------------------------- parameters

/// Decode one Bind parameter of pg type `ty`; `hint` is the engine's inferred type.
pub fn decode_param(idx: usize, ty: &Type, hint: Option<&DataType>, raw: Option<&[u8]>,
                    binary: bool) -> PgWireResult<Value> {
    let Some(raw) = raw else { return Ok(Value::Null) };
    let bad = || pg_error("22P02", format!("invalid {} value for parameter ${}", ty.name(), idx + 1));
    let v = if binary {
        fn be<const N: usize>(raw: &[u8]) -> Option<[u8; N]> { raw.try_into().ok() }
        match *ty {
            Type::INT2 => Value::Int(i16::from_be_bytes(be(raw).ok_or_else(bad)?).into()),
            Type::INT4 => Value::Int(i32::from_be_bytes(be(raw).ok_or_else(bad)?).into()),
            Type::INT8 => Value::Int(i64::from_be_bytes(be(raw).ok_or_else(bad)?)),
            Type::OID => Value::UInt(u32::from_be_bytes(be(raw).ok_or_else(bad)?).into()),
            Type::FLOAT4 => Value::Float(f32::from_be_bytes(be(raw).ok_or_else(bad)?).into()),
            Type::FLOAT8 => Value::Float(f64::from_be_bytes(be(raw).ok_or_else(bad)?)),
            Type::BOOL => Value::Bool(u8::from_be_bytes(be(raw).ok_or_else(bad)?) != 0),
            Type::DATE => Value::Int(i64::from(i32::from_be_bytes(be(raw).ok_or_else(bad)?)) + PG_EPOCH_DAYS),
            Type::TIMESTAMP | Type::TIMESTAMPTZ => {
                let us = i64::from_be_bytes(be(raw).ok_or_else(bad)?).checked_add(PG_EPOCH_MICROS).ok_or_else(bad)?;
                ts_value(us.div_euclid(1_000_000), us.rem_euclid(1_000_000) * 1000, hint)
            }
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN | Type::JSON =>
                Value::String(String::from_utf8(raw.to_vec()).map_err(|_| bad())?),
            _ => return Err(pg_error("0A000", format!("binary parameters of type {} are not supported", ty.name()))),
        }
    } else {
        let s = std::str::from_utf8(raw).map_err(|_| pg_error("22021", "invalid UTF-8 in parameter"))?;
        let t = s.trim();
        match *ty {
            Type::INT2 | Type::INT4 | Type::INT8 | Type::OID => match t.parse::<i64>() {
                Ok(i) => Value::Int(i),
                Err(_) => Value::UInt(t.parse().map_err(|_| bad())?),
            },
            Type::FLOAT4 | Type::FLOAT8 => Value::Float(t.parse().map_err(|_| bad())?),
            Type::BOOL => Value::Bool(match t.to_ascii_lowercase().as_str() {
                "t" | "true" | "y" | "yes" | "on" | "1" => true,
                "f" | "false" | "n" | "no" | "off" | "0" => false,
                _ => return Err(bad()),
            }),
            Type::DATE => Value::Int(parse_date(t).ok_or_else(bad)?),
            Type::TIMESTAMP | Type::TIMESTAMPTZ => {
                let (secs, nanos) = parse_timestamp(t).ok_or_else(bad)?;
                ts_value(secs, nanos, hint)
            }
            _ => Value::String(s.to_owned()),
        }
    };
    Ok(coerce(v, hint))
}

/// Adjust integer signedness / int->float to what the engine expects.
fn coerce(v: Value, hint: Option<&DataType>) -> Value {
    use DataType::*;
    match (v, hint) {
        (Value::Int(i), Some(UInt8 | UInt16 | UInt32 | UInt64)) if i >= 0 => Value::UInt(i as u64),
        (Value::UInt(u), Some(Int8 | Int16 | Int32 | Int64)) if u <= i64::MAX as u64 => Value::Int(u as i64),
        (Value::Int(i), Some(Float32 | Float64)) => Value::Float(i as f64),
        (v, _) => v,
    }
}

/// Timestamp as the engine wants it: DateTime64(p) ticks, otherwise DateTime seconds.
fn ts_value(secs: i64, nanos: i64, hint: Option<&DataType>) -> Value {
    match hint {
        Some(DataType::DateTime64(p)) if *p <= 9 => {
            let p = u32::from(*p);
            Value::Int(secs * 10i64.pow(p) + nanos / 10i64.pow(9 - p))
        }
        _ => Value::Int(secs),
    }
}

/// "YYYY-MM-DD" -> days since 1970-01-01.
fn parse_date(s: &str) -> Option<i64> {
    time::parse_date(s)
}

/// "YYYY-MM-DD[( |T)HH:MM:SS[.f]][Z]" -> (unix seconds, nanos).
fn parse_timestamp(s: &str) -> Option<(i64, i64)> {
    let ticks = time::parse_datetime(s, 9)?;
    Some((ticks.div_euclid(1_000_000_000), ticks.rem_euclid(1_000_000_000)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The binary numeric layout Postgres sends for the same values.
    #[test]
    fn decimals_in_binary_numeric() {
        let encode = |raw: i64, scale: u8| {
            let mut buf = BytesMut::new();
            write_numeric(raw, scale, &mut buf);
            buf.chunks(2).map(|c| i16::from_be_bytes([c[0], c[1]])).collect::<Vec<i16>>()
        };
        assert_eq!(encode(125, 1), vec![2, 0, 0, 1, 12, 5000]); // 12.5
        assert_eq!(encode(-5, 4), vec![1, -1, 0x4000, 4, 5]); // -0.0005
        assert_eq!(encode(0, 2), vec![0, 0, 0, 2]); // 0.00
        assert_eq!(encode(100_000_000, 0), vec![1, 2, 0, 0, 1]); // 100000000
        assert_eq!(encode(123_456_789, 3), vec![3, 1, 0, 3, 12, 3456, 7890]); // 123456.789
        assert_eq!(encode(1, 6), vec![1, -2, 0, 6, 100]); // 0.000001
    }
}
