//! Bound scalar expressions and their vectorized evaluation over blocks.
//!
//! Binding resolves names and types once; `Expr::eval` then computes a whole column per call.
//! Type rules follow ClickHouse: `UInt8 + UInt8` is `UInt16`, `-` on unsigned gives signed,
//! `/` is always `Float64`, comparisons and logic give `UInt8`.

use std::sync::Arc;

use granary_storage::column::{ColumnData, StringData};
use granary_storage::{array, text, time, Block, Column, ColumnRef, DataType, Value};

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
    /// `(a, b, …) [NOT] IN (SELECT …)`: the subquery's rows as composite keys (of the
    /// arguments' types, see `aggregate::append_key`).
    InTuples { negated: bool, keys: Arc<hashbrown::HashSet<Box<[u8]>>> },
    /// `x [NOT] LIKE 'pattern'`.
    Like { negated: bool, pattern: Arc<LikePattern> },
    /// Conversion to the expression's type.
    Cast,
    ToDate,
    ToYYYYMM,
    ToYYYYMMDD,
    ToStartOfHour,
    ToHour,
    /// `x IS NULL`.
    IsNull,
    /// `x IS NOT NULL`.
    IsNotNull,
    /// `length(s)` in bytes, or `length(arr)` in elements.
    Length,
    /// `arr[i]`, 1-based; out of range gives the element type's default.
    ArrayElement,
    /// `finalizeAggregation(state)`: the final value of each row's aggregate state.
    FinalizeAggregation,
    /// `t + INTERVAL n MONTH`: a date or time moved by calendar months.
    AddMonths,
    /// One of the functions of `crate::functions` (dates, strings, math, conditionals, JSON).
    Scalar(crate::functions::Scalar),
}

