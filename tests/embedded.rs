//! The embedded API end to end: typed results, durability across reopen, atomic inserts,
//! and pruning that reads only the granules a filter needs.

mod common;

use common::{fresh, rows};
use granary_engine::{Database, DataType, ErrorKind, Output, Session, Value};

fn stats(session: &mut Session, sql: &str) -> granary_engine::ScanStats {
    match session.execute(sql).unwrap().pop() {
        Some(Output::Rows { stats, .. }) => stats,
        _ => panic!("no rows"),
    }
}

#[test]
fn typed_results_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = Database::open(dir.path()).unwrap();
        let mut s = db.session();
        s.execute(
            "CREATE TABLE hits (d Date, user_id UInt64, url String, ts DateTime64(3), price Float64, ok Bool)
             ENGINE = MergeTree PARTITION BY toYYYYMM(d) ORDER BY (d, user_id);
             INSERT INTO hits VALUES ('2026-01-01', 42, '/a', '2026-01-01 10:00:00.250', 9.5, true), ('2026-02-03', 43, '/b', '2026-02-03 11:00:00', 1.25, false);
             INSERT INTO hits VALUES ('2026-01-02', 42, '/a', '2026-01-02 00:00:00', 0.25, true)",
        )
        .unwrap();
    }
    let db = Database::open(dir.path()).unwrap();
    let mut s = db.session();
    let out = s.execute("SELECT url, count() AS c, sum(price), max(ts), min(ok) FROM hits GROUP BY url ORDER BY c DESC").unwrap();
    let Output::Rows { fields, .. } = &out[0] else { panic!() };
    let types: Vec<DataType> = fields.iter().map(|f| f.ty.clone()).collect();
    assert_eq!(types, [DataType::String, DataType::UInt64, DataType::Float64, DataType::DateTime64(3), DataType::Bool]);
    let r = rows(&mut s, "SELECT url, count() AS c, sum(price), max(ts), min(ok) FROM hits GROUP BY url ORDER BY c DESC");
    let max_ts = granary_engine::time::parse_datetime("2026-01-02 00:00:00", 3).unwrap();
    assert_eq!(r[0], vec![Value::String("/a".into()), Value::UInt(2), Value::Float(9.75), Value::Int(max_ts), Value::Bool(true)]);
    assert_eq!(r[1][0], Value::String("/b".into()));
    assert_eq!(rows(&mut s, "SHOW TABLES"), vec![vec![Value::String("hits".into())]]);
}

#[test]
fn where_conditions_run_first_and_other_columns_are_read_for_surviving_rows_only() {
    let (_dir, _db, mut s) = fresh();
    s.execute("CREATE TABLE e (k UInt64, tag String, a UInt64, b String, c Float64) ENGINE = MergeTree ORDER BY k SETTINGS index_granularity = 100").unwrap();
    // One part of 100 granules; the tag 'needle' is in two rows, of granules 50 and 77.
    let values: Vec<String> = (0..10_000).map(|i| format!("({i}, '{}', {}, 'b{i}', {i}.5)", if i == 5050 || i == 7777 { "needle" } else { "hay" }, i * 2)).collect();
    s.execute(&format!("INSERT INTO e VALUES {}", values.join(", "))).unwrap();
    let sql = "SELECT * FROM e WHERE tag = 'needle' ORDER BY k";
    let st = stats(&mut s, sql);
    assert_eq!((st.granules_selected, st.rows_read), (100, 10_000), "every granule is selected: tag is no key");
    // tag for all 100 granules, the four other columns for the two granules with a match.
    assert_eq!(st.column_granules_read, 100 + 2 * 4);
    let found = rows(&mut s, sql);
    assert_eq!(found.iter().map(|r| r[0].clone()).collect::<Vec<_>>(), [Value::UInt(5050), Value::UInt(7777)]);
    assert_eq!(found[1], vec![Value::UInt(7777), Value::String("needle".into()), Value::UInt(15554), Value::String("b7777".into()), Value::Float(7777.5)]);
    // Without a condition every column of every selected granule is decoded.
    assert_eq!(stats(&mut s, "SELECT * FROM e WHERE k < 1000").column_granules_read, 10 * 5);
    // The cheaper condition (on a number) runs first; the string comparison only on its rows.
    let explain = rows(&mut s, "EXPLAIN SELECT k FROM e WHERE b = 'b5050' AND a < 10200");
    let lines: Vec<String> = explain.into_iter().map(|r| match &r[0] { Value::String(l) => l.clone(), other => panic!("{other:?}") }).collect();
    let steps: Vec<&str> = lines.iter().filter(|l| l.contains("Prewhere") || l.contains("surviving")).map(String::as_str).collect();
    assert_eq!(steps, ["  Prewhere step 1: reads a, filters", "  Prewhere step 2: reads b, filters", "  Then reads, of the surviving rows only: k"]);
    let st = stats(&mut s, "SELECT k FROM e WHERE b = 'b5050' AND a < 10200");
    assert_eq!(st.column_granules_read, 100 + 51 + 1, "a everywhere, b where a < 10200, k where both hold");
    // An explicit PREWHERE runs first, whatever it costs.
    let explain = rows(&mut s, "EXPLAIN SELECT k FROM e PREWHERE b = 'b5050' WHERE a < 10200");
    assert!(explain.contains(&vec![Value::String("  Prewhere step 1: reads b, filters".into())]), "{explain:?}");
    assert_eq!(rows(&mut s, "SELECT k FROM e PREWHERE b = 'b5050' WHERE a < 10200"), vec![vec![Value::UInt(5050)]]);
}

