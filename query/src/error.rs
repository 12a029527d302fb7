//! Errors of the query layer, each with a kind the server maps to a Postgres SQLSTATE.

use granary_storage::StorageError;

/// What class of problem a query hit; one kind per SQLSTATE the server reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The SQL text does not parse.
    Syntax,
    /// A table (or database) does not exist.
    UndefinedTable,
    /// A column name does not resolve.
    UndefinedColumn,
    /// A function name does not resolve, or no overload takes these argument types.
    UndefinedFunction,
    /// A type name is unknown.
    UndefinedType,
    /// An operator got operands of types it cannot combine.
    DatatypeMismatch,
    /// CREATE of something that already exists.
    DuplicateTable,
    /// A column appears twice in a definition.
    DuplicateColumn,
    /// CREATE of a user (or another non-table object) that already exists.
    DuplicateObject,
    /// A user (or another non-table object) does not exist.
    UndefinedObject,
    /// A column outside GROUP BY used without an aggregate.
    Grouping,
    /// A text value cannot be read as the wanted type.
    InvalidText,
    /// COPY data is not laid out as its format says (missing or extra columns, an open quote).
    BadCopyFormat,
    /// The statement needs a right the client does not have (server files, for instance).
    InsufficientPrivilege,
    /// Integer division or modulo by zero.
    DivisionByZero,
    /// A value does not fit the wanted type or an argument is out of range.
    InvalidParameter,
    /// Valid SQL that Granary does not (yet) support.
    NotSupported,
    /// The query was cancelled.
    Cancelled,
    /// A limit was reached (too many parts to take another insert).
    LimitExceeded,
    /// A query would hold more memory than `max_memory_usage` allows.
    MemoryLimit,
    /// A statement is too long or nests too deeply to be parsed (`max_query_size`,
    /// `max_expression_depth`).
    ProgramLimit,
    /// Stored data is unreadable.
    DataCorrupted,
    /// Disk or other I/O failure.
    Io,
    /// A bug: an invariant of Granary itself did not hold.
    Internal,
}

/// A query error: its kind and a message for the user.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct QueryError {
    /// The class of error.
    pub kind: ErrorKind,
    /// What went wrong, in words for the person who wrote the query.
    pub message: String,
}

impl QueryError {
    /// An error of a kind with a message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> QueryError {
        QueryError { kind, message: message.into() }
    }
}

impl From<StorageError> for QueryError {
    fn from(e: StorageError) -> Self {
        let kind = match &e {
            StorageError::Io { .. } => ErrorKind::Io,
            StorageError::Corrupt { .. } => ErrorKind::DataCorrupted,
            StorageError::UnknownType(_) => ErrorKind::UndefinedType,
            StorageError::InvalidText { .. } => ErrorKind::InvalidText,
            StorageError::Invalid(_) => ErrorKind::DatatypeMismatch,
        };
        QueryError::new(kind, e.to_string())
    }
}

impl From<sqlparser::parser::ParserError> for QueryError {
    fn from(e: sqlparser::parser::ParserError) -> Self {
        QueryError::new(ErrorKind::Syntax, format!("syntax error: {e}"))
    }
}

/// Result of query operations.
pub type Result<T, E = QueryError> = std::result::Result<T, E>;

/// Returns early with a `QueryError` of the given kind and a formatted message.
#[macro_export]
macro_rules! bail {
    ($kind:ident, $($arg:tt)*) => {
        return Err($crate::error::QueryError::new($crate::error::ErrorKind::$kind, format!($($arg)*)))
    };
}
pub use crate::bail;
