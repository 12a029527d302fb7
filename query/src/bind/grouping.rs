//! `GROUP BY GROUPING SETS ((a, b), (a), ())`, `ROLLUP(a, b)`, `CUBE(a, b)`, ClickHouse's
//! `GROUP BY a, b WITH ROLLUP` / `WITH CUBE`, and `grouping(…)`.
//!
//! A GROUP BY clause expands to its distinct keys and, when it names grouping sets, the sets
//! as lists of key positions (`crate::aggregation` then groups once per set). Items multiply
//! as in SQL: `GROUP BY a, ROLLUP(b)` is the sets `(a, b)` and `(a)`. ClickHouse's
//! `WITH TOTALS` asks for a totals row after the result (`AggregatePlan::totals`).

use super::*;

/// A GROUP BY clause's keys, and its grouping sets (`None` for a plain GROUP BY).
pub(super) struct GroupBy {
    /// The distinct keys, in the order they first appear.
    pub(super) keys: Vec<ast::Expr>,
    /// Each set as positions in `keys`.
    pub(super) sets: Option<Vec<Vec<usize>>>,
    /// `WITH TOTALS`: a row of the aggregates over every row follows the result.
    pub(super) totals: bool,
}

/// Expands a GROUP BY clause.
pub(super) fn expand(group_by: &ast::GroupByExpr) -> Result<GroupBy> {
    let (items, modifiers) = match group_by {
        ast::GroupByExpr::Expressions(items, modifiers) => (items, modifiers.as_slice()),
        ast::GroupByExpr::All(_) => bail!(NotSupported, "GROUP BY ALL is not supported yet"),
    };
    let constructs = items.iter().any(|e| matches!(e, ast::Expr::GroupingSets(_) | ast::Expr::Rollup(_) | ast::Expr::Cube(_)));
    let totals = modifiers.contains(&ast::GroupByWithModifier::Totals);
    let modifiers: Vec<&ast::GroupByWithModifier> = modifiers.iter().filter(|m| **m != ast::GroupByWithModifier::Totals).collect();
    let sets: Option<Vec<Vec<ast::Expr>>> = match modifiers[..] {
        [] if !constructs => None,
        [] => {
            let mut sets = vec![Vec::new()];
            for item in items {
                let choices = match item {
                    ast::Expr::GroupingSets(sets) => sets.clone(),
                    ast::Expr::Rollup(groups) => rollup(groups),
                    ast::Expr::Cube(groups) => cube(groups),
                    e => vec![vec![e.clone()]],
                };
                sets = sets.iter().flat_map(|s| choices.iter().map(move |c| [s.clone(), c.clone()].concat())).collect();
            }
            Some(sets)
        }
        [modifier] if !constructs => {
            let groups: Vec<Vec<ast::Expr>> = items.iter().map(|e| vec![e.clone()]).collect();
            match modifier {
                ast::GroupByWithModifier::Rollup => Some(rollup(&groups)),
                ast::GroupByWithModifier::Cube => Some(cube(&groups)),
                other => bail!(NotSupported, "GROUP BY … {other} is not supported"),
            }
        }
        _ => bail!(NotSupported, "this GROUP BY form is not supported yet"),
    };
    let Some(sets) = sets else { return Ok(GroupBy { keys: items.clone(), sets: None, totals }) };
    if totals {
        bail!(NotSupported, "WITH TOTALS together with grouping sets (ROLLUP, CUBE) is not supported yet");
    }
    let mut keys: Vec<ast::Expr> = Vec::new();
    let sets = sets
        .into_iter()
        .map(|set| {
            let mut positions: Vec<usize> = Vec::new();
            for e in set {
                let at = keys.iter().position(|k| *k == e).unwrap_or_else(|| {
                    keys.push(e);
                    keys.len() - 1
                });
                if !positions.contains(&at) {
                    positions.push(at);
                }
            }
            positions
        })
        .collect();
    Ok(GroupBy { keys, sets: Some(sets), totals })
}

/// `ROLLUP(g1, …, gn)`: the sets `(g1 … gn)`, `(g1 … gn-1)`, …, `()`.
fn rollup(groups: &[Vec<ast::Expr>]) -> Vec<Vec<ast::Expr>> {
    (0..=groups.len()).rev().map(|n| groups[..n].concat()).collect()
}

/// `CUBE(g1, …, gn)`: every subset of the groups, the whole first.
fn cube(groups: &[Vec<ast::Expr>]) -> Vec<Vec<ast::Expr>> {
    let n = groups.len();
    (0..1usize << n).rev().map(|mask| (0..n).filter(|i| mask & (1 << (n - 1 - i)) != 0).flat_map(|i| groups[i].clone()).collect()).collect()
}

impl Binder<'_> {
    /// `grouping(k1, …, kn)`: per row, a bit per argument (the first one highest), set when
    /// the row's grouping set does not group by that key; 0 without grouping sets.
    pub(super) fn bind_grouping(&self, args: &[ast::Expr], scope: &mut Scope) -> Result<Expr> {
        let Some(grouping) = scope.grouping.take() else { bail!(Grouping, "grouping() needs GROUP BY") };
        let positions = args.iter().map(|a| self.bind_expr(a, scope).map(|e| grouping.keys.iter().position(|k| *k == e)));
        let positions = positions.collect::<Result<Vec<_>>>();
        let (keys, sets) = (grouping.keys.len(), grouping.sets.clone());
        scope.grouping = Some(grouping);
        let Some(positions) = positions?.into_iter().collect::<Option<Vec<usize>>>().filter(|p| !p.is_empty()) else {
            bail!(Grouping, "the arguments of grouping() must be GROUP BY keys");
        };
        if sets.is_empty() {
            return Ok(Expr::Literal { value: Value::UInt(0), ty: DataType::UInt64 });
        }
        let bits = |set: &Vec<usize>| positions.iter().fold(0u64, |v, k| (v << 1) | u64::from(!set.contains(k)));
        let per_set = Expr::Literal { value: Value::Array(sets.iter().map(|s| Value::UInt(bits(s))).collect()), ty: DataType::Array(Box::new(DataType::UInt64)) };
        Expr::call(Func::ArrayElement, vec![per_set, Expr::Column { index: keys, ty: DataType::UInt64 }])
    }
}
