//! Accumulators of the aggregates beyond count/sum/min/max/avg/uniqExact: value pickers
//! (`any`, `anyLast`, `argMin`, `argMax`), `groupArray`/`groupUniqArray`, the statistical
//! moments, quantiles, and the `-If` and `DISTINCT` combinators.
//!
//! Like those in `aggregate`, each folds a whole block per call into per-group states held
//! in vectors indexed by group id, and serializes a group's state into bytes for `-State`
//! and AggregatingMergeTree merges.

use std::sync::Arc;

use granary_storage::column::{read_varint, write_varint, ColumnData, Primitive};
use granary_storage::{array, Column, ColumnRef, DataType, StringData};
use hashbrown::HashSet;

use crate::aggregate::{append_key, bad_state, read_state, write_states, Accumulator, Moment};
use crate::error::{bail, Result};
use crate::kernels;

/// The `-If` combinator: the last argument is the condition; only the rows where it is
/// true (not 0, not NULL) reach the inner accumulator.
pub struct IfOf {
    inner: Box<dyn Accumulator>,
}

impl IfOf {
    /// Wraps the accumulator of the function without the condition.
    pub fn new(inner: Box<dyn Accumulator>) -> IfOf {
        IfOf { inner }
    }
}

impl Accumulator for IfOf {
    fn update(&mut self, groups: &[u32], n_groups: usize, args: &[ColumnRef]) -> Result<()> {
        let Some((cond, rest)) = args.split_last() else { return self.inner.update(groups, n_groups, args) };
        let mut keep: Vec<u8> = match &cond.data {
            ColumnData::U8(v) => v.iter().map(|&c| (c != 0) as u8).collect(),
            _ => kernels::to_u64(cond)?.into_iter().map(|c| (c != 0) as u8).collect(),
        };
        if let Some(nulls) = &cond.nulls {
            keep.iter_mut().zip(nulls).for_each(|(k, n)| *k &= n ^ 1);
        }
        let rows: Vec<u32> = (0..keep.len() as u32).filter(|&i| keep[i as usize] != 0).collect();
        let groups: Vec<u32> = rows.iter().map(|&i| groups[i as usize]).collect();
        let rest: Vec<ColumnRef> = rest.iter().map(|a| Arc::new(a.take(&rows))).collect();
        self.inner.update(&groups, n_groups, &rest)
    }

    fn merge_states(&mut self, groups: &[u32], n_groups: usize, states: &StringData) -> Result<()> {
        self.inner.merge_states(groups, n_groups, states)
    }

    fn states(self: Box<Self>) -> StringData {
        self.inner.states()
    }

    fn finish(self: Box<Self>) -> Column {
        self.inner.finish()
    }

    /// The inner accumulators merge directly, so that one skipping NULLs keeps knowing which
    /// groups saw a value.
    fn merge_from(&mut self, groups: &[u32], n_groups: usize, other: Box<dyn Accumulator>) -> Result<()> {
        let other: Box<dyn std::any::Any> = other;
        let Ok(other) = other.downcast::<IfOf>() else { bail!(Internal, "merging different accumulators") };
        self.inner.merge_from(groups, n_groups, other.inner)
    }

    fn seen(&self) -> Option<&[u8]> {
        self.inner.seen()
    }

    fn seal(&mut self) {
        self.inner.seal();
    }

    fn memory_size(&self) -> usize {
        self.inner.memory_size()
    }
}

/// `f(DISTINCT x)`: the inner accumulator gets only the first row of each distinct argument
/// tuple of a group. Those rows are kept and fed to it at the end, so that tables of several
/// threads merge by their distinct tuples (a tuple two threads both saw counts once).
/// Queries only: it has no state form (the binder refuses `-State` with DISTINCT).
pub struct DistinctOf {
    inner: Box<dyn Accumulator>,
    seen: Vec<HashSet<Box<[u8]>, ahash::RandomState>>,
    /// The group of each kept row.
    groups: Vec<u32>,
    /// The kept rows' arguments (empty until the first rows arrive).
    args: Vec<Column>,
    /// Bytes of the distinct keys held.
    key_bytes: usize,
}

