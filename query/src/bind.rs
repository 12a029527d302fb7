//! Binding: sqlparser's AST to a typed `SelectPlan`, resolving names against the catalog.
//!
//! Expressions bind in one of two scopes. In the row scope, identifiers are table columns
//! (or, as in ClickHouse, aliases of the SELECT list). After GROUP BY, an expression either
//! equals a group key, is an aggregate call (whose arguments bind in the row scope), or is
//! built from such pieces; a bare column that is neither is a grouping error.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ops::Bound;
use std::sync::Arc;

use granary_storage::index::ColumnRange;
use granary_storage::part::ColumnSpec;
use granary_storage::{Block, Column, DataType, Value};
use sqlparser::ast;

use crate::aggregate::AggFunc;
use crate::interval::{interval_step, IntervalStep};
use crate::states::AggMode;
use crate::catalog::{Catalog, Table, TableData};
use crate::error::{bail, ErrorKind, QueryError, Result};
use crate::expr::{Expr, Func};
use crate::functions;
use crate::kernels::CmpOp;
use crate::like::LikePattern;
use crate::parse::TableName;
use crate::plan::{AggCall, AggregatePlan, Field, SelectPlan, SortKey, Source};

/// How `$n` parameters bind.
#[derive(Debug)]
pub enum Params<'a> {
    /// With their values.
    Values(&'a [Value]),
    /// Without values, to infer their types from context (extended protocol Describe).
    Infer(RefCell<Vec<Option<DataType>>>),
}

/// Binds statements against a catalog at one moment in time (`now()` is fixed per query).
pub struct Binder<'a> {
    catalog: &'a dyn Catalog,
    params: Params<'a>,
    now: i64,
}

/// The names an expression can see.
struct Scope<'s> {
    /// The columns in reach, with the (database, table) names that may qualify them.
    table: Option<TableScope<'s>>,
    /// Alias → its SELECT-list expression.
    aliases: HashMap<String, ast::Expr>,
    /// Set after GROUP BY: keys (over the scan) and the aggregate calls found so far.
    grouping: Option<Grouping>,
    /// Guards alias expansion against cycles.
    depth: usize,
}

#[derive(Clone, Copy)]
struct TableScope<'s> {
    database: &'s str,
    name: &'s str,
    columns: &'s [ColumnSpec],
    finalize_states: bool,
}

impl TableScope<'_> {
    fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }
}

struct Grouping {
    keys: Vec<Expr>,
    aggs: Vec<AggCall>,
}

