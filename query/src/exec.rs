//! Execution of a `SelectPlan` over column blocks.
//!
//! The scan walks the snapshot's parts, skipping parts by min/max and granules by the sparse
//! index, and yields blocks of at most `GRANULES_PER_BLOCK` granules. Filter, aggregation,
//! projection, sort and limit then each work a whole block at a time. Over MergeTree parts
//! (unless FINAL folds them) the scan, filter and partial aggregation run on `max_threads`
//! threads that take blocks in order; their group tables merge at the end, and filtered blocks
//! keep the scan's order. Each block is read through `prewhere::ScanReader`: the WHERE
//! conjuncts first, on their own columns, then the other columns of the surviving rows only.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering as AtomicOrdering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use granary_storage::collapse::MergeMode;
use granary_storage::merge::MergeSource;
use granary_storage::part::Part;
use granary_storage::table::part_block_range;
use granary_storage::{Block, Column, ColumnRef, DataType};
use hashbrown::HashMap;

use crate::aggregate::append_key;
use crate::aggregation::{remember_groups, remembered_groups, Aggregation};
use crate::catalog::{Table, TableData};
use crate::error::{bail, QueryError, Result};
use crate::plan::{Field, SelectPlan, SortKey, Source};
use crate::prewhere::{ColumnUse, ScanReader};
use crate::sort::sort_indices;
use crate::top_n::TopNScan;

/// Stack for the threads statements run on: binding and evaluating an expression recurse
/// once per level, up to `max_expression_depth` levels (see `parse::ParseLimits`).
pub const STATEMENT_STACK_SIZE: usize = 64 << 20;

/// Granules read into one scan block (8 × 8192 rows by default).
const GRANULES_PER_BLOCK: usize = 8;

/// Rows per block when a count is taken from the parts' metadata: a scan block's rows at the
/// default granularity.
const COUNTED_BLOCK_ROWS: usize = GRANULES_PER_BLOCK * 8192;

/// Per-query execution state: settings, and the flag whoever may cancel the query sets.
#[derive(Debug, Clone, Default)]
pub struct QueryContext {
    /// Set to stop the query at the next block boundary.
    pub cancel: Arc<AtomicBool>,
    /// Threads for the scan and partial aggregation (`max_threads`; 0: one per core).
    pub max_threads: usize,
    /// Bytes a query may hold in group tables, hash join tables and buffered rows
    /// (`max_memory_usage`; 0: no limit). Past it the query fails with SQLSTATE 53200.
    pub max_memory_usage: u64,
    /// Bytes the statement holds until it ends (materialized subqueries and CTEs, the rows of
    /// joined sides and of their join), counted with whatever each operator holds besides.
    pub held: Arc<AtomicUsize>,
    /// What every scan of the statement selected, its subqueries' and joined tables' too.
    pub scanned: Arc<ScanCounters>,
    /// When the running statement must stop (`statement_timeout`); `None`: never.
    pub deadline: Option<Instant>,
}

/// Rows and granules selected by the scans of one statement, added up as they start.
#[derive(Debug, Default)]
pub struct ScanCounters {
    /// Rows of the selected granules.
    pub rows: AtomicU64,
    /// Granules selected.
    pub granules: AtomicU64,
}

impl ScanCounters {
    fn add(&self, stats: &ScanStats) {
        self.rows.fetch_add(stats.rows_read as u64, AtomicOrdering::Relaxed);
        self.granules.fetch_add(stats.granules_selected as u64, AtomicOrdering::Relaxed);
    }
}

