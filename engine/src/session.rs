//! A session: one client's sequence of statements, with its current database.
//!
//! `execute` runs a script and returns each statement's output; `prepare` and
//! `execute_prepared` serve the extended protocol (`$n` parameters, result description).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use granary_query::bind::{Binder, Params};
use granary_query::error::bail;
use granary_query::exec::{self, QueryContext, ScanStats};
use granary_query::parse::{self, Statement};
use granary_query::plan::Field;
use granary_query::{QueryError, Result};
use granary_storage::{Block, Column, DataType, Value};

use granary_query::parse::CopyOptions;
use granary_query::sqlparser::ast;

use crate::copy::{CopyIn, CopySpec};
use crate::partition::resolve_partition;
use crate::catalog::TableDef;
use crate::database::{Database, SessionCatalog};
use crate::insert;
use crate::query_log::QueryLogEntry;
use crate::settings::Settings;

/// What one statement produced.
#[derive(Debug, Clone)]
pub enum Output {
    /// Rows (SELECT, SHOW, EXPLAIN).
    Rows {
        /// Result columns.
        fields: Vec<Field>,
        /// The rows, in blocks.
        blocks: Vec<Block>,
        /// What the scan read (zero for statements that read no table).
        stats: ScanStats,
    },
    /// A command: its Postgres-style tag (`CREATE TABLE`, `INSERT`) and affected rows.
    Command {
        /// The command tag.
        tag: String,
        /// Rows affected, for INSERT.
        rows: Option<u64>,
    },
    /// `COPY … FROM STDIN`: the client is to send the data now; start it with
    /// `Session::copy_in` (or use `Session::copy_from` with a reader).
    CopyIn(CopySpec),
    /// `COPY … TO STDOUT`: the rows to send, and the text layout they are to be sent in.
    CopyOut {
        /// Result columns.
        fields: Vec<Field>,
        /// The rows, in blocks.
        blocks: Vec<Block>,
        /// Text or CSV, and their options.
        options: CopyOptions,
    },
}

impl Output {
    fn command(tag: &str) -> Output {
        Output::Command { tag: tag.to_string(), rows: None }
    }

    fn rows(fields: Vec<Field>, columns: Vec<Column>) -> Output {
        let block = Block::new(columns.into_iter().map(Arc::new).collect());
        Output::Rows { fields, blocks: vec![block], stats: ScanStats::default() }
    }
}

/// The description of a prepared statement.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Types of `$1..$n`, inferred from where they are used.
    pub param_types: Vec<DataType>,
    /// Result columns (empty for statements that return no rows).
    pub fields: Vec<Field>,
}

/// One client's session.
#[derive(Debug)]
pub struct Session {
    db: Arc<Database>,
    database: String,
    ctx: QueryContext,
    settings: Settings,
    user: String,
}

/// The Unix time statements see as `now()`.
pub(crate) fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

impl Session {
    pub(crate) fn new(db: Arc<Database>) -> Session {
        Session { db, database: crate::database::DEFAULT_DATABASE.to_string(), ctx: QueryContext::default(), settings: Settings::default(), user: crate::users::DEFAULT_USER.to_string() }
    }

    /// The user the session runs as (`default` until the server authenticates another).
    pub fn user(&self) -> &str {
        &self.user
    }

    /// Runs the session as `user`, once whoever connects has proven to be that user.
    pub fn set_user(&mut self, user: &str) {
        self.user = user.to_string();
    }

    /// The flag that cancels this session's running statement when set.
    pub fn cancel_flag(&self) -> Arc<std::sync::atomic::AtomicBool> {
        self.ctx.cancel.clone()
    }

    /// Runs every statement of a script in order and returns all their outputs; stops at the
    /// first error.
    pub fn execute(&mut self, sql: &str) -> Result<Vec<Output>> {
        let (outputs, error) = self.execute_script(sql);
        match error {
            Some(e) => Err(e),
            None => Ok(outputs),
        }
    }

