//! Granary's query layer: SQL text to result blocks.
//!
//! `parse` turns text into statements, `bind` resolves names and types into a `SelectPlan`,
//! and `exec` runs it over column blocks read from storage. Nothing here touches the network
//! or persists anything; the engine drives it.

pub mod accumulators;
pub mod aggregate;
pub mod aggregation;
pub mod bind;
pub mod catalog;
pub mod coding;
pub mod error;
pub mod exec;
pub mod expr;
mod flat_map;
pub mod functions;
pub mod group;
mod group_numbers;
pub mod kernels;
pub mod interval;
pub mod join;
pub mod like;
mod number_set;
pub mod parse;
pub mod plan;
mod prewhere;
mod sort;
pub mod states;
mod top_n;
pub mod window;

pub use error::{ErrorKind, QueryError, Result};
pub use sqlparser;
