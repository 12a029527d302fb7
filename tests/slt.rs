//! Runs every `tests/slt/*.slt` file against a fresh embedded database.
//!
//! The expected results in those files come from ClickHouse (see `tests/oracle/README.md`);
//! values are printed the way ClickHouse's TabSeparated format prints them.

use std::path::Path;
use std::sync::Arc;

use granary_engine::{Database, Output, Session};
use sqllogictest::{DBOutput, DefaultColumnType};

struct Embedded {
    session: Session,
    _db: Arc<Database>,
}

#[derive(Debug)]
struct SltError(String);

impl std::fmt::Display for SltError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SltError {}

/// A value as ClickHouse's TabSeparated output writes it.
fn tsv_cell(ty: &granary_engine::DataType, value: &granary_engine::Value) -> String {
    if *value == granary_engine::Value::Null {
        return "\\N".into();
    }
    let mut s = String::new();
    ty.format_value(value, &mut s);
    if ty.element().is_some() {
        // Array text already escapes its strings; TSV does not escape it again.
        return s;
    }
    s.replace('\\', "\\\\").replace('\t', "\\t").replace('\n', "\\n").replace('\'', "\\'")
}

impl sqllogictest::DB for Embedded {
    type Error = SltError;
    type ColumnType = DefaultColumnType;

    fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, SltError> {
        let mut outputs = self.session.execute(sql).map_err(|e| SltError(e.to_string()))?;
        match outputs.pop() {
            Some(Output::Rows { fields, blocks, .. }) => {
                let types = fields
                    .iter()
                    .map(|f| {
                        let ty = f.ty.non_null();
                        if ty.is_integer() {
                            DefaultColumnType::Integer
                        } else if ty.is_float() || ty.is_decimal() {
                            DefaultColumnType::FloatingPoint
                        } else {
                            DefaultColumnType::Text
                        }
                    })
                    .collect();
                let mut rows = Vec::new();
                for block in &blocks {
                    for r in 0..block.rows() {
                        rows.push(fields.iter().zip(&block.columns).map(|(f, c)| tsv_cell(&f.ty, &c.value(r))).collect());
                    }
                }
                Ok(DBOutput::Rows { types, rows })
            }
            Some(Output::Command { rows, .. }) => Ok(DBOutput::StatementComplete(rows.unwrap_or(0))),
            Some(Output::CopyIn(_) | Output::CopyOut { .. }) => Err(SltError("COPY needs a client to send or take the data".into())),
            None => Ok(DBOutput::StatementComplete(0)),
        }
    }
}

fn main() {
    // GRANARY_SLT_DIR runs another directory of files (drafts being written).
    let dir = std::env::var_os("GRANARY_SLT_DIR").map(std::path::PathBuf::from).unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/slt"));
    let filter = std::env::args().nth(1).filter(|a| !a.starts_with('-'));
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/slt exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "slt"))
        .filter(|p| filter.as_ref().is_none_or(|f| p.to_string_lossy().contains(f.as_str())))
        .collect();
    files.sort();
    let (mut passed, mut failed) = (0, 0);
    for file in &files {
        let tmp = tempfile::tempdir().expect("temp dir");
        let path = tmp.path().to_path_buf();
        let mut runner = sqllogictest::Runner::new(move || {
            let db = Database::open(&path);
            async move {
                let db = db.map_err(|e| SltError(e.to_string()))?;
                Ok(Embedded { session: db.session(), _db: db })
            }
        });
        runner.with_column_validator(sqllogictest::strict_column_validator);
        // GRANARY_SLT_ALL reports every failing record of a file instead of the first.
        if std::env::var_os("GRANARY_SLT_ALL").is_some() {
            let mut errors = 0;
            for record in sqllogictest::parse_file(file).expect("parses") {
                if let Err(e) = runner.run(record) {
                    errors += 1;
                    println!("{e}\n");
                }
            }
            println!("{}: {errors} failing records", file.display());
            failed += (errors > 0) as i32;
            continue;
        }
        match runner.run_file(file) {
            Ok(()) => {
                passed += 1;
                println!("test {} ... ok", file.display());
            }
            Err(e) => {
                failed += 1;
                println!("test {} ... FAILED\n{e}\n", file.display());
            }
        }
    }
    println!("\nslt: {passed} passed, {failed} failed");
    if failed > 0 {
        std::process::exit(1);
    }
}
