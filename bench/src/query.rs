//! `granary bench query`: each query of the set once to warm up, then N timed runs over
//! pgwire (simple protocol, the answer read to the end): median and p95 milliseconds, the
//! answer's rows, the granules the plan selects as `EXPLAIN` reports them, and the rows the
//! last run read as `system.query_log` recorded them.

use std::time::Instant;

use tokio_postgres::{Client, SimpleQueryMessage};

use crate::queries::Query;
use crate::stats::{markdown, ms, percentile};

/// One query's runs.
#[derive(Debug, Clone, serde::Serialize)]
pub struct QueryRun {
    /// `Q01`..
    pub id: String,
    /// What the query asks.
    pub title: String,
    /// Milliseconds of each timed run.
    pub runs_ms: Vec<f64>,
    /// The answer of the last run, every value as text (`None` for NULL).
    pub rows: Vec<Vec<Option<String>>>,
    /// Granules selected and in all, summed over the scans `EXPLAIN` lists.
    pub granules: Option<(u64, u64)>,
    /// Rows the scans of the last run read (`system.query_log.read_rows`).
    pub rows_read: Option<u64>,
    /// The error, if the query failed.
    pub error: Option<String>,
}

impl QueryRun {
    /// The median of the timed runs.
    pub fn median(&self) -> Option<f64> {
        percentile(&self.runs_ms, 50.0)
    }

    /// The 95th percentile of the timed runs.
    pub fn p95(&self) -> Option<f64> {
        percentile(&self.runs_ms, 95.0)
    }
}

/// Runs every query once to warm up and `runs` times timed, calling `progress` after each.
pub async fn run(client: &Client, queries: &[Query], runs: usize, mut progress: impl FnMut(&QueryRun)) -> Vec<QueryRun> {
    let mut out = Vec::new();
    for q in queries {
        let mut r = QueryRun { id: q.id.clone(), title: q.title.clone(), runs_ms: Vec::new(), rows: Vec::new(), granules: None, rows_read: None, error: None };
        match text_rows(client, &q.sql).await {
            Err(e) => r.error = Some(e.to_string()),
            Ok(_) => {
                for _ in 0..runs {
                    let started = Instant::now();
                    match text_rows(client, &q.sql).await {
                        Ok(rows) => {
                            r.runs_ms.push(started.elapsed().as_secs_f64() * 1000.0);
                            r.rows = rows;
                        }
                        Err(e) => {
                            r.error = Some(e.to_string());
                            break;
                        }
                    }
                }
                r.granules = granules(client, &q.sql).await;
                r.rows_read = rows_read(client, &q.sql).await;
            }
        }
        progress(&r);
        out.push(r);
    }
    out
}

/// The rows of a statement's answer as text.
pub async fn text_rows(client: &Client, sql: &str) -> Result<Vec<Vec<Option<String>>>, tokio_postgres::Error> {
    let mut rows = Vec::new();
    for message in client.simple_query(sql).await? {
        if let SimpleQueryMessage::Row(row) = message {
            rows.push((0..row.len()).map(|i| row.get(i).map(str::to_string)).collect());
        }
    }
    Ok(rows)
}

/// Sums the `Granules: selected/total` lines of the statement's `EXPLAIN`.
async fn granules(client: &Client, sql: &str) -> Option<(u64, u64)> {
    let lines = text_rows(client, &format!("EXPLAIN {sql}")).await.ok()?;
    let mut found = None;
    for line in lines.iter().flatten().flatten() {
        if let Some((selected, total)) = line.trim().strip_prefix("Granules: ").and_then(|g| g.split_once('/')) {
            let (s, t) = found.unwrap_or((0, 0));
            found = Some((s + selected.trim().parse::<u64>().ok()?, t + total.trim().parse::<u64>().ok()?));
        }
    }
    // A plan whose scans all run while binding (a join, a subquery in FROM) lists none.
    found.filter(|&(_, total)| total > 0)
}

/// The rows the latest run of `sql` read, from the query log.
async fn rows_read(client: &Client, sql: &str) -> Option<u64> {
    let row = client
        .query_opt("SELECT read_rows::Int64 FROM system.query_log WHERE query = $1 AND exception = '' ORDER BY event_time DESC LIMIT 1", &[&sql])
        .await
        .ok()??;
    u64::try_from(row.get::<_, i64>(0)).ok()
}

/// The runs as a markdown table.
pub fn table(runs: &[QueryRun]) -> String {
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|r| {
            vec![
                r.id.clone(),
                r.title.clone(),
                ms(r.median()),
                ms(r.p95()),
                r.rows.len().to_string(),
                r.granules.map_or("-".into(), |(s, t)| format!("{s}/{t}")),
                r.rows_read.map_or("-".into(), |n| n.to_string()),
                r.error.as_deref().map_or(String::new(), |e| e.replace('|', "/")),
            ]
        })
        .collect();
    markdown(&["query", "", "median ms", "p95 ms", "rows", "granules", "rows read", "error"], &rows)
}
