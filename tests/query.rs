//! Query execution beyond what the SQL logic tests pin down: answers that do not depend on
//! the number of threads, the per-query memory limit, session settings, and the places where
//! Granary deliberately answers as Postgres does rather than as ClickHouse.

mod common;

use common::{fresh, rows};
use granary_engine::{ErrorKind, Session, Value};

/// 200,000 events in 8 parts (merges stopped), with a Nullable column that is NULL for whole
/// groups in some parts.
fn events(s: &mut Session) {
    s.execute("SYSTEM STOP MERGES; CREATE TABLE ev (id UInt64, user String, kind LowCardinality(String), amount Nullable(Float64), n Int32) ENGINE = MergeTree ORDER BY id").unwrap();
    for part in 0..8u64 {
        let values: Vec<String> = (0..25_000u64)
            .map(|i| {
                let id = part * 25_000 + i;
                let amount = if id % 7 == 0 || (part % 2 == 0 && id % 5 == 0) { "NULL".to_string() } else { format!("{}.25", id % 1000) };
                format!("({id}, 'u{}', 'k{}', {amount}, {})", (id * 7919) % 5003, id % 13, (id % 200) as i64 - 100)
            })
            .collect();
        s.execute(&format!("INSERT INTO ev VALUES {}", values.join(","))).unwrap();
    }
}

#[test]
fn answers_do_not_depend_on_the_number_of_threads() {
    let (_dir, _db, mut s) = fresh();
    events(&mut s);
    let queries = [
        "SELECT count(), sum(amount), avg(amount), min(n), max(n), uniqExact(user), count(amount) FROM ev",
        "SELECT kind, count(), sum(amount), uniqExact(user), quantileExact(0.5)(n), argMax(user, id) FROM ev GROUP BY kind ORDER BY kind",
        "SELECT user, count() AS c, sum(n) FROM ev GROUP BY user ORDER BY c DESC, user LIMIT 20",
        "SELECT n % 3 AS r, sum(amount) FROM ev WHERE amount IS NULL GROUP BY r ORDER BY r",
        "SELECT id, user FROM ev WHERE n = 7 ORDER BY id DESC LIMIT 5",
        "SELECT count() FROM (SELECT id FROM ev WHERE kind = 'k3' LIMIT 1000)",
        "SELECT DISTINCT kind FROM ev ORDER BY kind",
        "SELECT kind, sum(DISTINCT n), avg(DISTINCT n), sumIf(amount, id % 7 = 0), maxIf(amount, n > 0) FROM ev GROUP BY kind ORDER BY kind",
    ];
    for q in queries {
        let one = rows(&mut s, &format!("{q} SETTINGS max_threads = 1"));
        s.execute("SET max_threads = 2").unwrap();
        let two = rows(&mut s, q);
        s.execute("RESET max_threads").unwrap();
        assert_eq!(one, two, "{q}");
        assert!(!one.is_empty(), "{q}");
    }
    // A group whose amounts are all NULL in one thread's parts and present in another's.
    let nulls = rows(&mut s, "SELECT sum(amount) FROM ev WHERE id % 7 = 0");
    assert_eq!(nulls, vec![vec![Value::Null]]);
    let limited = rows(&mut s, "SELECT id FROM ev LIMIT 3 OFFSET 70000");
    assert_eq!(limited.len(), 3);
}

#[test]
fn a_query_past_max_memory_usage_fails_and_the_session_goes_on() {
    let (_dir, _db, mut s) = fresh();
    events(&mut s);
    s.execute("SET max_memory_usage = 1000000").unwrap();
    let err = s.execute("SELECT id, count() FROM ev GROUP BY id").unwrap_err();
    assert_eq!(err.kind, ErrorKind::MemoryLimit, "{err}");
    assert!(err.to_string().contains("max_memory_usage"), "{err}");
    let err = s.execute("SELECT id FROM ev ORDER BY user, id").unwrap_err();
    assert_eq!(err.kind, ErrorKind::MemoryLimit, "{err}");
    // Small answers still fit.
    assert_eq!(rows(&mut s, "SELECT count() FROM ev"), vec![vec![Value::UInt(200_000)]]);
    s.execute("RESET ALL").unwrap();
    assert_eq!(rows(&mut s, "SELECT count() FROM (SELECT id, count() FROM ev GROUP BY id)"), vec![vec![Value::UInt(200_000)]]);
}

