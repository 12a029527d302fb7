//! Aggregate functions over groups, updated a whole block at a time.
//!
//! The hash aggregator assigns every input row a group id; each accumulator then folds a block
//! into its per-group states in one pass over `(group id, value)` pairs. States are plain
//! vectors indexed by group id, so accumulators of different threads merge by index.

use granary_storage::column::ColumnData;
use std::sync::Arc;

use granary_storage::column::{read_varint, write_varint, Primitive};
use granary_storage::{match_data, text, Column, ColumnRef, DataType, StringData};

use crate::coding::numbered_strings;
use crate::error::{bail, Result};
use crate::group::KeySets;
use crate::kernels::{self, Domain};

/// The aggregate functions Granary knows.
#[derive(Debug, Clone, PartialEq)]
pub enum AggFunc {
    /// `count()`, `count(*)`, `count(x)`.
    Count,
    /// `sum(x)`.
    Sum,
    /// `min(x)`.
    Min,
    /// `max(x)`.
    Max,
    /// `avg(x)`.
    Avg,
    /// `uniqExact(x, …)`, `count(DISTINCT x)`.
    UniqExact,
    /// `uniq(x, …)`: ClickHouse estimates it; Granary counts exactly (ClickHouse is exact
    /// too on small inputs).
    Uniq,
    /// `any(x)`: the first value seen.
    Any,
    /// `anyLast(x)`: the last value seen.
    AnyLast,
    /// `argMin(a, b)`: `a` at the smallest `b`.
    ArgMin,
    /// `argMax(a, b)`: `a` at the largest `b`.
    ArgMax,
    /// `groupArray([max_size])(x)`: the values as an array, in the order seen.
    GroupArray { max_size: Option<usize> },
    /// `groupUniqArray(x)`: the distinct values as an array, in the order first seen.
    GroupUniqArray,
    /// Variances, standard deviations, covariances, correlation.
    Moment(Moment),
    /// `quantile(level)(x)`, `median(x)`, `quantiles(l1, …)(x)` (interpolated between the
    /// nearest values) and their `…Exact` forms (the value at `level * n`, not interpolated).
    Quantile { exact: bool, levels: Vec<f64>, many: bool },
    /// The `-If` combinator: `sumIf(x, cond)` aggregates the rows where `cond` holds; also
    /// `count(*) FILTER (WHERE cond)`. `countIf(cond)` is `If(Count)`.
    If(Box<AggFunc>),
    /// `f(DISTINCT x)`: each distinct argument tuple of a group counts once.
    Distinct(Box<AggFunc>),
}

/// The statistical moments `AggFunc::Moment` computes, with ClickHouse's formulas over
/// plain sums (so results match ClickHouse to the last bit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moment {
    VarPop,
    VarSamp,
    StddevPop,
    StddevSamp,
    CovarPop,
    CovarSamp,
    Corr,
}

impl AggFunc {
    /// Looks up an aggregate by its (case-insensitive) name, without parameters (a
    /// parametric function gets its defaults: `quantile` is the median).
    pub fn from_name(name: &str) -> Option<AggFunc> {
        let lower = name.to_ascii_lowercase();
        let quantile = |exact: bool, many: bool| AggFunc::Quantile { exact, levels: vec![0.5], many };
        Some(match lower.as_str() {
            "count" => AggFunc::Count,
            "sum" => AggFunc::Sum,
            "min" => AggFunc::Min,
            "max" => AggFunc::Max,
            "avg" => AggFunc::Avg,
            "uniqexact" => AggFunc::UniqExact,
            "uniq" => AggFunc::Uniq,
            "any" => AggFunc::Any,
            "anylast" => AggFunc::AnyLast,
            "argmin" => AggFunc::ArgMin,
            "argmax" => AggFunc::ArgMax,
            "grouparray" => AggFunc::GroupArray { max_size: None },
            "groupuniqarray" => AggFunc::GroupUniqArray,
            "varpop" => AggFunc::Moment(Moment::VarPop),
            "varsamp" => AggFunc::Moment(Moment::VarSamp),
            "stddevpop" => AggFunc::Moment(Moment::StddevPop),
            "stddevsamp" => AggFunc::Moment(Moment::StddevSamp),
            "covarpop" => AggFunc::Moment(Moment::CovarPop),
            "covarsamp" => AggFunc::Moment(Moment::CovarSamp),
            "corr" => AggFunc::Moment(Moment::Corr),
            "quantile" | "median" => quantile(false, false),
            "quantileexact" | "medianexact" => quantile(true, false),
            "quantiles" => quantile(false, true),
            "quantilesexact" => quantile(true, true),
            other => match other.strip_suffix("if").and_then(AggFunc::from_name) {
                Some(inner) if !matches!(inner, AggFunc::If(_)) => AggFunc::If(Box::new(inner)),
                _ => return None,
            },
        })
    }

