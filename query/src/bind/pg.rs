//! Postgres spellings that catalog queries use: casts to Postgres type names and to the
//! `reg*` types (`'pg_class'::regclass`, `oid::regtype::text`), the regular-expression
//! operators (`~`, `!~`, `~*`, `OPERATOR(pg_catalog.~)`), `x = ANY (array)` and
//! `LIKE … ESCAPE`.

use super::*;
use crate::functions::pg::{cast_type, reg_cast, PgFn};

/// Names that are functions though written without parentheses.
pub(super) fn is_keyword_function(name: &str) -> bool {
    ["current_user", "session_user", "current_role", "user", "current_catalog", "current_schema"].iter().any(|k| k.eq_ignore_ascii_case(name))
}

/// `(negated, case_insensitive)` of a regular-expression operator, `None` for other operators.
pub(super) fn regex_operator(op: &ast::BinaryOperator) -> Option<(bool, bool)> {
    use ast::BinaryOperator as B;
    match op {
        B::PGRegexMatch => Some((false, false)),
        B::PGRegexIMatch => Some((false, true)),
        B::PGRegexNotMatch => Some((true, false)),
        B::PGRegexNotIMatch => Some((true, true)),
        B::PGCustomBinaryOperator(path) => match path.last().map(String::as_str) {
            Some("~") => Some((false, false)),
            Some("~*") => Some((false, true)),
            Some("!~") => Some((true, false)),
            Some("!~*") => Some((true, true)),
            _ => None,
        },
        _ => None,
    }
}

/// A LIKE pattern with escape character `escape`, rewritten to the backslash escapes
/// `LikePattern` reads.
pub(super) fn like_escape(pattern: &str, escape: char) -> String {
    if escape == '\\' {
        return pattern.to_string();
    }
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c == escape => {
                out.push('\\');
                out.extend(chars.next());
            }
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out
}

