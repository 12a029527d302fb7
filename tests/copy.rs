//! `COPY … FROM STDIN` through the embedded engine: the text and CSV formats however the data
//! is cut into chunks, errors that name the line and column, and loads that commit all or
//! nothing, also across blocks and into materialized views.

mod common;

use common::{fresh, rows};
use granary_engine::{ErrorKind, Session, Value};

/// A reader that hands out at most `step` bytes per read, to cut records anywhere.
struct Chunked<'a> {
    data: &'a [u8],
    step: usize,
}

impl std::io::Read for Chunked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fn copy(session: &mut Session, sql: &str, data: &str, step: usize) -> Result<u64, granary_engine::Error> {
    session.copy_from(sql, Chunked { data: data.as_bytes(), step })
}

fn create(session: &mut Session, name: &str) {
    session
        .execute(&format!(
            "CREATE TABLE {name} (id UInt32, name String, v Nullable(Float64), d Date, kind Enum8('a' = 1, 'b' = 2), ts DateTime64(3))
             ENGINE = MergeTree PARTITION BY toYYYYMM(d) ORDER BY id"
        ))
        .unwrap();
}

fn s(v: &str) -> Value {
    Value::String(v.into())
}

/// The rows the CSV and text samples below hold, as `SELECT id, name, v, toString(d), toString(kind), toString(ts)` returns them.
fn expected() -> Vec<Vec<Value>> {
    vec![
        vec![Value::UInt(1), s("hello, world"), Value::Float(1.5), s("2026-01-01"), s("a"), s("2026-01-01 10:00:00.125")],
        vec![Value::UInt(2), s("two\nlines"), Value::Null, s("2026-01-02"), s("b"), s("2026-01-02 00:00:00.000")],
        vec![Value::UInt(3), s("say \"hi\""), Value::Float(-300.0), s("2026-02-03"), s("a"), s("2026-02-03 23:59:59.999")],
        vec![Value::UInt(4), s(""), Value::Float(0.25), s("2026-02-04"), s("b"), s("2026-02-04 12:00:00.000")],
    ]
}

const SELECT: &str = "SELECT id, name, v, toString(d), toString(kind), toString(ts) FROM t ORDER BY id";

#[test]
fn csv_loads_the_same_however_the_data_is_cut() {
    let csv = "id,name,v,d,kind,ts\r\n\
               1,\"hello, world\",1.5,2026-01-01,a,2026-01-01 10:00:00.125\r\n\
               2,\"two\nlines\",,2026-01-02,b,2026-01-02\n\
               3,\"say \"\"hi\"\"\",-3e2,2026-02-03,a,2026-02-03 23:59:59.999\n\
               4,\"\",0.25,2026-02-04,2,2026-02-04T12:00:00";
    for step in [1, 2, 3, 7, 16, 1 << 20] {
        let (_dir, _db, mut session) = fresh();
        create(&mut session, "t");
        let n = copy(&mut session, "COPY t FROM STDIN WITH (FORMAT csv, HEADER true)", csv, step).unwrap();
        assert_eq!(n, 4, "step {step}");
        assert_eq!(rows(&mut session, SELECT), expected(), "step {step}");
    }
}

#[test]
fn text_format_undoes_backslash_escapes_and_reads_the_null_marker() {
    let text = "1\thello, world\t1.5\t2026-01-01\ta\t2026-01-01 10:00:00.125\n\
                2\ttwo\\nlines\t\\N\t2026-01-02\tb\t2026-01-02 00:00:00\n\
                3\tsay \"hi\"\t-300\t2026-02-03\ta\t2026-02-03 23:59:59.999\n\
                4\t\t0.25\t2026-02-04\tb\t2026-02-04 12:00:00\n\
                \\.\n";
    for step in [1, 5, 1 << 20] {
        let (_dir, _db, mut session) = fresh();
        create(&mut session, "t");
        assert_eq!(copy(&mut session, "COPY t FROM STDIN", text, step).unwrap(), 4);
        assert_eq!(rows(&mut session, SELECT), expected());
    }
    let (_dir, _db, mut session) = fresh();
    create(&mut session, "t");
    let data = "7|tab\\there|\\\\|x\n";
    copy(&mut session, "COPY t (id, name, v, d) FROM STDIN WITH (DELIMITER '|', NULL 'x')", data, 3).unwrap_err();
    copy(&mut session, "COPY t (id, name) FROM STDIN WITH (DELIMITER '|')", "7|tab\\there\\|\\\\\n", 3).unwrap();
    assert_eq!(rows(&mut session, "SELECT name, v, toString(d) FROM t"), vec![vec![s("tab\there|\\"), Value::Null, s("1970-01-01")]]);
}

