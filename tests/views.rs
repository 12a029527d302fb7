//! Materialized views: the behaviour schema (`tests/schema/user_behaviors.sql`) runs verbatim,
//! its rollups are exact however the rows arrive, and views with `TO`, `POPULATE`, chains and
//! failing inserts behave as a user expects.

use granary_engine::{Database, ErrorKind, Output, Session, Value};

fn rows(s: &mut Session, sql: &str) -> Vec<Vec<Value>> {
    let mut out = s.execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let Some(Output::Rows { blocks, .. }) = out.pop() else { panic!("{sql} returned no rows") };
    blocks.iter().flat_map(|b| (0..b.rows()).map(move |r| b.columns.iter().map(|c| c.value(r)).collect::<Vec<_>>())).collect()
}

fn uint(s: &mut Session, sql: &str) -> u64 {
    match rows(s, sql).as_slice() {
        [row] => match row.as_slice() {
            [Value::UInt(n)] => *n,
            other => panic!("{sql}: {other:?}"),
        },
        other => panic!("{sql}: {other:?}"),
    }
}

const ACTIONS: [&str; 4] = ["impression", "impression", "click", "order"];

/// 2,000 events of 300 users within one hour, as 50 INSERTs of 40 rows; returns the
/// distinct users, and the (impressions, clicks, orders) counts.
fn load_one_hour(s: &mut Session) -> (usize, [u64; 3]) {
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut users = std::collections::HashSet::new();
    let mut counts = [0u64; 3];
    for insert in 0..50 {
        let mut values = Vec::new();
        for i in 0..40 {
            let n = insert * 40 + i;
            let user = next() % 300;
            let action = ACTIONS[(next() % 4) as usize];
            users.insert(user);
            match action {
                "impression" => counts[0] += 1,
                "click" => counts[1] += 1,
                _ => counts[2] += 1,
            }
            let item = next() % 7;
            let completion = (next() % 1000) as f64 / 1000.0;
            values.push(format!(
                "('e{n}', 't01', 'feed', 'u{user}', 'i{item}', '{action}', ['ios'], ['iOS 17'], ['Beijing'], ['10.0.0.1'], '{{}}', {}, {completion}, '', '', '2026-11-20 10:{:02}:{:02}.250', '2026-11-20')",
                n % 60,
                n % 60,
                i
            ));
        }
        s.execute(&format!("INSERT INTO user_behaviors VALUES {}", values.join(", "))).unwrap();
    }
    (users.len(), counts)
}

