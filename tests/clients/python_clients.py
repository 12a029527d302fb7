"""Real Python clients against a running server: psycopg 3, asyncpg, SQLAlchemy 2 and pandas.

Usage: python_clients.py HOST PORT USER DBNAME. The tables of tables.sql (or
tables.pg.sql) must exist, `user_behaviors` with one row at 10:00:00.250 of its date; the script asserts real values and prints one line per
client that passed. It runs unchanged against PostgreSQL (that is how the corpus of catalog
queries in corpus/ was harvested) and against Granary.
"""

import asyncio
import datetime
import sys

import asyncpg
import pandas
import psycopg
import sqlalchemy

HOST, PORT, USER, DBNAME = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
DSN = f"host={HOST} port={PORT} user={USER} dbname={DBNAME}"
EXPECTED_COLUMNS = {
    "event_id": "TEXT",
    "action_type": "TEXT",
    "context.device_type": "ARRAY",
    "watch_duration": "INTEGER",
    "completion_rate": "REAL",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
}
QUERY = "SELECT url, count(*) AS n, sum(price) AS total FROM hits WHERE user_id = {} AND d >= {} GROUP BY url ORDER BY url"


def check_psycopg():
    with psycopg.connect(DSN, application_name="granary-psycopg") as conn:
        rows = conn.execute(QUERY.format("%s", "%s"), (42, datetime.date(2026, 1, 1))).fetchall()
        assert rows == [("/a", 2, 12.5)], rows
        row = conn.execute("SELECT d, ts, ok, price FROM hits WHERE url = %s", ("/b",)).fetchone()
        assert row == (datetime.date(2026, 1, 2), datetime.datetime(2026, 1, 2, 11, 30), False, 1.25), row
        # Binary results through the extended protocol.
        with conn.cursor(binary=True) as cur:
            cur.execute("SELECT user_id, url FROM hits WHERE user_id = %s ORDER BY d", (43,))
            assert cur.fetchall() == [(43, "/b")]
        print("psycopg: parameters, text and binary results ok")
        try:
            with conn.cursor() as cur:
                with cur.copy("COPY hits (d, user_id, url, ts, price, ok) FROM STDIN") as copy:
                    copy.write_row((datetime.date(2026, 3, 1), 44, "/c", datetime.datetime(2026, 3, 1, 9, 0), 2.5, True))
                    copy.write_row((datetime.date(2026, 3, 2), 44, "/c", datetime.datetime(2026, 3, 2, 9, 0), 0.5, False))
            conn.commit()
        except psycopg.errors.FeatureNotSupported as e:
            print(f"psycopg: COPY skipped, the server says it is unsupported: {e}")
            return
        (n, total) = conn.execute("SELECT count(*), sum(price) FROM hits WHERE user_id = 44").fetchone()
        assert (n, total) == (2, 3.0), (n, total)
        print("psycopg: COPY FROM STDIN ok")


async def check_asyncpg_async():
    conn = await asyncpg.connect(host=HOST, port=PORT, user=USER, database=DBNAME, server_settings={"application_name": "granary-asyncpg"})
    try:
        rows = await conn.fetch(QUERY.format("$1", "$2"), 42, datetime.date(2026, 1, 1))
        assert [tuple(r) for r in rows] == [("/a", 2, 12.5)], rows
        row = await conn.fetchrow("SELECT event_id, action_type, \"context.device_type\", watch_duration, completion_rate, timestamp, date FROM user_behaviors WHERE tenant_id = $1", "t1")
        assert row["event_id"] == "e1" and row["action_type"] == "click", row
        assert list(row["context.device_type"]) == ["phone", "tv"], row
        assert row["watch_duration"] == 30 and row["completion_rate"] == 0.5, row
        assert row["timestamp"] == datetime.datetime.combine(row["date"], datetime.time(10, 0, 0, 250000)), row
        stmt = await conn.prepare("SELECT count(*) FROM hits WHERE price > $1")
        assert await stmt.fetchval(5.0) == 1
    finally:
        await conn.close()
    print("asyncpg: binary protocol, prepared statements, arrays and timestamps ok")


def check_sqlalchemy_pandas():
    engine = sqlalchemy.create_engine(f"postgresql+psycopg://{USER}@{HOST}:{PORT}/{DBNAME}", connect_args={"application_name": "granary-sqlalchemy"})
    inspector = sqlalchemy.inspect(engine)
    schema = inspector.default_schema_name
    schemas = inspector.get_schema_names()
    assert schema in schemas, (schema, schemas)
    tables = inspector.get_table_names()
    assert {"hits", "user_behaviors"} <= set(tables), tables
    assert "hits_view" in inspector.get_view_names(), inspector.get_view_names()
    columns = {c["name"]: c for c in inspector.get_columns("user_behaviors")}
    for name, kind in EXPECTED_COLUMNS.items():
        assert name in columns, (name, list(columns))
        assert type(columns[name]["type"]).__name__ == kind, (name, columns[name]["type"])
        assert columns[name]["nullable"] is False, columns[name]
    assert list(columns)[:2] == ["event_id", "tenant_id"], list(columns)
    hit_columns = [c["name"] for c in inspector.get_columns("hits")]
    assert hit_columns == ["d", "user_id", "url", "ts", "price", "ok"], hit_columns
    print("sqlalchemy: inspect() schemas, tables, views and columns ok")
    frame = pandas.read_sql(sqlalchemy.text(QUERY.format(":u", ":d")), engine, params={"u": 42, "d": datetime.date(2026, 1, 1)})
    assert list(frame.columns) == ["url", "n", "total"], frame.columns
    assert frame.to_dict("records") == [{"url": "/a", "n": 2, "total": 12.5}], frame
    whole = pandas.read_sql("SELECT * FROM hits ORDER BY d", engine)
    assert len(whole) >= 3 and list(whole.columns) == hit_columns, whole
    print("pandas: read_sql ok")


check_psycopg()
asyncio.run(check_asyncpg_async())
check_sqlalchemy_pandas()
