//! `granary bench load`: a mixed workload like a production analytics service for a set
//! duration. W writer connections insert small batches of fresh events into the behaviour
//! schema (`tests/schema/user_behaviors.sql`, materialized views and all); R dashboard
//! connections run the dashboard queries (`tests/schema/dashboard_queries.sql`) as prepared
//! statements for a random tenant and scenario; a probe measures the ingest lag, from an
//! INSERT returning until its row counts in `metrics_hourly`. Latencies go into HDR
//! histograms; the report is JSON and a markdown table.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tokio_postgres::types::ToSql;
use tokio_postgres::Client;

use crate::dataset::{Event, Generator, Rng, Vocabulary, ACTIONS, DEVICE_OS, SCENARIOS, TENANTS};
use crate::demo::dashboard_queries;
use crate::stats::{markdown, ms};

/// Microseconds a histogram holds at most (an hour).
const MAX_MICROS: u64 = 3_600_000_000;
/// Pause between two lag probes.
const PROBE_EVERY: Duration = Duration::from_millis(250);
/// Longest wait for a probe's row.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// The shape of the workload.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Writer connections.
    pub writers: usize,
    /// Rows per INSERT of a writer.
    pub batch: usize,
    /// Dashboard connections.
    pub readers: usize,
    /// How long the workload runs.
    pub duration: Duration,
}

/// Latencies of one kind of operation.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OpStats {
    /// `INSERT`, a dashboard query's title, or `ingest lag`.
    pub name: String,
    /// Operations that succeeded.
    pub count: u64,
    /// Operations per second of the run.
    pub per_sec: f64,
    /// Median milliseconds.
    pub p50_ms: f64,
    /// 95th percentile.
    pub p95_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Slowest.
    pub max_ms: f64,
}

/// What a load run measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LoadReport {
    /// Seconds the workload ran.
    pub seconds: f64,
    /// Writer connections.
    pub writers: usize,
    /// Rows per INSERT.
    pub batch: usize,
    /// Dashboard connections.
    pub readers: usize,
    /// Rows the writers inserted.
    pub rows_written: u64,
    /// Per kind of operation; the dashboard queries together as `dashboard (all)`.
    pub ops: Vec<OpStats>,
    /// The ingest lag probes.
    pub lag: Option<OpStats>,
    /// Failed operations.
    pub errors: u64,
    /// The first few distinct error messages.
    pub error_samples: Vec<String>,
}

impl LoadReport {
    /// The report as a markdown table.
    pub fn table(&self) -> String {
        let rows: Vec<Vec<String>> = self
            .ops
            .iter()
            .chain(&self.lag)
            .map(|o| vec![o.name.clone(), o.count.to_string(), format!("{:.1}", o.per_sec), ms(Some(o.p50_ms)), ms(Some(o.p95_ms)), ms(Some(o.p99_ms)), ms(Some(o.max_ms))])
            .collect();
        markdown(&["operation", "count", "per s", "p50 ms", "p95 ms", "p99 ms", "max ms"], &rows)
    }
}

/// Counters the progress display reads while the workload runs.
#[derive(Debug, Default)]
pub struct Progress {
    /// Dashboard queries answered.
    pub reads: AtomicU64,
    /// INSERTs acknowledged.
    pub writes: AtomicU64,
    /// Failures.
    pub errors: AtomicU64,
}

/// What one connection measured.
#[derive(Default)]
struct Tally {
    latencies: BTreeMap<String, Histogram<u64>>,
    rows: u64,
    errors: u64,
    messages: Vec<String>,
}

impl Tally {
    fn record(&mut self, name: &str, took: Duration) {
        let h = self.latencies.entry(name.to_string()).or_insert_with(histogram);
        h.saturating_record((took.as_micros() as u64).clamp(1, MAX_MICROS));
    }

    fn error(&mut self, e: impl std::fmt::Display, progress: &Progress) {
        self.errors += 1;
        progress.errors.fetch_add(1, Ordering::Relaxed);
        let message = e.to_string();
        if self.messages.len() < 5 && !self.messages.contains(&message) {
            self.messages.push(message);
        }
    }

