//! JSON functions over String columns: `JSONHas`, `JSONExtractString`, `JSONExtractInt`,
//! `JSONExtractUInt`, `JSONExtractFloat`, `JSONExtractBool`, `JSONExtractRaw`. The path after
//! the document is constant keys and 1-based array indexes (negative count from the end). As in
//! ClickHouse, a missing path, a value of another kind or text that is not JSON gives the
//! type's default ('' or 0); numbers written as strings (`"12"`) still read as numbers, and
//! `JSONExtractString` of a number, boolean, array or object gives its JSON text.

use std::sync::Arc;

use granary_storage::{Column, ColumnRef, DataType, Value};
use serde_json::Value as Json;

use super::{build_strings, call, constant, flags, strings, want_strings, Context};
use crate::error::{bail, Result};
use crate::expr::Expr;
use crate::kernels;

/// One step of a path into a JSON document.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// An object member.
    Key(String),
    /// An array element, 1-based; negative counts from the end.
    Index(i64),
}

/// What a JSON function reads at its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extract {
    /// Whether the path exists.
    Has,
    String,
    Int,
    UInt,
    Float,
    Bool,
    /// The value's JSON text.
    Raw,
}

/// A JSON function with its constant path.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonFn {
    /// What to read.
    pub extract: Extract,
    /// Where to read it.
    pub path: Arc<Vec<Step>>,
}

impl JsonFn {
    /// The ClickHouse name of the function.
    pub fn name(&self) -> &'static str {
        match self.extract {
            Extract::Has => "JSONHas",
            Extract::String => "JSONExtractString",
            Extract::Int => "JSONExtractInt",
            Extract::UInt => "JSONExtractUInt",
            Extract::Float => "JSONExtractFloat",
            Extract::Bool => "JSONExtractBool",
            Extract::Raw => "JSONExtractRaw",
        }
    }

    /// The result type: UInt8 flags, Int64, UInt64, Float64 or String.
    pub fn result_type(&self, args: &[DataType]) -> Result<DataType> {
        want_strings(self.name(), args)?;
        Ok(match self.extract {
            Extract::Has | Extract::Bool => DataType::UInt8,
            Extract::Int => DataType::Int64,
            Extract::UInt => DataType::UInt64,
            Extract::Float => DataType::Float64,
            Extract::String | Extract::Raw => DataType::String,
        })
    }

    /// Parses each row's document and reads the path.
    pub fn eval(&self, args: &[ColumnRef], _ty: &DataType) -> Result<Column> {
        let docs = strings(self.name(), &args[0])?;
        let parsed: Vec<Option<Json>> = docs.iter().map(|d| serde_json::from_slice::<Json>(d).ok()).collect();
        let found: Vec<Option<&Json>> = parsed.iter().map(|d| d.as_ref().and_then(|d| walk(d, &self.path))).collect();
        Ok(match self.extract {
            Extract::Has => flags(found.iter().map(|v| v.is_some() as u8).collect()),
            Extract::Bool => flags(found.iter().map(|v| matches!(v, Some(Json::Bool(true))) || matches!(v, Some(Json::Number(_))) && as_i64(*v) != 0).map(u8::from).collect()),
            Extract::Int => kernels::from_i64(DataType::Int64, found.iter().map(|v| as_i64(*v)).collect()),
            Extract::UInt => kernels::from_u64(DataType::UInt64, found.iter().map(|v| as_i64(*v) as u64).collect()),
            Extract::Float => kernels::from_f64(DataType::Float64, found.iter().map(|v| as_f64(*v).unwrap_or(0.0)).collect()),
            // A string unescaped; any other value but null as its JSON text.
            Extract::String => build_strings(found.len(), |i, out| match found[i] {
                Some(Json::String(s)) => out.extend_from_slice(s.as_bytes()),
                Some(Json::Null) | None => {}
                Some(v) => out.extend_from_slice(v.to_string().as_bytes()),
            }),
            Extract::Raw => build_strings(found.len(), |i, out| {
                if let Some(v) = found[i] {
                    out.extend_from_slice(v.to_string().as_bytes());
                }
            }),
        })
    }
}

fn walk<'j>(mut v: &'j Json, path: &[Step]) -> Option<&'j Json> {
    for step in path {
        v = match (step, v) {
            (Step::Key(k), Json::Object(map)) => map.get(k)?,
            (Step::Index(i), Json::Array(items)) => {
                let n = items.len() as i64;
                let pos = if *i > 0 { i - 1 } else { n + i };
                if *i == 0 || !(0..n).contains(&pos) {
                    return None;
                }
                &items[pos as usize]
            }
            _ => return None,
        };
    }
    Some(v)
}

/// A number (or a string holding one) as a float; booleans and everything else are not numbers.
fn as_f64(v: Option<&Json>) -> Option<f64> {
    match v? {
        Json::Number(n) => n.as_f64(),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A number (or a string holding one) as an integer, truncated; 0 for anything else.
fn as_i64(v: Option<&Json>) -> i64 {
    match v {
        Some(Json::Number(n)) => n.as_i64().or_else(|| n.as_u64().map(|u| u as i64)).unwrap_or_else(|| n.as_f64().unwrap_or(0.0) as i64),
        Some(Json::String(s)) => s.trim().parse::<i64>().ok().or_else(|| s.trim().parse::<f64>().ok().map(|f| f as i64)).unwrap_or(0),
        _ => 0,
    }
}

/// Binds a JSON function by name, or returns `None` if `name` is not one.
pub fn bind(name: &str, args: &[Expr], _ctx: &Context) -> Result<Option<Expr>> {
    let extract = match name {
        "jsonhas" => Extract::Has,
        "jsonextractstring" => Extract::String,
        "jsonextractint" => Extract::Int,
        "jsonextractuint" => Extract::UInt,
        "jsonextractfloat" => Extract::Float,
        "jsonextractbool" => Extract::Bool,
        "jsonextractraw" => Extract::Raw,
        _ => return Ok(None),
    };
    let Some((doc, path)) = args.split_first() else { bail!(UndefinedFunction, "function {name} needs a JSON document argument") };
    let path = path
        .iter()
        .map(|p| match constant(name, p)? {
            Value::String(k) => Ok(Step::Key(k)),
            Value::Int(i) => Ok(Step::Index(i)),
            Value::UInt(u) => Ok(Step::Index(u as i64)),
            other => bail!(DatatypeMismatch, "a JSON path step must be a key or an index, got {other:?}"),
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Some(call(JsonFn { extract, path: Arc::new(path) }, vec![doc.clone()])?))
}