#[test]
fn the_schema_runs_verbatim_and_its_rollups_stay_exact_over_fifty_inserts() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path()).unwrap();
    let mut s = db.session();
    s.execute(include_str!("schema/user_behaviors.sql")).unwrap();
    // Keep the rollup's parts apart, so reads must fold them.
    s.execute("SYSTEM STOP MERGES").unwrap();
    let (users, [impressions, clicks, orders]) = load_one_hour(&mut s);
    assert!(users > 250, "{users} users");
    let raw_users = uint(&mut s, "SELECT uniqExact(user_id) FROM user_behaviors WHERE toStartOfHour(timestamp) = '2026-11-20 10:00:00'");
    assert_eq!(raw_users, users as u64);
    let parts = uint(&mut s, "SELECT count() FROM system.parts WHERE table = '.inner.metrics_hourly'");
    assert!(parts >= 25, "{parts} parts of the rollup");
    let want = vec![vec![Value::UInt(raw_users), Value::UInt(impressions), Value::UInt(clicks), Value::UInt(orders)]];
    let check = |s: &mut Session| {
        for sql in [
            "SELECT active_users, impressions, clicks, conversions FROM metrics_hourly",
            "SELECT active_users, impressions, clicks, conversions FROM metrics_hourly FINAL",
            "SELECT uniqExact(active_users), sum(impressions), sum(clicks), sum(conversions) FROM metrics_hourly WHERE tenant_id = 't01'",
        ] {
            assert_eq!(rows(s, sql), want, "{sql}");
        }
        // Per item: sums add up, and the average is the average of the raw rows.
        let rollup = rows(s, "SELECT item_id, impressions, total_watch_duration, avg_completion_rate FROM item_stats_daily ORDER BY item_id");
        let raw = rows(s, "SELECT item_id, countIf(action_type = 'impression'), sum(watch_duration), avg(completion_rate) FROM user_behaviors GROUP BY item_id ORDER BY item_id");
        assert_eq!(rollup.len(), 7);
        for (a, b) in rollup.iter().zip(&raw) {
            assert_eq!(a[..3], b[..3]);
            let (Value::Float(x), Value::Float(y)) = (&a[3], &b[3]) else { panic!("{a:?} {b:?}") };
            assert!((x - y).abs() < 1e-9, "{a:?} vs {b:?}");
        }
    };
    check(&mut s);
    s.execute("OPTIMIZE TABLE metrics_hourly FINAL").unwrap();
    s.execute("OPTIMIZE TABLE item_stats_daily FINAL").unwrap();
    assert_eq!(uint(&mut s, "SELECT count() FROM system.parts WHERE table = '.inner.metrics_hourly'"), 1);
    check(&mut s);
    drop(s);
    drop(db);
    let db = Database::open(dir.path()).unwrap();
    let mut s = db.session();
    check(&mut s);
    let tables = rows(&mut s, "SELECT name, engine FROM system.tables WHERE name NOT LIKE '.inner%' ORDER BY name");
    let names: Vec<Value> = tables.iter().map(|r| r[1].clone()).collect();
    assert_eq!(names, ["MaterializedView", "MaterializedView", "MergeTree"].map(|e| Value::String(e.into())));
}

