//! The `system` database: tables computed from the live state of the database when a query
//! starts (`system.parts`, `system.merges`, `system.tables`, `system.query_log`), as
//! ClickHouse users know them.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use granary_query::catalog::{Table, TableData};
use granary_query::error::bail;
use granary_query::Result;
use granary_storage::part::ColumnSpec;
use granary_storage::table::part_block_range;
use granary_storage::{Block, Column, DataType, Value};

use crate::database::{Database, TableEntry};
use crate::partition::partition_exprs;

/// The name of the database that holds the system tables.
pub const SYSTEM_DATABASE: &str = "system";

/// Builds the system table `name` as of now.
pub fn system_table(db: &Database, name: &str) -> Result<Arc<Table>> {
    let mut entries = db.table_entries();
    entries.sort_by(|a, b| (&a.def.database, &a.def.name).cmp(&(&b.def.database, &b.def.name)));
    let rows = match name {
        "parts" => parts(&entries)?,
        "merges" => merges(&entries),
        "tables" => tables(&entries, db),
        "query_log" => query_log(db),
        _ => bail!(UndefinedTable, "table system.{name} does not exist"),
    };
    Ok(Arc::new(Table { database: SYSTEM_DATABASE.into(), name: name.into(), data: rows.into_data()?, finalize_states: false }))
}

/// Rows of a system table, filled one value per column at a time.
struct Rows {
    columns: Vec<ColumnSpec>,
    values: Vec<Vec<Value>>,
}

impl Rows {
    fn new(columns: &[(&str, DataType)]) -> Rows {
        Rows {
            columns: columns.iter().map(|(n, ty)| ColumnSpec { name: n.to_string(), ty: ty.clone(), codec: Default::default(), filter: None }).collect(),
            values: vec![Vec::new(); columns.len()],
        }
    }

    fn push(&mut self, row: Vec<Value>) {
        for (column, value) in self.values.iter_mut().zip(row) {
            column.push(value);
        }
    }

    fn into_data(self) -> Result<TableData> {
        let mut columns = Vec::with_capacity(self.columns.len());
        for (spec, values) in self.columns.iter().zip(&self.values) {
            columns.push(Arc::new(Column::from_values(spec.ty.clone(), values)?));
        }
        let rows = self.values.first().map_or(0, Vec::len);
        Ok(TableData::Rows { columns: self.columns, block: Block::with_rows(columns, rows) })
    }
}

fn text(s: impl Into<String>) -> Value {
    Value::String(s.into())
}

/// A partition value the way ClickHouse prints it: `202601`, `eu`, `('eu',202601)`, `tuple()`.
fn partition_text(types: &[DataType], values: &[Value]) -> String {
    let format = |ty: &DataType, v: &Value, quote: bool| {
        let mut out = String::new();
        ty.format_value(v, &mut out);
        if quote && (matches!(v, Value::String(_)) || ty.is_temporal()) {
            out = format!("'{}'", out.replace('\\', "\\\\").replace('\'', "\\'"));
        }
        out
    };
    match values {
        [] => "tuple()".into(),
        [one] => format(types.first().unwrap_or(&DataType::String), one, false),
        many => {
            let items: Vec<String> = many.iter().enumerate().map(|(i, v)| format(types.get(i).unwrap_or(&DataType::String), v, true)).collect();
            format!("({})", items.join(","))
        }
    }
}

fn parts(entries: &[TableEntry]) -> Result<Rows> {
    let mut rows = Rows::new(&[
        ("database", DataType::String),
        ("table", DataType::String),
        ("partition", DataType::String),
        ("partition_id", DataType::String),
        ("name", DataType::String),
        ("active", DataType::UInt8),
        ("rows", DataType::UInt64),
        ("bytes_on_disk", DataType::UInt64),
        ("marks", DataType::UInt64),
        ("level", DataType::UInt32),
        ("min_block_number", DataType::Int64),
        ("max_block_number", DataType::Int64),
        ("modification_time", DataType::DateTime),
    ]);
    for entry in entries {
        let types: Vec<DataType> = partition_exprs(&entry.def)?.iter().map(|e| e.ty()).collect();
        for part in &entry.store.snapshot().parts {
            let (min, max) = part_block_range(&part.name).unwrap_or((0, 0));
            rows.push(vec![
                text(&entry.def.database),
                text(&entry.def.name),
                text(partition_text(&types, &part.meta.partition)),
                text(part.partition_id()),
                text(&part.name),
                Value::UInt(1),
                Value::UInt(part.rows() as u64),
                Value::UInt(part.bytes_on_disk()),
                Value::UInt(part.meta.granules() as u64),
                Value::UInt(part.level() as u64),
                Value::Int(min as i64),
                Value::Int(max as i64),
                Value::UInt(part.meta.created),
            ]);
        }
    }
    Ok(rows)
}

