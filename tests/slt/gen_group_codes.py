#!/usr/bin/env python3
# Writes group_codes.sql next to this script: GROUP BY over string columns that Granary's
# parts store dictionary-coded, so that grouping runs on the codes (prewhere::ScanBlock).
# Four INSERTs make four parts whose dictionaries differ (other values, other orders); the
# third one's `city` has too many values for a dictionary, so its later granules are plain
# text and the same query meets coded and plain blocks.
from slt_script import write_script

cities_a = ['Hangzhou', 'Beijing', 'Shanghai', 'Guangzhou', 'Suzhou']
cities_b = ['Suzhou', 'Wuhan', 'Hangzhou', 'Chengdu']
devs_a = ['ios', 'android', 'web']
devs_b = ['web', 'harmony', 'ios']

def row(i, city, dev):
    ns = 'NULL' if i % 7 == 0 else f"'{['red', 'blue', 'green'][i % 3]}'"
    return f"({i}, '{city}', '{dev}', {i % 4}, {ns}, {(i * 37) % 101 - 50})"

inserts = [
    [row(i, cities_a[(i * 7) % 5], devs_a[i % 3]) for i in range(1, 201)],
    [row(i, cities_b[(i * 3) % 4], devs_b[(i // 5) % 3]) for i in range(201, 401)],
    [row(i, f"city{(i * 13) % 150}" if i >= 440 else cities_a[i % 5], devs_a[(i // 2) % 3]) for i in range(401, 601)],
    [row(i, cities_b[i % 2], 'ios') for i in range(601, 611)],
]

queries = [
    "SELECT city, count(), sum(x) FROM g GROUP BY city ORDER BY city",
    "SELECT city, dev, count(), sum(x) FROM g GROUP BY city, dev ORDER BY city, dev",
    "SELECT dev, city, n, count(), min(id) FROM g GROUP BY dev, city, n ORDER BY dev, city, n",
    "SELECT city, dev, n, id % 3 AS r, count() FROM g GROUP BY city, dev, n, r ORDER BY city, dev, n, r",
    "SELECT dev, city, x, count() FROM g GROUP BY dev, city, x ORDER BY dev, city, x LIMIT 20",
    "SELECT city, dev, ns, count() FROM g GROUP BY city, dev, ns ORDER BY city, dev, ns",
    "SELECT city, count() FROM g WHERE dev = 'ios' GROUP BY city ORDER BY city",
    "SELECT city, dev, count() FROM g WHERE city LIKE '%zhou%' AND dev != 'web' GROUP BY city, dev ORDER BY city, dev",
    "SELECT city, uniqExact(city), min(city), max(dev), count() FROM g GROUP BY city ORDER BY city",
    "SELECT city, count() AS c FROM g GROUP BY city HAVING c > 40 ORDER BY city",
    "SELECT concat('[', city, ']'), concat('[', dev, ']'), count() FROM g WHERE n < 3 GROUP BY city, dev WITH ROLLUP ORDER BY city, dev, count()",
    "SELECT count(), sum(x) FROM g WHERE city = 'Suzhou' AND dev != ''",
    "SELECT lower(city) AS lc, city, count() FROM g GROUP BY lc, city ORDER BY lc, city",
    "SELECT city, count() AS c FROM g GROUP BY city ORDER BY c DESC, city LIMIT 3",
    "SELECT dev, count(), uniqExact(city) FROM g GROUP BY dev ORDER BY dev SETTINGS max_threads = 1",
    "SELECT length(city) AS l, count() FROM (SELECT city, dev, count() AS c FROM g GROUP BY city, dev) GROUP BY l ORDER BY l",
]

write_script(__file__, 'group_codes.sql',
             ["GROUP BY on string columns stored dictionary-coded: written by gen_group_codes.py.",
              "Parts with different dictionaries, and a part whose later granules are plain text."],
             "CREATE TABLE g (id UInt32, city String, dev String, n UInt16, ns Nullable(String), x Int64) ENGINE = MergeTree ORDER BY id SETTINGS index_granularity = 16",
             'g', inserts, queries)
