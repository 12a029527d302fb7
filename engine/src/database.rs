//! The database a user embeds: `Database::open(dir)`, then sessions that execute SQL.
//!
//! Layout of the data directory:
//! `metadata/<database>/<table>.json` (definitions), `data/commit.log` (the commit log) and
//! `data/<table id>/` (each table's parts). Opening recovers everything committed.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use granary_query::catalog::{Catalog, Table, TableData};
use granary_query::error::bail;
use granary_query::parse::{ParseLimits, TableName};
use granary_query::{ErrorKind, QueryError, Result};
use granary_storage::commit::{BrokenPart, Store};
use granary_storage::table::TableStore;

use crate::background::Merger;
use crate::pg_catalog;
use crate::catalog::TableDef;
use crate::query_log::QueryLog;
use crate::stats::Stats;
use crate::users::Users;
use crate::session::Session;
use crate::view::{QueryViewDef, ViewDef};

/// The database every connection starts in, as in ClickHouse.
pub const DEFAULT_DATABASE: &str = "default";

/// A table known to the catalog: its definition and its live storage.
#[derive(Debug, Clone)]
pub struct TableEntry {
    /// The persisted definition.
    pub def: TableDef,
    /// Its parts.
    pub store: Arc<TableStore>,
    /// The table as queries see it.
    pub table: Arc<Table>,
}

impl TableEntry {
    /// Binds a definition to its storage; the TTL, if any, and the merging of aggregate
    /// states are handed to the storage's merges.
    fn new(def: TableDef, store: Arc<TableStore>) -> Result<TableEntry> {
        if let Some(ttl) = &def.ttl {
            store.set_expiry(crate::ttl::Ttl::bind(ttl, &def.layout.columns)?);
        }
        store.set_state_merger(Arc::new(granary_query::states::AggregateStates));
        let mut column_expiry: Vec<(usize, Arc<dyn granary_storage::table::RowExpiry>)> = Vec::new();
        for (name, sql) in &def.column_ttls {
            let column = def.layout.columns.iter().position(|c| &c.name == name).expect("TTL of a declared column");
            column_expiry.push((column, crate::ttl::Ttl::bind(sql, &def.layout.columns)?));
        }
        store.set_column_expiry(column_expiry);
        let table = Arc::new(Table { database: def.database.clone(), name: def.name.clone(), data: TableData::MergeTree(store.clone()), finalize_states: def.finalize_states });
        Ok(TableEntry { def, store, table })
    }
}

/// An open Granary database directory.
#[derive(Debug)]
pub struct Database {
    dir: PathBuf,
    pub(crate) store: Arc<Store>,
    tables: RwLock<HashMap<(String, String), TableEntry>>,
    views: RwLock<HashMap<(String, String), ViewDef>>,
    query_views: RwLock<HashMap<(String, String), QueryViewDef>>,
    broken: Vec<BrokenPart>,
    pub(crate) merger: Merger,
    users: Users,
    query_log: QueryLog,
    pub(crate) stats: Arc<Stats>,
    pub(crate) limits: ParseLimits,
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> QueryError {
    QueryError::new(ErrorKind::Io, format!("{what} {}: {e}", path.display()))
}

/// How a database runs, chosen when it is opened.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Background merge threads; by default half the cores, at least one.
    pub merge_threads: Option<usize>,
    /// A users file (`name = password` lines, see `users`) whose users come on top of those
    /// created with SQL.
    pub users_file: Option<PathBuf>,
    /// Limits on each statement's text: `max_query_size` and `max_expression_depth`.
    pub limits: ParseLimits,
}

impl Database {
    /// Opens (creating if needed) the database in `dir` and recovers every committed table
    /// and row; data that no commit covers is removed.
    pub fn open(dir: impl AsRef<Path>) -> Result<Arc<Database>> {
        Database::open_with(dir, Options::default())
    }