impl DistinctOf {
    /// Wraps the accumulator of the function.
    pub fn new(inner: Box<dyn Accumulator>) -> DistinctOf {
        DistinctOf { inner, seen: Vec::new(), groups: Vec::new(), args: Vec::new(), key_bytes: 0 }
    }

    /// Keeps the rows of `args` whose tuple group `target(i)` has not seen yet.
    fn keep_new(&mut self, n_groups: usize, args: &[ColumnRef], target: impl Fn(usize) -> u32) {
        self.seen.resize_with(n_groups, Default::default);
        let rows_in = args.first().map_or(0, |a| a.len());
        let mut key = Vec::new();
        let mut rows = Vec::new();
        for i in 0..rows_in {
            key.clear();
            args.iter().for_each(|a| append_key(a, i, &mut key));
            let g = target(i);
            if self.seen[g as usize].insert(key.as_slice().into()) {
                self.key_bytes += key.len() + 24;
                rows.push(i as u32);
                self.groups.push(g);
            }
        }
        if self.args.is_empty() {
            self.args = args.iter().map(|a| Column::empty(a.ty.clone())).collect();
        }
        for (kept, a) in self.args.iter_mut().zip(args) {
            kept.append(&a.take(&rows));
        }
    }

    /// The inner accumulator, fed every kept row.
    fn fed(mut self) -> Box<dyn Accumulator> {
        let args: Vec<ColumnRef> = std::mem::take(&mut self.args).into_iter().map(Arc::new).collect();
        // Arguments were type-checked when bound; an inner update cannot fail on them.
        let fed = self.inner.update(&self.groups, self.seen.len(), &args).and_then(|_| self.inner.update(&[], self.seen.len(), &[]));
        debug_assert!(fed.is_ok(), "feeding the distinct rows: {fed:?}");
        self.inner
    }
}

impl Accumulator for DistinctOf {
    fn update(&mut self, groups: &[u32], n_groups: usize, args: &[ColumnRef]) -> Result<()> {
        if args.is_empty() {
            self.seen.resize_with(n_groups, Default::default);
            return Ok(());
        }
        self.keep_new(n_groups, args, |i| groups[i]);
        Ok(())
    }

    fn merge_states(&mut self, groups: &[u32], n_groups: usize, states: &StringData) -> Result<()> {
        self.inner.merge_states(groups, n_groups, states)
    }

    fn states(self: Box<Self>) -> StringData {
        (*self).fed().states()
    }

    fn finish(self: Box<Self>) -> Column {
        (*self).fed().finish()
    }

    fn merge_from(&mut self, groups: &[u32], n_groups: usize, other: Box<dyn Accumulator>) -> Result<()> {
        let other: Box<dyn std::any::Any> = other;
        let Ok(other) = other.downcast::<DistinctOf>() else { bail!(Internal, "merging different accumulators") };
        let args: Vec<ColumnRef> = other.args.into_iter().map(Arc::new).collect();
        if args.is_empty() {
            self.seen.resize_with(n_groups, Default::default);
            return Ok(());
        }
        self.keep_new(n_groups, &args, |i| groups[other.groups[i] as usize]);
        Ok(())
    }

    fn memory_size(&self) -> usize {
        self.key_bytes + self.args.iter().map(Column::memory_size).sum::<usize>() + self.inner.memory_size()
    }
}

/// Which row of a group `Choose` keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// The first row seen (`any`).
    First,
    /// The last row seen (`anyLast`).
    Last,
    /// The row with the smallest last argument (`argMin`).
    Min,
    /// The row with the largest last argument (`argMax`).
    Max,
}

/// `any`, `anyLast`, `argMin`, `argMax`: per group, all arguments of one chosen row; the
/// result is the first argument.
pub struct Choose {
    rule: Rule,
    /// The chosen row's arguments, one column per argument, one row per group.
    columns: Vec<Column>,
    seen: Vec<bool>,
}

impl Choose {
    /// An empty accumulator over arguments of these (non-Nullable) types.
    pub fn new(rule: Rule, args: &[DataType]) -> Choose {
        Choose { rule, columns: args.iter().map(|t| Column::empty(t.clone())).collect(), seen: Vec::new() }
    }