#[test]
fn a_bad_row_fails_the_whole_copy_and_names_its_line_and_column() {
    let (_dir, _db, mut session) = fresh();
    create(&mut session, "t");
    let cases = [
        ("1,a,1,2026-01-01,a,2026-01-01\n2,b,oops,2026-01-01,a,2026-01-01\n", ErrorKind::InvalidText, "line 2, column v"),
        ("1,a,1,2026-01-01,a,2026-01-01\n2,b,1,2026-01-01,c,2026-01-01\n", ErrorKind::InvalidText, "line 2, column kind"),
        ("1,a,1,2026-01-01,a,2026-01-01\n\n3,b,1,2026-13-01,a,2026-01-01\n", ErrorKind::BadCopyFormat, "line 2: missing data for column \"name\""),
        ("1,a,1,2026-01-01,a,2026-01-01,extra\n", ErrorKind::BadCopyFormat, "line 1: extra data after last expected column"),
        ("1,\"open,1,2026-01-01,a,2026-01-01\n", ErrorKind::BadCopyFormat, "unterminated CSV quoted field"),
        ("1,a,1,2026-01-01,a,2026-01-01\n99999999999,a,1,2026-01-01,a,2026-01-01\n", ErrorKind::InvalidText, "line 2, column id"),
    ];
    for (data, kind, message) in cases {
        let e = copy(&mut session, "COPY t FROM STDIN (FORMAT csv)", data, 4).map(|n| panic!("{data:?} loaded {n} rows")).unwrap_err();
        assert_eq!(e.kind, kind, "{data:?}: {e}");
        assert!(e.message.contains(message), "{data:?}: {e}");
    }
    assert_eq!(rows(&mut session, "SELECT count() FROM t"), vec![vec![Value::UInt(0)]]);
    assert_eq!(session.execute("COPY t FROM '/etc/passwd'").unwrap_err().kind, ErrorKind::InsufficientPrivilege);
    assert_eq!(session.execute("COPY nope FROM STDIN").unwrap_err().kind, ErrorKind::UndefinedTable);
    assert_eq!(session.execute("COPY t (id, nope) FROM STDIN").unwrap_err().kind, ErrorKind::UndefinedColumn);
}

#[test]
fn a_copy_of_many_blocks_on_several_writers_keeps_every_row_once() {
    // No view: one writer per core, each taking blocks of 7 rows as they come (strings, a
    // Nullable column with NULLs, dates over three partitions, enums).
    let (_dir, _db, mut session) = fresh();
    create(&mut session, "t");
    session.execute("SET max_insert_block_size = 7").unwrap();
    let data: String = (1..=500u32)
        .map(|i| {
            let v = if i % 5 == 0 { String::new() } else { format!("{i}.5") };
            format!("{},{}{i},{v},2026-0{}-01,{},2026-01-01 00:00:00\n", 1000 - i, "x".repeat(i as usize % 4), 1 + i % 3, if i % 3 == 0 { "a" } else { "b" })
        })
        .collect();
    assert_eq!(copy(&mut session, "COPY t FROM STDIN (FORMAT csv)", &data, 10).unwrap(), 500);
    assert_eq!(
        rows(&mut session, "SELECT count(), sum(id), uniqExact(name), sum(length(name)), count(v), sum(v), countIf(kind = 'a'), uniqExact(d) FROM t"),
        vec![vec![Value::UInt(500), Value::UInt(374_750), Value::UInt(500), Value::UInt(2_142), Value::UInt(400), Value::Float(100_200.0), Value::UInt(166), Value::UInt(3)]]
    );
}

