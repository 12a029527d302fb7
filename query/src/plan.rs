//! The plan of a SELECT: which parts and columns to read, and the operators to apply.
//!
//! Stages, in order: scan (with part and granule pruning from `ranges`) → filter →
//! aggregate → having → window functions → qualify → project (plus sort and LIMIT BY keys) →
//! DISTINCT → sort / top-N → LIMIT BY → offset / limit.

use std::sync::Arc;

use granary_storage::index::ColumnRange;
use granary_storage::DataType;

use crate::aggregate::AggFunc;
use crate::catalog::Table;
use crate::expr::Expr;
use crate::states::AggMode;

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
    pub mode: AggMode,
    /// Its arguments, over the scan block.
    pub args: Vec<Expr>,
    /// Result type.
    pub ty: DataType,
}

impl AggCall {
    /// True for `uniqExact(c)` (or `uniq(c)`, `count(DISTINCT c)`) of one column, not
    /// merging states: it depends only on which values of `c` are equal.
    pub fn counts_distinct_column(&self) -> bool {
        matches!(self.func, AggFunc::UniqExact | AggFunc::Uniq) && self.mode != AggMode::Merge && matches!(&self.args[..], [arg] if arg.column_index().is_some())
    }
}

/// Grouping: output blocks hold the keys, then (with grouping sets) the number of the set a
/// row belongs to, then one column per aggregate call.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregatePlan {
    /// Group keys, over the scan block.
    pub keys: Vec<Expr>,
    /// Aggregates.
    pub aggs: Vec<AggCall>,
    /// `GROUPING SETS`, `ROLLUP`, `CUBE`: one grouping per set over the same rows, their
    /// results one after another; empty for a plain GROUP BY.
    pub sets: Vec<GroupingSet>,
    /// The aggregate of a correlated subquery run for one tuple of outer values, which
    /// ClickHouse groups by those values: without keys, no rows in is then no group and no
    /// row out (the subquery's NULL), where a plain aggregate gives one row.
    pub grouped_by_outer: bool,
    /// `WITH TOTALS`: the same aggregates without keys, over every row. Its one row, the keys
    /// at their type's default as in ClickHouse's totals row, comes after the result rows
    /// (ORDER BY and LIMIT leave it alone); there is no second result block over the wire.
    pub totals: Option<Box<AggregatePlan>>,
}

/// One set of `GROUPING SETS`: the keys it groups by, and the plan that groups by them.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupingSet {
    /// Positions in the whole plan's keys; the other keys show their type's default.
    pub keys: Vec<usize>,
    /// The set's own grouping: those keys and every aggregate.
    pub plan: AggregatePlan,
}

impl AggregatePlan {
    /// A plan grouping by `keys`, once per set of key positions in `sets` if there are any.
    pub fn new(keys: Vec<Expr>, aggs: Vec<AggCall>, sets: &[Vec<usize>]) -> AggregatePlan {
        let sets = sets
            .iter()
            .map(|set| GroupingSet { keys: set.clone(), plan: AggregatePlan { keys: set.iter().map(|&k| keys[k].clone()).collect(), aggs: aggs.clone(), sets: Vec::new(), grouped_by_outer: false, totals: None } })
            .collect();
        AggregatePlan { keys, aggs, sets, grouped_by_outer: false, totals: None }
    }

    /// The output column of the first aggregate: after the keys and the set number.
    pub fn first_aggregate(&self) -> usize {
        self.keys.len() + usize::from(!self.sets.is_empty())
    }

    /// A plan grouping by `keys` that also computes a totals row (`WITH TOTALS`).
    pub fn with_totals(self) -> AggregatePlan {
        let totals = AggregatePlan::new(Vec::new(), self.aggs.clone(), &[]);
        AggregatePlan { totals: Some(Box::new(totals)), ..self }
    }