impl<'a> Binder<'a> {
    /// A binder over `catalog`; `now` is the Unix time `now()` and `today()` report.
    pub fn new(catalog: &'a dyn Catalog, params: Params<'a>, now: i64) -> Binder<'a> {
        Binder { catalog, params, now }
    }

    /// The parameter types inferred so far (in `Params::Infer` mode); unknown ones are String.
    pub fn param_types(&self) -> Vec<DataType> {
        match &self.params {
            Params::Infer(types) => types.borrow().iter().map(|t| t.clone().unwrap_or(DataType::String)).collect(),
            Params::Values(v) => v.iter().map(value_type).collect(),
        }
    }

    /// Binds a query into an executable plan.
    pub fn bind_query(&self, query: &ast::Query) -> Result<SelectPlan> {
        if query.with.is_some() {
            bail!(NotSupported, "WITH is not supported yet");
        }
        let ast::SetExpr::Select(select) = query.body.as_ref() else {
            bail!(NotSupported, "only plain SELECT queries are supported yet");
        };
        if select.distinct.is_some() {
            bail!(NotSupported, "SELECT DISTINCT is not supported yet");
        }
        let mut final_merge = false;
        let table = match select.from.as_slice() {
            [] => None,
            [from] => {
                let base = match &from.relation {
                    ast::TableFactor::Table { name, args: None, alias, .. } => {
                        // sqlparser reads ClickHouse's `FROM t FINAL` as the alias FINAL.
                        final_merge = alias.as_ref().is_some_and(|a| !a.explicit && a.name.quote_style.is_none() && a.name.value.eq_ignore_ascii_case("final"));
                        let table = self.catalog.table(&table_name(name)?)?;
                        match &table.data {
                            TableData::View(query) => self.materialize(query, &table.name)?,
                            _ => table,
                        }
                    }
                    ast::TableFactor::Derived { subquery, alias, .. } => self.materialize(subquery, alias.as_ref().map_or("", |a| a.name.value.as_str()))?,
                    other => bail!(NotSupported, "FROM {other} is not supported yet"),
                };
                match from.joins.as_slice() {
                    [] => Some(base),
                    [join] => Some(self.array_join(base, final_merge, join)?),
                    _ => bail!(NotSupported, "more than one JOIN is not supported yet"),
                }
            }
            _ => bail!(NotSupported, "joins are not supported yet"),
        };
        let table_scope = table.as_deref().map(|t| TableScope { database: &t.database, name: &t.name, columns: t.columns(), finalize_states: t.finalize_states });
        let mut scope = Scope { table: table_scope, aliases: HashMap::new(), grouping: None, depth: 0 };

        // The SELECT list as (expression, output name).
        let mut items: Vec<(ast::Expr, String)> = Vec::new();
        for item in &select.projection {
            match item {
                ast::SelectItem::UnnamedExpr(e) => items.push((e.clone(), column_name(e))),
                ast::SelectItem::ExprWithAlias { expr, alias } => {
                    scope.aliases.insert(alias.value.clone(), expr.clone());
                    items.push((expr.clone(), alias.value.clone()));
                }
                ast::SelectItem::Wildcard(_) => {
                    let Some(t) = scope.table else { bail!(Syntax, "SELECT * needs a FROM clause") };
                    for c in t.columns {
                        items.push((ast::Expr::Identifier(ast::Ident::new(&c.name)), c.name.clone()));
                    }
                }
                other => bail!(NotSupported, "select item {other} is not supported yet"),
            }
        }

        let filter = match &select.selection {
            Some(e) => Some(self.bind_condition(e, &mut scope, "WHERE")?),
            None => None,
        };
        if select.prewhere.is_some() {
            bail!(NotSupported, "PREWHERE is not supported yet");
        }

        let group_by: Vec<ast::Expr> = match &select.group_by {
            ast::GroupByExpr::Expressions(exprs, modifiers) if modifiers.is_empty() => exprs.clone(),
            _ => bail!(NotSupported, "this GROUP BY form is not supported yet"),
        };
        let order_by: Vec<(ast::Expr, bool, bool)> = match &query.order_by {
            None => Vec::new(),
            Some(ob) => match &ob.kind {
                ast::OrderByKind::Expressions(list) => list
                    .iter()
                    .map(|o| (o.expr.clone(), matches!(o.options.sort, Some(ast::OrderBySort::Desc)), o.options.nulls_first == Some(true)))
                    .collect(),
                ast::OrderByKind::All(_) => bail!(NotSupported, "ORDER BY ALL is not supported yet"),
            },
        };
        let aggregating = !group_by.is_empty()
            || select.having.is_some()
            || items.iter().any(|(e, _)| contains_aggregate(e))
            || order_by.iter().any(|(e, _, _)| contains_aggregate(e));

        let mut aggregate = None;
        let mut having = None;
        if aggregating {
            let mut keys = Vec::new();
            for g in &group_by {
                let e = resolve_reference(g, &items, &scope)?;
                if contains_aggregate(&e) {
                    bail!(Grouping, "aggregate functions are not allowed in GROUP BY");
                }
                keys.push(self.bind_expr(&e, &mut scope)?);
            }
            scope.grouping = Some(Grouping { keys, aggs: Vec::new() });
            if let Some(h) = &select.having {
                having = Some(self.bind_condition(h, &mut scope, "HAVING")?);
            }
        }
        let mut outputs = Vec::new();
        let mut fields = Vec::new();
        for (e, name) in &items {
            let bound = self.bind_expr(e, &mut scope)?;
            fields.push(Field { name: name.clone(), ty: bound.ty() });
            outputs.push(bound);
        }
        let mut sort = Vec::new();
        for (e, desc, nulls_first) in &order_by {
            let e = resolve_reference(e, &items, &scope)?;
            sort.push(SortKey { expr: self.bind_expr(&e, &mut scope)?, desc: *desc, nulls_first: *nulls_first });
        }
        if let Some(g) = scope.grouping.take() {
            aggregate = Some(AggregatePlan { keys: g.keys, aggs: g.aggs });
        }
        let (limit, offset) = self.bind_limit(query)?;

        let mut plan = SelectPlan { source: Source::OneRow, filter, aggregate, having, outputs, sort, limit, offset, fields };
        if let Some(table) = table {
            // Rollups that keep states are always read folded: each key shows its exact value.
            let final_merge = final_merge || table.finalize_states;
            plan.source = scan_source(table, final_merge, &mut plan);
        }
        Ok(plan)
    }

    fn bind_limit(&self, query: &ast::Query) -> Result<(Option<usize>, usize)> {
        let number = |e: &ast::Expr| -> Result<usize> {
            match self.bind_constant(e)? {
                Value::UInt(n) => Ok(n as usize),
                Value::Int(n) if n >= 0 => Ok(n as usize),
                other => bail!(InvalidParameter, "LIMIT and OFFSET need a non-negative integer, got {other:?}"),
            }
        };
        Ok(match &query.limit_clause {
            None => (None, 0),
            Some(ast::LimitClause::LimitOffset { limit, offset, limit_by }) => {
                if !limit_by.is_empty() {
                    bail!(NotSupported, "LIMIT BY is not supported yet");
                }
                (limit.as_ref().map(number).transpose()?, offset.as_ref().map(|o| number(&o.value)).transpose()?.unwrap_or(0))
            }
            Some(ast::LimitClause::OffsetCommaLimit { offset, limit }) => (Some(number(limit)?), number(offset)?),
        })
    }

    /// Binds an expression that reads no columns and evaluates it.
    pub fn bind_constant(&self, e: &ast::Expr) -> Result<Value> {
        let mut scope = Scope { table: None, aliases: HashMap::new(), grouping: None, depth: 0 };
        match self.bind_expr(e, &mut scope)? {
            Expr::Literal { value, .. } => Ok(value),
            other => other.eval_const(),
        }
    }

    /// Binds an expression over a row of `columns` (partition keys, defaults).
    pub fn bind_row_expr(&self, e: &ast::Expr, columns: &[ColumnSpec]) -> Result<Expr> {
        let mut scope = Scope { table: Some(TableScope { database: "", name: "", columns, finalize_states: false }), aliases: HashMap::new(), grouping: None, depth: 0 };
        self.bind_expr(e, &mut scope)
    }

    fn bind_condition(&self, e: &ast::Expr, scope: &mut Scope, clause: &str) -> Result<Expr> {
        let bound = self.bind_expr(e, scope)?;
        match bound.ty().non_null() {
            DataType::UInt8 | DataType::Bool => Ok(bound),
            t => bail!(DatatypeMismatch, "illegal type {t} of column for {clause} filter: must be UInt8 or Bool"),
        }
    }

    fn bind_expr(&self, e: &ast::Expr, scope: &mut Scope) -> Result<Expr> {
        if scope.grouping.is_some() && !contains_aggregate(e) {
            // After GROUP BY: a whole group key, or a constant, binds directly.
            let grouping = scope.grouping.take();
            let row = self.bind_expr(e, scope);
            scope.grouping = grouping;
            if let Ok(row) = row {
                let keys = &scope.grouping.as_ref().expect("grouping").keys;
                if let Some(k) = keys.iter().position(|key| *key == row) {
                    return Ok(Expr::Column { index: k, ty: row.ty() });
                }
                let mut reads = false;
                row.visit_columns(&mut |_| reads = true);
                if !reads {
                    return Ok(row);
                }
                if matches!(e, ast::Expr::Identifier(_) | ast::Expr::CompoundIdentifier(_)) {
                    bail!(Grouping, "column {e} is not under an aggregate function and not in GROUP BY");
                }
            }
        }
        use ast::Expr as E;
        Ok(match e {
            E::Identifier(ident) => self.bind_name(&ident.value, scope)?,
            E::CompoundIdentifier(parts) => {
                let full: Vec<&str> = parts.iter().map(|p| p.value.as_str()).collect();
                match (scope.table, full.as_slice()) {
                    (Some(t), _) if t.column_index(&full.join(".")).is_some() => self.bind_name(&full.join("."), scope)?,
                    (Some(t), [q, c]) if *q == t.name => self.bind_name(c, scope)?,
                    (Some(t), [db, q, c]) if *q == t.name && *db == t.database => self.bind_name(c, scope)?,
                    _ => bail!(UndefinedColumn, "column {e} does not exist"),
                }
            }
            E::CompoundFieldAccess { root, access_chain } => self.bind_field_access(root, access_chain, scope)?,
            E::Subquery(query) => self.bind_scalar_subquery(query)?,
            E::IsNull(inner) => Expr::call(Func::IsNull, vec![self.bind_expr(inner, scope)?])?,
            E::IsNotNull(inner) => Expr::call(Func::IsNotNull, vec![self.bind_expr(inner, scope)?])?,
            E::Array(array) => {
                let items = array.elem.iter().map(|item| self.bind_expr(item, scope)).collect::<Result<Vec<_>>>()?;
                let element = items.first().map_or(DataType::UInt8, Expr::ty);
                let values = items.iter().map(|item| item.clone().cast(element.clone())?.eval_const()).collect::<Result<Vec<_>>>()?;
                Expr::Literal { value: Value::Array(values), ty: DataType::Array(Box::new(element)) }
            }
            E::Value(v) => self.bind_value(&v.value, None)?,
            E::Nested(inner) => self.bind_expr(inner, scope)?,
            E::UnaryOp { op, expr } => match op {
                ast::UnaryOperator::Minus => match expr.as_ref() {
                    E::Value(ast::ValueWithSpan { value: ast::Value::Number(n, _), .. }) => number_literal(&format!("-{n}"))?,
                    _ => Expr::call(Func::Neg, vec![self.bind_expr(expr, scope)?])?,
                },
                ast::UnaryOperator::Plus => self.bind_expr(expr, scope)?,
                ast::UnaryOperator::Not => Expr::call(Func::Not, vec![self.bind_expr(expr, scope)?])?,
                other => bail!(NotSupported, "operator {other} is not supported yet"),
            },
            E::BinaryOp { left, op: op @ (ast::BinaryOperator::Plus | ast::BinaryOperator::Minus), right }
                if matches!(right.as_ref(), E::Interval(_)) || (*op == ast::BinaryOperator::Plus && matches!(left.as_ref(), E::Interval(_))) =>
            {
                let (time, interval, sign) = match (left.as_ref(), right.as_ref()) {
                    (time, E::Interval(i)) => (time, i, if *op == ast::BinaryOperator::Minus { -1 } else { 1 }),
                    (E::Interval(i), time) => (time, i, 1),
                    _ => unreachable!("one side is an interval"),
                };
                let time = self.bind_expr(time, scope)?;
                shift_by_interval(time, interval_step(interval, sign)?)?
            }
            E::BinaryOp { op: ast::BinaryOperator::StringConcat, .. } => functions::bind_syntax(e, &functions::Context { now: self.now }, &mut |a| self.bind_expr(a, scope))?,
            E::BinaryOp { left, op, right } => {
                let func = match op {
                    ast::BinaryOperator::Plus => Func::Add,
                    ast::BinaryOperator::Minus => Func::Sub,
                    ast::BinaryOperator::Multiply => Func::Mul,
                    ast::BinaryOperator::Divide => Func::Div,
                    ast::BinaryOperator::Modulo => Func::Mod,
                    ast::BinaryOperator::Eq => Func::Cmp(CmpOp::Eq),
                    ast::BinaryOperator::NotEq => Func::Cmp(CmpOp::NotEq),
                    ast::BinaryOperator::Lt => Func::Cmp(CmpOp::Lt),
                    ast::BinaryOperator::LtEq => Func::Cmp(CmpOp::LtEq),
                    ast::BinaryOperator::Gt => Func::Cmp(CmpOp::Gt),
                    ast::BinaryOperator::GtEq => Func::Cmp(CmpOp::GtEq),
                    ast::BinaryOperator::And => Func::And,
                    ast::BinaryOperator::Or => Func::Or,
                    other => bail!(NotSupported, "operator {other} is not supported yet"),
                };
                let (l, r) = self.bind_pair(left, right, scope)?;
                Expr::call(func, vec![l, r])?
            }
            E::Between { expr, negated, low, high } => {
                let (x, lo) = self.bind_pair(expr, low, scope)?;
                let (_, hi) = self.bind_pair(expr, high, scope)?;
                if *negated {
                    let below = Expr::call(Func::Cmp(CmpOp::Lt), vec![x.clone(), lo])?;
                    Expr::call(Func::Or, vec![below, Expr::call(Func::Cmp(CmpOp::Gt), vec![x, hi])?])?
                } else {
                    let above = Expr::call(Func::Cmp(CmpOp::GtEq), vec![x.clone(), lo])?;
                    Expr::call(Func::And, vec![above, Expr::call(Func::Cmp(CmpOp::LtEq), vec![x, hi])?])?
                }
            }
            E::In { expr, target: ast::InTarget::List(list), negated, .. } => {
                let x = self.bind_expr(expr, scope)?;
                let x_ty = x.ty().non_null().clone();
                let mut values = Vec::with_capacity(list.len());
                for item in list {
                    let lit = match item {
                        E::Value(v) => self.bind_value(&v.value, Some(x_ty.clone()))?,
                        other => self.bind_expr(other, &mut Scope { table: None, aliases: HashMap::new(), grouping: None, depth: 0 })?,
                    };
                    // A string constant adopts the column's type; temporal constants convert to it.
                    let lit = match (&x_ty, lit.ty()) {
                        (DataType::String, DataType::String) => lit,
                        (DataType::String, t) => bail!(DatatypeMismatch, "IN list of {t} values for a String column"),
                        // As with `=`, a name that is not in the enum matches nothing.
                        (DataType::Enum(e), DataType::String) if matches!(&lit, Expr::Literal { value: Value::String(n), .. } if e.number(n).is_none()) => continue,
                        (a, b) if b == DataType::String || (a.is_temporal() && *a != b) => lit.cast(a.clone())?,
                        _ => lit,
                    };
                    values.push(lit);
                }
                let list_ty = if x_ty.is_string() || x_ty.is_temporal() || matches!(x_ty, DataType::Uuid | DataType::Decimal { .. }) {
                    x_ty.clone()
                } else if values.iter().any(|v| v.ty().is_float()) || x_ty.is_float() {
                    DataType::Float64
                } else if values.iter().any(|v| v.ty().is_signed()) || x_ty.is_signed() || matches!(x_ty, DataType::Enum(_)) {
                    DataType::Int64
                } else {
                    DataType::UInt64
                };
                let consts = values.iter().map(|v| v.clone().cast(list_ty.clone()).and_then(|c| c.eval_const())).collect::<Result<Vec<_>>>()?;
                let list = Arc::new(Column::from_values(list_ty, &consts)?);
                Expr::call(Func::InList { negated: *negated, list }, vec![x])?
            }
            E::Like { negated, expr, pattern, escape_char, any: false } if escape_char.is_none() => self.bind_like(expr, pattern, *negated, false, scope)?,
            E::ILike { negated, expr, pattern, escape_char, any: false } if escape_char.is_none() => self.bind_like(expr, pattern, *negated, true, scope)?,
            E::Cast { expr, data_type, .. } => {
                let ty = DataType::from_name(&data_type.to_string()).map_err(|e| QueryError::new(ErrorKind::UndefinedType, e.to_string()))?;
                self.bind_expr(expr, scope)?.cast(ty)?
            }
            E::TypedString(ts) => {
                let ty = DataType::from_name(&ts.data_type.to_string()).map_err(|e| QueryError::new(ErrorKind::UndefinedType, e.to_string()))?;
                self.bind_value(&ts.value.value, None)?.cast(ty)?
            }
            E::Function(f) => self.bind_function(f, scope)?,
            other => functions::bind_syntax(other, &functions::Context { now: self.now }, &mut |a| self.bind_expr(a, scope))?,
        })
    }

    /// `root.field[i]…`: dotted names join into a column name first (Nested columns are
    /// called `n.field`), then each subscript indexes an array.
    /// A subquery in FROM: it runs once, now, and its rows become a table of computed rows
    /// named by its alias (when only describing a statement it is bound but not run).
    fn materialize(&self, query: &ast::Query, alias: &str) -> Result<Arc<Table>> {
        let plan = self.bind_query(query)?;
        let columns: Vec<ColumnSpec> = plan.fields.iter().map(|f| ColumnSpec { name: f.name.clone(), ty: f.ty.clone(), codec: Default::default(), filter: None }).collect();
        let block = match self.params {
            Params::Infer(_) => None,
            Params::Values(_) => Block::concat(&crate::exec::execute(&plan, &crate::exec::QueryContext::default())?.blocks),
        };
        let block = block.unwrap_or_else(|| Block::with_rows(columns.iter().map(|c| Arc::new(Column::empty(c.ty.clone()))).collect(), 0));
        Ok(Arc::new(Table { database: String::new(), name: alias.to_string(), data: TableData::Rows { columns, block }, finalize_states: false }))
    }

    /// `FROM t [LEFT | INNER] ARRAY JOIN a [AS x]`: one row per element of array column `a`
    /// (or, for a Nested name, of all its arrays side by side), the other columns repeated.
    /// `a` itself becomes the element unless an alias names the element instead. Rows with
    /// empty arrays disappear, except under LEFT ARRAY JOIN, which keeps them with the
    /// element's default. The rows of `t` are read first and expanded in memory.
    fn array_join(&self, base: Arc<Table>, final_merge: bool, join: &ast::Join) -> Result<Arc<Table>> {
        let keep_empty = match join.join_operator {
            ast::JoinOperator::ArrayJoin | ast::JoinOperator::InnerArrayJoin => false,
            ast::JoinOperator::LeftArrayJoin => true,
            _ => bail!(NotSupported, "joins are not supported yet"),
        };
        let ast::TableFactor::Table { name, alias, .. } = &join.relation else { bail!(NotSupported, "ARRAY JOIN takes an array column: {}", join.relation) };
        let target = name.to_string().trim_matches('"').to_string();
        let (database, table_name) = (base.database.clone(), base.name.clone());
        let base = match &base.data {
            TableData::Rows { .. } => base,
            _ => {
                let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
                let sql = format!("SELECT * FROM {}.{}{}", quote(&database), quote(&table_name), if final_merge { " FINAL" } else { "" });
                let query = match crate::parse::parse_script(&sql)?.pop() {
                    Some(crate::parse::Statement::Query(q)) => q,
                    _ => bail!(Internal, "cannot read {table_name} for ARRAY JOIN"),
                };
                self.materialize(&query, &table_name)?
            }
        };
        let TableData::Rows { columns, block } = &base.data else { unreachable!("a table of rows") };
        let joined: Vec<usize> = match columns.iter().position(|c| c.name == target) {
            Some(i) => vec![i],
            None => (0..columns.len()).filter(|&i| columns[i].name.strip_prefix(&target).is_some_and(|rest| rest.starts_with('.'))).collect(),
        };
        if joined.is_empty() || joined.iter().any(|&i| columns[i].ty.value_type().element().is_none()) {
            bail!(UndefinedColumn, "ARRAY JOIN needs an array or Nested column; {target} is neither");
        }
        // Which source row each output row repeats, and each joined array's elements.
        let mut repeat = Vec::new();
        let mut elements: Vec<Column> = joined.iter().map(|&i| Column::empty(columns[i].ty.value_type().element().expect("an array").clone())).collect();
        for row in 0..block.rows() {
            let arrays = joined
                .iter()
                .zip(&elements)
                .map(|(&i, e)| match &block.columns[i].data {
                    granary_storage::ColumnData::Bytes(s) => Ok(granary_storage::array::decode_row(&e.ty, s.get(row))?),
                    _ => bail!(Internal, "an array column without bytes"),
                })
                .collect::<Result<Vec<Column>>>()?;
            let n = arrays[0].len();
            if arrays.iter().any(|a| a.len() != n) {
                bail!(InvalidParameter, "sizes of ARRAY-JOINed arrays do not match in row {}", row + 1);
            }
            if n == 0 && keep_empty {
                repeat.push(row as u32);
                for e in &mut elements {
                    e.append(&Column::defaults(e.ty.clone(), 1));
                }
            }
            repeat.extend(std::iter::repeat_n(row as u32, n));
            for (e, a) in elements.iter_mut().zip(&arrays) {
                e.append(a);
            }
        }
        let mut out_columns: Vec<ColumnSpec> = columns.to_vec();
        let mut out = block.take(&repeat).columns;
        for (&i, e) in joined.iter().zip(elements) {
            let name = match alias {
                None => columns[i].name.clone(),
                Some(a) => format!("{}{}", a.name.value, &columns[i].name[target.len()..]),
            };
            let spec = ColumnSpec { name, ty: e.ty.clone(), codec: Default::default(), filter: None };
            if alias.is_none() {
                (out_columns[i], out[i]) = (spec, Arc::new(e));
            } else {
                out_columns.push(spec);
                out.push(Arc::new(e));
            }
        }
        Ok(Arc::new(Table { database, name: table_name, data: TableData::Rows { columns: out_columns, block: Block::with_rows(out, repeat.len()) }, finalize_states: false }))
    }

    /// `(SELECT …)` as a value: the subquery (uncorrelated) runs once, now, and its single
    /// value becomes a constant; no row gives NULL, more than one row is an error. When
    /// only describing a statement, the subquery is bound for its type but not run.
    fn bind_scalar_subquery(&self, query: &ast::Query) -> Result<Expr> {
        let plan = self.bind_query(query)?;
        let [field] = plan.fields.as_slice() else {
            bail!(InvalidParameter, "a scalar subquery must return one column, not {}", plan.fields.len());
        };
        let ty = field.ty.clone();
        if let Params::Infer(_) = self.params {
            return Ok(Expr::Literal { value: Value::Null, ty: ty.nullable() });
        }
        let result = crate::exec::execute(&plan, &crate::exec::QueryContext::default())?;
        match result.rows() {
            0 => Ok(Expr::Literal { value: Value::Null, ty: ty.nullable() }),
            1 => {
                let block = result.blocks.iter().find(|b| b.rows() == 1).expect("the one row");
                Ok(Expr::Literal { value: block.columns[0].value(0), ty })
            }
            n => bail!(InvalidParameter, "a scalar subquery returned {n} rows; it must return at most one"),
        }
    }

    fn bind_field_access(&self, root: &ast::Expr, chain: &[ast::AccessExpr], scope: &mut Scope) -> Result<Expr> {
        let mut names: Vec<ast::Ident> = match root {
            ast::Expr::Identifier(id) => vec![id.clone()],
            ast::Expr::CompoundIdentifier(parts) => parts.clone(),
            _ => Vec::new(),
        };
        let mut rest = chain;
        if !names.is_empty() {
            while let Some((ast::AccessExpr::Dot(ast::Expr::Identifier(id)), tail)) = rest.split_first() {
                names.push(id.clone());
                rest = tail;
            }
        }
        let mut bound = match names.len() {
            0 => self.bind_expr(root, scope)?,
            1 => self.bind_expr(&ast::Expr::Identifier(names.remove(0)), scope)?,
            _ => self.bind_expr(&ast::Expr::CompoundIdentifier(names), scope)?,
        };
        for access in rest {
            match access {
                ast::AccessExpr::Subscript(ast::Subscript::Index { index }) => {
                    let i = self.bind_expr(index, scope)?;
                    bound = Expr::call(Func::ArrayElement, vec![bound, i])?;
                }
                other => bail!(NotSupported, "access {other} is not supported yet"),
            }
        }
        Ok(bound)
    }

    /// Binds two operands; a `$n` on one side takes the type of the other.
    fn bind_pair(&self, a: &ast::Expr, b: &ast::Expr, scope: &mut Scope) -> Result<(Expr, Expr)> {
        match (placeholder(a), placeholder(b)) {
            (Some(n), None) => {
                let r = self.bind_expr(b, scope)?;
                Ok((self.bind_param(n, Some(r.ty()))?, r))
            }
            (None, Some(n)) => {
                let l = self.bind_expr(a, scope)?;
                let r = self.bind_param(n, Some(l.ty()))?;
                Ok((l, r))
            }
            _ => Ok((self.bind_expr(a, scope)?, self.bind_expr(b, scope)?)),
        }
    }

    fn bind_like(&self, expr: &ast::Expr, pattern: &ast::Expr, negated: bool, ci: bool, scope: &mut Scope) -> Result<Expr> {
        let x = self.bind_expr(expr, scope)?;
        let pattern = match self.bind_expr(pattern, &mut Scope { table: None, aliases: HashMap::new(), grouping: None, depth: 0 })?.eval_const()? {
            Value::String(p) => p,
            other => bail!(DatatypeMismatch, "LIKE pattern must be a string, got {other:?}"),
        };
        Expr::call(Func::Like { negated, pattern: Arc::new(LikePattern::new(&pattern, ci)) }, vec![x])
    }

    fn bind_name(&self, name: &str, scope: &mut Scope) -> Result<Expr> {
        if let Some(t) = scope.table {
            if let Some(i) = t.column_index(name) {
                let column = Expr::Column { index: i, ty: t.columns[i].ty.value_type() };
                if t.finalize_states && matches!(column.ty(), DataType::AggregateFunction { .. }) {
                    return Expr::call(Func::FinalizeAggregation, vec![column]);
                }
                return Ok(column);
            }
        }
        if let Some(alias) = scope.aliases.get(name).cloned() {
            if scope.depth > 32 {
                bail!(Syntax, "cyclic aliases in expression {name}");
            }
            scope.depth += 1;
            let bound = self.bind_expr(&alias, scope);
            scope.depth -= 1;
            return bound;
        }
        bail!(UndefinedColumn, "column {name} does not exist")
    }

    fn bind_function(&self, f: &ast::Function, scope: &mut Scope) -> Result<Expr> {
        let name = f.name.to_string();
        let lower = name.to_ascii_lowercase();
        let (args, distinct) = function_args(&f.args)?;
        if let Some((agg, mut mode)) = AggMode::parse(&lower) {
            let mut agg = agg.with_params(&self.aggregate_params(f)?)?;
            let Some(grouping) = scope.grouping.take() else {
                bail!(Grouping, "aggregate function {name} is not allowed here");
            };
            let mut row_scope = Scope { table: scope.table, aliases: scope.aliases.clone(), grouping: None, depth: scope.depth };
            let bound_args = args.iter().map(|a| self.bind_expr(a, &mut row_scope)).collect::<Result<Vec<_>>>();
            scope.grouping = Some(grouping);
            let mut bound_args = bound_args?;
            // `uniqExact(col)` over a finalized `AggregateFunction(uniqExact, …)` column merges
            // the states: the exact answer over all the rows the states summarise.
            if let (AggMode::Plain, [Expr::Call { func: Func::FinalizeAggregation, args: inner, .. }]) = (mode, bound_args.as_slice()) {
                if matches!(inner[0].ty(), DataType::AggregateFunction { func, .. } if func.eq_ignore_ascii_case(&agg.type_name())) {
                    (mode, bound_args) = (AggMode::Merge, inner.clone());
                }
            }
            if distinct {
                agg = match agg {
                    AggFunc::Count => AggFunc::UniqExact,
                    other => AggFunc::Distinct(Box::new(other)),
                };
            } else if agg == AggFunc::Count && mode != AggMode::Merge && !bound_args.iter().any(|a| a.ty().is_nullable()) {
                bound_args.clear(); // count(x) of a non-Nullable x counts rows.
            }
            // `f(x) FILTER (WHERE cond)` is `fIf(x, cond)`.
            if let Some(filter) = &f.filter {
                let mut row_scope = Scope { table: scope.table, aliases: scope.aliases.clone(), grouping: None, depth: scope.depth };
                bound_args.push(self.bind_condition(filter, &mut row_scope, "FILTER")?);
                agg = AggFunc::If(Box::new(agg));
            }
            let arg_types: Vec<DataType> = bound_args.iter().map(Expr::ty).collect();
            let (ty, _) = mode.types(&agg, &arg_types)?;
            let call = AggCall { func: agg, mode, args: bound_args, ty: ty.clone() };
            let grouping = scope.grouping.as_mut().expect("grouping");
            let index = match grouping.aggs.iter().position(|c| *c == call) {
                Some(i) => i,
                None => {
                    grouping.aggs.push(call);
                    grouping.aggs.len() - 1
                }
            };
            return Ok(Expr::Column { index: grouping.keys.len() + index, ty });
        }
        let ctx = functions::Context { now: self.now };
        functions::bind(&lower, &args, &ctx, &mut |a| self.bind_expr(a, scope))
    }

    /// The constant parameters of a parametric aggregate call (`quantile(0.9)(x)`).
    fn aggregate_params(&self, f: &ast::Function) -> Result<Vec<f64>> {
        let (params, _) = function_args(&f.parameters)?;
        params
            .iter()
            .map(|p| match self.bind_constant(p)?.as_f64() {
                Some(v) => Ok(v),
                None => bail!(InvalidParameter, "the parameters of {} must be numbers", f.name),
            })
            .collect()
    }

    fn bind_value(&self, v: &ast::Value, hint: Option<DataType>) -> Result<Expr> {
        Ok(match v {
            ast::Value::Number(n, _) => number_literal(n)?,
            ast::Value::SingleQuotedString(s) | ast::Value::DoubleQuotedString(s) => Expr::Literal { value: Value::String(s.clone()), ty: DataType::String },
            ast::Value::Boolean(b) => Expr::Literal { value: Value::Bool(*b), ty: DataType::Bool },
            ast::Value::Placeholder(p) => self.bind_param(parse_placeholder(p)?, hint)?,
            ast::Value::Null => Expr::Literal { value: Value::Null, ty: DataType::UInt8.nullable() },
            other => bail!(NotSupported, "literal {other} is not supported yet"),
        })
    }

    fn bind_param(&self, n: usize, hint: Option<DataType>) -> Result<Expr> {
        match &self.params {
            Params::Values(values) => {
                let Some(v) = values.get(n - 1) else { bail!(InvalidParameter, "there is no parameter ${n}") };
                let lit = Expr::Literal { value: v.clone(), ty: value_type(v) };
                match hint {
                    Some(t) if lit.ty() == DataType::String && t != DataType::String => lit.cast(t),
                    _ => Ok(lit),
                }
            }
            Params::Infer(types) => {
                let mut types = types.borrow_mut();
                if types.len() < n {
                    types.resize(n, None);
                }
                let ty = types[n - 1].get_or_insert(hint.unwrap_or(DataType::String)).clone();
                Ok(Expr::Literal { value: Column::defaults(ty.non_null().clone(), 1).value(0), ty })
            }
        }
    }
}