impl QueryContext {
    /// Fails once the statement is cancelled.
    pub(crate) fn check(&self) -> Result<()> {
        if self.cancel.load(AtomicOrdering::Relaxed) {
            bail!(Cancelled, "canceling statement due to user request");
        }
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            bail!(Cancelled, "canceling statement due to statement timeout");
        }
        Ok(())
    }

    /// The threads a scan uses.
    pub fn threads(&self) -> usize {
        match self.max_threads {
            0 => cores(),
            n => n,
        }
    }

    /// Fails when holding `bytes` more than the statement holds already would pass
    /// `max_memory_usage`.
    pub(crate) fn check_memory(&self, bytes: usize) -> Result<()> {
        let total = bytes.saturating_add(self.held.load(AtomicOrdering::Relaxed)) as u64;
        if self.max_memory_usage > 0 && total > self.max_memory_usage {
            let mib = |b: u64| b as f64 / (1 << 20) as f64;
            bail!(MemoryLimit, "memory limit exceeded: the query would hold {:.1} MiB, max_memory_usage is {:.1} MiB", mib(total), mib(self.max_memory_usage));
        }
        Ok(())
    }

    /// Counts `bytes` as held until the statement ends, failing first if they do not fit.
    pub(crate) fn hold(&self, bytes: usize) -> Result<()> {
        self.check_memory(bytes)?;
        self.held.fetch_add(bytes, AtomicOrdering::Relaxed);
        Ok(())
    }

    /// Every block of `blocks`, checking the limit as they pile up (for the operators that
    /// need all rows at once: windows and sort).
    fn collect_blocks(&self, blocks: impl Iterator<Item = Result<Block>>) -> Result<Vec<Block>> {
        let (mut all, mut bytes) = (Vec::new(), 0);
        for block in blocks {
            let block = block?;
            bytes += block_memory(&block);
            self.check_memory(bytes)?;
            all.push(block);
        }
        Ok(all)
    }
}

/// Bytes the columns of a block hold.
pub(crate) fn block_memory(block: &Block) -> usize {
    block.columns.iter().map(|c| c.memory_size()).sum()
}

/// How much of a table a query read, to show pruning at work.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanStats {
    /// Parts in the snapshot.
    pub parts_total: usize,
    /// Parts that survived min/max pruning and had granules selected.
    pub parts_selected: usize,
    /// Granules in all parts of the snapshot.
    pub granules_total: usize,
    /// Granules selected for reading.
    pub granules_selected: usize,
    /// Rows in the selected granules.
    pub rows_read: usize,
    /// Column granules decoded while the query ran (a granule of a column counts once):
    /// at most the selected granules times the columns read, fewer when the WHERE
    /// conditions left no row of a granule for the columns read after them.
    pub column_granules_read: usize,
}

/// A query's answer: columns, blocks of rows, and what the scan read.
#[derive(Debug, Clone)]
pub struct QueryResult {
    /// Result columns.
    pub fields: Vec<Field>,
    /// The rows.
    pub blocks: Vec<Block>,
    /// What the scan read.
    pub stats: ScanStats,
}

impl QueryResult {
    /// Total rows.
    pub fn rows(&self) -> usize {
        self.blocks.iter().map(Block::rows).sum()
    }
}

/// One part's granule ranges to read.
pub(crate) struct ScanTask {
    /// Position in the scan order.
    pub(crate) index: usize,
    /// The part read.
    pub(crate) part: Arc<Part>,
    /// Its granules read.
    pub(crate) granules: std::ops::Range<usize>,
}

/// Decides which parts and granules the plan reads.
fn plan_scan(source: &Source) -> (Vec<ScanTask>, ScanStats) {
    let mut stats = ScanStats::default();
    let mut tasks = Vec::new();
    let Source::Table { table, ranges, .. } = source else { return (tasks, stats) };
    let Some(store) = table.store() else { return (tasks, stats) };
    let snapshot = store.snapshot();
    for part in &snapshot.parts {
        stats.parts_total += 1;
        stats.granules_total += part.meta.granules();
        if !part.may_match(ranges) {
            continue;
        }
        let selected = part.select_granules(ranges);
        if selected.is_empty() {
            continue;
        }
        stats.parts_selected += 1;
        for range in selected {
            stats.granules_selected += range.len();
            stats.rows_read += range.clone().map(|g| part.meta.granule_rows(g)).sum::<usize>();
            let mut start = range.start;
            while start < range.end {
                let end = (start + GRANULES_PER_BLOCK).min(range.end);
                tasks.push(ScanTask { index: tasks.len(), part: part.clone(), granules: start..end });
                start = end;
            }
        }
    }
    (tasks, stats)
}

