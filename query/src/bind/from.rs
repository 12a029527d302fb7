//! FROM: tables, views, CTEs and subqueries, joined into the one relation a SELECT reads.
//!
//! A lone table stays a table, so that the scan prunes parts and granules and reads blocks
//! lazily. With joins (and ARRAY JOIN), each side is read into rows first: only the columns
//! the statement mentions, and only the rows that the WHERE conditions on that side alone
//! keep, unless an outer join pads that side (a condition could then hold for the padding).
//! The hash join (`crate::join`) then pairs the rows, and the SELECT runs over the result.

use std::ops::ControlFlow;

use granary_storage::{ColumnData, ColumnRef};

use super::*;
use crate::join::{join_pairs, take_padded, AsofOp, JoinKind, Residual, Strictness, NONE};
use crate::parse::{join_strictness, StrictnessWord};

/// What a FROM clause gives the rest of a SELECT: a table (stored or computed) and, per
/// column, the name that qualifies it (`e` in `e.item_id`).
pub(crate) struct Relation {
    /// The rows.
    pub(crate) table: Arc<Table>,
    /// Per column, its table's alias (or name).
    pub(crate) qualifiers: Vec<String>,
    /// Columns only a qualified name reaches: the right copy of a `USING` key.
    pub(crate) hidden: Vec<bool>,
    /// `FROM t FINAL`.
    pub(crate) final_merge: bool,
}

impl Relation {
    /// A table whose columns are all qualified by `qualifier`.
    pub(crate) fn new(table: Arc<Table>, qualifier: &str, final_merge: bool) -> Relation {
        let n = table.columns().len();
        Relation { table, qualifiers: vec![qualifier.to_string(); n], hidden: vec![false; n], final_merge }
    }

    /// Computed rows under a name.
    pub(super) fn rows(database: &str, name: &str, columns: Vec<ColumnSpec>, block: Block, qualifiers: Vec<String>, hidden: Vec<bool>) -> Relation {
        let table = Table { database: database.to_string(), name: name.to_string(), data: TableData::Rows { columns, block }, finalize_states: false };
        Relation { table: Arc::new(table), qualifiers, hidden, final_merge: false }
    }

    /// The columns, in order.
    pub(crate) fn columns(&self) -> &[ColumnSpec] {
        self.table.columns()
    }

    /// The rows of a computed relation.
    pub(super) fn block(&self) -> &Block {
        match &self.table.data {
            TableData::Rows { block, .. } => block,
            _ => unreachable!("a relation read into rows"),
        }
    }

    /// The column a name (`c`, `t.c`, `db.t.c`; Nested columns are `n.field`) refers to, or
    /// `None`. As in ClickHouse, a bare name that several joined tables have is the leftmost.
    pub(crate) fn resolve(&self, parts: &[&str]) -> Option<usize> {
        let columns = self.columns();
        let full = parts.join(".");
        let mut found: Vec<usize> = (0..columns.len()).filter(|&i| !self.hidden[i] && columns[i].name == full).collect();
        for skip in 1..parts.len().min(3) {
            if !found.is_empty() {
                break;
            }
            let (qualifier, rest) = (parts[skip - 1], parts[skip..].join("."));
            // Joined rows keep no database name; their qualifiers (table names) still tell.
            if skip == 2 && !self.table.database.is_empty() && parts[0] != self.table.database {
                break;
            }
            found = (0..columns.len()).filter(|&i| self.qualifiers[i] == qualifier && columns[i].name == rest).collect();
        }
        found.first().copied()
    }

    /// The columns `*` (or `q.*`) expands to, with the names the result shows: as in
    /// ClickHouse, a column whose name a column to its left has too is shown qualified.
    pub(crate) fn star(&self, qualifier: Option<&str>) -> Vec<(usize, String)> {
        let columns = self.columns();
        let shared = |i: usize| (0..i).any(|j| !self.hidden[j] && columns[j].name == columns[i].name);
        (0..columns.len())
            .filter(|&i| !self.hidden[i] && qualifier.is_none_or(|q| self.qualifiers[i] == q))
            .map(|i| (i, if shared(i) { format!("{}.{}", self.qualifiers[i], columns[i].name) } else { columns[i].name.clone() }))
            .collect()
    }
}

