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

/// Runs each query on one thread and on two (set for the session) and checks that the
/// answers agree and are not empty.
fn same_on_one_and_two_threads(s: &mut Session, queries: &[&str]) {
    for q in queries {
        let one = rows(s, &format!("{q} SETTINGS max_threads = 1"));
        s.execute("SET max_threads = 2").unwrap();
        let two = rows(s, q);
        s.execute("RESET max_threads").unwrap();
        assert_eq!(one, two, "{q}");
        assert!(!one.is_empty(), "{q}");
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
    same_on_one_and_two_threads(&mut s, &queries);
    // A group whose amounts are all NULL in one thread's parts and present in another's.
    let nulls = rows(&mut s, "SELECT sum(amount) FROM ev WHERE id % 7 = 0");
    assert_eq!(nulls, vec![vec![Value::Null]]);
    let limited = rows(&mut s, "SELECT id FROM ev LIMIT 3 OFFSET 70000");
    assert_eq!(limited.len(), 3);
}

#[test]
fn queries_at_once_from_many_sessions_on_many_threads_answer_alike() {
    // Eight sessions each asking for four threads, more than the machine has cores: every
    // answer is still the one thread's.
    let (_dir, db, mut s) = fresh();
    events(&mut s);
    let queries = [
        "SELECT kind, count(), sum(amount), uniqExact(user) FROM ev GROUP BY kind ORDER BY kind",
        "SELECT user, count() AS c FROM ev GROUP BY user ORDER BY c DESC, user LIMIT 5",
        "SELECT id, user FROM ev WHERE n = 7 ORDER BY id DESC LIMIT 5",
    ];
    let expected: Vec<_> = queries.iter().map(|q| rows(&mut s, &format!("{q} SETTINGS max_threads = 1"))).collect();
    let sessions: Vec<_> = (0..8)
        .map(|_| {
            let mut session = db.session();
            std::thread::spawn(move || (0..5).flat_map(|_| queries.map(|q| rows(&mut session, &format!("{q} SETTINGS max_threads = 4")))).collect::<Vec<_>>())
        })
        .collect();
    for session in sessions {
        for (i, answer) in session.join().unwrap().into_iter().enumerate() {
            assert_eq!(answer, expected[i % queries.len()], "{}", queries[i % queries.len()]);
        }
    }
}

#[test]
fn a_count_without_where_comes_from_the_parts_and_agrees_with_a_scan() {
    let (_dir, _db, mut s) = fresh();
    events(&mut s);
    // Answered from the parts' row counts; the forms with a WHERE scan the granules.
    let trivial = rows(&mut s, "SELECT count(), count(*), sum(1), max(3), 7 AS k FROM ev GROUP BY k");
    let scanned = rows(&mut s, "SELECT count(), count(*), sum(1), max(3), 7 AS k FROM ev WHERE id >= 0 GROUP BY k");
    assert_eq!(trivial, scanned);
    assert_eq!(trivial[0][0], Value::UInt(200_000));
    s.execute("CREATE TABLE empty (x UInt8) ENGINE = MergeTree ORDER BY x").unwrap();
    assert_eq!(rows(&mut s, "SELECT count(), sum(1) FROM empty"), vec![vec![Value::UInt(0), Value::UInt(0)]]);
}

/// String keys in 6 parts (merges stopped) that stress how keys are held: NULL next to '',
/// NUL bytes, keys that differ only in trailing NULs, keys longer than fit inline, and
/// composite keys of strings and numbers. Returns the distinct `s` and `(s, t, n)` values.
fn string_keys(s: &mut Session) -> (usize, usize) {
    s.execute("SYSTEM STOP MERGES; CREATE TABLE k (id UInt64, s Nullable(String), t String, n UInt8) ENGINE = MergeTree ORDER BY id").unwrap();
    let value = |id: u64| -> (Option<String>, String, u8) {
        let s = match id % 11 {
            0 => None,
            1 => Some(String::new()),
            2 => Some("a\\0".into()),
            3 => Some("a".into()),
            4 => Some("a\\0\\0".into()),
            5 => Some(format!("{}{}", "x".repeat(30), id % 7)),
            _ => Some(format!("u{}", id % 997)),
        };
        let t = match id % 5 {
            0 => String::new(),
            1 => "\\0".into(),
            _ => "y".repeat((id % 40) as usize),
        };
        (s, t, (id % 3) as u8)
    };
    let mut distinct_s = std::collections::HashSet::new();
    let mut distinct_all = std::collections::HashSet::new();
    for part in 0..6u64 {
        let values: Vec<String> = (0..5_000u64)
            .map(|i| {
                let (v, t, n) = value(part * 5_000 + i);
                distinct_s.insert(v.clone());
                distinct_all.insert((v.clone(), t.clone(), n));
                let v = v.map_or("NULL".to_string(), |v| format!("'{v}'"));
                format!("({}, {v}, '{t}', {n})", part * 5_000 + i)
            })
            .collect();
        s.execute(&format!("INSERT INTO k VALUES {}", values.join(","))).unwrap();
    }
    (distinct_s.len(), distinct_all.len())
}

#[test]
fn string_keys_group_alike_on_one_and_two_threads() {
    let (_dir, _db, mut s) = fresh();
    let (distinct_s, distinct_all) = string_keys(&mut s);
    // The SQL escape `\0` is one NUL byte.
    assert_eq!(rows(&mut s, "SELECT length(s) FROM k WHERE id = 4"), vec![vec![Value::UInt(3)]]);
    let queries = [
        "SELECT s, count(), uniqExact(t), uniqExact(t, n), uniqExact(s) FROM k GROUP BY s ORDER BY s",
        "SELECT s, t, n, count() FROM k GROUP BY s, t, n ORDER BY s, t, n",
        "SELECT t, uniqExact(s), count(DISTINCT s), uniqExact(s, n) FROM k GROUP BY t ORDER BY t",
        "SELECT uniqExact(s), uniqExact(s, t), uniqExact(t), count(DISTINCT t) FROM k",
    ];
    same_on_one_and_two_threads(&mut s, &queries);
    let count = |s: &mut Session, q: &str| rows(s, q)[0][0].clone();
    for threads in [1, 2] {
        let groups = count(&mut s, &format!("SELECT count() FROM (SELECT s FROM k GROUP BY s) SETTINGS max_threads = {threads}"));
        assert_eq!(groups, Value::UInt(distinct_s as u64));
        let groups = count(&mut s, &format!("SELECT count() FROM (SELECT s, t, n FROM k GROUP BY s, t, n) SETTINGS max_threads = {threads}"));
        assert_eq!(groups, Value::UInt(distinct_all as u64));
        // uniqExact skips the NULL.
        let uniq = count(&mut s, &format!("SELECT uniqExact(s) FROM k SETTINGS max_threads = {threads}"));
        assert_eq!(uniq, Value::UInt(distinct_s as u64 - 1));
    }
}

/// Ids made of a text and a number (`u42`) group and count as numbers where a part's granules
/// hold them so, and as strings elsewhere: six parts mix coded first granules, `DECIMAL` ones,
/// granules made plain by a non-canonical id (`u042`), another text (`v42`), numbers past
/// the direct array and past `u32`, and plain names. The answers are counted here.
#[test]
fn ids_of_a_text_and_a_number_group_and_count_alike_in_every_encoding() {
    use std::collections::{BTreeMap, BTreeSet};
    let (_dir, _db, mut s) = fresh();
    s.execute("SYSTEM STOP MERGES; CREATE TABLE ids (id UInt64, user String, g UInt8) ENGINE = MergeTree ORDER BY id SETTINGS index_granularity = 64").unwrap();
    let user = |part: u64, i: u64| -> String {
        let x = (i * 7919 + part * 13) % 2_500;
        match part {
            0 | 1 => format!("u{x}"),
            2 if i.is_multiple_of(300) => format!("u0{x}"),
            2 => format!("u{x}"),
            3 => format!("v{x}"),
            4 => ["u4294967295", "u4294967296", "u17000000", "u3000000000", "u0", &format!("u{}", 16_777_200 + x % 40)][(i % 6) as usize].to_string(),
            _ => ["alice", "", "u", "u12a"][(i % 4) as usize].to_string(),
        }
    };
    let (mut counts, mut distinct) = (BTreeMap::<String, u64>::new(), BTreeMap::<u64, BTreeSet<String>>::new());
    let mut third = BTreeSet::new();
    for part in 0..6u64 {
        let values: Vec<String> = (0..3_000u64)
            .map(|i| {
                let (id, u, g) = (part * 3_000 + i, user(part, i), (i % 3 + part % 2) as u8);
                *counts.entry(u.clone()).or_default() += 1;
                distinct.entry(u64::from(g)).or_default().insert(u.clone());
                if id % 3 == 0 {
                    third.insert(u.clone());
                }
                format!("({id}, '{u}', {g})")
            })
            .collect();
        s.execute(&format!("INSERT INTO ids VALUES {}", values.join(","))).unwrap();
    }
    let by_user: Vec<Vec<Value>> = counts.iter().map(|(u, &c)| vec![Value::String(u.clone()), Value::UInt(c)]).collect();
    let by_g: Vec<Vec<Value>> = distinct.iter().map(|(&g, users)| vec![Value::UInt(g), Value::UInt(users.len() as u64), Value::UInt(users.len() as u64)]).collect();
    for threads in [1, 2] {
        let q = |sql: &str| format!("{sql} SETTINGS max_threads = {threads}");
        assert_eq!(rows(&mut s, &q("SELECT user, count() FROM ids GROUP BY user ORDER BY user")), by_user, "{threads} threads");
        assert_eq!(rows(&mut s, &q("SELECT g, uniqExact(user), count(DISTINCT user) FROM ids GROUP BY g ORDER BY g")), by_g, "{threads} threads");
        assert_eq!(rows(&mut s, &q("SELECT uniqExact(user) FROM ids WHERE id % 3 = 0")), vec![vec![Value::UInt(third.len() as u64)]]);
        let merged = q("SELECT g, uniqExactMerge(st), uniqExactMerge(st) FROM (SELECT g, uniqExactState(user) AS st FROM ids GROUP BY g) GROUP BY g ORDER BY g");
        assert_eq!(rows(&mut s, &merged), by_g, "{threads} threads");
    }
}

/// `uniqExact` over thousands of small groups logs its (group, id) pairs and sorts them into
/// runs (`GroupNumbers`): groups arrive a few at a time (the sets become runs mid-scan), ids
/// repeat within and across parts, one part's ids are of another text (a set of strings
/// beside the runs), and states merge. The answers are counted here.
#[test]
fn distinct_ids_of_thousands_of_groups_count_alike_as_runs_and_as_sets() {
    use std::collections::{BTreeMap, BTreeSet};
    let (_dir, _db, mut s) = fresh();
    s.execute("SYSTEM STOP MERGES; CREATE TABLE visits (id UInt64, user String, g UInt32) ENGINE = MergeTree ORDER BY id SETTINGS index_granularity = 256").unwrap();
    let mut distinct = BTreeMap::<u32, BTreeSet<String>>::new();
    let mut odd = BTreeMap::<u32, BTreeSet<String>>::new();
    for part in 0..4u64 {
        let values: Vec<String> = (0..20_000u64)
            .map(|i| {
                let id = part * 20_000 + i;
                // A group's rows alternate two users, the same in every block of parts 0 and 2
                // and one apart in part 1: threads see the same ids of a group.
                let g = ((id / 4) % 4_500) as u32;
                let x = (u64::from(g) * 31 + i % 2 + part % 2) % 30_000;
                let user = if part == 3 { format!("v{x}") } else { format!("u{x}") };
                distinct.entry(g).or_default().insert(user.clone());
                if id % 2 == 1 {
                    odd.entry(g).or_default().insert(user.clone());
                }
                format!("({id}, '{user}', {g})")
            })
            .collect();
        s.execute(&format!("INSERT INTO visits VALUES {}", values.join(","))).unwrap();
    }
    let expected = |sets: &BTreeMap<u32, BTreeSet<String>>| -> Vec<Vec<Value>> { sets.iter().map(|(&g, users)| vec![Value::UInt(u64::from(g)), Value::UInt(users.len() as u64)]).collect() };
    for threads in [1, 2] {
        let q = |sql: &str| format!("{sql} SETTINGS max_threads = {threads}");
        assert_eq!(rows(&mut s, &q("SELECT g, uniqExact(user) FROM visits GROUP BY g ORDER BY g")), expected(&distinct), "{threads} threads");
        assert_eq!(rows(&mut s, &q("SELECT g, count(DISTINCT user) FROM visits WHERE id % 2 = 1 GROUP BY g ORDER BY g")), expected(&odd), "{threads} threads");
        let merged = q("SELECT g, uniqExactMerge(st) FROM (SELECT g, uniqExactState(user) AS st FROM visits GROUP BY g) GROUP BY g ORDER BY g");
        assert_eq!(rows(&mut s, &merged), expected(&distinct), "{threads} threads");
    }
}

/// Conditions on one string column run once per dictionary entry where a part's granules are
/// coded, and row by row where they are not: the answers must be the rows' own. Four parts
/// code the cities with dictionaries in different orders; a fifth has a unique name per row,
/// so its writer gives up coding after the first granule.
#[test]
fn conditions_on_coded_strings_match_the_rows() {
    let (_dir, _db, mut s) = fresh();
    s.execute("SYSTEM STOP MERGES; CREATE TABLE c (id UInt64, city String, n Int32) ENGINE = MergeTree ORDER BY id SETTINGS index_granularity = 1000").unwrap();
    let cities = ["oslo", "rome", "lima", "", "bogota", "porto", "kyiv"];
    let mut data: Vec<(u64, String, i32)> = Vec::new();
    for part in 0..5u64 {
        let values: Vec<String> = (0..6_000u64)
            .map(|i| {
                let id = part * 6_000 + i;
                let city = match part {
                    4 => format!("{}{id}", cities[(id % 7) as usize]),
                    _ => cities[((id + part * 3) * (part + 1) % 7) as usize].to_string(),
                };
                let n = (id % 10) as i32;
                data.push((id, city.clone(), n));
                format!("({id}, '{city}', {n})")
            })
            .collect();
        s.execute(&format!("INSERT INTO c VALUES {}", values.join(","))).unwrap();
    }
    let count = |keep: &dyn Fn(&str, i32) -> bool| data.iter().filter(|(_, c, n)| keep(c, *n)).count() as u64;
    let cases: [(&str, u64); 8] = [
        ("city = 'oslo'", count(&|c, _| c == "oslo")),
        ("city != ''", count(&|c, _| !c.is_empty())),
        ("city LIKE '%o%'", count(&|c, _| c.contains('o'))),
        ("length(city) > 4 AND city < 'p'", count(&|c, _| c.len() > 4 && c < "p")),
        ("city IN ('rome', 'lima')", count(&|c, _| c == "rome" || c == "lima")),
        ("upper(city) = 'LIMA' OR city = 'kyiv'", count(&|c, _| c == "lima" || c == "kyiv")),
        ("n % 2 = 0 AND city = 'porto'", count(&|c, n| n % 2 == 0 && c == "porto")),
        ("city LIKE 'bogota%' AND n = 3", count(&|c, n| c.starts_with("bogota") && n == 3)),
    ];
    for (condition, expected) in cases {
        assert!(expected > 0, "{condition}");
        for threads in [1, 2] {
            let got = rows(&mut s, &format!("SELECT count() FROM c WHERE {condition} SETTINGS max_threads = {threads}"));
            assert_eq!(got, vec![vec![Value::UInt(expected)]], "{condition}");
        }
    }
    // A condition that fails on a dictionary entry held only by rows an earlier step dropped
    // answers as the rows do.
    let values: Vec<String> = (0..400).map(|i| if i % 4 == 0 { format!("({i}, 'abc', 2)") } else { format!("({i}, '{}', 1)", i % 4) }).collect();
    s.execute(&format!("CREATE TABLE t (id UInt64, s String, n Int32) ENGINE = MergeTree ORDER BY id; INSERT INTO t VALUES {}", values.join(","))).unwrap();
    assert_eq!(rows(&mut s, "SELECT count() FROM t WHERE n = 1 AND toUInt64(s) > 1"), vec![vec![Value::UInt(200)]]);
    assert!(s.execute("SELECT count() FROM t WHERE toUInt64(s) > 1").is_err(), "'abc' is no number");
    // The column comes back from the codes for the surviving rows.
    let got = rows(&mut s, "SELECT city, count(), sum(n) FROM c WHERE city LIKE '%o%' AND n > 2 GROUP BY city ORDER BY city");
    let mut expected = std::collections::BTreeMap::new();
    for (_, c, n) in data.iter().filter(|(_, c, n)| c.contains('o') && *n > 2) {
        let e = expected.entry(c.clone()).or_insert((0u64, 0i64));
        *e = (e.0 + 1, e.1 + *n as i64);
    }
    let expected: Vec<Vec<Value>> = expected.into_iter().map(|(c, (k, n))| vec![Value::String(c), Value::UInt(k), Value::Int(n)]).collect();
    assert_eq!(got, expected);
    // A column an earlier step read keeps the rows the later steps on codes pass.
    type Keep<'a> = &'a dyn Fn(&str, i32) -> bool;
    let sums: [(&str, Keep); 2] = [("n > 2 AND city LIKE '%o%'", &|c, n| n > 2 && c.contains('o')), ("n > 6 AND city = 'rome'", &|c, n| n > 6 && c == "rome")];
    for (condition, keep) in sums {
        let sum: i64 = data.iter().filter(|(_, c, n)| keep(c, *n)).map(|(_, _, n)| *n as i64).sum();
        assert!(sum > 0, "{condition}");
        let got = rows(&mut s, &format!("SELECT sum(n), count() FROM c WHERE {condition}"));
        assert_eq!(got, vec![vec![Value::Int(sum), Value::UInt(count(keep))]], "{condition}");
    }
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

/// Runs `sql` expecting SQLSTATE 53200, then checks that the session still answers.
fn fails_on_memory(s: &mut Session, sql: &str) {
    let err = s.execute(sql).unwrap_err();
    assert_eq!(err.kind, ErrorKind::MemoryLimit, "{sql}: {err}");
    assert_eq!(rows(s, "SELECT count() FROM ev"), vec![vec![Value::UInt(200_000)]], "after {sql}");
}

#[test]
fn sort_buffers_join_tables_subqueries_and_window_partitions_count_against_max_memory_usage() {
    let (_dir, _db, mut s) = fresh();
    events(&mut s);
    // The rows an ORDER BY buffers.
    fails_on_memory(&mut s, "SELECT * FROM ev ORDER BY n, id SETTINGS max_memory_usage = 1000000");
    // A hash join's build side: both sides' ids (3.2 MB) fit, their hash table does not.
    let join = "SELECT count() FROM ev a JOIN ev b ON a.id = b.id";
    fails_on_memory(&mut s, &format!("{join} SETTINGS max_memory_usage = 6000000"));
    assert_eq!(rows(&mut s, &format!("{join} SETTINGS max_memory_usage = 40000000")), vec![vec![Value::UInt(200_000)]]);
    // Materialized CTEs and subqueries are held until the statement ends, so two of them add up.
    let twice = "WITH c AS (SELECT id, n FROM ev) SELECT count() FROM c WHERE n >= (SELECT min(n) FROM c)";
    fails_on_memory(&mut s, &format!("{twice} SETTINGS max_memory_usage = 4000000"));
    assert_eq!(rows(&mut s, &format!("{twice} SETTINGS max_memory_usage = 8000000")), vec![vec![Value::UInt(200_000)]]);
    fails_on_memory(&mut s, "SELECT count() FROM (SELECT * FROM ev) SETTINGS max_memory_usage = 1000000");
    // A window's partitions: the rows fit, their sorted layout does not.
    let window = "SELECT max(v) FROM (SELECT sum(n) OVER (PARTITION BY kind ORDER BY id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS v FROM ev)";
    fails_on_memory(&mut s, &format!("{window} SETTINGS max_memory_usage = 6000000"));
    // Rows of a kind are 13 ids apart, so the largest pair is n = 99 (id % 200 = 199) and 86.
    assert_eq!(rows(&mut s, &format!("{window} SETTINGS max_memory_usage = 40000000")), vec![vec![Value::Int(185)]]);
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

/// A table `w` of 100,000 rows in one partition: `id` 0..100000 and `x = id`.
fn hundred_thousand(s: &mut Session) {
    s.execute("CREATE TABLE w (id UInt32, x Int64) ENGINE = MergeTree ORDER BY id").unwrap();
    let values: Vec<String> = (0..100_000u32).map(|i| format!("({i}, {i})")).collect();
    s.execute(&format!("INSERT INTO w VALUES {}", values.join(","))).unwrap();
}

/// How many rows of `w` a window query's value `v` matches `formula` (both over `id`) for.
fn rows_matching(s: &mut Session, window: &str, formula: &str) -> Value {
    let q = format!("SELECT count() FROM (SELECT id, {window} AS v FROM w) WHERE v = {formula}");
    rows(s, &q).remove(0).remove(0)
}

#[test]
fn running_and_sliding_window_aggregates_over_a_large_partition_match_their_formulas() {
    let (_dir, _db, mut s) = fresh();
    hundred_thousand(&mut s);
    let all = Value::UInt(100_000);
    // Running sums: the triangular numbers (feeding every frame would add up 5·10^9 rows).
    assert_eq!(rows_matching(&mut s, "sum(x) OVER (ORDER BY id)", "intDiv(id * (id + 1), 2)"), all);
    assert_eq!(rows_matching(&mut s, "sum(x) OVER (ORDER BY id ROWS UNBOUNDED PRECEDING)", "intDiv(id * (id + 1), 2)"), all);
    // The default RANGE frame over peers of 10 rows each reaches the last peer.
    assert_eq!(rows_matching(&mut s, "count() OVER (ORDER BY intDiv(id, 10))", "(intDiv(id, 10) + 1) * 10"), all);
    // Sliding frames: a 5-row window sums to 5·id away from the ends.
    assert_eq!(rows_matching(&mut s, "sum(x) OVER (ORDER BY id ROWS BETWEEN 2 PRECEDING AND 2 FOLLOWING)", "5 * id"), Value::UInt(99_996));
    assert_eq!(rows_matching(&mut s, "avg(x) OVER (ORDER BY id ROWS BETWEEN 500 PRECEDING AND 500 FOLLOWING)", "id"), Value::UInt(99_000));
    assert_eq!(rows_matching(&mut s, "min(x) OVER (ORDER BY id ROWS BETWEEN 1000 PRECEDING AND CURRENT ROW)", "greatest(0, toInt64(id) - 1000)"), all);
    assert_eq!(rows_matching(&mut s, "max(x) OVER (ORDER BY id ROWS BETWEEN CURRENT ROW AND 1000 FOLLOWING)", "least(99999, id + 1000)"), all);
    assert_eq!(rows_matching(&mut s, "max(x) OVER (ORDER BY id DESC ROWS BETWEEN 3000 PRECEDING AND 3000 FOLLOWING)", "least(99999, id + 3000)"), all);
    // Suffix sums over the whole partition.
    assert_eq!(rows_matching(&mut s, "sum(x) OVER (ORDER BY id ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING)", "4999950000 - intDiv(id * (id - 1), 2)"), all);
    // Float sums over wide sliding frames: exact where the values add exactly (quarters) …
    assert_eq!(rows_matching(&mut s, "sum(x / 4) OVER (ORDER BY id ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING)", "(4999950000 - intDiv(id * (id - 1), 2)) / 4"), all);
    assert_eq!(rows_matching(&mut s, "sum(x * 0.25) OVER (ORDER BY id ROWS BETWEEN 2000 PRECEDING AND 99 PRECEDING)", "multiIf(id < 99, 0, id < 2000, intDiv((id - 99) * (id - 98), 2), 951 * (2 * id - 2099)) * 0.25"), all);
    // … and correctly rounded otherwise: tenths, whose float sums drift, are within a few ulps.
    let near = "abs(v - (4999950000 - intDiv(id * (id - 1), 2)) * 0.1) <= 1e-15 * (4999950000 - intDiv(id * (id - 1), 2)) * 0.1";
    let q = format!("SELECT count() FROM (SELECT id, sum(x * 0.1) OVER (ORDER BY id ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS v FROM w) WHERE {near}");
    assert_eq!(rows(&mut s, &q), vec![vec![all]]);
}

/// A correlated subquery over a MergeTree table runs once per distinct outer value, so past
/// 10,000 of them it is refused with advice instead of running for minutes; below, it answers.
#[test]
fn correlated_subqueries_over_merge_tree_tables_run_per_outer_value_up_to_a_bound() {
    let (_dir, _db, mut s) = fresh();
    let keys: Vec<String> = (0..10_001).map(|k| format!("({k})")).collect();
    s.execute(&format!("CREATE TABLE big (k UInt64) ENGINE = MergeTree ORDER BY k; INSERT INTO big VALUES {}", keys.join(","))).unwrap();
    s.execute("CREATE TABLE few (k UInt64) ENGINE = MergeTree ORDER BY k; INSERT INTO few VALUES (1), (2), (3), (1), (2), (5000)").unwrap();
    s.execute("CREATE TABLE small (k UInt64) ENGINE = MergeTree ORDER BY k; INSERT INTO small VALUES (2), (5000), (9)").unwrap();
    let found = rows(&mut s, "SELECT k FROM few WHERE EXISTS (SELECT 1 FROM small WHERE small.k = few.k) ORDER BY k");
    assert_eq!(found, vec![vec![Value::UInt(2)], vec![Value::UInt(2)], vec![Value::UInt(5000)]]);
    let err = s.execute("SELECT count() FROM big WHERE EXISTS (SELECT 1 FROM small WHERE small.k = big.k)").unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotSupported, "{err}");
    assert!(err.to_string().contains("JOIN"), "{err}");
    // The outer WHERE's other conjuncts narrow the outer values first, whichever comes first.
    for sql in [
        "SELECT count() FROM big WHERE k < 5000 AND k > 1 AND EXISTS (SELECT 1 FROM small WHERE small.k = big.k)",
        "SELECT count() FROM big WHERE EXISTS (SELECT 1 FROM small WHERE small.k = big.k) AND k BETWEEN 2 AND 4999",
    ] {
        assert_eq!(rows(&mut s, sql), vec![vec![Value::UInt(2)]], "{sql}");
    }
}

/// Join strictness ClickHouse refuses, and `WITH TOTALS` forms Granary does not compute yet,
/// are refused as unsupported features (SQLSTATE 0A000), not as syntax errors.
#[test]
fn refused_join_strictness_and_totals_forms_are_unsupported_features() {
    let (_dir, _db, mut s) = fresh();
    s.execute("CREATE TABLE t (id UInt32, g UInt8) ENGINE = MergeTree ORDER BY id; INSERT INTO t VALUES (1, 1), (2, 2)").unwrap();
    for sql in [
        "SELECT 1 FROM t a ANY FULL JOIN t b ON a.id = b.id",
        "SELECT 1 FROM t a ASOF FULL JOIN t b ON a.id = b.id AND a.g >= b.g",
        "SELECT 1 FROM t a ASOF RIGHT JOIN t b ON a.id = b.id AND a.g >= b.g",
        "SELECT g, count() AS c FROM t GROUP BY g WITH TOTALS HAVING c > 1",
        "SELECT g, count() FROM t GROUP BY g WITH ROLLUP WITH TOTALS",
        "SELECT g, count(), rank() OVER (ORDER BY g) FROM t GROUP BY g WITH TOTALS",
    ] {
        let err = s.execute(sql).unwrap_err();
        assert_eq!(err.kind, ErrorKind::NotSupported, "{sql}: {err}");
    }
}
