//! Where the benchmarks send their SQL: a Granary server started in this process on a free
//! loopback port (over a given database, or a new one in a temporary directory), or one
//! already running at a connection string.

use std::sync::Arc;

use granary_engine::Database;
use tokio::sync::oneshot;
use tokio_postgres::{Client, NoTls};

/// A server to benchmark, and the way to reach it.
pub struct Target {
    /// The tokio-postgres connection string.
    pub url: String,
    local: Option<Local>,
}

struct Local {
    stop: oneshot::Sender<()>,
    handle: tokio::task::JoinHandle<std::io::Result<()>>,
    _dir: Option<tempfile::TempDir>,
}

impl Target {
    /// A server at `url` (e.g. `host=127.0.0.1 port=5433 user=default dbname=default`).
    pub fn remote(url: &str) -> Target {
        Target { url: url.into(), local: None }
    }

    /// A new server over a new database in a temporary directory, removed on `stop`.
    pub async fn local() -> anyhow::Result<Target> {
        let dir = tempfile::tempdir()?;
        let db = Database::open(dir.path()).map_err(|e| anyhow::anyhow!("cannot open {}: {e}", dir.path().display()))?;
        Target::serve(db, Some(dir)).await
    }

    /// A new server over `db`; `dir`, if given, is removed on `stop`.
    pub async fn serve(db: Arc<Database>, dir: Option<tempfile::TempDir>) -> anyhow::Result<Target> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let (stop, rx) = oneshot::channel();
        let handle = tokio::spawn(granary_server::serve(listener, db, async {
            let _ = rx.await;
        }));
        let url = format!("host=127.0.0.1 port={port} user=default dbname=default");
        Ok(Target { url, local: Some(Local { stop, handle, _dir: dir }) })
    }

    /// A new client connection.
    pub async fn connect(&self) -> anyhow::Result<Client> {
        connect(&self.url).await
    }

    /// Stops a local server (and removes its temporary directory); a remote one is left alone.
    pub async fn stop(self) -> anyhow::Result<()> {
        if let Some(local) = self.local {
            let _ = local.stop.send(());
            local.handle.await??;
        }
        Ok(())
    }
}

/// A client connection to `url`, its connection task spawned.
pub async fn connect(url: &str) -> anyhow::Result<Client> {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}
