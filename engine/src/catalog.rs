//! Table definitions as persisted on disk, and their conversion from `CREATE TABLE`.
//!
//! Each table's definition is one JSON file `metadata/<database>/<table>.json`, written to a
//! temporary name, fsynced and renamed: that rename is the moment the table exists. Its data
//! lives in `data/<id>/`, named by an id that never changes, so a dropped and recreated table
//! never meets the old one's parts.

use std::collections::HashSet;
use std::fs;
use std::io::Write;
use std::path::Path;

use granary_query::error::bail;
use granary_query::parse::{CreateTable, IndexDef, TypeSpec};
use granary_query::{ErrorKind, QueryError, Result};
use granary_storage::codec::{Codec, Filter};
use granary_query::sqlparser::ast::Expr;
use granary_storage::collapse::{Combine, MergeMode};
use granary_storage::part::{ColumnSpec, TableLayout};
use granary_storage::skip::{SkipIndexKind, SkipIndexSpec};
use granary_storage::DataType;
use serde::{Deserialize, Serialize};

/// Default rows per granule, as in ClickHouse.
pub const DEFAULT_GRANULARITY: usize = 8192;

/// A table's definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableDef {
    /// Database name.
    pub database: String,
    /// Table name.
    pub name: String,
    /// Stable id: names the data directory and the table in the commit log.
    pub id: String,
    /// Table engine (`MergeTree`, `ReplacingMergeTree`, `SummingMergeTree`).
    pub engine: String,
    /// Columns, codecs, sort key and granularity.
    pub layout: TableLayout,
    /// `PARTITION BY` expressions as SQL text (none when unpartitioned).
    pub partition_by: Vec<String>,
    /// `TTL` expression as SQL text: rows expire once it is in the past.
    #[serde(default)]
    pub ttl: Option<String>,
    /// Column TTLs as (column, SQL text): once the expression is in the past, merges reset
    /// the column's value to its default and keep the row.
    #[serde(default)]
    pub column_ttls: Vec<(String, String)>,
    /// Table settings beyond the layout.
    #[serde(default)]
    pub settings: TableSettings,
    /// Queries read `AggregateFunction` columns as final values (a materialized view's
    /// inner table, see `query::catalog::Table::finalize_states`).
    #[serde(default)]
    pub finalize_states: bool,
}

/// When inserts slow down or stop because merges cannot keep up (ClickHouse's "too many
/// parts"): counted in active parts of the partition an insert writes to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableSettings {
    /// Above this many parts an insert is delayed, longer the more parts there are.
    pub parts_to_delay_insert: usize,
    /// At this many parts an insert is refused.
    pub parts_to_throw_insert: usize,
}

impl Default for TableSettings {
    fn default() -> Self {
        TableSettings { parts_to_delay_insert: 150, parts_to_throw_insert: 300 }
    }
}

impl TableDef {
    /// Builds a definition from a parsed `CREATE TABLE`, validating types, keys and settings.
    pub fn from_create(create: &CreateTable, database: &str) -> Result<TableDef> {
        let mut seen = HashSet::new();
        let mut columns = Vec::with_capacity(create.columns.len());
        for c in &create.columns {
            if !seen.insert(c.name.clone()) {
                bail!(DuplicateColumn, "column {} specified more than once", c.name);
            }
            if c.default.is_some() {
                bail!(NotSupported, "column defaults are not supported yet");
            }
            for (name, ty) in expand_nested(&c.name, &c.ty)? {
                if name != c.name && !seen.insert(name.clone()) {
                    bail!(DuplicateColumn, "column {name} specified more than once");
                }
                let (filter, codec) = resolve_codec(&c.codec, &ty)?;
                columns.push(ColumnSpec { name, ty, codec, filter });
            }
        }
        let column_ttls = create.columns.iter().filter_map(|c| c.ttl.as_ref().map(|e| (c.name.clone(), e.to_string()))).collect();
        TableDef::build(create, database, columns, column_ttls)
    }

