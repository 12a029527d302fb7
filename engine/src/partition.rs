//! Partitions: a table's `PARTITION BY` expressions, the value they give each row, and the
//! partitions that statements name (`DROP PARTITION 202601`, `OPTIMIZE … PARTITION ID '…'`).

use std::sync::Arc;

use granary_query::bind::{Binder, Params};
use granary_query::catalog::{Catalog, Table};
use granary_query::error::bail;
use granary_query::expr::Expr;
use granary_query::parse::{GranaryDialect, PartitionRef, TableName};
use granary_query::sqlparser::ast;
use granary_query::sqlparser::parser::Parser;
use granary_query::Result;
use granary_storage::table::partition_id;
use granary_storage::Column;

use crate::catalog::TableDef;

/// A catalog with no tables: partition and TTL expressions see only the row's columns.
pub(crate) struct NoTables;

impl Catalog for NoTables {
    fn table(&self, name: &TableName) -> Result<Arc<Table>> {
        bail!(UndefinedTable, "table {name} cannot be used here")
    }

    fn current_database(&self) -> &str {
        crate::database::DEFAULT_DATABASE
    }
}

/// The bound partition expressions of a table, over a block of all its columns (none when
/// the table is unpartitioned).
pub fn partition_exprs(def: &TableDef) -> Result<Vec<Expr>> {
    let dialect = GranaryDialect::default();
    let binder = Binder::new(&NoTables, Params::Values(&[]), 0);
    def.partition_by
        .iter()
        .map(|sql| {
            let ast = Parser::new(&dialect).try_with_sql(sql)?.parse_expr()?;
            binder.bind_row_expr(&ast, &def.layout.columns)
        })
        .collect()
}

/// The id of the partition a statement names. A value is converted to the partition
/// expressions' types (`'202601'` names the partition `toYYYYMM(d)` gives 202601); a table
/// with several partition expressions takes a tuple.
pub fn resolve_partition(def: &TableDef, partition: &PartitionRef) -> Result<String> {
    let value = match partition {
        PartitionRef::Id(id) => return Ok(id.clone()),
        PartitionRef::Value(value) => value,
    };
    let exprs = partition_exprs(def)?;
    let items: Vec<&ast::Expr> = match (value.as_ref(), exprs.len()) {
        (ast::Expr::Tuple(items), n) if n != 1 => items.iter().collect(),
        (ast::Expr::Function(f), 0) if f.name.to_string().eq_ignore_ascii_case("tuple") => Vec::new(),
        (ast::Expr::Nested(inner), _) => vec![inner.as_ref()],
        (one, _) => vec![one],
    };
    if items.len() != exprs.len() {
        bail!(InvalidParameter, "table {} is partitioned by {} expressions, but PARTITION gives {} values", def.name, exprs.len(), items.len());
    }
    let binder = Binder::new(&NoTables, Params::Values(&[]), 0);
    let mut values = Vec::with_capacity(items.len());
    for (item, expr) in items.into_iter().zip(&exprs) {
        let value = binder.bind_constant(item)?;
        values.push(Column::from_values(expr.ty(), &[value])?.value(0));
    }
    Ok(partition_id(&values))
}
