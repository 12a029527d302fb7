//! The process-wide threads that sort and write COPY blocks as uncommitted parts, one per
//! core. Every COPY hands its parsed blocks to the same threads, so the blocks held in
//! memory are bounded by the cores (being written) plus one per COPY (being parsed), not
//! by the number of COPYs running: two COPYs with two writers each held six 1M-row blocks
//! at once, and the first touch of that memory cost a fresh server seconds of system time.

use std::sync::atomic::{AtomicBool, Ordering};
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, OnceLock};

use crossbeam::channel::{bounded, unbounded, Receiver, Sender};
use granary_query::error::bail;
use granary_query::{ErrorKind, QueryError, Result};
use granary_storage::table::NewPart;
use granary_storage::Block;

use crate::database::{Database, TableEntry};
use crate::insert;

/// A block to write, with where its parts go.
struct Job {
    db: Arc<Database>,
    entry: TableEntry,
    block: Block,
    /// Set once the COPY failed or was abandoned: its later blocks are not written.
    stop: Arc<AtomicBool>,
    done: Sender<Result<Vec<NewPart>>>,
}

/// The pool's job queue: a rendezvous channel, so a block waits for a free thread in the
/// sender's hands, never in a queue.
fn pool() -> &'static Sender<Job> {
    static POOL: OnceLock<Sender<Job>> = OnceLock::new();
    POOL.get_or_init(|| {
        let (sender, receiver) = bounded::<Job>(0);
        for _ in 0..granary_query::exec::cores() {
            let receiver = receiver.clone();
            std::thread::Builder::new()
                .name("granary-copy-writer".into())
                .spawn(move || {
                    for job in receiver {
                        let written = if job.stop.load(Ordering::Relaxed) {
                            Ok(Vec::new())
                        } else {
                            std::panic::catch_unwind(AssertUnwindSafe(|| insert::write_block(&job.db, &job.entry, &job.block)))
                                .unwrap_or_else(|_| Err(QueryError::new(ErrorKind::Internal, "a COPY writer thread panicked")))
                        };
                        if written.is_err() {
                            job.stop.store(true, Ordering::Relaxed);
                        }
                        // A COPY that is gone drops the parts here, which removes them.
                        let _ = job.done.send(written);
                    }
                })
                .expect("spawn a COPY writer thread");
        }
        sender
    })
}

/// One COPY's blocks on their way through the pool, and the parts they became.
pub(crate) struct Writer {
    db: Arc<Database>,
    entry: TableEntry,
    /// Only one block at a time is written where the order in which blocks become parts
    /// matters (part numbers follow write order): any engine but a plain MergeTree, or a
    /// table with views. The next block still parses while one is written.
    ordered: bool,
    stop: Arc<AtomicBool>,
    done: Sender<Result<Vec<NewPart>>>,
    results: Receiver<Result<Vec<NewPart>>>,
    /// Blocks handed over whose result has not been received.
    pending: usize,
    parts: Vec<NewPart>,
    error: Option<QueryError>,
}

impl Writer {
    /// A writer for a COPY into `entry`.
    pub(crate) fn new(db: Arc<Database>, entry: TableEntry) -> Writer {
        let ordered = entry.def.engine != "MergeTree" || !db.views_over(&entry.def.database, &entry.def.name).is_empty();
        let (done, results) = unbounded();
        Writer { db, entry, ordered, stop: Arc::new(AtomicBool::new(false)), done, results, pending: 0, parts: Vec::new(), error: None }
    }

    /// Hands a block to the pool, waiting for a free thread (and, when ordered, for the
    /// block before); fails with a write's own error if one has failed.
    pub(crate) fn send(&mut self, block: Block) -> Result<()> {
        while self.ordered && self.pending > 0 {
            self.receive_one();
        }
        while let Ok(result) = self.results.try_recv() {
            self.record(result);
        }
        if self.error.is_none() {
            let job = Job { db: self.db.clone(), entry: self.entry.clone(), block, stop: self.stop.clone(), done: self.done.clone() };
            if pool().send(job).is_err() {
                bail!(Internal, "the COPY writer threads are gone");
            }
            self.pending += 1;
            return Ok(());
        }
        self.finish().map(|_| ())
    }

    /// Waits for every block to be written; returns their parts, still uncommitted, or the
    /// first error (the other parts are then dropped, so removed).
    pub(crate) fn finish(&mut self) -> Result<Vec<NewPart>> {
        while self.pending > 0 {
            self.receive_one();
        }
        match self.error.take() {
            Some(e) => {
                self.parts.clear();
                Err(e)
            }
            None => Ok(std::mem::take(&mut self.parts)),
        }
    }

    /// Waits for the result of one block handed over.
    fn receive_one(&mut self) {
        let result = self.results.recv().expect("the writer holds a sender");
        self.record(result);
    }

    /// Keeps a written block's parts, or the first error.
    fn record(&mut self, result: Result<Vec<NewPart>>) {
        self.pending -= 1;
        match result {
            Ok(parts) => self.parts.extend(parts),
            Err(e) => {
                self.error.get_or_insert(e);
            }
        }
    }
}

impl Drop for Writer {
    /// An unfinished COPY: its blocks not yet written are skipped, and the parts of those
    /// being written are removed when their results find no one to take them.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
