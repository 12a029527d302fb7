//! The Postgres catalog as tools read it: the `pg_catalog` tables (`pg_class`,
//! `pg_attribute`, `pg_type`, `pg_namespace`, …) and the `information_schema` views
//! (`schemata`, `tables`, `columns`, `views`), computed from the live catalog when a query
//! binds, like the `system` tables.
//!
//! A Granary database is a Postgres schema (a namespace); its tables are relations of kind
//! `r`, plain views `v` and materialized views `m` (with the columns of their target). Every
//! column's `atttypid` is the OID of the type the server sends it as
//! (`granary_query::functions::pg::type_oid`), and `attnotnull` holds unless the column is
//! Nullable. OIDs of namespaces and relations are hashes of their names, so they stay the
//! same from one query to the next. Granary has no constraints, indexes, defaults, comments,
//! policies, inheritance or publications: those catalogs exist with their Postgres columns and
//! no rows, so that clients' joins against them work.

use std::cell::Cell;
use std::collections::BTreeSet;
use std::sync::Arc;

use granary_query::bind::{Binder, Params};
use granary_query::catalog::Table;
use granary_query::error::bail;
use granary_query::functions::pg::{pg_type, type_oid, OWNER, OWNER_OID, PG_TYPES};
use granary_query::Result;
use granary_storage::{DataType, Value};

use crate::database::{Database, SessionCatalog, DEFAULT_DATABASE};
use crate::settings::Settings;
use crate::system::{text, Rows};

/// The schema of the Postgres system catalogs.
pub const PG_CATALOG: &str = "pg_catalog";

/// The schema of the SQL-standard catalog views.
pub const INFORMATION_SCHEMA: &str = "information_schema";

/// The OID of `pg_catalog`'s namespace (as in Postgres).
const PG_CATALOG_OID: u32 = 11;
/// The OID of `information_schema`'s namespace.
const INFORMATION_SCHEMA_OID: u32 = 13_000;
/// The access method of MergeTree tables in `pg_am`.
const MERGETREE_AM_OID: u32 = 2;
/// The first OID of objects users create (as in Postgres).
const FIRST_USER_OID: u32 = 16_384;

