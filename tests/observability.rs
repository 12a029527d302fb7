//! What the database tells about its work: `system.query_log` (embedded and over the wire)
//! and the Prometheus `/metrics` endpoint, whose counters move with the statements run.

use std::collections::HashMap;
use std::sync::Arc;

use granary_engine::{Database, Output, Value};
use granary_server::{ServerConfig, ServerCounters};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_postgres::NoTls;

mod common;

/// The rows of `sql`, every column of which is text.
fn text_rows(session: &mut granary_engine::Session, sql: &str) -> Vec<Vec<String>> {
    let text = |v: Value| match v {
        Value::String(s) => s,
        other => panic!("{other:?} is not text"),
    };
    common::rows(session, sql).into_iter().map(|r| r.into_iter().map(text).collect()).collect()
}

#[test]
fn query_log_counts_what_each_statement_read() {
    let (_dir, _db, mut s) = common::fresh();
    s.execute("CREATE TABLE t (k UInt64, v String) ENGINE = MergeTree ORDER BY k SETTINGS index_granularity = 100").unwrap();
    s.execute(&format!("INSERT INTO t VALUES {}", (0..1000).map(|i| format!("({i}, 'v{i}')")).collect::<Vec<_>>().join(", "))).unwrap();
    // k < 250 keeps granules 0, 1 and 2 of the one part: 300 rows read.
    let Output::Rows { stats, .. } = s.execute("SELECT count() FROM t WHERE k < 250").unwrap().pop().unwrap() else { panic!() };
    assert_eq!((stats.granules_selected, stats.rows_read), (3, 300));
    // A subquery's scan counts too: the whole table (10 granules) plus the outer 3.
    s.execute("SELECT count() FROM t WHERE k < 250 AND k IN (SELECT k FROM t)").unwrap();
    assert!(s.execute("SELECT nope FROM t").is_err());
    s.execute("CREATE USER logged IDENTIFIED BY 'not in the log'").unwrap();

    let log = text_rows(
        &mut s,
        "SELECT query, query_kind, user, toString(read_rows), toString(read_granules), toString(result_rows), toString(written_rows), error_kind, toString(length(query_id)) FROM system.query_log",
    );
    let by_query: HashMap<&str, &Vec<String>> = log.iter().map(|r| (r[0].as_str(), r)).collect();
    let entry = |q: &str| by_query.get(q).unwrap_or_else(|| panic!("{q} not logged in {log:?}")).iter().skip(1).map(String::as_str).collect::<Vec<_>>();
    assert_eq!(entry("SELECT count() FROM t WHERE k < 250"), ["Select", "default", "300", "3", "1", "0", "", "36"]);
    assert_eq!(entry("SELECT count() FROM t WHERE k < 250 AND k IN (SELECT k FROM t)"), ["Select", "default", "1300", "13", "1", "0", "", "36"]);
    assert_eq!(entry("SELECT nope FROM t")[..7], ["Select", "default", "0", "0", "0", "0", "UndefinedColumn"]);
    assert_eq!(entry("CREATE USER logged IDENTIFIED BY '[HIDDEN]'")[0], "Create");
    assert!(log.iter().all(|r| !r[0].contains("not in the log")));
    let insert = log.iter().find(|r| r[0].starts_with("INSERT")).unwrap();
    assert_eq!((insert[1].as_str(), insert[6].as_str()), ("Insert", "1000"));
    // The failing statement keeps its message.
    let message = &text_rows(&mut s, "SELECT exception FROM system.query_log WHERE error_kind = 'UndefinedColumn'")[0][0];
    assert!(message.contains("nope"), "{message}");
}

/// `GET path` on the metrics endpoint: the status line and the body.
async fn http_get(addr: std::net::SocketAddr, path: &str) -> (String, String) {
    let mut socket = TcpStream::connect(addr).await.unwrap();
    socket.write_all(format!("GET {path} HTTP/1.1\r\nHost: granary\r\n\r\n").as_bytes()).await.unwrap();
    let mut response = String::new();
    socket.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    (head.lines().next().unwrap().to_string(), body.to_string())
}

