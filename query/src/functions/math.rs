//! Math and conversion functions: rounding, `abs`, `sign`, `intDiv`, `exp`/`log`/`sqrt`/`pow`,
//! and the conversions `toInt32`, `toFloat64`, `toDecimal64(x, S)`, `CAST`, their `…OrZero` /
//! `…OrNull` forms. Conversions are casts (`kernels::cast`); the rest run in the 64-bit
//! compute domains of `kernels` and narrow to the result type at the end.

use granary_storage::{Column, ColumnRef, DataType, Value};

use super::{arity, call, const_int, ignored, strings, Context};
use crate::error::{bail, Result};
use crate::expr::{int_type, Expr, Func};
use crate::kernels::{self, Domain};

/// How `round`, `floor`, `ceil` and `trunc` pick a neighbour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rounding {
    /// To nearest: floats tie to even (banker's), integers and decimals tie away from zero.
    Nearest,
    /// Toward −∞.
    Floor,
    /// Toward +∞.
    Ceil,
    /// Toward zero.
    Trunc,
}

/// A float function of one argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unary {
    Exp,
    Ln,
    Log2,
    Log10,
    Sqrt,
    Cbrt,
}

/// A math function evaluated by this module.
#[derive(Debug, Clone, PartialEq)]
pub enum MathFn {
    /// `round(x, digits)` and friends; negative `digits` round to tens, hundreds, ….
    Round { mode: Rounding, digits: i64 },
    /// `abs(x)`: signed integers become the unsigned type of the same width.
    Abs,
    /// `sign(x)`: -1, 0 or 1.
    Sign,
    /// `intDiv(a, b)`: the quotient rounded toward zero; division by zero is an error.
    IntDiv,
    /// A Float64 function of one argument.
    Unary(Unary),
    /// `pow(x, y)`.
    Pow,
    /// `toT…OrZero(s)` / `toT…OrNull(s)`: text parsed as `ty`, 0 or NULL where it is not one.
    ParseOr { ty: DataType, null: bool },
}

impl MathFn {
    /// True for the functions that produce NULLs themselves.
    pub fn sees_nulls(&self) -> bool {
        matches!(self, MathFn::ParseOr { null: true, .. })
    }

