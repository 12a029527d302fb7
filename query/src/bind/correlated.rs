//! Subqueries as values — `(SELECT …)`, `EXISTS (…)`, `ARRAY(SELECT …)` — including
//! correlated ones, which read columns of the query around them.
//!
//! An uncorrelated subquery runs once, while binding, and becomes a constant. In a correlated
//! one over a single relation (catalog tables, joins, derived tables, a MergeTree table), not
//! under GROUP BY, the subquery runs once per distinct tuple of the outer values it reads, with those
//! values in place of the outer names, and the expression becomes a lookup from the tuple to
//! the answer. This is what tools' catalog queries need (`psql`'s `\d`, SQLAlchemy's
//! `get_columns`). Over a MergeTree table the tuples come from a `SELECT DISTINCT` of the outer
//! values first, over the rows the outer WHERE conditions bound so far keep (up to
//! `MAX_OUTER_TUPLES` tuples).

use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;

use sqlparser::ast::{Visit, Visitor};

use super::*;
use crate::functions::pg::{lookup, tuple_key};

/// The most distinct tuples of outer values a correlated subquery over a MergeTree table runs
/// for: it runs once per tuple.
const MAX_OUTER_TUPLES: usize = 10_000;

/// The query of `ARRAY(SELECT …)`.
pub(super) fn array_subquery(f: &ast::Function) -> Option<&ast::Query> {
    match &f.args {
        ast::FunctionArguments::Subquery(q) if f.name.to_string().eq_ignore_ascii_case("array") => Some(q),
        _ => None,
    }
}

/// The names a query's FROM clauses (at any depth) bring into scope.
#[derive(Default)]
struct InnerNames {
    /// Table names and aliases.
    qualifiers: HashSet<String>,
    /// The tables read.
    tables: Vec<ast::ObjectName>,
}

impl Visitor for InnerNames {
    type Break = ();

    fn pre_visit_table_factor(&mut self, factor: &ast::TableFactor) -> ControlFlow<()> {
        let alias = match factor {
            ast::TableFactor::Table { name, alias, .. } => {
                if let Some(last) = name.0.last().and_then(|p| p.as_ident()) {
                    self.qualifiers.insert(last.value.clone());
                }
                self.tables.push(name.clone());
                alias
            }
            ast::TableFactor::Derived { alias, .. } | ast::TableFactor::Function { alias, .. } | ast::TableFactor::UNNEST { alias, .. } => alias,
            _ => &None,
        };
        if let Some(a) = alias {
            self.qualifiers.insert(a.name.value.clone());
        }
        ControlFlow::Continue(())
    }
}