    /// `open` with options.
    pub fn open_with(dir: impl AsRef<Path>, options: Options) -> Result<Arc<Database>> {
        let dir = dir.as_ref().to_path_buf();
        let data = dir.join("data");
        let store = Arc::new(Store::open(&data)?);
        let mut tables = HashMap::new();
        let mut views = HashMap::new();
        let mut query_views = HashMap::new();
        let mut broken = Vec::new();
        let meta_root = dir.join("metadata");
        fs::create_dir_all(meta_root.join(DEFAULT_DATABASE)).map_err(|e| io_error("cannot create", &meta_root, e))?;
        for db in fs::read_dir(&meta_root).map_err(|e| io_error("cannot read", &meta_root, e))? {
            let db = db.map_err(|e| io_error("cannot read", &meta_root, e))?.path();
            for file in fs::read_dir(&db).map_err(|e| io_error("cannot read", &db, e))? {
                let path = file.map_err(|e| io_error("cannot read", &db, e))?.path();
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                if name.ends_with(".tmp") {
                    let _ = fs::remove_file(&path); // an interrupted CREATE
                    continue;
                }
                if path.extension().is_none_or(|e| e != "json") {
                    continue;
                }
                let bytes = fs::read(&path).map_err(|e| io_error("cannot read", &path, e))?;
                if name.ends_with(".query.json") {
                    let view: QueryViewDef = serde_json::from_slice(&bytes)
                        .map_err(|e| QueryError::new(ErrorKind::DataCorrupted, format!("view definition {}: {e}", path.display())))?;
                    query_views.insert((view.database.clone(), view.name.clone()), view);
                    continue;
                }
                if name.ends_with(".view.json") {
                    let view: ViewDef = serde_json::from_slice(&bytes)
                        .map_err(|e| QueryError::new(ErrorKind::DataCorrupted, format!("view definition {}: {e}", path.display())))?;
                    views.insert((view.database.clone(), view.name.clone()), view);
                    continue;
                }
                let def: TableDef = serde_json::from_slice(&bytes)
                    .map_err(|e| QueryError::new(ErrorKind::DataCorrupted, format!("table definition {}: {e}", path.display())))?;
                let (store_table, mut bad) = store.attach_table(&def.id, &data.join(&def.id), def.layout.clone())?;
                broken.append(&mut bad);
                tables.insert((def.database.clone(), def.name.clone()), TableEntry::new(def, store_table)?);
            }
        }
        store.finish_recovery()?;
        // Data directories of tables whose CREATE never committed, or whose DROP was cut short.
        let known: Vec<&str> = tables.values().map(|t| t.def.id.as_str()).collect();
        for entry in fs::read_dir(&data).map_err(|e| io_error("cannot read", &data, e))?.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.path().is_dir() && !known.contains(&name.as_str()) {
                tracing::info!("removing orphaned table data {name}");
                let _ = fs::remove_dir_all(entry.path());
            }
        }
        tracing::info!("opened database at {} with {} tables", dir.display(), tables.len());
        let threads = options.merge_threads.unwrap_or_else(|| granary_query::exec::cores() / 2).max(1);
        let users = Users::open(&dir)?;
        if let Some(file) = &options.users_file {
            users.load_file(file)?;
        }
        let stats = Arc::new(Stats::default());
        let merger = Merger::start(store.clone(), threads, stats.clone());
        for entry in tables.values() {
            merger.schedule(entry.store.clone());
        }
        let db = Arc::new(Database {
            dir,
            store,
            tables: RwLock::new(tables),
            views: RwLock::new(views),
            query_views: RwLock::new(query_views),
            broken,
            merger,
            users,
            query_log: QueryLog::default(),
            stats,
            limits: options.limits,
        });
        // An inner table whose view was never saved: a CREATE MATERIALIZED VIEW cut short.
        for entry in db.table_entries() {
            if let Some(view) = entry.def.name.strip_prefix(crate::view::INNER_PREFIX) {
                if db.view(&entry.def.database, view).is_none() {
                    tracing::info!("dropping {}.{}, left by an interrupted CREATE MATERIALIZED VIEW", entry.def.database, entry.def.name);
                    db.drop_table(&entry.def.database, &entry.def.name, true)?;
                }
            }
        }
        Ok(db)
    }

    /// A new session in the default database.
    pub fn session(self: &Arc<Self>) -> Session {
        Session::new(self.clone())
    }

    /// The directory the database lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Who may connect, and their password secrets.
    pub fn users(&self) -> &Users {
        &self.users
    }

    /// The statements sessions ran most recently.
    pub fn query_log(&self) -> &QueryLog {
        &self.query_log
    }

    /// The database's counters: statements, errors, latency, inserts, merges.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Parts found damaged at open and moved to `detached/`.
    pub fn broken_parts(&self) -> &[BrokenPart] {
        &self.broken
    }

    /// The catalog entry of a table.
    pub fn table_entry(&self, database: &str, name: &str) -> Option<TableEntry> {
        self.tables.read().expect("catalog lock").get(&(database.to_string(), name.to_string())).cloned()
    }

    /// Every table of every database.
    pub fn table_entries(&self) -> Vec<TableEntry> {
        self.tables.read().expect("catalog lock").values().cloned().collect()
    }

    /// The table a name reads and writes: the table itself, or a materialized view's target.
    pub fn resolve(&self, database: &str, name: &str) -> Option<TableEntry> {
        self.table_entry(database, name).or_else(|| self.view(database, name).and_then(|v| self.table_entry(&v.target.0, &v.target.1)))
    }

    /// Table and view names of a database, sorted.
    pub fn table_names(&self, database: &str) -> Vec<String> {
        let mut names: Vec<String> = self.tables.read().expect("catalog lock").keys().filter(|(db, _)| db == database).map(|(_, n)| n.clone()).collect();
        names.extend(self.views.read().expect("catalog lock").keys().filter(|(db, _)| db == database).map(|(_, n)| n.clone()));
        names.extend(self.query_views.read().expect("catalog lock").keys().filter(|(db, _)| db == database).map(|(_, n)| n.clone()));
        names.sort();
        names
    }

    /// A materialized view's definition.
    pub fn view(&self, database: &str, name: &str) -> Option<ViewDef> {
        self.views.read().expect("catalog lock").get(&(database.to_string(), name.to_string())).cloned()
    }

    /// Every materialized view, sorted by database and name.
    pub fn views(&self) -> Vec<ViewDef> {
        let mut all: Vec<ViewDef> = self.views.read().expect("catalog lock").values().cloned().collect();
        all.sort_by(|a, b| (&a.database, &a.name).cmp(&(&b.database, &b.name)));
        all
    }

    /// The views an insert into `database.table` runs, in name order.
    pub fn views_over(&self, database: &str, table: &str) -> Vec<ViewDef> {
        self.views().into_iter().filter(|v| v.source.0 == database && v.source.1 == table).collect()
    }

    /// Every plain view, sorted by database and name.
    pub fn query_views(&self) -> Vec<QueryViewDef> {
        let mut all: Vec<QueryViewDef> = self.query_views.read().expect("catalog lock").values().cloned().collect();
        all.sort_by(|a, b| (&a.database, &a.name).cmp(&(&b.database, &b.name)));
        all
    }

    /// Registers and saves a plain view; with `or_replace` an existing one is replaced.
    /// Returns false if the view existed and was kept (`if_not_exists`).
    pub(crate) fn add_query_view(&self, view: QueryViewDef, if_not_exists: bool, or_replace: bool) -> Result<bool> {
        let tables = self.tables.read().expect("catalog lock");
        let views = self.views.read().expect("catalog lock");
        let mut query_views = self.query_views.write().expect("catalog lock");
        let key = (view.database.clone(), view.name.clone());
        let exists = query_views.contains_key(&key);
        if tables.contains_key(&key) || views.contains_key(&key) || (exists && !or_replace) {
            if if_not_exists {
                return Ok(false);
            }
            bail!(DuplicateTable, "table {}.{} already exists", view.database, view.name);
        }
        let meta_dir = self.dir.join("metadata").join(&view.database);
        view.save(&meta_dir).map_err(|e| io_error("cannot write the definition into", &meta_dir, e))?;
        query_views.insert(key, view);
        Ok(true)
    }

    /// Registers and saves a view (its target exists already).
    pub(crate) fn add_view(&self, view: ViewDef) -> Result<()> {
        let tables = self.tables.read().expect("catalog lock");
        let mut views = self.views.write().expect("catalog lock");
        let key = (view.database.clone(), view.name.clone());
        if views.contains_key(&key) || tables.contains_key(&key) || self.query_views.read().expect("catalog lock").contains_key(&key) {
            bail!(DuplicateTable, "table {}.{} already exists", view.database, view.name);
        }
        let meta_dir = self.dir.join("metadata").join(&view.database);
        view.save(&meta_dir).map_err(|e| io_error("cannot write the definition into", &meta_dir, e))?;
        views.insert(key, view);
        Ok(())
    }

    /// Drops a view (materialized with its inner table, or plain); false if there is none.
    pub(crate) fn drop_view(&self, database: &str, name: &str) -> Result<bool> {
        let key = (database.to_string(), name.to_string());
        let meta_dir = self.dir.join("metadata").join(database);
        if self.query_views.write().expect("catalog lock").remove(&key).is_some() {
            let path = meta_dir.join(crate::view::query_view_file_name(name));
            fs::remove_file(&path).map_err(|e| io_error("cannot remove", &path, e))?;
            return fs::File::open(&meta_dir).and_then(|f| f.sync_all()).map(|_| true).map_err(|e| io_error("cannot sync", &meta_dir, e));
        }
        let Some(view) = self.views.write().expect("catalog lock").remove(&key) else { return Ok(false) };
        let path = meta_dir.join(crate::view::view_file_name(name));
        fs::remove_file(&path).map_err(|e| io_error("cannot remove", &path, e))?;
        fs::File::open(&meta_dir).and_then(|f| f.sync_all()).map_err(|e| io_error("cannot sync", &meta_dir, e))?;
        if view.inner {
            self.drop_table(&view.target.0, &view.target.1, true)?;
        }
        Ok(true)
    }

    /// Creates a table; returns false if it existed and `if_not_exists` was given.
    pub(crate) fn create_table(&self, def: TableDef, if_not_exists: bool) -> Result<bool> {
        let mut tables = self.tables.write().expect("catalog lock");
        let key = (def.database.clone(), def.name.clone());
        let view_named = self.views.read().expect("catalog lock").contains_key(&key) || self.query_views.read().expect("catalog lock").contains_key(&key);
        if tables.contains_key(&key) || view_named {
            if if_not_exists {
                return Ok(false);
            }
            bail!(DuplicateTable, "table {}.{} already exists", def.database, def.name);
        }
        let meta_dir = self.dir.join("metadata").join(&def.database);
        if !meta_dir.exists() {
            bail!(UndefinedTable, "database {} does not exist", def.database);
        }
        let store_table = self.store.create_table(&def.id, &self.dir.join("data").join(&def.id), def.layout.clone())?;
        def.save(&meta_dir).map_err(|e| io_error("cannot write the definition into", &meta_dir, e))?;
        tables.insert(key, TableEntry::new(def, store_table)?);
        Ok(true)
    }

    /// Drops a table; returns false if it did not exist and `if_exists` was given.
    pub(crate) fn drop_table(&self, database: &str, name: &str, if_exists: bool) -> Result<bool> {
        let mut tables = self.tables.write().expect("catalog lock");
        let Some(entry) = tables.remove(&(database.to_string(), name.to_string())) else {
            if if_exists {
                return Ok(false);
            }
            bail!(UndefinedTable, "table {database}.{name} does not exist")
        };
        let meta_dir = self.dir.join("metadata").join(database);
        let path = meta_dir.join(format!("{name}.json"));
        fs::remove_file(&path).map_err(|e| io_error("cannot remove", &path, e))?;
        fs::File::open(&meta_dir).and_then(|f| f.sync_all()).map_err(|e| io_error("cannot sync", &meta_dir, e))?;
        self.store.detach_table(&entry.def.id);
        // Open snapshots keep their memory maps; the files go away with the directory.
        let _ = fs::remove_dir_all(self.dir.join("data").join(&entry.def.id));
        Ok(true)
    }
}