#[test]
fn a_copy_of_many_blocks_commits_all_of_them_or_none() {
    let (_dir, _db, mut session) = fresh();
    create(&mut session, "t");
    session
        .execute(
            "CREATE MATERIALIZED VIEW per_kind ENGINE = SummingMergeTree ORDER BY kind
             AS SELECT kind, count() AS n, sum(id) AS ids FROM t GROUP BY kind",
        )
        .unwrap();
    session.execute("SET max_insert_block_size = 3").unwrap();
    let line = |i: u32| format!("{i},n{i},{i}.5,2026-0{}-01,{},2026-01-01 00:00:00\n", 1 + i % 3, if i.is_multiple_of(2) { "a" } else { "b" });
    let mut bad: String = (1..=10).map(line).collect();
    bad.push_str("11,n11,x,2026-01-01,a,2026-01-01\n");
    assert_eq!(copy(&mut session, "COPY t FROM STDIN (FORMAT csv)", &bad, 10).unwrap_err().kind, ErrorKind::InvalidText);
    assert_eq!(rows(&mut session, "SELECT count() FROM t"), vec![vec![Value::UInt(0)]]);
    assert_eq!(rows(&mut session, "SELECT count() FROM per_kind"), vec![vec![Value::UInt(0)]]);

    let good: String = (1..=10).map(line).collect();
    assert_eq!(copy(&mut session, "COPY t FROM STDIN (FORMAT csv)", &good, 10).unwrap(), 10);
    assert_eq!(rows(&mut session, "SELECT count(), sum(id), uniqExact(name) FROM t"), vec![vec![Value::UInt(10), Value::UInt(55), Value::UInt(10)]]);
    assert_eq!(
        rows(&mut session, "SELECT toString(kind), sum(n), sum(ids) FROM per_kind GROUP BY kind ORDER BY kind"),
        vec![vec![s("a"), Value::UInt(5), Value::UInt(30)], vec![s("b"), Value::UInt(5), Value::UInt(25)]]
    );
    // Blocks of 3 rows over 3 partitions: more than one part per partition.
    let parts = rows(&mut session, "SELECT count() FROM system.parts WHERE table = 't' AND active = 1");
    assert!(matches!(parts[0][0], Value::UInt(n) if n > 3), "{parts:?}");
}

#[test]
fn copies_at_once_share_the_writers_and_one_whose_write_fails_leaves_nothing() {
    // Three COPYs in blocks of 7 rows from three sessions at once, through the same writer
    // threads: two load 300 rows each into their own tables; the third's rows 1..=200 are
    // fine, but row 201's Nested arrays differ in size, which only the write (in a writer
    // thread) finds: that COPY fails and leaves no row, the others keep all of theirs.
    // (Merges are stopped so that every part directory left unfinished is a COPY's.)
    let (dir, db, mut session) = fresh();
    session.execute("SYSTEM STOP MERGES").unwrap();
    create(&mut session, "t");
    create(&mut session, "u");
    session.execute("CREATE TABLE n (id UInt32, c Nested(a String, b String)) ENGINE = MergeTree ORDER BY id").unwrap();
    let good: String = (1..=300u32).map(|i| format!("{i},n{i},{i}.5,2026-0{}-01,a,2026-01-01 00:00:00\n", 1 + i % 3)).collect();
    let nested: String = (1..=250u32).map(|i| format!("{i},\"['x{i}']\",\"['y{i}'{}]\"\n", if i == 201 { ",'z'" } else { "" })).collect();
    let loads = [("t", good.clone()), ("u", good), ("n", nested)].map(|(table, data)| {
        let mut session = db.session();
        std::thread::spawn(move || {
            session.execute("SET max_insert_block_size = 7").unwrap();
            copy(&mut session, &format!("COPY {table} FROM STDIN (FORMAT csv)"), &data, 64)
        })
    });
    let [t, u, n] = loads.map(|l| l.join().unwrap());
    assert_eq!((t.unwrap(), u.unwrap()), (300, 300));
    let e = n.unwrap_err();
    assert!(e.message.contains("sizes of the arrays of Nested column c do not match"), "{e}");
    for table in ["t", "u"] {
        assert_eq!(rows(&mut session, &format!("SELECT count(), sum(id), uniqExact(name) FROM {table}")), vec![vec![Value::UInt(300), Value::UInt(45_150), Value::UInt(300)]]);
    }
    assert_eq!(rows(&mut session, "SELECT count() FROM n"), vec![vec![Value::UInt(0)]]);
    assert_eq!(rows(&mut session, "SELECT count() FROM system.parts WHERE table = 'n'"), vec![vec![Value::UInt(0)]]);
    fn uncommitted(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let entries = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path());
        entries.filter(|p| p.is_dir()).flat_map(|p| if p.file_name().unwrap().to_string_lossy().starts_with("tmp_") { vec![p] } else { uncommitted(&p) }).collect()
    }
    assert_eq!(uncommitted(dir.path()), Vec::<std::path::PathBuf>::new());
}
