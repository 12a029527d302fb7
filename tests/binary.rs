//! The `granary` binary: starts on a data directory, stops cleanly on SIGTERM, and after a
//! restart shows every table and every acknowledged row.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn spawn(data: &std::path::Path, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_granary"))
        .args(["--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(data)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

async fn connect(port: u16) -> tokio_postgres::Client {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match tokio_postgres::connect(&format!("host=127.0.0.1 port={port} user=default dbname=default"), tokio_postgres::NoTls).await {
            Ok((client, conn)) => {
                tokio::spawn(conn);
                return client;
            }
            Err(_) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(50)).await,
            Err(e) => panic!("server did not come up: {e}"),
        }
    }
}

fn terminate(mut child: Child) {
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "server exited with {status}");
            return;
        }
        assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_then_restart_keeps_every_acknowledged_row() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("granary-data");
    let port = free_port();
    let server = spawn(&data, port);
    let client = connect(port).await;
    client.batch_execute("CREATE TABLE r (d Date, n UInt64) ENGINE = MergeTree PARTITION BY toYYYYMM(d) ORDER BY n").await.unwrap();
    for i in 0..20u64 {
        let month = i % 3 + 1;
        client.batch_execute(&format!("INSERT INTO r VALUES ('2026-0{month}-01', {i}), ('2026-0{month}-02', {})", i + 100)).await.unwrap();
    }
    drop(client);
    terminate(server);

    let port = free_port();
    let server = spawn(&data, port);
    let client = connect(port).await;
    let row = client.query_one("SELECT count(), sum(n) FROM r", &[]).await.unwrap();
    assert_eq!((row.get::<_, i64>(0), row.get::<_, i64>(1)), (40, (0..20).sum::<i64>() + (100..120).sum::<i64>()));
    let tables = client.simple_query("SHOW TABLES").await.unwrap();
    assert!(tables.iter().any(|m| matches!(m, tokio_postgres::SimpleQueryMessage::Row(r) if r.get(0) == Some("r"))));
    drop(client);
    terminate(server);
}
