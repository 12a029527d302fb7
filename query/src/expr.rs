//! Bound scalar expressions and their vectorized evaluation over blocks.
//!
//! Binding resolves names and types once; `Expr::eval` then computes a whole column per call.
//! Type rules follow ClickHouse: `UInt8 + UInt8` is `UInt16`, `-` on unsigned gives signed,
//! `/` is always `Float64`, comparisons and logic give `UInt8`.

use std::sync::Arc;

use granary_storage::column::{ColumnData, StringData};
use granary_storage::{time, Block, Column, ColumnRef, DataType, Value};

use crate::error::{bail, Result};
use crate::kernels::{self, cast, compare, CmpOp, Domain};
use crate::like::LikePattern;

/// A scalar function or operator.
#[derive(Debug, Clone, PartialEq)]
pub enum Func {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Neg,
    Cmp(CmpOp),
    And,
    Or,
    Not,
    /// `x [NOT] IN (constants)`; the list is converted to the argument's type at bind time.
    InList { negated: bool, list: Arc<Column> },
    /// `x [NOT] LIKE 'pattern'`.
    Like { negated: bool, pattern: Arc<LikePattern> },
    /// Conversion to the expression's type.
    Cast,
    ToDate,
    ToYYYYMM,
    ToYYYYMMDD,
    ToStartOfHour,
    ToHour,
}

/// A bound expression: names resolved, types known.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// Column `index` of the input block.
    Column { index: usize, ty: DataType },
    /// A constant.
    Literal { value: Value, ty: DataType },
    /// A function applied to arguments.
    Call { func: Func, args: Vec<Expr>, ty: DataType },
}

impl Expr {
    /// The type of the values this expression produces.
    pub fn ty(&self) -> DataType {
        match self {
            Expr::Column { ty, .. } | Expr::Literal { ty, .. } | Expr::Call { ty, .. } => *ty,
        }
    }

    /// A call with its result type computed from the arguments' types.
    pub fn call(func: Func, args: Vec<Expr>) -> Result<Expr> {
        let ty = result_type(&func, &args)?;
        let args = coerce_args(&func, args)?;
        Ok(Expr::Call { func, args, ty })
    }

    /// A conversion to `ty` (no-op when already of that type).
    pub fn cast(self, ty: DataType) -> Result<Expr> {
        if self.ty() == ty {
            return Ok(self);
        }
        if let Expr::Literal { value, ty: from } = &self {
            let col = cast(&Column::from_values(*from, std::slice::from_ref(value))?, ty)?;
            return Ok(Expr::Literal { value: col.value(0), ty });
        }
        Ok(Expr::Call { func: Func::Cast, args: vec![self], ty })
    }

    /// Evaluates the expression over a block into a column of `block.rows()` rows.
    pub fn eval(&self, block: &Block) -> Result<ColumnRef> {
        match self {
            Expr::Column { index, .. } => Ok(block.columns[*index].clone()),
            Expr::Literal { value, ty } => Ok(Arc::new(broadcast(value, *ty, block.rows())?)),
            Expr::Call { func, args, ty } => {
                let mut col = eval_call(func, args, *ty, block)?;
                // Kernels producing masks tag them UInt8; a Bool-typed call keeps its type.
                if col.ty != *ty && col.ty.physical() == ty.physical() {
                    col.ty = *ty;
                }
                Ok(Arc::new(col))
            }
        }
    }

    /// Evaluates an expression that reads no columns (a constant) to a value.
    pub fn eval_const(&self) -> Result<Value> {
        Ok(self.eval(&Block::with_rows(Vec::new(), 1))?.value(0))
    }

    /// Calls `f` on every column index the expression reads.
    pub fn visit_columns(&self, f: &mut impl FnMut(usize)) {
        match self {
            Expr::Column { index, .. } => f(*index),
            Expr::Literal { .. } => {}
            Expr::Call { args, .. } => args.iter().for_each(|a| a.visit_columns(f)),
        }
    }

