//! Late materialisation for `ORDER BY … LIMIT n` over a MergeTree scan.
//!
//! `SELECT * … WHERE … ORDER BY ts DESC LIMIT 100` returns every column of 100 rows only,
//! yet a plain scan decodes every column of every row the WHERE clause keeps. Here the scan
//! runs twice. First it reads only the columns the WHERE clause and the sort keys name; each
//! block keeps its best `n` rows (`n` = LIMIT + OFFSET) by the sort keys, and of those the
//! best `n` overall are the answer's rows, remembered as positions in their blocks. Then the
//! full scan reads just those rows: a granule that holds none of them is not decompressed.
//! The usual sort and limit then run on the `n` rows. Rows of equal keys are ranked by scan
//! order in both passes, so the answer is the one a full sort would give. ClickHouse calls
//! this lazy materialisation (`query_plan_optimize_lazy_materialization`).

use granary_storage::{Block, ColumnRef, DataType};

use crate::error::Result;
use crate::exec::{kept_indices, on_threads, read_in_order, QueryContext, ScanTask};
use crate::plan::{SelectPlan, SortKey};
use crate::prewhere::{ColumnUse, ScanReader};
use crate::sort::sort_indices;

/// The largest LIMIT + OFFSET read this way: past it, the rows chosen would touch about as
/// many granules as the plain scan does.
const MAX_ROWS: usize = 10_000;

/// The first pass of a lazily materialised top-N scan.
pub(crate) struct TopNScan {
    /// Reads the WHERE clause's and the sort keys' columns, filtered.
    first: ScanReader,
    /// The sort keys, over the columns `first` reads.
    keys: Vec<SortKey>,
    /// LIMIT + OFFSET.
    wanted: usize,
    /// The names of the columns `first` reads, for EXPLAIN.
    names: Vec<String>,
}

impl TopNScan {
    /// The first pass for a scan of `names` (of types `types`) by `plan`, when the plan sorts
    /// and limits the scanned rows themselves (no aggregation, window, DISTINCT, LIMIT BY or
    /// WITH TIES), its limit is small, and some scanned column is needed by neither the
    /// WHERE clause nor the sort keys.
    pub(crate) fn new(plan: &SelectPlan, names: &[String], types: &[DataType]) -> Option<TopNScan> {
        let simple = plan.aggregate.is_none() && plan.windows.is_empty() && !plan.distinct && plan.limit_by.is_none() && !plan.with_ties;
        let wanted = plan.limit?.saturating_add(plan.offset);
        if !simple || plan.sort.is_empty() || wanted == 0 || wanted > MAX_ROWS {
            return None;
        }
        let mut needed = vec![false; names.len()];
        plan.filter.iter().chain(plan.sort.iter().map(|s| &s.expr)).for_each(|e| e.visit_columns(&mut |c| needed[c] = true));
        if needed.iter().all(|&n| n) {
            return None;
        }
        // Column c of the scan is column `position[c]` of the first pass.
        let mut position = vec![usize::MAX; names.len()];
        let read: Vec<usize> = (0..names.len()).filter(|&c| needed[c]).collect();
        read.iter().enumerate().for_each(|(i, &c)| position[c] = i);
        let remap = |e: &crate::expr::Expr| {
            let mut e = e.clone();
            e.remap_columns(&|c| position[c]);
            e
        };
        let first_names: Vec<String> = read.iter().map(|&c| names[c].clone()).collect();
        let first_types: Vec<DataType> = read.iter().map(|&c| types[c].clone()).collect();
        let filter = plan.filter.as_ref().map(remap);
        let first = ScanReader::new(first_names.clone(), &first_types, filter.as_ref(), plan.prewhere, &ColumnUse::values(read.len()));
        let keys = plan.sort.iter().map(|k| SortKey { expr: remap(&k.expr), ..k.clone() }).collect();
        Some(TopNScan { first, keys, wanted, names: first_names })
    }