/// The `pg_catalog` tables: name and columns (`name type`, Postgres types, `?` for Nullable).
const PG_TABLES: &[(&str, &str)] = &[
    ("pg_namespace", "oid oid, nspname name, nspowner oid, nspacl text[]"),
    ("pg_class", "oid oid, relname name, relnamespace oid, reltype oid, reloftype oid, relowner oid, relam oid, relfilenode oid, reltablespace oid, relpages int4, reltuples float4, relallvisible int4, reltoastrelid oid, relhasindex bool, relisshared bool, relpersistence char, relkind char, relnatts int2, relchecks int2, relhasrules bool, relhastriggers bool, relhassubclass bool, relrowsecurity bool, relforcerowsecurity bool, relispopulated bool, relreplident char, relispartition bool, relrewrite oid, relfrozenxid oid, relminmxid oid, relacl text[], reloptions text[], relpartbound text?"),
    ("pg_attribute", "attrelid oid, attname name, atttypid oid, attstattarget int2, attlen int2, attnum int2, attndims int2, attcacheoff int4, atttypmod int4, attbyval bool, attalign char, attstorage char, attcompression char, attnotnull bool, atthasdef bool, atthasmissing bool, attidentity char, attgenerated char, attisdropped bool, attislocal bool, attinhcount int2, attcollation oid, attacl text[], attoptions text[], attfdwoptions text[]"),
    ("pg_type", "oid oid, typname name, typnamespace oid, typowner oid, typlen int2, typbyval bool, typtype char, typcategory char, typispreferred bool, typisdefined bool, typdelim char, typrelid oid, typsubscript text, typelem oid, typarray oid, typinput text, typoutput text, typreceive text, typsend text, typmodin text, typmodout text, typanalyze text, typalign char, typstorage char, typnotnull bool, typbasetype oid, typtypmod int4, typndims int4, typcollation oid, typdefaultbin text?, typdefault text?, typacl text[]"),
    ("pg_database", "oid oid, datname name, datdba oid, encoding int4, datlocprovider char, datistemplate bool, datallowconn bool, datconnlimit int4, datfrozenxid oid, datminmxid oid, dattablespace oid, datcollate text, datctype text, daticulocale text?, daticurules text?, datcollversion text?, datacl text[]"),
    ("pg_settings", "name text, setting text, unit text?, category text, short_desc text, extra_desc text?, context text, vartype text, source text, min_val text?, max_val text?, enumvals text[], boot_val text, reset_val text, sourcefile text?, sourceline int4?, pending_restart bool"),
    ("pg_description", "objoid oid, classoid oid, objsubid int4, description text"),
    ("pg_am", "oid oid, amname name, amhandler text, amtype char"),
    ("pg_index", "indexrelid oid, indrelid oid, indnatts int2, indnkeyatts int2, indisunique bool, indnullsnotdistinct bool, indisprimary bool, indisexclusion bool, indimmediate bool, indisclustered bool, indisvalid bool, indcheckxmin bool, indisready bool, indislive bool, indisreplident bool, indkey int2[], indcollation oid[], indclass oid[], indoption int2[], indexprs text?, indpred text?"),
    ("pg_proc", "oid oid, proname name, pronamespace oid, proowner oid, prolang oid, procost float4, prorows float4, provariadic oid, prosupport text, prokind char, prosecdef bool, proleakproof bool, proisstrict bool, proretset bool, provolatile char, proparallel char, pronargs int2, pronargdefaults int2, prorettype oid, proargtypes oid[], proallargtypes oid[], proargmodes text[], proargnames text[], prosrc text, probin text?, proconfig text[], proacl text[]"),
    ("pg_roles", "rolname name, rolsuper bool, rolinherit bool, rolcreaterole bool, rolcreatedb bool, rolcanlogin bool, rolreplication bool, rolconnlimit int4, rolpassword text, rolvaliduntil text?, rolbypassrls bool, rolconfig text[], oid oid"),
    ("pg_user", "usename name, usesysid oid, usecreatedb bool, usesuper bool, userepl bool, usebypassrls bool, passwd text, valuntil text?, useconfig text[]"),
    ("pg_tables", "schemaname name, tablename name, tableowner name, tablespace name?, hasindexes bool, hasrules bool, hastriggers bool, rowsecurity bool"),
    ("pg_views", "schemaname name, viewname name, viewowner name, definition text"),
    ("pg_matviews", "schemaname name, matviewname name, matviewowner name, tablespace name?, hasindexes bool, ispopulated bool, definition text"),
    ("pg_stat_user_tables", "relid oid, schemaname name, relname name, seq_scan int8, seq_tup_read int8, idx_scan int8, idx_tup_fetch int8, n_tup_ins int8, n_tup_upd int8, n_tup_del int8, n_tup_hot_upd int8, n_live_tup int8, n_dead_tup int8, n_mod_since_analyze int8, n_ins_since_vacuum int8, vacuum_count int8, autovacuum_count int8, analyze_count int8, autoanalyze_count int8"),
    ("pg_tablespace", "oid oid, spcname name, spcowner oid, spcacl text[], spcoptions text[]"),
    ("pg_inherits", "inhrelid oid, inhparent oid, inhseqno int4, inhdetachpending bool"),
    ("pg_policy", "oid oid, polname name, polrelid oid, polcmd char, polpermissive bool, polroles oid[], polqual text?, polwithcheck text?"),
    ("pg_statistic_ext", "oid oid, stxrelid oid, stxname name, stxnamespace oid, stxowner oid, stxstattarget int4, stxkeys int2[], stxkind text[], stxexprs text?"),
    ("pg_publication", "oid oid, pubname name, pubowner oid, puballtables bool, pubinsert bool, pubupdate bool, pubdelete bool, pubtruncate bool, pubviaroot bool"),
    ("pg_publication_namespace", "oid oid, pnpubid oid, pnnspid oid"),
    ("pg_publication_rel", "oid oid, prpubid oid, prrelid oid, prqual text?, prattrs int2[]"),
    ("pg_constraint", "oid oid, conname name, connamespace oid, contype char, condeferrable bool, condeferred bool, convalidated bool, conrelid oid, contypid oid, conindid oid, conparentid oid, confrelid oid, confupdtype char, confdeltype char, confmatchtype char, conislocal bool, coninhcount int4, connoinherit bool, conkey int2[], confkey int2[], conpfeqop oid[], conppeqop oid[], conffeqop oid[], confdelsetcols int2[], conexclop oid[], conbin text?"),
    ("pg_attrdef", "oid oid, adrelid oid, adnum int2, adbin text?"),
    ("pg_collation", "oid oid, collname name, collnamespace oid, collowner oid, collprovider char, collisdeterministic bool, collencoding int4, collcollate text?, collctype text?, colliculocale text?, collicurules text?, collversion text?"),
    ("pg_sequence", "seqrelid oid, seqtypid oid, seqstart int8, seqincrement int8, seqmax int8, seqmin int8, seqcache int8, seqcycle bool"),
    ("pg_opclass", "oid oid, opcmethod oid, opcname name, opcnamespace oid, opcowner oid, opcfamily oid, opcintype oid, opcdefault bool, opckeytype oid"),
    ("pg_enum", "oid oid, enumtypid oid, enumsortorder float4, enumlabel name"),
    ("pg_extension", "oid oid, extname name, extowner oid, extnamespace oid, extrelocatable bool, extversion text, extconfig oid[], extcondition text[]"),
    ("pg_trigger", "oid oid, tgrelid oid, tgparentid oid, tgname name, tgfoid oid, tgtype int2, tgenabled char, tgisinternal bool, tgconstrrelid oid, tgconstrindid oid, tgconstraint oid, tgdeferrable bool, tginitdeferred bool, tgnargs int2, tgattr int2[], tgqual text?"),
    ("pg_rewrite", "oid oid, rulename name, ev_class oid, ev_type char, ev_enabled char, is_instead bool, ev_qual text, ev_action text"),
    ("pg_depend", "classid oid, objid oid, objsubid int4, refclassid oid, refobjid oid, refobjsubid int4, deptype char"),
    ("pg_foreign_table", "ftrelid oid, ftserver oid, ftoptions text[]"),
    ("pg_partitioned_table", "partrelid oid, partstrat char, partnatts int2, partdefid oid, partattrs int2[], partclass oid[], partcollation oid[], partexprs text?"),
];

