//! The Postgres system functions tools call while browsing the catalog: `version()`,
//! `current_schema()`, `format_type`, `pg_table_is_visible`, the privilege checks, the
//! description and definition getters, `quote_ident`, `array_to_string`, and the type table
//! behind them (`PG_TYPES`: OIDs, names and the Granary types that travel as each).
//!
//! A Granary database is a Postgres schema (`current_schema()` is the current database);
//! everything is owned by the role `default` (OID 10) and there are no comments, defaults,
//! constraints or indexes, so their getters give NULL. Functions that need the catalog
//! (`pg_table_is_visible`, `pg_total_relation_size`, the `::regclass` family) read the
//! `pg_catalog` tables when the statement binds and become a `PgFn::Lookup`: a map from
//! the argument's value to the answer.

use std::collections::HashMap;
use std::sync::Arc;

use granary_storage::{Column, ColumnRef, DataType, Value};

use super::{arity, call, const_int, Context};
use crate::error::{bail, Result};
use crate::expr::Expr;
use crate::parse::TableName;

/// The Postgres version Granary answers as (`version()`, `server_version`).
pub const PG_VERSION: &str = "16.0";

/// The OID of the role that owns every object.
pub const OWNER_OID: u32 = 10;

/// The name of that role.
pub const OWNER: &str = "default";

/// A Postgres type as `pg_type` lists it.
#[derive(Debug, Clone, Copy)]
pub struct PgType {
    /// `pg_type.oid`.
    pub oid: u32,
    /// `typname`.
    pub name: &'static str,
    /// What `format_type` prints.
    pub sql_name: &'static str,
    /// `typlen` (-1 for variable length).
    pub len: i16,
    /// `typcategory`.
    pub category: &'static str,
    /// `typelem`: the element of an array type, else 0.
    pub element: u32,
    /// `typarray`: the array type of this type, else 0.
    pub array: u32,
}

macro_rules! pg_types {
    ($(($oid:expr, $name:expr, $sql:expr, $len:expr, $cat:expr, $elem:expr, $arr:expr)),* $(,)?) => {
        /// The types of `pg_type`: every type Granary sends, the catalog's own, and their arrays.
        pub const PG_TYPES: &[PgType] = &[$(PgType { oid: $oid, name: $name, sql_name: $sql, len: $len, category: $cat, element: $elem, array: $arr }),*];
    };
}

pg_types![
    (16, "bool", "boolean", 1, "B", 0, 1000),
    (17, "bytea", "bytea", -1, "U", 0, 1001),
    (18, "char", "\"char\"", 1, "Z", 0, 1002),
    (19, "name", "name", 64, "S", 0, 1003),
    (20, "int8", "bigint", 8, "N", 0, 1016),
    (21, "int2", "smallint", 2, "N", 0, 1005),
    (22, "int2vector", "int2vector", -1, "A", 21, 1006),
    (23, "int4", "integer", 4, "N", 0, 1007),
    (24, "regproc", "regproc", 4, "N", 0, 1008),
    (25, "text", "text", -1, "S", 0, 1009),
    (26, "oid", "oid", 4, "N", 0, 1028),
    (30, "oidvector", "oidvector", -1, "A", 26, 1013),
    (114, "json", "json", -1, "U", 0, 199),
    (700, "float4", "real", 4, "N", 0, 1021),
    (701, "float8", "double precision", 8, "N", 0, 1022),
    (1000, "_bool", "boolean[]", -1, "A", 16, 0),
    (1001, "_bytea", "bytea[]", -1, "A", 17, 0),
    (1002, "_char", "\"char\"[]", -1, "A", 18, 0),
    (1003, "_name", "name[]", -1, "A", 19, 0),
    (1005, "_int2", "smallint[]", -1, "A", 21, 0),
    (1007, "_int4", "integer[]", -1, "A", 23, 0),
    (1009, "_text", "text[]", -1, "A", 25, 0),
    (1015, "_varchar", "character varying[]", -1, "A", 1043, 0),
    (1016, "_int8", "bigint[]", -1, "A", 20, 0),
    (1021, "_float4", "real[]", -1, "A", 700, 0),
    (1022, "_float8", "double precision[]", -1, "A", 701, 0),
    (1028, "_oid", "oid[]", -1, "A", 26, 0),
    (1043, "varchar", "character varying", -1, "S", 0, 1015),
    (1082, "date", "date", 4, "D", 0, 1182),
    (1114, "timestamp", "timestamp without time zone", 8, "D", 0, 1115),
    (1115, "_timestamp", "timestamp without time zone[]", -1, "A", 1114, 0),
    (1182, "_date", "date[]", -1, "A", 1082, 0),
    (1184, "timestamptz", "timestamp with time zone", 8, "D", 0, 1185),
    (1185, "_timestamptz", "timestamp with time zone[]", -1, "A", 1184, 0),
    (1231, "_numeric", "numeric[]", -1, "A", 1700, 0),
    (1700, "numeric", "numeric", -1, "N", 0, 1231),
    (2205, "regclass", "regclass", 4, "N", 0, 2210),
    (2206, "regtype", "regtype", 4, "N", 0, 2211),
    (2950, "uuid", "uuid", 16, "U", 0, 2951),
    (2951, "_uuid", "uuid[]", -1, "A", 2950, 0),
    (3802, "jsonb", "jsonb", -1, "U", 0, 3807),
    (4089, "regnamespace", "regnamespace", 4, "N", 0, 4090),
];

