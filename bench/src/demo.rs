//! `granary demo`: the behaviour schema, a synthetic event stream loaded through the embedded
//! engine (materialized views and all), and the dashboard of the busiest tenant.

use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use granary_engine::{Block, Column, Database, Output, Value};
use granary_storage::ColumnData;
use granary_storage::column::{write_varint, StringData};

use crate::dataset::{Event, Generator, Vocabulary, DEVICE_OS, SCENARIOS};

/// Results of the engine's calls.
pub type Result<T> = std::result::Result<T, granary_engine::Error>;

/// The schema the demo creates (the one the product runs, verbatim).
pub const SCHEMA: &str = include_str!("../../tests/schema/user_behaviors.sql");
/// The dashboard queries, `$1` = tenant and `$2` = scenario.
pub const DASHBOARD: &str = include_str!("../../tests/schema/dashboard_queries.sql");

/// Rows per INSERT the demo sends.
const BATCH: usize = 50_000;

/// What a demo run measured.
#[derive(Debug, Clone, Copy)]
pub struct LoadReport {
    /// Events loaded.
    pub rows: usize,
    /// Seconds the load took (generation included).
    pub seconds: f64,
}

/// Creates the schema in `db` and loads `rows` events of the last 90 days, the newest one
/// now, calling `progress` with the rows loaded so far after every batch.
pub fn load(db: &Arc<Database>, rows: usize, mut progress: impl FnMut(usize)) -> Result<LoadReport> {
    let mut session = db.session();
    session.execute(SCHEMA)?;
    let entry = db.table_entry(granary_engine::DEFAULT_DATABASE, "user_behaviors").expect("the schema creates user_behaviors");
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
    let today = now_ms.div_euclid(86_400_000);
    // The generator fills whole days; moving every event back by the rest of today puts the
    // newest at the present moment.
    let shift = now_ms - (today + 1) * 86_400_000;
    let vocabulary = Vocabulary::default();
    let started = Instant::now();
    let mut events = Generator::new(rows, today);
    let mut done = 0;
    loop {
        let batch: Vec<Event> = events.by_ref().take(BATCH).map(|e| Event { timestamp_ms: e.timestamp_ms + shift, ..e }).collect();
        if batch.is_empty() {
            break;
        }
        let block = user_behaviors_block(&batch, &vocabulary, &entry.def.layout.columns)?;
        granary_engine::insert::insert_block(db, &entry, block)?;
        done += batch.len();
        progress(done);
    }
    Ok(LoadReport { rows: done, seconds: started.elapsed().as_secs_f64() })
}

/// The events as a block of the `user_behaviors` table (the schema's column order).
fn user_behaviors_block(events: &[Event], vocabulary: &Vocabulary, columns: &[granary_storage::part::ColumnSpec]) -> Result<Block> {
    let text = |f: &dyn Fn(&Event, &mut Vec<u8>)| {
        let mut s = StringData::with_capacity(events.len());
        let mut buf = Vec::new();
        for e in events {
            buf.clear();
            f(e, &mut buf);
            s.push(&buf);
        }
        ColumnData::Bytes(s)
    };
    // A Nested field holds one element per event: an array row is the element count, then
    // the element in column encoding (its length, then its bytes).
    let one_element = |f: &dyn Fn(&Event, &mut Vec<u8>)| {
        let mut s = StringData::with_capacity(events.len());
        let (mut row, mut value) = (Vec::new(), Vec::new());
        for e in events {
            row.clear();
            value.clear();
            f(e, &mut value);
            write_varint(1, &mut row);
            write_varint(value.len() as u64, &mut row);
            row.extend_from_slice(&value);
            s.push(&row);
        }
        ColumnData::Bytes(s)
    };
    let data = vec![
        text(&|e, b| write!(b, "{:016x}", e.event_id).expect("write to a vector")),
        text(&|e, b| write!(b, "t{:02}", e.tenant).expect("write to a vector")),
        text(&|e, b| b.extend_from_slice(SCENARIOS[e.scenario as usize].0.as_bytes())),
        text(&|e, b| write!(b, "u{}", e.user).expect("write to a vector")),
        text(&|e, b| write!(b, "i{}", e.item).expect("write to a vector")),
        ColumnData::I8(events.iter().map(|e| e.action as i8 + 1).collect()),
        one_element(&|e, b| b.extend_from_slice(DEVICE_OS[e.device_os as usize].0.as_bytes())),
        one_element(&|e, b| b.extend_from_slice(DEVICE_OS[e.device_os as usize].1.as_bytes())),
        one_element(&|e, b| b.extend_from_slice(vocabulary.cities[e.city as usize].as_bytes())),
        one_element(&|e, b| write!(b, "{}.{}.{}.{}", e.ip[0], e.ip[1], e.ip[2], e.ip[3]).expect("write to a vector")),
        text(&|e, b| b.extend_from_slice(vocabulary.extra[e.extra as usize].as_bytes())),
        ColumnData::I32(events.iter().map(|e| e.watch_duration).collect()),
        ColumnData::F32(events.iter().map(|e| e.completion_rate).collect()),
        text(&|e, b| if e.experiment > 0 { write!(b, "exp{}", e.experiment).expect("write to a vector") }),
        text(&|e, b| b.extend_from_slice(["", "control", "treatment"][e.group as usize].as_bytes())),
        ColumnData::I64(events.iter().map(|e| e.timestamp_ms).collect()),
        ColumnData::U16(events.iter().map(|e| (e.timestamp_ms.div_euclid(86_400_000)) as u16).collect()),
    ];
    if data.len() != columns.len() {
        return Err(granary_engine::Error::new(granary_engine::ErrorKind::Internal, "the demo's columns do not match user_behaviors"));
    }
    let columns = columns.iter().zip(data).map(|(spec, d)| Arc::new(Column::new(spec.ty.value_type(), d))).collect();
    Ok(Block::with_rows(columns, events.len()))
}