    /// True when `new` (row `i` of `block`) replaces the chosen row `g`.
    fn replaces(&self, block: &Column, i: usize, chosen: &Column, g: usize) -> bool {
        match self.rule {
            Rule::First => false,
            Rule::Last => true,
            Rule::Min => block.cmp_rows(i, chosen, g).is_lt(),
            Rule::Max => block.cmp_rows(i, chosen, g).is_gt(),
        }
    }
}

impl Accumulator for Choose {
    fn update(&mut self, groups: &[u32], n_groups: usize, args: &[ColumnRef]) -> Result<()> {
        if self.seen.len() < n_groups {
            let grow = n_groups - self.seen.len();
            self.columns.iter_mut().for_each(|c| c.append(&Column::defaults(c.ty.clone(), grow)));
            self.seen.resize(n_groups, false);
        }
        if groups.is_empty() {
            return Ok(());
        }
        let key = args.last().expect("at least one argument");
        // The best row of each group within the block, then against the group's choice.
        let mut best: Vec<Option<usize>> = vec![None; n_groups];
        for (i, &g) in groups.iter().enumerate() {
            let b = &mut best[g as usize];
            match b {
                None => *b = Some(i),
                Some(j) if self.replaces(key, i, key, *j) => *b = Some(i),
                _ => {}
            }
        }
        let chosen_key = self.columns.last().expect("at least one argument");
        let mut take = Vec::with_capacity(n_groups);
        let mut changed = false;
        for (g, b) in best.iter().enumerate() {
            match *b {
                Some(i) if !self.seen[g] || self.replaces(key, i, chosen_key, g) => {
                    take.push((n_groups + i) as u32);
                    self.seen[g] = true;
                    changed = true;
                }
                _ => take.push(g as u32),
            }
        }
        if changed {
            for (c, a) in self.columns.iter_mut().zip(args) {
                *c = Column::concat(c.ty.clone(), &[Arc::new(std::mem::replace(c, Column::empty(a.ty.clone()))), a.clone()]).take(&take);
            }
        }
        Ok(())
    }

    fn merge_states(&mut self, groups: &[u32], n_groups: usize, states: &StringData) -> Result<()> {
        let mut columns: Vec<Column> = self.columns.iter().map(|c| Column::empty(c.ty.clone())).collect();
        let mut kept = Vec::with_capacity(groups.len());
        for (i, &g) in groups.iter().enumerate() {
            let state = states.get(i);
            if state.first() == Some(&1) {
                let mut pos = 1;
                for c in &mut columns {
                    pos += c.decode_append(state.get(pos..).ok_or_else(bad_state)?, 1).map_err(|_| bad_state())?;
                }
                kept.push(g);
            }
        }
        self.update(&kept, n_groups, &columns.into_iter().map(Arc::new).collect::<Vec<_>>())
    }

    fn states(self: Box<Self>) -> StringData {
        write_states(self.seen.len(), |g, out| {
            out.push(self.seen[g] as u8);
            if self.seen[g] {
                self.columns.iter().for_each(|c| c.encode(g, g + 1, out));
            }
        })
    }

    fn finish(mut self: Box<Self>) -> Column {
        self.columns.swap_remove(0)
    }
}

/// `groupArray` / `groupUniqArray`: each group's values in the order seen (distinct ones only
/// for `unique`), at most `max_size` of them.
pub struct GroupArray {
    /// Every kept value of every group, in arrival order.
    values: Column,
    /// Per group, the rows of `values` it holds.
    rows: Vec<Vec<u32>>,
    /// Per group, the keys of the values it holds (`unique` only).
    keys: Vec<HashSet<Box<[u8]>, ahash::RandomState>>,
    max_size: Option<usize>,
    unique: bool,
}

impl GroupArray {
    /// An empty accumulator for values of type `element`.
    pub fn new(element: DataType, max_size: Option<usize>, unique: bool) -> GroupArray {
        GroupArray { values: Column::empty(element), rows: Vec::new(), keys: Vec::new(), max_size, unique }
    }

    /// One array row per group, in group id order.
    fn arrays(&self) -> StringData {
        write_states(self.rows.len(), |g, out| array::encode_row(&self.values.take(&self.rows[g]), out))
    }
}