/// The OID of the Postgres type a Granary type is sent as.
pub fn type_oid(dt: &DataType) -> u32 {
    match dt {
        DataType::UInt8 | DataType::Int8 | DataType::Int16 => 21,
        DataType::UInt16 | DataType::Int32 => 23,
        DataType::UInt32 | DataType::UInt64 | DataType::Int64 => 20,
        DataType::Float32 => 700,
        DataType::Float64 => 701,
        DataType::String | DataType::FixedString(_) | DataType::IPv4 | DataType::Enum(_) => 25,
        DataType::Date => 1082,
        DataType::DateTime | DataType::DateTime64(_) => 1114,
        DataType::Bool => 16,
        DataType::Decimal { .. } => 1700,
        DataType::Uuid => 2950,
        DataType::AggregateFunction { .. } => 17,
        DataType::Nullable(t) | DataType::LowCardinality(t) | DataType::SimpleAggregateFunction { arg: t, .. } => type_oid(t),
        DataType::Array(t) => match pg_type(type_oid(t)).map(|t| t.array) {
            Some(array) if array != 0 => array,
            _ => 1009,
        },
    }
}

/// The type with this OID.
pub fn pg_type(oid: u32) -> Option<&'static PgType> {
    PG_TYPES.iter().find(|t| t.oid == oid)
}

/// The Granary type a Postgres type name in a cast (`::int4`, `::pg_catalog.text`,
/// `::int2[]`, `::regclass`) stands for, or `None` when it is not a Postgres-only spelling.
pub fn cast_type(name: &str) -> Option<DataType> {
    let lower = name.to_ascii_lowercase().replace('"', "");
    let bare = lower.strip_prefix("pg_catalog.").unwrap_or(&lower);
    if let Some(element) = bare.strip_suffix("[]") {
        let element = cast_type(element).or_else(|| DataType::from_name(element).ok())?;
        return Some(DataType::Array(Box::new(element)));
    }
    Some(match bare {
        "int2" => DataType::Int16,
        "int4" => DataType::Int32,
        "oid" | "regclass" | "regtype" | "regproc" | "regprocedure" | "regnamespace" | "regrole" => DataType::UInt32,
        "name" | "char" | "character varying" | "bpchar" => DataType::String,
        "float4" | "real" => DataType::Float32,
        "float8" | "double precision" => DataType::Float64,
        "timestamp without time zone" => DataType::DateTime64(6),
        _ if bare != lower => DataType::from_name(bare).ok()?,
        _ => return None,
    })
}

/// `format_type(oid, typmod)`: the SQL name of a type.
fn format_type(oid: u32) -> String {
    pg_type(oid).map_or_else(|| "???".to_string(), |t| t.sql_name.to_string())
}