impl Binder<'_> {
    /// `x::type` / `CAST(x AS type)`: Granary and Postgres type names; the `reg*` types
    /// look names and OIDs up in the catalog.
    pub(super) fn bind_cast(&self, expr: &ast::Expr, data_type: &ast::DataType, scope: &mut Scope) -> Result<Expr> {
        let name = data_type.to_string();
        let lower = name.to_ascii_lowercase();
        let reg = match lower.trim_start_matches("pg_catalog.") {
            "regclass" => Some(("pg_class", 1)),
            "regtype" => Some(("pg_type", 1)),
            "regproc" | "regprocedure" => Some(("pg_proc", 1)),
            "regnamespace" => Some(("pg_namespace", 1)),
            _ => None,
        };
        if let Some((table, column)) = reg {
            let inner = self.bind_expr(expr, scope)?;
            return reg_cast(&self.function_context(), inner, table, column);
        }
        let ty = match cast_type(&name) {
            Some(ty) => ty,
            None => DataType::from_name(&name).map_err(|e| QueryError::new(ErrorKind::UndefinedType, e.to_string()))?,
        };
        // `$1::int4` says what the parameter is.
        let inner = match placeholder(expr) {
            Some(n) => self.bind_param(n, Some(ty.clone()))?,
            None => self.bind_expr(expr, scope)?,
        };
        inner.cast(ty)
    }

    /// `x op ANY (array)`: a constant array is an IN list (for `=`); an array column is
    /// searched per row.
    pub(super) fn bind_any(&self, left: &ast::Expr, op: &ast::BinaryOperator, right: &ast::Expr, scope: &mut Scope) -> Result<Expr> {
        if *op != ast::BinaryOperator::Eq {
            bail!(NotSupported, "{op} ANY is not supported: only = ANY");
        }
        let list = match right {
            ast::Expr::Array(a) => Some(a.elem.clone()),
            ast::Expr::Nested(inner) => match inner.as_ref() {
                ast::Expr::Array(a) => Some(a.elem.clone()),
                _ => None,
            },
            _ => None,
        };
        if let Some(list) = list {
            let in_list = ast::Expr::In { expr: Box::new(left.clone()), target: ast::InTarget::List(list), negated: false, global: false };
            return self.bind_expr(&in_list, scope);
        }
        let array = self.bind_expr(right, scope)?;
        let element = match array.ty().non_null() {
            DataType::Array(t) => t.as_ref().clone(),
            t => bail!(DatatypeMismatch, "ANY needs an array, not {t}"),
        };
        let x = self.bind_expr(left, scope)?.cast(element)?;
        Expr::call(Func::Scalar(PgFn::ArrayContains.into()), vec![array, x])
    }

    /// A set-returning function in FROM: `generate_series(start, stop[, step])` (one column,
    /// named by the alias) or `pg_get_keywords()`.
    pub(super) fn table_function(&self, name: &ast::ObjectName, args: &ast::TableFunctionArgs, alias: Option<&ast::TableAlias>) -> Result<Relation> {
        let function = name.0.last().and_then(|p| p.as_ident()).map(|i| i.value.to_ascii_lowercase()).unwrap_or_default();
        let (args, _) = function_args(&ast::FunctionArguments::List(ast::FunctionArgumentList { duplicate_treatment: None, args: args.args.clone(), clauses: Vec::new() }))?;
        let values = args.iter().map(|a| self.bind_constant(a)).collect::<Result<Vec<_>>>()?;
        let qualifier = alias.map_or(function.clone(), |a| a.name.value.clone());
        let (columns, block): (Vec<(String, DataType)>, Vec<Column>) = match (function.as_str(), values.as_slice()) {
            ("generate_series", [start, stop, step @ ..]) => {
                let int = |v: &Value| v.as_i64().ok_or_else(|| QueryError::new(ErrorKind::DatatypeMismatch, "generate_series takes integers"));
                let (start, stop, step) = (int(start)?, int(stop)?, step.first().map(int).transpose()?.unwrap_or(1));
                if step == 0 {
                    bail!(InvalidParameter, "the step of generate_series must not be zero");
                }
                let mut series = Vec::new();
                let mut i = start;
                while (step > 0 && i <= stop) || (step < 0 && i >= stop) {
                    series.push(Value::Int(i));
                    i += step;
                }
                (vec![(qualifier.clone(), DataType::Int64)], vec![Column::from_values(DataType::Int64, &series)?])
            }
            ("pg_get_keywords", []) => {
                let words: Vec<Value> = sqlparser::keywords::ALL_KEYWORDS.iter().map(|k| Value::String(k.to_ascii_lowercase())).collect();
                let n = words.len();
                let text = |s: &str| Column::from_values(DataType::String, &vec![Value::String(s.into()); n]);
                let columns = ["word", "catcode", "barelabel", "catdesc", "baredesc"].iter().map(|c| (c.to_string(), if *c == "barelabel" { DataType::Bool } else { DataType::String })).collect();
                (columns, vec![Column::from_values(DataType::String, &words)?, text("U")?, Column::from_values(DataType::Bool, &vec![Value::Bool(true); n])?, text("unreserved")?, text("can be bare label")?])
            }
            _ => bail!(UndefinedFunction, "table function {name} does not exist"),
        };
        let n = columns.len();
        let rows = block.first().map_or(0, Column::len);
        let specs = columns.into_iter().map(|(name, ty)| ColumnSpec { name, ty, codec: Default::default(), filter: None }).collect();
        Ok(Relation::rows("", &qualifier, specs, Block::with_rows(block.into_iter().map(Arc::new).collect(), rows), vec![qualifier.clone(); n], vec![false; n]))
    }

    /// `s ~ 'regex'` and its negated and case-insensitive forms.
    pub(super) fn bind_regex(&self, left: &ast::Expr, op: &ast::BinaryOperator, right: &ast::Expr, scope: &mut Scope) -> Result<Expr> {
        let (negated, ci) = regex_operator(op).expect("a regex operator");
        let s = self.bind_expr(left, scope)?;
        let pattern = match self.bind_expr(right, &mut Scope::over(None))?.eval_const()? {
            Value::String(p) if ci => format!("(?i){p}"),
            Value::String(p) => p,
            other => bail!(DatatypeMismatch, "a regular expression must be a string, got {other:?}"),
        };
        let pattern = Expr::Literal { value: Value::String(pattern), ty: DataType::String };
        let matched = crate::functions::strings::bind("match", &[s, pattern], &self.function_context())?.expect("match is a string function");
        if negated {
            Expr::call(Func::Not, vec![matched])
        } else {
            Ok(matched)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(like_escape("pg/_%", '/'), "pg\\_%");
        assert_eq!(like_escape("a\\b", '/'), "a\\\\b");
    }
}
