//! Tools against Granary: the catalog queries real clients send (`tests/clients/corpus/`,
//! harvested from PostgreSQL by `tests/clients/harvest.sh`) run through the embedded engine,
//! and the clients themselves — tokio-postgres, psql, psycopg 3, asyncpg, SQLAlchemy with
//! pandas, pgJDBC — run against a server. `tests/clients/install.sh` installs the clients;
//! a client that is missing is skipped with a message, unless `GRANARY_CLIENTS_REQUIRED=1`
//! (as `tests/clients/run.sh` sets it), which makes it a failure.

mod common;
#[path = "common/server.rs"]
mod harness;

use std::path::{Path, PathBuf};
use std::process::Command;

use granary_engine::{Database, Session, Value};

/// One statement of the corpus and the parameters it was sent with.
struct Entry {
    file: String,
    sql: String,
    params: Vec<Value>,
}

fn clients_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients")
}

/// Every statement of every corpus file.
fn corpus() -> Vec<Entry> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(clients_dir().join("corpus")).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let mut out = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        for chunk in text.split("-- query\n").skip(1) {
            let (params, sql) = match chunk.strip_prefix("-- params: ") {
                Some(rest) => {
                    let (line, sql) = rest.split_once('\n').unwrap();
                    let list: Vec<Option<String>> = serde_json::from_str(line).unwrap();
                    (list.into_iter().map(|p| p.map_or(Value::Null, Value::String)).collect(), sql)
                }
                None => (Vec::new(), chunk),
            };
            let sql = sql.trim().trim_end_matches(';').to_string();
            out.push(Entry { file: file.clone(), sql, params });
        }
    }
    out
}

/// Creates the tables the clients browse: `tests/schema/user_behaviors.sql` (with one row
/// at 10:00:00.250 today, inside its TTL) and `tests/clients/tables.sql`.
fn create_tables(run: &mut dyn FnMut(&str)) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    run(&std::fs::read_to_string(root.join("tests/schema/user_behaviors.sql")).unwrap());
    // One statement at a time: a CREATE VIEW right after another statement's `;` and a
    // newline does not parse yet.
    for statement in std::fs::read_to_string(clients_dir().join("tables.sql")).unwrap().split(";\n") {
        run(statement);
    }
    let today = chrono::Utc::now().date_naive();
    run(&format!(
        "INSERT INTO user_behaviors VALUES ('e1', 't1', 's1', 'u1', 'i1', 'click', ['phone', 'tv'], ['ios', 'android'], ['x', 'y'], ['1.1.1.1', '2.2.2.2'], '{{}}', 30, 0.5, 'x1', 'A', '{today} 10:00:00.250', '{today}')"
    ));
}

fn session_with_tables() -> (tempfile::TempDir, std::sync::Arc<Database>, Session) {
    let (dir, db, mut session) = common::fresh();
    create_tables(&mut |sql| {
        session.execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    });
    (dir, db, session)
}

#[test]
fn every_harvested_client_query_runs() {
    let (_dir, _db, mut session) = session_with_tables();
    let entries = corpus();
    assert!(entries.len() >= 40, "the corpus has {} statements", entries.len());
    let mut failures = Vec::new();
    for e in &entries {
        let result = session.prepare(&e.sql).and_then(|_| session.execute_prepared(&e.sql, &e.params));
        if let Err(err) = result {
            failures.push(format!("{}: {err}\n{}\n", e.file, e.sql));
        }
    }
    assert!(failures.is_empty(), "{} of {} corpus statements failed:\n{}", failures.len(), entries.len(), failures.join("\n"));
}