#[test]
fn order_by_limit_reads_the_other_columns_of_the_chosen_rows_only() {
    let (_dir, _db, mut s) = fresh();
    s.execute("CREATE TABLE e (k UInt64, tag String, a UInt64, b String, c Float64) ENGINE = MergeTree ORDER BY k SETTINGS index_granularity = 100").unwrap();
    let values: Vec<String> = (0..10_000).map(|i| format!("({i}, '{}', {}, 'b{i}', {i}.5)", if i % 3 == 0 { "hay" } else { "straw" }, (i * 7919) % 10_000)).collect();
    s.execute(&format!("INSERT INTO e VALUES {}", values.join(", "))).unwrap();
    // a = 7919 k mod 10000 is a permutation: its three largest among the 'hay' rows (k a
    // multiple of 3) are 9997 (k 6963), 9995 (k 1605) and 9992 (k 8568), in granules 69, 16, 85.
    let sql = "SELECT * FROM e WHERE tag = 'hay' ORDER BY a DESC LIMIT 3";
    let explain = rows(&mut s, &format!("EXPLAIN {sql}"));
    let line = Value::String("  Top 3 rows chosen on: tag, a; the other columns read for those rows only".into());
    assert!(explain.contains(&vec![line]), "{explain:?}");
    let found = rows(&mut s, sql);
    assert_eq!(found.iter().map(|r| r[0].clone()).collect::<Vec<_>>(), [Value::UInt(6963), Value::UInt(1605), Value::UInt(8568)]);
    assert_eq!(found[2], vec![Value::UInt(8568), Value::String("hay".into()), Value::UInt(9992), Value::String("b8568".into()), Value::Float(8568.5)]);
    // First tag and a of all 100 granules, then the five columns of the three granules chosen.
    assert_eq!(stats(&mut s, sql).column_granules_read, 100 + 100 + 3 * 5);
    // With OFFSET the rows skipped are chosen too; past the bound every row is read.
    assert_eq!(rows(&mut s, "SELECT k FROM e WHERE tag = 'hay' ORDER BY a DESC LIMIT 1 OFFSET 2"), vec![vec![Value::UInt(8568)]]);
    assert_eq!(stats(&mut s, "SELECT * FROM e WHERE tag = 'hay' ORDER BY a DESC LIMIT 20000").column_granules_read, 100 * 5);
}

#[test]
fn a_failed_insert_writes_nothing() {
    let (dir, db, mut s) = fresh();
    s.execute("CREATE TABLE t (d Date, x UInt32) ENGINE = MergeTree PARTITION BY toYYYYMM(d) ORDER BY x").unwrap();
    // The first rows are fine and belong to another partition; the last one is not a date.
    let err = s.execute("INSERT INTO t VALUES ('2026-01-01', 1), ('2026-02-01', 2), ('not a date', 3)").unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidText);
    assert_eq!(rows(&mut s, "SELECT count() FROM t"), vec![vec![Value::UInt(0)]]);
    drop(s);
    drop(db);
    let db = Database::open(dir.path()).unwrap();
    assert_eq!(rows(&mut db.session(), "SELECT count() FROM t"), vec![vec![Value::UInt(0)]]);
    let data_dirs = part_dirs_on_disk(dir.path());
    assert_eq!(data_dirs, 0, "no part directories may be left behind");
}

