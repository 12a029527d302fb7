//! The server end to end over the Postgres protocol, with tokio-postgres as the client.

use granary_engine::Database;
use tokio_postgres::{NoTls, SimpleQueryMessage};

#[path = "common/server.rs"]
mod harness;

use harness::Server;

async fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path()).unwrap();
    Server::start(dir, db).await
}

fn code(e: tokio_postgres::Error) -> String {
    e.as_db_error().map(|d| d.code().code().to_string()).unwrap_or_else(|| format!("not a db error: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_style_session_with_parameters_and_types() {
    let server = start().await;
    let client = server.connect().await;
    client
        .batch_execute(
            "CREATE TABLE hits (d Date, user_id UInt64, url String, ts DateTime, price Float64, ok Bool, n Int32, f Float32, u8 UInt8)
               ENGINE = MergeTree PARTITION BY toYYYYMM(d) ORDER BY (d, user_id);
             INSERT INTO hits VALUES ('2026-01-01', 42, '/a', '2026-01-01 10:00:00', 9.5, true, -3, 0.5, 200),
                                     ('2026-01-02', 43, '/b', '2026-01-02 11:30:00', 1.25, false, 7, 1.5, 1),
                                     ('2026-02-01', 42, '/a', '2026-02-01 12:00:00', 3, true, 0, 2, 2)",
        )
        .await
        .unwrap();
    // Extended protocol: $1 is inferred as int8 from the UInt64 column; results come back binary.
    let rows = client
        .query("SELECT url, count(), sum(price), min(ts), max(d), uniqExact(user_id) FROM hits WHERE user_id = $1 AND d >= $2 GROUP BY url ORDER BY 2 DESC", &[&42i64, &chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()])
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    assert_eq!(r.get::<_, String>(0), "/a");
    assert_eq!(r.get::<_, i64>(1), 2);
    assert_eq!(r.get::<_, f64>(2), 12.5);
    assert_eq!(r.get::<_, chrono::NaiveDateTime>(3), chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap().and_hms_opt(10, 0, 0).unwrap());
    assert_eq!(r.get::<_, chrono::NaiveDate>(4), chrono::NaiveDate::from_ymd_opt(2026, 2, 1).unwrap());
    assert_eq!(r.get::<_, i64>(5), 1);
    let typed = client.query_one("SELECT ok, n, f, u8 FROM hits WHERE user_id = 43", &[]).await.unwrap();
    assert!(!typed.get::<_, bool>(0));
    assert_eq!((typed.get::<_, i32>(1), typed.get::<_, f32>(2), typed.get::<_, i16>(3)), (7, 1.5, 1));
    // Simple protocol: text values, several statements in one message.
    let msgs = client.simple_query("SELECT url, price FROM hits ORDER BY price DESC LIMIT 1; SELECT 7 / 2").await.unwrap();
    let values: Vec<Vec<String>> = msgs
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => Some((0..r.len()).map(|i| r.get(i).unwrap().to_string()).collect()),
            _ => None,
        })
        .collect();
    assert_eq!(values, vec![vec!["/a".to_string(), "9.5".to_string()], vec!["3.5".to_string()]]);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_carry_sqlstates_and_the_connection_survives() {
    let server = start().await;
    let client = server.connect().await;
    client.batch_execute("CREATE TABLE t (x UInt8, s String) ENGINE = MergeTree ORDER BY x").await.unwrap();
    for (sql, sqlstate) in [
        ("SELECT * FROM missing", "42P01"),
        ("SELECT nope FROM t", "42703"),
        ("SELECT frobnicate(1)", "42883"),
        ("SELECT s + 1 FROM t", "42804"),
        ("SELEC 1", "42601"),
        ("CREATE TABLE t (x UInt8) ENGINE = MergeTree ORDER BY x", "42P07"),
    ] {
        assert_eq!(code(client.simple_query(sql).await.unwrap_err()), sqlstate, "{sql} (simple)");
        assert_eq!(code(client.query(sql, &[]).await.unwrap_err()), sqlstate, "{sql} (extended)");
    }
    let one: i16 = client.query_one("SELECT 1", &[]).await.unwrap().get(0);
    assert_eq!(one, 1);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sessions_each_see_all_committed_rows() {
    let server = start().await;
    server.connect().await.batch_execute("CREATE TABLE c (w UInt32, i UInt32) ENGINE = MergeTree ORDER BY (w, i)").await.unwrap();
    let mut tasks = Vec::new();
    for w in 0..8u32 {
        let client = server.connect().await;
        tasks.push(tokio::spawn(async move {
            for i in 0..10u32 {
                // Extended protocol: both parameters are described as int8 (UInt32 columns).
                let n = client.execute("INSERT INTO c VALUES ($1, $2)", &[&(w as i64), &(i as i64)]).await.unwrap();
                assert_eq!(n, 1);
            }
            let n: i64 = client.query_one("SELECT count() FROM c WHERE w = $1", &[&(w as i64)]).await.unwrap().get(0);
            assert_eq!(n, 10);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let total: i64 = server.connect().await.query_one("SELECT count() FROM c", &[]).await.unwrap().get(0);
    assert_eq!(total, 80);
    server.stop().await;
}

/// One row as text, whatever the column types (the dashboards return int8, float8, text and
/// timestamp columns).
fn row_text(row: &tokio_postgres::Row) -> Vec<String> {
    use tokio_postgres::types::Type;
    (0..row.len())
        .map(|i| match *row.columns()[i].type_() {
            Type::INT8 => row.get::<_, i64>(i).to_string(),
            Type::INT2 => row.get::<_, i16>(i).to_string(),
            Type::INT4 => row.get::<_, i32>(i).to_string(),
            Type::FLOAT8 => row.get::<_, f64>(i).to_string(),
            Type::TIMESTAMP => row.get::<_, chrono::NaiveDateTime>(i).to_string(),
            Type::DATE => row.get::<_, chrono::NaiveDate>(i).to_string(),
            _ => row.get::<_, String>(i),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_queries_with_bound_parameters_answer_like_the_raw_table() {
    let server = start().await;
    let client = server.connect().await;
    client.batch_execute(include_str!("schema/user_behaviors.sql")).await.unwrap();
    // Three days of events up to now, for two tenants and two scenarios, in 30 inserts.
    let now = chrono::Utc::now().naive_utc();
    let actions = ["impression", "impression", "impression", "click", "view", "order"];
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for insert in 0..30 {
        let mut values = Vec::new();
        for i in 0..100 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let ts = now - chrono::Duration::seconds(((x >> 8) % (3 * 86_400)) as i64);
            let (tenant, scenario) = (["t01", "t02"][(x % 2) as usize], ["feed", "search"][((x >> 1) % 2) as usize]);
            values.push(format!(
                "('e{insert}-{i}', '{tenant}', '{scenario}', 'u{}', 'i{}', '{}', ['ios'], ['iOS 17'], ['Beijing'], ['10.0.0.1'], '{{}}', {}, 0.5, '', '', '{}', '{}')",
                (x >> 20) % 150,
                (x >> 30) % 6,
                actions[((x >> 40) % 6) as usize],
                (x >> 44) % 100,
                ts.format("%Y-%m-%d %H:%M:%S%.3f"),
                ts.format("%Y-%m-%d"),
            ));
        }
        client.batch_execute(&format!("INSERT INTO user_behaviors VALUES {}", values.join(", "))).await.unwrap();
    }
    let dashboards: Vec<&str> = include_str!("schema/dashboard_queries.sql").split(';').map(str::trim).filter(|q| q.contains("SELECT")).collect();
    assert_eq!(dashboards.len(), 4);
    // The same questions asked of the raw events (the first and third read the rollups).
    let raw_core = "SELECT countIf(action_type = 'impression'), countIf(action_type = 'click'),
            (countIf(action_type = 'click') * 100.0 / countIf(action_type = 'impression')), countIf(action_type = 'order'),
            (countIf(action_type = 'order') * 100.0 / countIf(action_type = 'impression')), uniqExact(user_id)
        FROM user_behaviors WHERE tenant_id = $1 AND scenario_id = $2 AND toDate(timestamp) >= today() - 1 AND toHour(timestamp) >= toHour(now()) - 24";
    let raw_items = "SELECT item_id, countIf(action_type = 'impression') AS i, countIf(action_type = 'click') AS c, (c * 100.0 / i)
        FROM user_behaviors WHERE tenant_id = $1 AND scenario_id = $2 AND toDate(timestamp) >= today() - 7 GROUP BY item_id ORDER BY item_id";
    for (tenant, scenario) in [("t01", "feed"), ("t02", "search")] {
        let run = |sql: &str| {
            let client = &client;
            let sql = sql.to_string();
            async move {
                let params: &[&(dyn tokio_postgres::types::ToSql + Sync)] = if sql.contains("$2") { &[&tenant, &scenario] } else { &[&tenant] };
                client.query(&sql, params).await.unwrap().iter().map(row_text).collect::<Vec<_>>()
            }
        };
        let core = run(dashboards[0]).await;
        assert_eq!(core, run(raw_core).await, "core metrics of {tenant}/{scenario}");
        assert!(core[0][5].parse::<u64>().unwrap() > 50, "{core:?}");
        let mut items = run(dashboards[2]).await;
        items.sort();
        assert_eq!(items, run(raw_items).await, "top items of {tenant}/{scenario}");
        // The other two read the raw table: bound parameters give what literals give.
        for sql in [dashboards[1], dashboards[3]] {
            let literal = sql.replace("$1", &format!("'{tenant}'")).replace("$2", &format!("'{scenario}'"));
            let bound = run(sql).await;
            assert!(!bound.is_empty(), "{sql}");
            let simple: Vec<Vec<String>> = client
                .simple_query(&literal)
                .await
                .unwrap()
                .into_iter()
                .filter_map(|m| match m {
                    SimpleQueryMessage::Row(r) => Some((0..r.len()).map(|i| r.get(i).unwrap_or("").to_string()).collect()),
                    _ => None,
                })
                .collect();
            assert_eq!(bound.len(), simple.len(), "{sql}");
            for (b, s) in bound.iter().zip(&simple) {
                assert_eq!(b[0], s[0].trim_end_matches(".000"), "{sql}");
            }
        }
    }
    server.stop().await;
}

/// Sends `data` as COPY data in pieces of `step` bytes and returns the rows loaded.
async fn copy_in(client: &tokio_postgres::Client, sql: &str, data: &str, step: usize) -> Result<u64, tokio_postgres::Error> {
    use futures::SinkExt;
    let sink = client.copy_in::<_, bytes::Bytes>(sql).await?;
    futures::pin_mut!(sink);
    for piece in data.as_bytes().chunks(step) {
        sink.send(bytes::Bytes::copy_from_slice(piece)).await?;
    }
    sink.finish().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_streams_rows_in_and_out_and_a_bad_row_loads_nothing() {
    let server = start().await;
    let client = server.connect().await;
    client
        .batch_execute("CREATE TABLE ev (id UInt64, who String, v Nullable(Float64), d Date) ENGINE = MergeTree PARTITION BY toYYYYMM(d) ORDER BY id")
        .await
        .unwrap();
    let csv: String = std::iter::once("id,who,v,d\n".to_string())
        .chain((1..=5000).map(|i| format!("{i},\"u,{}\",{},2026-0{}-15\n", i % 7, if i % 10 == 0 { String::new() } else { format!("{i}.5") }, 1 + i % 3)))
        .collect();
    assert_eq!(copy_in(&client, "COPY ev FROM STDIN WITH (FORMAT csv, HEADER true)", &csv, 1000).await.unwrap(), 5000);
    let row = client.query_one("SELECT count()::Int64, sum(id)::Int64, count(v)::Int64, uniqExact(who)::Int64 FROM ev", &[]).await.unwrap();
    assert_eq!((row.get::<_, i64>(0), row.get::<_, i64>(1), row.get::<_, i64>(2), row.get::<_, i64>(3)), (5000, 12_502_500, 4500, 7));

    // Row 3 of the data (line 4 with the header) is bad: nothing of this COPY stays.
    let bad = "id,who,v,d\n1,a,1,2026-01-01\n2,b,2,2026-01-01\n3,c,three,2026-01-01\n4,d,4,2026-01-01\n";
    let e = copy_in(&client, "COPY ev FROM STDIN WITH (FORMAT csv, HEADER)", bad, 7).await.unwrap_err();
    assert!(e.as_db_error().is_some_and(|d| d.message().contains("line 4, column v")), "{e}");
    assert_eq!(code(e), "22P02");
    let e = copy_in(&client, "COPY ev (id, who) FROM STDIN", "1\ta\n2\n", 3).await.unwrap_err();
    assert_eq!(code(e), "22P04");
    let count: i64 = client.query_one("SELECT count()::Int64 FROM ev", &[]).await.unwrap().get(0);
    assert_eq!(count, 5000);

    // COPY TO STDOUT in CSV with a header, quoting what needs it.
    use futures::StreamExt;
    let out = client.copy_out("COPY (SELECT id, who, v, d FROM ev WHERE id IN (1, 10) ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER)").await.unwrap();
    let chunks: Vec<bytes::Bytes> = out.map(|c| c.unwrap()).collect().await;
    let text: String = chunks.iter().map(|c| String::from_utf8_lossy(c).into_owned()).collect();
    assert_eq!(text, "id,who,v,d\n1,\"u,1\",1.5,2026-02-15\n10,\"u,3\",,2026-02-15\n");

    // A transaction block is accepted and reported as one.
    let messages = client.simple_query("BEGIN; SELECT 1; COMMIT").await.unwrap();
    assert_eq!(messages.iter().filter(|m| matches!(m, SimpleQueryMessage::CommandComplete(_))).count(), 3);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_request_stops_a_running_query_and_the_session_goes_on() {
    let server = start().await;
    let client = server.connect().await;
    client.batch_execute("CREATE TABLE big (k UInt8, x UInt32) ENGINE = MergeTree ORDER BY x").await.unwrap();
    let values: Vec<String> = (0..100_000u32).map(|x| format!("({}, {x})", x % 2)).collect();
    client.batch_execute(&format!("INSERT INTO big VALUES {}", values.join(","))).await.unwrap();
    // 100,000 × 50,000 matching pairs: this join would not end for a long time on its own,
    // and without the cancel it fails on memory (53200) instead.
    client.batch_execute("SET max_memory_usage = 4000000000").await.unwrap();
    let token = client.cancel_token();
    let canceller = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        token.cancel_query(NoTls).await.unwrap();
    });
    let e = client.query("SELECT count() FROM big a JOIN big b ON a.k = b.k", &[]).await.unwrap_err();
    assert_eq!(code(e), "57014");
    canceller.await.unwrap();
    let n: i64 = client.query_one("SELECT count()::Int64 FROM big", &[]).await.unwrap().get(0);
    assert_eq!(n, 100_000);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_portal_hands_out_rows_in_the_batches_the_client_asks_for() {
    let server = start().await;
    let mut client = server.connect().await;
    client.batch_execute("CREATE TABLE n (x UInt32) ENGINE = MergeTree ORDER BY x; INSERT INTO n VALUES (1), (2), (3), (4), (5)").await.unwrap();
    let tx = client.transaction().await.unwrap();
    let statement = tx.prepare("SELECT x::Int64 FROM n WHERE x >= $1 ORDER BY x").await.unwrap();
    let portal = tx.bind(&statement, &[&2i64]).await.unwrap();
    let mut batches = Vec::new();
    loop {
        let rows = tx.query_portal(&portal, 2).await.unwrap();
        if rows.is_empty() {
            break;
        }
        batches.push(rows.iter().map(|r| r.get::<_, i64>(0)).collect::<Vec<_>>());
    }
    assert_eq!(batches, vec![vec![2, 3], vec![4, 5]]);
    tx.commit().await.unwrap();
    server.stop().await;
}
