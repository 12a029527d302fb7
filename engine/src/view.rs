//! Materialized views: a SELECT run over every block inserted into its source table, whose
//! result goes into a target table in the same commit as the source rows.
//!
//! `CREATE MATERIALIZED VIEW v [TO t] [ENGINE …] [POPULATE] AS SELECT … FROM src …`. Without
//! `TO` the view owns an inner table `.inner.v` with the SELECT's columns, and reading `v`
//! reads it. When that inner table is a `SummingMergeTree`, aggregates that cannot be added up
//! (`uniqExact`, `avg`, `min`, `max`) are stored as their states (`uniqExactState(…)`),
//! merged on merge and under `FINAL`, and read as final values: unlike ClickHouse, which
//! would sum per-insert distinct counts, the rollup stays exact. Target columns are filled
//! by name, as in ClickHouse; columns the SELECT does not give get their defaults.

use std::sync::Arc;

use granary_query::bind::{Binder, Params};
use granary_query::catalog::{Catalog, Table, TableData};
use granary_query::error::bail;
use granary_query::exec::{self, QueryContext};
use granary_query::parse::{self, CreateMaterializedView, TableName};
use granary_query::sqlparser::ast;
use granary_query::states::AggMode;
use granary_query::aggregate::AggFunc;
use granary_query::{kernels, ErrorKind, QueryError, Result};
use granary_storage::{Block, Column};
use serde::{Deserialize, Serialize};

use crate::catalog::{write_definition, TableDef};
use crate::database::{Database, SessionCatalog, TableEntry};

/// The name of a view's own target table is this prefix and the view's name.
pub const INNER_PREFIX: &str = ".inner.";

/// The deepest chain of views over views one INSERT may trigger.
const MAX_CHAIN: usize = 16;

/// A materialized view's persisted definition (`metadata/<database>/<name>.view.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ViewDef {
    /// Database of the view.
    pub database: String,
    /// View name.
    pub name: String,
    /// The table whose inserts run the view (database, name).
    pub source: (String, String),
    /// The name the SELECT reads (database, name): `source`, or a view whose target it is.
    pub from: (String, String),
    /// The table the view's rows go to (database, name).
    pub target: (String, String),
    /// True when the target is the view's own inner table, dropped with it.
    pub inner: bool,
    /// The SELECT, as run (non-additive aggregates of an inner SummingMergeTree already
    /// rewritten to their `-State` form).
    pub query: String,
}

/// A plain view (`CREATE VIEW v AS SELECT …`): a named query that every statement reading
/// `v` runs as a subquery (`metadata/<database>/<name>.query.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryViewDef {
    /// Database of the view.
    pub database: String,
    /// View name.
    pub name: String,
    /// The SELECT.
    pub query: String,
}

/// The SELECT a view definition keeps.
fn parse_stored_query(sql: &str, database: &str, name: &str) -> Result<Box<ast::Query>> {
    match parse::parse_script(sql)?.pop() {
        Some(parse::Statement::Query(q)) => Ok(q),
        _ => bail!(DataCorrupted, "the query of view {database}.{name} does not parse"),
    }
}

/// The file a plain view definition is kept in.
pub fn query_view_file_name(name: &str) -> String {
    format!("{name}.query.json")
}

impl QueryViewDef {
    /// Writes the definition atomically into `dir`.
    pub fn save(&self, dir: &std::path::Path) -> std::io::Result<()> {
        write_definition(dir, &query_view_file_name(&self.name), &serde_json::to_vec_pretty(self).expect("view definition serializes"))
    }

    /// The view as the binder sees it: its parsed query.
    pub fn table(&self) -> Result<Arc<Table>> {
        let query = parse_stored_query(&self.query, &self.database, &self.name)?;
        Ok(Arc::new(Table { database: self.database.clone(), name: self.name.clone(), data: TableData::View(query), finalize_states: false }))
    }
}

/// The file a view definition is kept in.
pub fn view_file_name(name: &str) -> String {
    format!("{name}.view.json")
}

impl ViewDef {
    /// Writes the definition atomically into `dir`.
    pub fn save(&self, dir: &std::path::Path) -> std::io::Result<()> {
        write_definition(dir, &view_file_name(&self.name), &serde_json::to_vec_pretty(self).expect("view definition serializes"))
    }

    fn parsed_query(&self) -> Result<Box<ast::Query>> {
        parse_stored_query(&self.query, &self.database, &self.name)
    }