/// `t ± INTERVAL …`: a Date moves by whole days (or becomes a DateTime for finer steps),
/// a DateTime or DateTime64 by seconds; months move on the calendar.
fn shift_by_interval(time: Expr, step: IntervalStep) -> Result<Expr> {
    let ty = time.ty().non_null().clone();
    if !ty.is_temporal() {
        bail!(DatatypeMismatch, "cannot add an interval to a value of type {ty}");
    }
    let literal = |n: i64| Expr::Literal { value: Value::Int(n), ty: DataType::Int64 };
    match step {
        IntervalStep::Seconds(n) if ty == DataType::Date && n % 86_400 == 0 => Expr::call(Func::Add, vec![time, literal(n / 86_400)]),
        IntervalStep::Seconds(n) if ty == DataType::Date => Expr::call(Func::Add, vec![time.cast(DataType::DateTime)?, literal(n)]),
        IntervalStep::Seconds(n) => Expr::call(Func::Add, vec![time, literal(n)]),
        IntervalStep::Months(n) => Expr::call(Func::AddMonths, vec![time, literal(n)]),
    }
}

/// Moves the table columns the plan reads into scan order and derives pruning ranges.
fn scan_source(table: Arc<Table>, final_merge: bool, plan: &mut SelectPlan) -> Source {
    let mut used = vec![false; table.columns().len()];
    let mut mark = |i: usize| used[i] = true;
    plan.filter.iter().for_each(|e| e.visit_columns(&mut mark));
    let row_exprs: Vec<&mut Expr> = match &mut plan.aggregate {
        Some(agg) => agg.keys.iter_mut().chain(agg.aggs.iter_mut().flat_map(|a| a.args.iter_mut())).collect(),
        None => plan.outputs.iter_mut().chain(plan.sort.iter_mut().map(|s| &mut s.expr)).collect(),
    };
    for e in &row_exprs {
        e.visit_columns(&mut mark);
    }
    let columns: Vec<usize> = (0..used.len()).filter(|&i| used[i]).collect();
    let mut ranges = plan.filter.as_ref().map(extract_ranges).unwrap_or_default();
    if final_merge {
        // Rows that fold together share their key, so only key conditions may skip data:
        // a condition on another column could skip a newer row and resurrect an older one.
        let key = table.store().map(|s| s.layout().sort_key.clone()).unwrap_or_default();
        ranges.retain(|r| key.contains(&r.column));
    }
    let position = |i: usize| columns.iter().position(|&c| c == i).expect("used column");
    for e in row_exprs {
        e.remap_columns(&position);
    }
    if let Some(f) = &mut plan.filter {
        f.remap_columns(&position);
    }
    Source::Table { table, columns, ranges, final_merge }
}

