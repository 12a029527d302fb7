//! What the query layer needs to know about tables: their columns and their storage.
//!
//! The engine owns the catalog (persistence, DDL); the binder only looks tables up through
//! the `Catalog` trait.

use std::sync::Arc;

use granary_storage::part::ColumnSpec;
use granary_storage::table::TableStore;
use granary_storage::Block;

use crate::error::Result;
use crate::parse::TableName;

/// A table as queries see it.
#[derive(Debug)]
pub struct Table {
    /// Database the table lives in.
    pub database: String,
    /// Table name.
    pub name: String,
    /// Where its rows are.
    pub data: TableData,
    /// Read `AggregateFunction` columns as their final values: the inner table of a
    /// materialized view keeps non-additive rollups (`uniqExact`, `avg`) as states, and
    /// users see the numbers (an aggregate of the same function merges the states).
    pub finalize_states: bool,
}

/// Where a table's rows are.
#[derive(Debug)]
pub enum TableData {
    /// A MergeTree table: layout and the live set of parts.
    MergeTree(Arc<TableStore>),
    /// Rows computed when the query started (`system.parts` and other system tables).
    Rows {
        /// The columns.
        columns: Vec<ColumnSpec>,
        /// All rows, one column per entry of `columns`.
        block: Block,
    },
    /// A plain view: its query, run (as a subquery) by the statement that reads it.
    View(Box<sqlparser::ast::Query>),
}

impl Table {
    /// The columns, in table order.
    pub fn columns(&self) -> &[ColumnSpec] {
        match &self.data {
            TableData::MergeTree(store) => &store.layout().columns,
            TableData::Rows { columns, .. } => columns,
            TableData::View(_) => &[],
        }
    }

    /// The MergeTree storage, unless the table is computed.
    pub fn store(&self) -> Option<&Arc<TableStore>> {
        match &self.data {
            TableData::MergeTree(store) => Some(store),
            TableData::Rows { .. } | TableData::View(_) => None,
        }
    }

    /// Position of a column by name.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns().iter().position(|c| c.name == name)
    }
}

/// Name resolution for the binder.
pub trait Catalog {
    /// The table a (possibly qualified) name refers to, or an `UndefinedTable` error.
    fn table(&self, name: &TableName) -> Result<Arc<Table>>;

    /// The database unqualified names resolve in (Postgres clients see it as the schema).
    fn current_database(&self) -> &str;

    /// The user the session runs as.
    fn current_user(&self) -> &str {
        "default"
    }

    /// The value of a session setting (`current_setting`), or `None` if there is no such
    /// setting.
    fn setting(&self, _name: &str) -> Option<String> {
        None
    }
}