    /// A definition for columns that come from a query (a materialized view's inner table),
    /// with the engine, keys and settings of `create`.
    pub fn from_columns(create: &CreateTable, database: &str, columns: Vec<(String, DataType)>) -> Result<TableDef> {
        let columns = columns.into_iter().map(|(name, ty)| ColumnSpec { name, ty, codec: Codec::default(), filter: None }).collect();
        TableDef::build(create, database, columns, Vec::new())
    }

    /// Validates keys, TTLs, settings, engine and indexes over resolved columns.
    fn build(create: &CreateTable, database: &str, columns: Vec<ColumnSpec>, column_ttls: Vec<(String, String)>) -> Result<TableDef> {
        if columns.is_empty() {
            bail!(Syntax, "a table needs at least one column");
        }
        let mut sort_key = Vec::new();
        for e in &create.order_by {
            let name = e.to_string();
            match columns.iter().position(|c| c.name == name.trim_matches('"').trim_matches('`')) {
                Some(i) => sort_key.push(i),
                None if matches!(e, granary_query::sqlparser::ast::Expr::Identifier(_)) => bail!(UndefinedColumn, "sort key column {name} does not exist"),
                None => bail!(NotSupported, "ORDER BY expressions other than columns are not supported yet: {name}"),
            }
        }
        if !create.primary_key.is_empty() && create.primary_key.iter().map(|e| e.to_string()).ne(create.order_by.iter().take(create.primary_key.len()).map(|e| e.to_string())) {
            bail!(InvalidParameter, "PRIMARY KEY must be a prefix of ORDER BY");
        }
        if let Some((name, _)) = column_ttls.iter().find(|(name, _)| sort_key.iter().any(|&k| &columns[k].name == name)) {
            bail!(InvalidParameter, "column {name} is in the sort key and cannot have a TTL");
        }
        let ttl = match create.ttl.as_slice() {
            [] => None,
            [one] => Some(one.to_string()),
            _ => bail!(NotSupported, "a table takes one TTL expression"),
        };
        let mut granularity = DEFAULT_GRANULARITY;
        let mut settings = TableSettings::default();
        for (name, value) in &create.settings {
            let number = || -> Result<usize> {
                value.to_string().parse().ok().filter(|g| *g > 0).ok_or_else(|| {
                    QueryError::new(ErrorKind::InvalidParameter, format!("{name} must be a positive integer, got {value}"))
                })
            };
            match name.as_str() {
                "index_granularity" => granularity = number()?,
                "parts_to_delay_insert" => settings.parts_to_delay_insert = number()?,
                "parts_to_throw_insert" => settings.parts_to_throw_insert = number()?,
                other => bail!(InvalidParameter, "unknown table setting {other}"),
            }
        }
        if settings.parts_to_throw_insert <= settings.parts_to_delay_insert {
            bail!(InvalidParameter, "parts_to_throw_insert must be greater than parts_to_delay_insert");
        }
        let (engine, mode) = resolve_engine(create.engine.as_ref(), &columns, &sort_key)?;
        let skip_indexes = create.indexes.iter().map(|i| resolve_skip_index(i, &columns)).collect::<Result<Vec<_>>>()?;
        if let Some(dup) = skip_indexes.iter().enumerate().find(|(n, i)| skip_indexes[..*n].iter().any(|j| j.name == i.name)) {
            bail!(InvalidParameter, "index {} specified more than once", dup.1.name);
        }
        Ok(TableDef {
            database: database.to_string(),
            name: create.name.name.clone(),
            id: uuid::Uuid::new_v4().simple().to_string(),
            engine,
            layout: TableLayout { columns, sort_key, granularity, mode, skip_indexes },
            partition_by: create.partition_by.iter().map(|e| e.to_string()).collect(),
            ttl,
            column_ttls,
            settings,
            finalize_states: false,
        })
    }

