//! Background merges: worker threads fold small parts into bigger ones so that the number of
//! active parts per partition stays small, and drop rows that outlived the table's TTL.
//! Inserts only send a note to the workers; they never wait for a merge.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use std::thread::JoinHandle;

use crossbeam::channel::{unbounded, Receiver, RecvTimeoutError, Sender};
use granary_storage::commit::Store;
use granary_storage::collapse::MergeMode;
use granary_storage::merge::{select_merge, MergePolicy, Selection};
use granary_storage::table::{Expiry, TableStore};

use crate::stats::Stats;

/// The pool of merge workers of one database.
#[derive(Debug)]
pub struct Merger {
    sender: Option<Sender<Arc<TableStore>>>,
    workers: Vec<JoinHandle<()>>,
    stopped: Arc<Mutex<Stopped>>,
}

/// Tables whose background merges are paused (`SYSTEM STOP MERGES`).
#[derive(Debug, Default)]
struct Stopped {
    all: bool,
    tables: HashSet<String>,
}

impl Stopped {
    fn contains(&self, id: &str) -> bool {
        self.all || self.tables.contains(id)
    }
}

impl Merger {
    /// Starts `threads` workers that merge tables through `store`, counting merges in `stats`.
    pub fn start(store: Arc<Store>, threads: usize, stats: Arc<Stats>) -> Merger {
        let (sender, receiver) = unbounded();
        let stopped = Arc::new(Mutex::new(Stopped::default()));
        let workers = (0..threads.max(1))
            .map(|i| {
                let (store, receiver, stopped, stats) = (store.clone(), receiver.clone(), stopped.clone(), stats.clone());
                std::thread::Builder::new()
                    .name(format!("granary-merge-{i}"))
                    .spawn(move || work(&store, &receiver, &stopped, &stats))
                    .expect("spawn merge worker")
            })
            .collect();
        Merger { sender: Some(sender), workers, stopped }
    }

    /// Pauses (`stop`) or resumes background merges of one table (by id), or of all tables.
    /// Explicit `OPTIMIZE` still merges.
    pub fn set_stopped(&self, table: Option<String>, stop: bool) {
        let mut stopped = self.stopped.lock().unwrap_or_else(|p| p.into_inner());
        match (table, stop) {
            (None, stop) => {
                stopped.all = stop;
                stopped.tables.clear();
            }
            (Some(id), true) => {
                stopped.tables.insert(id);
            }
            (Some(id), false) => {
                stopped.tables.remove(&id);
            }
        }
    }

    /// Asks the workers to look at a table that gained parts.
    pub fn schedule(&self, table: Arc<TableStore>) {
        if let Some(sender) = &self.sender {
            let _ = sender.send(table);
        }
    }
}

impl Drop for Merger {
    fn drop(&mut self) {
        self.sender.take();
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}

/// How often a worker with nothing to do re-checks the tables it has seen for expired rows.
const TTL_CHECK_INTERVAL: Duration = Duration::from_secs(60);

fn work(store: &Store, receiver: &Receiver<Arc<TableStore>>, stopped: &Mutex<Stopped>, stats: &Stats) {
    // Tables seen so far; rows expire with time alone, so they are revisited when idle.
    let mut seen: HashMap<String, Weak<TableStore>> = HashMap::new();
    loop {
        // Many inserts into one table need one round of merging, not one each.
        let mut tables = HashMap::new();
        match receiver.recv_timeout(TTL_CHECK_INTERVAL) {
            Ok(first) => {
                tables.insert(first.id.clone(), first);
                for table in receiver.try_iter() {
                    tables.insert(table.id.clone(), table);
                }
            }
            Err(RecvTimeoutError::Timeout) => {
                seen.retain(|_, t| t.strong_count() > 0);
                tables.extend(seen.values().filter_map(Weak::upgrade).filter(|t| t.expiry().is_some()).map(|t| (t.id.clone(), t)));
            }
            Err(RecvTimeoutError::Disconnected) => return,
        }
        for table in tables.values() {
            seen.insert(table.id.clone(), Arc::downgrade(table));
        }
        for table in tables.into_values() {
            if stopped.lock().unwrap_or_else(|p| p.into_inner()).contains(&table.id) {
                continue;
            }
            match merge_table(store, &table, &MergePolicy::default(), false, None) {
                Ok(merges) => stats.merged(merges),
                Err(e) => tracing::warn!("merge of table {} failed: {e}", table.id),
            }
        }
    }
}

/// Merges a table's parts (of one partition, by id, when `partition` is given) until the
/// policy selects no more; with `whole_partition` every partition ends as one part (up to
/// the policy's size cap) whose rows have been folded. Returns the merges run.
pub fn merge_table(store: &Store, table: &Arc<TableStore>, policy: &MergePolicy, whole_partition: bool, partition: Option<&str>) -> granary_storage::Result<usize> {
    let _guard = table.merge_guard();
    let mut merges = expire(store, table)?;
    let fold_single = whole_partition && table.layout().mode != MergeMode::Ordinary;
    while let Some(parts) = select_merge(&table.snapshot(), policy, Selection { whole_partition, fold_single, partition }) {
        let merged = table.merge_parts(&parts)?;
        let names = parts.iter().map(|p| p.name.clone()).collect();
        store.commit(merged.into_iter().collect(), vec![(table.clone(), names)])?;
        merges += 1;
    }
    Ok(merges)
}

/// Applies the table's TTL: drops parts whose rows have all expired, and rewrites parts
/// that hold some expired rows without them. Returns the parts changed.
fn expire(store: &Store, table: &Arc<TableStore>) -> granary_storage::Result<usize> {
    let Some(expiry) = table.expiry() else { return Ok(0) };
    let snapshot = table.snapshot();
    let mut dead = Vec::new();
    let mut changed = 0;
    for part in &snapshot.parts {
        match expiry.part_expiry(part) {
            Expiry::None => {}
            Expiry::All => dead.push(part.name.clone()),
            Expiry::Some => {
                let rewritten = table.merge_parts(std::slice::from_ref(part))?;
                store.commit(rewritten.into_iter().collect(), vec![(table.clone(), vec![part.name.clone()])])?;
                changed += 1;
            }
        }
    }
    if !dead.is_empty() {
        changed += dead.len();
        store.commit(Vec::new(), vec![(table.clone(), dead)])?;
    }
    Ok(changed)
}