    /// The function with the parameters of a parametric call (`quantile(0.9)(x)`,
    /// `groupArray(10)(x)`).
    pub fn with_params(self, params: &[f64]) -> Result<AggFunc> {
        if params.is_empty() {
            return Ok(self);
        }
        Ok(match self {
            AggFunc::Quantile { exact, many, .. } => {
                if !many && params.len() != 1 {
                    bail!(UndefinedFunction, "{} takes one level, got {}", self.name(), params.len());
                }
                if let Some(l) = params.iter().find(|l| !(0.0..=1.0).contains(*l)) {
                    bail!(InvalidParameter, "quantile level {l} is not between 0 and 1");
                }
                AggFunc::Quantile { exact, levels: params.to_vec(), many }
            }
            AggFunc::GroupArray { .. } => match params {
                [n] if *n >= 1.0 && n.fract() == 0.0 => AggFunc::GroupArray { max_size: Some(*n as usize) },
                _ => bail!(InvalidParameter, "groupArray takes one positive whole size, got {params:?}"),
            },
            AggFunc::If(inner) => AggFunc::If(Box::new(inner.with_params(params)?)),
            other => bail!(UndefinedFunction, "aggregate function {} takes no parameters", other.name()),
        })
    }

    /// The name ClickHouse spells the function with, without parameters.
    pub fn name(&self) -> String {
        match self {
            AggFunc::Count => "count".into(),
            AggFunc::Sum => "sum".into(),
            AggFunc::Min => "min".into(),
            AggFunc::Max => "max".into(),
            AggFunc::Avg => "avg".into(),
            AggFunc::UniqExact => "uniqExact".into(),
            AggFunc::Uniq => "uniq".into(),
            AggFunc::Any => "any".into(),
            AggFunc::AnyLast => "anyLast".into(),
            AggFunc::ArgMin => "argMin".into(),
            AggFunc::ArgMax => "argMax".into(),
            AggFunc::GroupArray { .. } => "groupArray".into(),
            AggFunc::GroupUniqArray => "groupUniqArray".into(),
            AggFunc::Moment(m) => match m {
                Moment::VarPop => "varPop",
                Moment::VarSamp => "varSamp",
                Moment::StddevPop => "stddevPop",
                Moment::StddevSamp => "stddevSamp",
                Moment::CovarPop => "covarPop",
                Moment::CovarSamp => "covarSamp",
                Moment::Corr => "corr",
            }
            .into(),
            AggFunc::Quantile { exact, many, .. } => format!("quantile{}{}", if *many { "s" } else { "" }, if *exact { "Exact" } else { "" }),
            AggFunc::If(inner) => format!("{}If", inner.name()),
            AggFunc::Distinct(inner) => format!("{}Distinct", inner.name()),
        }
    }

    /// The name with the parameters, as `AggregateFunction(quantile(0.9), Float64)` spells it.
    pub fn type_name(&self) -> String {
        let params = self.params();
        if params.is_empty() {
            self.name()
        } else {
            format!("{}({})", self.name(), params.join(", "))
        }
    }

    fn params(&self) -> Vec<String> {
        match self {
            AggFunc::Quantile { levels, .. } => levels.iter().map(f64::to_string).collect(),
            AggFunc::GroupArray { max_size: Some(n) } => vec![n.to_string()],
            AggFunc::If(inner) | AggFunc::Distinct(inner) => inner.params(),
            _ => Vec::new(),
        }
    }

    /// True for the aggregates whose final values add up across rows (`count`, `sum` and
    /// their `-If` forms): a SummingMergeTree can keep their values instead of states.
    pub fn is_additive(&self) -> bool {
        match self {
            AggFunc::Count | AggFunc::Sum => true,
            AggFunc::If(inner) => inner.is_additive(),
            _ => false,
        }
    }