    /// The ClickHouse name of the function.
    pub fn name(&self) -> &'static str {
        match self {
            MathFn::Round { mode: Rounding::Nearest, .. } => "round",
            MathFn::Round { mode: Rounding::Floor, .. } => "floor",
            MathFn::Round { mode: Rounding::Ceil, .. } => "ceil",
            MathFn::Round { mode: Rounding::Trunc, .. } => "trunc",
            MathFn::Abs => "abs",
            MathFn::Sign => "sign",
            MathFn::IntDiv => "intDiv",
            MathFn::Unary(Unary::Exp) => "exp",
            MathFn::Unary(Unary::Ln) => "log",
            MathFn::Unary(Unary::Log2) => "log2",
            MathFn::Unary(Unary::Log10) => "log10",
            MathFn::Unary(Unary::Sqrt) => "sqrt",
            MathFn::Unary(Unary::Cbrt) => "cbrt",
            MathFn::Pow => "pow",
            MathFn::ParseOr { null: false, .. } => "toTypeOrZero",
            MathFn::ParseOr { null: true, .. } => "toTypeOrNull",
        }
    }

    /// The result type (ClickHouse's rules).
    pub fn result_type(&self, args: &[DataType]) -> Result<DataType> {
        let number = |t: &DataType| -> Result<DataType> {
            let t = if *t == DataType::Bool { DataType::UInt8 } else { t.non_null().clone() };
            if !t.is_numeric() {
                bail!(DatatypeMismatch, "illegal type {t} of argument of function {}", self.name());
            }
            Ok(t)
        };
        Ok(match self {
            MathFn::Round { .. } => number(&args[0])?,
            MathFn::Abs => match number(&args[0])? {
                t if t.is_signed() => match t {
                    DataType::Int8 => DataType::UInt8,
                    DataType::Int16 => DataType::UInt16,
                    DataType::Int32 => DataType::UInt32,
                    _ => DataType::UInt64,
                },
                t => t,
            },
            MathFn::Sign => {
                number(&args[0])?;
                DataType::Int8
            }
            MathFn::IntDiv => {
                // The dividend's width; signed when either side is signed (floats count as signed).
                let (a, b) = (number(&args[0])?, number(&args[1])?);
                if a.is_decimal() || b.is_decimal() {
                    bail!(DatatypeMismatch, "intDiv does not take Decimal arguments");
                }
                let signed = |t: &DataType| t.is_signed() || t.is_float();
                let bits = if a.is_float() { if a == DataType::Float32 { 32 } else { 64 } } else { a.int_bits() };
                int_type(signed(&a) || signed(&b), bits)
            }
            MathFn::Unary(_) => {
                number(&args[0])?;
                DataType::Float64
            }
            MathFn::Pow => {
                number(&args[0])?;
                number(&args[1])?;
                DataType::Float64
            }
            MathFn::ParseOr { ty, null } => {
                if !args[0].non_null().is_string() {
                    bail!(DatatypeMismatch, "illegal type {} of argument of function {}: it takes a String", args[0], self.name());
                }
                if *null {
                    ty.clone().nullable()
                } else {
                    ty.clone()
                }
            }
        })
    }

    /// Evaluates the function over whole columns.
    pub fn eval(&self, args: &[ColumnRef], ty: &DataType, ignore: Option<&[u8]>) -> Result<Column> {
        let x = &args[0];
        Ok(match self {
            MathFn::Round { mode, digits } => round(x, *mode, *digits, ty)?,
            MathFn::Abs => match Domain::of(&x.ty) {
                Domain::Float => kernels::from_f64(ty.clone(), kernels::to_f64(x)?.into_iter().map(f64::abs).collect()),
                Domain::Int => kernels::from_u64(ty.clone(), kernels::to_i64(x)?.into_iter().map(i64::unsigned_abs).collect()),
                Domain::UInt => x.as_ref().clone(),
            },
            MathFn::Sign => match Domain::of(&x.ty) {
                Domain::Float => kernels::from_i64(ty.clone(), kernels::to_f64(x)?.into_iter().map(|v| (v > 0.0) as i64 - (v < 0.0) as i64).collect()),
                Domain::Int => kernels::from_i64(ty.clone(), kernels::to_i64(x)?.into_iter().map(i64::signum).collect()),
                Domain::UInt => kernels::from_i64(ty.clone(), kernels::to_u64(x)?.into_iter().map(|v| (v > 0) as i64).collect()),
            },
            MathFn::IntDiv => int_div(x, &args[1], ty, ignore)?,
            MathFn::Unary(f) => {
                let op: fn(f64) -> f64 = match f {
                    Unary::Exp => f64::exp,
                    Unary::Ln => f64::ln,
                    Unary::Log2 => f64::log2,
                    Unary::Log10 => f64::log10,
                    Unary::Sqrt => f64::sqrt,
                    Unary::Cbrt => f64::cbrt,
                };
                kernels::from_f64(DataType::Float64, kernels::to_f64(x)?.into_iter().map(op).collect())
            }
            MathFn::Pow => {
                let (a, b) = (kernels::to_f64(x)?, kernels::to_f64(&args[1])?);
                kernels::from_f64(DataType::Float64, a.iter().zip(&b).map(|(p, q)| p.powf(*q)).collect())
            }
            MathFn::ParseOr { ty: target, null } => {
                let s = strings(self.name(), x)?;
                let mut out = Column::with_capacity(target.clone().nullable(), s.len());
                for v in s.iter() {
                    let parsed = std::str::from_utf8(v).ok().and_then(|text| target.parse_text(text).ok());
                    let value = parsed.unwrap_or(if *null { Value::Null } else { Value::UInt(0) });
                    if out.push_value(&value).is_err() {
                        out.push_value(if *null { &Value::Null } else { &Value::UInt(0) })?;
                    }
                }
                if let (Some(out_nulls), Some(input)) = (&mut out.nulls, &x.nulls) {
                    out_nulls.iter_mut().zip(input).for_each(|(o, i)| *o |= i);
                }
                if *null {
                    out
                } else {
                    out.without_nulls()
                }
            }
        })
    }
}