/// The catalog as one session sees it: unqualified names resolve in its current database,
/// then (`pg_class`) in `pg_catalog`, as Postgres's search path does.
pub(crate) struct SessionCatalog<'a> {
    pub db: &'a Database,
    pub current: &'a str,
    /// The session's settings, for `current_setting` and `pg_settings`.
    pub settings: Option<&'a crate::settings::Settings>,
}

impl Catalog for SessionCatalog<'_> {
    fn table(&self, name: &TableName) -> Result<Arc<Table>> {
        let database = name.database.as_deref().unwrap_or(self.current);
        if database == crate::system::SYSTEM_DATABASE {
            return crate::system::system_table(self.db, &name.name);
        }
        if pg_catalog::is_catalog_schema(database) {
            return pg_catalog::catalog_table(self.db, self.current, self.settings, database, &name.name);
        }
        if let Some(entry) = self.db.resolve(database, &name.name) {
            return Ok(entry.table);
        }
        match self.db.query_views.read().expect("catalog lock").get(&(database.to_string(), name.name.clone())) {
            Some(view) => view.table(),
            None if name.database.is_none() && pg_catalog::is_pg_table(&name.name) => {
                pg_catalog::catalog_table(self.db, self.current, self.settings, pg_catalog::PG_CATALOG, &name.name)
            }
            None => bail!(UndefinedTable, "table {database}.{} does not exist", name.name),
        }
    }

    fn current_database(&self) -> &str {
        self.current
    }

    fn setting(&self, name: &str) -> Option<String> {
        self.settings.cloned().unwrap_or_default().get(name).ok()
    }
}