/// The `information_schema` views.
const INFORMATION_TABLES: &[(&str, &str)] = &[
    ("schemata", "catalog_name name, schema_name name, schema_owner name, default_character_set_catalog name?, default_character_set_schema name?, default_character_set_name name?, sql_path text?"),
    ("tables", "table_catalog name, table_schema name, table_name name, table_type text, self_referencing_column_name name?, reference_generation text?, user_defined_type_catalog name?, user_defined_type_schema name?, user_defined_type_name name?, is_insertable_into text, is_typed text, commit_action text?"),
    ("columns", "table_catalog name, table_schema name, table_name name, column_name name, ordinal_position int4, column_default text?, is_nullable text, data_type text, character_maximum_length int4?, character_octet_length int4?, numeric_precision int4?, numeric_precision_radix int4?, numeric_scale int4?, datetime_precision int4?, interval_type text?, interval_precision int4?, character_set_catalog name?, character_set_schema name?, character_set_name name?, collation_catalog name?, collation_schema name?, collation_name name?, domain_catalog name?, domain_schema name?, domain_name name?, udt_catalog name, udt_schema name, udt_name name, scope_catalog name?, scope_schema name?, scope_name name?, maximum_cardinality int4?, dtd_identifier text, is_self_referencing text, is_identity text, identity_generation text?, identity_start text?, identity_increment text?, identity_maximum text?, identity_minimum text?, identity_cycle text, is_generated text, generation_expression text?, is_updatable text"),
    ("views", "table_catalog name, table_schema name, table_name name, view_definition text, check_option text, is_updatable text, is_insertable_into text, is_trigger_updatable text, is_trigger_deletable text, is_trigger_insertable_into text"),
];