/// Describes the plan, with the parts and granules the scan would read, one line per step.
pub fn explain(plan: &SelectPlan) -> Vec<String> {
    let mut lines = Vec::new();
    if plan.limit.is_some() || plan.offset > 0 {
        lines.push(format!("Limit (limit {:?}, offset {})", plan.limit, plan.offset));
    }
    if let Some(by) = &plan.limit_by {
        lines.push(format!("LimitBy ({} per key, offset {}, {} keys)", by.limit, by.offset, by.keys.len()));
    }
    if !plan.sort.is_empty() {
        lines.push(format!("Sort ({} keys)", plan.sort.len()));
    }
    if plan.distinct {
        lines.push("Distinct".into());
    }
    lines.push(format!("Projection ({})", plan.fields.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join(", ")));
    if !plan.windows.is_empty() {
        lines.push(format!("Window ({} functions)", plan.windows.len()));
    }
    if plan.having.is_some() {
        lines.push("Filter (HAVING)".into());
    }
    if let Some(agg) = &plan.aggregate {
        lines.push(format!("Aggregate ({} keys, {} aggregates{})", agg.keys.len(), agg.aggs.len(), if agg.sets.is_empty() { String::new() } else { format!(", {} grouping sets", agg.sets.len()) }));
    }
    if plan.filter.is_some() {
        lines.push("Filter (WHERE)".into());
    }
    match &plan.source {
        Source::OneRow => lines.push("ReadOneRow".into()),
        Source::Table { table, columns, ranges, final_merge } => {
            let (_, s) = plan_scan(&plan.source);
            let names: Vec<&str> = columns.iter().map(|&c| table.columns()[c].name.as_str()).collect();
            lines.push(format!("ReadFromMergeTree ({}.{}) columns: {}", table.database, table.name, names.join(", ")));
            if *final_merge {
                lines.push("  FINAL: rows of equal keys fold while reading".into());
            }
            lines.push(format!("  Key conditions: {}", ranges.len()));
            lines.push(format!("  Parts: {}/{}", s.parts_selected, s.parts_total));
            lines.push(format!("  Granules: {}/{}", s.granules_selected, s.granules_total));
            if let Some(reader) = scan_reader(plan) {
                lines.extend(reader.explain());
            }
            lines.extend(top_n_scan(plan).map(|t| t.explain()));
        }
    }
    lines
}

/// How the plan's MergeTree parts are read, unless FINAL folds them in one merge (the
/// WHERE clause then runs on the folded rows) or the table is computed.
fn scan_reader(plan: &SelectPlan) -> Option<ScanReader> {
    let (names, types) = scan_columns(plan)?;
    let uses = match &plan.aggregate {
        Some(agg) => ColumnUse { read: agg.columns_read(names.len()), codes: agg.columns_read_as_keys(names.len()), numbers: agg.columns_read_as_numbers(names.len()) },
        None => ColumnUse::values(names.len()),
    };
    Some(ScanReader::new(names, &types, plan.filter.as_ref(), plan.prewhere, &uses))
}

/// The first pass of a lazily materialised `ORDER BY … LIMIT` scan, where it pays.
fn top_n_scan(plan: &SelectPlan) -> Option<TopNScan> {
    let (names, types) = scan_columns(plan)?;
    TopNScan::new(plan, &names, &types)
}

/// The names and types of the columns a `ScanReader` reads for the plan (see `scan_reader`).
fn scan_columns(plan: &SelectPlan) -> Option<(Vec<String>, Vec<DataType>)> {
    let Source::Table { table, columns, final_merge, .. } = &plan.source else { return None };
    let store = table.store()?;
    if *final_merge && store.layout().mode != MergeMode::Ordinary {
        return None;
    }
    let names = columns.iter().map(|&c| table.columns()[c].name.clone()).collect();
    let types = columns.iter().map(|&c| table.columns()[c].ty.clone()).collect();
    Some((names, types))
}

/// Runs a plan to completion.
pub fn execute(plan: &SelectPlan, ctx: &QueryContext) -> Result<QueryResult> {
    let reader = scan_reader(plan);
    let mut result = run(plan, ctx, reader.as_ref())?;
    result.stats.column_granules_read = reader.map_or(0, |r| r.decoded());
    Ok(result)
}

