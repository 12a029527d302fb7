//! `granary bench ingest`: the CSV of `gen` into a server over pgwire, by COPY or by multi-row
//! INSERTs of a set batch size, from K concurrent writers that each send one contiguous share
//! of the file; then rows/s, MB/s, and the table's parts and bytes on disk once merges settle.
//! The same loading serves `query` and `compare`.

use std::fs::File;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use futures::SinkExt;
use tokio_postgres::{Client, SimpleQueryMessage};

use crate::csv::{fields, ITEMS_FILE};

/// The benchmark's tables: the events with `context` flattened and no TTL (the data's dates are
/// fixed), and the item dimension; ClickHouse runs the same text.
pub const SCHEMA: &str = "CREATE TABLE user_behaviors (event_id String, tenant_id String, scenario_id String, user_id String, item_id String, \
action_type Enum8('impression' = 1, 'click' = 2, 'view' = 3, 'like' = 4, 'share' = 5, 'add_cart' = 6, 'order' = 7), \
device_type String, os String, location String, ip String, extra_data String, watch_duration Int32, completion_rate Float32, \
experiment_id String, experiment_group String, timestamp DateTime64(3), date Date) \
ENGINE = MergeTree PARTITION BY toYYYYMM(date) ORDER BY (tenant_id, scenario_id, date, user_id, timestamp);
CREATE TABLE items (item_id String, category String, brand String, price Float64) ENGINE = MergeTree ORDER BY item_id";

/// The CSV columns of `user_behaviors` that are numbers, not text, in an INSERT.
const EVENT_NUMBERS: [usize; 2] = [11, 12];
/// The CSV columns of `items` that are numbers.
const ITEM_NUMBERS: [usize; 1] = [3];
/// Bytes per CopyData message.
const COPY_MESSAGE: usize = 256 << 10;

/// How rows reach the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `COPY … FROM STDIN (FORMAT csv)` streamed, at most this many rows per statement.
    Copy {
        /// Rows per COPY statement.
        rows: usize,
    },
    /// `INSERT … VALUES` with this many rows per statement.
    Insert {
        /// Rows per INSERT statement.
        batch: usize,
    },
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Method::Copy { .. } => write!(f, "COPY"),
            Method::Insert { batch } => write!(f, "INSERT x{batch}"),
        }
    }
}

/// What one ingest measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct IngestReport {
    /// `COPY` or `INSERT xN`.
    pub method: String,
    /// Concurrent writer connections.
    pub writers: usize,
    /// Rows the server acknowledged.
    pub rows: u64,
    /// Statements sent.
    pub statements: u64,
    /// CSV bytes sent.
    pub csv_bytes: u64,
    /// Seconds from the first statement to the last acknowledgement.
    pub seconds: f64,
    /// Rows per second.
    pub rows_per_sec: f64,
    /// CSV megabytes (10^6) per second.
    pub mb_per_sec: f64,
    /// Active parts of the table right after the last statement.
    pub parts_after_ingest: u64,
    /// Active parts once no merge runs any more.
    pub parts_settled: u64,
    /// Bytes on disk of those parts.
    pub bytes_on_disk: u64,
}

/// Drops and creates the benchmark's tables.
pub async fn create_tables(client: &Client) -> anyhow::Result<()> {
    for table in ["user_behaviors", "items"] {
        client.batch_execute(&format!("DROP TABLE IF EXISTS {table}")).await?;
    }
    client.batch_execute(SCHEMA).await.context("creating the benchmark tables")?;
    Ok(())
}

/// Fresh tables, `items.csv` (by COPY, or INSERT batches of 10,000), then the first `limit`
/// rows (default: all) of the events CSV `events` by `method` from `writers` connections.
pub async fn load(url: &str, dir: &Path, method: Method, writers: usize, limit: Option<usize>) -> anyhow::Result<IngestReport> {
    let client = crate::target::connect(url).await?;
    create_tables(&client).await?;
    let items_method = match method {
        Method::Copy { .. } => method,
        Method::Insert { .. } => Method::Insert { batch: 10_000 },
    };
    send_share(&client, "items", &ITEM_NUMBERS, &dir.join(ITEMS_FILE), Share::whole(), items_method).await.context("loading items.csv")?;
    ingest(url, &dir.join(crate::csv::EVENTS_FILE), method, writers, limit).await
}

