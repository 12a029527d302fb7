//! Conditionals and NULL handling: `if`, `multiIf` (and so `CASE`), `coalesce`/`ifNull`,
//! `nullIf`, `assumeNotNull`, `toNullable`, `greatest`/`least`, `IS [NOT] DISTINCT FROM`.
//!
//! Binding converts the value arguments to their least common type (ClickHouse's
//! `getLeastSupertype`), so evaluation only picks, row by row, which argument's value to
//! keep: one vectorized select per argument over columns of one layout.

use granary_storage::column::{count_nonzero, ColumnData};
use granary_storage::{Block, Column, ColumnRef, DataType, StringData, Value};

use super::{arity, call, Context};
use crate::error::{bail, Result};
use crate::expr::{Expr, Func};
use crate::kernels::{self, CmpOp};

/// A conditional function evaluated by this module.
#[derive(Debug, Clone, PartialEq)]
pub enum CondFn {
    /// `if(cond, then, else)`; a NULL condition counts as false.
    If,
    /// `multiIf(c1, v1, c2, v2, …, else)`.
    MultiIf,
    /// `coalesce(a, b, …)`: the first non-NULL argument.
    Coalesce,
    /// `assumeNotNull(x)`: the value, NULLs read as the type's default.
    AssumeNotNull,
    /// `greatest(a, b, …)` (or `least` when not `max`); NULL arguments are ignored.
    Extreme { max: bool },
}

impl CondFn {
    /// The ClickHouse name of the function.
    pub fn name(&self) -> &'static str {
        match self {
            CondFn::If => "if",
            CondFn::MultiIf => "multiIf",
            CondFn::Coalesce => "coalesce",
            CondFn::AssumeNotNull => "assumeNotNull",
            CondFn::Extreme { max: true } => "greatest",
            CondFn::Extreme { max: false } => "least",
        }
    }

    /// The result type: the value arguments share one type (converted at bind time); the
    /// result is Nullable when a value can be NULL.
    pub fn result_type(&self, args: &[DataType]) -> Result<DataType> {
        let values: Vec<&DataType> = match self {
            CondFn::If | CondFn::MultiIf => {
                for (i, c) in args.iter().enumerate() {
                    let is_cond = i % 2 == 0 && i + 1 < args.len();
                    if is_cond && !(c.non_null().is_integer() || *c.non_null() == DataType::Bool) {
                        bail!(DatatypeMismatch, "illegal type {c} of a condition of {}: it must be UInt8 or Bool", self.name());
                    }
                }
                args.iter().enumerate().filter(|(i, _)| i % 2 == 1 || i + 1 == args.len()).map(|(_, t)| t).collect()
            }
            CondFn::AssumeNotNull => return Ok(args[0].non_null().clone()),
            _ => args.iter().collect(),
        };
        let ty = values[0].non_null().clone();
        Ok(match self {
            CondFn::Coalesce if values.iter().all(|t| t.is_nullable()) => ty.nullable(),
            CondFn::Coalesce => ty,
            _ if values.iter().any(|t| t.is_nullable()) => ty.nullable(),
            _ => ty,
        })
    }

    /// Evaluates the function over whole columns.
    pub fn eval(&self, args: &[ColumnRef], ty: &DataType) -> Result<Column> {
        Ok(match self {
            CondFn::If | CondFn::MultiIf => {
                let mut out = with_type(&args[args.len() - 1], ty);
                for pair in args[..args.len() - 1].chunks(2).rev() {
                    out = select(&condition(&pair[0])?, &with_type(&pair[1], ty), &out);
                }
                out
            }
            CondFn::Coalesce => {
                let mut out = with_type(&args[args.len() - 1], ty);
                for a in args[..args.len() - 1].iter().rev() {
                    let present = present(a);
                    out = select(&present, &with_type(a, ty), &out);
                }
                out
            }
            CondFn::AssumeNotNull => args[0].strip_nulls(),
            CondFn::Extreme { max } => {
                let op = if *max { CmpOp::Gt } else { CmpOp::Lt };
                let mut out = with_type(&args[0], ty);
                for a in &args[1..] {
                    let a = with_type(a, ty);
                    let better = kernels::compare(&a.strip_nulls(), &out.strip_nulls(), op)?;
                    let take: Vec<u8> = (0..a.len()).map(|i| (!a.is_null(i) && (out.is_null(i) || better[i] != 0)) as u8).collect();
                    out = select(&take, &a, &out);
                }
                out
            }
        })
    }
}