/// The busiest tenant and its busiest scenario over the loaded events.
pub fn busiest(db: &Arc<Database>) -> Result<(String, String)> {
    let mut s = db.session();
    let out = s.execute("SELECT tenant_id, scenario_id FROM user_behaviors GROUP BY tenant_id, scenario_id ORDER BY count() DESC LIMIT 1")?;
    match out.last() {
        Some(Output::Rows { blocks, .. }) => match blocks.iter().find(|b| b.rows() > 0) {
            Some(b) => Ok((text(&b.columns[0].value(0)), text(&b.columns[1].value(0)))),
            None => Ok(("t00".into(), "feed".into())),
        },
        _ => Ok(("t00".into(), "feed".into())),
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => format!("{other:?}"),
    }
}

/// The dashboard queries, each with the title its comment gives.
pub fn dashboard_queries() -> Vec<(&'static str, &'static str)> {
    DASHBOARD
        .split(';')
        .map(str::trim)
        .filter(|q| q.contains("SELECT"))
        .map(|sql| (sql.lines().rev().find_map(|l| l.strip_prefix("-- ")).unwrap_or("query"), sql))
        .collect()
}

/// Runs each dashboard query for `tenant`/`scenario` (bound as `$1`/`$2`) and writes it as
/// an aligned table.
pub fn print_dashboard(db: &Arc<Database>, tenant: &str, scenario: &str, out: &mut impl Write) -> anyhow::Result<()> {
    let mut session = db.session();
    for (title, sql) in dashboard_queries() {
        let mut params = vec![Value::String(tenant.to_string())];
        if sql.contains("$2") {
            params.push(Value::String(scenario.to_string()));
        }
        let started = Instant::now();
        let Output::Rows { fields, blocks, .. } = session.execute_prepared(sql, &params)? else { continue };
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        let mut rows: Vec<Vec<String>> = vec![fields.iter().map(|f| f.name.clone()).collect()];
        for b in &blocks {
            for r in 0..b.rows() {
                rows.push(b.columns.iter().zip(&fields).map(|(c, f)| {
                    let mut s = String::new();
                    f.ty.format_value(&c.value(r), &mut s);
                    s
                }).collect());
            }
        }
        let widths: Vec<usize> = (0..fields.len()).map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0)).collect();
        writeln!(out, "\n{title} ({ms:.1} ms)")?;
        for (n, row) in rows.iter().enumerate() {
            let cells: Vec<String> = row.iter().zip(&widths).map(|(c, w)| format!("{c:>w$}")).collect();
            writeln!(out, "  {}", cells.join(" | "))?;
            if n == 0 {
                writeln!(out, "  {}", widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("-+-"))?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_demo_loads_and_its_rollups_match_the_events() {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open(dir.path()).unwrap();
        let mut seen = Vec::new();
        let report = load(&db, 120_000, |n| seen.push(n)).unwrap();
        assert_eq!((report.rows, seen), (120_000, vec![50_000, 100_000, 120_000]));
        let mut s = db.session();
        let check = |s: &mut granary_engine::Session, sql: &str| match s.execute(sql).unwrap().pop() {
            Some(Output::Rows { blocks, .. }) => blocks[0].columns.iter().map(|c| c.value(0)).collect::<Vec<_>>(),
            _ => panic!("{sql}"),
        };
        // The events' TTL (90 days) may already drop the oldest raw rows; the rollup keeps them.
        let raw = check(&mut s, "SELECT countIf(action_type = 'click'), uniqExact(user_id) FROM user_behaviors WHERE tenant_id = 't00' AND date >= today() - 30");
        let rollup = check(&mut s, "SELECT sum(clicks), uniqExact(active_users) FROM metrics_hourly WHERE tenant_id = 't00' AND date >= today() - 30");
        assert_eq!(raw, rollup);
        let (tenant, _) = busiest(&db).unwrap();
        assert_eq!(tenant, "t00");
        let mut printed = Vec::new();
        print_dashboard(&db, "t00", "feed", &mut printed).unwrap();
        let printed = String::from_utf8(printed).unwrap();
        assert!(printed.contains("total_recommendations") && printed.contains("Top 10 items"), "{printed}");
    }
}