/// Runs a plan, reading MergeTree parts through `reader`.
fn run(plan: &SelectPlan, ctx: &QueryContext, reader: Option<&ScanReader>) -> Result<QueryResult> {
    let (tasks, stats) = plan_scan(&plan.source);
    ctx.scanned.add(&stats);
    let filter = |b: Block| -> Result<Block> {
        match &plan.filter {
            Some(f) => {
                let mask = f.eval(&b)?;
                Ok(b.filter(&mask_bytes(&mask)))
            }
            None => Ok(b),
        }
    };
    // The scan runs on threads over MergeTree parts, unless FINAL folds them in one merge.
    let parallel = reader.is_some() && ctx.threads() > 1 && tasks.len() > 1;
    let top_n = reader.and_then(|_| top_n_scan(plan));
    let input: Box<dyn Iterator<Item = Result<Block>>> = match (&plan.source, reader) {
        (Source::OneRow, _) => Box::new(std::iter::once(Ok(Block::with_rows(Vec::new(), 1)))),
        // Partial aggregation runs where the scan does, on the blocks as they are read.
        (_, Some(reader)) if plan.aggregate.is_some() => {
            let agg = plan.aggregate.as_ref().expect("an aggregate");
            if reader.reads_nothing() && plan.filter.is_none() {
                // `count()` without WHERE: the parts' metadata has the row counts, so no
                // granule is visited (ClickHouse's trivial count). Blocks of rows without
                // columns, as a scan would give them, keep constants evaluated per block small.
                let mut table = Aggregation::new(agg)?;
                for start in (0..stats.rows_read).step_by(COUNTED_BLOCK_ROWS) {
                    table.update(&Block::with_rows(Vec::new(), COUNTED_BLOCK_ROWS.min(stats.rows_read - start)), &[])?;
                }
                table.seal();
                return finish(plan, Box::new(std::iter::empty()), ctx, stats, Some(table));
            }
            let held = AtomicUsize::new(0);
            // A scan that reads no column (its WHERE only on constants) only adds up row
            // counts: threads would cost more than they share.
            let one_thread = QueryContext { max_threads: 1, ..ctx.clone() };
            let ctx = if reader.reads_nothing() { &one_thread } else { ctx };
            let shape = group_shape(plan);
            let expected = remembered_groups(shape);
            let init = || {
                let mut table = Aggregation::new(agg)?;
                expected.inspect(|&(each, _)| table.reserve(each));
                Ok((table, 0usize))
            };
            let tables = on_threads(&tasks, ctx, init, |(table, mine), task| {
                let scanned = reader.read(&task.part, task.granules.clone())?;
                table.update(&scanned.block, &scanned.codings)?;
                let now = table.memory_size();
                let grown = now.saturating_sub(*mine);
                *mine = now;
                ctx.check_memory(held.fetch_add(grown, AtomicOrdering::Relaxed) + grown)?;
                Ok(true)
            }, |(table, _)| table.seal())?;
            let per_thread = tables.iter().map(|(t, _)| t.groups()).max().unwrap_or(0);
            let mut tables = tables.into_iter().map(|(t, _)| t);
            let mut merged = tables.next().expect("at least one thread");
            if tables.len() > 0 {
                expected.inspect(|&(_, all)| merged.reserve(all));
            }
            for t in tables {
                merged.merge(t)?;
                ctx.check_memory(merged.memory_size())?;
            }
            remember_groups(shape, per_thread, merged.groups());
            return finish(plan, Box::new(std::iter::empty()), ctx, stats, Some(merged));
        }
        (_, Some(reader)) if top_n.is_some() => {
            let top_n = top_n.as_ref().expect("checked");
            Box::new(top_n.read(&tasks, reader, ctx)?.into_iter().map(Ok))
        }
        (_, Some(reader)) if parallel => {
            // A LIMIT without ORDER BY (and nothing that needs every row) stops the threads
            // once enough rows are read; the tasks read are then a prefix of the scan.
            let streaming = plan.sort.is_empty() && plan.limit_by.is_none() && plan.windows.is_empty() && !plan.distinct;
            let wanted = plan.limit.filter(|_| streaming).map(|l| l.saturating_add(plan.offset));
            let rows = AtomicUsize::new(0);
            let blocks = read_in_order(&tasks, ctx, |task| {
                let block = reader.read(&task.part, task.granules.clone())?.block;
                let total = rows.fetch_add(block.rows(), AtomicOrdering::Relaxed) + block.rows();
                Ok((block, wanted.is_none_or(|w| total < w)))
            })?;
            Box::new(blocks.into_iter().map(Ok))
        }
        (Source::Table { table, columns, .. }, None) if table.store().is_none() => {
            let TableData::Rows { block, .. } = &table.data else { unreachable!("computed table") };
            let block = Block::with_rows(columns.iter().map(|&c| block.columns[c].clone()).collect(), block.rows());
            Box::new(std::iter::once(filter(block)))
        }
        (Source::Table { table, columns, .. }, None) => Box::new(final_scan(table, columns, tasks, ctx.clone()).map(move |b| b.and_then(filter))),
        (_, Some(reader)) => Box::new(tasks.into_iter().map(move |task| {
            ctx.check()?;
            Ok(reader.read(&task.part, task.granules)?.block)
        })),
    };
    finish(plan, input, ctx, stats, None)
}

