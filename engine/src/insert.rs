//! INSERT: rows in, converted to the table's types, split by partition, written as new
//! parts, and made visible in one atomic commit.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use granary_query::bind::Binder;
use granary_query::kernels;
use granary_query::error::bail;
use granary_query::sqlparser::ast;
use granary_query::{ErrorKind, QueryError, Result};
use granary_storage::table::{partition_id, NewPart, TableStore};
use granary_storage::{array, Block, Column, ColumnData, ColumnRef, DataType, Value};

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
            let ty = &def.layout.columns[targets[i]].ty;
            let value = match number_literal(expr) {
                // A Decimal takes a number's digits as written, not through a Float64, and a
                // DateTime64 takes an integer as seconds, as ClickHouse reads VALUES.
                Some(text) if ty.non_null().is_decimal() || matches!(ty.non_null(), DataType::DateTime64(_)) => ty.parse_text(&text).map_err(|e| QueryError::new(ErrorKind::InvalidText, e.to_string()))?,
                _ => binder.bind_constant(expr)?,
            };
            values[i].push(value);
        }
    }
    let mut block_columns: Vec<ColumnRef> = Vec::with_capacity(def.layout.columns.len());
    for (i, spec) in def.layout.columns.iter().enumerate() {
        let column = match targets.iter().position(|&t| t == i) {
            Some(pos) => Column::from_values(spec.ty.clone(), &values[pos]).map_err(|e| {
                QueryError::new(ErrorKind::InvalidText, format!("column {}: {e}", spec.name))
            })?,
            None => Column::defaults(spec.ty.clone(), rows.len()),
        };
        block_columns.push(Arc::new(column));
    }
    let block = Block::with_rows(block_columns, rows.len());
    insert_block(db, entry, block)
}

/// Inserts query result rows into the named (or all) columns, converting each result column
/// to its target's type by position, as ClickHouse's `INSERT … SELECT` does; returns the
/// number of rows written, all in one commit.
pub fn insert_rows(db: &Database, entry: &TableEntry, columns: &[String], blocks: Vec<Block>) -> Result<u64> {
    let def = &entry.def;
    let targets = target_columns(def, columns)?;
    let Some(result) = Block::concat(&blocks) else { return Ok(0) };
    if result.columns.len() != targets.len() {
        bail!(Syntax, "INSERT has {} target columns but the SELECT gives {}", targets.len(), result.columns.len());
    }
    let rows = result.rows();
    let mut block_columns: Vec<ColumnRef> = Vec::with_capacity(def.layout.columns.len());
    for (i, spec) in def.layout.columns.iter().enumerate() {
        block_columns.push(match targets.iter().position(|&t| t == i) {
            Some(pos) => Arc::new(kernels::cast(&result.columns[pos], &spec.ty).map_err(|e| QueryError::new(e.kind, format!("column {}: {}", spec.name, e.message)))?),
            None => Arc::new(Column::defaults(spec.ty.clone(), rows)),
        });
    }
    insert_block(db, entry, Block::with_rows(block_columns, rows))
}

/// The arrays of one Nested column (`n.a`, `n.b`, … stored as arrays) must have equal
/// lengths in every row, as in ClickHouse.
fn check_nested_sizes(def: &TableDef, block: &Block) -> Result<()> {
    let columns = &def.layout.columns;
    let nested = |i: usize| columns[i].ty.element().and(columns[i].name.split_once('.')).map(|(prefix, _)| prefix);
    for i in 0..columns.len() {
        let Some(prefix) = nested(i) else { continue };
        let Some(first) = (0..i).find(|&j| nested(j) == Some(prefix)) else { continue };
        let (a, b) = (&block.columns[first].data, &block.columns[i].data);
        let (ColumnData::Bytes(a), ColumnData::Bytes(b)) = (a, b) else { continue };
        if let Some(row) = (0..a.len()).find(|&r| array::row_len(a.get(r)) != array::row_len(b.get(r))) {
            bail!(
                InvalidParameter,
                "sizes of the arrays of Nested column {prefix} do not match in row {}: {} has {} elements, {} has {}",
                row + 1,
                columns[first].name,
                array::row_len(a.get(row)),
                columns[i].name,
                array::row_len(b.get(row))
            );
        }
    }
    Ok(())
}

/// The text of a numeric literal, with its sign (`-1.25`).
fn number_literal(expr: &ast::Expr) -> Option<String> {
    match expr {
        ast::Expr::Value(v) => match &v.value {
            ast::Value::Number(n, _) => Some(n.clone()),
            _ => None,
        },
        ast::Expr::UnaryOp { op: ast::UnaryOperator::Minus, expr } => number_literal(expr).map(|n| format!("-{n}")),
        _ => None,
    }
}