/// The column names a statement mentions (bare or qualified), to read only those columns of
/// each joined table.
pub(crate) struct Mentions {
    /// A `*` wants every column.
    all: bool,
    /// Each mention's dotted parts.
    names: Vec<Vec<String>>,
}

impl Mentions {
    /// The names in a SELECT and the ORDER BY / LIMIT BY of its query.
    fn of(select: &ast::Select, query: &ast::Query) -> Mentions {
        let mut m = Mentions { all: false, names: Vec::new() };
        m.all = select.projection.iter().any(|i| matches!(i, ast::SelectItem::Wildcard(_) | ast::SelectItem::QualifiedWildcard(..)));
        let mut visit = |e: &ast::Expr| {
            m.names.extend(identifiers(e));
            ControlFlow::<()>::Continue(())
        };
        let _ = ast::visit_expressions(select, &mut visit);
        let _ = ast::visit_expressions(&query.order_by, &mut visit);
        let _ = ast::visit_expressions(&query.limit_clause, &mut visit);
        for twj in &select.from {
            for join in &twj.joins {
                match (&join.join_operator, &join.relation) {
                    (ast::JoinOperator::ArrayJoin | ast::JoinOperator::LeftArrayJoin | ast::JoinOperator::InnerArrayJoin, ast::TableFactor::Table { name, .. }) => {
                        m.names.push(name.0.iter().filter_map(|p| p.as_ident().map(|i| i.value.clone())).collect());
                    }
                    (op, _) => {
                        if let Some(ast::JoinConstraint::Using(names)) = constraint(op) {
                            m.names.extend(names.iter().map(|n| n.0.iter().filter_map(|p| p.as_ident().map(|i| i.value.clone())).collect()));
                        }
                    }
                }
            }
        }
        m
    }

    /// True when column `i` of the relation is mentioned (a Nested name mentions its fields).
    fn wants(&self, rel: &Relation, i: usize) -> bool {
        let name = &rel.columns()[i].name;
        let matches = |n: &str| n == name || name.strip_prefix(n).is_some_and(|rest| rest.starts_with('.'));
        self.all
            || self.names.iter().any(|p| {
                matches(&p.join(".")) || (p.len() >= 2 && p[0] == rel.qualifiers[i] && matches(&p[1..].join("."))) || (p.len() >= 3 && matches(&p[2..].join(".")))
            })
    }
}

/// The dotted names an expression reads, directly (not those of its subqueries).
fn identifiers(e: &ast::Expr) -> Vec<Vec<String>> {
    match e {
        ast::Expr::Identifier(id) => vec![vec![id.value.clone()]],
        ast::Expr::CompoundIdentifier(parts) => vec![parts.iter().map(|p| p.value.clone()).collect()],
        _ => Vec::new(),
    }
}

/// The names a condition reads, or `None` when it cannot move below a join (it holds a
/// subquery or a window).
fn condition_names(e: &ast::Expr) -> Option<Vec<Vec<String>>> {
    let mut names = Vec::new();
    let flow = ast::visit_expressions(e, |x: &ast::Expr| {
        match x {
            ast::Expr::Subquery(_) | ast::Expr::Exists { .. } | ast::Expr::In { target: ast::InTarget::Subquery(_), .. } => return ControlFlow::Break(()),
            ast::Expr::Function(f) if f.over.is_some() => return ControlFlow::Break(()),
            _ => names.extend(identifiers(x)),
        }
        ControlFlow::Continue(())
    });
    flow.is_continue().then_some(names)
}

/// True when a condition holds no subquery (nor window), so it binds without running one.
pub(super) fn reads_no_subquery(e: &ast::Expr) -> bool {
    condition_names(e).is_some()
}

/// The AND-ed parts of a condition.
pub(crate) fn conjuncts(e: &ast::Expr) -> Vec<&ast::Expr> {
    match e {
        ast::Expr::BinaryOp { left, op: ast::BinaryOperator::And, right } => {
            let mut out = conjuncts(left);
            out.extend(conjuncts(right));
            out
        }
        ast::Expr::Nested(inner) => conjuncts(inner),
        _ => vec![e],
    }
}

