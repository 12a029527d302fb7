//! Aggregate function states as values: the `-State` and `-Merge` combinators, and the
//! `StateMerger` that AggregatingMergeTree merges `AggregateFunction` columns with.
//!
//! A state is what an accumulator holds for one group, serialized (`Accumulator::states`).
//! `sumState(x)` returns it as a column of type `AggregateFunction(sum, T)`; `sumMerge(s)`
//! folds such states (`Accumulator::merge_states`) and returns the final value; merges fold
//! the states of rows with equal keys the same way, so a merged row answers exactly what the
//! rows it replaces answered together.

use std::ops::Range;

use granary_storage::collapse::StateMerger;
use granary_storage::{Column, ColumnData, ColumnRef, DataType, StorageError};

use crate::aggregate::{Accumulator, AggFunc};
use crate::error::{bail, Result};

/// How an aggregate call uses its function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggMode {
    /// `f(x)`: the final value.
    Plain,
    /// `fState(x)`: the serialized state.
    State,
    /// `fMerge(state)`: merges states of `AggregateFunction(f, …)`, gives the final value.
    Merge,
}

impl AggMode {
    /// Splits a function name into its aggregate and combinator (`uniqExactMerge` →
    /// `UniqExact`, `Merge`); a state type's name may carry parameters (`quantile(0.9)`).
    pub fn parse(name: &str) -> Option<(AggFunc, AggMode)> {
        if let Some((base, params)) = name.split_once('(') {
            let params: Vec<f64> = params.strip_suffix(')')?.split(',').map(|p| p.trim().parse().ok()).collect::<Option<_>>()?;
            let (f, mode) = AggMode::parse(base)?;
            return Some((f.with_params(&params).ok()?, mode));
        }
        let lower = name.to_ascii_lowercase();
        if let Some(f) = AggFunc::from_name(&lower) {
            return Some((f, AggMode::Plain));
        }
        for (suffix, mode) in [("state", AggMode::State), ("merge", AggMode::Merge)] {
            if let Some(f) = lower.strip_suffix(suffix).and_then(AggFunc::from_name) {
                return Some((f, mode));
            }
        }
        None
    }

    /// The call's result type, and the argument types its accumulator sees (for `-Merge`,
    /// the types inside the state's `AggregateFunction(f, …)`).
    pub fn types(self, func: &AggFunc, args: &[DataType]) -> Result<(DataType, Vec<DataType>)> {
        Ok(match self {
            AggMode::Plain => (func.result_type(args)?, args.to_vec()),
            AggMode::State => {
                if matches!(func, AggFunc::Distinct(_)) {
                    bail!(NotSupported, "{}(DISTINCT …) has no -State form", func.name());
                }
                func.result_type(args)?;
                (DataType::AggregateFunction { func: func.type_name(), args: args.to_vec() }, args.to_vec())
            }
            AggMode::Merge => {
                let (state_func, inner) = merged(func, args)?;
                (state_func.result_type(&inner)?, inner)
            }
        })
    }

    /// An accumulator for a call of `func` in this mode over arguments of `args` types.
    pub fn accumulator(self, func: &AggFunc, args: &[DataType], result: &DataType) -> Result<Box<dyn Accumulator>> {
        Ok(match self {
            AggMode::Plain => func.accumulator(args, result.clone()),
            AggMode::State => {
                let inner = func.accumulator(args, func.result_type(args)?);
                Box::new(StateOf { inner: Some(inner), ty: result.clone() })
            }
            AggMode::Merge => {
                let (state_func, inner) = merged(func, args)?;
                Box::new(MergeOf { inner: state_func.accumulator(&inner, result.clone()) })
            }
        })
    }
}

/// True when the states of two `AggregateFunction` types are the same bytes though the types
/// differ: quantiles of the same kind over the same arguments, whose levels only read the
/// state (ClickHouse, too, takes a `quantile(0.5)` state into a `quantile(0.9)` column).
pub fn same_layout(from: &DataType, to: &DataType) -> bool {
    let (DataType::AggregateFunction { func: a, args: a_args }, DataType::AggregateFunction { func: b, args: b_args }) = (from, to) else { return false };
    match (AggMode::parse(a), AggMode::parse(b)) {
        (Some((AggFunc::Quantile { exact, many, .. }, AggMode::Plain)), Some((AggFunc::Quantile { exact: e, many: m, .. }, AggMode::Plain))) => exact == e && many == m && a_args == b_args,
        _ => false,
    }
}

