//! `granary bench compare`: the same CSV into Granary (over pgwire), ClickHouse (chdb) and
//! DuckDB (both driven by `bench/compare.py` in the virtualenv `bench/setup-venv.sh` makes),
//! the same questions in each one's dialect, one after the other on the same machine. Checks
//! that the answers agree (rows in order, numbers within a relative 1e-6) and reports per
//! query each engine's median milliseconds, Granary's ratios and their geometric means, and
//! each engine's ingest rows/s and bytes on disk.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::Context;
use serde_json::Value;

use crate::ingest::{IngestReport, Method};
use crate::queries::{parse, QUERIES, QUERIES_DUCKDB};
use crate::query::QueryRun;
use crate::stats::{geometric_mean, markdown, ms, percentile};

/// The Python side, written next to its job when it runs.
const DRIVER: &str = include_str!("../compare.py");

/// How to run the comparison.
#[derive(Debug, Clone)]
pub struct CompareOptions {
    /// The directory with `user_behaviors.csv` and `items.csv`.
    pub data: PathBuf,
    /// Timed runs per query (after one warm-up).
    pub runs: usize,
    /// The Python with `chdb` and `duckdb`.
    pub python: PathBuf,
    /// How Granary is loaded.
    pub method: Method,
}

/// One other engine's results, as `compare.py` prints them.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
pub struct Engine {
    /// Name and version.
    pub version: String,
    /// Rows loaded.
    pub rows: u64,
    /// Seconds to load the events.
    pub ingest_seconds: f64,
    /// Bytes the events take on disk.
    pub bytes_on_disk: u64,
    /// Per query.
    pub queries: Vec<EngineQuery>,
}

/// One query on another engine.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
pub struct EngineQuery {
    /// `Q01`..
    pub id: String,
    /// Milliseconds of the timed runs.
    pub ms: Vec<f64>,
    /// The answer.
    pub rows: Vec<Vec<Value>>,
    /// The error, if it failed.
    pub error: Option<String>,
}

/// Everything one comparison measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CompareReport {
    /// Granary's load.
    pub granary_ingest: IngestReport,
    /// Granary's queries.
    pub granary: Vec<QueryRun>,
    /// ClickHouse (chdb).
    pub clickhouse: Engine,
    /// DuckDB.
    pub duckdb: Engine,
}

/// Loads and queries Granary at `url`, then runs the Python side, and reports.
pub async fn run(url: &str, options: &CompareOptions, mut progress: impl FnMut(&str)) -> anyhow::Result<CompareReport> {
    progress("loading Granary");
    let granary_ingest = crate::ingest::load(url, &options.data, options.method, 1, None).await?;
    progress(&format!("Granary: {} rows in {:.1} s", granary_ingest.rows, granary_ingest.seconds));
    let client = crate::target::connect(url).await?;
    let granary = crate::query::run(&client, &parse(QUERIES), options.runs, |r| progress(&format!("Granary {}: {} ms", r.id, ms(r.median())))).await;
    progress("ClickHouse and DuckDB (bench/compare.py)");
    let (data, runs, python) = (options.data.clone(), options.runs, options.python.clone());
    let (clickhouse, duckdb) = tokio::task::spawn_blocking(move || others(&data, runs, &python)).await??;
    Ok(CompareReport { granary_ingest, granary, clickhouse, duckdb })
}

/// Runs `compare.py` on a job and reads its answer.
fn others(data: &Path, runs: usize, python: &Path) -> anyhow::Result<(Engine, Engine)> {
    let dir = tempfile::tempdir()?;
    let job = serde_json::json!({
        "data_dir": data,
        "runs": runs,
        "schema_clickhouse": crate::ingest::SCHEMA,
        "clickhouse": parse(QUERIES),
        "duckdb": parse(QUERIES_DUCKDB),
    });
    let (job_path, driver) = (dir.path().join("job.json"), dir.path().join("compare.py"));
    std::fs::write(&job_path, serde_json::to_vec(&job)?)?;
    std::fs::write(&driver, DRIVER)?;
    let out = Command::new(python)
        .arg(&driver)
        .arg(&job_path)
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("running {} (make it with bench/setup-venv.sh)", python.display()))?;
    anyhow::ensure!(out.status.success(), "{} compare.py failed: {}", python.display(), out.status);
    #[derive(serde::Deserialize)]
    struct Answer {
        clickhouse: Engine,
        duckdb: Engine,
    }
    let answer: Answer = serde_json::from_slice(&out.stdout).context("reading compare.py's answer")?;
    Ok((answer.clickhouse, answer.duckdb))
}