    /// Runs the view's SELECT over `block`, rows just inserted into the source `entry`, and
    /// shapes the result as rows of `target` (`None` when the view gives no rows).
    fn rows_for(&self, db: &Database, source: &TableEntry, block: &Block, target: &TableEntry) -> Result<Option<Block>> {
        let table = Arc::new(Table {
            database: source.def.database.clone(),
            name: source.def.name.clone(),
            data: TableData::Rows { columns: source.def.layout.columns.clone(), block: block.clone() },
            finalize_states: source.def.finalize_states,
        });
        let catalog = InsertedRows { db, current: &self.database, from: &self.from, table };
        let query = self.parsed_query()?;
        run_into(&Binder::new(&catalog, Params::Values(&[]), crate::session::now()).bind_query(&query)?, &target.def)
    }
}

/// Runs a view's bound SELECT and shapes its rows for `target`; `None` when it gives none.
fn run_into(plan: &granary_query::plan::SelectPlan, target: &TableDef) -> Result<Option<Block>> {
    let result = exec::execute(plan, &QueryContext::default())?;
    let names: Vec<String> = result.fields.iter().map(|f| f.name.clone()).collect();
    Block::concat(&result.blocks).filter(|rows| rows.rows() > 0).map(|rows| conform(target, &names, &rows)).transpose()
}

/// Rows for `target` from a result with columns `names`: matched by name and converted to the
/// target's types; target columns the result lacks get their defaults.
pub fn conform(target: &TableDef, names: &[String], rows: &Block) -> Result<Block> {
    let mut columns = Vec::with_capacity(target.layout.columns.len());
    for spec in &target.layout.columns {
        columns.push(match names.iter().position(|n| n == &spec.name) {
            Some(i) => Arc::new(kernels::cast(&rows.columns[i], &spec.ty).map_err(|e| QueryError::new(e.kind, format!("column {}: {}", spec.name, e.message)))?),
            None => Arc::new(Column::defaults(spec.ty.clone(), rows.rows())),
        });
    }
    Ok(Block::with_rows(columns, rows.rows()))
}

/// Name resolution for a view's SELECT at insert time: the name it reads from is the
/// inserted rows; other names resolve as usual.
struct InsertedRows<'a> {
    db: &'a Database,
    current: &'a str,
    from: &'a (String, String),
    table: Arc<Table>,
}

impl Catalog for InsertedRows<'_> {
    fn table(&self, name: &TableName) -> Result<Arc<Table>> {
        let database = name.database.as_deref().unwrap_or(self.current);
        if (database, name.name.as_str()) == (self.from.0.as_str(), self.from.1.as_str()) {
            return Ok(self.table.clone());
        }
        SessionCatalog { db: self.db, current: self.current, settings: None }.table(name)
    }

    fn current_database(&self) -> &str {
        self.current
    }
}

/// Runs every view over `source` on `block` (rows being inserted into it), and every view
/// over those views' targets, collecting for each target the rows to write with it.
pub fn cascade(db: &Database, source: &TableEntry, block: &Block, depth: usize, out: &mut Vec<(TableEntry, Block)>) -> Result<()> {
    for view in db.views_over(&source.def.database, &source.def.name) {
        if depth >= MAX_CHAIN {
            bail!(LimitExceeded, "materialized views nest deeper than {MAX_CHAIN} levels at view {}.{}", view.database, view.name);
        }
        let Some(target) = db.table_entry(&view.target.0, &view.target.1) else {
            bail!(UndefinedTable, "table {}.{}, the target of materialized view {}.{}, does not exist", view.target.0, view.target.1, view.database, view.name);
        };
        if let Some(rows) = view.rows_for(db, source, block, &target)? {
            cascade(db, &target, &rows, depth + 1, out)?;
            out.push((target, rows));
        }
    }
    Ok(())
}

/// Aggregates whose final values cannot be summed: an inner SummingMergeTree keeps them as
/// states instead.
fn keeps_state(func: &AggFunc) -> bool {
    !func.is_additive()
}

/// Rewrites the SELECT items that are a call of a non-additive aggregate (`uniqExact(x) AS
/// u`) into its `-State` form; returns whether anything changed.
fn rewrite_to_states(query: &mut ast::Query) -> bool {
    let ast::SetExpr::Select(select) = query.body.as_mut() else { return false };
    let mut changed = false;
    for item in &mut select.projection {
        let expr = match item {
            ast::SelectItem::UnnamedExpr(e) | ast::SelectItem::ExprWithAlias { expr: e, .. } => e,
            _ => continue,
        };
        let name = match expr {
            ast::Expr::Function(f) => f.name.to_string(),
            _ => continue,
        };
        if let Some((func, AggMode::Plain)) = AggMode::parse(&name) {
            if keeps_state(&func) {
                // Keep the column's name what the user wrote: `uniqExact(user_id)` stays the
                // name even though the stored value is a state.
                if let ast::SelectItem::UnnamedExpr(e) = item {
                    let alias = ast::Ident::with_quote('"', e.to_string());
                    *item = ast::SelectItem::ExprWithAlias { expr: e.clone(), alias };
                }
                if let ast::SelectItem::ExprWithAlias { expr: ast::Expr::Function(f), .. } = item {
                    f.name = ast::ObjectName::from(vec![ast::Ident::new(format!("{}State", func.name()))]);
                    changed = true;
                }
            }
        }
    }
    changed
}

