//! The plan of a SELECT: which parts and columns to read, and the operators to apply.
//!
//! Stages, in order: scan (with part and granule pruning from `ranges`) → filter →
//! aggregate → having → project (plus sort keys) → sort / top-N → offset / limit.

use std::sync::Arc;

use granary_storage::index::ColumnRange;
use granary_storage::DataType;

use crate::aggregate::AggFunc;
use crate::catalog::Table;
use crate::expr::Expr;

/// A result column's name and type.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Column name as the client sees it.
    pub name: String,
    /// Its type.
    pub ty: DataType,
}

/// Where rows come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// One row and no columns (`SELECT 1`).
    OneRow,
    /// A MergeTree table.
    Table {
        /// The table.
        table: Arc<Table>,
        /// Table column indexes to read, in the order scan blocks hold them.
        columns: Vec<usize>,
        /// Conditions (on table column indexes) used to skip parts and granules.
        ranges: Vec<ColumnRange>,
        /// `FROM t FINAL`: rows of equal keys fold by the table's merge mode while reading,
        /// so the answer is what it will be once every merge is done.
        final_merge: bool,
    },
}

/// One aggregate call in a GROUP BY stage.
#[derive(Debug, Clone, PartialEq)]
pub struct AggCall {
    /// The function.
    pub func: AggFunc,
    /// Plain, `-State` or `-Merge`.
    pub mode: crate::states::AggMode,
    /// Its arguments, over the scan block.
    pub args: Vec<Expr>,
    /// Result type.
    pub ty: DataType,
}

/// Grouping: output blocks hold the keys, then one column per aggregate call.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregatePlan {
    /// Group keys, over the scan block.
    pub keys: Vec<Expr>,
    /// Aggregates.
    pub aggs: Vec<AggCall>,
}

/// A sort key over the same input as the projection.
#[derive(Debug, Clone, PartialEq)]
pub struct SortKey {
    /// What to sort by.
    pub expr: Expr,
    /// Descending order.
    pub desc: bool,
    /// NULLs before other values (by default they come last, in either direction).
    pub nulls_first: bool,
}

/// A bound, executable SELECT.
#[derive(Debug, Clone)]
pub struct SelectPlan {
    /// Rows in.
    pub source: Source,
    /// WHERE, over the scan block.
    pub filter: Option<Expr>,
    /// GROUP BY and aggregates, if the query aggregates.
    pub aggregate: Option<AggregatePlan>,
    /// HAVING, over the aggregate output.
    pub having: Option<Expr>,
    /// The SELECT list, over the aggregate output (or the scan block).
    pub outputs: Vec<Expr>,
    /// ORDER BY.
    pub sort: Vec<SortKey>,
    /// LIMIT.
    pub limit: Option<usize>,
    /// OFFSET.
    pub offset: usize,
    /// Result columns.
    pub fields: Vec<Field>,
}