    /// Runs a script, returning the outputs of the statements that succeeded and the error
    /// that stopped it, if any (what a Postgres server sends for a multi-statement query).
    pub fn execute_script(&mut self, sql: &str) -> (Vec<Output>, Option<QueryError>) {
        let statements = match parse::parse_script_with(sql, &self.db.limits) {
            Ok(s) => s,
            Err(e) => {
                self.log(None, sql, Instant::now(), &Err(e.clone()));
                return (Vec::new(), Some(e));
            }
        };
        let mut outputs = Vec::new();
        for stmt in statements {
            match self.run_logged(stmt, sql, &[]) {
                Ok(o) => outputs.push(o),
                Err(e) => return (outputs, Some(e)),
            }
        }
        (outputs, None)
    }

    /// Starts loading the data of a `COPY … FROM STDIN` this session returned.
    pub fn copy_in(&self, spec: &CopySpec) -> Result<CopyIn> {
        CopyIn::start(&self.db, spec)
    }

    /// Runs one `COPY … FROM STDIN` statement with its data from `reader`; returns the rows
    /// loaded. All of them are committed at once, or none.
    pub fn copy_from(&mut self, sql: &str, mut reader: impl std::io::Read) -> Result<u64> {
        let Output::CopyIn(spec) = self.execute_prepared(sql, &[])? else {
            bail!(Syntax, "copy_from needs a COPY … FROM STDIN statement");
        };
        let mut copy = self.copy_in(&spec)?;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = reader.read(&mut buf).map_err(|e| QueryError::new(granary_query::ErrorKind::Io, format!("reading COPY data: {e}")))?;
            if n == 0 {
                return copy.finish();
            }
            copy.write(&buf[..n])?;
        }
    }

    /// Describes one statement with `$n` parameters without running it.
    pub fn prepare(&mut self, sql: &str) -> Result<Prepared> {
        let stmt = single_statement(sql, &self.db.limits)?;
        let catalog = SessionCatalog { db: &self.db, current: &self.database, settings: Some(&self.settings) };
        let binder = Binder::new(&catalog, Params::Infer(Default::default()), now());
        Ok(match &stmt {
            Statement::Query(q) => {
                let plan = binder.bind_query(q)?;
                Prepared { param_types: binder.param_types(), fields: plan.fields }
            }
            Statement::InsertSelect { query, .. } => {
                binder.bind_query(query)?;
                Prepared { param_types: binder.param_types(), fields: Vec::new() }
            }
            Statement::Insert { table, columns, rows } => {
                let entry = self.table_entry(table)?;
                let targets = insert::target_columns(&entry.def, columns)?;
                let mut types = Vec::new();
                for row in rows {
                    for (expr, &col) in row.iter().zip(&targets) {
                        if let Some(n) = granary_query::bind::placeholder(expr) {
                            if types.len() < n {
                                types.resize(n, DataType::String);
                            }
                            types[n - 1] = entry.def.layout.columns[col].ty.value_type();
                        }
                    }
                }
                Prepared { param_types: types, fields: Vec::new() }
            }
            other => Prepared { param_types: Vec::new(), fields: self.describe(other)? },
        })
    }

    /// Runs one statement with parameter values for `$1..$n`.
    pub fn execute_prepared(&mut self, sql: &str, params: &[Value]) -> Result<Output> {
        let stmt = single_statement(sql, &self.db.limits)?;
        self.run_logged(stmt, sql, params)
    }

    /// Runs a statement and records it in the query log and the database's counters.
    fn run_logged(&mut self, stmt: Statement, sql: &str, params: &[Value]) -> Result<Output> {
        let started = Instant::now();
        let kind = query_kind(&stmt);
        let text = stmt.redacted();
        self.ctx.scanned = Default::default();
        self.ctx.held = Default::default();
        self.ctx.deadline = self.settings.statement_timeout().map(|t| started + t);
        let result = self.run(stmt, params);
        self.log(Some(kind), text.as_deref().unwrap_or(sql), started, &result);
        result
    }

    /// Records a statement that started at `started` and ended with `result`; `kind` is
    /// `None` when the text did not parse.
    fn log(&self, kind: Option<&'static str>, text: &str, started: Instant, result: &Result<Output>) {
        let elapsed = started.elapsed();
        let error = result.as_ref().err();
        let kind_name = kind.unwrap_or("Unknown");
        self.db.stats.statement(kind_name, elapsed, error.map(|e| format!("{:?}", e.kind)));
        // Text that did not parse may be a CREATE USER with its password.
        let hides_password = kind.is_none() && ["IDENTIFIED", "PASSWORD"].iter().any(|w| text.to_ascii_uppercase().contains(w));
        let (result_rows, written_rows) = match result {
            Ok(Output::Rows { blocks, .. }) => (blocks.iter().map(Block::rows).sum::<usize>() as u64, 0),
            Ok(Output::Command { rows, .. }) => (0, rows.unwrap_or(0)),
            Ok(Output::CopyOut { blocks, .. }) => (blocks.iter().map(Block::rows).sum::<usize>() as u64, 0),
            // The rows of a COPY FROM arrive after the statement; its entry is the start.
            Ok(Output::CopyIn(_)) | Err(_) => (0, 0),
        };
        self.db.query_log().record(QueryLogEntry {
            query_id: uuid::Uuid::new_v4().to_string(),
            event_time: now() as u64,
            user: self.user.clone(),
            query: if hides_password { "[HIDDEN: a statement with a password that did not parse]".into() } else { text.to_string() },
            query_kind: kind_name,
            duration_ms: elapsed.as_millis() as u64,
            read_rows: self.ctx.scanned.rows.load(Ordering::Relaxed),
            read_granules: self.ctx.scanned.granules.load(Ordering::Relaxed),
            result_rows,
            written_rows,
            error_kind: error.map(|e| format!("{:?}", e.kind)).unwrap_or_default(),
            exception: error.map(|e| e.message.clone()).unwrap_or_default(),
        });
    }

    fn describe(&self, stmt: &Statement) -> Result<Vec<Field>> {
        Ok(match stmt {
            Statement::ShowTables => vec![Field { name: "name".into(), ty: DataType::String }],
            Statement::Describe { .. } => ["name", "type", "default_type", "default_expression", "comment", "codec_expression", "ttl_expression"]
                .iter()
                .map(|n| Field { name: n.to_string(), ty: DataType::String })
                .collect(),
            Statement::CheckTable { .. } => vec![
                Field { name: "part_path".into(), ty: DataType::String },
                Field { name: "is_passed".into(), ty: DataType::UInt8 },
                Field { name: "message".into(), ty: DataType::String },
            ],
            Statement::Explain(_) => vec![Field { name: "explain".into(), ty: DataType::String }],
            Statement::ShowSetting { name } => vec![Field { name: name.clone(), ty: DataType::String }],
            _ => Vec::new(),
        })
    }

    fn table_entry(&self, name: &parse::TableName) -> Result<crate::database::TableEntry> {
        let database = name.database.as_deref().unwrap_or(&self.database);
        match self.db.resolve(database, &name.name) {
            Some(e) => Ok(e),
            None => bail!(UndefinedTable, "table {database}.{} does not exist", name.name),
        }
    }

    fn run(&mut self, stmt: Statement, params: &[Value]) -> Result<Output> {
        self.ctx.cancel.store(false, std::sync::atomic::Ordering::Relaxed);
        let catalog = SessionCatalog { db: &self.db, current: &self.database, settings: Some(&self.settings) };
        let binder = Binder::new(&catalog, Params::Values(params), now()).with_context(self.ctx.clone());
        match stmt {
            Statement::Query(q) => {
                let ctx = self.query_context(&q, &binder)?;
                let binder = binder.with_context(ctx.clone());
                let plan = binder.bind_query(&q)?;
                let result = exec::execute(&plan, &ctx)?;
                Ok(Output::Rows { fields: result.fields, blocks: result.blocks, stats: result.stats })
            }
            Statement::Set { name, value } => {
                self.settings.set(&name, &setting_text(&binder, &value)?)?;
                self.settings.apply(&mut self.ctx);
                Ok(Output::command("SET"))
            }
            Statement::ShowSetting { name } => {
                let value = self.settings.get(&name)?;
                let fields = self.describe(&Statement::ShowSetting { name })?;
                Ok(Output::rows(fields, vec![granary_query::expr::string_column([value].iter())]))
            }
            Statement::Reset { name } => {
                self.settings.reset(name.as_deref());
                self.settings.apply(&mut self.ctx);
                Ok(Output::command("RESET"))
            }
            Statement::Explain(q) => {
                let plan = binder.bind_query(&q)?;
                let lines = exec::explain(&plan);
                let fields = self.describe(&Statement::Explain(q))?;
                Ok(Output::rows(fields, vec![granary_query::expr::string_column(lines.iter())]))
            }
            Statement::Describe { table } => {
                // ClickHouse's columns; Granary has no column defaults, comments or per-column
                // codecs and TTLs to show there yet.
                let entry = self.table_entry(&table)?;
                let columns = &entry.def.layout.columns;
                let names: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
                let types: Vec<String> = columns.iter().map(|c| c.ty.to_string()).collect();
                let empty = vec![String::new(); columns.len()];
                let mut out = vec![granary_query::expr::string_column(names.iter()), granary_query::expr::string_column(types.iter())];
                out.extend((0..5).map(|_| granary_query::expr::string_column(empty.iter())));
                Ok(Output::rows(self.describe(&Statement::Describe { table })?, out))
            }
            Statement::ShowTables => {
                let names = self.db.table_names(&self.database);
                Ok(Output::rows(self.describe(&Statement::ShowTables)?, vec![granary_query::expr::string_column(names.iter())]))
            }
            Statement::CreateTable(create) => {
                let database = create.name.database.clone().unwrap_or_else(|| self.database.clone());
                let def = TableDef::from_create(&create, &database)?;
                crate::partition::partition_exprs(&def)?;
                if let Some(ttl) = &def.ttl {
                    crate::ttl::Ttl::bind(ttl, &def.layout.columns)?;
                }
                self.db.create_table(def, create.if_not_exists)?;
                Ok(Output::command("CREATE TABLE"))
            }
            Statement::CreateMaterializedView(create) => {
                crate::view::create(&self.db, &self.database, &create)?;
                Ok(Output::command("CREATE MATERIALIZED VIEW"))
            }
            Statement::DropTable { name, if_exists } => {
                let database = name.database.clone().unwrap_or_else(|| self.database.clone());
                // ClickHouse drops a view with DROP TABLE too.
                if !self.db.drop_view(&database, &name.name)? {
                    self.db.drop_table(&database, &name.name, if_exists)?;
                }
                Ok(Output::command("DROP TABLE"))
            }
            Statement::CreateView { name, if_not_exists, or_replace, query } => {
                let database = name.database.clone().unwrap_or_else(|| self.database.clone());
                binder.bind_query(&query)?; // a view must bind now, not first fail when read
                let view = crate::view::QueryViewDef { database, name: name.name, query: query.to_string() };
                self.db.add_query_view(view, if_not_exists, or_replace)?;
                Ok(Output::command("CREATE VIEW"))
            }
            Statement::DropView { name, if_exists } => {
                let database = name.database.clone().unwrap_or_else(|| self.database.clone());
                if !self.db.drop_view(&database, &name.name)? && !if_exists {
                    bail!(UndefinedTable, "view {database}.{} does not exist", name.name);
                }
                Ok(Output::command("DROP VIEW"))
            }
            Statement::CreateUser { name, password, if_not_exists } => {
                self.db.users().create(&name, password.as_deref(), if_not_exists)?;
                Ok(Output::command("CREATE ROLE"))
            }
            Statement::AlterUser { name, password } => {
                self.db.users().alter(&name, password.as_deref())?;
                Ok(Output::command("ALTER ROLE"))
            }
            Statement::DropUser { name, if_exists } => {
                self.db.users().drop_user(&name, if_exists)?;
                Ok(Output::command("DROP ROLE"))
            }
            Statement::Insert { table, columns, rows } => {
                let entry = self.table_entry(&table)?;
                let n = insert::insert_values(&self.db, &entry, &columns, &rows, &binder)?;
                Ok(Output::Command { tag: "INSERT".into(), rows: Some(n) })
            }
            Statement::InsertSelect { table, columns, query } => {
                let entry = self.table_entry(&table)?;
                let result = exec::execute(&binder.bind_query(&query)?, &self.ctx)?;
                let n = insert::insert_rows(&self.db, &entry, &columns, result.blocks)?;
                Ok(Output::Command { tag: "INSERT".into(), rows: Some(n) })
            }
            Statement::Optimize { table, partition, final_merge } => {
                let entry = self.table_entry(&table)?;
                let partition = partition.map(|p| resolve_partition(&entry.def, &p)).transpose()?;
                let policy = granary_storage::merge::MergePolicy::default();
                let merges = crate::background::merge_table(&self.db.store, &entry.store, &policy, final_merge, partition.as_deref())?;
                self.db.stats.merged(merges);
                Ok(Output::command("OPTIMIZE TABLE"))
            }
            Statement::DropPartition { table, partition } => {
                let entry = self.table_entry(&table)?;
                let id = resolve_partition(&entry.def, &partition)?;
                let store = &entry.store;
                // Under the merge guard, so no merge is folding these parts right now.
                let _guard = store.merge_guard();
                let names: Vec<String> = store.snapshot().parts.iter().filter(|p| p.partition_id() == id).map(|p| p.name.clone()).collect();
                self.db.store.commit(Vec::new(), vec![(store.clone(), names)])?;
                Ok(Output::command("ALTER TABLE"))
            }
            Statement::CheckTable { table } => {
                let entry = self.table_entry(&table)?;
                let (mut paths, mut passed, mut messages) = (Vec::new(), Vec::new(), Vec::new());
                for part in &entry.store.snapshot().parts {
                    let result = part.verify();
                    paths.push(part.name.clone());
                    passed.push(Value::UInt(result.is_ok() as u64));
                    messages.push(result.err().map(|e| e.to_string()).unwrap_or_default());
                }
                Ok(Output::rows(self.describe(&Statement::CheckTable { table })?, vec![
                    granary_query::expr::string_column(paths.iter()),
                    Column::from_values(DataType::UInt8, &passed)?,
                    granary_query::expr::string_column(messages.iter()),
                ]))
            }
            Statement::SystemMerges { table, stop } => {
                let id = table.map(|t| self.table_entry(&t)).transpose()?.map(|e| e.store.id.clone());
                self.db.merger.set_stopped(id, stop);
                if !stop {
                    for entry in self.db.table_entries() {
                        self.db.merger.schedule(entry.store.clone());
                    }
                }
                Ok(Output::command("SYSTEM"))
            }
            Statement::CopyFrom { table, columns, options } => {
                let entry = self.table_entry(&table)?;
                let targets = insert::target_columns(&entry.def, &columns)?;
                let columns = targets.iter().map(|&i| entry.def.layout.columns[i].name.clone()).collect();
                Ok(Output::CopyIn(CopySpec { database: entry.def.database.clone(), table: entry.def.name.clone(), columns, options, block_rows: self.settings.insert_block_rows() }))
            }
            Statement::CopyTo { query, options } => {
                let ctx = self.query_context(&query, &binder)?;
                let plan = binder.with_context(ctx.clone()).bind_query(&query)?;
                let result = exec::execute(&plan, &ctx)?;
                Ok(Output::CopyOut { fields: result.fields, blocks: result.blocks, options })
            }
            // Every statement commits on its own as it runs: a transaction block is accepted
            // so that drivers which open one work, but ROLLBACK cannot undo what ran in it.
            Statement::Other(s) => match *s {
                ast::Statement::StartTransaction { .. } => Ok(Output::command("BEGIN")),
                ast::Statement::Commit { .. } => Ok(Output::command("COMMIT")),
                ast::Statement::Rollback { .. } => Ok(Output::command("ROLLBACK")),
                // Savepoints (SQLAlchemy's psycopg dialect opens one on connect) likewise.
                ast::Statement::Savepoint { .. } => Ok(Output::command("SAVEPOINT")),
                ast::Statement::ReleaseSavepoint { .. } => Ok(Output::command("RELEASE")),
                s => bail!(NotSupported, "statement not supported yet: {s}"),
            },
        }
    }
}