    /// Writes the definition atomically into `dir` (`<name>.json`).
    pub fn save(&self, dir: &Path) -> std::io::Result<()> {
        write_definition(dir, &format!("{}.json", self.name), &serde_json::to_vec_pretty(self).expect("table definition serializes"))
    }
}

/// Writes a definition file atomically: to `<file>.tmp`, fsynced, renamed, directory fsynced.
/// The rename is the moment the object exists; a leftover `.tmp` is an interrupted CREATE.
pub fn write_definition(dir: &Path, file: &str, bytes: &[u8]) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    let tmp = dir.join(format!("{file}.tmp"));
    let mut f = fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    fs::rename(&tmp, dir.join(file))?;
    fs::File::open(dir)?.sync_all()
}

/// How `AggregateFunction` and `SimpleAggregateFunction` columns outside the sort key
/// combine when rows of equal keys fold.
fn aggregate_columns(columns: &[ColumnSpec], sort_key: &[usize]) -> Vec<(usize, Combine)> {
    let combine = |ty: &DataType| match ty {
        DataType::AggregateFunction { .. } => Some(Combine::State),
        DataType::SimpleAggregateFunction { func, .. } => Some(match func.to_ascii_lowercase().as_str() {
            "sum" => Combine::Sum,
            "min" => Combine::Min,
            "max" => Combine::Max,
            "any" => Combine::Any,
            _ => Combine::AnyLast,
        }),
        _ => None,
    };
    (0..columns.len()).filter(|i| !sort_key.contains(i)).filter_map(|i| combine(&columns[i].ty).map(|c| (i, c))).collect()
}

/// SummingMergeTree: the `sum` columns add up; if the table also has aggregate state columns
/// (a materialized view's exact `uniqExact`/`avg` rollups) those merge as in an
/// AggregatingMergeTree, in the same fold.
fn summing(sum: Vec<usize>, columns: &[ColumnSpec], sort_key: &[usize]) -> MergeMode {
    let states = aggregate_columns(columns, sort_key);
    if states.is_empty() {
        return MergeMode::Summing { columns: sum };
    }
    let mut all: Vec<(usize, Combine)> = sum.into_iter().map(|i| (i, Combine::Sum)).chain(states).collect();
    all.sort_by_key(|(i, _)| *i);
    MergeMode::Aggregating { columns: all }
}

/// The engine name and what its merges do with rows of equal keys:
/// `MergeTree`, `ReplacingMergeTree([version])` or `SummingMergeTree([columns])`.
fn resolve_engine(engine: Option<&(String, Vec<Expr>)>, columns: &[ColumnSpec], sort_key: &[usize]) -> Result<(String, MergeMode)> {
    let Some((name, args)) = engine else { return Ok(("MergeTree".into(), MergeMode::Ordinary)) };
    let column = |e: &Expr| -> Result<usize> {
        let Expr::Identifier(ident) = e else { bail!(InvalidParameter, "{name} expects column names, got {e}") };
        let i = columns.iter().position(|c| c.name == ident.value);
        i.ok_or_else(|| QueryError::new(ErrorKind::UndefinedColumn, format!("column {} of {name} does not exist", ident.value)))
    };
    let summable = |ty: &DataType| ty.is_integer() || ty.is_decimal() || matches!(ty, DataType::Float32 | DataType::Float64);
    let mode = match (name.as_str(), args.as_slice()) {
        ("MergeTree", []) => MergeMode::Ordinary,
        ("ReplacingMergeTree", []) => MergeMode::Replacing { version: None },
        ("ReplacingMergeTree", [version]) => {
            let v = column(version)?;
            let ty = &columns[v].ty;
            if !(ty.is_unsigned() || matches!(ty, DataType::Date | DataType::DateTime | DataType::DateTime64(_))) {
                bail!(InvalidParameter, "the version column of ReplacingMergeTree must be UInt*, Date, DateTime or DateTime64, not {ty}");
            }
            MergeMode::Replacing { version: Some(v) }
        }
        ("SummingMergeTree", []) => summing((0..columns.len()).filter(|i| !sort_key.contains(i) && summable(&columns[*i].ty)).collect(), columns, sort_key),
        ("SummingMergeTree", [list]) => {
            let items = match list {
                Expr::Tuple(items) => items.iter().collect(),
                Expr::Nested(inner) => vec![inner.as_ref()],
                one => vec![one],
            };
            let mut sum = Vec::new();
            for item in items {
                let c = column(item)?;
                if sort_key.contains(&c) || !summable(&columns[c].ty) {
                    bail!(InvalidParameter, "column {} cannot be summed: it must be numeric and outside the sort key", columns[c].name);
                }
                sum.push(c);
            }
            summing(sum, columns, sort_key)
        }
        ("AggregatingMergeTree", []) => MergeMode::Aggregating { columns: aggregate_columns(columns, sort_key) },
        ("MergeTree" | "ReplacingMergeTree" | "SummingMergeTree" | "AggregatingMergeTree", _) => bail!(InvalidParameter, "wrong number of arguments for table engine {name}"),
        _ => bail!(NotSupported, "table engine {name} is not supported yet"),
    };
    Ok((name.clone(), mode))
}

