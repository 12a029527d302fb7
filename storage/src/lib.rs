//! Granary storage: data types, column vectors, blocks, codecs and MergeTree parts.
//!
//! This crate knows bytes and columns, never SQL. Its promises: a part is immutable once
//! written; a commit makes any set of new parts (across tables) visible atomically and
//! durably; a reader's snapshot never changes under it.

pub mod array;
pub mod block;
pub mod codec;
pub mod collapse;
pub mod column;
pub mod commit;
pub mod dict;
pub mod error;
pub mod index;
pub mod merge;
pub mod part;
pub mod skip;
pub mod sort;
pub mod table;
pub mod text;
pub mod time;
pub mod types;
pub mod value;

pub use block::Block;
pub use column::{Column, ColumnData, ColumnRef, StringData};
pub use error::{Result, StorageError};
pub use types::DataType;
pub use value::Value;
