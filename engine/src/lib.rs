//! Granary's engine: the database you embed.
//!
//! ```no_run
//! let db = granary_engine::Database::open("/tmp/granary-example").unwrap();
//! let mut session = db.session();
//! session.execute("CREATE TABLE t (x UInt64) ENGINE = MergeTree ORDER BY x").unwrap();
//! session.execute("INSERT INTO t VALUES (1), (2)").unwrap();
//! let out = session.execute("SELECT sum(x) FROM t").unwrap();
//! ```
//!
//! It owns the catalog (table definitions on disk), sessions, and the write path; queries are
//! planned and run by `granary_query`, data is kept by `granary_storage`.

pub mod background;
pub mod catalog;
pub mod copy;
pub mod database;
pub mod insert;
pub mod partition;
pub mod pg_catalog;
pub mod query_log;
pub mod session;
pub mod settings;
pub mod stats;
pub mod system;
pub mod ttl;
pub mod users;
pub mod view;
mod write_pool;

pub use copy::{CopyIn, CopySpec};
pub use granary_query::parse::CopyOptions;
pub use database::{Database, Options, DEFAULT_DATABASE};
pub use granary_query::exec::{ScanStats, STATEMENT_STACK_SIZE};
pub use granary_query::functions::pg::type_oid as pg_type_oid;
pub use granary_query::parse::ParseLimits;
pub use granary_query::plan::Field;
pub use granary_query::{ErrorKind, QueryError as Error};
pub use granary_storage::{Block, Column, DataType, Value};
pub use session::{Output, Prepared, Session};
pub use granary_storage::time;
