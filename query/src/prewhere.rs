//! Late materialisation of a MergeTree scan, as ClickHouse's PREWHERE does it.
//!
//! The WHERE clause is split into its conjuncts, which run one after another as steps: a
//! step reads only the columns no earlier step read, and only for the rows the earlier steps
//! kept; the columns no condition needs are read last, for the surviving rows alone. A granule
//! with no surviving row is never decompressed nor decoded for the later columns. Conditions
//! of an explicit `PREWHERE` run first, in their order; the others follow, cheapest first.
//! Since a row passes the WHERE clause exactly when it passes every conjunct, the rows are
//! the ones filtering the whole block at once would keep, in the same order.
//!
//! A string column an aggregation reads only as a plain GROUP BY key (or not at all, when
//! only the WHERE clause names it) can arrive as codes into its part's dictionary instead of
//! as text (`ScanBlock::codings`): the grouping then keys on the codes, and the strings are
//! looked up once per group instead of copied once per row. One that no condition reads, and
//! the aggregation reads only as its one key or as `uniqExact`'s argument, can arrive as the
//! numbers of its `DECIMAL` granules (ids such as `u1489982`), never made into strings.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use granary_storage::column::{count_nonzero, extend_kept};
use granary_storage::part::Part;
use granary_storage::{Block, Column, ColumnData, ColumnRef, DataType, Value};

use crate::coding::Coding;
use crate::error::{bail, Result};
use crate::exec::mask_bytes;
use crate::expr::{Expr, Func};
use crate::kernels::CmpOp;

/// One condition and the columns it adds to what the steps before it read.
#[derive(Debug)]
struct Step {
    /// Columns read (in read order) once the step's new ones are in.
    reads: usize,
    /// The condition, over the columns in read order.
    condition: Expr,
    /// When the condition reads one column only, a non-Nullable string the step reads first:
    /// the condition over that column alone (index 0), to run on the part's dictionary.
    on_dictionary: Option<Expr>,
    /// When the condition is `s = 'text'` on a non-Nullable String column the step reads
    /// first: the text, compared in the encoded granules (`Part::rows_equal`).
    equals: Option<Vec<u8>>,
    /// With `on_dictionary`: no later step and not the scan's consumer reads the column, so
    /// the step need only decide which rows pass, never gather the column's values (it
    /// stays a placeholder, see `placeholder`).
    drops_column: bool,
}

/// What the consumer of a scan does with each column of the scan block.
pub(crate) struct ColumnUse {
    /// Whether it reads the column at all (not so a column only the WHERE clause names).
    pub(crate) read: Vec<bool>,
    /// Whether the column may arrive as dictionary codes (`AggregatePlan::columns_read_as_keys`).
    pub(crate) codes: Vec<bool>,
    /// Whether it may arrive as numbers (`AggregatePlan::columns_read_as_numbers`).
    pub(crate) numbers: Vec<bool>,
}

impl ColumnUse {
    /// A consumer that reads each of `columns` columns as the values they are.
    pub(crate) fn values(columns: usize) -> ColumnUse {
        ColumnUse { read: vec![true; columns], codes: vec![false; columns], numbers: vec![false; columns] }
    }
}

/// How a scan reads a granule range: the WHERE conjuncts as prewhere steps, then the rest.
#[derive(Debug)]
pub(crate) struct ScanReader {
    /// The table's names of the scan's columns, in read order: each step's new columns in
    /// step order, then the columns no condition reads.
    names: Vec<String>,
    /// The conditions, in the order they run.
    steps: Vec<Step>,
    /// For each column of the scan block, its position in read order.
    order: Vec<usize>,
    /// For each column in read order: whether it may arrive as dictionary codes.
    coded: Vec<bool>,
    /// For each column in read order: whether it may arrive as numbers (`Coding::Numbers`).
    numbered: Vec<bool>,
    /// Column granules decoded so far (a column of a granule counts once it has a row to keep).
    decoded: AtomicUsize,
}