/// The single table a view's SELECT reads.
fn source_name(query: &ast::Query) -> Result<TableName> {
    let ast::SetExpr::Select(select) = query.body.as_ref() else { bail!(NotSupported, "a materialized view needs a plain SELECT") };
    match select.from.as_slice() {
        [ast::TableWithJoins { relation: ast::TableFactor::Table { name, .. }, joins }] if joins.is_empty() => granary_query::bind::table_name(name),
        _ => bail!(NotSupported, "a materialized view must read exactly one table"),
    }
}

/// `CREATE MATERIALIZED VIEW`: validates the SELECT, creates the inner table if the view has
/// no `TO`, saves the view and, with `POPULATE`, fills the target from the source's rows.
/// Returns false if the view existed and `IF NOT EXISTS` was given.
pub fn create(db: &Database, current: &str, create: &CreateMaterializedView) -> Result<bool> {
    let database = create.name.database.clone().unwrap_or_else(|| current.to_string());
    let name = create.name.name.clone();
    if db.view(&database, &name).is_some() || db.table_entry(&database, &name).is_some() {
        if create.if_not_exists {
            return Ok(false);
        }
        bail!(DuplicateTable, "table {database}.{name} already exists");
    }
    let from = source_name(&create.query)?;
    let source_db = from.database.clone().unwrap_or_else(|| current.to_string());
    // A view over a view reads what is inserted into that view's target.
    let from = (source_db, from.name);
    let source = match db.view(&from.0, &from.1) {
        Some(v) => v.target.clone(),
        None => from.clone(),
    };
    if db.table_entry(&source.0, &source.1).is_none() {
        bail!(UndefinedTable, "table {}.{} does not exist", source.0, source.1);
    }
    let mut query = create.query.clone();
    let (target, inner) = match &create.to {
        Some(to) => {
            if create.storage.engine.is_some() || !create.storage.order_by.is_empty() {
                bail!(Syntax, "a materialized view with TO takes no ENGINE: its target table has one");
            }
            let target = (to.database.clone().unwrap_or_else(|| current.to_string()), to.name.clone());
            let Some(entry) = db.table_entry(&target.0, &target.1) else { bail!(UndefinedTable, "table {}.{} does not exist", target.0, target.1) };
            let fields = bind_fields(db, current, &query)?;
            if !fields.iter().any(|f| entry.def.layout.columns.iter().any(|c| c.name == f.name)) {
                bail!(UndefinedColumn, "no column of the SELECT matches a column of {}.{} by name", target.0, target.1);
            }
            (target, false)
        }
        None => {
            let summing = create.storage.engine.as_ref().is_some_and(|(e, _)| e == "SummingMergeTree");
            let states = summing && rewrite_to_states(&mut query);
            let fields = bind_fields(db, current, &query)?;
            let mut def = TableDef::from_columns(&create.storage, &database, fields.iter().map(|f| (f.name.clone(), f.ty.clone())).collect())?;
            def.name = format!("{INNER_PREFIX}{name}");
            def.finalize_states = states;
            crate::partition::partition_exprs(&def)?;
            if let Some(ttl) = &def.ttl {
                crate::ttl::Ttl::bind(ttl, &def.layout.columns)?;
            }
            let target = (database.clone(), def.name.clone());
            db.create_table(def, false)?;
            (target, true)
        }
    };
    let view = ViewDef { database, name, source, from, target, inner, query: query.to_string() };
    if let Err(e) = db.add_view(view.clone()) {
        if inner {
            let _ = db.drop_table(&view.target.0, &view.target.1, true);
        }
        return Err(e);
    }
    if create.populate {
        let query = view.parsed_query()?;
        let plan = Binder::new(&SessionCatalog { db, current, settings: None }, Params::Values(&[]), crate::session::now()).bind_query(&query)?;
        let target = db.table_entry(&view.target.0, &view.target.1).ok_or_else(|| QueryError::new(ErrorKind::UndefinedTable, "the view's target disappeared"))?;
        if let Some(rows) = run_into(&plan, &target.def)? {
            crate::insert::insert_block(db, &target, rows)?;
        }
    }
    Ok(true)
}

fn bind_fields(db: &Database, current: &str, query: &ast::Query) -> Result<Vec<granary_query::plan::Field>> {
    let catalog = SessionCatalog { db, current, settings: None };
    Ok(Binder::new(&catalog, Params::Values(&[]), crate::session::now()).bind_query(query)?.fields)
}
