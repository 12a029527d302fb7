//! Granary's server: the Postgres wire protocol (simple and extended) over tokio.
//!
//! Each connection gets its own engine `Session`; statements run on tokio's blocking pool so
//! long queries never stall other connections. No database logic lives here: only protocol,
//! type encoding and the mapping of errors to SQLSTATEs.

mod copy;
mod handlers;
mod pgtypes;
mod sqlstate;

use std::future::Future;
use std::sync::Arc;

use granary_engine::Database;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::handlers::{Handlers, TrustStartup};
pub use crate::handlers::SERVER_VERSION;
pub use crate::sqlstate::sqlstate;

/// Accepts connections on `listener` until `shutdown` resolves, then stops accepting, closes
/// open connections and returns. Every acknowledged write is already durable by then.
pub async fn serve(listener: TcpListener, db: Arc<Database>, shutdown: impl Future<Output = ()>) -> std::io::Result<()> {
    let startup = Arc::new(TrustStartup::default());
    let mut conns = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((socket, _peer)) => {
                    let handlers = Handlers::new(db.session(), startup.clone());
                    conns.spawn(async move {
                        match pgwire::tokio::process_socket(socket, None, handlers).await {
                            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe
                                && e.kind() != std::io::ErrorKind::ConnectionReset =>
                                tracing::warn!("connection error: {e}"),
                            _ => {}
                        }
                    });
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!("accept error: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            },
        }
    }
    drop(listener);
    conns.shutdown().await;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("install SIGTERM handler");
        tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