fn int_div(a: &Column, b: &Column, ty: &DataType, ignore: Option<&[u8]>) -> Result<Column> {
    let zero = |i: usize| -> Result<()> {
        if !ignored(ignore, i) {
            bail!(DivisionByZero, "division by zero in intDiv");
        }
        Ok(())
    };
    if Domain::of(&a.ty) == Domain::Float || Domain::of(&b.ty) == Domain::Float {
        let (x, y) = (kernels::to_f64(a)?, kernels::to_f64(b)?);
        let mut out = Vec::with_capacity(x.len());
        for i in 0..x.len() {
            if y[i] == 0.0 {
                zero(i)?;
            }
            out.push((x[i] / y[i]).trunc() as i64);
        }
        return Ok(kernels::from_i64(ty.clone(), out));
    }
    if Domain::of(&a.ty) == Domain::UInt && Domain::of(&b.ty) == Domain::UInt {
        let (x, y) = (kernels::to_u64(a)?, kernels::to_u64(b)?);
        let mut out = Vec::with_capacity(x.len());
        for i in 0..x.len() {
            if y[i] == 0 {
                zero(i)?;
            }
            out.push(x[i].checked_div(y[i]).unwrap_or(0));
        }
        return Ok(kernels::from_u64(ty.clone(), out));
    }
    let (x, y) = (kernels::to_i128(a)?, kernels::to_i128(b)?);
    let mut out = Vec::with_capacity(x.len());
    for i in 0..x.len() {
        if y[i] == 0 {
            zero(i)?;
        }
        out.push(x[i].checked_div(y[i]).unwrap_or(0) as i64);
    }
    Ok(kernels::from_i64(ty.clone(), out))
}

/// Rounds to `digits` decimal places (negative: to tens, hundreds, …) in the argument's type.
fn round(x: &Column, mode: Rounding, digits: i64, ty: &DataType) -> Result<Column> {
    if let DataType::Decimal { scale, .. } = ty {
        // Scaled integers: drop the digits past `digits` with the chosen rounding.
        let drop = *scale as i64 - digits;
        if drop <= 0 {
            return Ok(x.clone());
        }
        if drop > 18 {
            return Ok(kernels::from_i64(ty.clone(), vec![0; x.len()]));
        }
        let p = granary_storage::text::POW10[drop as usize];
        return Ok(kernels::from_i64(ty.clone(), kernels::to_i64(x)?.into_iter().map(|v| round_int(v as i128, p as i128, mode) as i64).collect()));
    }
    match Domain::of(ty) {
        Domain::Float => {
            let f: fn(f64) -> f64 = match mode {
                Rounding::Nearest => f64::round_ties_even,
                Rounding::Floor => f64::floor,
                Rounding::Ceil => f64::ceil,
                Rounding::Trunc => f64::trunc,
            };
            let v = kernels::to_f64(x)?;
            let out: Vec<f64> = match digits {
                0 => v.into_iter().map(f).collect(),
                d if d > 0 => {
                    let p = 10f64.powi(d.min(308) as i32);
                    v.into_iter().map(|x| f(x * p) / p).collect()
                }
                d => {
                    let p = 10f64.powi((-d).min(308) as i32);
                    v.into_iter().map(|x| f(x / p) * p).collect()
                }
            };
            Ok(kernels::from_f64(ty.clone(), out))
        }
        _ if digits >= 0 => Ok(x.clone()),
        domain => {
            if -digits > 19 {
                return Ok(kernels::from_i64(ty.clone(), vec![0; x.len()]));
            }
            let p = 10i128.pow((-digits) as u32);
            let v = kernels::to_i128(x)?.into_iter().map(|v| round_int(v, p, mode));
            Ok(match domain {
                Domain::UInt => kernels::from_u64(ty.clone(), v.map(|r| r as u64).collect()),
                _ => kernels::from_i64(ty.clone(), v.map(|r| r as i64).collect()),
            })
        }
    }
}

/// `v` rounded to a multiple of `p`; ties go away from zero.
fn round_int(v: i128, p: i128, mode: Rounding) -> i128 {
    let (q, r) = (v.div_euclid(p), v.rem_euclid(p));
    let down = q * p;
    match mode {
        Rounding::Floor => down,
        Rounding::Ceil if r == 0 => down,
        Rounding::Ceil => down + p,
        Rounding::Trunc if v < 0 && r != 0 => down + p,
        Rounding::Trunc => down,
        Rounding::Nearest if 2 * r > p || (2 * r == p && v > 0) => down + p,
        Rounding::Nearest => down,
    }
}

