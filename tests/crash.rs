//! Crash safety: a child process inserts in a loop (while background merges run) and is
//! killed with SIGKILL at a random moment. After reopening, every acknowledged insert is
//! there, whole, and at most the one insert in flight appears besides them (also whole); the
//! materialized view over the table holds exactly the rollup of the rows that are there.
//!
//! The child is this test binary run again with `GRANARY_CRASH_CHILD` set; it prints
//! `ack N` after insert N returns.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use granary_engine::{Database, Output, Value};

const ROWS_PER_INSERT: u64 = 10;

fn values(db: &std::sync::Arc<Database>, sql: &str) -> Vec<Vec<Value>> {
    let mut out = db.session().execute(sql).unwrap();
    let Some(Output::Rows { blocks, .. }) = out.pop() else { panic!("{sql} returned no rows") };
    blocks.iter().flat_map(|b| (0..b.rows()).map(move |r| b.columns.iter().map(|c| c.value(r)).collect())).collect()
}

/// The child's loop: never returns on its own; the parent kills it.
#[test]
fn crash_child() {
    let Some(dir) = std::env::var_os("GRANARY_CRASH_CHILD") else { return };
    let db = Database::open(&dir).unwrap();
    let mut s = db.session();
    s.execute(
        "CREATE TABLE IF NOT EXISTS t (k UInt64, v UInt64, p UInt8, s String) ENGINE = MergeTree PARTITION BY p ORDER BY k SETTINGS index_granularity = 4",
    )
    .unwrap();
    s.execute(
        "CREATE MATERIALIZED VIEW IF NOT EXISTS t_rollup ENGINE = SummingMergeTree ORDER BY p \
         AS SELECT p, count() AS c, sum(k) AS sk, uniqExact(v) AS inserts FROM t GROUP BY p",
    )
    .unwrap();
    let next = match &values(&db, "SELECT count(), max(v) FROM t")[0][..] {
        [Value::UInt(0), _] => 0,
        [_, Value::UInt(max)] => max + 1,
        other => panic!("unexpected {other:?}"),
    };
    for n in next.. {
        // Each insert spans 3 partitions, so it commits 3 parts at once.
        let rows: Vec<String> = (0..ROWS_PER_INSERT).map(|i| format!("({}, {n}, {}, 'row-{n}-{i}')", n * ROWS_PER_INSERT + i, i % 3)).collect();
        s.execute(&format!("INSERT INTO t VALUES {}", rows.join(", "))).unwrap();
        println!("ack {n}");
        if n % 7 == 6 {
            s.execute("OPTIMIZE TABLE t FINAL").unwrap();
        }
    }
}

fn run_and_kill(dir: &std::path::Path, after: Duration) -> Option<u64> {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["crash_child", "--exact", "--nocapture", "--test-threads=1"])
        .env("GRANARY_CRASH_CHILD", dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(n) = line.strip_prefix("ack ") {
                let _ = tx.send(n.trim().parse::<u64>().unwrap());
            }
        }
    });
    // Wait for the first acknowledgement, so each round gets past opening the database.
    let mut last = rx.recv_timeout(Duration::from_secs(60)).ok();
    let deadline = Instant::now() + after;
    while let Ok(n) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        last = Some(n);
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    reader.join().unwrap();
    last.into_iter().chain(rx.try_iter()).max()
}

fn verify(dir: &std::path::Path, acked: u64) -> u64 {
    let db = Database::open(dir).unwrap();
    assert!(db.broken_parts().is_empty(), "{:?}", db.broken_parts());
    // Every insert present is whole, and they are exactly 0..=max with no gap.
    let partial = values(&db, &format!("SELECT v, count() FROM t GROUP BY v HAVING count() != {ROWS_PER_INSERT}"));
    assert!(partial.is_empty(), "inserts with missing rows: {partial:?}");
    let [Value::UInt(rows), Value::UInt(inserts), max, Value::UInt(sum_k)] = &values(&db, "SELECT count(), uniqExact(v), max(v), sum(k) FROM t")[0][..] else { panic!() };
    let max = match max {
        Value::UInt(m) if *inserts > 0 => *m,
        _ => 0,
    };
    assert_eq!(*inserts, if *rows == 0 { 0 } else { max + 1 }, "a gap in the inserts");
    assert!(max == acked || max == acked + 1, "acknowledged up to {acked}, found up to {max}");
    let n = rows;
    assert_eq!(*sum_k, n * (n - 1) / 2, "per-row signature");
    let strings = values(&db, "SELECT count() FROM t WHERE s LIKE 'row-%'");
    assert_eq!(strings, vec![vec![Value::UInt(*rows)]]);
    // The view's rows were committed with the source rows: never one without the other.
    let raw = values(&db, "SELECT p, count(), sum(k), uniqExact(v) FROM t GROUP BY p ORDER BY p");
    let rollup = values(&db, "SELECT p, c, sk, inserts FROM t_rollup ORDER BY p");
    assert_eq!(rollup, raw, "rollup against raw rows");
    max
}

fn crash_rounds(rounds: u32) {
    let dir = tempfile::tempdir().unwrap();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut acked: Option<u64> = None;
    for round in 0..rounds {
        // xorshift: kill after 5..120 ms of inserting, a different moment each round.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let after = Duration::from_millis(5 + seed % 115);
        let last = run_and_kill(dir.path(), after);
        acked = last.or(acked);
        let Some(acked) = acked else { continue };
        let found = verify(dir.path(), acked);
        assert!(found >= acked, "round {round}");
    }
    assert!(acked.is_some_and(|a| a > rounds as u64), "the child made progress: {acked:?}");
}

#[test]
fn sigkill_during_inserts_and_merges_loses_no_acknowledged_row() {
    crash_rounds(50);
}

#[test]
#[ignore = "long: cargo test --test crash -- --ignored"]
fn sigkill_many_times() {
    crash_rounds(500);
}