    /// The result type for the given argument types (ClickHouse's rules): over Nullable
    /// arguments, NULL rows are skipped and value-picking and numeric aggregates are NULL
    /// for a group without any other row.
    pub fn result_type(&self, args: &[DataType]) -> Result<DataType> {
        if let AggFunc::If(inner) = self {
            let Some((cond, rest)) = args.split_last() else { bail!(UndefinedFunction, "{} needs a condition argument", self.name()) };
            if !(cond.non_null().is_integer() || *cond.non_null() == DataType::Bool) {
                bail!(DatatypeMismatch, "illegal type {cond} of the condition of {}", self.name());
            }
            return inner.result_type(rest);
        }
        if let AggFunc::Distinct(inner) = self {
            return inner.result_type(args);
        }
        let ty = self.non_null_result_type(&args.iter().map(|a| a.non_null().clone()).collect::<Vec<_>>())?;
        let nullable_result = matches!(
            self,
            AggFunc::Sum | AggFunc::Avg | AggFunc::Min | AggFunc::Max | AggFunc::Any | AggFunc::AnyLast | AggFunc::ArgMin | AggFunc::ArgMax | AggFunc::Moment(_) | AggFunc::Quantile { .. }
        );
        Ok(if nullable_result && args.iter().any(DataType::is_nullable) { ty.nullable() } else { ty })
    }

    fn non_null_result_type(&self, args: &[DataType]) -> Result<DataType> {
        let want = |n: usize| -> Result<()> {
            if args.len() != n {
                bail!(UndefinedFunction, "aggregate function {} takes {n} argument(s), got {}", self.name(), args.len());
            }
            Ok(())
        };
        let number = |t: &DataType| -> Result<()> {
            if !t.is_numeric() {
                bail!(DatatypeMismatch, "illegal type {t} of argument of aggregate function {}", self.name());
            }
            Ok(())
        };
        Ok(match self {
            AggFunc::Count => {
                if args.len() > 1 {
                    bail!(UndefinedFunction, "count takes at most one argument");
                }
                DataType::UInt64
            }
            AggFunc::UniqExact | AggFunc::Uniq => {
                if args.is_empty() {
                    bail!(UndefinedFunction, "{} needs an argument", self.name());
                }
                DataType::UInt64
            }
            AggFunc::Sum | AggFunc::Avg => {
                want(1)?;
                let t = &args[0];
                number(t)?;
                match (self, Domain::of(t)) {
                    (AggFunc::Avg, _) | (_, Domain::Float) => DataType::Float64,
                    // Decimal sums stay exact at the argument's scale.
                    (_, _) if t.is_decimal() => DataType::Decimal { precision: 18, scale: decimal_scale(t) },
                    (_, Domain::Int) => DataType::Int64,
                    (_, Domain::UInt) => DataType::UInt64,
                }
            }
            AggFunc::Min | AggFunc::Max | AggFunc::Any | AggFunc::AnyLast => {
                want(1)?;
                args[0].clone()
            }
            AggFunc::ArgMin | AggFunc::ArgMax => {
                want(2)?;
                args[0].clone()
            }
            AggFunc::GroupArray { .. } | AggFunc::GroupUniqArray => {
                want(1)?;
                DataType::Array(Box::new(args[0].clone()))
            }
            AggFunc::Moment(m) => {
                want(if matches!(m, Moment::CovarPop | Moment::CovarSamp | Moment::Corr) { 2 } else { 1 })?;
                args.iter().try_for_each(number)?;
                DataType::Float64
            }
            AggFunc::Quantile { exact, many, .. } => {
                want(1)?;
                let t = &args[0];
                if t.is_decimal() || !(t.is_numeric() || t.is_temporal()) {
                    bail!(DatatypeMismatch, "illegal type {t} of argument of aggregate function {}", self.name());
                }
                // Interpolated quantiles of numbers are Float64; of times, and exact ones, the argument's type.
                let one = if *exact || t.is_temporal() { t.clone() } else { DataType::Float64 };
                if *many {
                    DataType::Array(Box::new(one))
                } else {
                    one
                }
            }
            AggFunc::If(_) | AggFunc::Distinct(_) => unreachable!("combinators are typed by their inner function"),
        })
    }

