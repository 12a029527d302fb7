//! INSERT: rows in, converted to the table's types, split by partition, written as new
//! parts, and made visible in one atomic commit.

use std::collections::BTreeMap;
use std::sync::Arc;

use granary_query::bind::Binder;
use granary_query::catalog::Table;
use granary_query::error::bail;
use granary_query::parse::GranaryDialect;
use granary_query::sqlparser::ast;
use granary_query::sqlparser::parser::Parser;
use granary_query::{ErrorKind, QueryError, Result};
use granary_storage::{Block, Column, ColumnRef, Value};

use crate::catalog::TableDef;
use crate::database::{Database, TableEntry};

/// Positions of the INSERT's target columns in the table (all columns when none are named).
pub fn target_columns(def: &TableDef, names: &[String]) -> Result<Vec<usize>> {
    let columns = &def.layout.columns;
    if names.is_empty() {
        return Ok((0..columns.len()).collect());
    }
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        match columns.iter().position(|c| &c.name == name) {
            Some(i) if out.contains(&i) => bail!(DuplicateColumn, "column {name} specified more than once"),
            Some(i) => out.push(i),
            None => bail!(UndefinedColumn, "column {name} of table {} does not exist", def.name),
        }
    }
    Ok(out)
}

/// The bound partition expression of a table, over a block of all its columns.
pub fn partition_expr(def: &TableDef, sql: &str) -> Result<granary_query::expr::Expr> {
    let dialect = GranaryDialect::default();
    let ast = Parser::new(&dialect).try_with_sql(sql)?.parse_expr()?;
    struct NoTables;
    impl granary_query::catalog::Catalog for NoTables {
        fn table(&self, name: &granary_query::parse::TableName) -> Result<Arc<Table>> {
            bail!(UndefinedTable, "table {name} cannot be used here")
        }
    }
    Binder::new(&NoTables, granary_query::bind::Params::Values(&[]), 0).bind_row_expr(&ast, &def.layout.columns)
}

/// Inserts VALUES rows; returns the number of rows written.
pub fn insert_values(db: &Database, entry: &TableEntry, columns: &[String], rows: &[Vec<ast::Expr>], binder: &Binder) -> Result<u64> {
    let def = &entry.def;
    let targets = target_columns(def, columns)?;
    let mut values: Vec<Vec<Value>> = vec![Vec::with_capacity(rows.len()); targets.len()];
    for (n, row) in rows.iter().enumerate() {
        if row.len() != targets.len() {
            bail!(Syntax, "row {} has {} values, expected {}", n + 1, row.len(), targets.len());
        }
        for (i, expr) in row.iter().enumerate() {
            values[i].push(binder.bind_constant(expr)?);
        }
    }
    let mut block_columns: Vec<ColumnRef> = Vec::with_capacity(def.layout.columns.len());
    for (i, spec) in def.layout.columns.iter().enumerate() {
        let column = match targets.iter().position(|&t| t == i) {
            Some(pos) => Column::from_values(spec.ty, &values[pos]).map_err(|e| {
                QueryError::new(ErrorKind::InvalidText, format!("column {}: {e}", spec.name))
            })?,
            None => default_column(spec.ty, rows.len())?,
        };
        block_columns.push(Arc::new(column));
    }
    let block = Block::with_rows(block_columns, rows.len());
    insert_block(db, entry, block)
}

fn default_column(ty: granary_storage::DataType, rows: usize) -> Result<Column> {
    let default = if ty == granary_storage::DataType::String { Value::String(String::new()) } else { Value::UInt(0) };
    Ok(Column::from_values(ty, &vec![default; rows])?)
}

/// Splits a block of table rows by partition, writes one part per partition and commits them
/// all at once.
pub fn insert_block(db: &Database, entry: &TableEntry, block: Block) -> Result<u64> {
    let rows = block.rows() as u64;
    if rows == 0 {
        return Ok(0);
    }
    let table = &entry.table;
    let mut groups: BTreeMap<Vec<u8>, (Value, Vec<u32>)> = BTreeMap::new();
    match &entry.def.partition_by {
        None => {
            groups.insert(Vec::new(), (Value::Null, (0..rows as u32).collect()));
        }
        Some(sql) => {
            let expr = partition_expr(&entry.def, sql)?;
            let keys = expr.eval(&block)?;
            for row in 0..block.rows() {
                let mut key = Vec::new();
                granary_query::aggregate::append_key(&keys, row, &mut key);
                groups.entry(key).or_insert_with(|| (keys.value(row), Vec::new())).1.push(row as u32);
            }
        }
    }
    let mut parts = Vec::with_capacity(groups.len());
    for (_, (value, indices)) in groups {
        let partition = if value == Value::Null { Vec::new() } else { vec![value] };
        let part_block = if indices.len() == block.rows() { block.clone() } else { block.take(&indices) };
        parts.push(table.store.write_part(&part_block, partition)?);
    }
    db.store.commit(parts, Vec::new())?;
    db.merger.schedule(table.store.clone());
    Ok(rows)
}