/// `quote_ident(s)`: `s`, double-quoted when it is not a plain lower-case identifier.
pub fn quote_ident(s: &str) -> String {
    let plain = s.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        s.to_string()
    } else {
        format!("\"{}\"", s.replace('"', "\"\""))
    }
}

/// The text a value is looked up by: numbers by their digits (so an Int and a UInt of the
/// same value meet), strings as they are.
fn key_text(v: &Value) -> Option<String> {
    Some(match v {
        Value::Null => return None,
        Value::UInt(u) => u.to_string(),
        Value::Int(i) => i.to_string(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        other => format!("{other:?}"),
    })
}

/// The key of a tuple of values (a correlated subquery's outer values).
pub fn tuple_key(values: &[Value]) -> Option<String> {
    let parts = values.iter().map(key_text).collect::<Option<Vec<_>>>()?;
    Some(parts.join("\u{1}"))
}

/// A Postgres catalog function evaluated by this module.
#[derive(Debug, Clone, PartialEq)]
pub enum PgFn {
    /// `format_type(oid, typmod)`.
    FormatType,
    /// `quote_ident(s)`.
    QuoteIdent,
    /// `array_to_string(arr, sep)`.
    ArrayToString,
    /// `x = ANY (arr)`, with the arguments `(arr, x)`.
    ArrayContains,
    /// `json_build_object(key, value, …)`.
    JsonBuildObject,
    /// The answer for each value (or tuple of values) of the arguments, found when the
    /// statement bound; `default` where there is none.
    Lookup {
        /// Key text of the arguments → answer.
        map: Arc<HashMap<String, Value>>,
        /// The answer for keys not in the map and for NULLs.
        default: Value,
        /// The answers' type.
        ty: DataType,
    },
}

impl PgFn {
    /// The Postgres name of the function, for error messages.
    pub fn name(&self) -> &'static str {
        match self {
            PgFn::FormatType => "format_type",
            PgFn::QuoteIdent => "quote_ident",
            PgFn::ArrayToString => "array_to_string",
            PgFn::ArrayContains => "= ANY",
            PgFn::JsonBuildObject => "json_build_object",
            PgFn::Lookup { .. } => "catalog lookup",
        }
    }

    /// True for functions that look at NULL arguments themselves.
    pub fn sees_nulls(&self) -> bool {
        matches!(self, PgFn::Lookup { .. } | PgFn::JsonBuildObject)
    }

    /// The result type.
    pub fn result_type(&self, args: &[DataType]) -> Result<DataType> {
        match self {
            PgFn::FormatType | PgFn::QuoteIdent | PgFn::JsonBuildObject => Ok(DataType::String),
            PgFn::ArrayToString => match args.first().map(DataType::non_null) {
                Some(DataType::Array(_)) => Ok(DataType::String),
                _ => bail!(DatatypeMismatch, "array_to_string needs an array"),
            },
            PgFn::ArrayContains => Ok(DataType::Bool),
            PgFn::Lookup { ty, .. } => Ok(ty.clone()),
        }
    }

    /// Computes the function row by row (catalog tables are small).
    pub fn eval(&self, args: &[ColumnRef], ty: &DataType) -> Result<Column> {
        let rows = args.first().map_or(1, |c| c.len());
        let mut out = Vec::with_capacity(rows);
        for row in 0..rows {
            out.push(match self {
                PgFn::FormatType => Value::String(format_type(args[0].value(row).as_i64().unwrap_or(0) as u32)),
                PgFn::QuoteIdent => Value::String(quote_ident(&String::from_utf8_lossy(args[0].value(row).as_bytes()))),
                PgFn::ArrayToString => {
                    let element = args[0].ty.non_null().element().cloned().unwrap_or(DataType::String);
                    let separator = String::from_utf8_lossy(args[1].value(row).as_bytes()).into_owned();
                    let Value::Array(items) = args[0].value(row) else { bail!(DatatypeMismatch, "array_to_string needs an array") };
                    let mut text = Vec::new();
                    for item in items.iter().filter(|v| !matches!(v, Value::Null)) {
                        let mut s = String::new();
                        element.format_value(item, &mut s);
                        text.push(s);
                    }
                    Value::String(text.join(&separator))
                }
                PgFn::ArrayContains => match args[0].value(row) {
                    Value::Array(items) => Value::Bool(items.contains(&args[1].value(row))),
                    _ => Value::Bool(false),
                },
                PgFn::JsonBuildObject => {
                    let mut json = serde_json::Map::new();
                    for pair in args.chunks(2) {
                        let key = String::from_utf8_lossy(pair[0].value(row).as_bytes()).into_owned();
                        let value = match pair[1].value(row) {
                            Value::Null => serde_json::Value::Null,
                            Value::Bool(b) => b.into(),
                            Value::UInt(u) => u.into(),
                            Value::Int(i) => i.into(),
                            Value::Float(f) => f.into(),
                            other => {
                                let mut text = String::new();
                                pair[1].ty.non_null().format_value(&other, &mut text);
                                text.into()
                            }
                        };
                        json.insert(key, value);
                    }
                    Value::String(serde_json::Value::Object(json).to_string())
                }
                PgFn::Lookup { map, default, .. } => {
                    let values: Vec<Value> = args.iter().map(|c| c.value(row)).collect();
                    tuple_key(&values).and_then(|k| map.get(&k).cloned()).unwrap_or_else(|| default.clone())
                }
            });
        }
        Ok(Column::from_values(ty.clone(), &out)?)
    }
}