/// The value of one sample (`name{labels}`) in Prometheus text; 0 when absent.
fn sample(text: &str, name: &str) -> f64 {
    text.lines().find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' '))).map_or(0.0, |v| v.parse().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_move_with_the_statements_run() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path()).unwrap();
    let counters = Arc::new(ServerCounters::default());
    let metrics = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let metrics_addr = metrics.local_addr().unwrap();
    let (stop_metrics, metrics_stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(granary_server::serve_metrics(metrics, db.clone(), counters.clone(), async {
        let _ = metrics_stopped.await;
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let config = ServerConfig { counters: counters.clone(), ..Default::default() };
    let server = tokio::spawn(granary_server::serve_with(listener, db.clone(), config, async {
        let _ = stopped.await;
    }));

    let (status, before) = http_get(metrics_addr, "/metrics").await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(before.contains("# TYPE granary_query_duration_seconds histogram"), "{before}");
    assert_eq!(sample(&before, "granary_queries_total{kind=\"Select\"}"), 0.0);

    let (client, connection) = tokio_postgres::connect(&format!("host=127.0.0.1 port={port} user=default dbname=default"), NoTls).await.unwrap();
    tokio::spawn(connection);
    // Merges wait for OPTIMIZE, so the parts counted stay put.
    client.batch_execute("CREATE TABLE m (x UInt64) ENGINE = MergeTree ORDER BY x; SYSTEM STOP MERGES m; INSERT INTO m VALUES (1), (2), (3); INSERT INTO m VALUES (4)").await.unwrap();
    for _ in 0..3 {
        client.simple_query("SELECT sum(x) FROM m").await.unwrap();
    }
    assert!(client.simple_query("SELEC 1").await.is_err());
    assert!(client.simple_query("SELECT * FROM missing").await.is_err());

    let (_, after) = http_get(metrics_addr, "/metrics").await;
    assert_eq!(sample(&after, "granary_queries_total{kind=\"Select\"}"), 4.0, "3 sums and the missing table");
    assert_eq!(sample(&after, "granary_queries_total{kind=\"Insert\"}"), 2.0);
    assert_eq!(sample(&after, "granary_queries_total{kind=\"Unknown\"}"), 1.0, "the statement that did not parse");
    assert_eq!(sample(&after, "granary_query_errors_total{kind=\"Syntax\"}"), 1.0);
    assert_eq!(sample(&after, "granary_query_errors_total{kind=\"UndefinedTable\"}"), 1.0);
    assert_eq!(sample(&after, "granary_inserted_rows_total"), 4.0);
    assert_eq!(sample(&after, "granary_inserted_bytes_total"), 32.0, "4 UInt64 values");
    let statements = sample(&after, "granary_query_duration_seconds_count");
    assert_eq!(statements, 9.0);
    assert_eq!(sample(&after, "granary_query_duration_seconds_bucket{le=\"+Inf\"}"), statements);
    let parts = db.table_entries().iter().map(|e| e.store.snapshot().parts.len()).sum::<usize>();
    assert_eq!((sample(&after, "granary_active_parts"), parts), (2.0, 2));
    assert_eq!(sample(&after, "granary_merges_total"), 0.0);
    assert!(sample(&after, "granary_memory_resident_bytes") > 0.0);
    assert_eq!(sample(&after, "granary_connections_open"), 1.0);
    assert_eq!(sample(&after, "granary_connections_total"), 1.0);

    client.batch_execute("OPTIMIZE TABLE m FINAL").await.unwrap();
    let (_, merged) = http_get(metrics_addr, "/metrics").await;
    assert_eq!(sample(&merged, "granary_merges_total"), 1.0);
    assert_eq!(sample(&merged, "granary_active_parts"), 1.0);
    assert_eq!(http_get(metrics_addr, "/nothing").await.0, "HTTP/1.1 404 Not Found");

    drop(client);
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    stop_metrics.send(()).unwrap();
}