impl Binder<'_> {
    /// Binds a subquery expression; one that reads the enclosing query's columns is
    /// computed per distinct tuple of those columns (see the module comment).
    pub(super) fn bind_subquery_expr(&self, e: &ast::Expr, scope: &mut Scope) -> Result<Expr> {
        let error = match self.bind_uncorrelated(e, false) {
            Err(err) if err.kind == ErrorKind::UndefinedColumn => err,
            other => return other,
        };
        let Some(rel) = scope.table.filter(|_| scope.grouping.is_none()) else { return Err(error) };
        let outer = self.outer_references(e, rel);
        if outer.is_empty() {
            return Err(error);
        }
        let keys = outer.iter().map(|o| self.bind_expr(o, scope)).collect::<Result<Vec<_>>>()?;
        let columns = self.outer_values(rel, &keys, scope.filter.as_ref())?;
        let mut answers = HashMap::new();
        let mut ty = None;
        for row in 0..columns.first().map_or(0, |c| c.len()) {
            let values: Vec<Value> = columns.iter().map(|c| c.value(row)).collect();
            let Some(key) = tuple_key(&values) else { continue };
            if answers.contains_key(&key) {
                continue;
            }
            let bound = self.bind_uncorrelated(&substitute(e, &outer, &values), true)?;
            ty.get_or_insert_with(|| bound.ty());
            answers.insert(key, bound.eval_const()?);
        }
        let ty = match ty {
            Some(ty) => ty,
            // No outer rows, so no value is ever needed: the type comes from a run over the
            // key types' defaults, or is text when the subquery cannot run on those.
            None => {
                let defaults: Vec<Value> = keys.iter().map(|k| Column::defaults(k.ty().non_null().clone(), 1).value(0)).collect();
                match (self.bind_uncorrelated(&substitute(e, &outer, &defaults), true), e) {
                    (Ok(bound), _) => bound.ty(),
                    (Err(_), ast::Expr::Exists { .. }) => DataType::UInt8,
                    (Err(_), ast::Expr::Function(_)) => DataType::Array(Box::new(DataType::String)),
                    (Err(_), _) => DataType::String,
                }
            }
        };
        let (ty, default) = match e {
            ast::Expr::Exists { .. } => (ty, Value::UInt(0)),
            ast::Expr::Function(_) => (ty, Value::Array(Vec::new())),
            _ => (ty.nullable(), Value::Null),
        };
        lookup(keys, answers, default, ty)
    }

    /// The values `keys` (over `rel`'s columns) take on the rows of `rel` that `filter` (the
    /// outer WHERE bound so far) keeps: on its own rows when they are computed, else the
    /// distinct tuples of a scan of its table (`SELECT DISTINCT keys … WHERE filter`), refused
    /// past `MAX_OUTER_TUPLES` since the subquery runs once per tuple.
    fn outer_values(&self, rel: &Relation, keys: &[Expr], filter: Option<&Expr>) -> Result<Vec<granary_storage::ColumnRef>> {
        if let TableData::Rows { block, .. } = &rel.table.data {
            let kept = match filter {
                Some(f) => block.filter(&crate::exec::mask_bytes(&*f.eval(block)?)),
                None => block.clone(),
            };
            return keys.iter().map(|k| k.eval(&kept)).collect();
        }
        let fields = keys.iter().enumerate().map(|(i, k)| Field { name: format!("outer{i}"), ty: k.ty() }).collect();
        let mut plan = SelectPlan::new(filter.cloned(), keys.to_vec(), fields);
        plan.distinct = true;
        plan.source = scan_source(rel.table.clone(), rel.final_merge || rel.table.finalize_states, &mut plan);
        let block = self.run(&plan)?;
        if block.rows() > MAX_OUTER_TUPLES {
            bail!(NotSupported, "a correlated subquery over {} distinct outer values (at most {MAX_OUTER_TUPLES}): write it as a JOIN", block.rows());
        }
        self.ctx.hold(crate::exec::block_memory(&block))?;
        Ok(block.columns)
    }

    /// Binds a subquery expression that reads only its own tables, running it now.
    /// `per_outer`: it is a correlated one with one tuple of outer values in place, whose
    /// aggregate ClickHouse groups by those values (no rows, no group: NULL, even for `count()`).
    fn bind_uncorrelated(&self, e: &ast::Expr, per_outer: bool) -> Result<Expr> {
        match e {
            ast::Expr::Subquery(query) => {
                let mut plan = self.bind_query(query)?;
                plan.aggregate.iter_mut().for_each(|a| a.grouped_by_outer = per_outer);
                self.scalar_value(plan)
            }
            ast::Expr::Exists { subquery, negated } => {
                let plan = self.bind_query(subquery)?;
                let found = self.run(&SelectPlan { limit: Some(1), ..plan })?.rows() > 0;
                Ok(Expr::Literal { value: Value::UInt((found != *negated) as u64), ty: DataType::UInt8 })
            }
            ast::Expr::Function(f) => {
                let query = array_subquery(f).expect("an ARRAY subquery");
                let column = self.subquery_column(query)?;
                let items = (0..column.len()).map(|i| column.value(i)).collect();
                Ok(Expr::Literal { value: Value::Array(items), ty: DataType::Array(Box::new(column.ty.clone())) })
            }
            other => bail!(Internal, "{other} is not a subquery"),
        }
    }

    /// The names in a subquery that its own tables do not have and `rel` does.
    fn outer_references(&self, e: &ast::Expr, rel: &Relation) -> Vec<ast::Expr> {
        let mut inner = InnerNames::default();
        let _ = e.visit(&mut inner);
        let mut columns = HashSet::new();
        for name in &inner.tables {
            if let Ok(table) = table_name(name).and_then(|t| self.catalog.table(&t)) {
                columns.extend(table.columns().iter().map(|c| c.name.clone()));
            }
        }
        let mut outer = Vec::new();
        let _ = ast::visit_expressions(e, |x: &ast::Expr| {
            let is_outer = match x {
                ast::Expr::Identifier(id) => !columns.contains(&id.value) && rel.resolve(&[id.value.as_str()]).is_some(),
                ast::Expr::CompoundIdentifier(parts) if parts.len() >= 2 => {
                    let names: Vec<&str> = parts.iter().map(|p| p.value.as_str()).collect();
                    !inner.qualifiers.contains(names[names.len() - 2]) && rel.resolve(&names).is_some()
                }
                _ => false,
            };
            if is_outer && !outer.contains(x) {
                outer.push(x.clone());
            }
            ControlFlow::<()>::Continue(())
        });
        outer
    }
}

/// The expression with each outer name replaced by its value.
fn substitute(e: &ast::Expr, outer: &[ast::Expr], values: &[Value]) -> ast::Expr {
    let mut e = e.clone();
    let _ = ast::visit_expressions_mut(&mut e, |x: &mut ast::Expr| {
        if let Some(i) = outer.iter().position(|o| o == x) {
            *x = literal(&values[i]);
        }
        ControlFlow::<()>::Continue(())
    });
    e
}

/// A value as SQL text in the AST.
fn literal(v: &Value) -> ast::Expr {
    let value = match v {
        Value::Null => ast::Value::Null,
        Value::Bool(b) => ast::Value::Boolean(*b),
        Value::UInt(u) => ast::Value::Number(u.to_string(), false),
        Value::Int(i) if *i < 0 => return ast::Expr::UnaryOp { op: ast::UnaryOperator::Minus, expr: Box::new(literal(&Value::UInt(i.unsigned_abs()))) },
        Value::Int(i) => ast::Value::Number(i.to_string(), false),
        Value::Float(f) => ast::Value::Number(f.to_string(), false),
        Value::Array(items) => return ast::Expr::Array(ast::Array { elem: items.iter().map(literal).collect(), named: true }),
        other => ast::Value::SingleQuotedString(String::from_utf8_lossy(other.as_bytes()).into_owned()),
    };
    ast::Expr::Value(value.into())
}