    /// A fresh accumulator for arguments of these types; over Nullable arguments it skips
    /// the rows where any argument is NULL.
    pub fn accumulator(&self, args: &[DataType], result: DataType) -> Box<dyn Accumulator> {
        if let AggFunc::If(inner) = self {
            let (_, rest) = args.split_last().expect("typed with a condition");
            let inner = inner.accumulator(rest, result);
            return Box::new(crate::accumulators::IfOf::new(inner));
        }
        if let AggFunc::Distinct(inner) = self {
            return Box::new(crate::accumulators::DistinctOf::new(inner.accumulator(args, result)));
        }
        if args.iter().any(DataType::is_nullable) {
            let inner_args: Vec<DataType> = args.iter().map(|a| a.non_null().clone()).collect();
            let seen = result.is_nullable().then(Vec::new);
            let inner = self.accumulator(&inner_args, result.non_null().clone());
            return Box::new(SkipNulls { inner, seen });
        }
        use crate::accumulators as acc;
        match self {
            AggFunc::Count => Box::new(Count { counts: Vec::new() }),
            AggFunc::Sum => match Domain::of(&result) {
                Domain::Float => Box::new(Sum::<f64> { sums: Vec::new(), ty: result }),
                Domain::Int => Box::new(Sum::<i64> { sums: Vec::new(), ty: result }),
                Domain::UInt => Box::new(Sum::<u64> { sums: Vec::new(), ty: result }),
            },
            AggFunc::Avg => Box::new(Avg { sums: Vec::new(), counts: Vec::new(), unit: text::POW10[decimal_scale(&args[0]) as usize] as f64 }),
            AggFunc::Min | AggFunc::Max => Box::new(MinMax { values: Column::empty(args[0].clone()), seen: Vec::new(), max: *self == AggFunc::Max }),
            AggFunc::UniqExact | AggFunc::Uniq => Box::new(UniqExact { sets: KeySets::new() }),
            AggFunc::Any => Box::new(acc::Choose::new(acc::Rule::First, args)),
            AggFunc::AnyLast => Box::new(acc::Choose::new(acc::Rule::Last, args)),
            AggFunc::ArgMin => Box::new(acc::Choose::new(acc::Rule::Min, args)),
            AggFunc::ArgMax => Box::new(acc::Choose::new(acc::Rule::Max, args)),
            AggFunc::GroupArray { max_size } => Box::new(acc::GroupArray::new(args[0].clone(), *max_size, false)),
            AggFunc::GroupUniqArray => Box::new(acc::GroupArray::new(args[0].clone(), None, true)),
            AggFunc::Moment(m) => Box::new(acc::Moments::new(*m)),
            AggFunc::Quantile { exact, levels, many } => Box::new(acc::Quantiles::new(*exact, levels.clone(), *many, result)),
            AggFunc::If(_) | AggFunc::Distinct(_) => unreachable!("handled above"),
        }
    }
}

fn decimal_scale(ty: &DataType) -> u8 {
    match ty {
        DataType::Decimal { scale, .. } => *scale,
        _ => 0,
    }
}

/// Feeds an accumulator only the rows where no argument is NULL, and (for Nullable results)
/// makes the result NULL for groups that got no such row.
struct SkipNulls {
    inner: Box<dyn Accumulator>,
    /// Per group: 1 once a non-NULL row arrived; `None` when the result is not Nullable.
    seen: Option<Vec<u8>>,
}

impl Accumulator for SkipNulls {
    fn merge_states(&mut self, groups: &[u32], n_groups: usize, states: &StringData) -> Result<()> {
        // A state only exists for a group that saw a non-NULL row.
        if let Some(seen) = &mut self.seen {
            seen.resize(n_groups, 0);
            groups.iter().for_each(|&g| seen[g as usize] = 1);
        }
        self.inner.merge_states(groups, n_groups, states)
    }

    fn states(self: Box<Self>) -> StringData {
        self.inner.states()
    }

    fn merge_from(&mut self, groups: &[u32], n_groups: usize, other: Box<dyn Accumulator>) -> Result<()> {
        let theirs = other.seen().map(<[u8]>::to_vec);
        let states = other.states();
        self.inner.merge_states(groups, n_groups, &states)?;
        if let Some(seen) = &mut self.seen {
            seen.resize(n_groups, 0);
            for (i, &g) in groups.iter().enumerate() {
                if theirs.as_ref().is_none_or(|t| t.get(i).is_some_and(|&x| x != 0)) {
                    seen[g as usize] = 1;
                }
            }
        }
        Ok(())
    }

    fn seen(&self) -> Option<&[u8]> {
        self.seen.as_deref()
    }

    fn seal(&mut self) {
        self.inner.seal();
    }

    fn memory_size(&self) -> usize {
        self.inner.memory_size()
    }