    /// The `EXPLAIN` line for the first pass.
    pub(crate) fn explain(&self) -> String {
        format!("  Top {} rows chosen on: {}; the other columns read for those rows only", self.wanted, self.names.join(", "))
    }

    /// Runs the first pass over `tasks`, then reads the chosen rows with `reader` (the full
    /// scan): the blocks, in scan order, that hold the first `wanted` rows by the sort keys.
    pub(crate) fn read(&self, tasks: &[ScanTask], reader: &ScanReader, ctx: &QueryContext) -> Result<Vec<Block>> {
        // Per task that keeps a row: its index, its best rows' sort keys (best first) and
        // their positions among the rows of its granules.
        type Best = (usize, Block, Vec<u32>);
        let found = on_threads(tasks, ctx, || Ok(Vec::<Best>::new()), |out, task| {
            let scanned = self.first.read(&task.part, task.granules.clone())?;
            if scanned.block.rows() > 0 {
                let keys = self.key_columns(&scanned.block)?;
                let order = sort_indices(&self.with_keys(&keys), scanned.block.rows(), Some(self.wanted));
                let positions = positions(scanned.kept.as_deref(), scanned.block.rows());
                let best = Block::with_rows(keys, scanned.block.rows()).take(&order);
                out.push((task.index, best, order.iter().map(|&i| positions[i as usize]).collect()));
            }
            Ok(true)
        }, |_| {})?;
        reader.count_decoded(self.first.decoded());
        let mut found: Vec<Best> = found.into_iter().flatten().collect();
        found.sort_by_key(|(index, ..)| *index);
        let blocks: Vec<Block> = found.iter().map(|(_, b, _)| b.clone()).collect();
        let Some(all) = Block::concat(&blocks) else { return Ok(Vec::new()) };
        // Which task and row each row of `all` came from.
        let origin: Vec<(usize, u32)> = found.iter().flat_map(|(index, _, rows)| rows.iter().map(move |&r| (*index, r))).collect();
        let mut chosen: Vec<(usize, u32)> = sort_indices(&self.with_keys(&all.columns), all.rows(), Some(self.wanted)).into_iter().map(|i| origin[i as usize]).collect();
        chosen.sort_unstable();
        // The second pass: each task with a chosen row reads those rows only.
        let mut selected: Vec<(&ScanTask, Vec<u8>)> = Vec::new();
        for (index, row) in chosen {
            if selected.last().is_none_or(|(t, _)| t.index != index) {
                let task = &tasks[index];
                let rows = task.part.meta.rows_in(task.granules.clone());
                selected.push((task, vec![0; rows]));
            }
            selected.last_mut().expect("pushed above").1[row as usize] = 1;
        }
        // Numbered by position in `selected`, which keeps the scan's order.
        let second: Vec<ScanTask> = selected.iter().enumerate().map(|(i, (t, _))| ScanTask { index: i, part: t.part.clone(), granules: t.granules.clone() }).collect();
        read_in_order(&second, ctx, |task| {
            let mask = selected[task.index].1.clone();
            Ok((reader.read_rows(&task.part, task.granules.clone(), Some(mask))?.block, true))
        })
    }

    /// The sort keys' values for the rows of a first-pass block.
    fn key_columns(&self, block: &Block) -> Result<Vec<ColumnRef>> {
        self.keys.iter().map(|k| k.expr.eval(block)).collect()
    }

    /// The sort keys paired with their values, as `sort_indices` takes them.
    fn with_keys<'a>(&'a self, columns: &[ColumnRef]) -> Vec<(ColumnRef, &'a SortKey)> {
        columns.iter().cloned().zip(&self.keys).collect()
    }
}

/// For each of the `rows` rows a scan kept (`kept`: non-zero per kept row of the granules;
/// `None` when it kept all), its position among the granules' rows.
fn positions(kept: Option<&[u8]>, rows: usize) -> Vec<u32> {
    match kept {
        None => (0..rows as u32).collect(),
        Some(kept) => kept_indices(kept),
    }
}