/// Conjunctive column ranges implied by a filter over table columns (for pruning only: the
/// filter itself still runs on every row read).
pub fn extract_ranges(filter: &Expr) -> Vec<ColumnRange> {
    let mut out: Vec<ColumnRange> = Vec::new();
    collect_ranges(filter, &mut out);
    out
}

fn collect_ranges(e: &Expr, out: &mut Vec<ColumnRange>) {
    let Expr::Call { func, args, .. } = e else { return };
    let range = match (func, args.as_slice()) {
        (Func::And, [a, b]) => {
            collect_ranges(a, out);
            collect_ranges(b, out);
            return;
        }
        (Func::Cmp(op), [Expr::Column { index, .. }, Expr::Literal { value, .. }]) => cmp_range(*index, *op, value),
        (Func::Cmp(op), [Expr::Literal { value, .. }, Expr::Column { index, .. }]) => cmp_range(*index, op.flip(), value),
        (Func::Cmp(op), [Expr::Call { func, args, .. }, Expr::Literal { value, .. }]) => floor_range(func, args, *op, value),
        (Func::Cmp(op), [Expr::Literal { value, .. }, Expr::Call { func, args, .. }]) => floor_range(func, args, op.flip(), value),
        (Func::InList { negated: false, list }, [Expr::Column { index, .. }]) => list.min_max().map(|(lo, hi)| ColumnRange {
            column: *index,
            lo: Bound::Included(lo),
            hi: Bound::Included(hi),
        }),
        _ => None,
    };
    if let Some(r) = range {
        match out.iter_mut().find(|x| x.column == r.column) {
            Some(existing) => *existing = existing.intersect(&r),
            None => out.push(r),
        }
    }
}