    fn absorb(&mut self, other: Tally) {
        for (name, h) in other.latencies {
            self.latencies.entry(name).or_insert_with(histogram).add(h).expect("histograms of equal bounds");
        }
        self.rows += other.rows;
        self.errors += other.errors;
        for m in other.messages {
            if self.messages.len() < 5 && !self.messages.contains(&m) {
                self.messages.push(m);
            }
        }
    }
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_MICROS, 3).expect("valid histogram bounds")
}

/// Runs the workload against `url`, whose behaviour schema exists, and reports it.
pub async fn run(url: &str, options: &LoadOptions, progress: Arc<Progress>) -> anyhow::Result<LoadReport> {
    let deadline = Instant::now() + options.duration;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..options.writers {
        let client = crate::target::connect(url).await?;
        let (batch, progress) = (options.batch, progress.clone());
        tasks.push(tokio::spawn(async move { writer(client, w, batch, deadline, &progress).await }));
    }
    for r in 0..options.readers {
        let client = crate::target::connect(url).await?;
        let progress = progress.clone();
        tasks.push(tokio::spawn(async move { reader(client, r, deadline, &progress).await }));
    }
    let probe_client = crate::target::connect(url).await?;
    let probe_progress = progress.clone();
    tasks.push(tokio::spawn(async move { probe(probe_client, deadline, &probe_progress).await }));
    let mut all = Tally::default();
    for task in tasks {
        all.absorb(task.await?);
    }
    let seconds = started.elapsed().as_secs_f64();
    let stats = |name: &str, h: &Histogram<u64>| OpStats {
        name: name.to_string(),
        count: h.len(),
        per_sec: h.len() as f64 / seconds,
        p50_ms: h.value_at_quantile(0.50) as f64 / 1000.0,
        p95_ms: h.value_at_quantile(0.95) as f64 / 1000.0,
        p99_ms: h.value_at_quantile(0.99) as f64 / 1000.0,
        max_ms: h.max() as f64 / 1000.0,
    };
    let lag = all.latencies.remove(LAG).map(|h| stats(LAG, &h));
    let mut dashboard = histogram();
    let mut ops = Vec::new();
    for (name, h) in &all.latencies {
        if name != INSERT {
            dashboard.add(h).expect("histograms of equal bounds");
        }
        ops.push(stats(name, h));
    }
    if options.readers > 0 {
        ops.push(stats("dashboard (all)", &dashboard));
    }
    Ok(LoadReport {
        seconds,
        writers: options.writers,
        batch: options.batch,
        readers: options.readers,
        rows_written: all.rows,
        ops,
        lag,
        errors: all.errors,
        error_samples: all.messages,
    })
}

const INSERT: &str = "INSERT";
const LAG: &str = "ingest lag";