/// The stored columns of a declared column: itself, or for `n Nested(a T, b U)` the arrays
/// `n.a Array(T)` and `n.b Array(U)`, as ClickHouse stores Nested.
fn expand_nested(name: &str, spec: &TypeSpec) -> Result<Vec<(String, DataType)>> {
    use granary_query::parse::TypeArg;
    if !spec.name.eq_ignore_ascii_case("Nested") {
        return Ok(vec![(name.to_string(), resolve_type(spec)?)]);
    }
    if spec.args.is_empty() {
        bail!(Syntax, "Nested needs at least one field");
    }
    spec.args
        .iter()
        .map(|arg| match arg {
            TypeArg::Named(field, ty) if !ty.name.eq_ignore_ascii_case("Nested") => {
                Ok((format!("{name}.{field}"), DataType::Array(Box::new(resolve_type(ty)?))))
            }
            _ => bail!(NotSupported, "Nested fields must be `name Type` pairs (nested Nested is not supported): {spec}"),
        })
        .collect()
}

/// Resolves a DDL type to a storage type.
pub fn resolve_type(spec: &TypeSpec) -> Result<DataType> {
    DataType::from_name(&spec.to_string()).map_err(|_| QueryError::new(ErrorKind::UndefinedType, format!("unknown data type {spec}")))
}

/// An `INDEX name col TYPE minmax | set(N) | bloom_filter[(rate)] [GRANULARITY k]`
/// declaration, checked against the table's columns.
fn resolve_skip_index(def: &IndexDef, columns: &[ColumnSpec]) -> Result<SkipIndexSpec> {
    let target = def.expr.to_string();
    let Some(column) = columns.iter().position(|c| c.name == target.trim_matches('"').trim_matches('`')) else {
        if matches!(def.expr, Expr::Identifier(_) | Expr::CompoundIdentifier(_)) {
            bail!(UndefinedColumn, "index {} names column {target}, which does not exist", def.name);
        }
        bail!(NotSupported, "index {}: skip indexes over expressions other than a column are not supported yet: {target}", def.name);
    };
    let ty = columns[column].ty.value_type();
    if ty.element().is_some() || matches!(ty, DataType::AggregateFunction { .. }) {
        bail!(NotSupported, "index {}: skip indexes over {ty} columns are not supported", def.name);
    }
    let number = |e: &Expr| -> Option<f64> { e.to_string().parse().ok() };
    let kind = match (def.kind.to_ascii_lowercase().as_str(), def.args.as_slice()) {
        ("minmax", []) => SkipIndexKind::MinMax,
        ("set", [n]) => match number(n) {
            Some(n) if n >= 0.0 && n.fract() == 0.0 => SkipIndexKind::Set { max_values: n as usize },
            _ => bail!(InvalidParameter, "index {}: set takes a maximum number of values, got {n}", def.name),
        },
        ("bloom_filter", []) => SkipIndexKind::BloomFilter { false_positive: 0.025 },
        ("bloom_filter", [p]) => match number(p) {
            Some(p) if p > 0.0 && p < 1.0 => SkipIndexKind::BloomFilter { false_positive: p },
            _ => bail!(InvalidParameter, "index {}: bloom_filter takes a false-positive rate between 0 and 1, got {p}", def.name),
        },
        ("minmax" | "set" | "bloom_filter", _) => bail!(InvalidParameter, "index {}: wrong arguments for {}", def.name, def.kind),
        (other, _) => bail!(NotSupported, "index {}: skip index type {other} is not supported (minmax, set and bloom_filter are)", def.name),
    };
    let granularity = match &def.granularity {
        None => 1,
        Some(g) => match number(g) {
            Some(g) if g >= 1.0 && g.fract() == 0.0 => g as usize,
            _ => bail!(InvalidParameter, "index {}: GRANULARITY must be a positive integer, got {g}", def.name),
        },
    };
    Ok(SkipIndexSpec { name: def.name.clone(), column, kind, granularity })
}