/// Runs psql's own `\d user_behaviors` queries (from the corpus, with Granary's OID).
#[test]
fn psql_describe_lists_the_real_columns_and_types() {
    let (_dir, _db, mut session) = session_with_tables();
    let found = common::rows(
        &mut session,
        "SELECT c.oid, n.nspname, c.relname FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relname OPERATOR(pg_catalog.~) '^(user_behaviors)$' COLLATE pg_catalog.default AND pg_catalog.pg_table_is_visible(c.oid) ORDER BY 2, 3",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0][1..], [Value::String("default".into()), Value::String("user_behaviors".into())]);
    let Value::UInt(oid) = found[0][0] else { panic!("oid {:?}", found[0][0]) };
    let columns = common::rows(
        &mut session,
        &format!(
            "SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), \
               (SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid, true) FROM pg_catalog.pg_attrdef d WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum AND a.atthasdef), \
               a.attnotnull, \
               (SELECT c.collname FROM pg_catalog.pg_collation c, pg_catalog.pg_type t WHERE c.oid = a.attcollation AND t.oid = a.atttypid AND a.attcollation <> t.typcollation) AS attcollation \
             FROM pg_catalog.pg_attribute a WHERE a.attrelid = '{oid}' AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum"
        ),
    );
    let shown: Vec<(String, String)> = columns
        .iter()
        .map(|r| match (&r[0], &r[1], &r[2], &r[3], &r[4]) {
            (Value::String(n), Value::String(t), Value::Null, Value::Bool(true), Value::Null) => (n.clone(), t.clone()),
            other => panic!("{other:?}"),
        })
        .collect();
    let expected = [
        ("event_id", "text"),
        ("action_type", "text"),
        ("context.device_type", "text[]"),
        ("watch_duration", "integer"),
        ("completion_rate", "real"),
        ("timestamp", "timestamp without time zone"),
        ("date", "date"),
    ];
    assert_eq!(shown.len(), 17);
    for (name, ty) in expected {
        assert!(shown.contains(&(name.to_string(), ty.to_string())), "{name} {ty} in {shown:?}");
    }
    let tables = common::rows(&mut session, "SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1");
    let names: Vec<&Value> = tables.iter().map(|r| &r[0]).collect();
    for name in ["hits", "hits_view", "item_stats_daily", "metrics_hourly", "user_behaviors"] {
        assert!(names.contains(&&Value::String(name.into())), "{name} in {tables:?}");
    }
}

/// Whether a missing client fails the test (`GRANARY_CLIENTS_REQUIRED=1`) or is skipped.
fn required() -> bool {
    std::env::var("GRANARY_CLIENTS_REQUIRED").is_ok_and(|v| v == "1")
}

/// Runs a client program to completion and returns its output; `None` when the program is
/// not installed and clients are not required.
async fn run_client(what: &str, program: PathBuf, args: Vec<String>) -> Option<String> {
    let found = program.is_absolute() && program.exists() || Command::new("which").arg(&program).output().is_ok_and(|o| o.status.success());
    if !found {
        assert!(!required(), "{what}: {} is not installed (tests/clients/install.sh installs it)", program.display());
        eprintln!("skipping {what}: {} is not installed (tests/clients/install.sh installs it)", program.display());
        return None;
    }
    let output = tokio::task::spawn_blocking(move || Command::new(&program).args(&args).current_dir(clients_dir()).output()).await.unwrap().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned());
    assert!(output.status.success(), "{what} failed:\n{stdout}\n{stderr}");
    eprint!("{stdout}");
    Some(stdout)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_clients_browse_and_query() {
    let (dir, db, _session) = session_with_tables();
    let server = harness::Server::start(dir, db).await;
    let port = server.addr.port().to_string();

    // tokio-postgres: the catalog's type OIDs are the ones result columns arrive with.
    let client = server.connect().await;
    let sent: Vec<u32> = client.prepare("SELECT * FROM user_behaviors").await.unwrap().columns().iter().map(|c| c.type_().oid()).collect();
    let listed: Vec<u32> = client
        .query("SELECT atttypid FROM pg_catalog.pg_attribute WHERE attrelid = 'user_behaviors'::regclass AND attnum > 0 ORDER BY attnum", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<_, i64>(0) as u32)
        .collect();
    assert_eq!(listed, sent);
    let version: String = client.query_one("SELECT version()", &[]).await.unwrap().get(0);
    assert!(version.starts_with("PostgreSQL 16.0 (Granary"), "{version}");

    let venv = std::env::var_os("GRANARY_CLIENTS_VENV").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/granary-clients-venv"));
    let args = |script: &str| vec![script.to_string(), "127.0.0.1".into(), port.clone(), "default".into(), "default".into()];
    run_client("psycopg, asyncpg, SQLAlchemy and pandas", venv.join("bin/python"), args("python_clients.py")).await;

    let jar = Path::new("/usr/share/java/postgresql.jar");
    if jar.exists() || required() {
        let mut java = args("Clients.java");
        java.splice(0..0, ["-cp".to_string(), jar.display().to_string()]);
        run_client("pgJDBC", "java".into(), java).await;
    } else {
        eprintln!("skipping pgJDBC: {} is not installed (tests/clients/install.sh installs it)", jar.display());
    }

    let psql = ["-X", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", &port, "-U", "default", "-d", "default", "-f", "psql_commands.sql"].map(String::from).to_vec();
    if let Some(out) = run_client("psql", "psql".into(), psql).await {
        for shown in ["user_behaviors", "hits_view", "context.device_type | text[]", "timestamp without time zone", "COPY 2", "/d,2", "-[ RECORD 1 ]"] {
            assert!(out.contains(shown), "psql output lacks {shown:?}:\n{out}");
        }
    }

    server.stop().await;
}