#[test]
fn selective_key_filters_read_few_granules() {
    let (_dir, _db, mut s) = fresh();
    s.execute("CREATE TABLE e (k UInt64, v String) ENGINE = MergeTree ORDER BY k SETTINGS index_granularity = 100").unwrap();
    for batch in 0..4 {
        let values: Vec<String> = (0..2500).map(|i| format!("({}, 'v{i}')", batch * 2500 + i)).collect();
        s.execute(&format!("INSERT INTO e VALUES {}", values.join(", "))).unwrap();
    }
    // Background merges may fold the four parts together at any time; granules stay 100.
    let all = stats(&mut s, "SELECT count() FROM e");
    assert!((1..=4).contains(&all.parts_total));
    assert_eq!((all.granules_total, all.granules_selected), (100, 100));
    let few = stats(&mut s, "SELECT count(), sum(k) FROM e WHERE k BETWEEN 5000 AND 5150");
    assert_eq!(few.parts_selected, 1);
    assert!(few.granules_selected <= 3, "read {} granules", few.granules_selected);
    assert_eq!(rows(&mut s, "SELECT count(), sum(k) FROM e WHERE k BETWEEN 5000 AND 5150"), vec![vec![Value::UInt(151), Value::UInt((5000..=5150).sum())]]);
    let none = stats(&mut s, "SELECT count() FROM e WHERE k > 1000000");
    assert_eq!(none.granules_selected, 0);
    let explain = rows(&mut s, "EXPLAIN SELECT v FROM e WHERE k = 7777");
    assert!(explain.contains(&vec![Value::String("  Granules: 1/100".into())]), "{explain:?}");
}

#[test]
fn errors_have_kinds_and_the_session_goes_on() {
    use granary_engine::ErrorKind::*;
    let (_dir, _db, mut s) = fresh();
    s.execute("CREATE TABLE t (x UInt8, s String) ENGINE = MergeTree ORDER BY x").unwrap();
    for (sql, kind) in [
        ("SELECT * FROM nope", UndefinedTable),
        ("SELECT y FROM t", UndefinedColumn),
        ("SELECT frobnicate(x) FROM t", UndefinedFunction),
        ("SELECT s + 1 FROM t", DatatypeMismatch),
        ("SELEC 1", Syntax),
        ("CREATE TABLE t (x UInt8) ENGINE = MergeTree ORDER BY x", DuplicateTable),
        ("SELECT x, count() FROM t", Grouping),
    ] {
        assert_eq!(s.execute(sql).unwrap_err().kind, kind, "{sql}");
    }
    assert_eq!(rows(&mut s, "SELECT 1 + 1"), vec![vec![Value::UInt(2)]]);
}

fn part_count(db: &Database, table: &str) -> usize {
    db.table_entry("default", table).unwrap().store.snapshot().parts.len()
}

