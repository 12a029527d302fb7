//! `granary bench …`: the command line of the benchmarks. Each subcommand runs against a
//! server started in this process over a temporary directory, or against `--url`, prints
//! markdown tables and writes its figures as JSON.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use crate::csv::EVENTS_FILE;
use crate::ingest::Method;
use crate::stats::markdown;
use crate::target::Target;

/// `granary bench`: generate the dataset, measure ingest, queries, a mixed load, or compare
/// with ClickHouse and DuckDB.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    command: BenchCommand,
}

#[derive(Debug, clap::Subcommand)]
enum BenchCommand {
    /// Write the synthetic dataset as CSV (user_behaviors.csv, items.csv).
    Gen(GenArgs),
    /// Load the CSV by COPY and by INSERT batches; rows/s, MB/s, parts, bytes on disk.
    Ingest(IngestArgs),
    /// Load the CSV, then time the query set (bench/queries/queries.sql).
    Query(QueryArgs),
    /// Writers inserting small batches and readers running the dashboard, for a while.
    Load(LoadArgs),
    /// The same CSV and queries in Granary, ClickHouse (chdb) and DuckDB.
    Compare(CompareArgs),
}

#[derive(Debug, clap::Args)]
struct GenArgs {
    /// Events to generate.
    #[arg(long, default_value_t = 1_000_000)]
    rows: usize,
    /// Directory to write into.
    #[arg(long, default_value = "bench-data")]
    out: PathBuf,
}

/// Where the CSV is, and how big to make it if it is not there yet.
#[derive(Debug, clap::Args)]
struct DataArgs {
    /// Directory with user_behaviors.csv and items.csv (generated if missing).
    #[arg(long, default_value = "bench-data")]
    data: PathBuf,
    /// Events to generate when the directory has no CSV yet.
    #[arg(long, default_value_t = 1_000_000)]
    rows: usize,
    /// Connection string of a running server (its benchmark tables are replaced); default: a
    /// server in this process over a temporary directory.
    #[arg(long)]
    url: Option<String>,
}

#[derive(Debug, clap::Args)]
struct IngestArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Ways to load, in order: `copy`, or a number of rows per INSERT.
    #[arg(long, value_delimiter = ',', default_value = "copy,1,100,10000")]
    methods: Vec<String>,
    /// Concurrent writer connections.
    #[arg(long, default_value_t = 2)]
    writers: usize,
    /// Statements per writer at most for INSERT methods (batch 1 is slow by nature).
    #[arg(long, default_value_t = 500)]
    max_statements: usize,
    /// Where to write the figures.
    #[arg(long, default_value = "bench-ingest.json")]
    json: PathBuf,
}

#[derive(Debug, clap::Args)]
struct QueryArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Timed runs per query, after one warm-up.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Load by INSERT batches of 10,000 rows instead of COPY.
    #[arg(long)]
    insert: bool,
    /// Where to write the figures.
    #[arg(long, default_value = "bench-query.json")]
    json: PathBuf,
}

#[derive(Debug, clap::Args)]
struct LoadArgs {
    /// Connection string of a running server (the schema is created if missing, nothing is
    /// preloaded); default: a server in this process, preloaded with `--rows` events.
    #[arg(long)]
    url: Option<String>,
    /// Events of the last 90 days to preload.
    #[arg(long, default_value_t = 1_000_000)]
    rows: usize,
    /// Writer connections.
    #[arg(long, default_value_t = 2)]
    writers: usize,
    /// Rows per INSERT.
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// Dashboard connections.
    #[arg(long, default_value_t = 4)]
    readers: usize,
    /// Seconds to run.
    #[arg(long, default_value_t = 30.0)]
    duration: f64,
    /// Where to write the figures.
    #[arg(long, default_value = "bench-load.json")]
    json: PathBuf,
}

