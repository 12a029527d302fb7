//! What the query layer needs to know about tables: their columns and their storage.
//!
//! The engine owns the catalog (persistence, DDL); the binder only looks tables up through
//! the `Catalog` trait.

use std::sync::Arc;

use granary_storage::part::ColumnSpec;
use granary_storage::table::TableStore;

use crate::error::Result;
use crate::parse::TableName;

/// A table as queries see it.
#[derive(Debug)]
pub struct Table {
    /// Database the table lives in.
    pub database: String,
    /// Table name.
    pub name: String,
    /// Its storage: layout and the live set of parts.
    pub store: Arc<TableStore>,
}

impl Table {
    /// The columns, in table order.
    pub fn columns(&self) -> &[ColumnSpec] {
        &self.store.layout().columns
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
}
