//! Background merges: worker threads fold small parts into bigger ones so that the number of
//! active parts per partition stays small. Inserts only send a note to the workers; they
//! never wait for a merge.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crossbeam::channel::{unbounded, Receiver, Sender};
use granary_storage::commit::Store;
use granary_storage::collapse::MergeMode;
use granary_storage::merge::{select_merge, MergePolicy, Selection};
use granary_storage::table::TableStore;

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
    /// Starts `threads` workers that merge tables through `store`.
    pub fn start(store: Arc<Store>, threads: usize) -> Merger {
        let (sender, receiver) = unbounded();
        let stopped = Arc::new(Mutex::new(Stopped::default()));
        let workers = (0..threads.max(1))
            .map(|i| {
                let (store, receiver, stopped) = (store.clone(), receiver.clone(), stopped.clone());
                std::thread::Builder::new()
                    .name(format!("granary-merge-{i}"))
                    .spawn(move || work(&store, &receiver, &stopped))
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

fn work(store: &Store, receiver: &Receiver<Arc<TableStore>>, stopped: &Mutex<Stopped>) {
    while let Ok(first) = receiver.recv() {
        // Many inserts into one table need one round of merging, not one each.
        let mut tables = HashMap::new();
        tables.insert(first.id.clone(), first);
        for table in receiver.try_iter() {
            tables.insert(table.id.clone(), table);
        }
        for table in tables.into_values() {
            if stopped.lock().unwrap_or_else(|p| p.into_inner()).contains(&table.id) {
                continue;
            }
            if let Err(e) = merge_table(store, &table, &MergePolicy::default(), false, None) {
                tracing::warn!("merge of table {} failed: {e}", table.id);
            }
        }
    }
}

/// Merges a table's parts (of one partition, by id, when `partition` is given) until the
/// policy selects no more; with `whole_partition` every partition ends as one part (up to
/// the policy's size cap) whose rows have been folded. Returns the merges run.
pub fn merge_table(store: &Store, table: &Arc<TableStore>, policy: &MergePolicy, whole_partition: bool, partition: Option<&str>) -> granary_storage::Result<usize> {
    let _guard = table.merge_guard();
    let mut merges = 0;
    let fold_single = whole_partition && table.layout().mode != MergeMode::Ordinary;
    while let Some(parts) = select_merge(&table.snapshot(), policy, Selection { whole_partition, fold_single, partition }) {
        let merged = table.merge_parts(&parts)?;
        let names = parts.iter().map(|p| p.name.clone()).collect();
        store.commit(merged.into_iter().collect(), vec![(table.clone(), names)])?;
        merges += 1;
    }
    Ok(merges)
}
