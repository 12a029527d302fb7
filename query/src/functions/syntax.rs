//! SQL-standard and Postgres spellings that sqlparser reads as their own expression kinds:
//! `EXTRACT(f FROM t)`, `CASE`, `SUBSTRING(s FROM a FOR b)`, `TRIM([BOTH|LEADING|TRAILING]
//! [c] FROM s)`, `POSITION(x IN s)`, `CEIL`/`FLOOR`, `a || b`, `IS [NOT] DISTINCT FROM`.
//! Each binds onto the function ClickHouse would run for it.

use sqlparser::ast;

use super::{conditional, const_int, const_str, dates, math, strings, BindArg, Context};
use crate::error::{bail, Result};
use crate::expr::{Expr, Func};
use crate::kernels::CmpOp;

/// Binds one of the expression kinds above; any other kind is not supported.
pub fn bind_syntax(e: &ast::Expr, _ctx: &Context, bind_arg: &mut BindArg) -> Result<Expr> {
    use ast::Expr as E;
    match e {
        E::BinaryOp { left, op: ast::BinaryOperator::StringConcat, right } => strings::concat(vec![bind_arg(left)?, bind_arg(right)?]),
        E::Extract { field, expr, .. } => dates::extract(field, bind_arg(expr)?),
        E::Case { operand, conditions, else_result, .. } => {
            let operand = operand.as_deref().map(&mut *bind_arg).transpose()?;
            let mut branches = Vec::with_capacity(conditions.len());
            for when in conditions {
                let mut cond = bind_arg(&when.condition)?;
                if let Some(x) = &operand {
                    cond = Expr::call(Func::Cmp(CmpOp::Eq), vec![x.clone(), cond])?;
                }
                branches.push((cond, bind_arg(&when.result)?));
            }
            let otherwise = else_result.as_deref().map(&mut *bind_arg).transpose()?;
            conditional::multi_if(branches, otherwise)
        }
        E::Substring { expr, substring_from, substring_for, .. } => {
            let mut args = vec![bind_arg(expr)?];
            args.push(match substring_from {
                Some(from) => bind_arg(from)?,
                None => Expr::Literal { value: granary_storage::Value::UInt(1), ty: granary_storage::DataType::UInt8 },
            });
            if let Some(len) = substring_for {
                args.push(bind_arg(len)?);
            }
            strings::substring(args, false)
        }
        E::Trim { expr, trim_where, trim_what, trim_characters } => {
            let (left, right) = match trim_where {
                None | Some(ast::TrimWhereField::Both) => (true, true),
                Some(ast::TrimWhereField::Leading) => (true, false),
                Some(ast::TrimWhereField::Trailing) => (false, true),
            };
            let chars = match (trim_what, trim_characters.as_deref()) {
                (Some(what), _) => Some(const_str("trim", &bind_arg(what)?)?),
                (None, Some([what])) => Some(const_str("trim", &bind_arg(what)?)?),
                (None, Some(_)) => bail!(NotSupported, "TRIM takes one set of characters"),
                (None, None) => None,
            };
            strings::trim(bind_arg(expr)?, left, right, chars)
        }
        E::Position { expr, r#in } => strings::position(vec![bind_arg(r#in)?, bind_arg(expr)?], false),
        E::Ceil { expr, field } | E::Floor { expr, field } => {
            let mode = if matches!(e, E::Ceil { .. }) { math::Rounding::Ceil } else { math::Rounding::Floor };
            let digits = match field {
                ast::CeilFloorKind::Scale(v) => Some(bind_arg(&E::Value(v.clone()))?),
                ast::CeilFloorKind::DateTimeField(ast::DateTimeField::NoDateTime) => None,
                ast::CeilFloorKind::DateTimeField(f) => bail!(NotSupported, "CEIL/FLOOR(… TO {f}) is not supported"),
            };
            if let Some(d) = &digits {
                const_int("round", d)?;
            }
            math::rounding(mode, bind_arg(expr)?, digits.as_ref(), "round")
        }
        E::IsDistinctFrom(a, b) => conditional::distinct(bind_arg(a)?, bind_arg(b)?, false),
        E::IsNotDistinctFrom(a, b) => conditional::distinct(bind_arg(a)?, bind_arg(b)?, true),
        other => bail!(NotSupported, "expression {other} is not supported yet"),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use granary_storage::Value;
    use sqlparser::parser::Parser;

    use crate::bind::{Binder, Params};
    use crate::catalog::{Catalog, Table};
    use crate::parse::{GranaryDialect, TableName};

    struct NoTables;

    impl Catalog for NoTables {
        fn table(&self, name: &TableName) -> crate::Result<Arc<Table>> {
            crate::error::bail!(UndefinedTable, "no table {}", name.name)
        }

        fn current_database(&self) -> &str {
            "default"
        }
    }

    /// The value of a constant expression, bound as a query would bind it.
    fn eval(sql: &str) -> Value {
        let expr = Parser::new(&GranaryDialect::default()).try_with_sql(sql).unwrap().parse_expr().unwrap();
        Binder::new(&NoTables, Params::Values(&[]), 1_767_532_509).bind_constant(&expr).unwrap()
    }

    /// Postgres behaviour that ClickHouse does not share, so the oracle cannot check it.
    #[test]
    fn postgres_only_spellings() {
        // ISODOW: Monday 1 … Sunday 7; DOW: Sunday 0 (2026-01-04 is a Sunday).
        assert_eq!(eval("EXTRACT(ISODOW FROM toDate('2026-01-04'))"), Value::UInt(7));
        assert_eq!(eval("EXTRACT(DOW FROM toDate('2026-01-04'))"), Value::UInt(0));
        // A cast of a Nullable value keeps NULL instead of failing.
        assert_eq!(eval("CAST(NULL AS Int64)"), Value::Null);
        assert_eq!(eval("'a' || NULL"), Value::Null);
        assert_eq!(eval("TRIM(BOTH FROM '  x ')"), Value::String("x".into()));
        assert_eq!(eval("NULL IS DISTINCT FROM 1"), Value::UInt(1));
        assert_eq!(eval("CASE 2 WHEN 1 THEN 'one' END"), Value::Null);
        assert_eq!(eval("CURRENT_DATE"), Value::Int(20_457));
    }
}