/// True when every name resolves in `rel` and no bare one also resolves in `other`.
fn only_in(names: &[Vec<String>], rel: &Relation, other: Option<&Relation>) -> bool {
    fn parts(n: &[String]) -> Vec<&str> {
        n.iter().map(String::as_str).collect()
    }
    !names.is_empty()
        && names.iter().all(|n| {
            rel.resolve(&parts(n)).is_some() && (n.len() > 1 || other.is_none_or(|o| o.resolve(&parts(n)).is_none()))
        })
}

fn constraint(op: &ast::JoinOperator) -> Option<&ast::JoinConstraint> {
    use ast::JoinOperator as J;
    match op {
        J::Join(c) | J::Inner(c) | J::Left(c) | J::LeftOuter(c) | J::Right(c) | J::RightOuter(c) | J::FullOuter(c) | J::CrossJoin(c) => Some(c),
        J::Semi(c) | J::LeftSemi(c) | J::RightSemi(c) | J::Anti(c) | J::LeftAnti(c) | J::RightAnti(c) => Some(c),
        _ => None,
    }
}

/// A join's strictness as written; an ASOF join's inequality is found in ON when it binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Written {
    /// `ALL`, `ANY`, `SEMI` or `ANTI`.
    Strict(Strictness),
    /// `ASOF`.
    Asof,
}

/// How one step of a FROM chain joins.
struct JoinSpec {
    kind: JoinKind,
    strictness: Written,
    constraint: Option<ast::JoinConstraint>,
}

impl JoinSpec {
    /// Which sides WHERE conditions may filter before the join: a row of a side whose rows
    /// each pair on their own (the left one of `ANY LEFT`) loses nothing by it; a side whose
    /// match is chosen (first, closest, or used once) would choose another.
    fn filterable_sides(&self) -> (bool, bool) {
        match (self.strictness, self.kind) {
            (Written::Strict(Strictness::All), _) => (true, true),
            (_, JoinKind::Right) => (false, true),
            (Written::Asof, _) | (_, JoinKind::Left) => (true, false),
            _ => (false, false),
        }
    }
}

/// One step of a FROM chain after its first table.
enum Step<'q> {
    /// `JOIN` of any kind, or `ARRAY JOIN`.
    Join(&'q ast::Join),
    /// `, t`: a cross join whose keys may sit in WHERE.
    Comma(&'q ast::TableFactor),
}

impl Step<'_> {
    /// How the step joins, `None` for ARRAY JOIN.
    fn spec(&self) -> Result<Option<JoinSpec>> {
        use ast::JoinOperator as J;
        let Step::Join(join) = self else { return Ok(Some(JoinSpec { kind: JoinKind::Cross, strictness: Written::Strict(Strictness::All), constraint: None })) };
        let (kind, strictness) = match &join.join_operator {
            J::Join(_) | J::Inner(_) => (JoinKind::Inner, Strictness::All),
            J::Left(_) | J::LeftOuter(_) => (JoinKind::Left, Strictness::All),
            J::Right(_) | J::RightOuter(_) => (JoinKind::Right, Strictness::All),
            J::FullOuter(_) => (JoinKind::Full, Strictness::All),
            J::CrossJoin(_) => (JoinKind::Cross, Strictness::All),
            J::Semi(_) | J::LeftSemi(_) => (JoinKind::Left, Strictness::Semi),
            J::RightSemi(_) => (JoinKind::Right, Strictness::Semi),
            J::Anti(_) | J::LeftAnti(_) => (JoinKind::Left, Strictness::Anti),
            J::RightAnti(_) => (JoinKind::Right, Strictness::Anti),
            J::ArrayJoin | J::LeftArrayJoin | J::InnerArrayJoin => return Ok(None),
            other => bail!(NotSupported, "this join ({other:?}) is not supported yet"),
        };
        let (word, constraint) = match constraint(&join.join_operator) {
            Some(c) => {
                let (word, c) = join_strictness(c)?;
                (word, Some(c))
            }
            None => (None, None),
        };
        let strictness = match (word, kind) {
            (None, _) => Written::Strict(strictness),
            (Some(StrictnessWord::Any), JoinKind::Inner | JoinKind::Left | JoinKind::Right) => Written::Strict(Strictness::Any),
            (Some(StrictnessWord::Asof), JoinKind::Inner | JoinKind::Left) => Written::Asof,
            (Some(word), _) => {
                let written = format!("{word:?} {kind:?} JOIN").to_uppercase();
                bail!(NotSupported, "{written} is not supported (nor in ClickHouse): ASOF joins are INNER or LEFT, ANY joins INNER, LEFT or RIGHT")
            }
        };
        Ok(Some(JoinSpec { kind, strictness, constraint }))
    }
}