    /// Rewrites column references through `map` (old index → new index).
    pub fn remap_columns(&mut self, map: &impl Fn(usize) -> usize) {
        match self {
            Expr::Column { index, .. } => *index = map(*index),
            Expr::Literal { .. } => {}
            Expr::Call { args, .. } => args.iter_mut().for_each(|a| a.remap_columns(map)),
        }
    }
}

/// A column of `rows` copies of a value.
pub fn broadcast(value: &Value, ty: DataType, rows: usize) -> Result<Column> {
    let one = Column::from_values(ty, std::slice::from_ref(value))?;
    Ok(one.take(&vec![0u32; rows]))
}

/// The type integers of `bits` width and signedness have.
fn int_type(signed: bool, bits: u32) -> DataType {
    match (signed, bits) {
        (false, 8) => DataType::UInt8,
        (false, 16) => DataType::UInt16,
        (false, 32) => DataType::UInt32,
        (false, _) => DataType::UInt64,
        (true, 8) => DataType::Int8,
        (true, 16) => DataType::Int16,
        (true, 32) => DataType::Int32,
        (true, _) => DataType::Int64,
    }
}

fn numeric(ty: DataType) -> DataType {
    if ty == DataType::Bool {
        DataType::UInt8
    } else {
        ty
    }
}

/// ClickHouse's result type for arithmetic on two numbers.
fn arithmetic_type(func: &Func, a: DataType, b: DataType) -> Result<DataType> {
    let (a, b) = (numeric(a), numeric(b));
    if !a.is_numeric() || !b.is_numeric() {
        bail!(DatatypeMismatch, "illegal types {a} and {b} of arguments of {}", op_name(func));
    }
    let float = a.is_float() || b.is_float();
    let bits = a.int_bits().max(b.int_bits());
    let next = (bits * 2).min(64);
    Ok(match func {
        Func::Div => DataType::Float64,
        _ if float => DataType::Float64,
        Func::Add | Func::Mul => int_type(a.is_signed() || b.is_signed(), next),
        Func::Sub => int_type(true, next),
        Func::Mod => int_type(a.is_signed(), b.int_bits()),
        _ => unreachable!("not an arithmetic operator"),
    })
}

fn op_name(func: &Func) -> &'static str {
    match func {
        Func::Add => "plus",
        Func::Sub => "minus",
        Func::Mul => "multiply",
        Func::Div => "divide",
        Func::Mod => "modulo",
        Func::Neg => "negate",
        Func::Cmp(_) => "comparison",
        Func::And => "and",
        Func::Or => "or",
        Func::Not => "not",
        Func::InList { .. } => "in",
        Func::Like { .. } => "like",
        Func::Cast => "CAST",
        Func::ToDate => "toDate",
        Func::ToYYYYMM => "toYYYYMM",
        Func::ToYYYYMMDD => "toYYYYMMDD",
        Func::ToStartOfHour => "toStartOfHour",
        Func::ToHour => "toHour",
    }
}

/// The common type two comparable operands are converted to before comparing, if any.
/// Numbers compare across widths without conversion; a string literal adopts the other side's type.
pub fn comparison_type(a: &Expr, b: &Expr) -> Result<Option<DataType>> {
    let (ta, tb) = (a.ty(), b.ty());
    Ok(match (ta, tb) {
        _ if ta == tb => None,
        (DataType::String, t) if matches!(a, Expr::Literal { .. }) => Some(t),
        (t, DataType::String) if matches!(b, Expr::Literal { .. }) => Some(t),
        (DataType::String, _) | (_, DataType::String) => bail!(DatatypeMismatch, "cannot compare {ta} with {tb}"),
        (x, y) if x.is_temporal() && y.is_temporal() => Some(wider_temporal(x, y)),
        _ => None,
    })
}

fn wider_temporal(a: DataType, b: DataType) -> DataType {
    let rank = |t: DataType| match t {
        DataType::Date => 0,
        DataType::DateTime => 1,
        DataType::DateTime64(p) => 2 + p as i32,
        _ => -1,
    };
    if rank(a) >= rank(b) {
        a
    } else {
        b
    }
}

