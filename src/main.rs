//! The `granary` binary: `granary serve` (the default) runs the Postgres-protocol server;
//! `granary demo` loads the behaviour schema with synthetic events and prints a dashboard;
//! `granary bench` runs the benchmarks (`docs/benchmarks.md`).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Granary: a columnar OLAP engine that speaks the Postgres wire protocol.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (what `granary` does with no subcommand).
    Serve(ServeArgs),
    /// Create the behaviour schema, load synthetic events and print the busiest tenant's dashboard.
    Demo(DemoArgs),
    /// Benchmarks: generate the dataset, ingest, query, mixed load, compare with ClickHouse and DuckDB.
    Bench(granary_bench::cli::BenchArgs),
}

#[derive(clap::Args)]
struct DemoArgs {
    /// Events to load.
    #[arg(long, default_value_t = 1_000_000)]
    rows: usize,
    /// Data directory; must not exist yet (default: a temporary directory, removed afterwards).
    #[arg(long)]
    data: Option<PathBuf>,
}

fn demo(args: DemoArgs) -> anyhow::Result<()> {
    let temp;
    let dir = match &args.data {
        Some(dir) if dir.exists() => anyhow::bail!("{} exists; the demo wants a new directory", dir.display()),
        Some(dir) => dir.clone(),
        None => {
            temp = tempfile::tempdir()?;
            temp.path().to_path_buf()
        }
    };
    let db = granary_engine::Database::open(&dir).map_err(|e| anyhow::anyhow!("cannot open {}: {e}", dir.display()))?;
    println!("Granary demo: the behaviour schema (user_behaviors, metrics_hourly, item_stats_daily) in {}", dir.display());
    let bar = indicatif::ProgressBar::new(args.rows as u64);
    bar.set_style(indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} events  {per_sec}  {elapsed}")?);
    let report = granary_bench::demo::load(&db, args.rows, |n| bar.set_position(n as u64))?;
    bar.finish();
    println!(
        "loaded {} events with their rollups in {:.1} s: {:.0} rows/s",
        report.rows,
        report.seconds,
        report.rows as f64 / report.seconds.max(1e-9)
    );
    let (tenant, scenario) = granary_bench::demo::busiest(&db)?;
    println!("dashboard of the busiest tenant: {tenant}, scenario {scenario}");
    granary_bench::demo::print_dashboard(&db, &tenant, &scenario, &mut std::io::stdout())?;
    Ok(())
}

#[derive(clap::Args, Clone)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:5433")]
    listen: String,
    /// Data directory (created if missing).
    #[arg(long, default_value = "./granary-data")]
    data: PathBuf,
    /// Background merge threads (default: half the cores, at least one).
    #[arg(long)]
    merge_threads: Option<usize>,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // The demo's and the benchmarks' output is their progress and tables; the server logs its work.
    let level = if matches!(cli.command, Some(Command::Demo(_) | Command::Bench(_))) { "warn" } else { "info" };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| level.into()))
        .init();
    let args = match cli.command {
        Some(Command::Serve(args)) => args,
        Some(Command::Demo(args)) => return demo(args),
        Some(Command::Bench(args)) => return granary_bench::cli::run(args),
        None => cli.serve,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let options = granary_engine::Options { merge_threads: args.merge_threads };
        let db = granary_engine::Database::open_with(&args.data, options).map_err(|e| anyhow::anyhow!("cannot open {}: {e}", args.data.display()))?;
        let listener = tokio::net::TcpListener::bind(&args.listen).await?;
        tracing::info!("Granary {} listening on {} (data in {})", env!("CARGO_PKG_VERSION"), args.listen, args.data.display());
        granary_server::serve(listener, db, granary_server::shutdown_signal()).await?;
        tracing::info!("shut down cleanly");
        anyhow::Ok(())
    })
}