/// `if`/`multiIf` (and `CASE`) whose later conditions or values are computed: the lazy form,
/// `eval_branches`, keeps a branch that would fail elsewhere (`intDiv(10, x)` where `x = 0`,
/// `toUInt32(s)` of a word) from failing the query. Plain columns and constants never fail,
/// so those take the eager select over whole columns.
pub fn needs_lazy(f: &Func, args: &[Expr]) -> bool {
    matches!(f, Func::Scalar(super::Scalar::Cond(CondFn::If | CondFn::MultiIf))) && !args[1..].iter().all(|a| matches!(a, Expr::Column { .. } | Expr::Literal { .. }))
}

/// `if`/`multiIf(c1, v1, …, else)` over a block as ClickHouse's short-circuit evaluation
/// does it: each condition runs on the rows no earlier one chose, each value on the rows that
/// chose it; the values are then put back in row order with one gather.
pub fn eval_branches(args: &[Expr], ty: &DataType, block: &Block) -> Result<Column> {
    let rows = block.rows();
    let branches = args.len() / 2;
    // Which value each row takes (`branches` for the else value), and the rows still open.
    let mut choice = vec![branches; rows];
    let mut open = vec![1u8; rows];
    for b in 0..branches {
        let truth = condition(on_rows(&args[2 * b], block, &open)?.as_ref())?;
        let mut truth = truth.into_iter();
        for (row, o) in open.iter_mut().enumerate().filter(|(_, o)| **o != 0) {
            if truth.next() == Some(1) {
                (choice[row], *o) = (b, 0);
            }
        }
    }
    let values = args.iter().skip(1).step_by(2).chain(args.last());
    let mut parts = Vec::with_capacity(branches + 1);
    for (b, value) in values.enumerate() {
        let mask: Vec<u8> = choice.iter().map(|&c| (c == b) as u8).collect();
        parts.push(std::sync::Arc::new(with_type(on_rows(value, block, &mask)?.as_ref(), ty)));
    }
    // Row `row` is row `rank` of its value's part; the parts sit one after another.
    let mut starts: Vec<u32> = parts.iter().scan(0u32, |at, p| Some(std::mem::replace(at, *at + p.len() as u32))).collect();
    let picks: Vec<u32> = choice
        .iter()
        .map(|&c| {
            starts[c] += 1;
            starts[c] - 1
        })
        .collect();
    Ok(Column::concat(ty.clone(), &parts).take(&picks))
}

/// An expression over the rows of a block that `mask` keeps: only the columns it reads are
/// filtered, into a block of those alone.
fn on_rows(e: &Expr, block: &Block, mask: &[u8]) -> Result<ColumnRef> {
    let kept = count_nonzero(mask);
    if kept == block.rows() {
        return e.eval(block);
    }
    let mut reads = Vec::new();
    e.visit_columns(&mut |i| reads.push(i));
    reads.sort_unstable();
    reads.dedup();
    let mut e = e.clone();
    e.remap_columns(&|i| reads.binary_search(&i).expect("a column the expression reads"));
    let columns = reads.iter().map(|&i| std::sync::Arc::new(block.columns[i].filter(mask))).collect();
    e.eval(&Block::with_rows(columns, kept))
}

/// 1 where a condition column is true (NULL counts as false).
fn condition(c: &Column) -> Result<Vec<u8>> {
    let mut truth: Vec<u8> = match &c.data {
        ColumnData::U8(v) => v.iter().map(|&x| (x != 0) as u8).collect(),
        _ => kernels::to_u64(c)?.into_iter().map(|x| (x != 0) as u8).collect(),
    };
    if let Some(n) = &c.nulls {
        truth.iter_mut().zip(n).for_each(|(t, n)| *t &= n ^ 1);
    }
    Ok(truth)
}

/// 1 where a value is not NULL.
fn present(c: &Column) -> Vec<u8> {
    match &c.nulls {
        Some(n) => n.iter().map(|x| x ^ 1).collect(),
        None => vec![1; c.len()],
    }
}

/// The column typed `ty` (a non-Nullable column of the same layout gains an empty null map).
fn with_type(c: &Column, ty: &DataType) -> Column {
    let nulls = match (&c.nulls, ty.is_nullable()) {
        (Some(n), true) => Some(n.clone()),
        (None, true) => Some(vec![0; c.len()]),
        (_, false) => None,
    };
    Column::with_nulls(ty.clone(), c.data.clone(), nulls)
}