fn result_type(func: &Func, args: &[Expr]) -> Result<DataType> {
    let arg = |i: usize| args[i].ty();
    Ok(match func {
        Func::Add | Func::Sub if arg(0).is_temporal() && numeric(arg(1)).is_integer() => arg(0),
        Func::Add if arg(1).is_temporal() && numeric(arg(0)).is_integer() => arg(1),
        Func::Add | Func::Sub | Func::Mul | Func::Div | Func::Mod => arithmetic_type(func, arg(0), arg(1))?,
        Func::Neg => match numeric(arg(0)) {
            t if t.is_float() => t,
            t if t.is_signed() => t,
            t if t.is_unsigned() => int_type(true, (t.int_bits() * 2).min(64)),
            t => bail!(DatatypeMismatch, "illegal type {t} of argument of negate"),
        },
        Func::Cmp(_) => {
            comparison_type(&args[0], &args[1])?;
            if (arg(0) == DataType::String) != (arg(1) == DataType::String) && !args.iter().any(|a| matches!(a, Expr::Literal { .. })) {
                bail!(DatatypeMismatch, "cannot compare {} with {}", arg(0), arg(1));
            }
            DataType::UInt8
        }
        Func::And | Func::Or | Func::Not => {
            for a in args {
                if !numeric(a.ty()).is_integer() {
                    bail!(DatatypeMismatch, "illegal type {} of argument of logical function", a.ty());
                }
            }
            // As in ClickHouse: logic over Bool stays Bool, anything else gives UInt8.
            if args.iter().all(|a| a.ty() == DataType::Bool) {
                DataType::Bool
            } else {
                DataType::UInt8
            }
        }
        Func::InList { .. } => DataType::UInt8,
        Func::Like { .. } => {
            if arg(0) != DataType::String {
                bail!(DatatypeMismatch, "illegal type {} of argument of LIKE", arg(0));
            }
            DataType::UInt8
        }
        Func::Cast => unreachable!("casts carry their type"),
        Func::ToDate => match arg(0) {
            t if t.is_temporal() || t.is_integer() || t == DataType::String => DataType::Date,
            t => bail!(DatatypeMismatch, "illegal type {t} of argument of toDate"),
        },
        Func::ToYYYYMM | Func::ToYYYYMMDD => match arg(0) {
            t if t.is_temporal() => DataType::UInt32,
            t => bail!(DatatypeMismatch, "illegal type {t} of argument of {}", op_name(func)),
        },
        Func::ToStartOfHour => match arg(0) {
            DataType::DateTime | DataType::DateTime64(_) => DataType::DateTime,
            t => bail!(DatatypeMismatch, "illegal type {t} of argument of toStartOfHour"),
        },
        Func::ToHour => match arg(0) {
            DataType::DateTime | DataType::DateTime64(_) => DataType::UInt8,
            t => bail!(DatatypeMismatch, "illegal type {t} of argument of toHour"),
        },
    })
}

/// Converts arguments where the operator needs a common type (comparisons of a string literal
/// with a date, of a Date with a DateTime).
fn coerce_args(func: &Func, mut args: Vec<Expr>) -> Result<Vec<Expr>> {
    if let Func::Cmp(_) = func {
        if let Some(ty) = comparison_type(&args[0], &args[1])? {
            let b = args.pop().expect("two arguments").cast(ty)?;
            let a = args.pop().expect("two arguments").cast(ty)?;
            args = vec![a, b];
        }
    }
    Ok(args)
}

fn mask_column(mask: Vec<u8>) -> Column {
    Column::new(DataType::UInt8, ColumnData::U8(mask))
}

