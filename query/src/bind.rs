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

use granary_storage::column::count_nonzero;
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
use crate::plan::{AggCall, AggregatePlan, Field, LimitBy, SelectPlan, SortKey, Source};
use crate::kernels;

mod correlated;
mod from;
mod grouping;
mod pg;
mod window;

pub(crate) use from::Relation;

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
    /// The CTEs of the WITH clauses being bound, innermost last.
    ctes: RefCell<Vec<(String, ast::Query)>>,
    /// How subqueries run while binding (threads, memory limit, cancellation).
    ctx: crate::exec::QueryContext,
}

/// The names an expression can see.
struct Scope<'s> {
    /// The columns in reach, with the names that may qualify them.
    table: Option<&'s Relation>,
    /// Alias → its SELECT-list expression.
    aliases: HashMap<String, ast::Expr>,
    /// Set after GROUP BY: keys (over the scan) and the aggregate calls found so far.
    grouping: Option<Grouping>,
    /// Window function calls found so far, where they are allowed (SELECT list, ORDER BY).
    windows: Option<window::Windows>,
    /// Guards alias expansion against cycles.
    depth: usize,
    /// The WHERE (and PREWHERE) conditions bound so far, over `table`'s columns: the scan of
    /// outer values for a correlated subquery reads only the rows they keep.
    filter: Option<Expr>,
}

impl<'s> Scope<'s> {
    /// A scope over a relation's columns (or over none).
    fn over(table: Option<&'s Relation>) -> Scope<'s> {
        Scope { table, aliases: HashMap::new(), grouping: None, windows: None, depth: 0, filter: None }
    }
}

struct Grouping {
    keys: Vec<Expr>,
    aggs: Vec<AggCall>,
    /// Grouping sets as positions in `keys`; empty for a plain GROUP BY.
    sets: Vec<Vec<usize>>,
}

impl<'a> Binder<'a> {
    /// A binder over `catalog`; `now` is the Unix time `now()` and `today()` report.
    pub fn new(catalog: &'a dyn Catalog, params: Params<'a>, now: i64) -> Binder<'a> {
        Binder { catalog, params, now, ctes: RefCell::new(Vec::new()), ctx: Default::default() }
    }

