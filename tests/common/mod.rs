//! Helpers the embedded-engine test files share.

use granary_engine::{Database, Output, Session, Value};

/// The rows of the last statement of `sql`, as values.
pub fn rows(session: &mut Session, sql: &str) -> Vec<Vec<Value>> {
    let mut out = session.execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let Some(Output::Rows { blocks, .. }) = out.pop() else { panic!("{sql} returned no rows") };
    blocks.iter().flat_map(|b| (0..b.rows()).map(move |r| b.columns.iter().map(|c| c.value(r)).collect::<Vec<_>>())).collect()
}

/// A new database in a temporary directory, and a session on it.
pub fn fresh() -> (tempfile::TempDir, std::sync::Arc<Database>, Session) {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path()).unwrap();
    let s = db.session();
    (dir, db, s)
}