/// Row `i` of `a` where `mask[i]` is set, else row `i` of `b`; both of one type.
fn select(mask: &[u8], a: &Column, b: &Column) -> Column {
    let data = match (&a.data, &b.data) {
        (ColumnData::Bytes(x), ColumnData::Bytes(y)) => {
            let mut out = StringData::with_capacity(mask.len());
            for (i, &m) in mask.iter().enumerate() {
                out.push(if m != 0 { x.get(i) } else { y.get(i) });
            }
            ColumnData::Bytes(out)
        }
        (x, y) => {
            macro_rules! pick {
                ($($variant:ident),*) => {
                    match (x, y) {
                        $((ColumnData::$variant(x), ColumnData::$variant(y)) => ColumnData::$variant(mask.iter().zip(x.iter().zip(y)).map(|(&m, (&p, &q))| if m != 0 { p } else { q }).collect()),)*
                        _ => unreachable!("select over columns of different layouts"),
                    }
                };
            }
            pick!(U8, U16, U32, U64, I8, I16, I32, I64, F32, F64)
        }
    };
    let nulls = match (&a.nulls, &b.nulls) {
        (Some(x), Some(y)) => Some(mask.iter().zip(x.iter().zip(y)).map(|(&m, (&p, &q))| if m != 0 { p } else { q }).collect()),
        _ => None,
    };
    Column::with_nulls(a.ty.clone(), data, nulls)
}

/// True for the `NULL` literal, which fits any type.
fn is_null_literal(e: &Expr) -> bool {
    matches!(e, Expr::Literal { value: Value::Null, .. })
}

/// ClickHouse's least common type of non-Nullable types: the widest number that holds
/// them all (signed if any is signed, Float64 if any is a float or a 64-bit integer meets
/// the other signedness), the widest time, String for strings.
pub fn supertype(types: &[DataType]) -> Result<DataType> {
    let norm = |t: &DataType| if *t == DataType::Bool { DataType::UInt8 } else { t.clone() };
    let mut types = types.iter().map(norm);
    let Some(mut acc) = types.next() else { return Ok(DataType::UInt8) };
    for t in types {
        acc = match (&acc, &t) {
            (a, b) if a == b => acc,
            (a, b) if a.is_string() && b.is_string() => DataType::String,
            (DataType::Enum(_), b) | (b, DataType::Enum(_)) if b.is_string() => DataType::String,
            (a, b) if a.is_temporal() && b.is_temporal() => crate::expr::wider_temporal(a, b),
            (a, b) if a.is_numeric() && b.is_numeric() => numeric_supertype(a, b)?,
            (a, b) => bail!(DatatypeMismatch, "there is no supertype for types {a} and {b}"),
        };
    }
    Ok(acc)
}

fn numeric_supertype(a: &DataType, b: &DataType) -> Result<DataType> {
    if a.is_decimal() || b.is_decimal() {
        if a.is_float() || b.is_float() {
            return Ok(DataType::Float64);
        }
        let scale = |t: &DataType| if let DataType::Decimal { scale, .. } = t { *scale } else { 0 };
        return Ok(DataType::Decimal { precision: 18, scale: scale(a).max(scale(b)) });
    }
    if a.is_float() || b.is_float() {
        let small = |t: &DataType| *t == DataType::Float32 || (t.is_integer() && t.int_bits() <= 16);
        return Ok(if small(a) && small(b) { DataType::Float32 } else { DataType::Float64 });
    }
    let (sa, sb) = (a.is_signed(), b.is_signed());
    let bits = |t: &DataType, other_signed: bool| if t.is_unsigned() && other_signed { t.int_bits() * 2 } else { t.int_bits() };
    let width = bits(a, sb).max(bits(b, sa));
    let signed = sa || sb;
    Ok(match (signed, width) {
        (_, w) if w > 64 => bail!(DatatypeMismatch, "there is no supertype for types {a} and {b}"),
        (signed, w) => crate::expr::int_type(signed, w),
    })
}

/// Converts values to their common type; NULL literals take it too (as Nullable).
pub fn unify(values: Vec<Expr>) -> Result<Vec<Expr>> {
    let types: Vec<DataType> = values.iter().filter(|v| !is_null_literal(v)).map(|v| v.ty().non_null().clone()).collect();
    let ty = supertype(&types)?;
    values.into_iter().map(|v| v.cast(ty.clone())).collect()
}

/// `if(cond, a, b)`.
pub fn if_(cond: Expr, a: Expr, b: Expr) -> Result<Expr> {
    let mut v = unify(vec![a, b])?;
    let b = v.pop().expect("two values");
    let a = v.pop().expect("two values");
    call(CondFn::If, vec![cond, a, b])
}

/// `multiIf(c1, v1, …, else)` from `(condition, value)` pairs and the else value (NULL when
/// absent, as in `CASE` without `ELSE`).
pub fn multi_if(branches: Vec<(Expr, Expr)>, otherwise: Option<Expr>) -> Result<Expr> {
    let otherwise = otherwise.unwrap_or(Expr::Literal { value: Value::Null, ty: DataType::UInt8.nullable() });
    let (conds, values): (Vec<Expr>, Vec<Expr>) = branches.into_iter().unzip();
    let mut values = unify(values.into_iter().chain([otherwise]).collect())?;
    let otherwise = values.pop().expect("the else value");
    let mut args: Vec<Expr> = conds.into_iter().zip(values).flat_map(|(c, v)| [c, v]).collect();
    args.push(otherwise);
    call(CondFn::MultiIf, args)
}