fn eval_call(func: &Func, args: &[Expr], ty: DataType, block: &Block) -> Result<Column> {
    // Comparisons with a constant skip materializing the constant.
    if let (Func::Cmp(op), [lhs, Expr::Literal { value, .. }]) = (func, args) {
        return Ok(mask_column(compare_scalar(lhs.eval(block)?.as_ref(), value, *op)?));
    }
    if let (Func::Cmp(op), [Expr::Literal { value, .. }, rhs]) = (func, args) {
        return Ok(mask_column(compare_scalar(rhs.eval(block)?.as_ref(), value, op.flip())?));
    }
    let cols = args.iter().map(|a| a.eval(block)).collect::<Result<Vec<_>>>()?;
    let col = |i: usize| cols[i].as_ref();
    Ok(match func {
        Func::Add | Func::Sub | Func::Mul | Func::Div | Func::Mod => arithmetic(func, col(0), col(1), ty)?,
        Func::Neg => match Domain::of(ty) {
            Domain::Float => kernels::from_f64(ty, kernels::to_f64(col(0))?.into_iter().map(|x| -x).collect()),
            _ => kernels::from_i64(ty, kernels::to_i64(col(0))?.into_iter().map(|x| x.wrapping_neg()).collect()),
        },
        Func::Cmp(op) => mask_column(compare(col(0), col(1), *op)?),
        Func::And | Func::Or => {
            let (a, b) = (truth(col(0))?, truth(col(1))?);
            let and = matches!(func, Func::And);
            mask_column(a.iter().zip(&b).map(|(x, y)| if and { x & y } else { x | y }).collect())
        }
        Func::Not => mask_column(truth(col(0))?.into_iter().map(|x| x ^ 1).collect()),
        Func::InList { negated, list } => mask_column(in_list(col(0), list, *negated)?),
        Func::Like { negated, pattern } => {
            let ColumnData::Bytes(s) = &col(0).data else { bail!(DatatypeMismatch, "LIKE needs a string") };
            mask_column(s.iter().map(|v| (pattern.matches(v) != *negated) as u8).collect())
        }
        Func::Cast => cast(col(0), ty)?,
        Func::ToDate => to_date(col(0))?,
        Func::ToYYYYMM => {
            let days = to_date(col(0))?;
            kernels::from_u64(ty, kernels::to_i64(&days)?.into_iter().map(|d| time::yyyymm(d) as u64).collect())
        }
        Func::ToYYYYMMDD => {
            let days = to_date(col(0))?;
            kernels::from_u64(ty, kernels::to_i64(&days)?.into_iter().map(|d| time::yyyymmdd(d) as u64).collect())
        }
        Func::ToStartOfHour => {
            let secs = kernels::to_i64(&cast(col(0), DataType::DateTime)?)?;
            kernels::from_i64(ty, secs.into_iter().map(|s| s - s.rem_euclid(3600)).collect())
        }
        Func::ToHour => {
            let secs = kernels::to_i64(&cast(col(0), DataType::DateTime)?)?;
            kernels::from_i64(ty, secs.into_iter().map(|s| s.rem_euclid(86_400) / 3600).collect())
        }
    })
}

/// 0/1 per row for a column used as a condition.
fn truth(col: &Column) -> Result<Vec<u8>> {
    Ok(match &col.data {
        ColumnData::U8(v) => v.iter().map(|&x| (x != 0) as u8).collect(),
        _ => kernels::to_u64(col)?.into_iter().map(|x| (x != 0) as u8).collect(),
    })
}