/// A `PgFn::Lookup` of `args` through `map`.
pub fn lookup(args: Vec<Expr>, map: HashMap<String, Value>, default: Value, ty: DataType) -> Result<Expr> {
    call(PgFn::Lookup { map: Arc::new(map), default, ty }, args)
}

/// The rows of a `pg_catalog` table, read when the statement binds.
fn catalog_rows(ctx: &Context, name: &str) -> Result<Vec<Vec<Value>>> {
    table_rows(ctx, "pg_catalog", name)
}

/// The rows of a computed table.
fn table_rows(ctx: &Context, database: &str, name: &str) -> Result<Vec<Vec<Value>>> {
    let table = ctx.catalog.table(&TableName { database: Some(database.into()), name: name.into() })?;
    let crate::catalog::TableData::Rows { block, .. } = &table.data else { bail!(Internal, "{database}.{name} is not computed") };
    Ok((0..block.rows()).map(|r| block.columns.iter().map(|c| c.value(r)).collect()).collect())
}

/// The OID of every relation of the current schema and `pg_catalog` (`pg_class.oid` is
/// column 0 and `relnamespace` column 2, `pg_namespace.oid` 0 and `nspname` 1).
fn visible_relations(ctx: &Context) -> Result<HashMap<String, Value>> {
    let visible: Vec<Value> = catalog_rows(ctx, "pg_namespace")?
        .into_iter()
        .filter(|n| matches!(&n[1], Value::String(s) if *s == ctx.catalog.current_database() || s == "pg_catalog"))
        .map(|n| n[0].clone())
        .collect();
    Ok(catalog_rows(ctx, "pg_class")?
        .into_iter()
        .filter(|c| visible.contains(&c[2]))
        .filter_map(|c| Some((key_text(&c[0])?, Value::Bool(true))))
        .collect())
}

/// The bytes on disk of every table by OID: `pg_class` (oid, relname, relnamespace) meets
/// `system.tables` (database, name, …, total_bytes) through `pg_namespace` (oid, nspname).
fn relation_sizes(ctx: &Context) -> Result<HashMap<String, Value>> {
    let namespaces: HashMap<String, Value> = catalog_rows(ctx, "pg_namespace")?.into_iter().filter_map(|n| Some((key_text(&n[0])?, n[1].clone()))).collect();
    let bytes: HashMap<Option<String>, Value> = table_rows(ctx, "system", "tables")?.into_iter().map(|t| (tuple_key(&t[..2]), t[4].clone())).collect();
    Ok(catalog_rows(ctx, "pg_class")?
        .into_iter()
        .filter_map(|c| {
            let namespace = namespaces.get(&key_text(&c[2])?)?.clone();
            Some((key_text(&c[0])?, bytes.get(&tuple_key(&[namespace, c[1].clone()]))?.clone()))
        })
        .collect())
}