#[derive(Debug, clap::Args)]
struct CompareArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Timed runs per query and engine, after one warm-up.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Python with chdb and duckdb (bench/setup-venv.sh); default
    /// ~/.cache/granary-bench-venv/bin/python.
    #[arg(long)]
    python: Option<PathBuf>,
    /// Load Granary by INSERT batches of 10,000 rows instead of COPY.
    #[arg(long)]
    insert: bool,
    /// Where to write the figures.
    #[arg(long, default_value = "bench-compare.json")]
    json: PathBuf,
}

/// Runs a `granary bench` subcommand.
pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    match args.command {
        BenchCommand::Gen(a) => gen(&a.out, a.rows).map(|_| ()),
        BenchCommand::Ingest(a) => runtime.block_on(ingest(a)),
        BenchCommand::Query(a) => runtime.block_on(query(a)),
        BenchCommand::Load(a) => runtime.block_on(load(a)),
        BenchCommand::Compare(a) => runtime.block_on(compare(a)),
    }
}

fn gen(out: &Path, rows: usize) -> anyhow::Result<crate::csv::GenReport> {
    let bar = indicatif::ProgressBar::new(rows as u64);
    bar.set_style(indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} events  {per_sec}  {elapsed}")?);
    let report = crate::csv::generate(out, rows, |n| bar.set_position(n as u64))?;
    bar.finish_and_clear();
    println!(
        "wrote {} events ({:.1} MB) to {} in {:.2} s: {:.0} rows/s",
        report.rows,
        report.bytes as f64 / 1e6,
        report.path.display(),
        report.seconds,
        report.rows as f64 / report.seconds.max(1e-9)
    );
    Ok(report)
}

impl DataArgs {
    /// The CSV directory, generated first if it has no events file.
    fn ready(&self) -> anyhow::Result<&Path> {
        if !self.data.join(EVENTS_FILE).exists() {
            gen(&self.data, self.rows)?;
        }
        Ok(&self.data)
    }

    async fn target(&self) -> anyhow::Result<Target> {
        match &self.url {
            Some(url) => Ok(Target::remote(url)),
            None => Target::local().await,
        }
    }
}

fn write_json(path: &Path, value: &impl serde::Serialize) -> anyhow::Result<()> {
    std::fs::write(path, serde_json::to_vec_pretty(value)?).with_context(|| format!("writing {}", path.display()))?;
    println!("figures written to {}", path.display());
    Ok(())
}

fn parse_method(text: &str) -> anyhow::Result<Method> {
    match text {
        "copy" => Ok(Method::Copy { rows: usize::MAX }),
        n => Ok(Method::Insert { batch: n.parse().with_context(|| format!("method {n:?}: `copy` or rows per INSERT"))? }),
    }
}

async fn ingest(args: IngestArgs) -> anyhow::Result<()> {
    let dir = args.data.ready()?;
    let methods = args.methods.iter().map(|m| parse_method(m)).collect::<anyhow::Result<Vec<_>>>()?;
    let target = args.data.target().await?;
    let client = target.connect().await?;
    let mut reports = Vec::new();
    for method in methods {
        let limit = match method {
            Method::Copy { .. } => None,
            Method::Insert { batch } => Some(batch * args.max_statements * args.writers),
        };
        crate::ingest::create_tables(&client).await?;
        println!("{method} from {} writers…", args.writers);
        let r = crate::ingest::ingest(&target.url, &dir.join(EVENTS_FILE), method, args.writers, limit).await?;
        println!("  {} rows in {:.2} s: {:.0} rows/s, {:.1} MB/s", r.rows, r.seconds, r.rows_per_sec, r.mb_per_sec);
        reports.push(r);
    }
    let rows: Vec<Vec<String>> = reports
        .iter()
        .map(|r| {
            vec![
                r.method.clone(),
                r.writers.to_string(),
                r.rows.to_string(),
                r.statements.to_string(),
                format!("{:.2}", r.seconds),
                format!("{:.0}", r.rows_per_sec),
                format!("{:.1}", r.mb_per_sec),
                r.parts_after_ingest.to_string(),
                r.parts_settled.to_string(),
                format!("{:.1}", r.bytes_on_disk as f64 / 1e6),
            ]
        })
        .collect();
    println!("\n{}", markdown(&["method", "writers", "rows", "statements", "s", "rows/s", "MB/s", "parts after", "parts settled", "MB on disk"], &rows));
    write_json(&args.json, &reports)?;
    target.stop().await
}