impl ScanReader {
    /// Plans the steps for a scan of `names` (the scan block's columns) filtered by `filter`
    /// (over the scan block), whose first `explicit` conjuncts come from a PREWHERE clause.
    /// The columns `uses` lets arrive as codes may, unless a condition that does not run on
    /// the dictionary reads them; those it lets arrive as numbers may, unless a condition
    /// reads them.
    pub(crate) fn new(names: Vec<String>, types: &[DataType], filter: Option<&Expr>, explicit: usize, uses: &ColumnUse) -> ScanReader {
        let mut conjuncts: Vec<(usize, Expr)> = filter.map(Expr::conjuncts).unwrap_or_default().into_iter().map(|e| (cost_of(e, types), e.clone())).collect();
        // Stable: the PREWHERE conditions keep their place ahead of the rest.
        conjuncts.iter_mut().take(explicit).for_each(|(cost, _)| *cost = 0);
        conjuncts.sort_by_key(|(cost, _)| *cost);
        let mut order = vec![usize::MAX; names.len()];
        let mut read = Vec::with_capacity(names.len());
        let mut take = |c: usize, read: &mut Vec<usize>| {
            if order[c] == usize::MAX {
                order[c] = read.len();
                read.push(c);
            }
        };
        let mut steps = Vec::with_capacity(conjuncts.len());
        let string = |ty: &DataType| ty.value_type().is_string() && !ty.is_nullable();
        let mut coded: Vec<bool> = uses.codes.iter().zip(types).map(|(&w, ty)| w && string(ty)).collect();
        let mut numbered: Vec<bool> = uses.numbers.iter().zip(types).map(|(&w, ty)| w && string(ty)).collect();
        let mut step_columns = Vec::with_capacity(conjuncts.len());
        for (_, condition) in conjuncts {
            let before = read.len();
            let mut used = Vec::new();
            condition.visit_columns(&mut |c| {
                used.push(c);
                take(c, &mut read)
            });
            used.sort_unstable();
            used.dedup();
            used.iter().for_each(|&c| numbered[c] = false);
            let on_dictionary = match used[..] {
                [c] if read.len() == before + 1 && types[c].value_type().is_string() && !types[c].is_nullable() => {
                    let mut alone = condition.clone();
                    alone.remap_columns(&|_| 0);
                    Some(alone)
                }
                _ => None,
            };
            if on_dictionary.is_none() {
                used.iter().for_each(|&c| coded[c] = false);
            }
            let equals = on_dictionary.as_ref().and_then(|_| equality_text(&condition, types));
            steps.push(Step { reads: read.len(), condition, on_dictionary, equals, drops_column: false });
            step_columns.push(used);
        }
        for (k, step) in steps.iter_mut().enumerate().filter(|(_, s)| s.on_dictionary.is_some()) {
            let c = step_columns[k][0];
            step.drops_column = !uses.read[c] && !step_columns[k + 1..].iter().any(|later| later.contains(&c));
        }
        (0..names.len()).for_each(|c| take(c, &mut read));
        for step in &mut steps {
            step.condition.remap_columns(&|c| order[c]);
        }
        let names = read.iter().map(|&c| names[c].clone()).collect();
        let coded = read.iter().map(|&c| coded[c]).collect();
        let numbered = read.iter().map(|&c| numbered[c]).collect();
        ScanReader { names, steps, order, coded, numbered, decoded: AtomicUsize::new(0) }
    }

    /// True when a read decodes nothing: no column and no condition (`count()` alone).
    pub(crate) fn reads_nothing(&self) -> bool {
        self.names.is_empty() && self.steps.is_empty()
    }

    /// Adds `n` column granules another reader decoded for the same scan to `decoded`.
    pub(crate) fn count_decoded(&self, n: usize) {
        self.decoded.fetch_add(n, Ordering::Relaxed);
    }

    /// Column granules decoded by every `read` so far.
    pub(crate) fn decoded(&self) -> usize {
        self.decoded.load(Ordering::Relaxed)
    }

    /// `EXPLAIN` lines for the steps: which columns each reads first, and what follows.
    pub(crate) fn explain(&self) -> Vec<String> {
        if self.steps.is_empty() {
            return Vec::new();
        }
        let mut lines = Vec::new();
        let mut from = 0;
        for (i, step) in self.steps.iter().enumerate() {
            let new = match &self.names[from..step.reads] {
                [] => "no new column".to_string(),
                names => names.join(", "),
            };
            lines.push(format!("  Prewhere step {}: reads {new}, filters", i + 1));
            from = step.reads;
        }
        if from < self.names.len() {
            lines.push(format!("  Then reads, of the surviving rows only: {}", self.names[from..].join(", ")));
        }
        lines
    }

    /// Reads granules `granules` of `part`: the rows that pass every condition, with the scan
    /// block's columns.
    pub(crate) fn read(&self, part: &Part, granules: std::ops::Range<usize>) -> Result<ScanBlock> {
        self.read_rows(part, granules, None)
    }

