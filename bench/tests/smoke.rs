//! The benchmark harness end to end at a small size, as CI runs it: gen, ingest (INSERT and
//! COPY), every query
//! of the set once, and a two-second mixed load. Asserts on what came back, never on time.

use std::sync::Arc;
use std::time::Duration;

use granary_bench::ingest::{first_row, Method};
use granary_bench::load::{LoadOptions, Progress};
use granary_bench::queries::{parse, QUERIES};
use granary_bench::target::Target;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gen_ingest_query_and_load() {
    let data = tempfile::tempdir().unwrap();
    let generated = granary_bench::csv::generate(data.path(), 100_000, |_| {}).unwrap();
    assert_eq!(generated.rows, 100_000);

    let target = Target::local().await.unwrap();
    let client = target.connect().await.unwrap();
    granary_bench::ingest::create_tables(&client).await.unwrap();
    let events = data.path().join(granary_bench::csv::EVENTS_FILE);
    let inserted = granary_bench::ingest::ingest(&target.url, &events, Method::Insert { batch: 100 }, 2, Some(1_000)).await.unwrap();
    assert_eq!((inserted.rows, inserted.statements), (1_000, 10));
    let loaded = granary_bench::ingest::load(&target.url, data.path(), Method::Copy { rows: 30_000 }, 2, None).await.unwrap();
    // Two writers, each with about half the file, 30,000 rows per COPY.
    assert!(loaded.rows == 100_000 && (4..=5).contains(&loaded.statements), "{loaded:?}");
    assert!(loaded.parts_settled > 0 && loaded.bytes_on_disk > 0, "{loaded:?}");
    let count = |sql: &'static str| {
        let client = &client;
        async move { first_row(client, sql).await.unwrap()[0].clone().unwrap() }
    };
    assert_eq!(count("SELECT count() FROM user_behaviors").await, "100000");
    assert_eq!(count("SELECT count() FROM items").await, "200000");

    let runs = granary_bench::query::run(&client, &parse(QUERIES), 1, |_| {}).await;
    assert_eq!(runs.len(), 16);
    for r in &runs {
        assert_eq!((r.error.as_deref(), r.runs_ms.len()), (None, 1), "{}", r.id);
    }
    assert_eq!(runs[0].rows, vec![vec![Some("100000".to_string())]]);
    // Q06 scans the whole table; the query log says so.
    assert_eq!(runs[5].rows_read, Some(100_000), "{:?}", runs[5]);
    // Every question but the point lookups of one user has an answer at this size.
    for r in runs.iter().filter(|r| !["Q10", "Q15"].contains(&r.id.as_str())) {
        assert!(!r.rows.is_empty(), "{} answered nothing", r.id);
    }
    target.stop().await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let db = granary_engine::Database::open(dir.path()).unwrap();
    granary_bench::demo::load(&db, 20_000, |_| {}).unwrap();
    let target = Target::serve(db, Some(dir)).await.unwrap();
    let options = LoadOptions { writers: 1, batch: 50, readers: 2, duration: Duration::from_secs(2) };
    let report = granary_bench::load::run(&target.url, &options, Arc::new(Progress::default())).await.unwrap();
    assert_eq!(report.errors, 0, "{:?}", report.error_samples);
    assert!(report.rows_written >= 50, "{report:?}");
    let dashboard = report.ops.iter().find(|o| o.name == "dashboard (all)").unwrap();
    assert!(dashboard.count > 0, "{report:?}");
    assert!(report.lag.as_ref().is_some_and(|l| l.count > 0), "{report:?}");
    assert!(report.table().contains("ingest lag"));
    target.stop().await.unwrap();
}