async fn query(args: QueryArgs) -> anyhow::Result<()> {
    let dir = args.data.ready()?;
    let target = args.data.target().await?;
    let method = if args.insert { Method::Insert { batch: 10_000 } } else { parse_method("copy")? };
    let loaded = crate::ingest::load(&target.url, dir, method, 1, None).await?;
    println!("loaded {} rows by {} in {:.1} s ({} parts after merges)", loaded.rows, loaded.method, loaded.seconds, loaded.parts_settled);
    let client = target.connect().await?;
    let runs = crate::query::run(&client, &crate::queries::parse(crate::queries::QUERIES), args.runs, |r| eprintln!("  {} {}", r.id, crate::stats::ms(r.median()))).await;
    println!("\n{}", crate::query::table(&runs));
    write_json(&args.json, &runs)?;
    target.stop().await
}

async fn load(args: LoadArgs) -> anyhow::Result<()> {
    let target = match &args.url {
        Some(url) => {
            crate::target::connect(url).await?.batch_execute(crate::demo::SCHEMA).await.context("creating the behaviour schema")?;
            Target::remote(url)
        }
        None => {
            let dir = tempfile::tempdir()?;
            let db = granary_engine::Database::open(dir.path()).map_err(|e| anyhow::anyhow!("cannot open {}: {e}", dir.path().display()))?;
            println!("preloading {} events of the last 90 days…", args.rows);
            let loaded = crate::demo::load(&db, args.rows, |_| {})?;
            println!("  in {:.1} s", loaded.seconds);
            Target::serve(db, Some(dir)).await?
        }
    };
    let options = crate::load::LoadOptions { writers: args.writers, batch: args.batch, readers: args.readers, duration: Duration::from_secs_f64(args.duration) };
    let progress = Arc::new(crate::load::Progress::default());
    let bar = indicatif::ProgressBar::new((args.duration * 10.0) as u64);
    bar.set_style(indicatif::ProgressStyle::with_template("{bar:40} {elapsed}/{duration}  {msg}")?);
    let ticker = {
        let (bar, progress) = (bar.clone(), progress.clone());
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                bar.set_position((started.elapsed().as_secs_f64() * 10.0) as u64);
                let load = |a: &std::sync::atomic::AtomicU64| a.load(std::sync::atomic::Ordering::Relaxed);
                bar.set_message(format!("{} dashboard queries, {} inserts, {} errors", load(&progress.reads), load(&progress.writes), load(&progress.errors)));
            }
        })
    };
    let report = crate::load::run(&target.url, &options, progress).await?;
    ticker.abort();
    bar.finish_and_clear();
    println!(
        "{:.1} s, {} writers x {} rows, {} readers: {} rows written, {} errors",
        report.seconds, report.writers, report.batch, report.readers, report.rows_written, report.errors
    );
    for e in &report.error_samples {
        println!("  error: {e}");
    }
    println!("\n{}", report.table());
    write_json(&args.json, &report)?;
    target.stop().await
}

async fn compare(args: CompareArgs) -> anyhow::Result<()> {
    let dir = args.data.ready()?.to_path_buf();
    let python = match args.python {
        Some(p) => p,
        None => PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/granary-bench-venv/bin/python"),
    };
    let target = args.data.target().await?;
    let method = if args.insert { Method::Insert { batch: 10_000 } } else { parse_method("copy")? };
    let options = crate::compare::CompareOptions { data: dir, runs: args.runs, python, method };
    let report = crate::compare::run(&target.url, &options, |m| eprintln!("{m}")).await?;
    println!("\n{}", report.tables());
    write_json(&args.json, &report)?;
    target.stop().await
}