/// A range on column `x` implied by `f(x) op c`, where `f` rounds a time down to a unit
/// (`toDate(ts)`, `toStartOfHour(ts)`): since `f(x) <= x < f(x) + unit`, the comparison
/// bounds `x` too, and the sparse index can skip granules for it.
fn floor_range(func: &Func, args: &[Expr], op: CmpOp, c: &Value) -> Option<ColumnRange> {
    let [Expr::Column { index, ty }] = args else { return None };
    let ticks = match ty {
        DataType::DateTime => 1,
        DataType::DateTime64(p) => 10i64.checked_pow(*p as u32)?,
        _ => return None,
    };
    // `scale` turns the function's result into units of x; `unit` is its rounding step.
    let (scale, unit) = match func {
        Func::ToDate => (86_400 * ticks, 86_400 * ticks),
        Func::ToStartOfHour => (ticks, 3_600 * ticks),
        _ => return None,
    };
    let start = c.as_i64()?.checked_mul(scale)?;
    let end = start.checked_add(unit)?;
    let (lo, hi) = match op {
        CmpOp::Eq => (Bound::Included(Value::Int(start)), Bound::Excluded(Value::Int(end))),
        CmpOp::GtEq | CmpOp::Gt => (Bound::Included(Value::Int(start)), Bound::Unbounded),
        CmpOp::LtEq | CmpOp::Lt => (Bound::Unbounded, Bound::Excluded(Value::Int(end))),
        CmpOp::NotEq => return None,
    };
    Some(ColumnRange { column: *index, lo, hi })
}

