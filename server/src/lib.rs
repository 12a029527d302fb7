//! Granary's server: the Postgres wire protocol (simple and extended) over tokio.
//!
//! Each connection gets its own engine `Session`; statements run in place on the connection's
//! thread while tokio moves its other tasks elsewhere (`handlers::with_session`), so long
//! queries never stall other connections and short ones answer without thread hand-offs. No database logic lives here: only protocol,
//! type encoding, authentication, limits, metrics and the mapping of errors to SQLSTATEs.

mod auth;
mod connection;
mod copy;
mod handlers;
mod limits;
mod metrics;
mod pgtypes;
mod sqlstate;
mod tls;

use std::future::Future;
use std::sync::Arc;

use granary_engine::Database;
use pgwire::tokio::TlsAcceptor;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::auth::Authenticator;
use crate::handlers::Handlers;
pub use crate::auth::{check_listen_address, PasswordMethod};
pub use crate::handlers::SERVER_VERSION;
pub use crate::limits::Limits;
pub use crate::metrics::{render as render_metrics, serve_metrics, ServerCounters};
pub use crate::sqlstate::sqlstate;
pub use crate::tls::tls_acceptor;

/// How the server runs: authentication, TLS, limits, and the counters it keeps.
#[derive(Clone, Default)]
pub struct ServerConfig {
    /// How users with a password prove it.
    pub password_method: PasswordMethod,
    /// TLS for clients that ask for it; `None`: plain text only.
    pub tls: Option<TlsAcceptor>,
    /// Connection and message limits.
    pub limits: Limits,
    /// Connections, refusals, protocol errors and failed logins (shared with `/metrics`).
    pub counters: Arc<ServerCounters>,
}

/// Accepts connections on `listener` until `shutdown` resolves, then stops accepting, closes
/// open connections and returns. Every acknowledged write is already durable by then.
pub async fn serve(listener: TcpListener, db: Arc<Database>, shutdown: impl Future<Output = ()>) -> std::io::Result<()> {
    serve_with(listener, db, ServerConfig::default(), shutdown).await
}

/// `serve` with a configuration. Refuses to start on an address beyond loopback while some
/// user has no password.
pub async fn serve_with(listener: TcpListener, db: Arc<Database>, config: ServerConfig, shutdown: impl Future<Output = ()>) -> std::io::Result<()> {
    check_listen_address(listener.local_addr()?, &db).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let auth = Arc::new(Authenticator::new(db.clone(), config.password_method, config.counters.clone()));
    let mut conns = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((mut socket, _peer)) => {
                    let counters = config.counters.clone();
                    if counters.open() as usize >= config.limits.max_connections {
                        counters.refused();
                        conns.spawn(async move {
                            connection::refuse(&mut socket, "53300", "sorry, too many clients already".into()).await;
                        });
                        continue;
                    }
                    let open = counters.opened();
                    let handlers = Handlers::new(db.session(), auth.clone());
                    let (tls, max_message_size) = (config.tls.clone(), config.limits.max_message_size);
                    conns.spawn(async move {
                        let _open = open;
                        match connection::run(socket, tls, handlers, max_message_size, counters).await {
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

/// The tokio runtime the server runs on: its threads, where statements run (workers and the
/// blocking pool's alike), have the stack deep expressions need.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().thread_stack_size(granary_engine::STATEMENT_STACK_SIZE).enable_all().build()
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