    /// The same binder, running the subqueries it meets (in FROM, IN, scalar) with `ctx`.
    pub fn with_context(self, ctx: crate::exec::QueryContext) -> Binder<'a> {
        Binder { ctx, ..self }
    }

    /// What functions bound by this binder may read: `now()` and the session's catalog.
    fn function_context(&self) -> functions::Context<'a> {
        functions::Context { now: self.now, catalog: self.catalog }
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
        let outer = self.ctes.borrow().len();
        if let Some(with) = &query.with {
            if with.recursive {
                bail!(NotSupported, "WITH RECURSIVE is not supported");
            }
            for cte in &with.cte_tables {
                if !cte.alias.columns.is_empty() {
                    bail!(NotSupported, "column names after a CTE name are not supported yet");
                }
                self.ctes.borrow_mut().push((cte.alias.name.value.clone(), (*cte.query).clone()));
            }
        }
        let plan = self.bind_body(query);
        self.ctes.borrow_mut().truncate(outer);
        plan
    }

    /// The body of a query: a SELECT, or a set operation or parenthesized query read as rows
    /// that the query's ORDER BY and LIMIT then apply to.
    fn bind_body(&self, query: &ast::Query) -> Result<SelectPlan> {
        let rows = match query.body.as_ref() {
            ast::SetExpr::Select(select) => return self.bind_select(select, query, None),
            ast::SetExpr::Query(inner) => self.materialize(inner, "")?,
            ast::SetExpr::SetOperation { op: ast::SetOperator::Union, set_quantifier, left, right } => {
                let distinct = match set_quantifier {
                    ast::SetQuantifier::All => false,
                    // Postgres reads a bare UNION as UNION DISTINCT (ClickHouse asks which).
                    ast::SetQuantifier::Distinct | ast::SetQuantifier::None => true,
                    other => bail!(NotSupported, "UNION {other} is not supported"),
                };
                self.union(query, left, right, distinct)?
            }
            other => bail!(NotSupported, "{other} is not supported yet"),
        };
        let star = ast::Select { projection: vec![ast::SelectItem::Wildcard(Default::default())], ..empty_select() };
        self.bind_select(&star, query, Some(rows))
    }

    /// `a UNION [ALL | DISTINCT] b`: both run now, their rows concatenated under the first
    /// branch's names, converted to its types.
    fn union(&self, query: &ast::Query, left: &ast::SetExpr, right: &ast::SetExpr, distinct: bool) -> Result<Relation> {
        let branch = |body: &ast::SetExpr| ast::Query { body: Box::new(body.clone()), order_by: None, limit_clause: None, fetch: None, with: None, ..query.clone() };
        let (a, b) = (self.materialize(&branch(left), "")?, self.materialize(&branch(right), "")?);
        if a.columns().len() != b.columns().len() {
            bail!(Syntax, "UNION branches have {} and {} columns", a.columns().len(), b.columns().len());
        }
        let (TableData::Rows { block: ba, .. }, TableData::Rows { block: bb, .. }) = (&a.table.data, &b.table.data) else { unreachable!("materialized rows") };
        let mut columns = a.columns().to_vec();
        let mut out = Vec::with_capacity(columns.len());
        for (i, spec) in columns.iter_mut().enumerate() {
            // A column of only NULLs (`SELECT NULL`) has no type of its own yet.
            let only_nulls = |block: &Block| block.rows() == block.columns[i].nulls.as_ref().map_or(usize::MAX, |n| count_nonzero(n));
            let ty = match union_type(&spec.ty, &b.columns()[i].ty) {
                Ok(ty) => ty,
                Err(_) if only_nulls(ba) => b.columns()[i].ty.clone().nullable(),
                Err(_) if only_nulls(bb) => spec.ty.clone().nullable(),
                Err(e) => return Err(e),
            };
            let first = kernels::cast(&ba.columns[i], &ty)?;
            let second = kernels::cast(&bb.columns[i], &ty)?;
            out.push(Arc::new(Column::concat(ty.clone(), &[Arc::new(first), Arc::new(second)])));
            spec.ty = ty;
        }
        let mut block = Block::with_rows(out, ba.rows() + bb.rows());
        if distinct {
            block = crate::exec::distinct_rows(&block, columns.len());
        }
        Ok(Relation::new(Arc::new(Table { database: String::new(), name: String::new(), data: TableData::Rows { columns, block }, finalize_states: false }), "", false))
    }

    /// Binds one SELECT with its query's ORDER BY and LIMIT; `rows` replaces its FROM.
    fn bind_select(&self, select: &ast::Select, query: &ast::Query, rows: Option<Relation>) -> Result<SelectPlan> {
        let distinct = match &select.distinct {
            None | Some(ast::Distinct::All) => false,
            Some(ast::Distinct::Distinct) => true,
            Some(ast::Distinct::On(_)) => bail!(NotSupported, "DISTINCT ON is not supported yet"),
        };
        let relation = match rows {
            Some(rows) => Some(rows),
            None => self.bind_from(select, query)?,
        };
        let mut scope = Scope::over(relation.as_ref());

        // The SELECT list as (expression, output name).
        let mut items: Vec<(ast::Expr, String)> = Vec::new();
        for item in &select.projection {
            match item {
                ast::SelectItem::UnnamedExpr(e) => items.push((e.clone(), column_name(e))),
                ast::SelectItem::ExprWithAlias { expr, alias } => {
                    scope.aliases.insert(alias.value.clone(), expr.clone());
                    items.push((expr.clone(), alias.value.clone()));
                }
                ast::SelectItem::ExprWithAliases { .. } => bail!(NotSupported, "{item} is not supported"),
                ast::SelectItem::Wildcard(_) | ast::SelectItem::QualifiedWildcard(..) => {
                    let Some(rel) = scope.table else { bail!(Syntax, "SELECT * needs a FROM clause") };
                    let qualifier = match item {
                        ast::SelectItem::QualifiedWildcard(ast::SelectItemQualifiedWildcardKind::ObjectName(name), _) => Some(name.to_string().trim_matches('"').to_string()),
                        ast::SelectItem::QualifiedWildcard(..) => bail!(NotSupported, "{item} is not supported"),
                        _ => None,
                    };
                    let star = rel.star(qualifier.as_deref());
                    if star.is_empty() {
                        bail!(UndefinedTable, "{item} matches no table of the FROM clause");
                    }
                    for (i, name) in star {
                        let parts = [rel.qualifiers[i].as_str(), rel.columns()[i].name.as_str()];
                        let e = if rel.qualifiers[i].is_empty() || rel.resolve(&parts[1..]) == Some(i) {
                            ast::Expr::Identifier(ast::Ident::with_quote('"', parts[1]))
                        } else {
                            ast::Expr::CompoundIdentifier(parts.iter().map(|p| ast::Ident::with_quote('"', *p)).collect())
                        };
                        items.push((e, name));
                    }
                }
            }
        }

        // PREWHERE is a condition like WHERE's that a MergeTree scan runs before the others.
        let prewhere = select.prewhere.as_ref().map(|e| self.bind_where(e, &mut scope, "PREWHERE")).transpose()?;
        let selection = select.selection.as_ref().map(|e| self.bind_where(e, &mut scope, "WHERE")).transpose()?;
        let explicit = prewhere.as_ref().map_or(0, |p| p.conjuncts().len());
        let filter = match (prewhere, selection) {
            (Some(p), Some(w)) => Some(Expr::call(Func::And, vec![p, w])?),
            (p, w) => p.or(w),
        };
        scope.filter = filter.clone();

        let group_by = grouping::expand(&select.group_by)?;
        let order_by: Vec<(ast::Expr, bool, Option<bool>)> = match &query.order_by {
            None => Vec::new(),
            Some(ob) => match &ob.kind {
                ast::OrderByKind::Expressions(list) => list.iter().map(|o| (o.expr.clone(), matches!(o.options.sort, Some(ast::OrderBySort::Desc)), o.options.nulls_first)).collect(),
                ast::OrderByKind::All(_) => bail!(NotSupported, "ORDER BY ALL is not supported yet"),
            },
        };
        let aggregating = !group_by.keys.is_empty()
            || group_by.sets.is_some()
            || group_by.totals
            || select.having.is_some()
            || items.iter().any(|(e, _)| contains_aggregate(e))
            || order_by.iter().any(|(e, _, _)| contains_aggregate(e));

        let mut having = None;
        if aggregating {
            let mut keys = Vec::new();
            for g in &group_by.keys {
                let e = resolve_reference(g, &items, &scope)?;
                if contains_aggregate(&e) {
                    bail!(Grouping, "aggregate functions are not allowed in GROUP BY");
                }
                keys.push(self.bind_expr(&e, &mut scope)?);
            }
            scope.grouping = Some(Grouping { keys, aggs: Vec::new(), sets: group_by.sets.clone().unwrap_or_default() });
            if let Some(h) = &select.having {
                having = Some(self.bind_condition(h, &mut scope, "HAVING")?);
            }
        }
        scope.windows = Some(window::Windows::new(&select.named_window));
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
            // As in ClickHouse, NULLs come last in either direction unless asked otherwise.
            sort.push(SortKey { expr: self.bind_expr(&e, &mut scope)?, desc: *desc, nulls_first: nulls_first.unwrap_or(false) });
        }
        let (limit, offset, limit_by) = self.bind_limit(query, &items, &mut scope)?;
        let qualify = match &select.qualify {
            Some(q) => Some(self.bind_condition(q, &mut scope, "QUALIFY")?),
            None => None,
        };
        let windows = scope.windows.take().map(window::Windows::into_calls).unwrap_or_default();

        let with_ties = query.fetch.as_ref().is_some_and(|f| f.with_ties);
        let mut plan = SelectPlan { filter, prewhere: explicit, having, outputs, sort, limit, offset, with_ties, limit_by, distinct, windows, qualify, ..SelectPlan::new(None, Vec::new(), fields) };
        if let Some(g) = scope.grouping.take() {
            let agg = AggregatePlan::new(g.keys, g.aggs, &g.sets);
            plan.aggregate = Some(if group_by.totals { agg.with_totals() } else { agg });
        }
        if group_by.totals && (plan.having.is_some() || !plan.windows.is_empty()) {
            // The totals row would be over the groups HAVING keeps (ClickHouse's
            // `totals_mode = 'after_having_exclusive'`), or need window values of its own.
            bail!(NotSupported, "WITH TOTALS together with HAVING or window functions is not supported yet");
        }
        if let Some(rel) = relation {
            // Rollups that keep states are always read folded: each key shows its exact value.
            let final_merge = rel.final_merge || rel.table.finalize_states;
            plan.source = scan_source(rel.table, final_merge, &mut plan);
        } else {
            window::place_windows(&mut plan, 0);
        }
        Ok(plan)
    }

    /// LIMIT and OFFSET, or (ClickHouse's `LIMIT n [OFFSET m] BY keys`) the per-key limit.
    fn bind_limit(&self, query: &ast::Query, items: &[(ast::Expr, String)], scope: &mut Scope) -> Result<(Option<usize>, usize, Option<LimitBy>)> {
        if query.fetch.as_ref().is_some_and(|f| f.with_ties) && query.order_by.is_none() {
            bail!(Syntax, "FETCH … WITH TIES needs ORDER BY");
        }
        let number = |e: &ast::Expr| -> Result<usize> {
            match self.bind_constant(e)? {
                Value::UInt(n) => Ok(n as usize),
                Value::Int(n) if n >= 0 => Ok(n as usize),
                other => bail!(InvalidParameter, "LIMIT and OFFSET need a non-negative integer, got {other:?}"),
            }
        };
        let (limit, offset, by) = match &query.limit_clause {
            None => (None, 0, &[][..]),
            Some(ast::LimitClause::LimitOffset { limit, offset, limit_by }) => {
                (limit.as_ref().map(number).transpose()?, offset.as_ref().map(|o| number(&o.value)).transpose()?.unwrap_or(0), limit_by.as_slice())
            }
            Some(ast::LimitClause::OffsetCommaLimit { offset, limit }) => (Some(number(limit)?), number(offset)?, &[][..]),
        };
        let fetch = match &query.fetch {
            Some(fetch) if !fetch.percent => fetch.quantity.as_ref().map(number).transpose()?,
            Some(_) => bail!(NotSupported, "this FETCH form is not supported"),
            None => None,
        };
        if by.is_empty() {
            return Ok((limit.or(fetch), offset, None));
        }
        let keys = by.iter().map(|k| resolve_reference(k, items, scope).and_then(|k| self.bind_expr(&k, scope))).collect::<Result<Vec<_>>>()?;
        Ok((fetch, 0, Some(LimitBy { limit: limit.unwrap_or(usize::MAX), offset, keys })))
    }

    /// Binds an expression that reads no columns and evaluates it.
    pub fn bind_constant(&self, e: &ast::Expr) -> Result<Value> {
        let mut scope = Scope::over(None);
        match self.bind_expr(e, &mut scope)? {
            Expr::Literal { value, .. } => Ok(value),
            other => other.eval_const(),
        }
    }

    /// Binds an expression over a row of `columns` (partition keys, defaults).
    pub fn bind_row_expr(&self, e: &ast::Expr, columns: &[ColumnSpec]) -> Result<Expr> {
        let table = Table { database: String::new(), name: String::new(), data: TableData::Rows { columns: columns.to_vec(), block: Block::with_rows(Vec::new(), 0) }, finalize_states: false };
        let rel = Relation::new(Arc::new(table), "", false);
        self.bind_expr(e, &mut Scope::over(Some(&rel)))
    }

    /// Binds a WHERE or PREWHERE condition, its conjuncts without subqueries first: each
    /// joins `scope.filter`, so a correlated subquery in a later one scans only the outer rows
    /// they keep. The conjuncts are AND-ed back in their written order.
    fn bind_where(&self, e: &ast::Expr, scope: &mut Scope, clause: &str) -> Result<Expr> {
        let parts = from::conjuncts(e);
        let mut bound: Vec<Option<Expr>> = vec![None; parts.len()];
        for plain in [true, false] {
            for (part, slot) in parts.iter().zip(&mut bound).filter(|(p, _)| from::reads_no_subquery(p) == plain) {
                let b = self.bind_expr(part, scope)?;
                if matches!(b.ty().non_null(), DataType::UInt8 | DataType::Bool) {
                    scope.filter = Some(match scope.filter.take() {
                        Some(f) => Expr::call(Func::And, vec![f, b.clone()])?,
                        None => b.clone(),
                    });
                }
                *slot = Some(b);
            }
        }
        let mut all = bound.into_iter().flatten();
        let first = all.next().expect("a condition has a conjunct");
        let condition = all.try_fold(first, |a, b| Expr::call(Func::And, vec![a, b]))?;
        check_condition(condition, clause)
    }

    fn bind_condition(&self, e: &ast::Expr, scope: &mut Scope, clause: &str) -> Result<Expr> {
        check_condition(self.bind_expr(e, scope)?, clause)
    }

    fn bind_expr(&self, e: &ast::Expr, scope: &mut Scope) -> Result<Expr> {
        if scope.grouping.is_some() && !contains_aggregate(e) && !window::contains_window(e) {
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
                match scope.table.and_then(|t| t.resolve(&full)) {
                    Some(i) => self.bind_column(scope.table.expect("resolved in a relation"), i)?,
                    None => bail!(UndefinedColumn, "column {e} does not exist"),
                }
            }
            E::CompoundFieldAccess { root, access_chain } => self.bind_field_access(root, access_chain, scope)?,
            E::Subquery(_) | E::Exists { .. } => self.bind_subquery_expr(e, scope)?,
            E::Function(f) if correlated::array_subquery(f).is_some() => self.bind_subquery_expr(e, scope)?,
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
            E::BinaryOp { left, op, right } if pg::regex_operator(op).is_some() => self.bind_regex(left, op, right, scope)?,
            E::BinaryOp { op: ast::BinaryOperator::StringConcat, .. } => functions::bind_syntax(e, &self.function_context(), &mut |a| self.bind_expr(a, scope))?,
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
                let (mut l, mut r) = self.bind_pair(left, right, scope)?;
                if matches!(func, Func::Cmp(CmpOp::Eq | CmpOp::NotEq)) && l.ty().non_null().element().is_some() {
                    // Arrays are equal when their text is, once both have the left's type.
                    r = r.cast(l.ty())?.cast(DataType::String)?;
                    l = l.cast(DataType::String)?;
                }
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
                        other => self.bind_expr(other, &mut Scope::over(None))?,
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
                let list_ty = in_list_type(&x_ty, values.iter().map(Expr::ty));
                let consts = values.iter().map(|v| v.clone().cast(list_ty.clone()).and_then(|c| c.eval_const())).collect::<Result<Vec<_>>>()?;
                let list = Arc::new(Column::from_values(list_ty, &consts)?);
                Expr::call(Func::InList { negated: *negated, list }, vec![x])?
            }
            E::In { expr, target: ast::InTarget::Subquery(query), negated, .. } if matches!(expr.as_ref(), E::Tuple(_)) => {
                let E::Tuple(items) = expr.as_ref() else { unreachable!("matched a tuple") };
                let args = items.iter().map(|e| self.bind_expr(e, scope)).collect::<Result<Vec<_>>>()?;
                let plan = self.bind_query(query)?;
                if plan.fields.len() != args.len() {
                    bail!(DatatypeMismatch, "IN compares {} values with a subquery of {} columns", args.len(), plan.fields.len());
                }
                let rows = self.run(&plan)?;
                // Rows with a NULL match nothing; the rest become keys of the arguments' types.
                let present: Vec<u8> = (0..rows.rows()).map(|r| !rows.columns.iter().any(|c| c.is_null(r)) as u8).collect();
                let rows = rows.filter(&present);
                let columns = args.iter().zip(&rows.columns).map(|(a, c)| kernels::cast(&c.strip_nulls(), a.ty().non_null())).collect::<Result<Vec<_>>>()?;
                let mut keys = hashbrown::HashSet::new();
                for row in 0..rows.rows() {
                    let mut key = Vec::new();
                    columns.iter().for_each(|c| crate::aggregate::append_key(c, row, &mut key));
                    keys.insert(key.into_boxed_slice());
                }
                Expr::call(Func::InTuples { negated: *negated, keys: Arc::new(keys) }, args)?
            }
            E::In { expr, target: ast::InTarget::Subquery(query), negated, .. } => {
                let x = self.bind_expr(expr, scope)?;
                let values = self.subquery_column(query)?;
                let x_ty = x.ty().non_null().clone();
                if x_ty.is_string() != values.ty.is_string() && !x_ty.is_temporal() {
                    bail!(DatatypeMismatch, "IN of {x_ty} against a subquery of {} values", values.ty);
                }
                // As in ClickHouse, NULLs of the subquery match nothing.
                let present: Vec<u8> = (0..values.len()).map(|i| !values.is_null(i) as u8).collect();
                let values = values.filter(&present).strip_nulls();
                let list_ty = in_list_type(&x_ty, std::iter::once(values.ty.clone()));
                let list = Arc::new(kernels::cast(&values, &list_ty)?);
                Expr::call(Func::InList { negated: *negated, list }, vec![x])?
            }
            E::Like { negated, expr, pattern, escape_char, any: false } => self.bind_like(expr, pattern, escape_char.as_deref(), *negated, false, scope)?,
            E::ILike { negated, expr, pattern, escape_char, any: false } => self.bind_like(expr, pattern, escape_char.as_deref(), *negated, true, scope)?,
            E::Cast { expr, data_type, .. } => self.bind_cast(expr, data_type, scope)?,
            E::TypedString(ts) => self.bind_cast(&E::Value(ts.value.clone()), &ts.data_type, scope)?,
            E::Collate { expr, .. } => self.bind_expr(expr, scope)?,
            E::AnyOp { left, compare_op, right, .. } => self.bind_any(left, compare_op, right, scope)?,
            E::Function(f) => self.bind_function(f, scope)?,
            other => functions::bind_syntax(other, &self.function_context(), &mut |a| self.bind_expr(a, scope))?,
        })
    }

    /// `root.field[i]…`: dotted names join into a column name first (Nested columns are
    /// called `n.field`), then each subscript indexes an array.
    /// The one column of an uncorrelated subquery, run now (empty when only describing).
    fn subquery_column(&self, query: &ast::Query) -> Result<Column> {
        let plan = self.bind_query(query)?;
        if plan.fields.len() != 1 {
            bail!(InvalidParameter, "the subquery must return one column, not {}", plan.fields.len());
        }
        let block = self.run(&plan)?;
        Ok(block.columns[0].as_ref().clone())
    }

    /// `(SELECT …)` as a value, from its bound plan: the subquery runs once, now, and its
    /// single value becomes a constant; no row gives NULL, more than one row is an error.
    /// When only describing a statement, the subquery is bound for its type but not run.
    fn scalar_value(&self, plan: SelectPlan) -> Result<Expr> {
        let [field] = plan.fields.as_slice() else {
            bail!(InvalidParameter, "a scalar subquery must return one column, not {}", plan.fields.len());
        };
        let ty = field.ty.clone();
        if let Params::Infer(_) = self.params {
            return Ok(Expr::Literal { value: Value::Null, ty: ty.nullable() });
        }
        let block = self.run(&plan)?;
        match block.rows() {
            0 => Ok(Expr::Literal { value: Value::Null, ty: ty.nullable() }),
            1 => Ok(Expr::Literal { value: block.columns[0].value(0), ty }),
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

    fn bind_like(&self, expr: &ast::Expr, pattern: &ast::Expr, escape: Option<&ast::Expr>, negated: bool, ci: bool, scope: &mut Scope) -> Result<Expr> {
        let x = self.bind_expr(expr, scope)?;
        let pattern = match self.bind_expr(pattern, &mut Scope::over(None))?.eval_const()? {
            Value::String(p) => p,
            other => bail!(DatatypeMismatch, "LIKE pattern must be a string, got {other:?}"),
        };
        let pattern = match escape.map(|e| self.bind_constant(e)).transpose()? {
            None => pattern,
            Some(Value::String(e)) if e.chars().count() == 1 => pg::like_escape(&pattern, e.chars().next().expect("one char")),
            Some(other) => bail!(NotSupported, "ESCAPE {other:?} is not supported: use one character"),
        };
        Expr::call(Func::Like { negated, pattern: Arc::new(LikePattern::new(&pattern, ci)) }, vec![x])
    }

    fn bind_name(&self, name: &str, scope: &mut Scope) -> Result<Expr> {
        if let Some(t) = scope.table {
            if let Some(i) = t.resolve(&[name]) {
                return self.bind_column(t, i);
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
        // `current_user`, `current_catalog` and friends are functions without parentheses.
        if let Some(e) = functions::pg::bind(&name.to_ascii_lowercase(), &[], &self.function_context()).ok().flatten().filter(|_| pg::is_keyword_function(name)) {
            return Ok(e);
        }
        bail!(UndefinedColumn, "column {name} does not exist")
    }

    fn bind_function(&self, f: &ast::Function, scope: &mut Scope) -> Result<Expr> {
        if f.over.is_some() {
            return self.bind_window(f, scope);
        }
        let name = f.name.to_string();
        let lower = name.to_ascii_lowercase();
        let (args, distinct) = function_args(&f.args)?;
        if let Some((agg, mode)) = AggMode::parse(&lower) {
            let Some(grouping) = scope.grouping.take() else {
                bail!(Grouping, "aggregate function {name} is not allowed here");
            };
            // Arguments (and FILTER) read the rows being grouped.
            let mut row_scope = Scope { aliases: scope.aliases.clone(), depth: scope.depth, filter: scope.filter.clone(), ..Scope::over(scope.table) };
            let bound = args.iter().map(|a| self.bind_expr(a, &mut row_scope)).collect::<Result<Vec<_>>>();
            let filter = f.filter.as_ref().map(|c| self.bind_condition(c, &mut row_scope, "FILTER")).transpose();
            scope.grouping = Some(grouping);
            let call = self.aggregate_call(f, agg, mode, bound?, distinct, filter?)?;
            let ty = call.ty.clone();
            let grouping = scope.grouping.as_mut().expect("grouping");
            let index = match grouping.aggs.iter().position(|c| *c == call) {
                Some(i) => i,
                None => {
                    grouping.aggs.push(call);
                    grouping.aggs.len() - 1
                }
            };
            return Ok(Expr::Column { index: grouping.keys.len() + usize::from(!grouping.sets.is_empty()) + index, ty });
        }
        if lower == "grouping" {
            return self.bind_grouping(&args, scope);
        }
        let ctx = self.function_context();
        functions::bind(&lower, &args, &ctx, &mut |a| self.bind_expr(a, scope))
    }

    /// An aggregate call of `f` from its bound arguments: parameters, DISTINCT, FILTER (as
    /// the -If combinator), `count(x)` of a non-Nullable `x` as `count()`, and an aggregate of
    /// a finalized state column of the same function as a merge of the states.
    fn aggregate_call(&self, f: &ast::Function, agg: AggFunc, mut mode: AggMode, mut args: Vec<Expr>, distinct: bool, filter: Option<Expr>) -> Result<AggCall> {
        let mut agg = agg.with_params(&self.aggregate_params(f)?)?;
        // `uniqExact(col)` over a finalized `AggregateFunction(uniqExact, …)` column merges
        // the states: the exact answer over all the rows the states summarise.
        if let (AggMode::Plain, [Expr::Call { func: Func::FinalizeAggregation, args: inner, .. }]) = (mode, args.as_slice()) {
            if matches!(inner[0].ty(), DataType::AggregateFunction { func, .. } if func.eq_ignore_ascii_case(&agg.type_name())) {
                (mode, args) = (AggMode::Merge, inner.clone());
            }
        }
        if distinct {
            agg = match agg {
                AggFunc::Count => AggFunc::UniqExact,
                other => AggFunc::Distinct(Box::new(other)),
            };
        } else if agg == AggFunc::Count && mode != AggMode::Merge && !args.iter().any(|a| a.ty().is_nullable()) {
            args.clear(); // count(x) of a non-Nullable x counts rows.
        }
        // `f(x) FILTER (WHERE cond)` is `fIf(x, cond)`.
        if let Some(filter) = filter {
            args.push(filter);
            agg = AggFunc::If(Box::new(agg));
        }
        let arg_types: Vec<DataType> = args.iter().map(Expr::ty).collect();
        let (ty, _) = mode.types(&agg, &arg_types)?;
        Ok(AggCall { func: agg, mode, args, ty })
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
            ast::Value::SingleQuotedString(s) | ast::Value::DoubleQuotedString(s) | ast::Value::EscapedStringLiteral(s) => Expr::Literal { value: Value::String(s.clone()), ty: DataType::String },
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

/// A bound condition, if its type can filter rows (UInt8 or Bool).
fn check_condition(bound: Expr, clause: &str) -> Result<Expr> {
    match bound.ty().non_null() {
        DataType::UInt8 | DataType::Bool => Ok(bound),
        t => bail!(DatatypeMismatch, "illegal type {t} of column for {clause} filter: must be UInt8 or Bool"),
    }
}

/// Moves the table columns the plan reads into scan order and derives pruning ranges.
fn scan_source(table: Arc<Table>, final_merge: bool, plan: &mut SelectPlan) -> Source {
    let mut used = vec![false; table.columns().len()];
    let mut mark = |i: usize| {
        if i < window::WINDOW_BASE {
            used[i] = true;
        }
    };
    plan.filter.iter().for_each(|e| e.visit_columns(&mut mark));
    // The expressions over scan blocks (window values follow the scanned columns).
    let row_exprs: Vec<&mut Expr> = match &mut plan.aggregate {
        Some(agg) => agg.row_exprs_mut(),
        None => plan
            .outputs
            .iter_mut()
            .chain(plan.sort.iter_mut().map(|s| &mut s.expr))
            .chain(plan.limit_by.iter_mut().flat_map(|l| l.keys.iter_mut()))
            .chain(plan.qualify.iter_mut())
            .chain(plan.windows.iter_mut().flat_map(crate::plan::WindowCall::exprs_mut))
            .collect(),
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
    let position = |i: usize| match i.checked_sub(window::WINDOW_BASE) {
        Some(w) => columns.len() + w,
        None => columns.iter().position(|&c| c == i).expect("used column"),
    };
    for e in row_exprs {
        e.remap_columns(&position);
    }
    if let Some(f) = &mut plan.filter {
        f.remap_columns(&position);
    }
    window::place_windows(plan, columns.len());
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
        E::Function(f) if f.over.is_some() => window::window_exprs(f).any(contains_aggregate),
        E::Function(f) => {
            AggMode::parse(&f.name.to_string()).is_some() || function_args(&f.args).map(|(a, _)| a.iter().any(contains_aggregate)).unwrap_or(false)
        }
        E::BinaryOp { left, right, .. } => contains_aggregate(left) || contains_aggregate(right),
        E::UnaryOp { expr, .. } | E::Nested(expr) | E::Cast { expr, .. } => contains_aggregate(expr),
        E::Between { expr, low, high, .. } => contains_aggregate(expr) || contains_aggregate(low) || contains_aggregate(high),
        E::In { expr, target: ast::InTarget::List(list), .. } => contains_aggregate(expr) || list.iter().any(contains_aggregate),
        E::In { expr, .. } => contains_aggregate(expr),
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

/// The type an IN list's values convert to, for a left side of type `x` (non-Nullable).
fn in_list_type(x: &DataType, items: impl Iterator<Item = DataType>) -> DataType {
    let items: Vec<DataType> = items.collect();
    if x.is_string() || x.is_temporal() || matches!(x, DataType::Uuid | DataType::Decimal { .. }) {
        x.clone()
    } else if items.iter().any(|t| t.non_null().is_float()) || x.is_float() {
        DataType::Float64
    } else if items.iter().any(|t| t.non_null().is_signed()) || x.is_signed() || matches!(x, DataType::Enum(_)) {
        DataType::Int64
    } else {
        DataType::UInt64
    }
}

/// The type both branches of a UNION convert to: ClickHouse's least common type, Nullable
/// when either is.
fn union_type(a: &DataType, b: &DataType) -> Result<DataType> {
    let ty = functions::conditional::supertype(&[a.non_null().value_type(), b.non_null().value_type()])?;
    Ok(if a.is_nullable() || b.is_nullable() { ty.nullable() } else { ty })
}

/// An empty SELECT (no items, no FROM) to build synthetic selects from.
fn empty_select() -> ast::Select {
    match crate::parse::parse_script("SELECT 1").ok().and_then(|mut s| s.pop()) {
        Some(crate::parse::Statement::Query(q)) => match *q.body {
            ast::SetExpr::Select(select) => *select,
            _ => unreachable!("SELECT 1 is a select"),
        },
        _ => unreachable!("SELECT 1 parses"),
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