    /// The expressions over input rows: keys and aggregate arguments, the copies in the sets
    /// and the totals too.
    pub fn row_exprs_mut(&mut self) -> Vec<&mut Expr> {
        let mut exprs: Vec<&mut Expr> = self.keys.iter_mut().chain(self.aggs.iter_mut().flat_map(|a| a.args.iter_mut())).collect();
        exprs.extend(self.sets.iter_mut().flat_map(|s| s.plan.row_exprs_mut()));
        exprs.extend(self.totals.iter_mut().flat_map(|t| t.row_exprs_mut()));
        exprs
    }

    /// For each of the `columns` columns of the input block: true when the plan reads it only
    /// as a key by itself (`GROUP BY s`, not `GROUP BY lower(s)` nor `uniqExact(s)`), or not at
    /// all. Such a column may arrive as dictionary codes: grouping on the codes groups alike.
    pub fn columns_read_as_keys(&self, columns: usize) -> Vec<bool> {
        let mut plain = vec![true; columns];
        let mut other = |e: &Expr| e.visit_columns(&mut |c| plain[c] = false);
        self.keys.iter().filter(|k| k.column_index().is_none()).for_each(&mut other);
        self.aggs.iter().flat_map(|a| &a.args).for_each(&mut other);
        plain
    }

    /// For each of the `columns` columns of the input block: true when the plan (its grouping
    /// sets and totals too) reads it only as its one key (`GROUP BY user_id`) or as the one
    /// argument of `uniqExact` (`count(DISTINCT user_id)`), or not at all. Such a String
    /// column may arrive as numbers after a text (`Coding::Numbers`): equal numbers after one
    /// text are equal strings.
    pub fn columns_read_as_numbers(&self, columns: usize) -> Vec<bool> {
        let mut numbers = vec![true; columns];
        for plan in self.with_sets_and_totals() {
            let mut other = |e: &Expr| e.visit_columns(&mut |c| numbers[c] = false);
            if !matches!(&plan.keys[..], [key] if key.column_index().is_some()) {
                plan.keys.iter().for_each(&mut other);
            }
            plan.aggs.iter().filter(|a| !a.counts_distinct_column()).flat_map(|a| &a.args).for_each(&mut other);
        }
        numbers
    }

    /// For each of the `columns` columns of the input block: true when the plan (its grouping
    /// sets and totals too) reads it, as a key or an argument.
    pub fn columns_read(&self, columns: usize) -> Vec<bool> {
        let mut read = vec![false; columns];
        for plan in self.with_sets_and_totals() {
            plan.keys.iter().chain(plan.aggs.iter().flat_map(|a| &a.args)).for_each(|e| e.visit_columns(&mut |c| read[c] = true));
        }
        read
    }

    /// This plan, its grouping sets' and its totals' plans, and theirs.
    fn with_sets_and_totals(&self) -> Vec<&AggregatePlan> {
        let mut all = vec![self];
        let mut at = 0;
        while let Some(plan) = all.get(at).copied() {
            all.extend(plan.sets.iter().map(|s| &s.plan).chain(plan.totals.as_deref()));
            at += 1;
        }
        all
    }

    /// Output columns.
    pub fn width(&self) -> usize {
        self.first_aggregate() + self.aggs.len()
    }
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
    /// How many leading conjuncts of `filter` an explicit PREWHERE clause gave: a MergeTree
    /// scan runs them first, in their order.
    pub prewhere: usize,
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
    /// `FETCH FIRST n ROWS WITH TIES`: rows equal to the last one on the sort keys come too.
    pub with_ties: bool,
    /// Result columns.
    pub fields: Vec<Field>,
    /// Window function calls; their values follow the input columns of the projection.
    pub windows: Vec<WindowCall>,
    /// QUALIFY: a condition over the rows with their window values.
    pub qualify: Option<Expr>,
    /// SELECT DISTINCT: equal result rows appear once.
    pub distinct: bool,
    /// `LIMIT n [OFFSET m] BY keys`, applied after the sort.
    pub limit_by: Option<LimitBy>,
}

