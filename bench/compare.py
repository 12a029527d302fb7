#!/usr/bin/env python3
"""The ClickHouse (chdb) and DuckDB side of `granary bench compare`.

Reads a job (JSON, the file named by the one argument) that `granary bench compare` writes:
    {"data_dir": DIR, "runs": N, "schema_clickhouse": "CREATE TABLE ...; ...",
     "clickhouse": [{"id": "Q01", "sql": "..."}, ...], "duckdb": [...]}
loads DIR/user_behaviors.csv and DIR/items.csv into each engine (on disk, in a temporary
directory), runs every query once to warm up and N times timed, and prints on stdout
    {"clickhouse": {"version", "rows", "ingest_seconds", "bytes_on_disk",
                    "queries": [{"id", "ms": [...], "rows": [[...]], "error"}]}, "duckdb": {...}}
Values are JSON numbers, strings (dates and times as text) or null. Progress goes to stderr.
"""
import datetime
import decimal
import json
import os
import sys
import tempfile
import time

DUCKDB_SCHEMA = """
CREATE TYPE action AS ENUM ('impression', 'click', 'view', 'like', 'share', 'add_cart', 'order');
CREATE TABLE user_behaviors (event_id VARCHAR, tenant_id VARCHAR, scenario_id VARCHAR, user_id VARCHAR,
  item_id VARCHAR, action_type action, device_type VARCHAR, os VARCHAR, location VARCHAR, ip VARCHAR,
  extra_data VARCHAR, watch_duration INTEGER, completion_rate FLOAT, experiment_id VARCHAR,
  experiment_group VARCHAR, timestamp TIMESTAMP, date DATE);
CREATE TABLE items (item_id VARCHAR, category VARCHAR, brand VARCHAR, price DOUBLE);
"""


def log(message):
    print(message, file=sys.stderr, flush=True)


def plain(value):
    """A value as JSON can carry it."""
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (datetime.datetime, datetime.date)):
        return str(value)
    if value is None or isinstance(value, (int, float, str)):
        return value
    return str(value)


def timed(queries, runs, run_one):
    """Warm-up plus `runs` timed runs of each query; `run_one(sql)` returns the rows."""
    out = []
    for q in queries:
        entry = {"id": q["id"], "ms": [], "rows": [], "error": None}
        try:
            run_one(q["sql"])
            for _ in range(runs):
                started = time.perf_counter()
                rows = run_one(q["sql"])
                entry["ms"].append((time.perf_counter() - started) * 1000.0)
            entry["rows"] = [[plain(v) for v in row] for row in rows]
        except Exception as e:  # a failing query is reported, the others still run
            entry["error"] = str(e).strip().splitlines()[0] if str(e).strip() else repr(e)
        log(f"  {q['id']}: {min(entry['ms']) if entry['ms'] else entry['error']}")
        out.append(entry)
    return out


def clickhouse(job, events, items, workdir):
    import chdb
    from chdb import session

    sess = session.Session(os.path.join(workdir, "chdb"))
    sess.query("CREATE DATABASE IF NOT EXISTS bench ENGINE = Atomic")
    sess.query("USE bench")
    for statement in job["schema_clickhouse"].split(";"):
        if statement.strip():
            sess.query(statement)
    started = time.perf_counter()
    sess.query(f"INSERT INTO user_behaviors SELECT * FROM file('{events}', 'CSVWithNames')")
    ingest = time.perf_counter() - started
    sess.query(f"INSERT INTO items SELECT * FROM file('{items}', 'CSVWithNames')")

    def rows(sql):
        return json.loads(sess.query(sql, "JSONCompact").bytes())["data"]

    count = rows("SELECT count() FROM user_behaviors")[0][0]
    size = rows("SELECT sum(bytes_on_disk) FROM system.parts WHERE database = 'bench' AND table = 'user_behaviors' AND active")[0][0]
    log(f"clickhouse {chdb.__version__}: {count} rows in {ingest:.1f} s, {size} bytes")
    return {"version": f"chdb {chdb.__version__}", "rows": int(count), "ingest_seconds": ingest,
            "bytes_on_disk": int(size), "queries": timed(job["clickhouse"], job["runs"], rows)}


def duckdb_side(job, events, items, workdir):
    import duckdb

    path = os.path.join(workdir, "bench.duckdb")
    con = duckdb.connect(path)
    con.execute(DUCKDB_SCHEMA)
    started = time.perf_counter()
    # The CSV quotes its empty strings; DuckDB would read them as NULL otherwise.
    con.execute(f"COPY user_behaviors FROM '{events}' (HEADER, ALLOW_QUOTED_NULLS false)")
    con.execute("CHECKPOINT")
    ingest = time.perf_counter() - started
    con.execute(f"COPY items FROM '{items}' (HEADER)")
    con.execute("CHECKPOINT")

    def rows(sql):
        return con.execute(sql).fetchall()

    count = rows("SELECT count(*) FROM user_behaviors")[0][0]
    size = os.path.getsize(path)
    log(f"duckdb {duckdb.__version__}: {count} rows in {ingest:.1f} s, {size} bytes (whole file)")
    return {"version": f"duckdb {duckdb.__version__}", "rows": int(count), "ingest_seconds": ingest,
            "bytes_on_disk": size, "queries": timed(job["duckdb"], job["runs"], rows)}


def main():
    with open(sys.argv[1]) as f:
        job = json.load(f)
    events = os.path.abspath(os.path.join(job["data_dir"], "user_behaviors.csv"))
    items = os.path.abspath(os.path.join(job["data_dir"], "items.csv"))
    out = {}
    with tempfile.TemporaryDirectory(prefix="granary-compare-") as workdir:
        out["clickhouse"] = clickhouse(job, events, items, workdir)
        out["duckdb"] = duckdb_side(job, events, items, workdir)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