impl Accumulator for GroupArray {
    fn update(&mut self, groups: &[u32], n_groups: usize, args: &[ColumnRef]) -> Result<()> {
        self.rows.resize_with(n_groups, Vec::new);
        if self.unique {
            self.keys.resize_with(n_groups, Default::default);
        }
        let Some(x) = args.first() else { return Ok(()) };
        let base = self.values.len() as u32;
        let mut taken = Vec::new();
        let mut key = Vec::new();
        for (i, &g) in groups.iter().enumerate() {
            let rows = &mut self.rows[g as usize];
            if self.max_size.is_some_and(|m| rows.len() >= m) {
                continue;
            }
            if self.unique {
                key.clear();
                append_key(x, i, &mut key);
                if !self.keys[g as usize].insert(key.as_slice().into()) {
                    continue;
                }
            }
            rows.push(base + taken.len() as u32);
            taken.push(i as u32);
        }
        self.values.append(&x.take(&taken));
        Ok(())
    }

    fn merge_states(&mut self, groups: &[u32], n_groups: usize, states: &StringData) -> Result<()> {
        for (i, &g) in groups.iter().enumerate() {
            let items = array::decode_row(&self.values.ty, states.get(i)).map_err(|_| bad_state())?;
            let ids = vec![g; items.len()];
            self.update(&ids, n_groups, &[Arc::new(items)])?;
        }
        self.rows.resize_with(n_groups, Vec::new);
        Ok(())
    }

    fn states(self: Box<Self>) -> StringData {
        self.arrays()
    }

    fn finish(self: Box<Self>) -> Column {
        let ty = DataType::Array(Box::new(self.values.ty.clone()));
        Column::new(ty, ColumnData::Bytes(self.arrays()))
    }
}

/// Variances, standard deviations, covariances and correlation from per-group sums
/// (count, Σx, Σy, Σxy, Σx², Σy²), with ClickHouse's formulas.
pub struct Moments {
    moment: Moment,
    /// Six sums per group.
    sums: Vec<[f64; 6]>,
}

impl Moments {
    /// An empty accumulator of one moment.
    pub fn new(moment: Moment) -> Moments {
        Moments { moment, sums: Vec::new() }
    }

    fn value(&self, s: &[f64; 6]) -> f64 {
        let [n, x1, y1, xy, x2, y2] = *s;
        let var = |denominator: f64| if n == 0.0 || denominator <= 0.0 { f64::NAN } else { ((x2 - x1 * x1 / n) / denominator).max(0.0) };
        let covar = |denominator: f64| if n == 0.0 || denominator <= 0.0 { f64::NAN } else { (xy - x1 * y1 / n) / denominator };
        match self.moment {
            Moment::VarPop => var(n),
            Moment::VarSamp => var(n - 1.0),
            Moment::StddevPop => var(n).sqrt(),
            Moment::StddevSamp => var(n - 1.0).sqrt(),
            Moment::CovarPop => covar(n),
            Moment::CovarSamp => covar(n - 1.0),
            Moment::Corr => (n * xy - x1 * y1) / ((n * x2 - x1 * x1) * (n * y2 - y1 * y1)).sqrt(),
        }
    }
}

impl Accumulator for Moments {
    fn update(&mut self, groups: &[u32], n_groups: usize, args: &[ColumnRef]) -> Result<()> {
        self.sums.resize(n_groups, [0.0; 6]);
        if groups.is_empty() {
            return Ok(());
        }
        let x = kernels::to_f64(&args[0])?;
        let y = match args.get(1) {
            Some(y) => kernels::to_f64(y)?,
            None => x.clone(),
        };
        for ((&g, &a), &b) in groups.iter().zip(&x).zip(&y) {
            let s = &mut self.sums[g as usize];
            s[0] += 1.0;
            s[1] += a;
            s[2] += b;
            s[3] += a * b;
            s[4] += a * a;
            s[5] += b * b;
        }
        Ok(())
    }

    fn merge_states(&mut self, groups: &[u32], n_groups: usize, states: &StringData) -> Result<()> {
        self.sums.resize(n_groups, [0.0; 6]);
        for (i, &g) in groups.iter().enumerate() {
            let mut pos = 0;
            for k in 0..6 {
                self.sums[g as usize][k] += read_state::<f64>(states.get(i), &mut pos)?;
            }
        }
        Ok(())
    }