/// Sends the events CSV at `path` into the existing `user_behaviors` table.
pub async fn ingest(url: &str, path: &Path, method: Method, writers: usize, limit: Option<usize>) -> anyhow::Result<IngestReport> {
    let writers = writers.max(1);
    let shares = Share::split(path, writers, limit)?;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for share in shares {
        let (url, path) = (url.to_string(), path.to_path_buf());
        tasks.push(tokio::spawn(async move {
            let client = crate::target::connect(&url).await?;
            send_share(&client, "user_behaviors", &EVENT_NUMBERS, &path, share, method).await
        }));
    }
    let mut sent = Sent::default();
    for task in tasks {
        let s = task.await??;
        sent.rows += s.rows;
        sent.statements += s.statements;
        sent.bytes += s.bytes;
    }
    let seconds = started.elapsed().as_secs_f64();
    let client = crate::target::connect(url).await?;
    let (parts_after_ingest, _) = parts(&client, "user_behaviors").await?;
    settle(&client).await?;
    let (parts_settled, bytes_on_disk) = parts(&client, "user_behaviors").await?;
    Ok(IngestReport {
        method: method.to_string(),
        writers,
        rows: sent.rows,
        statements: sent.statements,
        csv_bytes: sent.bytes,
        seconds,
        rows_per_sec: sent.rows as f64 / seconds.max(1e-9),
        mb_per_sec: sent.bytes as f64 / 1e6 / seconds.max(1e-9),
        parts_after_ingest,
        parts_settled,
        bytes_on_disk,
    })
}

/// The active parts of `table` and their bytes on disk.
pub async fn parts(client: &Client, table: &str) -> anyhow::Result<(u64, u64)> {
    let sql = format!("SELECT count(), sum(bytes_on_disk) FROM system.parts WHERE table = '{table}' AND active = 1");
    let row = first_row(client, &sql).await?;
    let number = |i: usize| row.get(i).and_then(|v| v.as_deref()).and_then(|v| v.parse().ok()).unwrap_or(0);
    Ok((number(0), number(1)))
}

/// Waits (up to two minutes) until no merge has run for three polls in a row.
pub async fn settle(client: &Client) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut quiet = 0;
    while quiet < 3 && Instant::now() < deadline {
        let running = first_row(client, "SELECT count() FROM system.merges").await?;
        quiet = if running.first().and_then(|v| v.as_deref()) == Some("0") { quiet + 1 } else { 0 };
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}

/// The first row of a query's answer, as text.
pub async fn first_row(client: &Client, sql: &str) -> anyhow::Result<Vec<Option<String>>> {
    for message in client.simple_query(sql).await.with_context(|| sql.to_string())? {
        if let SimpleQueryMessage::Row(row) = message {
            return Ok((0..row.len()).map(|i| row.get(i).map(str::to_string)).collect());
        }
    }
    Ok(Vec::new())
}

/// One writer's part of a CSV file: the lines from byte `start` to byte `end`, at most `rows`.
#[derive(Debug, Clone, Copy)]
struct Share {
    start: u64,
    end: u64,
    rows: usize,
}

impl Share {
    /// The whole file after its header.
    fn whole() -> Share {
        Share { start: 0, end: u64::MAX, rows: usize::MAX }
    }

    /// `n` shares of the file after its header, split at line starts; `limit` rows in all.
    fn split(path: &Path, n: usize, limit: Option<usize>) -> anyhow::Result<Vec<Share>> {
        let len = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?.len();
        let mut reader = BufReader::new(File::open(path)?);
        let mut line = Vec::new();
        let header = reader.read_until(b'\n', &mut line)? as u64;
        let mut bounds = vec![header];
        for i in 1..n as u64 {
            let at = (header + (len - header) * i / n as u64).max(*bounds.last().expect("a bound"));
            reader.seek(SeekFrom::Start(at.saturating_sub(1)))?;
            line.clear();
            let skipped = reader.read_until(b'\n', &mut line)? as u64;
            bounds.push(at.saturating_sub(1) + skipped);
        }
        bounds.push(len);
        Ok((0..n)
            .map(|i| {
                let rows = limit.map_or(usize::MAX, |l| l / n + usize::from(i < l % n));
                Share { start: bounds[i], end: bounds[i + 1], rows }
            })
            .collect())
    }
}

#[derive(Debug, Default)]
struct Sent {
    rows: u64,
    statements: u64,
    bytes: u64,
}

/// Reads the lines of one share of a CSV file.
struct ShareReader {
    reader: BufReader<File>,
    at: u64,
    end: u64,
    left: usize,
    line: String,
}