/// A column's `CODEC(...)`: an optional `Delta[(bytes)]` or `DoubleDelta` filter for
/// fixed-width types, then a compression (`LZ4` by default, `ZSTD[(level)]`, or `NONE` alone).
/// `DoubleDelta` may stand alone; `Delta` needs a compression after it, as in ClickHouse.
fn resolve_codec(specs: &[TypeSpec], ty: &DataType) -> Result<(Option<Filter>, Codec)> {
    use granary_query::parse::TypeArg;
    let compression = |one: &TypeSpec| -> Result<Option<Codec>> {
        Ok(match (one.name.to_ascii_uppercase().as_str(), one.args.as_slice()) {
            ("LZ4", []) => Some(Codec::Lz4),
            ("NONE", []) => Some(Codec::None),
            ("ZSTD", []) => Some(Codec::Zstd(1)),
            ("ZSTD", [TypeArg::Number(level)]) if (1..=22).contains(level) => Some(Codec::Zstd(*level as i32)),
            ("ZSTD", _) => bail!(InvalidParameter, "ZSTD level must be between 1 and 22: {one}"),
            _ => None,
        })
    };
    let filter = |one: &TypeSpec| -> Result<Option<Filter>> {
        let width = ty.physical().width() as u8;
        let filter = match (one.name.to_ascii_uppercase().as_str(), one.args.as_slice()) {
            ("DELTA", []) => Filter::Delta(width),
            ("DELTA", [TypeArg::Number(n)]) if [1, 2, 4, 8].contains(n) => Filter::Delta(*n as u8),
            ("DELTA", _) => bail!(InvalidParameter, "Delta takes a width of 1, 2, 4 or 8 bytes: {one}"),
            ("DOUBLEDELTA", []) => Filter::DoubleDelta(width),
            _ => return Ok(None),
        };
        if width == 0 {
            bail!(InvalidParameter, "codec {one} needs a fixed-width column, not {ty}");
        }
        Ok(Some(filter))
    };
    match specs {
        [] => Ok((None, Codec::default())),
        [one] => match (compression(one)?, filter(one)?) {
            (Some(codec), _) => Ok((None, codec)),
            (None, Some(f @ Filter::DoubleDelta(_))) => Ok((Some(f), Codec::None)),
            (None, Some(_)) => bail!(InvalidParameter, "codec {one} must be followed by a compression codec such as LZ4 or ZSTD"),
            (None, None) => bail!(NotSupported, "codec {one} is not supported"),
        },
        [first, second] => match (filter(first)?, compression(second)?) {
            (Some(f), Some(codec)) if codec != Codec::None => Ok((Some(f), codec)),
            _ => bail!(InvalidParameter, "codec chain {first}, {second} is not supported: use Delta or DoubleDelta followed by LZ4 or ZSTD"),
        },
        _ => bail!(NotSupported, "codec chains of more than two codecs are not supported"),
    }
}