/// Inserts a block of table rows: writes them, and the rows every materialized view over the
/// table (and over those views' targets) derives from them, and commits all those parts at
/// once, so a view never misses or double-counts an insert.
pub fn insert_block(db: &Database, entry: &TableEntry, block: Block) -> Result<u64> {
    let rows = block.rows() as u64;
    let bytes = block.columns.iter().map(|c| c.memory_size() as u64).sum();
    commit_parts(db, write_block(db, entry, &block)?)?;
    db.stats.inserted(rows, bytes);
    Ok(rows)
}

/// Writes a block of table rows and the rows the materialized views derive from them as
/// uncommitted parts: nothing is visible until `commit_parts`, and dropping the parts
/// removes them.
pub fn write_block(db: &Database, entry: &TableEntry, block: &Block) -> Result<Vec<NewPart>> {
    if block.rows() == 0 {
        return Ok(Vec::new());
    }
    check_nested_sizes(&entry.def, block)?;
    let mut derived = Vec::new();
    crate::view::cascade(db, entry, block, 0, &mut derived)?;
    let mut parts = write_parts(entry, block)?;
    for (target, rows) in &derived {
        parts.extend(write_parts(target, rows)?);
    }
    Ok(parts)
}

/// Makes parts from `write_block` visible in one atomic commit and lets the merger see the
/// tables that grew.
pub fn commit_parts(db: &Database, parts: Vec<NewPart>) -> Result<()> {
    let mut tables: Vec<Arc<TableStore>> = Vec::new();
    for part in &parts {
        if !tables.iter().any(|t| Arc::ptr_eq(t, &part.table)) {
            tables.push(part.table.clone());
        }
    }
    db.store.commit(parts, Vec::new())?;
    for table in tables {
        db.merger.schedule(table);
    }
    Ok(())
}

/// Splits a block by partition and writes one uncommitted part per partition.
fn write_parts(entry: &TableEntry, block: &Block) -> Result<Vec<NewPart>> {
    let keys = crate::partition::partition_exprs(&entry.def)?.iter().map(|e| e.eval(block)).collect::<Result<Vec<_>>>()?;
    let mut groups: BTreeMap<Vec<u8>, (Vec<Value>, Vec<u32>)> = BTreeMap::new();
    // Inserts mostly land in one partition: then the block is written as it is.
    if keys.iter().all(|k| (1..block.rows()).all(|row| k.cmp_rows(0, k, row).is_eq())) {
        let partition = keys.iter().map(|c| c.value(0)).collect::<Vec<_>>();
        throttle(entry, vec![partition_id(&partition)])?;
        return Ok(entry.store.write_part(block, None, partition)?.into_iter().collect());
    }
    let mut key = Vec::new();
    for row in 0..block.rows() {
        key.clear();
        for column in &keys {
            granary_query::aggregate::append_key(column, row, &mut key);
        }
        match groups.get_mut(&key) {
            Some((_, rows)) => rows.push(row as u32),
            None => {
                groups.insert(key.clone(), (keys.iter().map(|c| c.value(row)).collect(), vec![row as u32]));
            }
        }
    }
    throttle(entry, groups.values().map(|(partition, _)| partition_id(partition)).collect())?;
    let mut parts = Vec::with_capacity(groups.len());
    for (_, (partition, indices)) in groups {
        parts.extend(entry.store.write_part(block, Some(&indices), partition)?);
    }
    Ok(parts)
}

/// Slows down an insert into partitions that hold more than `parts_to_delay_insert` active
/// parts, and refuses it at `parts_to_throw_insert`: merges get time to catch up, and parts
/// never pile up without bound. A refused insert writes nothing.
fn throttle(entry: &TableEntry, partitions: Vec<String>) -> Result<()> {
    /// The longest an insert is held back, reached just below the refusal threshold.
    const MAX_DELAY: Duration = Duration::from_secs(1);
    let settings = &entry.def.settings;
    let snapshot = entry.store.snapshot();
    let worst = partitions
        .iter()
        .map(|id| snapshot.parts.iter().filter(|p| p.partition_id() == id).count())
        .max()
        .unwrap_or(0);
    if worst >= settings.parts_to_throw_insert {
        bail!(
            LimitExceeded,
            "too many parts ({worst}) in a partition of table {}: merges cannot keep up with inserts; insert fewer, bigger batches (parts_to_throw_insert = {})",
            entry.def.name,
            settings.parts_to_throw_insert
        );
    }
    if worst > settings.parts_to_delay_insert {
        let over = (worst - settings.parts_to_delay_insert) as u32;
        let span = (settings.parts_to_throw_insert - settings.parts_to_delay_insert) as u32;
        std::thread::sleep(MAX_DELAY * over / span);
    }
    Ok(())
}