thread_local! {
    /// Set while the catalog is being computed: plain views bound then for their columns
    /// see no `pg_catalog`, so a view over the catalog cannot recurse.
    static BUILDING: Cell<bool> = const { Cell::new(false) };
}

/// The Granary type a catalog column of Postgres type `pg` is kept as.
fn column_type(pg: &str) -> DataType {
    let (pg, nullable) = match pg.strip_suffix('?') {
        Some(t) => (t, true),
        None => (pg, false),
    };
    let ty = match pg {
        "oid" => DataType::UInt32,
        "int2" => DataType::Int16,
        "int4" => DataType::Int32,
        "int8" => DataType::Int64,
        "float4" => DataType::Float32,
        "bool" => DataType::Bool,
        "oid[]" => DataType::Array(Box::new(DataType::UInt32)),
        "int2[]" => DataType::Array(Box::new(DataType::Int16)),
        "text[]" => DataType::Array(Box::new(DataType::String)),
        _ => DataType::String,
    };
    if nullable {
        ty.nullable()
    } else {
        ty
    }
}

/// The columns of a catalog table declaration.
fn columns(spec: &str) -> Vec<(String, DataType)> {
    spec.split(", ")
        .map(|c| {
            let (name, ty) = c.split_once(' ').expect("a column is `name type`");
            (name.to_string(), column_type(ty))
        })
        .collect()
}

/// The declaration of a catalog table by schema and name.
fn declaration(schema: &str, name: &str) -> Option<&'static str> {
    let list = if schema == PG_CATALOG { PG_TABLES } else { INFORMATION_TABLES };
    list.iter().find(|(n, _)| *n == name).map(|(_, c)| *c)
}

/// True for the schemas this module computes.
pub fn is_catalog_schema(schema: &str) -> bool {
    schema == PG_CATALOG || schema == INFORMATION_SCHEMA
}

/// True when `name` is a `pg_catalog` table (unqualified `pg_class` finds it too).
pub fn is_pg_table(name: &str) -> bool {
    declaration(PG_CATALOG, name).is_some()
}

/// An OID for a user object, stable across queries: a hash of its kind and name.
fn user_oid(kind: &str, name: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in kind.bytes().chain([0]).chain(name.bytes()) {
        h = (h ^ b as u32).wrapping_mul(0x0100_0193);
    }
    FIRST_USER_OID + h % (i32::MAX as u32 - FIRST_USER_OID)
}

/// The OID of a schema's namespace.
fn namespace_oid(schema: &str) -> u32 {
    match schema {
        PG_CATALOG => PG_CATALOG_OID,
        INFORMATION_SCHEMA => INFORMATION_SCHEMA_OID,
        other => user_oid("namespace", other),
    }
}

/// A relation as the catalog lists it.
struct Relation {
    oid: u32,
    schema: String,
    name: String,
    /// `relkind`: `r` table, `v` view, `m` materialized view.
    kind: &'static str,
    columns: Vec<(String, DataType)>,
    rows: u64,
    /// The SELECT of a view.
    definition: String,
}

/// What the catalog is computed from.
struct Source<'a> {
    db: &'a Database,
    current: &'a str,
    settings: Option<&'a Settings>,
}

