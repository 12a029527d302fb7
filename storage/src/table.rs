//! The live set of parts of one table, and the writing of new parts for it.
//!
//! Readers take a `Snapshot` (an `Arc` of the part list) once per query and keep it for the
//! whole query; commits publish a new snapshot, never change an old one.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use crate::block::Block;
use crate::error::{io_at, Result};
use crate::collapse::{Collapser, StateMerger};
use crate::column::Column;
use crate::merge::{MergeSource, MergeStream};
use crate::part::{write_part, Part, PartWriter, TableLayout};
use crate::sort::{sort_block, sort_order};
use crate::value::Value;

/// Prefix of part directories that are not committed yet.
pub const TMP_PREFIX: &str = "tmp_";

/// The parts a query reads: fixed for the query's lifetime.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Active parts, in commit order.
    pub parts: Vec<Arc<Part>>,
}

impl Snapshot {
    /// Total rows over all parts.
    pub fn rows(&self) -> usize {
        self.parts.iter().map(|p| p.rows()).sum()
    }
}

/// The storage side of one table: its directory, layout and current snapshot.
#[derive(Debug)]
pub struct TableStore {
    /// Stable identity used in the commit log (survives renames).
    pub id: String,
    dir: PathBuf,
    layout: TableLayout,
    snapshot: RwLock<Arc<Snapshot>>,
    next_block: AtomicU64,
    /// Held while choosing and running a merge, so two merges never take the same parts.
    merging: Mutex<()>,
    /// Merges running now, for `system.merges`.
    running: Mutex<Vec<Arc<MergeProgress>>>,
    /// The table's TTL, if it has one.
    expiry: RwLock<Option<Arc<dyn RowExpiry>>>,
    /// Column TTLs: (column, when its values expire), set by the engine.
    column_expiry: RwLock<Vec<(usize, Arc<dyn RowExpiry>)>>,
    /// Merges AggregateFunction states (AggregatingMergeTree), set by the engine.
    states: RwLock<Option<Arc<dyn StateMerger>>>,
}

/// A merge in progress: what it reads, what it writes, how far it is.
#[derive(Debug)]
pub struct MergeProgress {
    /// Name of the part being written.
    pub result: String,
    /// Names of the parts being merged.
    pub sources: Vec<String>,
    /// When the merge started.
    pub started: std::time::Instant,
    /// Rows of all sources.
    pub rows_total: usize,
    /// Rows read from the sources so far.
    pub rows_read: AtomicU64,
    /// Rows written (after folding) so far.
    pub rows_written: AtomicU64,
}

/// Keeps a merge listed in `TableStore::running_merges` while it lives.
struct RunningMerge<'a> {
    table: &'a TableStore,
    progress: Arc<MergeProgress>,
}

impl Drop for RunningMerge<'_> {
    fn drop(&mut self) {
        self.table.running.lock().unwrap_or_else(|p| p.into_inner()).retain(|m| !Arc::ptr_eq(m, &self.progress));
    }
}

/// Which rows have outlived a table's TTL. The engine implements it, since the TTL is an
/// expression and storage knows none; merges drop the rows it rejects.
pub trait RowExpiry: Send + Sync + std::fmt::Debug {
    /// 1 for each row of `block` (all the table's columns) that is still alive.
    fn keep(&self, block: &Block) -> Result<Vec<u8>>;
    /// How many of a part's rows may have expired, judged from its min/max statistics.
    fn part_expiry(&self, part: &Part) -> Expiry;
}

/// How much of a part a TTL has expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// No row.
    None,
    /// Some rows may have.
    Some,
    /// Every row.
    All,
}

/// A part written under its temporary name, waiting for `Store::commit`. Dropping it
/// uncommitted removes the files.
#[derive(Debug)]
pub struct NewPart {
    /// The table it belongs to.
    pub table: Arc<TableStore>,
    /// Its final name.
    pub name: String,
    pub(crate) committed: bool,
}

impl NewPart {
    /// Where the part sits until its commit.
    pub fn tmp_path(&self) -> PathBuf {
        self.table.dir.join(format!("{TMP_PREFIX}{}", self.name))
    }
}

impl Drop for NewPart {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(self.tmp_path());
        }
    }
}

impl TableStore {
    pub(crate) fn new(id: String, dir: PathBuf, layout: TableLayout, parts: Vec<Arc<Part>>, next_block: u64) -> TableStore {
        TableStore {
            id,
            dir,
            layout,
            snapshot: RwLock::new(Arc::new(Snapshot { parts })),
            next_block: AtomicU64::new(next_block),
            merging: Mutex::new(()),
            running: Mutex::new(Vec::new()),
            expiry: RwLock::new(None),
            states: RwLock::new(None),
            column_expiry: RwLock::new(Vec::new()),
        }
    }