    fn update(&mut self, groups: &[u32], n_groups: usize, args: &[ColumnRef]) -> Result<()> {
        let mut keep = vec![1u8; groups.len()];
        for a in args {
            if let Some(n) = &a.nulls {
                keep.iter_mut().zip(n).for_each(|(k, x)| *k &= x ^ 1);
            }
        }
        let kept = crate::exec::kept_indices(&keep);
        let groups: Vec<u32> = kept.iter().map(|&i| groups[i as usize]).collect();
        let args: Vec<ColumnRef> = args.iter().map(|a| Arc::new(a.take(&kept).without_nulls())).collect();
        if let Some(seen) = &mut self.seen {
            seen.resize(n_groups, 0);
            groups.iter().for_each(|&g| seen[g as usize] = 1);
        }
        self.inner.update(&groups, n_groups, &args)
    }

    fn finish(self: Box<Self>) -> Column {
        let col = self.inner.finish();
        match self.seen {
            Some(mut seen) => {
                seen.resize(col.len(), 0);
                let nulls = seen.iter().map(|s| s ^ 1).collect();
                Column::with_nulls(col.ty.clone().nullable(), col.data, Some(nulls))
            }
            None => col,
        }
    }
}

/// Per-group states of one aggregate call.
pub trait Accumulator: std::any::Any + Send {
    /// Folds one block: row `i` belongs to group `groups[i]`; `groups` holds ids below `n_groups`.
    /// With no rows (and no arguments) it only makes room for `n_groups` groups.
    fn update(&mut self, groups: &[u32], n_groups: usize, args: &[ColumnRef]) -> Result<()>;
    /// Folds serialized states (`-Merge`, and merges of AggregateFunction columns): the state
    /// in row `i` of `states` goes into group `groups[i]`.
    fn merge_states(&mut self, groups: &[u32], n_groups: usize, states: &StringData) -> Result<()>;
    /// The state of every group, serialized, in group id order (`-State`).
    fn states(self: Box<Self>) -> StringData;
    /// The final value of every group, in group id order.
    fn finish(self: Box<Self>) -> Column;
    /// Folds another accumulator of the same call (another thread's partial aggregation,
    /// with every group's state made): its group `i` goes into group `groups[i]`.
    fn merge_from(&mut self, groups: &[u32], n_groups: usize, other: Box<dyn Accumulator>) -> Result<()> {
        let states = other.states();
        self.merge_states(groups, n_groups, &states)
    }
    /// Folds one block whose one argument is a String column given as numbers after `prefix`
    /// (`Coding::Numbers`). By default the numbers become the strings they stand for.
    fn update_numbers(&mut self, groups: &[u32], n_groups: usize, numbers: &ColumnRef, prefix: &Arc<[u8]>) -> Result<()> {
        self.update(groups, n_groups, &[Arc::new(numbered_strings(prefix, crate::coding::numbers(numbers)))])
    }
    /// Readies the state for a merge or the result where that takes work best done on the
    /// scan thread that built it (`uniqExact` sorts its logged numbers); the default has none.
    fn seal(&mut self) {}
    /// Per group, whether a row reached the function (for accumulators that skip NULLs).
    fn seen(&self) -> Option<&[u8]> {
        None
    }
    /// Bytes held beyond one fixed-size state per group, roughly (for `max_memory_usage`).
    fn memory_size(&self) -> usize {
        0
    }
}

/// The error for a state that does not decode.
pub(crate) fn bad_state() -> crate::error::QueryError {
    crate::error::QueryError::new(crate::error::ErrorKind::DataCorrupted, "an aggregate function state is corrupt")
}

/// Reads a fixed-width primitive at `*pos` of a state and advances past it.
pub(crate) fn read_state<T: Primitive>(state: &[u8], pos: &mut usize) -> Result<T> {
    let bytes = state.get(*pos..*pos + T::WIDTH).ok_or_else(bad_state)?;
    *pos += T::WIDTH;
    Ok(T::read_le(bytes))
}

/// One serialized state per group, from a per-group writer.
pub(crate) fn write_states(n: usize, mut write: impl FnMut(usize, &mut Vec<u8>)) -> StringData {
    let mut out = StringData::with_capacity(n);
    let mut buf = Vec::new();
    for g in 0..n {
        buf.clear();
        write(g, &mut buf);
        out.push(&buf);
    }
    out
}