impl Binder<'_> {
    /// The relation a SELECT's FROM clause names, or `None` without FROM.
    pub(super) fn bind_from(&self, select: &ast::Select, query: &ast::Query) -> Result<Option<Relation>> {
        let Some((first, rest)) = select.from.split_first() else { return Ok(None) };
        let mut steps: Vec<Step> = first.joins.iter().map(Step::Join).collect();
        for twj in rest {
            steps.push(Step::Comma(&twj.relation));
            steps.extend(twj.joins.iter().map(Step::Join));
        }
        let mut rel = self.bind_factor(&first.relation)?;
        if steps.is_empty() {
            return Ok(Some(rel));
        }
        let mentions = Mentions::of(select, query);
        let conditions: Vec<&ast::Expr> = select.selection.as_ref().map(conjuncts).unwrap_or_default();
        let specs = steps.iter().map(Step::spec).collect::<Result<Vec<_>>>()?;
        // A step pads the rows joined before it when it is a RIGHT or FULL join.
        let padded_from = |k: usize| specs[k..].iter().any(|spec| spec.as_ref().is_some_and(|s| s.kind.keeps_right()));
        for (k, step) in steps.iter().enumerate() {
            let (factor, join) = match step {
                Step::Join(join) => (&join.relation, Some(*join)),
                Step::Comma(factor) => (*factor, None),
            };
            let Some(spec) = &specs[k] else {
                let read = self.read(rel, &mentions, &[])?;
                rel = self.array_join(read, join.expect("ARRAY JOIN is a join"))?;
                continue;
            };
            let right = self.bind_factor(factor)?;
            let pushable = |target: &Relation, other: &Relation| -> Vec<&ast::Expr> {
                conditions.iter().copied().filter(|c| condition_names(c).is_some_and(|names| only_in(&names, target, Some(other)))).collect()
            };
            let (left_filterable, right_filterable) = spec.filterable_sides();
            let left_conditions = if padded_from(k) || !left_filterable { Vec::new() } else { pushable(&rel, &right) };
            let right_conditions = if spec.kind.keeps_left() || padded_from(k + 1) || !right_filterable { Vec::new() } else { pushable(&right, &rel) };
            let left = self.read(rel, &mentions, &left_conditions)?;
            let right = self.read(right, &mentions, &right_conditions)?;
            rel = self.hash_join(left, right, spec, &conditions)?;
        }
        Ok(Some(rel))
    }

    /// One table, view, CTE or subquery of a FROM clause.
    fn bind_factor(&self, factor: &ast::TableFactor) -> Result<Relation> {
        match factor {
            ast::TableFactor::Table { name, args: None, alias, .. } => {
                // sqlparser reads ClickHouse's `FROM t FINAL` as the alias FINAL.
                let final_merge = alias.as_ref().is_some_and(|a| !a.explicit && a.name.quote_style.is_none() && a.name.value.eq_ignore_ascii_case("final"));
                let name = table_name(name)?;
                let qualifier = alias.as_ref().filter(|_| !final_merge).map_or(name.name.clone(), |a| a.name.value.clone());
                if name.database.is_none() {
                    if let Some(rel) = self.read_cte(&name.name, &qualifier)? {
                        return Ok(rel);
                    }
                }
                let table = self.catalog.table(&name)?;
                match &table.data {
                    TableData::View(query) => self.materialize(query, &qualifier),
                    _ => Ok(Relation::new(table, &qualifier, final_merge)),
                }
            }
            ast::TableFactor::Table { name, args: Some(args), alias, .. } => self.table_function(name, args, alias.as_ref()),
            ast::TableFactor::Derived { subquery, alias, .. } => {
                let mut rel = self.materialize(subquery, alias.as_ref().map_or("", |a| a.name.value.as_str()))?;
                if let Some(alias) = alias.as_ref().filter(|a| !a.columns.is_empty()) {
                    rename_columns(&mut rel, &alias.columns.iter().map(|c| c.name.value.clone()).collect::<Vec<_>>())?;
                }
                Ok(rel)
            }
            ast::TableFactor::NestedJoin { .. } => bail!(NotSupported, "parenthesized joins are not supported yet"),
            other => bail!(NotSupported, "FROM {other} is not supported yet"),
        }
    }

    /// A CTE of an enclosing WITH, run now; it sees only the CTEs defined before it.
    fn read_cte(&self, name: &str, qualifier: &str) -> Result<Option<Relation>> {
        let Some(i) = self.ctes.borrow().iter().rposition(|(n, _)| n == name) else { return Ok(None) };
        let later = self.ctes.borrow_mut().split_off(i);
        let read = self.materialize(&later[0].1, qualifier);
        self.ctes.borrow_mut().extend(later);
        read.map(Some)
    }

    /// A subquery in FROM: it runs once, now, and its rows become a relation named by its
    /// alias (when only describing a statement it is bound but not run).
    pub(super) fn materialize(&self, query: &ast::Query, alias: &str) -> Result<Relation> {
        let plan = self.bind_query(query)?;
        let columns: Vec<ColumnSpec> = plan.fields.iter().map(|f| ColumnSpec { name: f.name.clone(), ty: f.ty.clone(), codec: Default::default(), filter: None }).collect();
        let block = self.run(&plan)?;
        self.ctx.hold(crate::exec::block_memory(&block))?;
        let n = columns.len();
        Ok(Relation::rows("", alias, columns, block, vec![alias.to_string(); n], vec![false; n]))
    }

    /// Runs a plan into one block of rows (none when only describing a statement).
    pub(super) fn run(&self, plan: &SelectPlan) -> Result<Block> {
        let block = match self.params {
            Params::Infer(_) => None,
            Params::Values(_) => Block::concat(&crate::exec::execute(plan, &self.ctx)?.blocks),
        };
        Ok(block.unwrap_or_else(|| Block::with_rows(plan.fields.iter().map(|f| Arc::new(Column::empty(f.ty.clone()))).collect(), 0)))
    }

    /// Reads the mentioned columns of a relation's rows that pass `conditions` into memory.
    fn read(&self, rel: Relation, mentions: &Mentions, conditions: &[&ast::Expr]) -> Result<Relation> {
        let keep: Vec<usize> = (0..rel.columns().len()).filter(|&i| mentions.wants(&rel, i)).collect();
        if rel.table.store().is_none() && conditions.is_empty() && keep.len() == rel.columns().len() {
            return Ok(rel);
        }
        let filter = self.conjunction(conditions, &rel, "WHERE")?;
        let outputs = keep
            .iter()
            .map(|&i| self.bind_column(&rel, i))
            .collect::<Result<Vec<_>>>()?;
        let fields = keep.iter().zip(&outputs).map(|(&i, e)| Field { name: rel.columns()[i].name.clone(), ty: e.ty() }).collect();
        let mut plan = SelectPlan::new(filter, outputs, fields);
        plan.source = scan_source(rel.table.clone(), rel.final_merge || rel.table.finalize_states, &mut plan);
        let block = self.run(&plan)?;
        self.ctx.hold(crate::exec::block_memory(&block))?;
        let columns = plan.fields.iter().map(|f| ColumnSpec { name: f.name.clone(), ty: f.ty.clone(), codec: Default::default(), filter: None }).collect();
        let qualifiers = keep.iter().map(|&i| rel.qualifiers[i].clone()).collect();
        let hidden = keep.iter().map(|&i| rel.hidden[i]).collect();
        Ok(Relation::rows(&rel.table.database, &rel.table.name, columns, block, qualifiers, hidden))
    }

    /// Conditions over a relation AND-ed into one (`None` for none).
    fn conjunction(&self, conditions: &[&ast::Expr], rel: &Relation, clause: &str) -> Result<Option<Expr>> {
        let mut scope = Scope::over(Some(rel));
        let mut all: Option<Expr> = None;
        for c in conditions {
            let bound = self.bind_condition(c, &mut scope, clause)?;
            all = Some(match all {
                None => bound,
                Some(f) => Expr::call(Func::And, vec![f, bound])?,
            });
        }
        Ok(all)
    }

    /// `a = b` with `a` reading only the left side and `b` only the right (or the other way
    /// round): the two key expressions, converted to one type.
    fn equi_key(&self, c: &ast::Expr, left: &Relation, right: &Relation) -> Result<Option<(Expr, Expr)>> {
        Ok(self.sided_comparison(c, left, right)?.filter(|(_, _, op)| *op == ast::BinaryOperator::Eq).map(|(l, r, _)| (l, r)))
    }

    /// `a < b` (or `<=`, `>`, `>=`) between the two sides: the ASOF inequality, as
    /// `left op right`.
    fn asof_key(&self, c: &ast::Expr, left: &Relation, right: &Relation) -> Result<Option<(Expr, Expr, AsofOp)>> {
        use ast::BinaryOperator as B;
        let Some((l, r, op)) = self.sided_comparison(c, left, right)? else { return Ok(None) };
        let op = match op {
            B::GtEq => AsofOp::Ge,
            B::Gt => AsofOp::Gt,
            B::LtEq => AsofOp::Le,
            B::Lt => AsofOp::Lt,
            _ => return Ok(None),
        };
        Ok(Some((l, r, op)))
    }

    /// `a op b` with one operand reading only the left side and the other only the right: the
    /// left and the right expression, converted to one type, and the operator as read from the
    /// left one to the right one.
    fn sided_comparison(&self, c: &ast::Expr, left: &Relation, right: &Relation) -> Result<Option<(Expr, Expr, ast::BinaryOperator)>> {
        use ast::BinaryOperator as B;
        let ast::Expr::BinaryOp { left: a, op, right: b } = c else { return Ok(None) };
        if !matches!(op, B::Eq | B::Lt | B::LtEq | B::Gt | B::GtEq) {
            return Ok(None);
        }
        let (Some(na), Some(nb)) = (condition_names(a), condition_names(b)) else { return Ok(None) };
        let (l, r, op) = if only_in(&na, left, Some(right)) && only_in(&nb, right, Some(left)) {
            (a, b, op.clone())
        } else if only_in(&nb, left, Some(right)) && only_in(&na, right, Some(left)) {
            let flipped = match op {
                B::Lt => B::Gt,
                B::LtEq => B::GtEq,
                B::Gt => B::Lt,
                B::GtEq => B::LtEq,
                other => other.clone(),
            };
            (b, a, flipped)
        } else {
            return Ok(None);
        };
        let l = self.bind_expr(l, &mut Scope::over(Some(left)))?;
        let r = self.bind_expr(r, &mut Scope::over(Some(right)))?;
        let ty = join_key_type(&l.ty(), &r.ty())?;
        Ok(Some((l.cast(ty.clone())?, r.cast(ty)?, op)))
    }

    /// Joins two relations read into rows.
    fn hash_join(&self, left: Relation, right: Relation, spec: &JoinSpec, conditions: &[&ast::Expr]) -> Result<Relation> {
        let mut kind = spec.kind;
        let width = left.columns().len();
        let mut columns: Vec<ColumnSpec> = left.columns().to_vec();
        columns.extend(right.columns().iter().cloned());
        let qualifiers: Vec<String> = left.qualifiers.iter().chain(&right.qualifiers).cloned().collect();
        let mut hidden: Vec<bool> = left.hidden.iter().chain(&right.hidden).copied().collect();
        let mut keys: Vec<(Expr, Expr)> = Vec::new();
        let mut residual: Vec<&ast::Expr> = Vec::new();
        let mut using: Vec<(usize, usize)> = Vec::new();
        match spec.constraint.as_ref() {
            Some(ast::JoinConstraint::On(e)) => {
                for c in conjuncts(e) {
                    match self.equi_key(c, &left, &right)? {
                        Some(pair) => keys.push(pair),
                        None => residual.push(c),
                    }
                }
            }
            Some(ast::JoinConstraint::Using(names)) => {
                for name in names {
                    let name = name.to_string().trim_matches('"').to_string();
                    let (Some(l), Some(r)) = (left.resolve(&[&name]), right.resolve(&[&name])) else {
                        bail!(UndefinedColumn, "column {name} of USING is not on both sides of the join");
                    };
                    let (le, re) = (self.bind_column(&left, l)?, self.bind_column(&right, r)?);
                    let ty = join_key_type(&le.ty(), &re.ty())?;
                    keys.push((le.cast(ty.clone())?, re.cast(ty)?));
                    using.push((l, r));
                    hidden[width + r] = true;
                }
            }
            Some(other @ (ast::JoinConstraint::Natural | ast::JoinConstraint::UsingAlias(..))) => bail!(NotSupported, "this join constraint ({other:?}) is not supported yet"),
            Some(ast::JoinConstraint::None) | None => {
                // `FROM a, b WHERE a.k = b.k`: WHERE still runs after the join; its keys only
                // spare the cross product.
                for c in conditions {
                    if let Some(pair) = self.equi_key(c, &left, &right)? {
                        keys.push(pair);
                        kind = JoinKind::Inner;
                    }
                }
            }
        }
        let strictness = match spec.strictness {
            Written::Strict(strictness) => strictness,
            Written::Asof => Strictness::Asof(self.asof_inequality(&mut keys, &mut residual, !using.is_empty(), (&left, &right))?),
        };
        if kind != JoinKind::Cross && keys.is_empty() && residual.is_empty() {
            bail!(Syntax, "a join needs an ON or USING clause");
        }
        if (kind.keeps_left() || kind.keeps_right()) && keys.is_empty() {
            bail!(NotSupported, "an outer join needs an equality between its two sides in ON");
        }
        let joined = Relation::rows("", "", columns.clone(), Block::with_rows(Vec::new(), 0), qualifiers.clone(), hidden.clone());
        let condition = self.conjunction(&residual, &joined, "JOIN ON")?;
        let (lb, rb) = (left.block(), right.block());
        let lk = keys.iter().map(|(l, _)| l.eval(lb)).collect::<Result<Vec<_>>>()?;
        let rk = keys.iter().map(|(_, r)| r.eval(rb)).collect::<Result<Vec<_>>>()?;
        let pair_block = |li: &[u32], ri: &[u32]| {
            let mut cols: Vec<ColumnRef> = lb.columns.iter().map(|c| Arc::new(take_padded(c, li))).collect();
            cols.extend(rb.columns.iter().map(|c| Arc::new(take_padded(c, ri))));
            Block::with_rows(cols, li.len())
        };
        let mut check = |li: &[u32], ri: &[u32]| -> Result<Vec<u8>> {
            let mask = condition.as_ref().expect("a residual condition").eval(&pair_block(li, ri))?;
            Ok(crate::exec::mask_bytes(&mask).into_owned())
        };
        let residual_check: Option<Residual> = if condition.is_some() { Some(&mut check) } else { None };
        let (li, ri) = join_pairs(kind, strictness, (&lk, &rk), (lb.rows(), rb.rows()), residual_check, &self.ctx)?;
        let mut block = pair_block(&li, &ri);
        self.ctx.hold(crate::exec::block_memory(&block))?;
        // A USING key shows the value of whichever side the row has; `left.key` still reads
        // the left side's own (padded) value.
        let (mut columns, mut qualifiers) = (columns, qualifiers);
        if kind.keeps_right() {
            for &(l, r) in &using {
                let from_right = kernels::cast(&block.columns[width + r], &block.columns[l].ty)?;
                let n = li.len() as u32;
                let pick: Vec<u32> = li.iter().enumerate().map(|(i, &x)| if x == NONE { n + i as u32 } else { i as u32 }).collect();
                let own = block.columns[l].clone();
                let both = Column::concat(own.ty.clone(), &[own.clone(), Arc::new(from_right)]);
                block.columns[l] = Arc::new(both.take(&pick));
                block.columns.push(own);
                columns.push(columns[l].clone());
                let own_qualifier = std::mem::take(&mut qualifiers[l]);
                qualifiers.push(own_qualifier);
                hidden.push(true);
            }
        }
        Ok(Relation::rows("", "", columns, block, qualifiers, hidden))
    }

    /// An ASOF join's inequality, moved to the end of `keys` (the last USING column, compared
    /// by `>=`, or the one inequality between the sides in ON); the ON condition may hold
    /// nothing else but equalities.
    fn asof_inequality(&self, keys: &mut Vec<(Expr, Expr)>, residual: &mut Vec<&ast::Expr>, using: bool, sides: (&Relation, &Relation)) -> Result<AsofOp> {
        if using {
            return if keys.len() >= 2 { Ok(AsofOp::Ge) } else { bail!(NotSupported, "ASOF JOIN … USING needs an equality column before the ASOF column") };
        }
        let ([inequality], false) = (residual.as_slice(), keys.is_empty()) else {
            bail!(NotSupported, "ASOF JOIN needs ON equalities and one inequality between its two sides, and nothing else");
        };
        let Some((l, r, op)) = self.asof_key(inequality, sides.0, sides.1)? else {
            bail!(NotSupported, "ASOF JOIN needs ON equalities and one inequality between its two sides, and nothing else");
        };
        residual.clear();
        keys.push((l, r));
        Ok(op)
    }

    /// Column `i` of a relation as an expression (states read as final values where the
    /// table keeps them).
    pub(super) fn bind_column(&self, rel: &Relation, i: usize) -> Result<Expr> {
        let column = Expr::Column { index: i, ty: rel.columns()[i].ty.value_type() };
        if rel.table.finalize_states && matches!(column.ty(), DataType::AggregateFunction { .. }) {
            return Expr::call(Func::FinalizeAggregation, vec![column]);
        }
        Ok(column)
    }

    /// `FROM t [LEFT | INNER] ARRAY JOIN a [AS x]`: one row per element of array column `a`
    /// (or, for a Nested name, of all its arrays side by side), the other columns repeated.
    /// `a` itself becomes the element unless an alias names the element instead. Rows with
    /// empty arrays disappear, except under LEFT ARRAY JOIN, which keeps them with the
    /// element's default.
    fn array_join(&self, base: Relation, join: &ast::Join) -> Result<Relation> {
        let keep_empty = matches!(join.join_operator, ast::JoinOperator::LeftArrayJoin);
        let ast::TableFactor::Table { name, alias, .. } = &join.relation else { bail!(NotSupported, "ARRAY JOIN takes an array column: {}", join.relation) };
        let target = name.to_string().trim_matches('"').to_string();
        let (columns, block) = (base.columns(), base.block());
        let joined: Vec<usize> = match base.resolve(&[&target]) {
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
                    ColumnData::Bytes(s) => Ok(granary_storage::array::decode_row(&e.ty, s.get(row))?),
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
        let mut qualifiers = base.qualifiers.clone();
        let mut hidden = base.hidden.clone();
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
                qualifiers.push(base.qualifiers[i].clone());
                hidden.push(false);
            }
        }
        let rows = repeat.len();
        Ok(Relation::rows(&base.table.database, &base.table.name, out_columns, Block::with_rows(out, rows), qualifiers, hidden))
    }
}

