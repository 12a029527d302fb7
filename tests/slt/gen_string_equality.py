#!/usr/bin/env python3
# Writes string_equality.sql next to this script: `s = 'text'` conditions, which Granary
# compares in the encoded granules (Part::rows_equal) without decoding strings, over every
# granule form: dictionary-coded (the first granules of a part), plain text (once the
# dictionary gives up on unique values), hexadecimal ids, texts longer than 16 bytes, and
# after an earlier condition has already dropped rows (a keep mask).
from slt_script import chunks, write_script

def row(i):
    uid = f"u{(i * 7919) % 1000}"                          # repeats: coded, then plain
    hexid = f"{(i * 0x9e3779b97f4a7c15) % (1 << 64):016x}"  # unique lowercase hex
    long = f"a-rather-long-label-{i % 5}"                   # more than 16 bytes
    return f"({i}, '{uid}', '{hexid}', '{long}', {i % 3})"

rows = [row(i) for i in range(1, 3001)]
target_hex = f"{(1234 * 0x9e3779b97f4a7c15) % (1 << 64):016x}"
queries = [
    "SELECT count(), sum(id) FROM e WHERE u = 'u42'",
    "SELECT id, u FROM e WHERE u = 'u7' ORDER BY id",
    "SELECT count() FROM e WHERE 'u999' = u",
    "SELECT count() FROM e WHERE u = 'u1000'",
    "SELECT count() FROM e WHERE u = ''",
    "SELECT count(), min(id), max(id) FROM e WHERE k = 1 AND u = 'u42'",
    f"SELECT id, h, u FROM e WHERE h = '{target_hex}'",
    f"SELECT count() FROM e WHERE k = 2 AND h = '{target_hex}'",
    "SELECT count() FROM e WHERE h = 'ABCDEF0123456789'",
    "SELECT count() FROM e WHERE h = 'abc'",
    "SELECT count(), sum(id) FROM e WHERE l = 'a-rather-long-label-3'",
    "SELECT count() FROM e WHERE l = 'a-rather-long-label-'",
    "SELECT k, count() FROM e WHERE u = 'u42' AND l = 'a-rather-long-label-2' GROUP BY k ORDER BY k",
    "SELECT u, count() FROM e WHERE u = 'u5' GROUP BY u",
]
write_script(__file__, 'string_equality.sql',
             ["String equality filters over coded, plain, hexadecimal and long-text granules: written by gen_string_equality.py."],
             "CREATE TABLE e (id UInt32, u String, h String, l String, k UInt8) ENGINE = MergeTree ORDER BY id SETTINGS index_granularity = 64",
             'e', chunks(rows, 1000), queries)
