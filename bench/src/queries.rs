//! The benchmark's query set (`bench/queries/queries.sql` in ClickHouse's dialect, which
//! Granary speaks, and `queries-duckdb.sql`, the same questions for DuckDB): one query per
//! `-- Qnn title` comment.

/// The query set in ClickHouse's dialect.
pub const QUERIES: &str = include_str!("../queries/queries.sql");
/// The same questions in DuckDB's dialect.
pub const QUERIES_DUCKDB: &str = include_str!("../queries/queries-duckdb.sql");

/// One named query.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Query {
    /// `Q01`..
    pub id: String,
    /// What the comment says it asks.
    pub title: String,
    /// The statement, without its `;`.
    pub sql: String,
}

/// The queries of a file, each from its `-- Qnn title` line to the next comment.
pub fn parse(text: &str) -> Vec<Query> {
    let mut out: Vec<Query> = Vec::new();
    let mut open = false;
    for line in text.lines() {
        if let Some(comment) = line.strip_prefix("-- ") {
            let (id, title) = comment.split_once(' ').unwrap_or((comment, ""));
            open = id.len() > 1 && id.starts_with('Q') && id[1..].bytes().all(|b| b.is_ascii_digit());
            if open {
                out.push(Query { id: id.into(), title: title.into(), sql: String::new() });
            }
        } else if let (true, Some(q)) = (open, out.last_mut()) {
            if !q.sql.is_empty() {
                q.sql.push('\n');
            }
            q.sql.push_str(line.trim_end().trim_end_matches(';'));
        }
    }
    out.retain(|q| !q.sql.trim().is_empty());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_dialects_ask_the_same_sixteen_questions() {
        let (ch, duck) = (parse(QUERIES), parse(QUERIES_DUCKDB));
        assert_eq!(ch.len(), 16);
        assert_eq!(ch.iter().map(|q| &q.id).collect::<Vec<_>>(), duck.iter().map(|q| &q.id).collect::<Vec<_>>());
        assert_eq!(ch[0], Query { id: "Q01".into(), title: "count of all rows".into(), sql: "SELECT count() FROM user_behaviors".into() });
    }
}