/// What identifies a GROUP BY over a table for `remembered_groups`: the table, the columns
/// read, the keys and the WHERE clause.
fn group_shape(plan: &SelectPlan) -> u64 {
    let table = match &plan.source {
        Source::Table { table, columns, .. } => format!("{}.{} {columns:?}", table.database, table.name),
        Source::OneRow => String::new(),
    };
    let keys = plan.aggregate.as_ref().map(|a| &a.keys);
    ahash::RandomState::with_seeds(1, 2, 3, 4).hash_one(format!("{table} {keys:?} {:?}", plan.filter))
}

/// Reads the tasks with `read` on the context's threads; returns the blocks in task order.
/// `read` also says whether to go on: false stops every thread from taking more tasks (the
/// blocks are then those of a prefix of the tasks).
pub(crate) fn read_in_order(tasks: &[ScanTask], ctx: &QueryContext, read: impl Fn(&ScanTask) -> Result<(Block, bool)> + Sync) -> Result<Vec<Block>> {
    let parts = on_threads(tasks, ctx, || Ok(Vec::new()), |out: &mut Vec<(usize, Block)>, task| {
        let (block, more) = read(task)?;
        out.push((task.index, block));
        Ok(more)
    }, |_| {})?;
    let mut blocks: Vec<(usize, Block)> = parts.into_iter().flatten().collect();
    blocks.sort_by_key(|(i, _)| *i);
    Ok(blocks.into_iter().map(|(_, b)| b).collect())
}

/// Runs `work` over the scan tasks on the context's threads, each thread with its own state
/// from `init`, taking tasks in order; `work` returning false stops every thread from taking
/// more (the tasks done are then a prefix of the list). `done` then finishes each state on
/// its own thread. Returns the threads' states.
pub(crate) fn on_threads<T: Send>(tasks: &[ScanTask], ctx: &QueryContext, init: impl Fn() -> Result<T> + Sync, work: impl Fn(&mut T, &ScanTask) -> Result<bool> + Sync, done: impl Fn(&mut T) + Sync) -> Result<Vec<T>> {
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let threads = ctx.threads().min(tasks.len()).max(1);
    let run = || -> Result<T> {
        let mut state = init()?;
        while !stop.load(AtomicOrdering::Relaxed) {
            let Some(task) = tasks.get(next.fetch_add(1, AtomicOrdering::Relaxed)) else { break };
            match ctx.check().and_then(|_| work(&mut state, task)) {
                Ok(true) => {}
                Ok(false) => stop.store(true, AtomicOrdering::Relaxed),
                Err(e) => {
                    stop.store(true, AtomicOrdering::Relaxed);
                    return Err(e);
                }
            }
        }
        done(&mut state);
        Ok(state)
    };
    if threads == 1 {
        // The statement's own thread has the stack a query thread would get.
        return Ok(vec![run()?]);
    }
    std::thread::scope(|s| {
        let spawn = |_| std::thread::Builder::new().stack_size(STATEMENT_STACK_SIZE).spawn_scoped(s, run);
        let handles = (0..threads).map(spawn).collect::<std::io::Result<Vec<_>>>().map_err(|e| QueryError::new(crate::ErrorKind::Internal, format!("cannot start a query thread: {e}")))?;
        handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err(QueryError::new(crate::ErrorKind::Internal, "a query thread panicked")))).collect()
    })
}

