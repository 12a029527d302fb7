#!/usr/bin/env python3
# Writes top_n.sql next to this script: ORDER BY … LIMIT over a MergeTree scan, which Granary
# answers in two passes (query/src/top_n.rs): the WHERE and sort-key columns of every row
# first, then the other columns of the chosen rows only. The table has several parts and
# small granules, ties on the first sort key, NULLs, an OFFSET, sort expressions, and ids of
# a text and a number (stored as numbers: `DECIMAL` granules) next to ids that are not.
from slt_script import chunks, write_script

def row(i):
    user = f"u{(i * 7919) % 997}"
    # Leading zeros keep some granules' ids out of the number form.
    item = f"i{(i * 31) % 500:03d}" if i % 700 < 64 else f"i{(i * 31) % 500}"
    ts = 1_790_000_000 + (i * 37) % 2000            # ties: 2000 distinct values over 5000 rows
    score = "NULL" if i % 11 == 0 else str((i * 13) % 101)
    label = f"label-{i % 7}"
    return f"({i}, '{user}', '{item}', {ts}, {score}, '{label}', {i % 4})"

rows = [row(i) for i in range(1, 5001)]
queries = [
    "SELECT * FROM t ORDER BY ts DESC, id DESC LIMIT 10",
    "SELECT * FROM t WHERE user = 'u42' ORDER BY ts DESC, id LIMIT 5",
    "SELECT id, item, label FROM t WHERE user = 'u7' ORDER BY ts, id LIMIT 3 OFFSET 2",
    "SELECT * FROM t WHERE k = 1 ORDER BY score DESC NULLS FIRST, id LIMIT 12",
    "SELECT * FROM t WHERE k = 2 ORDER BY score NULLS LAST, ts DESC, id LIMIT 7",
    "SELECT id, user, item FROM t WHERE label = 'label-3' ORDER BY ts % 100, id DESC LIMIT 8",
    "SELECT * FROM t WHERE user = 'u5' ORDER BY ts DESC, id LIMIT 1000",
    "SELECT * FROM t WHERE user = 'u996' ORDER BY id LIMIT 100 OFFSET 3",
    "SELECT item, count() FROM (SELECT * FROM t WHERE k = 3 ORDER BY ts DESC, id LIMIT 200) GROUP BY item ORDER BY count() DESC, item LIMIT 5",
    "SELECT id, item FROM t WHERE item = 'i002' ORDER BY ts, id LIMIT 4",
    "SELECT id, item FROM t WHERE item = 'i2' ORDER BY ts, id LIMIT 4",
    "SELECT min(item), max(item), min(user), max(user) FROM t",
    "SELECT * FROM t WHERE user = 'no-such-user' ORDER BY ts LIMIT 5",
]
write_script(__file__, 'top_n.sql',
             ["ORDER BY ... LIMIT over several parts with ties, NULLs, offsets and number-like ids: written by gen_top_n.py."],
             "CREATE TABLE t (id UInt32, user String, item String, ts UInt32, score Nullable(Int32), label String, k UInt8) ENGINE = MergeTree ORDER BY (k, user) SETTINGS index_granularity = 64",
             't', chunks(rows, 1250), queries)
