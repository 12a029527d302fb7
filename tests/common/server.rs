//! A Granary server on a free loopback port for the test files that talk to it over the
//! Postgres protocol (included with `#[path]`, so that embedded-only test files don't carry it).

use std::net::SocketAddr;
use std::sync::Arc;

use granary_engine::Database;
use tokio::sync::oneshot;
use tokio_postgres::NoTls;

/// A running server and the directory its database lives in.
pub struct Server {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    handle: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Serves `db` (which lives in `dir`) until `stop`.
    pub async fn start(dir: tempfile::TempDir, db: Arc<Database>) -> Server {
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

    /// A tokio-postgres client as user `default` on database `default`.
    pub async fn connect(&self) -> tokio_postgres::Client {
        let conn = format!("host=127.0.0.1 port={} user=default dbname=default", self.addr.port());
        let (client, connection) = tokio_postgres::connect(&conn, NoTls).await.unwrap();
        tokio::spawn(connection);
        client
    }

    /// Stops the server and waits until it has.
    pub async fn stop(mut self) {
        self.stop.take().unwrap().send(()).unwrap();
        self.handle.await.unwrap();
    }
}