    /// `read`, of the granules' rows whose byte in `chosen` (one per row of the granules) is
    /// non-zero only, or of all rows when `chosen` is `None`. Granules with no chosen row
    /// are not decompressed.
    pub(crate) fn read_rows(&self, part: &Part, granules: std::ops::Range<usize>, chosen: Option<Vec<u8>>) -> Result<ScanBlock> {
        // Which rows of the granules survive so far; `None` while all do.
        let mut keep = chosen;
        let mut rows: usize = match &keep {
            Some(k) => count_nonzero(k),
            None => part.meta.rows_in(granules.clone()),
        };
        let mut columns: Vec<ColumnRef> = Vec::with_capacity(self.names.len());
        let mut codings: Vec<Coding> = Vec::with_capacity(self.names.len());
        let mut steps = self.steps.iter();
        loop {
            let step = steps.next();
            let wanted = step.map_or(self.names.len(), |s| s.reads);
            if let Some(text) = step.and_then(|s| s.equals.as_ref()) {
                let i = column_index(part, &self.names[columns.len()])?;
                if let Some(passed) = part.rows_equal(i, granules.clone(), keep.as_deref(), text)? {
                    self.decoded.fetch_add(live_granules(part, granules.clone(), keep.as_deref()), Ordering::Relaxed);
                    keep_passed(&mut columns, &mut keep, &mut rows, passed);
                    if step.is_some_and(|s| s.drops_column) {
                        columns.push(placeholder());
                        codings.push(Coding::Plain);
                        continue;
                    }
                    // Every row left holds the text: a dictionary of one entry.
                    let mut entry = granary_storage::column::StringData::default();
                    entry.push(text);
                    self.push(&mut columns, &mut codings, vec![0; rows], Arc::new(Column::new(DataType::String, ColumnData::Bytes(entry))));
                    continue;
                }
            }
            if let Some(alone) = step.filter(|s| s.drops_column).and_then(|s| s.on_dictionary.as_ref()) {
                // Only which rows pass matters: decided per entry, applied to the encoded codes.
                let i = column_index(part, &self.names[columns.len()])?;
                let passes = part.dictionary(i)?.filter(|d| d.len() <= rows).and_then(|dict| alone.eval(&Block::with_rows(vec![dict.clone()], dict.len())).ok());
                if let Some(passed) = passes.map(|p| part.rows_passing(i, granules.clone(), keep.as_deref(), &mask_bytes(&p))).transpose()?.flatten() {
                    self.decoded.fetch_add(live_granules(part, granules.clone(), keep.as_deref()), Ordering::Relaxed);
                    keep_passed(&mut columns, &mut keep, &mut rows, passed);
                    columns.push(placeholder());
                    codings.push(Coding::Plain);
                    continue;
                }
            }
            if let Some(alone) = step.and_then(|s| s.on_dictionary.as_ref()) {
                let i = column_index(part, &self.names[columns.len()])?;
                // Worth it while the dictionary is smaller than the rows it decides for.
                let coded = part.read_codes(i, granules.clone(), keep.as_deref(), rows)?;
                // An entry no kept row holds may fail the condition (`toUInt32(s)` of text an
                // earlier step filtered out): the rows then decide, one by one, below.
                if let Some((codes, dict, Ok(passes))) = coded.map(|(codes, dict)| {
                    let passes = alone.eval(&Block::with_rows(vec![dict.clone()], dict.len()));
                    (codes, dict, passes)
                }) {
                    self.decoded.fetch_add(live_granules(part, granules.clone(), keep.as_deref()), Ordering::Relaxed);
                    let (mask, kept) = pass_codes(&codes, &mask_bytes(&passes));
                    drop_rows(&mut columns, &mut keep, &mut rows, &mask, kept.len());
                    self.push(&mut columns, &mut codings, kept, dict);
                    continue;
                }
            }
            if columns.len() < wanted {
                let live = live_granules(part, granules.clone(), keep.as_deref());
                // Conditions read strings; only the columns read after them may stay coded.
                for name in &self.names[columns.len()..wanted] {
                    let i = column_index(part, name)?;
                    let at = columns.len();
                    let codes = (step.is_none() && self.coded[at]).then(|| part.read_codes(i, granules.clone(), keep.as_deref(), usize::MAX)).transpose()?.flatten();
                    let numbers = match codes {
                        None if step.is_none() && self.numbered[at] => part.read_numbers(i, granules.clone(), keep.as_deref())?,
                        _ => None,
                    };
                    match (codes, numbers) {
                        (Some((codes, dict)), _) => self.push(&mut columns, &mut codings, codes, dict),
                        (None, Some((numbers, prefix))) => {
                            columns.push(Arc::new(Column::new(DataType::UInt32, ColumnData::U32(numbers))));
                            codings.push(Coding::Numbers(prefix.into()));
                        }
                        (None, None) => {
                            columns.push(part.read_column_kept(i, granules.clone(), keep.as_deref())?);
                            codings.push(Coding::Plain);
                        }
                    }
                    self.decoded.fetch_add(live, Ordering::Relaxed);
                }
            }
            let Some(step) = step else { break };
            let mask = step.condition.eval(&Block::with_rows(filled(&columns, rows), rows))?;
            let mask = mask_bytes(&mask);
            let kept = count_nonzero(&mask);
            drop_rows(&mut columns, &mut keep, &mut rows, &mask, kept);
        }
        let filled = filled(&columns, rows);
        Ok(ScanBlock {
            block: Block::with_rows(self.order.iter().map(|&i| filled[i].clone()).collect(), rows),
            codings: self.order.iter().map(|&i| codings[i].clone()).collect(),
            kept: keep,
        })
    }