impl Func {
    /// True for functions that look at NULLs themselves; every other function gives NULL
    /// where any argument is NULL and computes on the other rows.
    fn sees_nulls(&self) -> bool {
        match self {
            Func::Scalar(f) => f.sees_nulls(),
            _ => matches!(self, Func::IsNull | Func::IsNotNull | Func::And | Func::Or | Func::Cast),
        }
    }
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
            Expr::Column { ty, .. } | Expr::Literal { ty, .. } | Expr::Call { ty, .. } => ty.clone(),
        }
    }

    /// A call with its result type computed from the arguments' types: NULL-propagating
    /// functions compute the type for the non-NULL arguments and make it Nullable when any
    /// argument is.
    pub fn call(func: Func, args: Vec<Expr>) -> Result<Expr> {
        if let Some(constant) = enum_mismatch(&func, &args) {
            return Ok(constant);
        }
        let mut ty = result_type(&func, &args)?;
        if !func.sees_nulls() && args.iter().any(|a| a.ty().is_nullable()) {
            ty = ty.nullable();
        }
        let args = coerce_args(&func, args)?;
        Ok(Expr::Call { func, args, ty })
    }

    /// A conversion to `ty` (no-op when already of that type). A Nullable value converted to
    /// a non-Nullable type stays Nullable.
    pub fn cast(self, ty: DataType) -> Result<Expr> {
        let ty = if self.ty().is_nullable() { ty.nullable() } else { ty }.value_type();
        if self.ty() == ty {
            return Ok(self);
        }
        if let Expr::Literal { value, ty: from } = &self {
            let col = cast(&Column::from_values(from.clone(), std::slice::from_ref(value))?, &ty)?;
            return Ok(Expr::Literal { value: col.value(0), ty });
        }
        Ok(Expr::Call { func: Func::Cast, args: vec![self], ty })
    }

    /// Evaluates the expression over a block into a column of `block.rows()` rows.
    pub fn eval(&self, block: &Block) -> Result<ColumnRef> {
        match self {
            Expr::Column { index, .. } => Ok(block.columns[*index].clone()),
            Expr::Literal { value, ty } => Ok(Arc::new(broadcast(value, ty.clone(), block.rows())?)),
            Expr::Call { func, args, ty } if ty.is_nullable() && !func.sees_nulls() => {
                // Compute on the values as if none were NULL, then mark the rows where any
                // argument is NULL.
                let cols = args.iter().map(|a| a.eval(block)).collect::<Result<Vec<_>>>()?;
                let mut nulls = vec![0u8; block.rows()];
                for c in &cols {
                    if let Some(n) = &c.nulls {
                        nulls.iter_mut().zip(n).for_each(|(x, y)| *x |= y);
                    }
                }
                let stripped = Block::with_rows(cols.iter().map(|c| Arc::new(c.strip_nulls())).collect(), block.rows());
                let col = match func {
                    Func::Scalar(f) => f.eval(&stripped.columns, ty.non_null(), Some(&nulls))?,
                    _ => {
                        let inner_args: Vec<Expr> = args.iter().enumerate().map(|(index, a)| Expr::Column { index, ty: a.ty().non_null().clone() }).collect();
                        eval_call(func, &inner_args, ty.non_null(), &stripped)?
                    }
                };
                Ok(Arc::new(Column::with_nulls(ty.clone(), col.data, Some(nulls))))
            }
            Expr::Call { func, args, ty } if crate::functions::conditional::needs_lazy(func, args) => Ok(Arc::new(crate::functions::conditional::eval_branches(args, ty, block)?)),
            Expr::Call { func, args, ty } => {
                let mut col = eval_call(func, args, ty, block)?;
                // Kernels producing masks tag them UInt8; a Bool-typed call keeps its type.
                if col.ty != *ty && col.ty.physical() == ty.physical() && col.nulls.is_some() == ty.is_nullable() {
                    col.ty = ty.clone();
                }
                Ok(Arc::new(col))
            }
        }
    }

    /// Evaluates an expression that reads no columns (a constant) to a value.
    pub fn eval_const(&self) -> Result<Value> {
        Ok(self.eval(&Block::with_rows(Vec::new(), 1))?.value(0))
    }

    /// The input column the expression is, when it is one by itself.
    pub fn column_index(&self) -> Option<usize> {
        match self {
            Expr::Column { index, .. } => Some(*index),
            _ => None,
        }
    }

    /// Calls `f` on every column index the expression reads.
    pub fn visit_columns(&self, f: &mut impl FnMut(usize)) {
        match self {
            Expr::Column { index, .. } => f(*index),
            Expr::Literal { .. } => {}
            Expr::Call { args, .. } => args.iter().for_each(|a| a.visit_columns(f)),
        }
    }

    /// The operands of nested ANDs, left to right, or the expression itself: the conditions
    /// a row must all pass.
    pub fn conjuncts(&self) -> Vec<&Expr> {
        match self {
            Expr::Call { func: Func::And, args, .. } => args.iter().flat_map(Expr::conjuncts).collect(),
            _ => vec![self],
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
pub(crate) fn int_type(signed: bool, bits: u32) -> DataType {
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

/// The scale of a Decimal, 0 for other numbers.
fn scale_of(ty: &DataType) -> u8 {
    match ty.non_null() {
        DataType::Decimal { scale, .. } => *scale,
        _ => 0,
    }
}

/// ClickHouse's result type for arithmetic on two numbers.
fn arithmetic_type(func: &Func, a: DataType, b: DataType) -> Result<DataType> {
    let (a, b) = (numeric(a), numeric(b));
    if !a.is_numeric() || !b.is_numeric() {
        bail!(DatatypeMismatch, "illegal types {a} and {b} of arguments of {}", op_name(func));
    }
    let float = a.is_float() || b.is_float();
    if !float && (a.is_decimal() || b.is_decimal()) {
        // Decimal arithmetic stays exact: sums at the larger scale, products add scales,
        // quotients keep the dividend's scale (the divisor's when the dividend is an integer).
        let precision = |t: &DataType| if let DataType::Decimal { precision, .. } = t { *precision } else { 0 };
        let (sa, sb) = (scale_of(&a), scale_of(&b));
        let both = a.is_decimal() && b.is_decimal();
        let (precision, scale) = match func {
            Func::Add | Func::Sub | Func::Mod => (precision(&a).max(precision(&b)), sa.max(sb)),
            Func::Mul if both => (18, sa + sb),
            Func::Mul => (precision(&a).max(precision(&b)), sa + sb),
            Func::Div if a.is_decimal() => (precision(&a).max(if both { 0 } else { precision(&b) }), sa),
            Func::Div => (precision(&b), sb),
            _ => unreachable!("not an arithmetic operator"),
        };
        if scale > granary_storage::types::MAX_DECIMAL_PRECISION {
            bail!(DatatypeMismatch, "the result of {} of {a} and {b} needs a scale of {scale}, more than 18", op_name(func));
        }
        return Ok(DataType::Decimal { precision: precision.max(scale).max(1), scale });
    }
    let bits = a.int_bits().max(b.int_bits());
    let next = (bits * 2).min(64);
    Ok(match func {
        Func::Div => DataType::Float64,
        _ if float => DataType::Float64,
        Func::Add | Func::Mul => int_type(a.is_signed() || b.is_signed(), next),
        Func::Sub => int_type(true, next),
        // The divisor's width, doubled when a signed dividend meets an unsigned divisor.
        Func::Mod => int_type(a.is_signed(), if a.is_signed() && b.is_unsigned() { (b.int_bits() * 2).min(64) } else { b.int_bits() }),
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
        Func::InList { .. } | Func::InTuples { .. } => "in",
        Func::Like { .. } => "like",
        Func::Cast => "CAST",
        Func::ToDate => "toDate",
        Func::ToYYYYMM => "toYYYYMM",
        Func::ToYYYYMMDD => "toYYYYMMDD",
        Func::ToStartOfHour => "toStartOfHour",
        Func::ToHour => "toHour",
        Func::IsNull => "isNull",
        Func::IsNotNull => "isNotNull",
        Func::Length => "length",
        Func::ArrayElement => "arrayElement",
        Func::FinalizeAggregation => "finalizeAggregation",
        Func::AddMonths => "addMonths",
        Func::Scalar(f) => f.name(),
    }
}

/// The common type two comparable operands are converted to before comparing, if any.
/// Numbers compare across widths without conversion; a string literal adopts the other side's type.
/// Decimals compare at a common scale; a float literal a Decimal cannot hold exactly makes
/// both sides Float64.
pub fn comparison_type(a: &Expr, b: &Expr) -> Result<Option<DataType>> {
    let (ta, tb) = (a.ty().non_null().clone(), b.ty().non_null().clone());
    let literal = |e: &Expr| matches!(e, Expr::Literal { .. });
    Ok(match (&ta, &tb) {
        _ if ta == tb => None,
        (DataType::String, t) if literal(a) => Some(t.clone()),
        (t, DataType::String) if literal(b) => Some(t.clone()),
        (x, y) if x.is_string() && y.is_string() => None,
        (DataType::String, _) | (_, DataType::String) => bail!(DatatypeMismatch, "cannot compare {ta} with {tb}"),
        (x, y) if x.is_temporal() && y.is_temporal() => Some(wider_temporal(x, y)),
        (x, y) if x.is_decimal() || y.is_decimal() => {
            let (d, other, other_expr) = if x.is_decimal() { (x, y, b) } else { (y, x, a) };
            if other.is_float() {
                let exact = matches!(other_expr, Expr::Literal { value, .. } if decimal_holds(d, value));
                Some(if exact { d.clone() } else { DataType::Float64 })
            } else {
                Some(DataType::Decimal { precision: 18, scale: scale_of(x).max(scale_of(y)) })
            }
        }
        _ => None,
    })
}

/// True when a float constant converts to Decimal type `d` without losing digits.
fn decimal_holds(d: &DataType, value: &Value) -> bool {
    let Some(f) = value.as_f64() else { return false };
    Column::from_values(d.clone(), std::slice::from_ref(value)).is_ok_and(|c| c.value(0).as_f64() == Some(f))
}

/// `enum_column = 'unknown name'` matches nothing (and `!=` everything), as in ClickHouse,
/// instead of failing to convert the name.
fn enum_mismatch(func: &Func, args: &[Expr]) -> Option<Expr> {
    let Func::Cmp(op @ (CmpOp::Eq | CmpOp::NotEq)) = func else { return None };
    let [x, y] = args else { return None };
    let (e, name) = match (x.ty().non_null(), y, y.ty().non_null(), x) {
        (DataType::Enum(e), Expr::Literal { value: Value::String(name), .. }, _, _) => (e.clone(), name),
        (_, _, DataType::Enum(e), Expr::Literal { value: Value::String(name), .. }) => (e.clone(), name),
        _ => return None,
    };
    (e.number(name).is_none() && name.parse::<i64>().is_err())
        .then(|| Expr::Literal { value: Value::UInt((*op == CmpOp::NotEq) as u64), ty: DataType::UInt8 })
}

pub(crate) fn wider_temporal(a: &DataType, b: &DataType) -> DataType {
    let rank = |t: &DataType| match t {
        DataType::Date => 0,
        DataType::DateTime => 1,
        DataType::DateTime64(p) => 2 + *p as i32,
        _ => -1,
    };
    if rank(a) >= rank(b) {
        a.clone()
    } else {
        b.clone()
    }
}

/// The result type for the arguments' non-NULL types.
fn result_type(func: &Func, args: &[Expr]) -> Result<DataType> {
    let arg = |i: usize| args[i].ty().non_null().clone();
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
            if arg(0).is_string() != arg(1).is_string() && !args.iter().any(|a| matches!(a, Expr::Literal { .. })) {
                bail!(DatatypeMismatch, "cannot compare {} with {}", arg(0), arg(1));
            }
            DataType::UInt8
        }
        Func::And | Func::Or | Func::Not => {
            for a in args {
                if !numeric(a.ty().non_null().clone()).is_integer() {
                    bail!(DatatypeMismatch, "illegal type {} of argument of logical function", a.ty());
                }
            }
            // As in ClickHouse: logic over Bool stays Bool, anything else gives UInt8; NULL
            // operands make the result Nullable (three-valued logic).
            let ty = if args.iter().all(|a| *a.ty().non_null() == DataType::Bool) { DataType::Bool } else { DataType::UInt8 };
            if args.iter().any(|a| a.ty().is_nullable()) {
                ty.nullable()
            } else {
                ty
            }
        }
        Func::InList { .. } | Func::InTuples { .. } => DataType::UInt8,
        Func::Like { .. } => {
            if !arg(0).is_string() {
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
        Func::IsNull | Func::IsNotNull => DataType::UInt8,
        Func::Length => match arg(0) {
            t if t.is_string() || t.element().is_some() => DataType::UInt64,
            t => bail!(DatatypeMismatch, "illegal type {t} of argument of length"),
        },
        Func::AddMonths => match (arg(0), numeric(arg(1))) {
            (t, n) if t.is_temporal() && n.is_integer() => t,
            (t, n) => bail!(DatatypeMismatch, "illegal types {t} and {n} of arguments of addMonths"),
        },
        Func::FinalizeAggregation => match arg(0) {
            DataType::AggregateFunction { func, args } => match crate::states::AggMode::parse(&func) {
                Some((f, crate::states::AggMode::Plain)) => f.result_type(&args)?,
                _ => bail!(UndefinedFunction, "unknown aggregate function {func}"),
            },
            t => bail!(DatatypeMismatch, "illegal type {t} of argument of finalizeAggregation"),
        },
        Func::ArrayElement => match (arg(0), numeric(arg(1))) {
            (DataType::Array(element), i) if i.is_integer() => *element,
            (t, i) => bail!(DatatypeMismatch, "illegal types {t} and {i} of arguments of arrayElement"),
        },
        Func::ToStartOfHour => match arg(0) {
            DataType::DateTime | DataType::DateTime64(_) => DataType::DateTime,
            t => bail!(DatatypeMismatch, "illegal type {t} of argument of toStartOfHour"),
        },
        Func::ToHour => match arg(0) {
            DataType::DateTime | DataType::DateTime64(_) => DataType::UInt8,
            t => bail!(DatatypeMismatch, "illegal type {t} of argument of toHour"),
        },
        Func::Scalar(f) => {
            let types: Vec<DataType> = args.iter().map(|a| if f.sees_nulls() { a.ty() } else { a.ty().non_null().clone() }).collect();
            f.result_type(&types)?
        }
    })
}

/// Converts arguments where the operator needs a common type (comparisons of a string literal
/// with a date, of a Date with a DateTime).
fn coerce_args(func: &Func, mut args: Vec<Expr>) -> Result<Vec<Expr>> {
    if let Func::Cmp(_) = func {
        if let Some(ty) = comparison_type(&args[0], &args[1])? {
            let b = args.pop().expect("two arguments").cast(ty.clone())?;
            let a = args.pop().expect("two arguments").cast(ty)?;
            args = vec![a, b];
        }
    }
    Ok(args)
}

fn mask_column(mask: Vec<u8>) -> Column {
    Column::new(DataType::UInt8, ColumnData::U8(mask))
}

fn eval_call(func: &Func, args: &[Expr], ty: &DataType, block: &Block) -> Result<Column> {
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
        Func::Add | Func::Sub | Func::Mul | Func::Div | Func::Mod if ty.is_decimal() => decimal_arithmetic(func, col(0), col(1), ty)?,
        Func::Add | Func::Sub | Func::Mul | Func::Div | Func::Mod => arithmetic(func, col(0), col(1), ty.clone())?,
        Func::Neg => match Domain::of(ty) {
            Domain::Float => kernels::from_f64(ty.clone(), kernels::to_f64(col(0))?.into_iter().map(|x| -x).collect()),
            _ => kernels::from_i64(ty.clone(), kernels::to_i64(col(0))?.into_iter().map(|x| x.wrapping_neg()).collect()),
        },
        Func::Cmp(op) => mask_column(compare(col(0), col(1), *op)?),
        Func::And | Func::Or => logic(matches!(func, Func::And), col(0), col(1), ty)?,
        Func::IsNull | Func::IsNotNull => {
            let want = matches!(func, Func::IsNull) as u8;
            mask_column(match &col(0).nulls {
                Some(n) => n.iter().map(|&x| (x == want) as u8).collect(),
                None => vec![want ^ 1; col(0).len()],
            })
        }
        Func::Length => match &col(0).data {
            ColumnData::Bytes(s) if col(0).ty.element().is_some() => kernels::from_u64(DataType::UInt64, s.iter().map(|r| array::row_len(r) as u64).collect()),
            ColumnData::Bytes(s) => kernels::from_u64(DataType::UInt64, s.iter().map(|r| r.len() as u64).collect()),
            _ => bail!(DatatypeMismatch, "length needs a string or an array"),
        },
        Func::ArrayElement => array_element(col(0), col(1), ty)?,
        Func::FinalizeAggregation => crate::states::finalize(col(0))?,
        Func::AddMonths => add_months(col(0), col(1), ty.clone())?,
        Func::Not => mask_column(truth(col(0))?.into_iter().map(|x| x ^ 1).collect()),
        Func::InList { negated, list } => mask_column(in_list(col(0), list, *negated)?),
        Func::InTuples { negated, keys } => {
            let mut key = Vec::new();
            mask_column(
                (0..block.rows())
                    .map(|row| {
                        key.clear();
                        cols.iter().for_each(|c| crate::aggregate::append_key(c, row, &mut key));
                        (keys.contains(key.as_slice()) != *negated) as u8
                    })
                    .collect(),
            )
        }
        Func::Like { negated, pattern } => {
            let ColumnData::Bytes(s) = &col(0).data else { bail!(DatatypeMismatch, "LIKE needs a string") };
            mask_column(s.iter().map(|v| (pattern.matches(v) != *negated) as u8).collect())
        }
        Func::Cast => cast(col(0), ty)?,
        Func::Scalar(f) => f.eval(&cols, ty, None)?,
        Func::ToDate => to_date(col(0))?,
        Func::ToYYYYMM => {
            let days = to_date(col(0))?;
            kernels::from_u64(ty.clone(), kernels::to_i64(&days)?.into_iter().map(|d| time::yyyymm(d) as u64).collect())
        }
        Func::ToYYYYMMDD => {
            let days = to_date(col(0))?;
            kernels::from_u64(ty.clone(), kernels::to_i64(&days)?.into_iter().map(|d| time::yyyymmdd(d) as u64).collect())
        }
        Func::ToStartOfHour => {
            let secs = kernels::to_i64(&cast(col(0), &DataType::DateTime)?)?;
            kernels::from_i64(ty.clone(), secs.into_iter().map(|s| s - s.rem_euclid(3600)).collect())
        }
        Func::ToHour => {
            let secs = kernels::to_i64(&cast(col(0), &DataType::DateTime)?)?;
            kernels::from_i64(ty.clone(), secs.into_iter().map(|s| s.rem_euclid(86_400) / 3600).collect())
        }
    })
}

/// Three-valued AND / OR: a NULL operand decides nothing, so `NULL AND 0` is 0 and
/// `NULL OR 1` is 1, and the result is NULL only where the other operand does not decide.
fn logic(and: bool, a: &Column, b: &Column, ty: &DataType) -> Result<Column> {
    let (x, y) = (truth(a)?, truth(b)?);
    let values: Vec<u8> = x.iter().zip(&y).map(|(p, q)| if and { p & q } else { p | q }).collect();
    if !ty.is_nullable() {
        return Ok(mask_column(values));
    }
    let decisive = |v: u8| if and { v == 0 } else { v == 1 };
    let nulls: Vec<u8> = (0..values.len())
        .map(|i| {
            let (na, nb) = (a.is_null(i), b.is_null(i));
            let decided = (!na && decisive(x[i])) || (!nb && decisive(y[i]));
            ((na || nb) && !decided) as u8
        })
        .collect();
    let values = values.iter().zip(&nulls).map(|(v, n)| v & (n ^ 1)).collect();
    Ok(Column::with_nulls(ty.clone(), ColumnData::U8(values), Some(nulls)))
}

/// `arr[i]` per row: 1-based, negative counts from the end, out of range gives the default;
/// index 0 is an error, as in ClickHouse.
fn array_element(arrays: &Column, index: &Column, ty: &DataType) -> Result<Column> {
    let ColumnData::Bytes(rows) = &arrays.data else { bail!(DatatypeMismatch, "arrayElement needs an array") };
    let element = arrays.ty.element().expect("array type").clone();
    let index = kernels::to_i64(index)?;
    let mut out = Column::with_capacity(ty.clone(), rows.len());
    for (row, &i) in rows.iter().zip(&index) {
        let items = array::decode_row(&element, row)?;
        let pos = match i {
            0 => bail!(InvalidParameter, "array indices are 1-based: index 0 is invalid"),
            i if i > 0 => (i - 1) as usize,
            i => items.len().wrapping_sub(i.unsigned_abs() as usize),
        };
        if pos < items.len() {
            out.append_range(&items, pos..pos + 1);
        } else {
            out.append(&Column::defaults(ty.clone(), 1));
        }
    }
    Ok(out)
}

/// Exact Decimal arithmetic on scaled integers (integer operands have scale 0).
fn decimal_arithmetic(func: &Func, a: &Column, b: &Column, ty: &DataType) -> Result<Column> {
    let scale = scale_of(ty);
    let (sa, sb) = (scale_of(&a.ty), scale_of(&b.ty));
    let (x, y) = (kernels::to_i64(a)?, kernels::to_i64(b)?);
    let up = |v: &[i64], from: u8| -> Result<Vec<i64>> {
        v.iter()
            .map(|&r| text::rescale(r, from, scale).ok_or_else(|| crate::error::QueryError::new(crate::error::ErrorKind::InvalidParameter, format!("decimal value overflows {ty}"))))
            .collect()
    };
    let out: Vec<i64> = match func {
        Func::Add => up(&x, sa)?.iter().zip(up(&y, sb)?).map(|(p, q)| p.wrapping_add(q)).collect(),
        Func::Sub => up(&x, sa)?.iter().zip(up(&y, sb)?).map(|(p, q)| p.wrapping_sub(q)).collect(),
        Func::Mod => {
            let (p, q) = (up(&x, sa)?, up(&y, sb)?);
            if q.contains(&0) {
                bail!(DivisionByZero, "division by zero");
            }
            p.iter().zip(&q).map(|(p, q)| p.wrapping_rem(*q)).collect()
        }
        Func::Mul => x.iter().zip(&y).map(|(p, q)| p.wrapping_mul(*q)).collect(),
        Func::Div => {
            if y.contains(&0) {
                bail!(DivisionByZero, "division by zero");
            }
            // (a / 10^sa) / (b / 10^sb) at scale s: a * 10^(s + sb - sa) / b.
            let shift = scale as i32 + sb as i32 - sa as i32;
            x.iter()
                .zip(&y)
                .map(|(&p, &q)| {
                    let p = p as i128;
                    let n = if shift >= 0 { p * text::POW10[shift as usize] as i128 } else { p / text::POW10[(-shift) as usize] as i128 };
                    (n / q as i128) as i64
                })
                .collect()
        }
        _ => bail!(Internal, "bad decimal operator {func:?}"),
    };
    Ok(kernels::from_i64(ty.clone(), out))
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
        // Date ± days, DateTime and DateTime64 ± seconds.
        let (t, n, sign) = if a.ty.is_temporal() { (a, b, if *func == Func::Sub { -1 } else { 1 }) } else { (b, a, 1) };
        let unit = if let DataType::DateTime64(p) = ty { 10i64.pow(p as u32) } else { 1 };
        let sign = sign * unit;
        let (t, n) = (kernels::to_i64(t)?, kernels::to_i64(n)?);
        return Ok(kernels::from_i64(ty, t.iter().zip(&n).map(|(x, y)| x + sign * y).collect()));
    }
    macro_rules! lanes {
        ($conv:ident, $from:ident, $f:expr) => {{
            let (x, y) = (kernels::$conv(a)?, kernels::$conv(b)?);
            kernels::$from(ty, x.iter().zip(&y).map(|(&p, &q)| $f(p, q)).collect())
        }};
    }
    Ok(match (func, Domain::of(&ty)) {
        (Func::Div, _) => lanes!(to_f64, from_f64, |p: f64, q: f64| p / q),
        (Func::Mod, Domain::Float) => lanes!(to_f64, from_f64, |p: f64, q: f64| p % q),
        (Func::Mod, _) => {
            let (x, y) = (kernels::to_i64(a)?, kernels::to_i64(b)?);
            if y.contains(&0) {
                bail!(DivisionByZero, "division by zero");
            }
            if Domain::of(&a.ty) == Domain::UInt && Domain::of(&b.ty) == Domain::UInt {
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
        (ColumnData::Bytes(s), Value::String(_) | Value::Bytes(_)) if matches!(op, CmpOp::Eq | CmpOp::NotEq) => strings_equal(s, value.as_bytes(), matches!(op, CmpOp::NotEq)),
        (ColumnData::Bytes(s), Value::String(_) | Value::Bytes(_)) => s.iter().map(|x| op.test(x.cmp(value.as_bytes())) as u8).collect(),
        (ColumnData::Bytes(_), _) | (_, Value::String(_) | Value::Bytes(_)) => bail!(DatatypeMismatch, "cannot compare {} with {value:?}", col.ty),
        (ColumnData::I64(v), Value::Decimal { raw, .. }) => lanes!(v, *raw),
        (ColumnData::U32(v), Value::UInt(s)) if *s <= u32::MAX as u64 => lanes!(v, *s as u32),
        (ColumnData::U16(v), Value::UInt(s)) if *s <= u16::MAX as u64 => lanes!(v, *s as u16),
        (ColumnData::U16(v), Value::Int(s)) if (0..=u16::MAX as i64).contains(s) => lanes!(v, *s as u16),
        (ColumnData::U32(v), Value::Int(s)) if (0..=u32::MAX as i64).contains(s) => lanes!(v, *s as u32),
        (ColumnData::U64(v), Value::UInt(s)) => lanes!(v, *s),
        (ColumnData::I64(v), Value::Int(s)) => lanes!(v, *s),
        (ColumnData::F64(v), s) => lanes!(v, s.as_f64().unwrap_or(f64::NAN)),
        (_, Value::Float(s)) => lanes!(kernels::to_f64(col)?, *s),
        _ if Domain::of(&col.ty) == Domain::Float => lanes!(kernels::to_f64(col)?, value.as_f64().unwrap_or(f64::NAN)),
        (_, Value::UInt(s)) if Domain::of(&col.ty) == Domain::UInt => lanes!(kernels::to_u64(col)?, *s),
        _ => {
            let s: i128 = match value {
                Value::UInt(u) => *u as i128,
                Value::Int(i) => *i as i128,
                Value::Bool(b) => *b as i128,
                other => bail!(DatatypeMismatch, "cannot compare {} with {other:?}", col.ty),
            };
            lanes!(kernels::to_i128(col)?, s)
        }
    })
}

/// 1 for each string equal to `needle` (unequal when `negated`): lengths first, and the bytes
/// only where the lengths match, eight at a time (a needle of up to eight bytes in one masked
/// load), without a `memcmp` call per row.
fn strings_equal(s: &StringData, needle: &[u8], negated: bool) -> Vec<u8> {
    let (len, bytes) = (needle.len(), &s.bytes[..]);
    let word = |b: &[u8], at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
    let bytes_equal = |start: usize| {
        let mut at = 0;
        while at + 8 <= len {
            if word(bytes, start + at) != word(needle, at) {
                return false;
            }
            at += 8;
        }
        bytes[start + at..start + len].iter().zip(&needle[at..]).all(|(a, b)| a == b)
    };
    fn rows(offsets: &[u64], len: usize, negated: bool, equal: impl Fn(usize) -> bool) -> Vec<u8> {
        offsets.windows(2).map(|w| ((w[1] - w[0] == len as u64 && equal(w[0] as usize)) != negated) as u8).collect()
    }
    if !(1..=8).contains(&len) {
        return rows(&s.offsets, len, negated, bytes_equal);
    }
    let mut padded = [0u8; 8];
    padded[..len].copy_from_slice(needle);
    let (want, mask) = (u64::from_le_bytes(padded), u64::MAX >> (64 - 8 * len));
    rows(&s.offsets, len, negated, |start: usize| match bytes.get(start..start + 8) {
        Some(b) => u64::from_le_bytes(b.try_into().unwrap()) & mask == want,
        None => bytes_equal(start),
    })
}

fn in_list(col: &Column, list: &Column, negated: bool) -> Result<Vec<u8>> {
    let hit: Vec<u8> = match (&col.data, &list.data) {
        (ColumnData::Bytes(s), ColumnData::Bytes(l)) => {
            let set: hashbrown::HashSet<&[u8]> = l.iter().collect();
            s.iter().map(|v| set.contains(v) as u8).collect()
        }
        _ if Domain::of(&col.ty) == Domain::Float || Domain::of(&list.ty) == Domain::Float => {
            let set: Vec<f64> = kernels::to_f64(list)?;
            kernels::to_f64(col)?.iter().map(|v| set.contains(v) as u8).collect()
        }
        _ => {
            let set: hashbrown::HashSet<i128> = kernels::to_i128(list)?.into_iter().collect();
            kernels::to_i128(col)?.iter().map(|v| set.contains(v) as u8).collect()
        }
    };
    Ok(if negated { hit.into_iter().map(|h| h ^ 1).collect() } else { hit })
}

fn to_date(col: &Column) -> Result<Column> {
    Ok(match &col.ty {
        DataType::Date => col.clone(),
        t if t.is_temporal() => cast(col, &DataType::Date)?,
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

/// `addMonths(t, n)`: Date by days, DateTime by seconds, DateTime64 by ticks, keeping the
/// time of day; a day past the target month's end becomes its last day; Date and DateTime
/// results saturate at their types' ends.
fn add_months(t: &Column, n: &Column, ty: DataType) -> Result<Column> {
    let (t, n) = (kernels::to_i64(t)?, kernels::to_i64(n)?);
    let ticks = match ty {
        DataType::DateTime64(p) => 10i64.pow(p as u32),
        _ => 1,
    };
    let date = ty == DataType::Date;
    // Like ClickHouse, month steps saturate at the ends of Date and DateTime.
    let datetime = ty == DataType::DateTime;
    let moved = t.iter().zip(&n).map(|(&x, &m)| match (date, datetime) {
        (true, _) => granary_storage::time::add_months(x, m).clamp(0, u16::MAX as i64),
        (false, true) => crate::interval::add_months_to_seconds(x, m).clamp(0, u32::MAX as i64),
        (false, false) => crate::interval::add_months_to_seconds(x.div_euclid(ticks), m) * ticks + x.rem_euclid(ticks),
    });
    Ok(kernels::from_i64(ty, moved.collect()))
}

/// A typed string column from texts (helper for functions producing strings).
pub fn string_column(values: impl Iterator<Item = impl AsRef<[u8]>>) -> Column {
    let mut s = StringData::default();
    for v in values {
        s.push(v.as_ref());
    }
    Column::new(DataType::String, ColumnData::Bytes(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_equality_matches_a_plain_comparison_at_every_length_and_at_the_buffer_end() {
        let words = ["", "a", "ab", "abcdefg", "abcdefgh", "abcdefgx", "abcdefghi", "abcdefghijklmnopq", "abcdefghijklmnopx", "xbcdefgh"];
        // Every word, then each word once more at the end of the buffer.
        for last in words {
            let mut s = StringData::default();
            words.iter().chain([&last]).for_each(|w| s.push(w.as_bytes()));
            for needle in words {
                for negated in [false, true] {
                    let expected: Vec<u8> = s.iter().map(|v| ((v == needle.as_bytes()) != negated) as u8).collect();
                    assert_eq!(strings_equal(&s, needle.as_bytes(), negated), expected, "{needle:?} negated {negated}, last {last:?}");
                }
            }
        }
    }
}