async fn writer(client: Client, n: usize, batch: usize, deadline: Instant, progress: &Progress) -> Tally {
    let mut tally = Tally::default();
    let vocabulary = Vocabulary::default();
    let mut events = Generator::new(1_800_000, 0);
    // Writers draw different events from the same stream.
    events.nth(n * 9_973);
    while Instant::now() < deadline {
        let now = now_ms();
        let mut rows: Vec<Event> = events.by_ref().take(batch).collect();
        if rows.len() < batch {
            events = Generator::new(1_800_000, 0);
            continue;
        }
        for e in &mut rows {
            e.timestamp_ms = now;
        }
        let started = Instant::now();
        match client.batch_execute(&insert_events(&rows, &vocabulary, None)).await {
            Ok(()) => {
                tally.record(INSERT, started.elapsed());
                tally.rows += batch as u64;
                progress.writes.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => tally.error(e, progress),
        }
    }
    tally
}

async fn reader(client: Client, n: usize, deadline: Instant, progress: &Progress) -> Tally {
    let mut tally = Tally::default();
    let mut statements = Vec::new();
    for (title, sql) in dashboard_queries() {
        match client.prepare(sql).await {
            Ok(s) => statements.push((title, s)),
            Err(e) => tally.error(format!("{title}: {e}"), progress),
        }
    }
    if statements.is_empty() {
        return tally;
    }
    let mut rng = Rng(0x5eed + n as u64);
    while Instant::now() < deadline {
        let (title, statement) = &statements[rng.below(statements.len() as u64) as usize];
        let tenant = format!("t{:02}", rng.below(TENANTS as u64));
        let scenario = SCENARIOS[rng.below(SCENARIOS.len() as u64) as usize].0.to_string();
        let values: [&(dyn ToSql + Sync); 2] = [&tenant, &scenario];
        let started = Instant::now();
        match client.query(statement, &values[..statement.params().len().min(2)]).await {
            Ok(_) => {
                tally.record(title, started.elapsed());
                progress.reads.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => tally.error(format!("{title}: {e}"), progress),
        }
    }
    tally
}

/// Now and then inserts one event of its own scenario and times how long after the INSERT
/// returns the event counts in `metrics_hourly` (the time includes one query's round trip).
async fn probe(client: Client, deadline: Instant, progress: &Progress) -> Tally {
    let mut tally = Tally::default();
    let vocabulary = Vocabulary::default();
    let template = Generator::new(1, 0).next().expect("one event");
    let mut n = 0u64;
    while Instant::now() + PROBE_EVERY < deadline {
        n += 1;
        let event = Event { action: 0, timestamp_ms: now_ms(), ..template };
        let sql = insert_events(&[event], &vocabulary, Some(n));
        if let Err(e) = client.batch_execute(&sql).await {
            tally.error(format!("lag probe: {e}"), progress);
            continue;
        }
        let inserted = Instant::now();
        let check = format!("SELECT sum(impressions) FROM metrics_hourly WHERE tenant_id = 'lag' AND scenario_id = 'probe{n}'");
        loop {
            match crate::ingest::first_row(&client, &check).await {
                Ok(row) if row.first().and_then(|v| v.as_deref()).is_some_and(|v| v != "0") => {
                    tally.record(LAG, inserted.elapsed());
                    break;
                }
                Ok(_) if inserted.elapsed() < PROBE_TIMEOUT => tokio::time::sleep(Duration::from_millis(1)).await,
                Ok(_) => {
                    tally.error(format!("lag probe {n}: not in metrics_hourly after {PROBE_TIMEOUT:?}"), progress);
                    break;
                }
                Err(e) => {
                    tally.error(format!("lag probe: {e}"), progress);
                    break;
                }
            }
        }
        tokio::time::sleep(PROBE_EVERY).await;
    }
    tally
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// `INSERT INTO user_behaviors VALUES …` in the behaviour schema's columns (`context` Nested
/// as four one-element arrays); probe `n` has tenant `lag` and scenario `probe{n}`.
fn insert_events(events: &[Event], vocabulary: &Vocabulary, probe: Option<u64>) -> String {
    use std::fmt::Write;
    let mut sql = String::from("INSERT INTO user_behaviors VALUES ");
    for (n, e) in events.iter().enumerate() {
        let (device, os, _) = DEVICE_OS[e.device_os as usize];
        let [a, b, c, d] = e.ip;
        let _ = write!(
            sql,
            "{}('{:016x}', {}, 'u{}', 'i{}', '{}', ['{device}'], ['{os}'], ['{}'], ['{a}.{b}.{c}.{d}'], '{}', {}, {}, '{}', '{}', '",
            if n == 0 { "" } else { ", " },
            e.event_id,
            match probe {
                Some(n) => format!("'lag', 'probe{n}'"),
                None => format!("'t{:02}', '{}'", e.tenant, SCENARIOS[e.scenario as usize].0),
            },
            e.user,
            e.item,
            ACTIONS[e.action as usize].0,
            vocabulary.cities[e.city as usize],
            vocabulary.extra[e.extra as usize],
            e.watch_duration,
            e.completion_rate,
            if e.experiment > 0 { format!("exp{}", e.experiment) } else { String::new() },
            ["", "control", "treatment"][e.group as usize],
        );
        granary_engine::time::format_datetime(e.timestamp_ms, 3, &mut sql);
        sql.push_str("', '");
        granary_engine::time::format_date(e.timestamp_ms.div_euclid(86_400_000), &mut sql);
        sql.push_str("')");
    }
    sql
}