impl ShareReader {
    fn open(path: &Path, share: Share) -> anyhow::Result<ShareReader> {
        let mut reader = BufReader::with_capacity(1 << 20, File::open(path)?);
        let mut header = Vec::new();
        let at = share.start.max(reader.read_until(b'\n', &mut header)? as u64);
        reader.seek(SeekFrom::Start(at))?;
        Ok(ShareReader { reader, at, end: share.end, left: share.rows, line: String::new() })
    }

    /// Appends the next non-empty line, ending in `\n`, to `out`; false past the share's end.
    fn next_into(&mut self, out: &mut String) -> anyhow::Result<bool> {
        while self.left > 0 && self.at < self.end {
            self.line.clear();
            let n = self.reader.read_line(&mut self.line)?;
            if n == 0 {
                break;
            }
            self.at += n as u64;
            let line = self.line.trim_end_matches(['\r', '\n']);
            if !line.is_empty() {
                out.push_str(line);
                out.push('\n');
                self.left -= 1;
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// Sends one share of the CSV at `path` into `table` (`numbers`: columns not quoted in an INSERT).
async fn send_share(client: &Client, table: &str, numbers: &[usize], path: &Path, share: Share, method: Method) -> anyhow::Result<Sent> {
    let mut lines = ShareReader::open(path, share)?;
    let mut sent = Sent::default();
    match method {
        Method::Copy { rows } => loop {
            let sink = client.copy_in::<_, Bytes>(&format!("COPY {table} FROM STDIN WITH (FORMAT csv)")).await.with_context(|| format!("COPY into {table}"))?;
            futures::pin_mut!(sink);
            let (mut buf, mut count) = (String::new(), 0);
            while count < rows.max(1) && lines.next_into(&mut buf)? {
                count += 1;
                if buf.len() >= COPY_MESSAGE {
                    sent.bytes += buf.len() as u64;
                    sink.send(Bytes::from(std::mem::take(&mut buf))).await?;
                }
            }
            sent.bytes += buf.len() as u64;
            if !buf.is_empty() {
                sink.send(Bytes::from(buf)).await?;
            }
            sent.rows += sink.as_mut().finish().await?;
            sent.statements += 1;
            if count < rows.max(1) {
                return Ok(sent);
            }
        },
        Method::Insert { batch } => loop {
            let (mut buf, mut count) = (String::new(), 0);
            while count < batch.max(1) && lines.next_into(&mut buf)? {
                count += 1;
            }
            if count == 0 {
                return Ok(sent);
            }
            client.batch_execute(&insert_statement(table, numbers, &buf)).await.with_context(|| format!("INSERT into {table}"))?;
            sent.rows += count as u64;
            sent.bytes += buf.len() as u64;
            sent.statements += 1;
        },
    }
}

/// `INSERT INTO table VALUES (…), …` for CSV lines; text quoted, `numbers` columns as they are.
fn insert_statement(table: &str, numbers: &[usize], lines: &str) -> String {
    let mut sql = format!("INSERT INTO {table} VALUES ");
    for (n, line) in lines.lines().enumerate() {
        sql.push_str(if n == 0 { "(" } else { ", (" });
        for (i, field) in fields(line).iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            if numbers.contains(&i) {
                sql.push_str(field);
            } else {
                sql.push('\'');
                sql.push_str(&field.replace('\\', "\\\\").replace('\'', "\\'"));
                sql.push('\'');
            }
        }
        sql.push(')');
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_cover_every_line_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.csv");
        let body: String = (0..1000).map(|i| format!("{i},\"a,{i}\"\n")).collect();
        std::fs::write(&path, format!("h1,h2\n{body}")).unwrap();
        let shares = Share::split(&path, 3, None).unwrap();
        let text = std::fs::read(&path).unwrap();
        let joined: Vec<u8> = shares.iter().flat_map(|s| text[s.start as usize..s.end as usize].to_vec()).collect();
        assert_eq!(String::from_utf8(joined).unwrap(), body);
        let limited: Vec<usize> = Share::split(&path, 3, Some(10)).unwrap().iter().map(|s| s.rows).collect();
        assert_eq!(limited, vec![4, 3, 3]);
        assert_eq!(insert_statement("t", &[0], "1,\"it's\"\n2,b\n"), "INSERT INTO t VALUES (1, 'it\\'s'), (2, 'b')");
    }
}