    /// Adds the next column in read order, given as `codes` into `dict`: the codes themselves
    /// when the column may stay coded, else the strings they stand for.
    fn push(&self, columns: &mut Vec<ColumnRef>, codings: &mut Vec<Coding>, codes: Vec<u32>, dict: ColumnRef) {
        if self.coded[columns.len()] {
            columns.push(Arc::new(Column::new(DataType::UInt32, ColumnData::U32(codes))));
            codings.push(Coding::Dict(dict));
        } else {
            columns.push(Arc::new(dict.take(&codes)));
            codings.push(Coding::Plain);
        }
    }
}

/// The rows one scan read: the block, and how each of its columns holds its values.
pub(crate) struct ScanBlock {
    /// The rows; a coded or numbered column holds `UInt32` values.
    pub(crate) block: Block,
    /// Per column of the block: its form.
    pub(crate) codings: Vec<Coding>,
    /// Which rows of the granules read the block holds (non-zero bytes, in order); `None`
    /// when it holds them all.
    pub(crate) kept: Option<Vec<u8>>,
}

/// For rows given as dictionary `codes`, and `passes` (non-zero for each entry that passes a
/// condition): the mask of the rows (`passes` of their code) and the codes of those that pass.
fn pass_codes(codes: &[u32], passes: &[u8]) -> (Vec<u8>, Vec<u32>) {
    let mut mask = vec![0; codes.len()];
    let mut kept = vec![0; codes.len()];
    let mut n = 0;
    for (m, &c) in mask.iter_mut().zip(codes) {
        *m = (passes[c as usize] != 0) as u8;
        kept[n] = c;
        n += *m as usize;
    }
    kept.truncate(n);
    (mask, kept)
}

/// The text of a condition `column = 'text'` (either way round) on a String column.
fn equality_text(condition: &Expr, types: &[DataType]) -> Option<Vec<u8>> {
    let Expr::Call { func: Func::Cmp(CmpOp::Eq), args, .. } = condition else { return None };
    match &args[..] {
        [Expr::Column { index, .. }, Expr::Literal { value: Value::String(text), .. }] | [Expr::Literal { value: Value::String(text), .. }, Expr::Column { index, .. }]
            if types[*index].value_type() == DataType::String =>
        {
            Some(text.as_bytes().to_vec())
        }
        _ => None,
    }
}

/// The index of column `name` in `part`.
fn column_index(part: &Part, name: &str) -> Result<usize> {
    let Some(i) = part.column_index(name) else { bail!(DataCorrupted, "part {} lacks column {name}", part.name) };
    Ok(i)
}

/// A guess at what a condition costs per row: the bytes of the columns it reads (strings
/// count 16), plus 8 for every function heavier than a comparison or a logical operator.
fn cost_of(e: &Expr, types: &[DataType]) -> usize {
    match e {
        Expr::Column { index, .. } => match types[*index].physical().width() {
            0 => 16,
            w => w,
        },
        Expr::Literal { .. } => 1,
        Expr::Call { func, args, .. } => {
            let light = matches!(func, Func::Cmp(_) | Func::And | Func::Or | Func::Not | Func::InList { .. } | Func::IsNull | Func::IsNotNull | Func::Cast);
            args.iter().map(|a| cost_of(a, types)).sum::<usize>() + if light { 0 } else { 8 }
        }
    }
}

