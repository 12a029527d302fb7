//! Errors of the storage layer.

use std::path::PathBuf;

use crate::types::DataType;

/// Everything that can go wrong below SQL: I/O, corruption, bad values.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("I/O error at {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("part {path} is corrupt: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error("unknown data type {0}")]
    UnknownType(String),
    #[error("cannot parse '{text}' as {ty}")]
    InvalidText { text: String, ty: DataType },
    #[error("{0}")]
    Invalid(String),
}

/// Result of storage operations.
pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// Attaches a path to an I/O error.
pub(crate) fn io_at(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> StorageError {
    let path = path.into();
    move |source| StorageError::Io { path, source }
}
