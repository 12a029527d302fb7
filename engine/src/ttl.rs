//! Table TTL (`TTL d + INTERVAL 90 DAY`): which rows have expired, for merges to drop them,
//! and which parts hold expired rows, for the background check to rewrite or drop them.
//!
//! The expression must be a Date or DateTime of one column, non-decreasing in it (`d`,
//! `toDateTime(d)`, `toDate(ts)`, `toStartOfHour(ts)`), plus or minus one interval. That is
//! what lets a part's min/max of the column bound the deadlines of all its rows.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use granary_query::bind::{Binder, Params};
use granary_query::interval::{add_months_to_seconds, interval_step, IntervalStep};
use granary_query::error::bail;
use granary_query::expr::{Expr, Func};
use granary_query::parse::GranaryDialect;
use granary_query::sqlparser::ast::{self, BinaryOperator};
use granary_query::sqlparser::parser::Parser;
use granary_query::{kernels, Result};
use granary_storage::part::{ColumnSpec, Part};
use granary_storage::table::{Expiry, RowExpiry};
use granary_storage::{time, Block, Column, DataType, StorageError};

use crate::partition::NoTables;

/// A table's row TTL, bound to its table.
#[derive(Debug)]
pub struct Ttl {
    /// The table column the TTL reads.
    column: usize,
    /// The expression over a block holding only that column.
    base: Expr,
    step: IntervalStep,
}

impl Ttl {
    /// Binds the TTL expression `sql` against a table's columns.
    pub fn bind(sql: &str, columns: &[ColumnSpec]) -> Result<Arc<Ttl>> {
        let dialect = GranaryDialect::default();
        let ast = Parser::new(&dialect).try_with_sql(sql)?.parse_expr()?;
        let (base, step) = match &ast {
            ast::Expr::BinaryOp { left, op: op @ (BinaryOperator::Plus | BinaryOperator::Minus), right } => match right.as_ref() {
                ast::Expr::Interval(interval) => {
                    let sign = if matches!(op, BinaryOperator::Minus) { -1 } else { 1 };
                    (left.as_ref(), interval_step(interval, sign)?)
                }
                _ => (&ast, IntervalStep::Seconds(0)),
            },
            _ => (&ast, IntervalStep::Seconds(0)),
        };
        let mut base = Binder::new(&NoTables, Params::Values(&[]), 0).bind_row_expr(base, columns)?;
        let mut used = Vec::new();
        base.visit_columns(&mut |c| used.push(c));
        used.dedup();
        let [column] = used[..] else { bail!(NotSupported, "a TTL expression must read exactly one column: {sql}") };
        if !monotonic(&base) || !(base.ty().is_temporal()) {
            bail!(NotSupported, "a TTL must be a Date or DateTime column, or toDate/toDateTime/toStartOfHour of one, plus an interval: {sql}");
        }
        base.remap_columns(&|_| 0);
        Ok(Arc::new(Ttl { column, base, step }))
    }

    /// The moment (Unix seconds) each row of `column` (the TTL's column) expires.
    fn deadlines(&self, column: Arc<Column>) -> Result<Vec<i64>> {
        let rows = column.len();
        let base = self.base.eval(&Block::with_rows(vec![column], rows))?;
        let seconds: Vec<i64> = match base.ty {
            DataType::Date => kernels::to_i64(&base)?.into_iter().map(|d| d * time::SECONDS_PER_DAY).collect(),
            DataType::DateTime64(p) => kernels::to_i64(&base)?.into_iter().map(|t| t.div_euclid(10i64.pow(p as u32))).collect(),
            _ => kernels::to_i64(&base)?,
        };
        Ok(match self.step {
            IntervalStep::Seconds(n) => seconds.into_iter().map(|s| s.saturating_add(n)).collect(),
            IntervalStep::Months(n) => seconds.into_iter().map(|s| add_months_to_seconds(s, n)).collect(),
        })
    }
}

impl RowExpiry for Ttl {
    fn keep(&self, block: &Block) -> granary_storage::Result<Vec<u8>> {
        let now = now();
        let deadlines = self.deadlines(block.columns[self.column].clone()).map_err(|e| StorageError::Invalid(format!("TTL: {e}")))?;
        Ok(deadlines.into_iter().map(|d| (d > now) as u8).collect())
    }

    fn part_expiry(&self, part: &Part) -> Expiry {
        let Some(Some(stats)) = part.meta.stats.get(self.column) else { return Expiry::None };
        let ty = part.meta.columns[self.column].ty.clone();
        let Ok(bounds) = Column::from_values(ty, &[stats.min.clone(), stats.max.clone()]) else { return Expiry::None };
        let Ok(deadlines) = self.deadlines(Arc::new(bounds)) else { return Expiry::None };
        let now = now();
        match (deadlines[0] <= now, deadlines[1] <= now) {
            (_, true) => Expiry::All,
            (true, false) => Expiry::Some,
            _ => Expiry::None,
        }
    }
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// True for the expressions a TTL may use: non-decreasing in their one column.
fn monotonic(e: &Expr) -> bool {
    match e {
        Expr::Column { .. } => true,
        Expr::Call { func: Func::Cast | Func::ToDate | Func::ToStartOfHour, args, .. } => args.len() == 1 && monotonic(&args[0]),
        _ => false,
    }
}