/// The cores this process may use, read once: `available_parallelism` reads the cgroup's
/// files on every call, which was 5% of the server's CPU for a query as small as Q01.
pub fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Everything after the scan and filter: aggregation (unless `aggregated`: the threads'
/// grouping of the input, merged already), HAVING, windows, projection, DISTINCT, sort,
/// LIMIT BY, limit, and last the `WITH TOTALS` row.
fn finish<'p>(plan: &'p SelectPlan, input: Box<dyn Iterator<Item = Result<Block>> + '_>, ctx: &QueryContext, stats: ScanStats, aggregated: Option<Aggregation<'p>>) -> Result<QueryResult> {
    let mut totals = None;
    let mut blocks: Box<dyn Iterator<Item = Result<Block>>> = match &plan.aggregate {
        Some(agg) => {
            let table = match aggregated {
                Some(table) => table,
                None => {
                    let mut table = Aggregation::new(agg)?;
                    for block in input {
                        ctx.check()?;
                        table.update(&block?, &[])?;
                        ctx.check_memory(table.memory_size())?;
                    }
                    table
                }
            };
            let (mut out, row) = table.finish()?;
            totals = row;
            if let Some(having) = &plan.having {
                let mask = having.eval(&out)?;
                out = out.filter(&mask_bytes(&mask));
            }
            Box::new(std::iter::once(Ok(out)))
        }
        None => input,
    };
    if !plan.windows.is_empty() {
        // Window functions see all rows at once; their values follow the input columns.
        let all = ctx.collect_blocks(blocks)?;
        blocks = match Block::concat(&all) {
            Some(mut block) => {
                block.columns.extend(crate::window::compute(&plan.windows, &block, ctx)?);
                if let Some(qualify) = &plan.qualify {
                    let mask = qualify.eval(&block)?;
                    block = block.filter(&mask_bytes(&mask));
                }
                Box::new(std::iter::once(Ok(block)))
            }
            None => Box::new(std::iter::empty()),
        };
    }
    // Project each block; sort and LIMIT BY keys ride along as extra columns.
    let limit_by_keys = plan.limit_by.iter().flat_map(|l| l.keys.iter());
    let outputs: Vec<_> = plan.outputs.iter().chain(plan.sort.iter().map(|s| &s.expr)).chain(limit_by_keys).collect();
    let project = |b: Block| -> Result<Block> {
        let cols = outputs.iter().map(|e| e.eval(&b)).collect::<Result<Vec<_>>>()?;
        Ok(Block::with_rows(cols, b.rows()))
    };
    let totals = totals.map(&project).transpose()?;
    let width = plan.outputs.len();
    let mut seen = plan.distinct.then(RowSet::default);
    let mut projected = blocks.map(|b| {
        let b = project(b?)?;
        Ok(match &mut seen {
            Some(seen) => b.filter(&seen.first_seen(&b, width)),
            None => b,
        })
    });
    let mut result = Vec::new();
    if plan.sort.is_empty() && plan.limit_by.is_none() {
        let (mut skip, mut left) = (plan.offset, plan.limit.unwrap_or(usize::MAX));
        for b in projected.by_ref() {
            if left == 0 {
                break;
            }
            let b: Block = b?;
            let from = skip.min(b.rows());
            skip -= from;
            let take = (b.rows() - from).min(left);
            left -= take;
            if take > 0 {
                result.push(b.slice(from, take));
            }
        }
    } else {
        let all = ctx.collect_blocks(projected)?;
        if let Some(all) = Block::concat(&all) {
            let keys: Vec<(ColumnRef, &SortKey)> = plan.sort.iter().enumerate().map(|(i, s): (usize, &SortKey)| (all.columns[width + i].clone(), s)).collect();
            // With LIMIT BY, which rows survive depends on all of them: no top-N shortcut.
            let wanted = plan.limit.filter(|_| plan.limit_by.is_none() && !plan.with_ties).map(|l| l.saturating_add(plan.offset));
            let mut order = sort_indices(&keys, all.rows(), wanted);
            if let Some(by) = &plan.limit_by {
                let first = width + plan.sort.len();
                let key_block = Block::with_rows(all.columns[first..first + by.keys.len()].to_vec(), all.rows());
                order = limit_by(&key_block, order, by.limit, by.offset);
            }
            let mut end = plan.offset.saturating_add(plan.limit.unwrap_or(usize::MAX)).min(order.len());
            if plan.with_ties {
                let key_columns: Vec<ColumnRef> = keys.iter().map(|(c, _)| c.clone()).collect();
                while end > 0 && end < order.len() && same_values(&key_columns, order[end - 1], order[end]) {
                    end += 1;
                }
            }
            let order: Vec<u32> = order.get(plan.offset.min(end)..end).unwrap_or_default().to_vec();
            result.push(all.take(&order));
        }
    }
    result.extend(totals);
    for b in &mut result {
        b.columns.truncate(width);
    }
    Ok(QueryResult { fields: plan.fields.clone(), blocks: result, stats })
}