impl Source<'_> {
    /// Every schema: the databases, `system`, and the catalog schemas.
    fn schemas(&self) -> Vec<String> {
        let mut all: BTreeSet<String> = [DEFAULT_DATABASE, crate::system::SYSTEM_DATABASE, PG_CATALOG, INFORMATION_SCHEMA].iter().map(|s| s.to_string()).collect();
        all.insert(self.current.to_string());
        all.extend(self.db.table_entries().into_iter().map(|e| e.def.database));
        all.extend(self.db.views().into_iter().map(|v| v.database));
        all.extend(self.db.query_views().into_iter().map(|v| v.database));
        all.into_iter().collect()
    }

    /// The user databases (what `pg_database` lists).
    fn databases(&self) -> Vec<String> {
        self.schemas().into_iter().filter(|s| !is_catalog_schema(s) && s != crate::system::SYSTEM_DATABASE).collect()
    }

    /// Every relation: tables (not the inner tables of materialized views), views, and the
    /// catalog's own tables.
    fn relations(&self) -> Vec<Relation> {
        let views = self.db.views();
        let mut out = Vec::new();
        for entry in self.db.table_entries() {
            let def = &entry.def;
            if views.iter().any(|v| v.inner && v.target == (def.database.clone(), def.name.clone())) {
                continue;
            }
            let columns = def.layout.columns.iter().map(|c| (c.name.clone(), c.ty.clone())).collect();
            let rows = entry.store.snapshot().rows() as u64;
            out.push(Relation { oid: user_oid("relation", &format!("{}.{}", def.database, def.name)), schema: def.database.clone(), name: def.name.clone(), kind: "r", columns, rows, definition: String::new() });
        }
        for view in views {
            let Some(target) = self.db.table_entry(&view.target.0, &view.target.1) else { continue };
            let columns = target.def.layout.columns.iter().map(|c| (c.name.clone(), c.ty.clone())).collect();
            let rows = target.store.snapshot().rows() as u64;
            out.push(Relation { oid: user_oid("relation", &format!("{}.{}", view.database, view.name)), schema: view.database, name: view.name, kind: "m", columns, rows, definition: view.query });
        }
        for view in self.db.query_views() {
            let columns = if BUILDING.get() { Vec::new() } else { self.view_columns(&view.database, &view.query) };
            out.push(Relation { oid: user_oid("relation", &format!("{}.{}", view.database, view.name)), schema: view.database, name: view.name, kind: "v", columns, rows: 0, definition: view.query });
        }
        for (schema, list, kind) in [(PG_CATALOG, PG_TABLES, "r"), (INFORMATION_SCHEMA, INFORMATION_TABLES, "v")] {
            for (i, (name, spec)) in list.iter().enumerate() {
                let oid = if schema == PG_CATALOG { 12_000 } else { 12_500 } + i as u32;
                out.push(Relation { oid, schema: schema.into(), name: name.to_string(), kind, columns: columns(spec), rows: 0, definition: String::new() });
            }
        }
        out.sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
        out
    }

    /// The result columns of a plain view's query (none if it no longer binds).
    fn view_columns(&self, database: &str, query: &str) -> Vec<(String, DataType)> {
        let Ok(Some(granary_query::parse::Statement::Query(q))) = granary_query::parse::parse_script(query).map(|mut s| s.pop()) else { return Vec::new() };
        BUILDING.set(true);
        let catalog = SessionCatalog { db: self.db, current: database, settings: None };
        let fields = Binder::new(&catalog, Params::Infer(Default::default()), crate::session::now()).bind_query(&q).map(|p| p.fields);
        BUILDING.set(false);
        fields.map(|f| f.into_iter().map(|f| (f.name, f.ty)).collect()).unwrap_or_default()
    }

    fn settings(&self) -> Vec<(String, String, bool)> {
        self.settings.cloned().unwrap_or_default().all()
    }
}