/// `AS t(a, b, …)`: new names for a subquery's columns.
fn rename_columns(rel: &mut Relation, names: &[String]) -> Result<()> {
    let TableData::Rows { columns, block } = &rel.table.data else { unreachable!("a subquery's rows") };
    if names.len() > columns.len() {
        bail!(Syntax, "{} column names for a subquery of {} columns", names.len(), columns.len());
    }
    let mut columns = columns.clone();
    columns.iter_mut().zip(names).for_each(|(c, n)| c.name = n.clone());
    let table = Table { database: rel.table.database.clone(), name: rel.table.name.clone(), data: TableData::Rows { columns, block: block.clone() }, finalize_states: false };
    rel.table = Arc::new(table);
    Ok(())
}

/// The one type both sides of a join key convert to.
fn join_key_type(a: &DataType, b: &DataType) -> Result<DataType> {
    let (a, b) = (a.non_null().value_type(), b.non_null().value_type());
    Ok(match (&a, &b) {
        _ if a == b => a.clone(),
        (x, y) if x.is_string() && y.is_string() => DataType::String,
        (x, y) if x.is_temporal() && y.is_temporal() => crate::expr::wider_temporal(x, y),
        (x, y) if x.is_float() || y.is_float() || x.is_decimal() || y.is_decimal() => DataType::Float64,
        (x, y) if x.is_integer() && y.is_integer() => {
            if x.is_signed() || y.is_signed() {
                DataType::Int64
            } else {
                DataType::UInt64
            }
        }
        _ => bail!(DatatypeMismatch, "cannot join a key of type {a} with one of type {b}"),
    })
}
