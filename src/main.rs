//! The `granary` binary: `granary serve` (the default) runs the Postgres-protocol server;
//! `granary demo` loads the behaviour schema with synthetic events and prints a dashboard;
//! `granary bench` runs the benchmarks (`docs/benchmarks.md`).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// The server's allocator: scan blocks, masks and group tables are allocated and freed by the
/// megabyte on every query, and glibc's malloc hands such blocks back to the kernel and takes
/// them again, zero page by zero page (a tenth of a filtered scan's time went to page faults).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Users file: `name = password` lines (plain text, a SCRAM-SHA-256 verifier, or empty
    /// for none); they come on top of users made with CREATE USER.
    #[arg(long)]
    users: Option<PathBuf>,
    /// How users with a password log in.
    #[arg(long, value_enum, default_value_t = PasswordMethodArg::ScramSha256)]
    password_method: PasswordMethodArg,
    /// PEM certificate chain for TLS (with --tls-key).
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key for TLS (with --tls-cert).
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Address of the Prometheus endpoint, GET /metrics (e.g. 127.0.0.1:9363); off if not given.
    #[arg(long)]
    http: Option<String>,
    /// Connections served at once.
    #[arg(long, default_value_t = granary_server::Limits::default().max_connections)]
    max_connections: usize,
    /// Bytes one protocol message may have.
    #[arg(long, default_value_t = granary_server::Limits::default().max_message_size)]
    max_message_size: usize,
    /// Bytes of SQL text one query may have.
    #[arg(long, default_value_t = granary_engine::ParseLimits::default().max_query_size)]
    max_query_size: usize,
    /// How deeply operators and parentheses may nest in one expression.
    #[arg(long, default_value_t = granary_engine::ParseLimits::default().max_expression_depth)]
    max_expression_depth: usize,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum PasswordMethodArg {
    /// SCRAM-SHA-256 (the default, as in Postgres).
    ScramSha256,
    /// MD5, for old clients.
    Md5,
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
    let runtime = granary_server::runtime()?;
    runtime.block_on(async move {
        let limits = granary_engine::ParseLimits { max_query_size: args.max_query_size, max_expression_depth: args.max_expression_depth };
        let options = granary_engine::Options { merge_threads: args.merge_threads, users_file: args.users.clone(), limits };
        let db = granary_engine::Database::open_with(&args.data, options).map_err(|e| anyhow::anyhow!("cannot open {}: {e}", args.data.display()))?;
        let listener = tokio::net::TcpListener::bind(&args.listen).await?;
        granary_server::check_listen_address(listener.local_addr()?, &db).map_err(|e| anyhow::anyhow!(e))?;
        let tls = match (&args.tls_cert, &args.tls_key) {
            (Some(cert), Some(key)) => Some(granary_server::tls_acceptor(cert, key)?),
            _ => None,
        };
        let config = granary_server::ServerConfig {
            password_method: match args.password_method {
                PasswordMethodArg::ScramSha256 => granary_server::PasswordMethod::ScramSha256,
                PasswordMethodArg::Md5 => granary_server::PasswordMethod::Md5,
            },
            tls,
            limits: granary_server::Limits { max_connections: args.max_connections, max_message_size: args.max_message_size },
            counters: Default::default(),
        };
        let (stop, stopped) = tokio::sync::watch::channel(false);
        if let Some(http) = &args.http {
            let metrics = tokio::net::TcpListener::bind(http).await?;
            tracing::info!("metrics on http://{http}/metrics");
            let mut stopped = stopped.clone();
            tokio::spawn(granary_server::serve_metrics(metrics, db.clone(), config.counters.clone(), async move {
                let _ = stopped.changed().await;
            }));
        }
        tracing::info!("Granary {} listening on {} (data in {})", env!("CARGO_PKG_VERSION"), args.listen, args.data.display());
        granary_server::serve_with(listener, db, config, granary_server::shutdown_signal()).await?;
        let _ = stop.send(true);
        tracing::info!("shut down cleanly");
        anyhow::Ok(())
    })
}