/// Builds the table `schema.name` (`pg_catalog` or `information_schema`) as of now.
pub fn catalog_table(db: &Database, current: &str, settings: Option<&Settings>, schema: &str, name: &str) -> Result<Arc<Table>> {
    let Some(spec) = declaration(schema, name) else { bail!(UndefinedTable, "table {schema}.{name} does not exist") };
    let cols = columns(spec);
    let names: Vec<(&str, DataType)> = cols.iter().map(|(n, t)| (n.as_str(), t.clone())).collect();
    let mut rows = Rows::new(&names);
    let source = Source { db, current, settings };
    let mut fill = |values: &[(&str, Value)]| rows.push(row(&cols, values));
    match (schema, name) {
        (PG_CATALOG, "pg_namespace") => {
            for s in source.schemas() {
                fill(&[("oid", oid(namespace_oid(&s))), ("nspname", text(s)), ("nspowner", oid(OWNER_OID))]);
            }
        }
        (PG_CATALOG, "pg_class") => {
            for r in source.relations() {
                fill(&[
                    ("oid", oid(r.oid)),
                    ("relname", text(&r.name)),
                    ("relnamespace", oid(namespace_oid(&r.schema))),
                    ("relowner", oid(OWNER_OID)),
                    ("relam", oid(if r.kind == "v" { 0 } else { MERGETREE_AM_OID })),
                    ("relfilenode", oid(r.oid)),
                    ("reltuples", Value::Float(r.rows as f64)),
                    ("relpersistence", text("p")),
                    ("relkind", text(r.kind)),
                    ("relnatts", Value::Int(r.columns.len() as i64)),
                    ("relispopulated", Value::Bool(true)),
                    ("relreplident", text("d")),
                ]);
            }
        }
        (PG_CATALOG, "pg_attribute") => {
            for r in source.relations() {
                for (i, (column, ty)) in r.columns.iter().enumerate() {
                    let t = pg_type(type_oid(ty));
                    let len = t.map_or(-1, |t| t.len);
                    fill(&[
                        ("attrelid", oid(r.oid)),
                        ("attname", text(column)),
                        ("atttypid", oid(type_oid(ty))),
                        ("attstattarget", Value::Int(-1)),
                        ("attlen", Value::Int(len as i64)),
                        ("attnum", Value::Int(i as i64 + 1)),
                        ("attndims", Value::Int(matches!(ty.non_null(), DataType::Array(_)) as i64)),
                        ("attcacheoff", Value::Int(-1)),
                        ("atttypmod", Value::Int(-1)),
                        ("attbyval", Value::Bool(len > 0 && len <= 8)),
                        ("attalign", text(if len == 8 { "d" } else { "i" })),
                        ("attstorage", text(if len < 0 { "x" } else { "p" })),
                        ("attnotnull", Value::Bool(!ty.is_nullable())),
                        ("attislocal", Value::Bool(true)),
                    ]);
                }
            }
        }
        (PG_CATALOG, "pg_type") => {
            for t in PG_TYPES {
                fill(&[
                    ("oid", oid(t.oid)),
                    ("typname", text(t.name)),
                    ("typnamespace", oid(PG_CATALOG_OID)),
                    ("typowner", oid(OWNER_OID)),
                    ("typlen", Value::Int(t.len as i64)),
                    ("typbyval", Value::Bool(t.len > 0 && t.len <= 8)),
                    ("typtype", text("b")),
                    ("typcategory", text(t.category)),
                    ("typisdefined", Value::Bool(true)),
                    ("typdelim", text(",")),
                    ("typelem", oid(t.element)),
                    ("typarray", oid(t.array)),
                    ("typinput", text(format!("{}in", t.name.trim_start_matches('_')))),
                    ("typoutput", text(format!("{}out", t.name.trim_start_matches('_')))),
                    ("typalign", text(if t.len == 8 { "d" } else { "i" })),
                    ("typstorage", text(if t.len < 0 { "x" } else { "p" })),
                    ("typtypmod", Value::Int(-1)),
                ]);
            }
        }
        (PG_CATALOG, "pg_database") => {
            for d in source.databases() {
                fill(&[
                    ("oid", oid(user_oid("database", &d))),
                    ("datname", text(d)),
                    ("datdba", oid(OWNER_OID)),
                    ("encoding", Value::Int(6)),
                    ("datlocprovider", text("c")),
                    ("datallowconn", Value::Bool(true)),
                    ("datconnlimit", Value::Int(-1)),
                    ("datcollate", text("C")),
                    ("datctype", text("C")),
                ]);
            }
        }
        (PG_CATALOG, "pg_settings") => {
            for (setting, value, changed) in source.settings() {
                fill(&[
                    ("name", text(setting)),
                    ("setting", text(&value)),
                    ("category", text("Granary")),
                    ("context", text("user")),
                    ("vartype", text("string")),
                    ("source", text(if changed { "session" } else { "default" })),
                    ("boot_val", text(&value)),
                    ("reset_val", text(&value)),
                ]);
            }
        }
        (PG_CATALOG, "pg_am") => fill(&[("oid", oid(MERGETREE_AM_OID)), ("amname", text("mergetree")), ("amhandler", text("mergetree_handler")), ("amtype", text("t"))]),
        (PG_CATALOG, "pg_tablespace") => fill(&[("oid", oid(1663)), ("spcname", text("pg_default")), ("spcowner", oid(OWNER_OID))]),
        (PG_CATALOG, "pg_proc") => {
            for (i, f) in ["version", "current_schema", "current_schemas", "current_database", "current_setting", "format_type", "pg_table_is_visible", "pg_get_userbyid", "pg_get_expr", "obj_description", "col_description", "has_table_privilege", "has_schema_privilege", "has_any_column_privilege", "pg_encoding_to_char", "quote_ident", "array_to_string", "string_to_array", "array_length", "generate_series", "pg_get_keywords", "pg_total_relation_size"].iter().enumerate() {
                fill(&[("oid", oid(13_500 + i as u32)), ("proname", text(*f)), ("pronamespace", oid(PG_CATALOG_OID)), ("proowner", oid(OWNER_OID)), ("prokind", text("f")), ("provolatile", text("s")), ("proparallel", text("s")), ("prosrc", text(*f))]);
            }
        }
        (PG_CATALOG, "pg_roles") => {
            fill(&[("rolname", text(OWNER)), ("rolsuper", Value::Bool(true)), ("rolinherit", Value::Bool(true)), ("rolcreaterole", Value::Bool(true)), ("rolcreatedb", Value::Bool(true)), ("rolcanlogin", Value::Bool(true)), ("rolconnlimit", Value::Int(-1)), ("rolpassword", text("********")), ("oid", oid(OWNER_OID))]);
        }
        (PG_CATALOG, "pg_user") => {
            fill(&[("usename", text(OWNER)), ("usesysid", oid(OWNER_OID)), ("usecreatedb", Value::Bool(true)), ("usesuper", Value::Bool(true)), ("passwd", text("********"))]);
        }
        (PG_CATALOG, "pg_tables") => {
            for r in source.relations().into_iter().filter(|r| r.kind == "r") {
                fill(&[("schemaname", text(r.schema)), ("tablename", text(r.name)), ("tableowner", text(OWNER))]);
            }
        }
        (PG_CATALOG, "pg_views") => {
            for r in source.relations().into_iter().filter(|r| r.kind == "v") {
                fill(&[("schemaname", text(r.schema)), ("viewname", text(r.name)), ("viewowner", text(OWNER)), ("definition", text(r.definition))]);
            }
        }
        (PG_CATALOG, "pg_matviews") => {
            for r in source.relations().into_iter().filter(|r| r.kind == "m") {
                fill(&[("schemaname", text(r.schema)), ("matviewname", text(r.name)), ("matviewowner", text(OWNER)), ("ispopulated", Value::Bool(true)), ("definition", text(r.definition))]);
            }
        }
        (PG_CATALOG, "pg_stat_user_tables") => {
            for r in source.relations().into_iter().filter(|r| r.kind != "v" && !is_catalog_schema(&r.schema)) {
                fill(&[("relid", oid(r.oid)), ("schemaname", text(r.schema)), ("relname", text(r.name)), ("n_tup_ins", Value::Int(r.rows as i64)), ("n_live_tup", Value::Int(r.rows as i64))]);
            }
        }
        (INFORMATION_SCHEMA, "schemata") => {
            for s in source.schemas() {
                fill(&[("catalog_name", text(source.current)), ("schema_name", text(s)), ("schema_owner", text(OWNER))]);
            }
        }
        (INFORMATION_SCHEMA, "tables") => {
            for r in source.relations() {
                let kind = match (r.kind, is_catalog_schema(&r.schema)) {
                    ("r", false) => "BASE TABLE",
                    (_, false) => "VIEW",
                    _ => "SYSTEM VIEW",
                };
                fill(&[("table_catalog", text(source.current)), ("table_schema", text(r.schema)), ("table_name", text(r.name)), ("table_type", text(kind)), ("is_insertable_into", text(if r.kind == "r" { "YES" } else { "NO" })), ("is_typed", text("NO"))]);
            }
        }
        (INFORMATION_SCHEMA, "columns") => {
            for r in source.relations() {
                for (i, (column, ty)) in r.columns.iter().enumerate() {
                    let t = pg_type(type_oid(ty));
                    let data_type = match t {
                        Some(t) if t.category == "A" => "ARRAY".to_string(),
                        Some(t) => t.sql_name.to_string(),
                        None => "text".to_string(),
                    };
                    fill(&[
                        ("table_catalog", text(source.current)),
                        ("table_schema", text(&r.schema)),
                        ("table_name", text(&r.name)),
                        ("column_name", text(column)),
                        ("ordinal_position", Value::Int(i as i64 + 1)),
                        ("is_nullable", text(if ty.is_nullable() { "YES" } else { "NO" })),
                        ("data_type", text(data_type)),
                        ("udt_catalog", text(source.current)),
                        ("udt_schema", text(PG_CATALOG)),
                        ("udt_name", text(t.map_or("text", |t| t.name))),
                        ("dtd_identifier", text((i + 1).to_string())),
                        ("is_self_referencing", text("NO")),
                        ("is_identity", text("NO")),
                        ("identity_cycle", text("NO")),
                        ("is_generated", text("NEVER")),
                        ("is_updatable", text(if r.kind == "r" { "YES" } else { "NO" })),
                    ]);
                }
            }
        }
        (INFORMATION_SCHEMA, "views") => {
            for r in source.relations().into_iter().filter(|r| r.kind == "v" && !is_catalog_schema(&r.schema)) {
                fill(&[("table_catalog", text(source.current)), ("table_schema", text(r.schema)), ("table_name", text(r.name)), ("view_definition", text(r.definition)), ("check_option", text("NONE"))]
                    .into_iter()
                    .chain(["is_updatable", "is_insertable_into", "is_trigger_updatable", "is_trigger_deletable", "is_trigger_insertable_into"].map(|c| (c, text("NO"))))
                    .collect::<Vec<_>>());
            }
        }
        _ => {} // the catalogs of objects Granary does not have: no rows
    }
    Ok(Arc::new(Table { database: schema.into(), name: name.into(), data: rows.into_data()?, finalize_states: false }))
}

