//! The server end to end over the Postgres protocol, with tokio-postgres as the client.

use std::net::SocketAddr;

use granary_engine::Database;
use tokio::sync::oneshot;
use tokio_postgres::{NoTls, SimpleQueryMessage};

struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    handle: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

async fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = oneshot::channel();
    let handle = tokio::spawn(async move {
        granary_server::serve(listener, db, async {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    Server { addr, stop: Some(tx), handle, _dir: dir }
}

impl Server {
    async fn connect(&self) -> tokio_postgres::Client {
        let conn = format!("host=127.0.0.1 port={} user=default dbname=default", self.addr.port());
        let (client, connection) = tokio_postgres::connect(&conn, NoTls).await.unwrap();
        tokio::spawn(connection);
        client
    }

    async fn stop(mut self) {
        self.stop.take().unwrap().send(()).unwrap();
        self.handle.await.unwrap();
    }
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