struct Count {
    counts: Vec<u64>,
}

/// Groups up to which `Count` adds into several sets of counters at once.
const FEW_GROUPS: usize = 64;

impl Accumulator for Count {
    fn update(&mut self, groups: &[u32], n_groups: usize, _args: &[ColumnRef]) -> Result<()> {
        self.counts.resize(n_groups, 0);
        if n_groups == 1 {
            // One group (no GROUP BY): every id is 0.
            self.counts[0] += groups.len() as u64;
            return Ok(());
        }
        if n_groups <= FEW_GROUPS {
            // Rows of a few groups (`GROUP BY action_type`) add to a handful of counters in
            // turn: each add would wait for the one before to the same counter. Four sets of
            // counters, one per row in four, keep four adds in flight.
            let mut lanes = [[0u32; FEW_GROUPS]; 4];
            for block in groups.chunks(u32::MAX as usize) {
                let quads = block.chunks_exact(4);
                for &g in quads.remainder() {
                    lanes[0][g as usize] += 1;
                }
                for q in quads {
                    lanes[0][q[0] as usize] += 1;
                    lanes[1][q[1] as usize] += 1;
                    lanes[2][q[2] as usize] += 1;
                    lanes[3][q[3] as usize] += 1;
                }
                for (g, count) in self.counts.iter_mut().enumerate() {
                    *count += lanes.iter().map(|lane| u64::from(lane[g])).sum::<u64>();
                }
                lanes = [[0; FEW_GROUPS]; 4];
            }
            return Ok(());
        }
        for &g in groups {
            self.counts[g as usize] += 1;
        }
        Ok(())
    }

    fn merge_states(&mut self, groups: &[u32], n_groups: usize, states: &StringData) -> Result<()> {
        self.counts.resize(n_groups, 0);
        for (i, &g) in groups.iter().enumerate() {
            self.counts[g as usize] += read_state::<u64>(states.get(i), &mut 0)?;
        }
        Ok(())
    }

    fn states(self: Box<Self>) -> StringData {
        write_states(self.counts.len(), |g, out| self.counts[g].write_le(out))
    }

    fn finish(self: Box<Self>) -> Column {
        Column::new(DataType::UInt64, ColumnData::U64(self.counts))
    }
}

/// A 64-bit sum type.
trait SumValue: Primitive {
    fn load(col: &Column) -> Result<Vec<Self>>;
    fn add(self, other: Self) -> Self;
    fn store(ty: DataType, v: Vec<Self>) -> Column;
}

impl SumValue for f64 {
    fn load(col: &Column) -> Result<Vec<Self>> {
        kernels::to_f64(col)
    }
    fn add(self, other: Self) -> Self {
        self + other
    }
    fn store(ty: DataType, v: Vec<Self>) -> Column {
        kernels::from_f64(ty, v)
    }
}

impl SumValue for i64 {
    fn load(col: &Column) -> Result<Vec<Self>> {
        kernels::to_i64(col)
    }
    fn add(self, other: Self) -> Self {
        self.wrapping_add(other)
    }
    fn store(ty: DataType, v: Vec<Self>) -> Column {
        kernels::from_i64(ty, v)
    }
}

impl SumValue for u64 {
    fn load(col: &Column) -> Result<Vec<Self>> {
        kernels::to_u64(col)
    }
    fn add(self, other: Self) -> Self {
        self.wrapping_add(other)
    }
    fn store(ty: DataType, v: Vec<Self>) -> Column {
        kernels::from_u64(ty, v)
    }
}

struct Sum<T> {
    sums: Vec<T>,
    ty: DataType,
}

impl<T: SumValue> Accumulator for Sum<T> {
    fn update(&mut self, groups: &[u32], n_groups: usize, args: &[ColumnRef]) -> Result<()> {
        self.sums.resize(n_groups, T::default());
        if groups.is_empty() {
            return Ok(());
        }
        let values = T::load(&args[0])?;
        if n_groups == 1 {
            // One group (no GROUP BY): every id is 0, so no lookup per row.
            self.sums[0] = values.iter().fold(self.sums[0], |sum, &v| sum.add(v));
            return Ok(());
        }
        for (&g, &v) in groups.iter().zip(&values) {
            let slot = &mut self.sums[g as usize];
            *slot = slot.add(v);
        }
        Ok(())
    }