    /// The current snapshot of active parts.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.read().expect("snapshot lock").clone()
    }

    pub(crate) fn publish(&self, snapshot: Snapshot) {
        *self.snapshot.write().expect("snapshot lock") = Arc::new(snapshot);
    }

    /// Exclusive right to merge this table's parts, for as long as the guard lives.
    pub fn merge_guard(&self) -> MutexGuard<'_, ()> {
        self.merging.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sets the TTL that merges apply from now on.
    pub fn set_expiry(&self, expiry: Arc<dyn RowExpiry>) {
        *self.expiry.write().expect("expiry lock") = Some(expiry);
    }

    /// The table's TTL.
    pub fn expiry(&self) -> Option<Arc<dyn RowExpiry>> {
        self.expiry.read().expect("expiry lock").clone()
    }

    /// Sets the column TTLs merges apply from now on: where a column's TTL has passed, its
    /// value resets to the type's default and the row stays.
    pub fn set_column_expiry(&self, expiry: Vec<(usize, Arc<dyn RowExpiry>)>) {
        *self.column_expiry.write().expect("column expiry lock") = expiry;
    }

    /// Sets what merges AggregateFunction states when rows of one key fold.
    pub fn set_state_merger(&self, states: Arc<dyn StateMerger>) {
        *self.states.write().expect("states lock") = Some(states);
    }

    /// A collapser for the table's merge mode (`None` for plain MergeTree).
    fn collapser(&self) -> Option<Collapser> {
        Collapser::new(&self.layout.mode, &self.layout.sort_key, self.states.read().expect("states lock").clone())
    }

    /// The merges running now.
    pub fn running_merges(&self) -> Vec<Arc<MergeProgress>> {
        self.running.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The physical layout every part of this table has.
    pub fn layout(&self) -> &TableLayout {
        &self.layout
    }

    /// The table's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Sorts `block`'s rows `selected` (all of them when `None`; else ascending row numbers,
    /// a partition's rows, which are never copied out) by the sort key, folds rows of equal
    /// keys by the table's merge mode (as ClickHouse does on insert), and writes them as one
    /// uncommitted part of the partition `partition`. Nothing is visible until the returned
    /// part is committed; `None` when folding left no rows.
    pub fn write_part(self: &Arc<Self>, block: &Block, selected: Option<&[u32]>, partition: Vec<Value>) -> Result<Option<NewPart>> {
        let key = &self.layout.sort_key;
        let collapsed;
        let (rows, order) = match self.collapser() {
            Some(mut collapser) => {
                let head = collapser.push(sort_block(&selected.map_or_else(|| block.clone(), |r| block.take(r)), key))?;
                collapsed = match collapser.finish()? {
                    Some(tail) => Block::concat(&[head, tail]).expect("two blocks"),
                    None => head,
                };
                (&collapsed, None)
            }
            None => (block, sort_order(block, key, selected)),
        };
        if rows.rows() == 0 {
            return Ok(None);
        }
        let number = self.next_block.fetch_add(1, Ordering::SeqCst);
        let part = NewPart { table: self.clone(), name: format!("{}_{number}_{number}_0", partition_id(&partition)), committed: false };
        write_part(&part.tmp_path(), &self.layout, rows, order.as_deref(), partition)?;
        fs::File::open(&self.dir).and_then(|f| f.sync_all()).map_err(io_at(&self.dir))?;
        Ok(Some(part))
    }

    /// Merges parts of one partition into one new uncommitted part named after the block
    /// range they cover, one level above the highest of them. The rows stream through a
    /// k-way merge on the sort key, fold by the table's merge mode and lose what the TTL
    /// expired; `None` when no row is left.
    pub fn merge_parts(self: &Arc<Self>, parts: &[Arc<Part>]) -> Result<Option<NewPart>> {
        let mut parts = parts.to_vec();
        parts.sort_by_key(|p| part_block_range(&p.name).map_or(0, |r| r.0));
        let first = parts.first().ok_or_else(|| crate::error::StorageError::Invalid("nothing to merge".into()))?;
        let partition = first.meta.partition.clone();
        let min = parts.iter().filter_map(|p| part_block_range(&p.name)).map(|r| r.0).min().unwrap_or(0);
        let max = parts.iter().filter_map(|p| part_block_range(&p.name)).map(|r| r.1).max().unwrap_or(0);
        let level = parts.iter().map(|p| p.level()).max().unwrap_or(0) + 1;
        let name = format!("{}_{min}_{max}_{level}", partition_id(&partition));
        let progress = Arc::new(MergeProgress {
            result: name.clone(),
            sources: parts.iter().map(|p| p.name.clone()).collect(),
            started: std::time::Instant::now(),
            rows_total: parts.iter().map(|p| p.rows()).sum(),
            rows_read: AtomicU64::new(0),
            rows_written: AtomicU64::new(0),
        });
        self.running.lock().unwrap_or_else(|p| p.into_inner()).push(progress.clone());
        let _listed = RunningMerge { table: self, progress: progress.clone() };
        let part = NewPart { table: self.clone(), name, committed: false };
        let mut writer = PartWriter::create(&part.tmp_path(), &self.layout, partition)?;
        let mut rows = 0;
        let expiry = self.expiry();
        let column_expiry = self.column_expiry.read().expect("column expiry lock").clone();
        let sources = parts.into_iter().map(MergeSource::whole).collect();
        for block in self.merged_counting(sources, Some(progress.clone()))? {
            let mut block = block?;
            if let Some(expiry) = &expiry {
                block = block.filter(&expiry.keep(&block)?);
            }
            for (column, expiry) in &column_expiry {
                let keep = expiry.keep(&block)?;
                if keep.contains(&0) {
                    block.columns[*column] = Arc::new(reset_expired(&block.columns[*column], &keep));
                }
            }
            rows += block.rows();
            progress.rows_written.fetch_add(block.rows() as u64, Ordering::Relaxed);
            writer.push(&block)?;
        }
        if rows == 0 {
            return Ok(None);
        }
        writer.finish()?;
        fs::File::open(&self.dir).and_then(|f| f.sync_all()).map_err(io_at(&self.dir))?;
        Ok(Some(part))
    }

    /// The rows of `sources` (parts of one partition, in block order) merged on the sort key
    /// and folded by the table's merge mode, as blocks of all the table's columns: what a
    /// merge of them would hold. `SELECT … FINAL` reads through this.
    pub fn merged(&self, sources: Vec<MergeSource>) -> Result<impl Iterator<Item = Result<Block>>> {
        self.merged_counting(sources, None)
    }

    /// `merged`, counting the rows read from the sources into `progress` as it goes.
    fn merged_counting(&self, sources: Vec<MergeSource>, progress: Option<Arc<MergeProgress>>) -> Result<impl Iterator<Item = Result<Block>> + use<>> {
        let stream = MergeStream::new(sources, &self.layout.columns, &self.layout.sort_key)?;
        let mut collapser = self.collapser();
        let mut stream = stream.fuse();
        let mut done = false;
        Ok(std::iter::from_fn(move || loop {
            if done {
                return None;
            }
            let block = match stream.next() {
                Some(Ok(block)) => {
                    if let Some(p) = &progress {
                        p.rows_read.fetch_add(block.rows() as u64, Ordering::Relaxed);
                    }
                    block
                }
                Some(Err(e)) => return Some(Err(e)),
                None => {
                    done = true;
                    return collapser.as_mut().and_then(|c| c.finish().transpose());
                }
            };
            let out = match collapser.as_mut() {
                Some(c) => match c.push(block) {
                    Ok(out) => out,
                    Err(e) => return Some(Err(e)),
                },
                None => block,
            };
            if out.rows() > 0 {
                return Some(Ok(out));
            }
        }))
    }
}

