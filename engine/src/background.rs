//! Background merges: worker threads fold small parts into bigger ones so that the number of
//! active parts per partition stays small. Inserts only send a note to the workers; they
//! never wait for a merge.

use std::collections::HashMap;
use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam::channel::{unbounded, Receiver, Sender};
use granary_storage::commit::Store;
use granary_storage::merge::{select_merge, MergePolicy};
use granary_storage::table::TableStore;

/// The pool of merge workers of one database.
#[derive(Debug)]
pub struct Merger {
    sender: Option<Sender<Arc<TableStore>>>,
    workers: Vec<JoinHandle<()>>,
}

impl Merger {
    /// Starts `threads` workers that merge tables through `store`.
    pub fn start(store: Arc<Store>, threads: usize) -> Merger {
        let (sender, receiver) = unbounded();
        let workers = (0..threads.max(1))
            .map(|i| {
                let (store, receiver) = (store.clone(), receiver.clone());
                std::thread::Builder::new().name(format!("granary-merge-{i}")).spawn(move || work(&store, &receiver)).expect("spawn merge worker")
            })
            .collect();
        Merger { sender: Some(sender), workers }
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

fn work(store: &Store, receiver: &Receiver<Arc<TableStore>>) {
    while let Ok(first) = receiver.recv() {
        // Many inserts into one table need one round of merging, not one each.
        let mut tables = HashMap::new();
        tables.insert(first.id.clone(), first);
        for table in receiver.try_iter() {
            tables.insert(table.id.clone(), table);
        }
        for table in tables.into_values() {
            if let Err(e) = merge_table(store, &table, &MergePolicy::default(), false) {
                tracing::warn!("merge of table {} failed: {e}", table.id);
            }
        }
    }
}

/// Merges a table's parts until the policy selects no more; with `whole_partition` every
/// partition ends as one part (up to the policy's size cap). Returns the merges run.
pub fn merge_table(store: &Store, table: &Arc<TableStore>, policy: &MergePolicy, whole_partition: bool) -> granary_storage::Result<usize> {
    let _guard = table.merge_guard();
    let mut merges = 0;
    while let Some(parts) = select_merge(&table.snapshot(), policy, whole_partition) {
        let merged = table.merge_parts(&parts)?;
        let names = parts.iter().map(|p| p.name.clone()).collect();
        store.commit(merged.into_iter().collect(), vec![(table.clone(), names)])?;
        merges += 1;
    }
    Ok(merges)
}