impl Session {
    /// The execution context of a query: the session's, with the query's own `SETTINGS`.
    fn query_context(&self, query: &granary_query::sqlparser::ast::Query, binder: &Binder) -> Result<QueryContext> {
        let Some(list) = query.settings.as_ref().filter(|l| !l.is_empty()) else { return Ok(self.ctx.clone()) };
        let mut settings = self.settings.clone();
        for s in list {
            settings.set(&s.key.value, &setting_text(binder, &s.value)?)?;
        }
        let mut ctx = self.ctx.clone();
        settings.apply(&mut ctx);
        Ok(ctx)
    }
}

/// A setting's value as text: a name (`SET search_path = public`) or a constant.
fn setting_text(binder: &Binder, value: &granary_query::sqlparser::ast::Expr) -> Result<String> {
    use granary_query::sqlparser::ast::Expr;
    Ok(match value {
        Expr::Identifier(id) => id.value.clone(),
        Expr::CompoundIdentifier(parts) => parts.iter().map(|p| p.value.as_str()).collect::<Vec<_>>().join("."),
        other => match binder.bind_constant(other)? {
            Value::String(s) => s,
            Value::Bool(b) => if b { "on" } else { "off" }.to_string(),
            Value::Null => String::new(),
            Value::UInt(n) => n.to_string(),
            Value::Int(n) => n.to_string(),
            Value::Float(f) => f.to_string(),
            _ => other.to_string(),
        },
    })
}

