//! Prometheus metrics over HTTP: `GET /metrics` on the `--http` address answers with the
//! text exposition format (version 0.0.4).
//!
//! The engine counts statements, errors, latency, inserts and merges (`Database::stats`);
//! the server adds its connections, refused connections, protocol errors and failed logins;
//! gauges (active parts, running merges, resident memory) are read when scraped. The HTTP
//! side is a small HTTP/1.1 responder: one request per connection, then close.

use std::fmt::Write as _;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use granary_engine::stats::LATENCY_BUCKETS;
use granary_engine::Database;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the server itself counts, besides the engine's counters.
#[derive(Debug, Default)]
pub struct ServerCounters {
    connections_total: AtomicU64,
    connections_open: AtomicU64,
    connections_refused: AtomicU64,
    protocol_errors: AtomicU64,
    auth_failures: AtomicU64,
}

/// Counts a connection as open until dropped.
pub(crate) struct OpenConnection(Arc<ServerCounters>);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.connections_open.fetch_sub(1, Ordering::Relaxed);
    }
}

impl ServerCounters {
    /// Connections open now.
    pub fn open(&self) -> u64 {
        self.connections_open.load(Ordering::Relaxed)
    }

    /// Counts a connection taken on; it counts as open while the guard lives.
    pub(crate) fn opened(self: &Arc<Self>) -> OpenConnection {
        self.connections_total.fetch_add(1, Ordering::Relaxed);
        self.connections_open.fetch_add(1, Ordering::Relaxed);
        OpenConnection(self.clone())
    }

    /// Counts a connection turned away at the connection limit.
    pub(crate) fn refused(&self) {
        self.connections_refused.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a connection closed for breaking the protocol.
    pub(crate) fn protocol_error(&self) {
        self.protocol_errors.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a failed authentication.
    pub(crate) fn auth_failed(&self) {
        self.auth_failures.fetch_add(1, Ordering::Relaxed);
    }
}

/// Resident memory of the process in bytes (Linux: `VmRSS` of /proc/self/status; 0 elsewhere).
fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// One metric family: its HELP and TYPE lines, then its samples.
fn family(out: &mut String, name: &str, kind: &str, help: &str, samples: &[(String, String)]) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    for (labels, value) in samples {
        let _ = writeln!(out, "{name}{labels} {value}");
    }
}

fn by_label<'a, K: AsRef<str> + 'a>(label: &str, counts: impl Iterator<Item = (K, &'a u64)>) -> Vec<(String, String)> {
    counts.map(|(k, v)| (format!("{{{label}=\"{}\"}}", k.as_ref()), v.to_string())).collect()
}

fn one(value: impl ToString) -> Vec<(String, String)> {
    vec![(String::new(), value.to_string())]
}

/// The metrics as Prometheus text.
pub fn render(db: &Database, server: &ServerCounters) -> String {
    let s = db.stats().snapshot();
    let entries = db.table_entries();
    let parts: usize = entries.iter().map(|e| e.store.snapshot().parts.len()).sum();
    let running: usize = entries.iter().map(|e| e.store.running_merges().len()).sum();
    let mut out = String::new();
    family(&mut out, "granary_queries_total", "counter", "Statements run, by kind.", &by_label("kind", s.statements.iter()));
    family(&mut out, "granary_query_errors_total", "counter", "Statements that failed, by error kind.", &by_label("kind", s.errors.iter()));
    let mut latency: Vec<(String, String)> = LATENCY_BUCKETS
        .iter()
        .map(|b| b.to_string())
        .chain(["+Inf".to_string()])
        .zip(&s.latency_buckets)
        .map(|(le, n)| (format!("_bucket{{le=\"{le}\"}}"), n.to_string()))
        .collect();
    latency.push(("_sum".into(), s.latency_sum.to_string()));
    latency.push(("_count".into(), s.latency_buckets.last().copied().unwrap_or(0).to_string()));
    family(&mut out, "granary_query_duration_seconds", "histogram", "Time statements took.", &latency);
    family(&mut out, "granary_inserted_rows_total", "counter", "Rows committed by inserts.", &one(s.rows_inserted));
    family(&mut out, "granary_inserted_bytes_total", "counter", "Uncompressed bytes of the rows inserted.", &one(s.bytes_inserted));
    family(&mut out, "granary_active_parts", "gauge", "Active parts of all tables.", &one(parts));
    family(&mut out, "granary_merges_total", "counter", "Merges (and TTL rewrites) committed.", &one(s.merges));
    family(&mut out, "granary_merges_running", "gauge", "Merges running now.", &one(running));
    family(&mut out, "granary_memory_resident_bytes", "gauge", "Resident memory of the server process.", &one(resident_bytes()));
    let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
    family(&mut out, "granary_connections_total", "counter", "Connections accepted.", &one(load(&server.connections_total)));
    family(&mut out, "granary_connections_open", "gauge", "Connections open now.", &one(server.open()));
    family(&mut out, "granary_connections_refused_total", "counter", "Connections refused at max_connections.", &one(load(&server.connections_refused)));
    family(&mut out, "granary_protocol_errors_total", "counter", "Connections closed for breaking the protocol.", &one(load(&server.protocol_errors)));
    family(&mut out, "granary_auth_failures_total", "counter", "Failed logins.", &one(load(&server.auth_failures)));
    out
}

/// Answers one HTTP request: the metrics for `GET /metrics`, 404 for other paths.
async fn respond(mut socket: TcpStream, db: Arc<Database>, server: Arc<ServerCounters>) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = socket.read(&mut buf).await?;
        if n == 0 || head.len() + n > 8192 {
            return Ok(()); // closed or an oversized request
        }
        head.extend_from_slice(&buf[..n]);
    }
    let line = String::from_utf8_lossy(&head).lines().next().unwrap_or_default().to_string();
    let mut words = line.split_whitespace();
    let (status, body) = match (words.next(), words.next().map(|p| p.split('?').next().unwrap_or(p))) {
        (Some("GET"), Some("/metrics")) => ("200 OK", render(&db, &server)),
        (Some("GET"), _) => ("404 Not Found", "try /metrics\n".to_string()),
        _ => ("405 Method Not Allowed", "GET /metrics\n".to_string()),
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    socket.write_all(response.as_bytes()).await?;
    socket.shutdown().await
}

/// Serves `/metrics` on `listener` until `shutdown` resolves.
pub async fn serve_metrics(listener: TcpListener, db: Arc<Database>, server: Arc<ServerCounters>, shutdown: impl Future<Output = ()>) {
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => match accepted {
                Ok((socket, _)) => {
                    let (db, server) = (db.clone(), server.clone());
                    tokio::spawn(async move {
                        // A client that sends nothing is dropped after a while.
                        let _ = tokio::time::timeout(Duration::from_secs(10), respond(socket, db, server)).await;
                    });
                }
                Err(e) => {
                    tracing::warn!("metrics accept error: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
        }
    }
}