/// `x::regclass` and its kin: a number is an OID and becomes the object's name; a name
/// becomes the OID (0 when there is no such object), so it compares with OID columns.
/// `table` is the catalog table, with the OID in column 0 and the name in column `name_col`.
pub fn reg_cast(ctx: &Context, arg: Expr, table: &str, name_col: usize) -> Result<Expr> {
    let by_name = arg.ty().non_null().is_string();
    let mut map = HashMap::new();
    if table == "pg_type" {
        for t in PG_TYPES {
            let (name, oid) = (Value::String(if by_name { t.name } else { t.sql_name }.to_string()), Value::UInt(t.oid as u64));
            let (k, v) = if by_name { (name, oid) } else { (oid, name) };
            map.insert(key_text(&k).expect("not NULL"), v);
        }
    } else {
        for row in catalog_rows(ctx, table)? {
            let (k, v) = if by_name { (&row[name_col], &row[0]) } else { (&row[0], &row[name_col]) };
            if let Some(k) = key_text(k) {
                map.insert(k, v.clone());
            }
        }
    }
    if by_name {
        if let Expr::Literal { value: Value::String(s), .. } = &arg {
            // A quoted OID ('16394'::regclass) is an OID.
            if let Ok(oid) = s.parse::<u32>() {
                return Ok(Expr::Literal { value: Value::UInt(oid as u64), ty: DataType::UInt32 });
            }
            let bare = s.trim_start_matches("pg_catalog.").trim_matches('"');
            return Ok(Expr::Literal { value: map.get(bare).cloned().unwrap_or(Value::UInt(0)), ty: DataType::UInt32 });
        }
        lookup(vec![arg], map, Value::UInt(0), DataType::UInt32)
    } else {
        lookup(vec![arg.clone()], map, Value::Null, DataType::String.nullable())
    }
}