/// The query log's name for a statement's kind.
fn query_kind(stmt: &Statement) -> &'static str {
    match stmt {
        Statement::Query(_) | Statement::CopyTo { .. } | Statement::Explain(_) | Statement::ShowTables | Statement::Describe { .. } | Statement::ShowSetting { .. } | Statement::CheckTable { .. } => "Select",
        Statement::Insert { .. } | Statement::InsertSelect { .. } | Statement::CopyFrom { .. } => "Insert",
        Statement::CreateTable(_) | Statement::CreateMaterializedView(_) | Statement::CreateView { .. } | Statement::CreateUser { .. } => "Create",
        Statement::DropTable { .. } | Statement::DropView { .. } | Statement::DropUser { .. } => "Drop",
        Statement::DropPartition { .. } | Statement::AlterUser { .. } => "Alter",
        Statement::Optimize { .. } | Statement::SystemMerges { .. } => "System",
        Statement::Set { .. } | Statement::Reset { .. } => "Set",
        Statement::Other(_) => "Other",
    }
}

fn single_statement(sql: &str, limits: &parse::ParseLimits) -> Result<Statement> {
    let mut stmts = parse::parse_script_with(sql, limits)?;
    match stmts.len() {
        1 => Ok(stmts.pop().expect("one statement")),
        0 => bail!(Syntax, "empty query"),
        _ => bail!(Syntax, "cannot prepare several statements at once"),
    }
}