/// `a IS [NOT] DISTINCT FROM b`: like `!=` (or `=`), with NULL equal to NULL and distinct
/// from every value; never NULL.
pub fn distinct(a: Expr, b: Expr, negated: bool) -> Result<Expr> {
    // A NULL literal takes the other side's type, so the two compare.
    let (a, b) = match (is_null_literal(&a), is_null_literal(&b)) {
        (true, false) => (a.cast(b.ty().non_null().clone())?, b),
        (false, true) => {
            let ty = a.ty().non_null().clone();
            (a, b.cast(ty)?)
        }
        _ => (a, b),
    };
    let null = |e: &Expr| Expr::call(Func::IsNull, vec![e.clone()]);
    let (na, nb) = (null(&a)?, null(&b)?);
    let both = Expr::call(Func::And, vec![na.clone(), nb.clone()])?;
    let either = Expr::call(Func::Or, vec![na, nb])?;
    let differ = Expr::call(Func::Cmp(if negated { CmpOp::Eq } else { CmpOp::NotEq }), vec![a, b])?;
    let flag = |v: bool| Expr::Literal { value: Value::UInt(v as u64), ty: DataType::UInt8 };
    let answer = multi_if(vec![(both, flag(negated)), (either, flag(!negated))], Some(differ))?;
    call(CondFn::AssumeNotNull, vec![answer])
}

/// Binds a conditional function by name, or returns `None` if `name` is not one.
pub fn bind(name: &str, args: &[Expr], _ctx: &Context) -> Result<Option<Expr>> {
    let args = args.to_vec();
    Ok(Some(match name {
        "if" => {
            arity(name, &args, 3..=3)?;
            let [c, a, b] = <[Expr; 3]>::try_from(args).expect("arity checked");
            if_(c, a, b)?
        }
        "multiif" => {
            if args.len() < 3 || args.len().is_multiple_of(2) {
                bail!(UndefinedFunction, "function multiIf takes an odd number (at least 3) of arguments, got {}", args.len());
            }
            let mut it = args.into_iter();
            let mut branches = Vec::new();
            while it.len() > 1 {
                branches.push((it.next().expect("a condition"), it.next().expect("a value")));
            }
            multi_if(branches, it.next())?
        }
        "coalesce" | "ifnull" => {
            if name == "ifnull" {
                arity(name, &args, 2..=2)?;
            } else if args.is_empty() {
                bail!(UndefinedFunction, "function coalesce needs at least one argument");
            }
            call(CondFn::Coalesce, unify(args)?)?
        }
        "nullif" => {
            arity(name, &args, 2..=2)?;
            let [a, b] = <[Expr; 2]>::try_from(args).expect("arity checked");
            let equal = Expr::call(Func::Cmp(CmpOp::Eq), vec![a.clone(), b])?;
            let null = Expr::Literal { value: Value::Null, ty: DataType::UInt8.nullable() };
            if_(equal, null, a)?
        }
        "isnull" | "isnotnull" => {
            arity(name, &args, 1..=1)?;
            Expr::call(if name == "isnull" { Func::IsNull } else { Func::IsNotNull }, args)?
        }
        "assumenotnull" => {
            arity(name, &args, 1..=1)?;
            call(CondFn::AssumeNotNull, args)?
        }
        "tonullable" => {
            arity(name, &args, 1..=1)?;
            let ty = args[0].ty().nullable();
            args.into_iter().next().expect("arity checked").cast(ty)?
        }
        "greatest" | "least" => {
            if args.is_empty() {
                bail!(UndefinedFunction, "function {name} needs at least one argument");
            }
            call(CondFn::Extreme { max: name == "greatest" }, unify(args)?)?
        }
        _ => return Ok(None),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supertypes_follow_clickhouse() {
        assert_eq!(supertype(&[DataType::UInt8, DataType::Int8]).unwrap(), DataType::Int16);
        assert_eq!(supertype(&[DataType::UInt8, DataType::Float64]).unwrap(), DataType::Float64);
        assert_eq!(supertype(&[DataType::Date, DataType::DateTime]).unwrap(), DataType::DateTime);
        assert!(supertype(&[DataType::UInt64, DataType::Int8]).is_err());
        assert!(supertype(&[DataType::String, DataType::UInt8]).is_err());
    }
}
