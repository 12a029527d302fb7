//! Scalar functions beyond the core operators of `expr`: dates and times, strings, math and
//! conversions, conditionals and NULL handling, JSON, `arraySort`; and the Postgres spellings of some of
//! them (`EXTRACT`, `CASE`, `SUBSTRING … FROM … FOR`, `TRIM(… FROM …)`, `POSITION(… IN …)`).
//!
//! Binding turns a call into an `Expr`: many functions are rewrites onto existing operators
//! and casts (`addHours`, `toInt32`, `CASE`), the others become `Func::Scalar` calls whose
//! constant arguments (a format, a regular expression, a JSON path) are read and checked once,
//! at bind time. Evaluation follows `expr`: each call computes a whole column with a typed
//! loop over its arguments' slices. Names and type rules are ClickHouse's; times are UTC.

pub mod arrays;
pub mod conditional;
pub mod dates;
pub mod json;
pub mod math;
pub mod pg;
pub mod strings;
mod syntax;

use granary_storage::{Column, ColumnData, ColumnRef, DataType, StringData, Value};
use sqlparser::ast;

use crate::error::{bail, ErrorKind, QueryError, Result};
use crate::expr::{Expr, Func};

pub use syntax::bind_syntax;

/// What binding a function may need from the statement around it.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    /// The Unix time `now()` reports, fixed for the statement.
    pub now: i64,
    /// The session's catalog: current database and user, settings, `pg_catalog` tables.
    pub catalog: &'a dyn crate::catalog::Catalog,
}

/// Binds one argument expression in the caller's scope.
pub type BindArg<'a> = dyn FnMut(&ast::Expr) -> Result<Expr> + 'a;

/// A scalar function evaluated by one of this module's kernels.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    /// Dates and times.
    Date(dates::DateFn),
    /// Strings.
    Str(strings::StringFn),
    /// Math.
    Math(math::MathFn),
    /// Conditionals and NULL handling.
    Cond(conditional::CondFn),
    /// JSON.
    Json(json::JsonFn),
    /// Arrays.
    Array(arrays::ArrayFn),
    /// Postgres catalog functions.
    Pg(pg::PgFn),
}

impl Scalar {
    /// True for functions that look at NULL arguments themselves (see `Func::sees_nulls`).
    pub fn sees_nulls(&self) -> bool {
        match self {
            Scalar::Cond(_) => true,
            Scalar::Math(f) => f.sees_nulls(),
            Scalar::Date(f) => f.sees_nulls(),
            Scalar::Pg(f) => f.sees_nulls(),
            Scalar::Str(_) | Scalar::Json(_) | Scalar::Array(_) => false,
        }
    }

    /// The ClickHouse name of the function, for error messages.
    pub fn name(&self) -> &'static str {
        match self {
            Scalar::Date(f) => f.name(),
            Scalar::Str(f) => f.name(),
            Scalar::Math(f) => f.name(),
            Scalar::Cond(f) => f.name(),
            Scalar::Json(f) => f.name(),
            Scalar::Array(f) => f.name(),
            Scalar::Pg(f) => f.name(),
        }
    }

    /// The result type for arguments of these types (non-Nullable ones unless the function
    /// sees NULLs).
    pub fn result_type(&self, args: &[DataType]) -> Result<DataType> {
        match self {
            Scalar::Date(f) => f.result_type(args),
            Scalar::Str(f) => f.result_type(args),
            Scalar::Math(f) => f.result_type(args),
            Scalar::Cond(f) => f.result_type(args),
            Scalar::Json(f) => f.result_type(args),
            Scalar::Array(f) => f.result_type(args),
            Scalar::Pg(f) => f.result_type(args),
        }
    }

    /// Computes the function over whole argument columns into a column of type `ty`.
    /// `ignore` marks rows whose result will be NULL anyway (an argument was NULL): a
    /// function that can fail on a value (a parse, a division) does not fail on them.
    pub fn eval(&self, args: &[ColumnRef], ty: &DataType, ignore: Option<&[u8]>) -> Result<Column> {
        match self {
            Scalar::Date(f) => f.eval(args, ty, ignore),
            Scalar::Str(f) => f.eval(args, ty),
            Scalar::Math(f) => f.eval(args, ty, ignore),
            Scalar::Cond(f) => f.eval(args, ty),
            Scalar::Json(f) => f.eval(args, ty),
            Scalar::Array(f) => f.eval(args, ty),
            Scalar::Pg(f) => f.eval(args, ty),
        }
    }
}

