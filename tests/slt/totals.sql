-- GROUP BY … WITH TOTALS: ClickHouse sends the totals row (the aggregates over every row, each key at
-- its type's default) as a separate block after the result; Granary sends it as the last row.

CREATE TABLE t (id UInt32, k String, g UInt8, n Nullable(UInt8), x Float64, d Date) ENGINE = MergeTree ORDER BY id;
INSERT INTO t VALUES (1, 'a', 1, 1, 10, '2026-01-01'), (2, 'a', 2, NULL, 30, '2026-01-02'), (3, 'b', 1, 1, 5, '2026-01-02'), (4, 'b', 1, 2, 7, '2026-01-03'), (5, 'c', 2, NULL, 12, '2026-01-03'), (6, 'c', 3, 3, 1.5, '2026-01-05');

SELECT g, count() FROM t GROUP BY g WITH TOTALS ORDER BY g;
SELECT g, count(), sum(x), avg(x), min(x), max(id) FROM t GROUP BY g WITH TOTALS ORDER BY g;
SELECT g, count() AS c FROM t GROUP BY g WITH TOTALS ORDER BY c DESC, g;
SELECT nullIf(k, '') AS key, g, count(), sum(id) FROM t GROUP BY k, g WITH TOTALS ORDER BY k, g;
SELECT d, count(), uniqExact(k) FROM t GROUP BY d WITH TOTALS ORDER BY d;
SELECT n, count(), sum(n) FROM t GROUP BY n WITH TOTALS ORDER BY n;
SELECT g + 1 AS h, count() * 2, sum(x) / count() FROM t GROUP BY g WITH TOTALS ORDER BY h;
SELECT g, countIf(x > 6), count(DISTINCT k), max(k) FROM t GROUP BY g WITH TOTALS ORDER BY g;
SELECT g, sum(n), count(n), min(n) FROM t GROUP BY g WITH TOTALS ORDER BY g;
-- LIMIT and OFFSET leave the totals row alone, which is over every group.
SELECT g, count() FROM t GROUP BY g WITH TOTALS ORDER BY g LIMIT 1;
SELECT g, count() FROM t GROUP BY g WITH TOTALS ORDER BY g LIMIT 1 OFFSET 1;
-- WHERE filters the rows of the groups and of the totals alike.
SELECT g, count(), sum(x) FROM t WHERE id > 2 GROUP BY g WITH TOTALS ORDER BY g;
-- No rows: no groups, and a totals row over no rows.
SELECT g, count(), sum(x) FROM t WHERE id > 100 GROUP BY g WITH TOTALS ORDER BY g;
-- Over a subquery.
SELECT g, count() FROM (SELECT g FROM t WHERE x > 5) GROUP BY g WITH TOTALS ORDER BY g;