fn arithmetic(func: &Func, a: &Column, b: &Column, ty: DataType) -> Result<Column> {
    if ty.is_temporal() {
        // Date ± days, DateTime ± seconds.
        let (t, n, sign) = if a.ty.is_temporal() { (a, b, if *func == Func::Sub { -1 } else { 1 }) } else { (b, a, 1) };
        let (t, n) = (kernels::to_i64(t)?, kernels::to_i64(n)?);
        return Ok(kernels::from_i64(ty, t.iter().zip(&n).map(|(x, y)| x + sign * y).collect()));
    }
    macro_rules! lanes {
        ($conv:ident, $from:ident, $f:expr) => {{
            let (x, y) = (kernels::$conv(a)?, kernels::$conv(b)?);
            kernels::$from(ty, x.iter().zip(&y).map(|(&p, &q)| $f(p, q)).collect())
        }};
    }
    Ok(match (func, Domain::of(ty)) {
        (Func::Div, _) => lanes!(to_f64, from_f64, |p: f64, q: f64| p / q),
        (Func::Mod, Domain::Float) => lanes!(to_f64, from_f64, |p: f64, q: f64| p % q),
        (Func::Mod, _) => {
            let (x, y) = (kernels::to_i64(a)?, kernels::to_i64(b)?);
            if y.contains(&0) {
                bail!(DivisionByZero, "division by zero");
            }
            if Domain::of(a.ty) == Domain::UInt && Domain::of(b.ty) == Domain::UInt {
                lanes!(to_u64, from_u64, |p: u64, q: u64| p % q)
            } else {
                kernels::from_i64(ty, x.iter().zip(&y).map(|(&p, &q)| p.wrapping_rem(q)).collect())
            }
        }
        (Func::Add, Domain::Float) => lanes!(to_f64, from_f64, |p: f64, q: f64| p + q),
        (Func::Sub, Domain::Float) => lanes!(to_f64, from_f64, |p: f64, q: f64| p - q),
        (Func::Mul, Domain::Float) => lanes!(to_f64, from_f64, |p: f64, q: f64| p * q),
        (Func::Add, Domain::UInt) => lanes!(to_u64, from_u64, |p: u64, q: u64| p.wrapping_add(q)),
        (Func::Mul, Domain::UInt) => lanes!(to_u64, from_u64, |p: u64, q: u64| p.wrapping_mul(q)),
        (Func::Add, _) => lanes!(to_i64, from_i64, |p: i64, q: i64| p.wrapping_add(q)),
        (Func::Sub, _) => lanes!(to_i64, from_i64, |p: i64, q: i64| p.wrapping_sub(q)),
        (Func::Mul, _) => lanes!(to_i64, from_i64, |p: i64, q: i64| p.wrapping_mul(q)),
        _ => bail!(Internal, "bad arithmetic operator {func:?} for {ty}"),
    })
}

/// Compares a column with a constant (already converted to a comparable kind).
fn compare_scalar(col: &Column, value: &Value, op: CmpOp) -> Result<Vec<u8>> {
    macro_rules! lanes {
        ($v:expr, $s:expr) => {{
            let s = $s;
            match op {
                CmpOp::Eq => $v.iter().map(|x| (*x == s) as u8).collect(),
                CmpOp::NotEq => $v.iter().map(|x| (*x != s) as u8).collect(),
                CmpOp::Lt => $v.iter().map(|x| (*x < s) as u8).collect(),
                CmpOp::LtEq => $v.iter().map(|x| (*x <= s) as u8).collect(),
                CmpOp::Gt => $v.iter().map(|x| (*x > s) as u8).collect(),
                CmpOp::GtEq => $v.iter().map(|x| (*x >= s) as u8).collect(),
            }
        }};
    }
    Ok(match (&col.data, value) {
        (ColumnData::Bytes(s), Value::String(v)) => s.iter().map(|x| op.test(x.cmp(v.as_bytes())) as u8).collect(),
        (ColumnData::Bytes(_), _) | (_, Value::String(_)) => bail!(DatatypeMismatch, "cannot compare {} with {value:?}", col.ty),
        (ColumnData::U32(v), Value::UInt(s)) if *s <= u32::MAX as u64 => lanes!(v, *s as u32),
        (ColumnData::U16(v), Value::UInt(s)) if *s <= u16::MAX as u64 => lanes!(v, *s as u16),
        (ColumnData::U16(v), Value::Int(s)) if (0..=u16::MAX as i64).contains(s) => lanes!(v, *s as u16),
        (ColumnData::U32(v), Value::Int(s)) if (0..=u32::MAX as i64).contains(s) => lanes!(v, *s as u32),
        (ColumnData::U64(v), Value::UInt(s)) => lanes!(v, *s),
        (ColumnData::I64(v), Value::Int(s)) => lanes!(v, *s),
        (ColumnData::F64(v), s) => lanes!(v, s.as_f64().unwrap_or(f64::NAN)),
        (_, Value::Float(s)) => lanes!(kernels::to_f64(col)?, *s),
        _ if Domain::of(col.ty) == Domain::Float => lanes!(kernels::to_f64(col)?, value.as_f64().unwrap_or(f64::NAN)),
        (_, Value::UInt(s)) if Domain::of(col.ty) == Domain::UInt => lanes!(kernels::to_u64(col)?, *s),
        _ => {
            let s: i128 = match value {
                Value::UInt(u) => *u as i128,
                Value::Int(i) => *i as i128,
                Value::Bool(b) => *b as i128,
                other => bail!(DatatypeMismatch, "cannot compare {} with {other:?}", col.ty),
            };
            let wide: Vec<i128> = if Domain::of(col.ty) == Domain::UInt {
                kernels::to_u64(col)?.into_iter().map(|x| x as i128).collect()
            } else {
                kernels::to_i64(col)?.into_iter().map(|x| x as i128).collect()
            };
            lanes!(wide, s)
        }
    })
}

