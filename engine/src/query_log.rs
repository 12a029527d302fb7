//! The query log: one entry per statement a session ran, kept in memory (the most recent
//! `CAPACITY` of them) and read as `system.query_log`. Sessions record every statement,
//! embedded or over the wire, when it finishes, whether it succeeded or not. A statement
//! whose text holds a password is logged with the password hidden.

use std::collections::VecDeque;
use std::sync::Mutex;

/// Entries kept; older ones are forgotten first.
const CAPACITY: usize = 10_000;

/// Bytes of a statement's text kept in its entry.
const MAX_QUERY_TEXT: usize = 64 << 10;

/// What one statement did.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryLogEntry {
    /// A random UUID naming the statement.
    pub query_id: String,
    /// When it finished (Unix seconds).
    pub event_time: u64,
    /// The session's user.
    pub user: String,
    /// The statement's text (its script's, for a script of several statements).
    pub query: String,
    /// `Select`, `Insert`, `Create`, `Drop`, `Alter`, `Set`, `System` or `Other`.
    pub query_kind: &'static str,
    /// How long it ran, in milliseconds.
    pub duration_ms: u64,
    /// Rows of the granules its scans selected.
    pub read_rows: u64,
    /// Granules its scans selected.
    pub read_granules: u64,
    /// Rows it returned.
    pub result_rows: u64,
    /// Rows it inserted.
    pub written_rows: u64,
    /// The error kind (`Syntax`, `UndefinedTable`…); empty when it succeeded.
    pub error_kind: String,
    /// The error message; empty when it succeeded.
    pub exception: String,
}

/// The most recent statements of a database.
#[derive(Debug, Default)]
pub struct QueryLog {
    entries: Mutex<VecDeque<QueryLogEntry>>,
}

impl QueryLog {
    /// Adds a finished statement, forgetting the oldest past `CAPACITY`.
    pub(crate) fn record(&self, mut entry: QueryLogEntry) {
        if entry.query.len() > MAX_QUERY_TEXT {
            let end = (0..=MAX_QUERY_TEXT).rev().find(|&i| entry.query.is_char_boundary(i)).unwrap_or(0);
            entry.query.truncate(end);
        }
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() == CAPACITY {
            entries.pop_front();
        }
        entries.push_back(entry);
    }

    /// The entries kept, oldest first.
    pub fn entries(&self) -> Vec<QueryLogEntry> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).iter().cloned().collect()
    }
}
