//! The `granary` binary: `granary serve` (the default) runs the Postgres-protocol server.

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
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let cli = Cli::parse();
    let args = match cli.command {
        Some(Command::Serve(args)) => args,
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