/// For `fMerge(state)`: the function the state's type names (with its parameters) and the
/// argument types inside it. The levels of a quantile are the call's own, as in ClickHouse:
/// they only read the state, so `quantileMerge(0.5)` of a `quantile(0.9)` state is its median.
fn merged(func: &AggFunc, args: &[DataType]) -> Result<(AggFunc, Vec<DataType>)> {
    if let [DataType::AggregateFunction { func: f, args: inner }] = args {
        if let Some((state_func, AggMode::Plain)) = AggMode::parse(f) {
            if state_func.name().eq_ignore_ascii_case(&func.name()) {
                let merged = if matches!(func, AggFunc::Quantile { .. }) { func.clone() } else { state_func };
                return Ok((merged, inner.clone()));
            }
        }
    }
    bail!(DatatypeMismatch, "{}Merge needs an AggregateFunction({}, …) argument, got {:?}", func.name(), func.name(), args)
}

/// `-State`: aggregates like the function, returns the states.
struct StateOf {
    inner: Option<Box<dyn Accumulator>>,
    ty: DataType,
}

impl Accumulator for StateOf {
    fn update(&mut self, groups: &[u32], n_groups: usize, args: &[ColumnRef]) -> Result<()> {
        self.inner.as_mut().expect("live").update(groups, n_groups, args)
    }

    fn merge_states(&mut self, groups: &[u32], n_groups: usize, states: &granary_storage::StringData) -> Result<()> {
        self.inner.as_mut().expect("live").merge_states(groups, n_groups, states)
    }

    fn states(self: Box<Self>) -> granary_storage::StringData {
        self.inner.expect("live").states()
    }

    fn finish(mut self: Box<Self>) -> Column {
        let states = self.inner.take().expect("live").states();
        Column::new(self.ty, ColumnData::Bytes(states))
    }
}

/// `-Merge`: folds states, returns the final values.
struct MergeOf {
    inner: Box<dyn Accumulator>,
}

impl Accumulator for MergeOf {
    fn update(&mut self, groups: &[u32], n_groups: usize, args: &[ColumnRef]) -> Result<()> {
        match args.first().map(|a| &a.data) {
            Some(ColumnData::Bytes(states)) => self.inner.merge_states(groups, n_groups, states),
            Some(_) => bail!(DatatypeMismatch, "-Merge needs aggregate function states"),
            None => self.inner.update(groups, n_groups, args),
        }
    }

    fn merge_states(&mut self, groups: &[u32], n_groups: usize, states: &granary_storage::StringData) -> Result<()> {
        self.inner.merge_states(groups, n_groups, states)
    }

    fn states(self: Box<Self>) -> granary_storage::StringData {
        self.inner.states()
    }

    fn seal(&mut self) {
        self.inner.seal();
    }

    fn finish(self: Box<Self>) -> Column {
        self.inner.finish()
    }
}

/// `finalizeAggregation`: the final value of the state in each row of an
/// `AggregateFunction` column (each row is its own group).
pub fn finalize(states: &Column) -> Result<Column> {
    let DataType::AggregateFunction { func, args } = &states.ty else {
        bail!(DatatypeMismatch, "finalizeAggregation needs aggregate function states, got {}", states.ty);
    };
    let Some((f, AggMode::Plain)) = AggMode::parse(func) else { bail!(UndefinedFunction, "unknown aggregate function {func}") };
    let ColumnData::Bytes(data) = &states.data else { bail!(DatatypeMismatch, "aggregate function states must be bytes") };
    let mut acc = f.accumulator(args, f.result_type(args)?);
    let groups: Vec<u32> = (0..states.len() as u32).collect();
    acc.merge_states(&groups, states.len(), data)?;
    Ok(acc.finish())
}

/// Merges `AggregateFunction` columns for AggregatingMergeTree merges and `FINAL` reads.
#[derive(Debug, Default)]
pub struct AggregateStates;

impl StateMerger for AggregateStates {
    fn merge_runs(&self, states: &Column, runs: &[Range<usize>]) -> granary_storage::Result<Column> {
        let fail = |e: crate::error::QueryError| StorageError::Invalid(e.message);
        let DataType::AggregateFunction { func, args } = &states.ty else {
            return Err(StorageError::Invalid(format!("cannot merge states of type {}", states.ty)));
        };
        let Some((f, AggMode::Plain)) = AggMode::parse(func) else {
            return Err(StorageError::Invalid(format!("unknown aggregate function {func}")));
        };
        let mut acc = f.accumulator(args, f.result_type(args).map_err(fail)?);
        let first = runs.first().map_or(0, |r| r.start);
        let rows = runs.last().map_or(0, |r| r.end) - first;
        let mut groups = Vec::with_capacity(rows);
        for (g, run) in runs.iter().enumerate() {
            groups.extend(std::iter::repeat_n(g as u32, run.len()));
        }
        let slice = states.slice(first, rows);
        let ColumnData::Bytes(slice_data) = &slice.data else { unreachable!("a slice keeps the layout") };
        acc.merge_states(&groups, runs.len(), slice_data).map_err(fail)?;
        Ok(Column::new(states.ty.clone(), ColumnData::Bytes(acc.states())))
    }
}