/// The column with the values where `keep` is 0 replaced by the type's default.
fn reset_expired(column: &Column, keep: &[u8]) -> Column {
    let rows = column.len() as u32;
    let with_default = Column::concat(column.ty.clone(), &[Arc::new(column.clone()), Arc::new(Column::defaults(column.ty.clone(), 1))]);
    let pick: Vec<u32> = keep.iter().enumerate().map(|(i, &k)| if k != 0 { i as u32 } else { rows }).collect();
    with_default.take(&pick)
}

/// The directory-name form of a partition value: `all` when unpartitioned, the numbers
/// joined by `-` when every value is an integer (`202601`), else a stable 64-bit hash.
pub fn partition_id(values: &[Value]) -> String {
    if values.is_empty() {
        return "all".into();
    }
    let ints: Option<Vec<String>> = values
        .iter()
        .map(|v| match v {
            Value::UInt(u) => Some(u.to_string()),
            Value::Int(i) if *i >= 0 => Some(i.to_string()),
            Value::Bool(b) => Some((*b as u8).to_string()),
            _ => None,
        })
        .collect();
    ints.map(|v| v.join("-")).unwrap_or_else(|| {
        let text = serde_json::to_string(values).expect("values serialize");
        // FNV-1a: stable across versions and platforms, unlike the std hasher.
        let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3));
        format!("{hash:016x}")
    })
}

/// The block number range a part name carries (`{partition}_{min}_{max}_{level}`).
pub fn part_block_range(name: &str) -> Option<(u64, u64)> {
    let mut fields = name.rsplitn(4, '_');
    let _level: u32 = fields.next()?.parse().ok()?;
    let max = fields.next()?.parse().ok()?;
    let min = fields.next()?.parse().ok()?;
    fields.next()?;
    Some((min, max))
}