fn cmp_range(column: usize, op: CmpOp, v: &Value) -> Option<ColumnRange> {
    if matches!(v, Value::Float(f) if f.is_nan()) {
        return None;
    }
    let (lo, hi) = match op {
        CmpOp::Eq => (Bound::Included(v.clone()), Bound::Included(v.clone())),
        CmpOp::Lt => (Bound::Unbounded, Bound::Excluded(v.clone())),
        CmpOp::LtEq => (Bound::Unbounded, Bound::Included(v.clone())),
        CmpOp::Gt => (Bound::Excluded(v.clone()), Bound::Unbounded),
        CmpOp::GtEq => (Bound::Included(v.clone()), Bound::Unbounded),
        CmpOp::NotEq => return None,
    };
    Some(ColumnRange { column, lo, hi })
}

/// ORDER BY / GROUP BY items may name a SELECT-list position (`1`) or alias.
fn resolve_reference(e: &ast::Expr, items: &[(ast::Expr, String)], scope: &Scope) -> Result<ast::Expr> {
    match e {
        ast::Expr::Value(ast::ValueWithSpan { value: ast::Value::Number(n, _), .. }) => {
            let pos: usize = n.parse().map_err(|_| QueryError::new(ErrorKind::Syntax, format!("bad position {n}")))?;
            match items.get(pos.wrapping_sub(1)) {
                Some((expr, _)) => Ok(expr.clone()),
                None => bail!(InvalidParameter, "position {pos} is not in the select list"),
            }
        }
        ast::Expr::Identifier(id) => Ok(scope.aliases.get(&id.value).cloned().unwrap_or_else(|| e.clone())),
        _ => Ok(e.clone()),
    }
}