impl SelectPlan {
    /// A plan that reads one row (until a source is set), filters and projects.
    pub fn new(filter: Option<Expr>, outputs: Vec<Expr>, fields: Vec<Field>) -> SelectPlan {
        SelectPlan {
            source: Source::OneRow,
            filter,
            prewhere: 0,
            aggregate: None,
            having: None,
            outputs,
            sort: Vec::new(),
            limit: None,
            offset: 0,
            with_ties: false,
            fields,
            windows: Vec::new(),
            qualify: None,
            distinct: false,
            limit_by: None,
        }
    }
}

/// `LIMIT n [OFFSET m] BY keys`: at most `n` rows per distinct key, after skipping `m`.
#[derive(Debug, Clone, PartialEq)]
pub struct LimitBy {
    /// Rows kept per key.
    pub limit: usize,
    /// Rows skipped per key first.
    pub offset: usize,
    /// The keys, over the same input as the projection.
    pub keys: Vec<Expr>,
}

/// A window function: what it computes.
#[derive(Debug, Clone, PartialEq)]
pub enum WindowFunc {
    /// Position in the partition, from 1.
    RowNumber,
    /// Position of the row's first peer (equal ORDER BY values), from 1; gaps after ties.
    Rank,
    /// Number of distinct ORDER BY values up to the row; no gaps.
    DenseRank,
    /// `(rank - 1) / (rows - 1)`.
    PercentRank,
    /// Rows up to the row's last peer, over the partition's rows.
    CumeDist,
    /// `ntile(n)`: bucket 1..n, earlier buckets one row larger when rows do not divide.
    Ntile,
    /// `lag(x[, n[, default]])` (`in_frame`: `lagInFrame`, which looks only inside the frame).
    Lag {
        /// Only rows inside the frame count.
        in_frame: bool,
    },
    /// `lead(x[, n[, default]])`, `leadInFrame`.
    Lead {
        /// Only rows inside the frame count.
        in_frame: bool,
    },
    /// The frame's first row's value (with `ignore_nulls`, its first non-NULL value).
    FirstValue {
        /// Skip NULLs (ClickHouse's default; `RESPECT NULLS` turns it off).
        ignore_nulls: bool,
    },
    /// The frame's last row's value (or last non-NULL value).
    LastValue {
        /// Skip NULLs.
        ignore_nulls: bool,
    },
    /// `nth_value(x, n)`: the frame's n-th row's value.
    NthValue,
    /// An aggregate over the frame.
    Aggregate {
        /// The function.
        func: AggFunc,
        /// Plain, `-State` or `-Merge`.
        mode: AggMode,
    },
}

/// One end of a window frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameBound {
    /// The partition's first row.
    UnboundedPreceding,
    /// `n PRECEDING`.
    Preceding(u64),
    /// The current row (its last or first peer, for RANGE frames).
    CurrentRow,
    /// `n FOLLOWING`.
    Following(u64),
    /// The partition's last row.
    UnboundedFollowing,
}

/// Which rows of its partition an aggregate over a window sees for each row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame {
    /// ROWS (positions) rather than RANGE (peers share their frame).
    pub rows: bool,
    /// Start.
    pub start: FrameBound,
    /// End.
    pub end: FrameBound,
}

/// A window function call, over the input of the projection (the aggregate's output in a
/// grouping query).
#[derive(Debug, Clone, PartialEq)]
pub struct WindowCall {
    /// What it computes.
    pub func: WindowFunc,
    /// Its arguments.
    pub args: Vec<Expr>,
    /// PARTITION BY.
    pub partition: Vec<Expr>,
    /// ORDER BY inside OVER.
    pub order: Vec<SortKey>,
    /// The frame.
    pub frame: Frame,
    /// Result type.
    pub ty: DataType,
}

impl WindowCall {
    /// Every expression the call reads, for rewriting column references.
    pub fn exprs_mut(&mut self) -> impl Iterator<Item = &mut Expr> {
        self.args.iter_mut().chain(self.partition.iter_mut()).chain(self.order.iter_mut().map(|k| &mut k.expr))
    }
}
