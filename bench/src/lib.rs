//! Granary's benchmark crate: the synthetic behaviour dataset, the demo that loads it, and
//! `granary bench` — the CSV generator, the ingest, query and mixed-load benchmarks over
//! pgwire, and the comparison with ClickHouse and DuckDB (`docs/benchmarks.md`).

pub mod cli;
pub mod compare;
pub mod csv;
pub mod dataset;
pub mod demo;
pub mod ingest;
pub mod load;
pub mod queries;
pub mod query;
pub mod stats;
pub mod target;