    fn states(self: Box<Self>) -> StringData {
        write_states(self.sums.len(), |g, out| self.sums[g].iter().for_each(|v| v.write_le(out)))
    }

    fn finish(self: Box<Self>) -> Column {
        let values = self.sums.iter().map(|s| self.value(s)).collect();
        Column::new(DataType::Float64, ColumnData::F64(values))
    }
}

/// `quantile(s)` and `quantile(s)Exact`: every value of a group, kept as `f64`; the answer
/// sorts them. Interpolated quantiles read position `level * (n - 1)` between its two
/// neighbours (ClickHouse's reservoir is exact up to 8192 values; Granary keeps them all);
/// exact ones take the value at `floor(level * n)`.
pub struct Quantiles {
    exact: bool,
    levels: Vec<f64>,
    many: bool,
    /// The result type (`Array(T)` when `many`).
    ty: DataType,
    values: Vec<Vec<f64>>,
}

impl Quantiles {
    /// An empty accumulator answering `levels` in type `ty`.
    pub fn new(exact: bool, levels: Vec<f64>, many: bool, ty: DataType) -> Quantiles {
        Quantiles { exact, levels, many, ty, values: Vec::new() }
    }

    fn quantile(&self, sorted: &[f64], level: f64) -> f64 {
        let n = sorted.len();
        if n == 0 {
            return f64::NAN;
        }
        if self.exact {
            let i = if level < 1.0 { (level * n as f64) as usize } else { n - 1 };
            return sorted[i.min(n - 1)];
        }
        let index = (level * (n - 1) as f64).clamp(0.0, (n - 1) as f64);
        let (i, frac) = (index as usize, index.fract());
        if i + 1 < n {
            sorted[i] * (1.0 - frac) + sorted[i + 1] * frac
        } else {
            sorted[i]
        }
    }
}

impl Accumulator for Quantiles {
    fn update(&mut self, groups: &[u32], n_groups: usize, args: &[ColumnRef]) -> Result<()> {
        self.values.resize_with(n_groups, Vec::new);
        if groups.is_empty() {
            return Ok(());
        }
        for (&g, v) in groups.iter().zip(kernels::to_f64(&args[0])?) {
            self.values[g as usize].push(v);
        }
        Ok(())
    }

    fn merge_states(&mut self, groups: &[u32], n_groups: usize, states: &StringData) -> Result<()> {
        self.values.resize_with(n_groups, Vec::new);
        for (i, &g) in groups.iter().enumerate() {
            let state = states.get(i);
            let (n, mut pos) = read_varint(state).ok_or_else(bad_state)?;
            for _ in 0..n {
                let v = read_state::<f64>(state, &mut pos)?;
                self.values[g as usize].push(v);
            }
        }
        Ok(())
    }

    fn states(self: Box<Self>) -> StringData {
        write_states(self.values.len(), |g, out| {
            write_varint(self.values[g].len() as u64, out);
            self.values[g].iter().for_each(|v| v.write_le(out));
        })
    }

    fn finish(mut self: Box<Self>) -> Column {
        let values = std::mem::take(&mut self.values);
        let answers: Vec<Vec<f64>> = values
            .into_iter()
            .map(|mut v| {
                v.sort_unstable_by(f64::total_cmp);
                self.levels.iter().map(|&l| self.quantile(&v, l)).collect()
            })
            .collect();
        let element = self.ty.element().cloned().unwrap_or_else(|| self.ty.clone());
        // Values of integer and time types come back rounded to the type; NaN (no rows) as 0.
        let typed = |v: Vec<f64>| if element.is_float() { kernels::from_f64(element.clone(), v) } else { kernels::from_i64(element.clone(), v.iter().map(|x| if x.is_nan() { 0 } else { *x as i64 }).collect()) };
        if !self.many {
            return typed(answers.into_iter().map(|a| a[0]).collect());
        }
        let mut rows = StringData::with_capacity(answers.len());
        for a in answers {
            let mut row = Vec::new();
            array::encode_row(&typed(a), &mut row);
            rows.push(&row);
        }
        Column::new(self.ty.clone(), ColumnData::Bytes(rows))
    }
}