fn merges(entries: &[TableEntry]) -> Rows {
    let mut rows = Rows::new(&[
        ("database", DataType::String),
        ("table", DataType::String),
        ("elapsed", DataType::Float64),
        ("progress", DataType::Float64),
        ("num_parts", DataType::UInt64),
        ("source_part_names", DataType::Array(Box::new(DataType::String))),
        ("result_part_name", DataType::String),
        ("total_rows", DataType::UInt64),
        ("rows_read", DataType::UInt64),
        ("rows_written", DataType::UInt64),
    ]);
    for entry in entries {
        for merge in entry.store.running_merges() {
            let read = merge.rows_read.load(std::sync::atomic::Ordering::Relaxed);
            rows.push(vec![
                text(&entry.def.database),
                text(&entry.def.name),
                Value::Float(merge.started.elapsed().as_secs_f64()),
                Value::Float(if merge.rows_total == 0 { 1.0 } else { read as f64 / merge.rows_total as f64 }),
                Value::UInt(merge.sources.len() as u64),
                Value::Array(merge.sources.iter().map(text).collect()),
                text(&merge.result),
                Value::UInt(merge.rows_total as u64),
                Value::UInt(read),
                Value::UInt(merge.rows_written.load(std::sync::atomic::Ordering::Relaxed)),
            ]);
        }
    }
    rows
}

fn tables(entries: &[TableEntry], db: &Database) -> Rows {
    let mut rows = Rows::new(&[
        ("database", DataType::String),
        ("name", DataType::String),
        ("engine", DataType::String),
        ("total_rows", DataType::UInt64.nullable()),
        ("total_bytes", DataType::UInt64.nullable()),
        ("parts", DataType::UInt64.nullable()),
        ("partition_key", DataType::String),
        ("sorting_key", DataType::String),
        ("metadata_modification_time", DataType::DateTime),
    ]);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    for entry in entries {
        let snapshot = entry.store.snapshot();
        let layout = &entry.def.layout;
        rows.push(vec![
            text(&entry.def.database),
            text(&entry.def.name),
            text(&entry.def.engine),
            Value::UInt(snapshot.rows() as u64),
            Value::UInt(snapshot.parts.iter().map(|p| p.bytes_on_disk()).sum()),
            Value::UInt(snapshot.parts.len() as u64),
            text(entry.def.partition_by.join(", ")),
            text(layout.sort_key.iter().map(|&k| layout.columns[k].name.as_str()).collect::<Vec<_>>().join(", ")),
            Value::UInt(now),
        ]);
    }
    let views = db.views().into_iter().map(|v| (v.database, v.name, "MaterializedView"));
    let query_views = db.query_views().into_iter().map(|v| (v.database, v.name, "View"));
    for (database, name, engine) in views.chain(query_views) {
        rows.push(vec![
            text(&database),
            text(&name),
            text(engine),
            Value::Null,
            Value::Null,
            Value::Null,
            text(""),
            text(""),
            Value::UInt(now),
        ]);
    }
    rows
}

fn query_log(db: &Database) -> Rows {
    let mut rows = Rows::new(&[
        ("query_id", DataType::String),
        ("event_time", DataType::DateTime),
        ("user", DataType::String),
        ("query", DataType::String),
        ("query_kind", DataType::String),
        ("query_duration_ms", DataType::UInt64),
        ("read_rows", DataType::UInt64),
        ("read_granules", DataType::UInt64),
        ("result_rows", DataType::UInt64),
        ("written_rows", DataType::UInt64),
        ("error_kind", DataType::String),
        ("exception", DataType::String),
    ]);
    for e in db.query_log().entries() {
        rows.push(vec![
            text(e.query_id),
            Value::UInt(e.event_time),
            text(e.user),
            text(e.query),
            text(e.query_kind),
            Value::UInt(e.duration_ms),
            Value::UInt(e.read_rows),
            Value::UInt(e.read_granules),
            Value::UInt(e.result_rows),
            Value::UInt(e.written_rows),
            text(e.error_kind),
            text(e.exception),
        ]);
    }
    rows
}