/// Binds a call of the scalar function `name` (lower case) with arguments `args`.
pub fn bind(name: &str, args: &[ast::Expr], ctx: &Context, bind_arg: &mut BindArg) -> Result<Expr> {
    if let Some(e) = dates::bind_special(name, args, bind_arg)? {
        return Ok(e);
    }
    let bound = args.iter().map(&mut *bind_arg).collect::<Result<Vec<_>>>()?;
    if name == "finalizeaggregation" {
        arity(name, &bound, 1..=1)?;
        return Expr::call(Func::FinalizeAggregation, bound);
    }
    for family in [dates::bind, strings::bind, math::bind, conditional::bind, json::bind, arrays::bind, pg::bind] {
        if let Some(e) = family(name, &bound, ctx)? {
            return Ok(e);
        }
    }
    bail!(UndefinedFunction, "function {name} does not exist")
}

/// A call of a `Scalar` function with its result type worked out.
fn call(f: impl Into<Scalar>, args: Vec<Expr>) -> Result<Expr> {
    Expr::call(Func::Scalar(f.into()), args)
}

macro_rules! into_scalar {
    ($($variant:ident($t:ty)),*) => {$(
        impl From<$t> for Scalar {
            fn from(f: $t) -> Scalar {
                Scalar::$variant(f)
            }
        }
    )*};
}
into_scalar!(Date(dates::DateFn), Str(strings::StringFn), Math(math::MathFn), Cond(conditional::CondFn), Json(json::JsonFn), Array(arrays::ArrayFn), Pg(pg::PgFn));

/// Fails unless a function got `n` arguments.
fn arity(name: &str, args: &[Expr], n: std::ops::RangeInclusive<usize>) -> Result<()> {
    if !n.contains(&args.len()) {
        let want = if n.start() == n.end() { n.start().to_string() } else { format!("{} to {}", n.start(), n.end()) };
        bail!(UndefinedFunction, "function {name} takes {want} argument(s), got {}", args.len());
    }
    Ok(())
}

/// The value of an argument that must be a constant (it reads no columns).
fn constant(name: &str, e: &Expr) -> Result<Value> {
    let mut reads = false;
    e.visit_columns(&mut |_| reads = true);
    if reads {
        bail!(InvalidParameter, "an argument of {name} must be a constant");
    }
    match e {
        Expr::Literal { value, .. } => Ok(value.clone()),
        other => other.eval_const(),
    }
}

/// A constant string argument.
fn const_str(name: &str, e: &Expr) -> Result<String> {
    match constant(name, e)? {
        Value::String(s) => Ok(s),
        other => bail!(DatatypeMismatch, "an argument of {name} must be a constant string, got {other:?}"),
    }
}

/// A constant integer argument.
fn const_int(name: &str, e: &Expr) -> Result<i64> {
    match constant(name, e)? {
        Value::Int(i) => Ok(i),
        Value::UInt(u) => i64::try_from(u).map_err(|_| QueryError::new(ErrorKind::InvalidParameter, format!("an argument of {name} is too large"))),
        other => bail!(DatatypeMismatch, "an argument of {name} must be a constant integer, got {other:?}"),
    }
}

/// The strings of a String (or FixedString) column.
fn strings<'c>(name: &str, col: &'c Column) -> Result<&'c StringData> {
    match &col.data {
        ColumnData::Bytes(s) if col.ty.non_null().is_string() => Ok(s),
        _ => bail!(DatatypeMismatch, "illegal type {} of argument of function {name}", col.ty),
    }
}

/// Fails unless every argument type is String or FixedString.
fn want_strings(name: &str, args: &[DataType]) -> Result<()> {
    match args.iter().find(|t| !t.non_null().is_string()) {
        Some(t) => bail!(DatatypeMismatch, "illegal type {t} of argument of function {name}"),
        None => Ok(()),
    }
}

/// A String column built row by row by `f`, which appends row `i`'s bytes to the buffer.
fn build_strings(rows: usize, mut f: impl FnMut(usize, &mut Vec<u8>)) -> Column {
    let mut out = StringData::with_capacity(rows);
    for i in 0..rows {
        f(i, &mut out.bytes);
        out.offsets.push(out.bytes.len() as u64);
    }
    Column::new(DataType::String, ColumnData::Bytes(out))
}

/// A UInt8 column of 0/1 flags.
fn flags(v: Vec<u8>) -> Column {
    Column::new(DataType::UInt8, ColumnData::U8(v))
}

/// True for rows marked in `ignore`.
#[inline]
fn ignored(ignore: Option<&[u8]>, i: usize) -> bool {
    ignore.is_some_and(|n| n[i] != 0)
}