#[test]
fn background_merges_fold_many_inserts_without_changing_answers() {
    let (dir, db, mut s) = fresh();
    s.execute("CREATE TABLE m (d Date, k UInt32, v Float64) ENGINE = MergeTree PARTITION BY toYYYYMM(d) ORDER BY k SETTINGS index_granularity = 16").unwrap();
    let query = "SELECT toYYYYMM(d) AS p, count(), sum(k), sum(v), uniqExact(k), min(k), max(k) FROM m GROUP BY p ORDER BY p";
    let mut before = Vec::new();
    for i in 0..200u32 {
        let values: Vec<String> = (0..20).map(|j| format!("('2026-0{}-0{}', {}, {}.5)", i % 2 + 1, j % 9 + 1, (i * 37 + j * 11) % 1000, j)).collect();
        s.execute(&format!("INSERT INTO m VALUES {}", values.join(", "))).unwrap();
        if i == 100 {
            before = rows(&mut s, query); // taken while merges run
        }
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while part_count(&db, "m") > 20 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(part_count(&db, "m") <= 20, "{} parts after 200 inserts", part_count(&db, "m"));
    let after = rows(&mut s, query);
    assert_eq!(after.len(), 2);
    assert_eq!(after.iter().map(|r| r[1].clone()).collect::<Vec<_>>(), vec![Value::UInt(2000), Value::UInt(2000)]);
    assert_ne!(before, after);
    s.execute("OPTIMIZE TABLE m FINAL").unwrap();
    assert_eq!(part_count(&db, "m"), 2);
    assert_eq!(rows(&mut s, query), after);
    let keys = rows(&mut s, "SELECT k FROM m WHERE d < '2026-02-01' ORDER BY k LIMIT 3");
    assert_eq!(keys.len(), 3);
    drop(s);
    drop(db);
    let db = Database::open(dir.path()).unwrap();
    assert_eq!(part_count(&db, "m"), 2);
    assert_eq!(rows(&mut db.session(), query), after);
    let parts_on_disk = part_dirs_on_disk(dir.path());
    assert_eq!(parts_on_disk, 2, "retired parts must be deleted");
}

/// Part directories (committed or not) under every table's data directory.
fn part_dirs_on_disk(root: &std::path::Path) -> usize {
    let tables = std::fs::read_dir(root.join("data")).unwrap().flatten().filter(|e| e.path().is_dir());
    tables.map(|t| std::fs::read_dir(t.path()).unwrap().flatten().filter(|p| p.path().is_dir()).count()).sum()
}

#[test]
fn inserts_are_refused_when_parts_pile_up_and_nothing_is_lost() {
    let (_dir, db, mut s) = fresh();
    s.execute("CREATE TABLE tp (k UInt32) ENGINE = MergeTree ORDER BY k SETTINGS parts_to_delay_insert = 3, parts_to_throw_insert = 5").unwrap();
    s.execute("SYSTEM STOP MERGES tp").unwrap();
    for k in 0..5 {
        s.execute(&format!("INSERT INTO tp VALUES ({k})")).unwrap();
    }
    let err = s.execute("INSERT INTO tp VALUES (99)").unwrap_err();
    assert_eq!(err.kind, ErrorKind::LimitExceeded, "{err}");
    assert!(err.message.contains("too many parts (5)"), "{err}");
    assert_eq!(rows(&mut s, "SELECT count(), sum(k) FROM tp"), vec![vec![Value::UInt(5), Value::UInt(10)]]);
    assert_eq!(rows(&mut s, "SELECT count() FROM system.parts WHERE table = 'tp'"), vec![vec![Value::UInt(5)]]);
    // Once merges run again the table takes inserts again.
    s.execute("SYSTEM START MERGES tp").unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while part_count(&db, "tp") > 1 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    s.execute("INSERT INTO tp VALUES (99)").unwrap();
    assert_eq!(rows(&mut s, "SELECT count(), sum(k) FROM tp"), vec![vec![Value::UInt(6), Value::UInt(109)]]);
    assert_eq!(rows(&mut s, "SELECT sum(rows), max(max_block_number) FROM system.parts WHERE table = 'tp'"), vec![vec![Value::UInt(6), Value::Int(6)]]);
}

#[test]
fn check_table_reports_each_part_and_a_damaged_part_is_detached_at_open() {
    let (dir, db, mut s) = fresh();
    s.execute("CREATE TABLE c (k UInt32, s String) ENGINE = MergeTree ORDER BY k").unwrap();
    s.execute("SYSTEM STOP MERGES c").unwrap();
    s.execute("INSERT INTO c VALUES (1, 'a'), (2, 'b')").unwrap();
    s.execute("INSERT INTO c VALUES (3, 'c')").unwrap();
    let ok = vec![Value::UInt(1), Value::String(String::new())];
    let report = rows(&mut s, "CHECK TABLE c");
    assert_eq!(report.iter().map(|r| r[1..].to_vec()).collect::<Vec<_>>(), vec![ok.clone(), ok]);
    // Flip a byte of the second part's data: CHECK TABLE names it, the first part passes.
    let second = db.table_entry("default", "c").unwrap().store.snapshot().parts[1].path.clone();
    let bin = second.join("s.bin");
    let mut bytes = std::fs::read(&bin).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x55;
    std::fs::write(&bin, &bytes).unwrap();
    let report = rows(&mut s, "CHECK TABLE c");
    assert_eq!(report[0][1], Value::UInt(1));
    assert_eq!(report[1][1], Value::UInt(0));
    assert!(matches!(&report[1][2], Value::String(m) if m.contains("checksum mismatch in s.bin")), "{report:?}");
    // A truncated file is found at open: the part moves to detached/ and the rest is served.
    bytes.truncate(last);
    std::fs::write(&bin, &bytes).unwrap();
    drop(s);
    drop(db);
    let db = Database::open(dir.path()).unwrap();
    assert_eq!(db.broken_parts().len(), 1);
    let name = second.file_name().unwrap().to_string_lossy().into_owned();
    assert!(dir.path().join("data").read_dir().unwrap().any(|t| t.unwrap().path().join("detached").join(format!("broken-{name}")).exists()));
    assert_eq!(rows(&mut db.session(), "SELECT count(), sum(k) FROM c"), vec![vec![Value::UInt(2), Value::UInt(3)]]);
}

#[test]
fn functions_that_round_a_key_time_down_prune_granules() {
    let (_dir, _db, mut s) = fresh();
    s.execute("CREATE TABLE ev (ts DateTime, n UInt32) ENGINE = MergeTree ORDER BY ts SETTINGS index_granularity = 60").unwrap();
    // One row a minute for 10 days: 14,400 rows, 240 granules of an hour each.
    let values: Vec<String> = (0..14_400u32).map(|i| format!("({}, {i})", 1_767_225_600 + i * 60)).collect();
    s.execute(&format!("INSERT INTO ev VALUES {}", values.join(", "))).unwrap();
    for (sql, rows_wanted, max_granules) in [
        ("SELECT count(), min(n) FROM ev WHERE toDate(ts) = '2026-01-03'", (1440, 2880), 26),
        ("SELECT count(), min(n) FROM ev WHERE toStartOfHour(ts) = '2026-01-02 05:00:00'", (60, 1740), 3),
        ("SELECT count(), min(n) FROM ev WHERE toDate(ts) >= '2026-01-10'", (1440, 12960), 26),
        ("SELECT count(), min(n) FROM ev WHERE toStartOfHour(ts) < '2026-01-01 02:00:00'", (120, 0), 4),
    ] {
        assert_eq!(rows(&mut s, sql), vec![vec![Value::UInt(rows_wanted.0), Value::UInt(rows_wanted.1)]], "{sql}");
        let st = stats(&mut s, sql);
        assert!(st.granules_selected <= max_granules, "{sql}: read {} of {} granules", st.granules_selected, st.granules_total);
    }
}

#[test]
fn a_thousand_inserts_settle_to_few_parts_with_the_same_answers() {
    // Two merge workers, as on a 4-core machine.
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open_with(dir.path(), granary_engine::Options { merge_threads: Some(2), ..Default::default() }).unwrap();
    let mut s = db.session();
    s.execute("CREATE TABLE big (d Date, k UInt32, v Int64) ENGINE = MergeTree PARTITION BY toYYYYMM(d) ORDER BY k").unwrap();
    let query = "SELECT toYYYYMM(d) AS p, count(), sum(k), sum(v), min(k), max(k) FROM big GROUP BY p ORDER BY p";
    let expected = |inserts: u64| {
        // Insert i writes k = i*1000 .. i*1000+999 into month 1 + i % 2, v = k % 7 - 3.
        let (mut jan, mut feb) = (vec![0u64, 0, 0, u64::MAX, 0], vec![0u64, 0, 0, u64::MAX, 0]);
        let mut sums = [0i64; 2];
        for i in 0..inserts {
            let m = if i % 2 == 0 { &mut jan } else { &mut feb };
            for k in i * 1000..i * 1000 + 1000 {
                m[0] += 1;
                m[1] += k;
                sums[(i % 2) as usize] += (k % 7) as i64 - 3;
                m[3] = m[3].min(k);
                m[4] = m[4].max(k);
            }
        }
        [(202601, jan, sums[0]), (202602, feb, sums[1])]
            .into_iter()
            .map(|(p, m, sum)| vec![Value::UInt(p), Value::UInt(m[0]), Value::UInt(m[1]), Value::Int(sum), Value::UInt(m[3]), Value::UInt(m[4])])
            .collect::<Vec<_>>()
    };
    for i in 0..1000u64 {
        let values: Vec<String> = (i * 1000..i * 1000 + 1000).map(|k| format!("('2026-0{}-15',{k},{})", 1 + i % 2, (k % 7) as i64 - 3)).collect();
        s.execute(&format!("INSERT INTO big VALUES {}", values.join(","))).unwrap();
        if i % 250 == 249 {
            assert_eq!(rows(&mut s, query), expected(i + 1), "during merges, after {} inserts", i + 1);
        }
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let per_partition = |s: &mut Session| rows(s, "SELECT partition, count() FROM system.parts WHERE table = 'big' GROUP BY partition ORDER BY partition");
    while per_partition(&mut s).iter().any(|r| matches!(r[1], Value::UInt(n) if n > 10)) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    for row in per_partition(&mut s) {
        assert!(matches!(row[1], Value::UInt(n) if n <= 10), "parts per partition: {row:?}");
    }
    assert_eq!(rows(&mut s, query), expected(1000), "after merges");
}

#[test]
fn aggregate_states_and_nullable_columns_merge_to_the_answers_of_the_raw_rows() {
    let (dir, db, mut s) = fresh();
    s.execute(
        "CREATE TABLE raw (batch UInt32, k UInt32, v Nullable(UInt64), tag LowCardinality(String)) ENGINE = MergeTree ORDER BY (batch, k);
         CREATE TABLE agg (k UInt32, users AggregateFunction(uniqExact, Nullable(UInt64)), total AggregateFunction(sum, Nullable(UInt64)),
                           mean AggregateFunction(avg, Nullable(UInt64)), peak SimpleAggregateFunction(max, UInt64))
             ENGINE = AggregatingMergeTree ORDER BY k",
    )
    .unwrap();
    // 40 batches, each its own INSERT and so its own part in both tables; every fifth value is NULL.
    for batch in 0..40u64 {
        let values: Vec<String> = (0..50u64)
            .map(|i| {
                let n = batch * 50 + i;
                let v = if n % 5 == 0 { "NULL".to_string() } else { (n * 7919 % 101).to_string() };
                format!("({batch}, {}, {v}, 't{}')", n % 7, n % 3)
            })
            .collect();
        s.execute(&format!("INSERT INTO raw VALUES {}", values.join(", "))).unwrap();
        s.execute(&format!(
            "INSERT INTO agg SELECT k, uniqExactState(v), sumState(v), avgState(v), max(k * 1000 + {batch}) FROM raw WHERE batch = {batch} GROUP BY k"
        ))
        .unwrap();
    }
    let expected = rows(&mut s, "SELECT k, uniqExact(v), sum(v), avg(v), max(k * 1000 + batch) FROM raw GROUP BY k ORDER BY k");
    assert_eq!(expected.len(), 7);
    assert!(expected.iter().all(|r| r[2] != Value::Null), "every key has non-NULL values");
    let merged = "SELECT k, uniqExactMerge(users), sumMerge(total), avgMerge(mean), max(peak) FROM agg GROUP BY k ORDER BY k";
    let folded = "SELECT k, uniqExactMerge(users), sumMerge(total), avgMerge(mean), peak FROM agg FINAL GROUP BY k, peak ORDER BY k";
    assert_eq!(rows(&mut s, merged), expected, "before merges");
    assert_eq!(rows(&mut s, folded), expected, "FINAL");
    s.execute("OPTIMIZE TABLE agg FINAL").unwrap();
    assert_eq!(rows(&mut s, "SELECT count() FROM agg"), vec![vec![Value::UInt(7)]]);
    assert_eq!(rows(&mut s, merged), expected, "after OPTIMIZE");
    // Nullable and LowCardinality columns read back the same after a merge and a reopen.
    let before = rows(&mut s, "SELECT tag, count(), count(v), sum(v) FROM raw GROUP BY tag ORDER BY tag");
    s.execute("OPTIMIZE TABLE raw FINAL").unwrap();
    drop(s);
    drop(db);
    let db = Database::open(dir.path()).unwrap();
    let mut s = db.session();
    assert_eq!(rows(&mut s, "SELECT tag, count(), count(v), sum(v) FROM raw GROUP BY tag ORDER BY tag"), before);
    assert_eq!(rows(&mut s, "SELECT count() FROM raw WHERE v IS NULL"), vec![vec![Value::UInt(400)]]);
    assert_eq!(rows(&mut s, merged), expected, "after reopen");
}

#[test]
fn skip_indexes_prune_granules_of_columns_outside_the_sort_key() {
    let dir = tempfile::tempdir().unwrap();
    let create = "CREATE TABLE v (k UInt32, user String, n UInt32, region String, \
                  INDEX by_user user TYPE bloom_filter GRANULARITY 1, INDEX by_n n TYPE minmax GRANULARITY 2, \
                  INDEX by_region region TYPE set(10) GRANULARITY 1) \
                  ENGINE = MergeTree ORDER BY k SETTINGS index_granularity = 100";
    let user = |i: u32| format!("u{}", (i * 7919) % 5000);
    let wanted_user = (0..10_000u32).filter(|&i| user(i) == "u42").count() as u64;
    // (query, expected count, most granules it may read out of 100)
    let cases = [
        ("SELECT count() FROM v WHERE user = 'u42'", wanted_user, 10),
        ("SELECT count() FROM v WHERE n = 150", 100, 2),
        ("SELECT count() FROM v WHERE n >= 290 AND n < 296", 200, 4),
        ("SELECT count() FROM v WHERE region = 'r3'", 1000, 10),
        ("SELECT count() FROM v WHERE region = 'r3' AND user = 'u42'", (3000..4000u32).filter(|&i| user(i) == "u42").count() as u64, 1),
        ("SELECT count() FROM v WHERE user = 'nobody'", 0, 5),
    ];
    let check = |s: &mut Session| {
        for (sql, count, max_granules) in cases {
            assert_eq!(rows(s, sql), vec![vec![Value::UInt(count)]], "{sql}");
            let st = stats(s, sql);
            assert_eq!(st.granules_total, 100);
            assert!(st.granules_selected <= max_granules, "{sql}: read {} of 100 granules", st.granules_selected);
        }
    };
    {
        let db = Database::open(dir.path()).unwrap();
        let mut s = db.session();
        s.execute(create).unwrap();
        for chunk in (0..10_000u32).collect::<Vec<_>>().chunks(2_500) {
            let values: Vec<String> = chunk.iter().map(|&i| format!("({i}, '{}', {}, 'r{}')", user(i), i / 100 * 3, i / 1000)).collect();
            s.execute(&format!("INSERT INTO v VALUES {}", values.join(", "))).unwrap();
        }
        check(&mut s);
        s.execute("OPTIMIZE TABLE v FINAL").unwrap();
        assert_eq!(part_count(&db, "v"), 1);
        check(&mut s);
    }
    let db = Database::open(dir.path()).unwrap();
    check(&mut db.session());
    let mut s = db.session();
    for (sql, kind) in [
        ("CREATE TABLE w (s String, INDEX i lower(s) TYPE minmax) ENGINE = MergeTree ORDER BY s", ErrorKind::NotSupported),
        ("CREATE TABLE w (s String, INDEX i s TYPE ngrambf_v1(3, 256, 2, 0)) ENGINE = MergeTree ORDER BY s", ErrorKind::NotSupported),
        ("CREATE TABLE w (s String, INDEX i s TYPE set) ENGINE = MergeTree ORDER BY s", ErrorKind::InvalidParameter),
        ("CREATE TABLE w (s String, INDEX i t TYPE minmax) ENGINE = MergeTree ORDER BY s", ErrorKind::UndefinedColumn),
        ("CREATE TABLE w (s String, INDEX i s TYPE minmax GRANULARITY 0) ENGINE = MergeTree ORDER BY s", ErrorKind::InvalidParameter),
    ] {
        assert_eq!(s.execute(sql).unwrap_err().kind, kind, "{sql}");
    }
}

#[test]
fn describe_lists_columns_and_types() {
    let (_dir, _db, mut s) = fresh();
    s.execute("CREATE TABLE d (id UInt64, name LowCardinality(String), at DateTime64(3), v Nullable(Float32)) ENGINE = MergeTree ORDER BY id").unwrap();
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => panic!("{other:?}"),
    };
    for sql in ["DESCRIBE d", "DESC TABLE d"] {
        let got: Vec<(String, String)> = rows(&mut s, sql).iter().map(|r| (text(&r[0]), text(&r[1]))).collect();
        assert_eq!(
            got,
            [("id", "UInt64"), ("name", "LowCardinality(String)"), ("at", "DateTime64(3)"), ("v", "Nullable(Float32)")].map(|(a, b)| (a.to_string(), b.to_string()))
        );
    }
    assert_eq!(s.execute("DESCRIBE nope").unwrap_err().kind, granary_engine::ErrorKind::UndefinedTable);
}