#[test]
fn settings_are_set_shown_and_reset() {
    let (_dir, _db, mut s) = fresh();
    s.execute("SET application_name = 'dashboards'; SET extra_float_digits = 3; SET search_path TO public").unwrap();
    assert_eq!(rows(&mut s, "SHOW application_name"), vec![vec![Value::String("dashboards".into())]]);
    assert_eq!(rows(&mut s, "SHOW extra_float_digits"), vec![vec![Value::String("3".into())]]);
    assert_eq!(rows(&mut s, "SHOW search_path"), vec![vec![Value::String("public".into())]]);
    assert_eq!(s.execute("SET max_threads = 'many'").unwrap_err().kind, ErrorKind::InvalidParameter);
    assert_eq!(s.execute("SET timezone = 'Europe/Paris'").unwrap_err().kind, ErrorKind::NotSupported);
    s.execute("SET TIME ZONE 'UTC'").unwrap();
    assert_eq!(rows(&mut s, "SHOW timezone"), vec![vec![Value::String("UTC".into())]]);
    s.execute("RESET application_name").unwrap();
    assert_eq!(rows(&mut s, "SHOW application_name"), vec![vec![Value::String(String::new())]]);
}

#[test]
fn union_ordering_and_bare_union_follow_postgres() {
    let (_dir, _db, mut s) = fresh();
    s.execute("CREATE TABLE a (x UInt8) ENGINE = MergeTree ORDER BY x; INSERT INTO a VALUES (3), (1), (2);
               CREATE TABLE b (x UInt8) ENGINE = MergeTree ORDER BY x; INSERT INTO b VALUES (2), (5)")
        .unwrap();
    // ORDER BY and LIMIT after the last branch apply to the whole union (ClickHouse: to `b`).
    let top = rows(&mut s, "SELECT x FROM a UNION ALL SELECT x FROM b ORDER BY x DESC LIMIT 2");
    assert_eq!(top, vec![vec![Value::UInt(5)], vec![Value::UInt(3)]]);
    // A bare UNION removes duplicates (ClickHouse refuses it).
    let distinct = rows(&mut s, "SELECT count() FROM (SELECT x FROM a UNION SELECT x FROM b)");
    assert_eq!(distinct, vec![vec![Value::UInt(4)]]);
}

#[test]
fn statement_timeout_stops_a_long_statement_and_the_session_goes_on() {
    let (_dir, _db, mut s) = fresh();
    s.execute("CREATE TABLE big (k UInt8, x UInt32) ENGINE = MergeTree ORDER BY x").unwrap();
    let values: Vec<String> = (0..100_000u32).map(|x| format!("({}, {x})", x % 2)).collect();
    s.execute(&format!("INSERT INTO big VALUES {}", values.join(","))).unwrap();
    // 5·10^9 matching pairs: without the timeout this fails on memory instead.
    s.execute("SET max_memory_usage = 4000000000").unwrap();
    s.execute("SET statement_timeout = '200ms'").unwrap();
    let e = s.execute("SELECT count() FROM big a JOIN big b ON a.k = b.k").unwrap_err();
    assert_eq!(e.kind, ErrorKind::Cancelled, "{e}");
    assert!(e.message.contains("statement timeout"), "{e}");
    assert_eq!(rows(&mut s, "SELECT count() FROM big"), vec![vec![Value::UInt(100_000)]]);
    s.execute("RESET statement_timeout").unwrap();
}