#[test]
fn views_with_to_populate_chains_and_failures() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path()).unwrap();
    let mut s = db.session();
    s.execute("CREATE TABLE src (k UInt32, v UInt32) ENGINE = MergeTree ORDER BY k").unwrap();
    s.execute("INSERT INTO src VALUES (1, 10), (2, 20)").unwrap();
    s.execute("CREATE TABLE per_key (k UInt32, c UInt64, ignored String) ENGINE = SummingMergeTree ORDER BY k").unwrap();
    s.execute("CREATE MATERIALIZED VIEW counts TO per_key AS SELECT k, count() AS c FROM src GROUP BY k").unwrap();
    s.execute("CREATE MATERIALIZED VIEW sums ENGINE = SummingMergeTree ORDER BY k POPULATE AS SELECT k, sum(v) AS s FROM src GROUP BY k").unwrap();
    // A view over a view: reads what goes into `sums`.
    s.execute("CREATE MATERIALIZED VIEW grand ENGINE = SummingMergeTree ORDER BY one AS SELECT 1 AS one, sum(s) AS total FROM sums GROUP BY one").unwrap();
    s.execute("INSERT INTO src VALUES (1, 5), (3, 30), (3, 1)").unwrap();
    // Without POPULATE a view sees only inserts made after it.
    assert_eq!(rows(&mut s, "SELECT k, sum(c) FROM per_key GROUP BY k ORDER BY k"), [[1, 1], [3, 2]].map(|r| r.map(Value::UInt).to_vec()));
    // POPULATE took the two rows that were there before.
    assert_eq!(rows(&mut s, "SELECT k, sum(s) FROM sums GROUP BY k ORDER BY k"), [[1, 15], [2, 20], [3, 31]].map(|r| r.map(Value::UInt).to_vec()));
    assert_eq!(uint(&mut s, "SELECT sum(total) FROM grand"), 36);
    // A view that fails aborts the whole insert: no source row and no rollup row.
    s.execute("CREATE MATERIALIZED VIEW fragile ENGINE = MergeTree ORDER BY k AS SELECT k, 100 % v AS r FROM src").unwrap();
    let err = s.execute("INSERT INTO src VALUES (9, 1), (9, 0)").unwrap_err();
    assert_eq!(err.kind, ErrorKind::DivisionByZero, "{err}");
    assert_eq!(uint(&mut s, "SELECT count() FROM src"), 5);
    assert_eq!(uint(&mut s, "SELECT sum(c) FROM per_key"), 3);
    assert_eq!(uint(&mut s, "SELECT count() FROM fragile"), 0);
    for (sql, kind) in [
        ("CREATE MATERIALIZED VIEW counts TO per_key AS SELECT k, count() AS c FROM src GROUP BY k", ErrorKind::DuplicateTable),
        ("CREATE MATERIALIZED VIEW x TO nowhere AS SELECT k FROM src", ErrorKind::UndefinedTable),
        ("CREATE MATERIALIZED VIEW x ENGINE = MergeTree ORDER BY k AS SELECT k FROM nothing", ErrorKind::UndefinedTable),
        ("CREATE MATERIALIZED VIEW x TO per_key AS SELECT v AS other FROM src", ErrorKind::UndefinedColumn),
    ] {
        assert_eq!(s.execute(sql).unwrap_err().kind, kind, "{sql}");
    }
    s.execute("CREATE MATERIALIZED VIEW IF NOT EXISTS counts TO per_key AS SELECT k FROM src").unwrap();
    s.execute("DROP VIEW fragile").unwrap();
    s.execute("DROP TABLE grand").unwrap();
    let tables: Vec<Vec<Value>> = rows(&mut s, "SHOW TABLES");
    let names: Vec<Value> = tables.iter().map(|r| r[0].clone()).collect();
    assert_eq!(names, [".inner.sums", "counts", "per_key", "src", "sums"].map(|n| Value::String(n.into())));
    s.execute("INSERT INTO src VALUES (2, 2)").unwrap();
    assert_eq!(uint(&mut s, "SELECT sum(s) FROM sums WHERE k = 2"), 22);
    assert_eq!(s.execute("DROP VIEW fragile").unwrap_err().kind, ErrorKind::UndefinedTable);
    s.execute("DROP VIEW IF EXISTS fragile").unwrap();
}

#[test]
fn plain_views_persist_and_read_the_current_rows() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = Database::open(dir.path()).unwrap();
        let mut s = db.session();
        s.execute("CREATE TABLE src (k UInt32, v UInt32) ENGINE = MergeTree ORDER BY k").unwrap();
        s.execute("CREATE VIEW heavy AS SELECT k, sum(v) AS total FROM src GROUP BY k HAVING total > 5").unwrap();
        s.execute("INSERT INTO src VALUES (1, 10), (2, 1), (2, 2)").unwrap();
        assert_eq!(uint(&mut s, "SELECT count() FROM heavy"), 1);
        assert_eq!(s.execute("CREATE VIEW broken AS SELECT x FROM nowhere").unwrap_err().kind, ErrorKind::UndefinedTable);
        assert_eq!(s.execute("CREATE TABLE heavy (x UInt8) ENGINE = MergeTree ORDER BY x").unwrap_err().kind, ErrorKind::DuplicateTable);
    }
    let db = Database::open(dir.path()).unwrap();
    let mut s = db.session();
    s.execute("INSERT INTO src VALUES (2, 7)").unwrap();
    assert_eq!(rows(&mut s, "SELECT k, total FROM heavy ORDER BY k"), [[1, 10], [2, 10]].map(|r| r.map(Value::UInt).to_vec()));
    assert_eq!(rows(&mut s, "SELECT engine FROM system.tables WHERE name = 'heavy'"), vec![vec![Value::String("View".into())]]);
    s.execute("DROP TABLE heavy").unwrap();
    assert_eq!(s.execute("SELECT * FROM heavy").unwrap_err().kind, ErrorKind::UndefinedTable);
}