/// Granules of the range that hold a row `keep` keeps (all of them without a mask).
fn live_granules(part: &Part, granules: std::ops::Range<usize>, keep: Option<&[u8]>) -> usize {
    let Some(keep) = keep else { return granules.len() };
    let mut start = 0;
    granules
        .filter(|&g| {
            let rows = part.meta.granule_rows(g);
            start += rows;
            keep[start - rows..start].iter().any(|&k| k != 0)
        })
        .count()
}

/// The column a step that `drops_column` leaves in its column's place while rows are being
/// dropped: no rows, so nothing to filter (`filled` gives it rows).
fn placeholder() -> ColumnRef {
    Arc::new(Column::new(DataType::UInt8, ColumnData::U8(Vec::new())))
}

/// The columns read so far, each placeholder made a column of `rows` zeros: a block's worth,
/// for a block no one reads the placeholders of.
fn filled(columns: &[ColumnRef], rows: usize) -> Vec<ColumnRef> {
    let zeros = || Arc::new(Column::new(DataType::UInt8, ColumnData::U8(vec![0; rows])));
    columns.iter().map(|c| if c.len() == rows { c.clone() } else { zeros() }).collect()
}

/// After a step whose `mask` (one byte per row left) keeps `kept` of the `rows` rows: drops the
/// others from the columns read so far (placeholders aside) and from `keep` (see `narrow`).
fn drop_rows(columns: &mut Vec<ColumnRef>, keep: &mut Option<Vec<u8>>, rows: &mut usize, mask: &[u8], kept: usize) {
    if kept < *rows {
        filter_columns(columns, *rows, mask);
        *keep = Some(narrow(keep.take(), mask));
        *rows = kept;
    }
}

/// After a step that decided over all rows of the granules (`passed`: non-zero for the rows
/// that pass it and every step before, so a row `keep` dropped is 0): drops the other rows
/// from the columns read so far (placeholders aside) and makes `passed` the rows kept.
fn keep_passed(columns: &mut Vec<ColumnRef>, keep: &mut Option<Vec<u8>>, rows: &mut usize, passed: Vec<u8>) {
    let kept = count_nonzero(&passed);
    if kept == *rows {
        return;
    }
    if columns.iter().any(|c| c.len() == *rows) {
        // One byte per row kept so far, as the columns hold them.
        let compacted;
        let mask = match keep.as_deref() {
            None => &passed,
            Some(keep) => {
                let mut mask = Vec::with_capacity(*rows);
                extend_kept(&mut mask, passed.iter().copied(), keep);
                compacted = mask;
                &compacted
            }
        };
        filter_columns(columns, *rows, mask);
    }
    *keep = Some(passed);
    *rows = kept;
}

/// Filters each of the columns that holds the `rows` rows left (placeholders aside) by `mask`.
fn filter_columns(columns: &mut Vec<ColumnRef>, rows: usize, mask: &[u8]) {
    *columns = columns.iter().map(|c| if c.len() == rows { Arc::new(c.filter(mask)) } else { c.clone() }).collect();
}

/// The rows kept after a step: of the rows `keep` kept (all without a mask), those `mask`
/// (one byte per kept row) keeps, as 0/1 over all rows.
fn narrow(keep: Option<Vec<u8>>, mask: &[u8]) -> Vec<u8> {
    match keep {
        None => mask.iter().map(|&m| (m != 0) as u8).collect(),
        Some(mut keep) => {
            // Without a branch per row: a row the mask does not speak for reads a byte it
            // then ignores (the last one, or 0 past the end).
            let mut next = 0;
            for k in keep.iter_mut() {
                let live = (*k != 0) as usize;
                *k = live as u8 & (mask.get(next).copied().unwrap_or(0) != 0) as u8;
                next += live;
            }
            debug_assert_eq!(next, mask.len(), "a mask byte per kept row");
            keep
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrowing_maps_a_step_mask_back_onto_all_rows() {
        let first = narrow(None, &[1, 0, 2, 1, 0]);
        assert_eq!(first, [1, 0, 1, 1, 0]);
        assert_eq!(narrow(Some(first), &[0, 3, 1]), [0, 0, 1, 1, 0]);
    }
}
