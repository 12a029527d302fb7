//! What the database counts about its own work, for a monitoring system to scrape:
//! statements by kind, errors by kind, a latency histogram, rows and bytes inserted, merges
//! done. Counters only grow while the database is open; they start at zero on open.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds, in seconds, of the latency histogram's buckets (the last one is +Inf).
pub const LATENCY_BUCKETS: [f64; 10] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 2.5, 10.0];

/// The counters of one database.
#[derive(Debug, Default)]
pub struct Stats {
    statements: Mutex<Statements>,
    rows_inserted: AtomicU64,
    bytes_inserted: AtomicU64,
    merges: AtomicU64,
}

/// Statement counters, updated together under one lock.
#[derive(Debug, Default, Clone)]
struct Statements {
    by_kind: BTreeMap<&'static str, u64>,
    errors: BTreeMap<String, u64>,
    /// Per bucket of `LATENCY_BUCKETS`, then +Inf: statements that took at most that long.
    latency: [u64; LATENCY_BUCKETS.len() + 1],
    latency_sum: f64,
}

/// A consistent copy of the counters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatsSnapshot {
    /// Statements run, by kind (`Select`, `Insert`, `Create`…).
    pub statements: BTreeMap<&'static str, u64>,
    /// Statements that failed, by error kind (`Syntax`, `UndefinedTable`…).
    pub errors: BTreeMap<String, u64>,
    /// Cumulative counts of statements at or under each bound of `LATENCY_BUCKETS`, then all.
    pub latency_buckets: Vec<u64>,
    /// Seconds spent in all statements.
    pub latency_sum: f64,
    /// Rows committed by inserts (materialized views' rows not counted).
    pub rows_inserted: u64,
    /// Uncompressed bytes of those rows.
    pub bytes_inserted: u64,
    /// Merges committed, in the background or by `OPTIMIZE`.
    pub merges: u64,
}

impl Stats {
    /// Counts one statement of `kind` that ran for `elapsed` and failed with `error`, if any.
    pub(crate) fn statement(&self, kind: &'static str, elapsed: Duration, error: Option<String>) {
        let seconds = elapsed.as_secs_f64();
        let bucket = LATENCY_BUCKETS.iter().position(|&b| seconds <= b).unwrap_or(LATENCY_BUCKETS.len());
        let mut s = self.statements.lock().unwrap_or_else(|p| p.into_inner());
        *s.by_kind.entry(kind).or_default() += 1;
        if let Some(error) = error {
            *s.errors.entry(error).or_default() += 1;
        }
        s.latency[bucket] += 1;
        s.latency_sum += seconds;
    }

    /// Counts rows committed by an insert and their uncompressed bytes.
    pub(crate) fn inserted(&self, rows: u64, bytes: u64) {
        self.rows_inserted.fetch_add(rows, Ordering::Relaxed);
        self.bytes_inserted.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Counts committed merges.
    pub(crate) fn merged(&self, merges: usize) {
        self.merges.fetch_add(merges as u64, Ordering::Relaxed);
    }

    /// The counters now.
    pub fn snapshot(&self) -> StatsSnapshot {
        let s = self.statements.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let latency_buckets = s.latency.iter().scan(0, |total, n| {
            *total += n;
            Some(*total)
        });
        StatsSnapshot {
            statements: s.by_kind,
            errors: s.errors,
            latency_buckets: latency_buckets.collect(),
            latency_sum: s.latency_sum,
            rows_inserted: self.rows_inserted.load(Ordering::Relaxed),
            bytes_inserted: self.bytes_inserted.load(Ordering::Relaxed),
            merges: self.merges.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_buckets_are_cumulative() {
        let stats = Stats::default();
        stats.statement("Select", Duration::from_micros(500), None);
        stats.statement("Select", Duration::from_millis(30), Some("Syntax".into()));
        stats.statement("Insert", Duration::from_secs(60), None);
        let s = stats.snapshot();
        assert_eq!(s.statements.get("Select"), Some(&2));
        assert_eq!(s.errors.get("Syntax"), Some(&1));
        assert_eq!(s.latency_buckets, [1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 3]);
    }
}