fn function_args(args: &ast::FunctionArguments) -> Result<(Vec<ast::Expr>, bool)> {
    match args {
        ast::FunctionArguments::None => Ok((Vec::new(), false)),
        ast::FunctionArguments::List(list) => {
            let distinct = matches!(list.duplicate_treatment, Some(ast::DuplicateTreatment::Distinct));
            let mut out = Vec::new();
            for a in &list.args {
                match a {
                    ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => out.push(e.clone()),
                    ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Wildcard) => {}
                    other => bail!(NotSupported, "function argument {other} is not supported yet"),
                }
            }
            Ok((out, distinct))
        }
        ast::FunctionArguments::Subquery(_) => bail!(NotSupported, "subqueries are not supported yet"),
    }
}

/// True when the expression calls an aggregate function anywhere.
fn contains_aggregate(e: &ast::Expr) -> bool {
    use ast::Expr as E;
    match e {
        E::Function(f) => {
            AggMode::parse(&f.name.to_string()).is_some() || function_args(&f.args).map(|(a, _)| a.iter().any(contains_aggregate)).unwrap_or(false)
        }
        E::BinaryOp { left, right, .. } => contains_aggregate(left) || contains_aggregate(right),
        E::UnaryOp { expr, .. } | E::Nested(expr) | E::Cast { expr, .. } => contains_aggregate(expr),
        E::Between { expr, low, high, .. } => contains_aggregate(expr) || contains_aggregate(low) || contains_aggregate(high),
        E::In { expr, target: ast::InTarget::List(list), .. } => contains_aggregate(expr) || list.iter().any(contains_aggregate),
        E::Like { expr, pattern, .. } | E::ILike { expr, pattern, .. } => contains_aggregate(expr) || contains_aggregate(pattern),
        E::IsNull(expr) | E::IsNotNull(expr) | E::Extract { expr, .. } | E::Ceil { expr, .. } | E::Floor { expr, .. } | E::Trim { expr, .. } => contains_aggregate(expr),
        E::IsDistinctFrom(a, b) | E::IsNotDistinctFrom(a, b) | E::Position { expr: a, r#in: b } => contains_aggregate(a) || contains_aggregate(b),
        E::Substring { expr, substring_from, substring_for, .. } => {
            contains_aggregate(expr) || substring_from.as_deref().is_some_and(contains_aggregate) || substring_for.as_deref().is_some_and(contains_aggregate)
        }
        E::Case { operand, conditions, else_result, .. } => {
            operand.as_deref().is_some_and(contains_aggregate)
                || conditions.iter().any(|w| contains_aggregate(&w.condition) || contains_aggregate(&w.result))
                || else_result.as_deref().is_some_and(contains_aggregate)
        }
        _ => false,
    }
}

/// The `n` of an expression that is exactly the parameter `$n`.
pub fn placeholder(e: &ast::Expr) -> Option<usize> {
    match e {
        ast::Expr::Value(ast::ValueWithSpan { value: ast::Value::Placeholder(p), .. }) => parse_placeholder(p).ok(),
        _ => None,
    }
}

fn parse_placeholder(p: &str) -> Result<usize> {
    match p.strip_prefix('$').and_then(|n| n.parse::<usize>().ok()) {
        Some(n) if n >= 1 => Ok(n),
        _ => bail!(Syntax, "unsupported parameter placeholder {p}: use $1, $2, ..."),
    }
}

/// The type a parameter value has when the client did not say.
fn value_type(v: &Value) -> DataType {
    match v {
        Value::Null | Value::String(_) | Value::Bytes(_) | Value::Array(_) => DataType::String,
        Value::Decimal { scale, .. } => DataType::Decimal { precision: 18, scale: *scale },
        Value::Bool(_) => DataType::Bool,
        Value::UInt(_) => DataType::UInt64,
        Value::Int(_) => DataType::Int64,
        Value::Float(_) => DataType::Float64,
    }
}

/// A numeric literal typed as ClickHouse types it: the smallest unsigned (or signed, if
/// negative) integer type that holds it, else Float64.
fn number_literal(text: &str) -> Result<Expr> {
    let bad = || QueryError::new(ErrorKind::Syntax, format!("bad number {text}"));
    if let Ok(u) = text.parse::<u64>() {
        let ty = match u {
            0..=0xFF => DataType::UInt8,
            0x100..=0xFFFF => DataType::UInt16,
            0x1_0000..=0xFFFF_FFFF => DataType::UInt32,
            _ => DataType::UInt64,
        };
        return Ok(Expr::Literal { value: Value::UInt(u), ty });
    }
    if let Ok(i) = text.parse::<i64>() {
        let ty = if i >= i8::MIN as i64 {
            DataType::Int8
        } else if i >= i16::MIN as i64 {
            DataType::Int16
        } else if i >= i32::MIN as i64 {
            DataType::Int32
        } else {
            DataType::Int64
        };
        return Ok(Expr::Literal { value: Value::Int(i), ty });
    }
    let f: f64 = text.parse().map_err(|_| bad())?;
    Ok(Expr::Literal { value: Value::Float(f), ty: DataType::Float64 })
}

/// The name ClickHouse gives an unaliased SELECT item: its text.
fn column_name(e: &ast::Expr) -> String {
    match e {
        ast::Expr::Identifier(id) => id.value.clone(),
        ast::Expr::CompoundIdentifier(parts) => parts.last().map(|p| p.value.clone()).unwrap_or_default(),
        other => other.to_string(),
    }
}

/// A table name from the AST.
pub fn table_name(name: &ast::ObjectName) -> Result<TableName> {
    let parts: Vec<String> = name.0.iter().filter_map(|p| p.as_ident().map(|i| i.value.clone())).collect();
    match parts.as_slice() {
        [t] => Ok(TableName { database: None, name: t.clone() }),
        [db, t] => Ok(TableName { database: Some(db.clone()), name: t.clone() }),
        _ => bail!(Syntax, "invalid table name {name}"),
    }
}