fn in_list(col: &Column, list: &Column, negated: bool) -> Result<Vec<u8>> {
    let hit: Vec<u8> = match (&col.data, &list.data) {
        (ColumnData::Bytes(s), ColumnData::Bytes(l)) => {
            let set: hashbrown::HashSet<&[u8]> = l.iter().collect();
            s.iter().map(|v| set.contains(v) as u8).collect()
        }
        _ if Domain::of(col.ty) == Domain::Float || Domain::of(list.ty) == Domain::Float => {
            let set: Vec<f64> = kernels::to_f64(list)?;
            kernels::to_f64(col)?.iter().map(|v| set.contains(v) as u8).collect()
        }
        _ => {
            let wide = |c: &Column| -> Result<Vec<i128>> {
                Ok(if Domain::of(c.ty) == Domain::UInt { kernels::to_u64(c)?.into_iter().map(|x| x as i128).collect() } else { kernels::to_i64(c)?.into_iter().map(|x| x as i128).collect() })
            };
            let set: hashbrown::HashSet<i128> = wide(list)?.into_iter().collect();
            wide(col)?.iter().map(|v| set.contains(v) as u8).collect()
        }
    };
    Ok(if negated { hit.into_iter().map(|h| h ^ 1).collect() } else { hit })
}

fn to_date(col: &Column) -> Result<Column> {
    Ok(match col.ty {
        DataType::Date => col.clone(),
        t if t.is_temporal() => cast(col, DataType::Date)?,
        DataType::String => {
            let ColumnData::Bytes(s) = &col.data else { unreachable!() };
            let mut days = Vec::with_capacity(s.len());
            for v in s.iter() {
                let text = std::str::from_utf8(v).unwrap_or_default();
                let d = time::parse_date(text)
                    .or_else(|| time::parse_datetime(text, 0).map(|t| t.div_euclid(86_400)))
                    .ok_or_else(|| crate::error::QueryError::new(crate::error::ErrorKind::InvalidText, format!("cannot parse '{text}' as Date")))?;
                days.push(d);
            }
            kernels::from_i64(DataType::Date, days)
        }
        _ => {
            // Small numbers are day numbers, larger ones Unix timestamps (as in ClickHouse).
            let v = kernels::to_i64(col)?;
            kernels::from_i64(DataType::Date, v.into_iter().map(|x| if x < 65_536 { x } else { x.div_euclid(86_400) }).collect())
        }
    })
}

/// A typed string column from texts (helper for functions producing strings).
pub fn string_column(values: impl Iterator<Item = impl AsRef<[u8]>>) -> Column {
    let mut s = StringData::default();
    s.offsets.push(0);
    for v in values {
        s.push(v.as_ref());
    }
    Column::new(DataType::String, ColumnData::Bytes(s))
}