    fn merge_states(&mut self, groups: &[u32], n_groups: usize, states: &StringData) -> Result<()> {
        self.sums.resize(n_groups, T::default());
        for (i, &g) in groups.iter().enumerate() {
            let slot = &mut self.sums[g as usize];
            *slot = slot.add(read_state::<T>(states.get(i), &mut 0)?);
        }
        Ok(())
    }

    fn states(self: Box<Self>) -> StringData {
        write_states(self.sums.len(), |g, out| self.sums[g].write_le(out))
    }

    fn finish(self: Box<Self>) -> Column {
        T::store(self.ty, self.sums)
    }
}

struct Avg {
    sums: Vec<f64>,
    counts: Vec<u64>,
    /// 10^scale for Decimal arguments (whose values arrive scaled), else 1.
    unit: f64,
}

impl Accumulator for Avg {
    fn update(&mut self, groups: &[u32], n_groups: usize, args: &[ColumnRef]) -> Result<()> {
        self.sums.resize(n_groups, 0.0);
        self.counts.resize(n_groups, 0);
        if groups.is_empty() {
            return Ok(());
        }
        for (&g, v) in groups.iter().zip(kernels::to_f64(&args[0])?) {
            self.sums[g as usize] += v;
            self.counts[g as usize] += 1;
        }
        Ok(())
    }

    fn merge_states(&mut self, groups: &[u32], n_groups: usize, states: &StringData) -> Result<()> {
        self.sums.resize(n_groups, 0.0);
        self.counts.resize(n_groups, 0);
        for (i, &g) in groups.iter().enumerate() {
            let mut pos = 0;
            self.sums[g as usize] += read_state::<f64>(states.get(i), &mut pos)?;
            self.counts[g as usize] += read_state::<u64>(states.get(i), &mut pos)?;
        }
        Ok(())
    }

    fn states(self: Box<Self>) -> StringData {
        write_states(self.sums.len(), |g, out| {
            self.sums[g].write_le(out);
            self.counts[g].write_le(out);
        })
    }

    fn finish(self: Box<Self>) -> Column {
        let avg = self.sums.iter().zip(&self.counts).map(|(s, &c)| s / self.unit / c as f64).collect();
        Column::new(DataType::Float64, ColumnData::F64(avg))
    }
}

struct MinMax {
    /// One value per group (the type's default until `seen`).
    values: Column,
    seen: Vec<bool>,
    max: bool,
}

impl Accumulator for MinMax {
    fn update(&mut self, groups: &[u32], n_groups: usize, args: &[ColumnRef]) -> Result<()> {
        if self.seen.len() < n_groups {
            let grow = n_groups - self.seen.len();
            self.values.append(&Column::defaults(self.values.ty.clone(), grow));
            self.seen.resize(n_groups, false);
        }
        if groups.is_empty() {
            return Ok(());
        }
        let input = &args[0];
        let better = if self.max { std::cmp::Ordering::Greater } else { std::cmp::Ordering::Less };
        macro_rules! fold {
            ($($variant:ident),*) => {
                match (&mut self.values.data, &input.data) {
                    $((ColumnData::$variant(acc), ColumnData::$variant(v)) => {
                        for (&g, &x) in groups.iter().zip(v.iter()) {
                            let g = g as usize;
                            if !self.seen[g] || granary_storage::column::Primitive::total_cmp(&x, &acc[g]) == better {
                                acc[g] = x;
                                self.seen[g] = true;
                            }
                        }
                    })*
                    (ColumnData::Bytes(_), ColumnData::Bytes(v)) => {
                        // Strings: find each group's best row, then rebuild the state once.
                        let mut best: Vec<Option<usize>> = vec![None; n_groups];
                        for (i, &g) in groups.iter().enumerate() {
                            let b = &mut best[g as usize];
                            if b.is_none_or(|j| v.get(i).cmp(v.get(j)) == better) {
                                *b = Some(i);
                            }
                        }
                        let ColumnData::Bytes(acc) = &self.values.data else { unreachable!() };
                        let mut out = granary_storage::StringData::with_capacity(n_groups);
                        for g in 0..n_groups {
                            match best[g] {
                                Some(i) if !self.seen[g] || v.get(i).cmp(acc.get(g)) == better => {
                                    out.push(v.get(i));
                                    self.seen[g] = true;
                                }
                                _ => out.push(acc.get(g)),
                            }
                        }
                        self.values.data = ColumnData::Bytes(out);
                    }
                    _ => bail!(Internal, "min/max state and input differ in layout"),
                }
            };
        }
        fold!(U8, U16, U32, U64, I8, I16, I32, I64, F32, F64);
        Ok(())
    }