/// An OID value.
fn oid(n: u32) -> Value {
    Value::UInt(n as u64)
}

/// A row of `columns` with the given values; the others hold their type's default (NULL
/// where Nullable, 0, false, '' or an empty array).
fn row(columns: &[(String, DataType)], values: &[(&str, Value)]) -> Vec<Value> {
    columns
        .iter()
        .map(|(name, ty)| match values.iter().find(|(n, _)| n == name) {
            Some((_, v)) => v.clone(),
            None if ty.is_nullable() => Value::Null,
            None => match ty {
                DataType::String => text(""),
                DataType::Bool => Value::Bool(false),
                DataType::Float32 => Value::Float(0.0),
                DataType::Array(_) => Value::Array(Vec::new()),
                DataType::UInt32 => Value::UInt(0),
                _ => Value::Int(0),
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declarations_parse_and_oids_are_stable() {
        for (name, spec) in PG_TABLES.iter().chain(INFORMATION_TABLES) {
            assert!(!columns(spec).is_empty(), "{name}");
        }
        assert_eq!(columns("a oid, b text?")[1].1, DataType::String.nullable());
        assert_eq!(user_oid("relation", "default.hits"), user_oid("relation", "default.hits"));
        assert!(user_oid("relation", "default.hits") >= FIRST_USER_OID);
        assert_ne!(namespace_oid("default"), namespace_oid("system"));
    }
}
