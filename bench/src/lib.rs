//! Granary's benchmark crate: the synthetic behaviour dataset and the demo that loads it.
//! The load harness and the comparison with ClickHouse and DuckDB build on these.

pub mod dataset;
pub mod demo;