    fn merge_states(&mut self, groups: &[u32], n_groups: usize, states: &StringData) -> Result<()> {
        // Decode the states that hold a value into a column, then fold it like input rows.
        let mut values = Column::empty(self.values.ty.clone());
        let mut kept = Vec::with_capacity(groups.len());
        for (i, &g) in groups.iter().enumerate() {
            let state = states.get(i);
            if state.first() == Some(&1) {
                values.decode_append(&state[1..], 1).map_err(|_| bad_state())?;
                kept.push(g);
            }
        }
        self.update(&kept, n_groups, &[Arc::new(values)])
    }

    fn states(self: Box<Self>) -> StringData {
        write_states(self.seen.len(), |g, out| {
            out.push(self.seen[g] as u8);
            if self.seen[g] {
                self.values.encode(g, g + 1, out);
            }
        })
    }

    fn finish(self: Box<Self>) -> Column {
        self.values
    }
}

/// `uniqExact`: per group, the set of its distinct values, encoded by `append_key`.
struct UniqExact {
    sets: KeySets,
}

impl Accumulator for UniqExact {
    fn update(&mut self, groups: &[u32], n_groups: usize, args: &[ColumnRef]) -> Result<()> {
        self.sets.resize(n_groups);
        self.sets.insert_rows(groups, args);
        Ok(())
    }

    /// Ids such as `u1489982` count as their numbers, in a `NumberSet` per group.
    fn update_numbers(&mut self, groups: &[u32], n_groups: usize, numbers: &ColumnRef, prefix: &Arc<[u8]>) -> Result<()> {
        self.sets.resize(n_groups);
        self.sets.insert_numbers(groups, crate::coding::numbers(numbers), prefix);
        Ok(())
    }

    fn memory_size(&self) -> usize {
        self.sets.memory_size()
    }

    /// Another thread's sets move in (or their values do, where this group has a set already),
    /// without serializing them.
    fn merge_from(&mut self, groups: &[u32], n_groups: usize, other: Box<dyn Accumulator>) -> Result<()> {
        let other: Box<dyn std::any::Any> = other;
        let Ok(other) = other.downcast::<UniqExact>() else { bail!(Internal, "merging different accumulators") };
        self.sets.resize(n_groups);
        self.sets.merge(groups, other.sets);
        Ok(())
    }

    fn merge_states(&mut self, groups: &[u32], n_groups: usize, states: &StringData) -> Result<()> {
        self.sets.resize(n_groups);
        for (i, &g) in groups.iter().enumerate() {
            let state = states.get(i);
            let (n, mut pos) = read_varint(state).ok_or_else(bad_state)?;
            for _ in 0..n {
                let (len, used) = read_varint(&state[pos..]).ok_or_else(bad_state)?;
                pos += used;
                let key = state.get(pos..pos + len as usize).ok_or_else(bad_state)?;
                pos += len as usize;
                self.sets.insert(g, key);
            }
        }
        Ok(())
    }

    fn seal(&mut self) {
        self.sets.seal();
    }

    /// Per group: the count of values, then each value's encoding, length first.
    fn states(mut self: Box<Self>) -> StringData {
        self.sets.seal();
        write_states(self.sets.groups(), |g, out| {
            write_varint(self.sets.len(g) as u64, out);
            self.sets.for_each_key(g, |key| {
                write_varint(key.len() as u64, out);
                out.extend_from_slice(key);
            });
        })
    }

    fn finish(mut self: Box<Self>) -> Column {
        self.sets.seal();
        Column::new(DataType::UInt64, ColumnData::U64((0..self.sets.groups()).map(|g| self.sets.len(g) as u64).collect()))
    }
}

/// Appends row `i` of a column to a composite key: fixed-width values as their bytes,
/// strings length-prefixed so that keys of several columns never collide; Nullable
/// columns add a null flag byte.
pub fn append_key(col: &Column, i: usize, key: &mut Vec<u8>) {
    if let Some(nulls) = &col.nulls {
        key.push(nulls[i]);
    }
    match_data!(&col.data,
        v => granary_storage::column::Primitive::write_le(v[i], key),
        s => {
            let b = s.get(i);
            key.extend_from_slice(&(b.len() as u32).to_le_bytes());
            key.extend_from_slice(b);
        })
}