/// Binds a Postgres catalog function by name, or returns `None` if `name` is not one.
pub fn bind(name: &str, args: &[Expr], ctx: &Context) -> Result<Option<Expr>> {
    let text = |s: String| Expr::Literal { value: Value::String(s), ty: DataType::String };
    let null_text = || Expr::Literal { value: Value::Null, ty: DataType::String.nullable() };
    let boolean = |b: bool| Expr::Literal { value: Value::Bool(b), ty: DataType::Bool };
    let name = name.strip_prefix("pg_catalog.").unwrap_or(name);
    Ok(Some(match name {
        "version" => {
            arity(name, args, 0..=0)?;
            text(format!("PostgreSQL {PG_VERSION} (Granary {}) on x86_64-pc-linux-gnu, compiled by rustc, 64-bit", env!("CARGO_PKG_VERSION")))
        }
        "current_schema" | "current_database" | "current_catalog" => {
            arity(name, args, 0..=0)?;
            text(ctx.catalog.current_database().to_string())
        }
        "current_user" | "session_user" | "user" | "current_role" => {
            arity(name, args, 0..=0)?;
            text(ctx.catalog.current_user().to_string())
        }
        "current_schemas" => {
            arity(name, args, 1..=1)?;
            let mut schemas = vec![Value::String(ctx.catalog.current_database().to_string())];
            if super::constant(name, &args[0])? == Value::Bool(true) {
                schemas.insert(0, Value::String("pg_catalog".into()));
            }
            Expr::Literal { value: Value::Array(schemas), ty: DataType::Array(Box::new(DataType::String)) }
        }
        "current_setting" => {
            arity(name, args, 1..=2)?;
            let setting = super::const_str(name, &args[0])?;
            match ctx.catalog.setting(&setting) {
                Some(v) => text(v),
                None if args.len() == 2 => null_text(),
                None => bail!(InvalidParameter, "unrecognized configuration parameter \"{setting}\""),
            }
        }
        "pg_get_userbyid" => {
            arity(name, args, 1..=1)?;
            text(OWNER.to_string())
        }
        "pg_encoding_to_char" => {
            arity(name, args, 1..=1)?;
            text("UTF8".into())
        }
        "json_build_object" | "jsonb_build_object" => {
            if !args.len().is_multiple_of(2) {
                bail!(InvalidParameter, "{name} takes keys and values in pairs");
            }
            call(PgFn::JsonBuildObject, args.to_vec())?
        }
        "format_type" => {
            arity(name, args, 2..=2)?;
            call(PgFn::FormatType, vec![args[0].clone()])?
        }
        "quote_ident" => {
            arity(name, args, 1..=1)?;
            call(PgFn::QuoteIdent, args.to_vec())?
        }
        "array_to_string" => {
            arity(name, args, 2..=3)?;
            call(PgFn::ArrayToString, args[..2].to_vec())?
        }
        "string_to_array" => {
            arity(name, args, 2..=2)?;
            return super::strings::bind("splitbystring", &[args[1].clone(), args[0].clone()], ctx);
        }
        "array_length" | "array_upper" | "cardinality" => {
            arity(name, args, 1..=2)?;
            if args.len() == 2 && const_int(name, &args[1])? != 1 {
                bail!(NotSupported, "{name} of dimension other than 1: arrays have one dimension");
            }
            Expr::call(crate::expr::Func::Length, vec![args[0].clone()])?
        }
        "obj_description" | "col_description" | "shobj_description" | "pg_get_expr" | "pg_get_constraintdef" | "pg_get_indexdef"
        | "pg_get_statisticsobjdef_columns" | "pg_get_serial_sequence" | "pg_get_triggerdef" | "pg_get_ruledef" => {
            arity(name, args, 1..=3)?;
            null_text()
        }
        "has_table_privilege" | "has_schema_privilege" | "has_any_column_privilege" | "has_database_privilege" | "has_column_privilege"
        | "pg_type_is_visible" | "pg_function_is_visible" | "pg_collation_is_visible" => {
            arity(name, args, 1..=4)?;
            boolean(true)
        }
        "pg_relation_is_publishable" => {
            arity(name, args, 1..=1)?;
            boolean(false)
        }
        "pg_table_is_visible" => {
            arity(name, args, 1..=1)?;
            lookup(args.to_vec(), visible_relations(ctx)?, Value::Bool(false), DataType::Bool)?
        }
        "pg_total_relation_size" | "pg_relation_size" | "pg_table_size" => {
            arity(name, args, 1..=1)?;
            lookup(args.to_vec(), relation_sizes(ctx)?, Value::Null, DataType::UInt64.nullable())?
        }
        "to_regtype" | "to_regclass" | "to_regnamespace" => {
            arity(name, args, 1..=1)?;
            let (table, col) = match name {
                "to_regtype" => ("pg_type", 1),
                "to_regclass" => ("pg_class", 1),
                _ => ("pg_namespace", 1),
            };
            let oid = reg_cast(ctx, args[0].clone(), table, col)?;
            // Unknown names are NULL rather than 0.
            let zero = Expr::Literal { value: Value::UInt(0), ty: DataType::UInt32 };
            super::conditional::bind("nullif", &[oid, zero], ctx)?.expect("nullif is a conditional")
        }
        _ => return Ok(None),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sent_types_are_listed_with_their_arrays() {
        for dt in [DataType::Int64, DataType::String, DataType::Float32, DataType::Date, DataType::DateTime64(3), DataType::Bool, DataType::Uuid] {
            let t = pg_type(type_oid(&dt)).expect("listed");
            assert_eq!(pg_type(t.array).expect("array listed").element, t.oid);
        }
        assert_eq!(format_type(type_oid(&DataType::DateTime)), "timestamp without time zone");
        assert_eq!(format_type(type_oid(&DataType::Array(Box::new(DataType::String)))), "text[]");
    }

    #[test]
    fn identifiers_are_quoted_when_needed() {
        assert_eq!(quote_ident("hits"), "hits");
        assert_eq!(quote_ident("context.os"), "\"context.os\"");
        assert_eq!(quote_ident("Ab\"c"), "\"Ab\"\"c\"");
    }

    #[test]
    fn postgres_casts() {
        assert_eq!(cast_type("pg_catalog.int2[]"), Some(DataType::Array(Box::new(DataType::Int16))));
        assert_eq!(cast_type("REGCLASS"), Some(DataType::UInt32));
        assert_eq!(cast_type("pg_catalog.text"), Some(DataType::String));
        assert_eq!(cast_type("UInt8"), None);
    }
}