/// `round`/`floor`/`ceil`/`trunc(x[, digits])`.
pub fn rounding(mode: Rounding, x: Expr, digits: Option<&Expr>, name: &str) -> Result<Expr> {
    let digits = digits.map(|d| const_int(name, d)).transpose()?.unwrap_or(0);
    call(MathFn::Round { mode, digits }, vec![x])
}

/// The type a `toT` conversion function converts to.
fn conversion_target(name: &str) -> Option<DataType> {
    Some(match name {
        "touint8" => DataType::UInt8,
        "touint16" => DataType::UInt16,
        "touint32" => DataType::UInt32,
        "touint64" => DataType::UInt64,
        "toint8" => DataType::Int8,
        "toint16" => DataType::Int16,
        "toint32" => DataType::Int32,
        "toint64" => DataType::Int64,
        "tofloat32" => DataType::Float32,
        "tofloat64" => DataType::Float64,
        "tobool" => DataType::Bool,
        _ => return None,
    })
}

/// Binds a math or conversion function by name, or returns `None` if `name` is not one.
pub fn bind(name: &str, args: &[Expr], _ctx: &Context) -> Result<Option<Expr>> {
    let unary = |f: MathFn| -> Result<Expr> {
        arity(name, args, 1..=1)?;
        call(f, args.to_vec())
    };
    let round_with = |mode: Rounding| -> Result<Expr> {
        arity(name, args, 1..=2)?;
        rounding(mode, args[0].clone(), args.get(1), name)
    };
    if let Some(ty) = conversion_target(name) {
        arity(name, args, 1..=1)?;
        return Ok(Some(args[0].clone().cast(ty)?));
    }
    for (suffix, null) in [("orzero", false), ("ornull", true)] {
        if let Some(ty) = name.strip_suffix(suffix).and_then(conversion_target) {
            arity(name, args, 1..=1)?;
            return Ok(Some(call(MathFn::ParseOr { ty, null }, args.to_vec())?));
        }
    }
    Ok(Some(match name {
        "round" => round_with(Rounding::Nearest)?,
        "floor" => round_with(Rounding::Floor)?,
        "ceil" | "ceiling" => round_with(Rounding::Ceil)?,
        "trunc" | "truncate" => round_with(Rounding::Trunc)?,
        "abs" => unary(MathFn::Abs)?,
        "sign" => unary(MathFn::Sign)?,
        "exp" => unary(MathFn::Unary(Unary::Exp))?,
        "log" | "ln" => unary(MathFn::Unary(Unary::Ln))?,
        "log2" => unary(MathFn::Unary(Unary::Log2))?,
        "log10" => unary(MathFn::Unary(Unary::Log10))?,
        "sqrt" => unary(MathFn::Unary(Unary::Sqrt))?,
        "cbrt" => unary(MathFn::Unary(Unary::Cbrt))?,
        "pow" | "power" => {
            arity(name, args, 2..=2)?;
            call(MathFn::Pow, args.to_vec())?
        }
        "intdiv" => {
            arity(name, args, 2..=2)?;
            call(MathFn::IntDiv, args.to_vec())?
        }
        "modulo" | "mod" => {
            arity(name, args, 2..=2)?;
            Expr::call(Func::Mod, args.to_vec())?
        }
        "todecimal32" | "todecimal64" => {
            arity(name, args, 2..=2)?;
            let precision = if name == "todecimal32" { 9 } else { 18 };
            let scale = const_int(name, &args[1])?;
            if !(0..=precision as i64).contains(&scale) {
                bail!(InvalidParameter, "the scale of {name} must be 0 to {precision}, got {scale}");
            }
            args[0].clone().cast(DataType::Decimal { precision, scale: scale as u8 })?
        }
        _ => return Ok(None),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_rounding_ties_away_from_zero() {
        assert_eq!(round_int(1250, 100, Rounding::Nearest), 1300);
        assert_eq!(round_int(-1250, 100, Rounding::Nearest), -1300);
        assert_eq!(round_int(-1249, 100, Rounding::Nearest), -1200);
        assert_eq!(round_int(1234, 100, Rounding::Ceil), 1300);
        assert_eq!(round_int(-1234, 100, Rounding::Trunc), -1200);
        assert_eq!(round_int(-1234, 100, Rounding::Floor), -1300);
    }
}
