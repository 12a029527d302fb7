//! The one place engine error kinds become Postgres SQLSTATE codes.

use granary_engine::ErrorKind;

/// The SQLSTATE a client sees for an error kind.
pub fn sqlstate(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Syntax => "42601",
        ErrorKind::UndefinedTable => "42P01",
        ErrorKind::UndefinedColumn => "42703",
        ErrorKind::UndefinedFunction => "42883",
        ErrorKind::UndefinedType => "42704",
        ErrorKind::DatatypeMismatch => "42804",
        ErrorKind::DuplicateTable => "42P07",
        ErrorKind::DuplicateColumn => "42701",
        ErrorKind::DuplicateObject => "42710",
        ErrorKind::UndefinedObject => "42704",
        ErrorKind::Grouping => "42803",
        ErrorKind::InvalidText => "22P02",
        ErrorKind::BadCopyFormat => "22P04",
        ErrorKind::InsufficientPrivilege => "42501",
        ErrorKind::DivisionByZero => "22012",
        ErrorKind::InvalidParameter => "22023",
        ErrorKind::NotSupported => "0A000",
        ErrorKind::Cancelled => "57014",
        ErrorKind::LimitExceeded => "53400",
        ErrorKind::MemoryLimit => "53200",
        ErrorKind::ProgramLimit => "54000",
        ErrorKind::DataCorrupted => "XX001",
        ErrorKind::Io => "58030",
        ErrorKind::Internal => "XX000",
    }
}