/// Row keys seen so far, for DISTINCT.
#[derive(Default)]
struct RowSet {
    keys: hashbrown::HashSet<Box<[u8]>, ahash::RandomState>,
}

impl RowSet {
    /// A mask of the rows of `block` whose first `width` columns were not seen before.
    fn first_seen(&mut self, block: &Block, width: usize) -> Vec<u8> {
        let mut key = Vec::new();
        (0..block.rows())
            .map(|row| {
                key.clear();
                block.columns[..width].iter().for_each(|c| append_key(c, row, &mut key));
                self.keys.insert(key.as_slice().into()) as u8
            })
            .collect()
    }
}

/// The rows of a block whose first `width` columns differ from every earlier row's.
pub fn distinct_rows(block: &Block, width: usize) -> Block {
    block.filter(&RowSet::default().first_seen(block, width))
}

/// `LIMIT n OFFSET m BY keys`: of the rows in `order`, per distinct key the `n` after the first `m`.
fn limit_by(keys: &Block, order: Vec<u32>, limit: usize, offset: usize) -> Vec<u32> {
    let mut counts: HashMap<Box<[u8]>, usize, ahash::RandomState> = HashMap::default();
    let mut key = Vec::new();
    order
        .into_iter()
        .filter(|&row| {
            key.clear();
            keys.columns.iter().for_each(|c| append_key(c, row as usize, &mut key));
            let seen = counts.entry(key.as_slice().into()).or_insert(0);
            *seen += 1;
            *seen > offset && *seen - offset <= limit
        })
        .collect()
}

/// Reads a table `FINAL`: the selected granules of all its parts go through the k-way merge
/// and fold that a merge would do, and the scan keeps the plan's columns. As in ClickHouse
/// (`do_not_merge_across_partitions_select_final = 0`), rows fold across partitions too.
fn final_scan(table: &Arc<Table>, columns: &[usize], tasks: Vec<ScanTask>, ctx: QueryContext) -> Box<dyn Iterator<Item = Result<Block>>> {
    let mut sources: Vec<MergeSource> = Vec::new();
    for task in tasks {
        match sources.last_mut() {
            Some(s) if Arc::ptr_eq(&s.part, &task.part) => s.granules.push(task.granules),
            _ => sources.push(MergeSource { part: task.part, granules: vec![task.granules] }),
        }
    }
    sources.sort_by_key(|s| part_block_range(&s.part.name).map_or(0, |r| r.0));
    let store = table.store().expect("FINAL reads a MergeTree table");
    let merged = match store.merged(sources) {
        Ok(stream) => stream,
        Err(e) => return Box::new(std::iter::once(Err(e.into()))),
    };
    let columns = columns.to_vec();
    Box::new(merged.map(move |b| {
        ctx.check()?;
        let b = b.map_err(QueryError::from)?;
        Ok(Block::with_rows(columns.iter().map(|&c| b.columns[c].clone()).collect(), b.rows()))
    }))
}

/// The rows a condition keeps: non-zero and not NULL.
pub(crate) fn mask_bytes(mask: &Column) -> std::borrow::Cow<'_, [u8]> {
    let granary_storage::ColumnData::U8(v) = &mask.data else { unreachable!("conditions are bound to UInt8 or Bool") };
    match &mask.nulls {
        Some(nulls) => v.iter().zip(nulls).map(|(x, n)| (*x != 0 && *n == 0) as u8).collect::<Vec<u8>>().into(),
        None => v.into(),
    }
}

/// The positions of the non-zero bytes of a mask.
pub(crate) fn kept_indices(mask: &[u8]) -> Vec<u32> {
    mask.iter().enumerate().filter(|(_, &k)| k != 0).map(|(i, _)| i as u32).collect()
}

/// True when rows `a` and `b` hold equal values in every column (two NULLs are equal):
/// ties of a sort, peers of a window.
pub(crate) fn same_values(columns: &[ColumnRef], a: u32, b: u32) -> bool {
    let (a, b) = (a as usize, b as usize);
    columns.iter().all(|c| match (c.is_null(a), c.is_null(b)) {
        (true, true) => true,
        (false, false) => c.cmp_rows(a, c, b).is_eq(),
        _ => false,
    })
}