impl CompareReport {
    /// The per-query table and the ingest table, in markdown.
    pub fn tables(&self) -> String {
        let median = |ms: &[f64]| percentile(ms, 50.0);
        let mut rows = Vec::new();
        let (mut g_all, mut c_all, mut d_all, mut gc, mut gd) = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for g in &self.granary {
            let c = self.clickhouse.queries.iter().find(|q| q.id == g.id);
            let d = self.duckdb.queries.iter().find(|q| q.id == g.id);
            let (gm, cm, dm) = (g.median(), c.and_then(|q| median(&q.ms)), d.and_then(|q| median(&q.ms)));
            if let (Some(gm), Some(cm), Some(dm)) = (gm, cm, dm) {
                g_all.push(gm);
                c_all.push(cm);
                d_all.push(dm);
                gc.push(gm / cm);
                gd.push(gm / dm);
            }
            let ratio = |other: Option<f64>| match (gm, other) {
                (Some(a), Some(b)) if b > 0.0 => format!("{:.2}", a / b),
                _ => "-".into(),
            };
            rows.push(vec![g.id.clone(), g.title.clone(), ms(gm), ms(cm), ms(dm), ratio(cm), ratio(dm), verdict(g, c, d)]);
        }
        let mean = |v: &[f64]| geometric_mean(v.iter().copied());
        let ratio_mean = |v: &[f64]| mean(v).map_or("-".into(), |m| format!("{m:.2}"));
        rows.push(vec![
            "geomean".into(),
            format!("{} queries all three answered", g_all.len()),
            ms(mean(&g_all)),
            ms(mean(&c_all)),
            ms(mean(&d_all)),
            ratio_mean(&gc),
            ratio_mean(&gd),
            String::new(),
        ]);
        let queries = markdown(&["query", "", "Granary ms", "ClickHouse ms", "DuckDB ms", "Granary/ClickHouse", "Granary/DuckDB", "answers"], &rows);
        let i = &self.granary_ingest;
        let engine = |name: &str, version: &str, rows: u64, seconds: f64, bytes: u64| {
            vec![
                name.to_string(),
                version.to_string(),
                rows.to_string(),
                format!("{seconds:.1}"),
                format!("{:.0}", rows as f64 / seconds.max(1e-9)),
                format!("{:.1}", bytes as f64 / 1e6),
                format!("{:.1}", bytes as f64 / rows.max(1) as f64),
            ]
        };
        let ingest = markdown(
            &["engine", "how", "rows", "load s", "rows/s", "MB on disk", "bytes/row"],
            &[
                engine("Granary", &format!("{} over pgwire, {} parts after merges", i.method, i.parts_settled), i.rows, i.seconds, i.bytes_on_disk),
                engine("ClickHouse", &format!("{}, INSERT SELECT FROM file()", self.clickhouse.version), self.clickhouse.rows, self.clickhouse.ingest_seconds, self.clickhouse.bytes_on_disk),
                engine("DuckDB", &format!("{}, COPY + CHECKPOINT (whole file)", self.duckdb.version), self.duckdb.rows, self.duckdb.ingest_seconds, self.duckdb.bytes_on_disk),
            ],
        );
        format!("{queries}\n{ingest}")
    }
}

/// `same`, or which engines answer differently or failed.
fn verdict(g: &QueryRun, c: Option<&EngineQuery>, d: Option<&EngineQuery>) -> String {
    if let Some(e) = &g.error {
        return format!("Granary failed: {}", e.replace('|', "/"));
    }
    let mut notes = Vec::new();
    for (name, other) in [("ClickHouse", c), ("DuckDB", d)] {
        match other {
            None => notes.push(format!("{name}: not run")),
            Some(q) if q.error.is_some() => notes.push(format!("{name} failed")),
            Some(q) if !same_rows(&g.rows, &q.rows) => notes.push(format!("differs from {name}")),
            Some(_) => {}
        }
    }
    if notes.is_empty() {
        "same".into()
    } else {
        notes.join(", ")
    }
}

/// Whether Granary's text rows and another engine's JSON rows say the same.
pub fn same_rows(granary: &[Vec<Option<String>>], other: &[Vec<Value>]) -> bool {
    granary.len() == other.len()
        && granary.iter().zip(other).all(|(a, b)| {
            a.len() == b.len()
                && a.iter().zip(b).all(|(x, y)| {
                    let y = match y {
                        Value::Null => None,
                        Value::String(s) => Some(s.clone()),
                        other => Some(other.to_string()),
                    };
                    same_value(x.as_deref(), y.as_deref())
                })
        })
}

/// Equal text, numbers within a relative 1e-6, or times equal up to trailing zeros of the
/// fraction of a second.
fn same_value(a: Option<&str>, b: Option<&str>) -> bool {
    let (Some(a), Some(b)) = (a, b) else { return a == b };
    if a == b {
        return true;
    }
    if let (Ok(x), Ok(y)) = (a.parse::<f64>(), b.parse::<f64>()) {
        return (x - y).abs() <= 1e-6 * x.abs().max(y.abs()) + 1e-9;
    }
    let time = |s: &str| if s.contains(':') && s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s.to_string() };
    time(a) == time(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_agree_across_spellings() {
        let g = vec![vec![Some("2026-11-20 10:00:00".to_string()), Some("0.1".into()), None, Some("7".into())]];
        let o = vec![vec![Value::from("2026-11-20 10:00:00.000"), Value::from(0.10000000149011612), Value::Null, Value::from(7)]];
        assert!(same_rows(&g, &o));
        assert!(!same_rows(&g, &[vec![Value::from("2026-11-20 10:00:00.001"), Value::from(0.1), Value::Null, Value::from(7)]]));
        assert!(!same_rows(&g, &[]));
        assert!(same_value(Some("2026-11-20 10:00:00.120"), Some("2026-11-20 10:00:00.12")));
    }
}
