-- GROUP BY GROUPING SETS, ROLLUP, CUBE, and ClickHouse's WITH ROLLUP / WITH CUBE; grouping().
-- Each set groups the same rows; the results follow one another (UNION ALL). A key a set does not group by
-- shows its type's default (0, '', NULL for Nullable), as ClickHouse does unless group_by_use_nulls = 1
-- (Postgres would show NULL): Granary follows ClickHouse and has no group_by_use_nulls.
-- grouping(k1, ..., kn) has one bit per argument, the first highest, set where the row's set does not group by it.
-- Granary, like Postgres, also reads GROUP BY b, ROLLUP(c) (the sets (b, c) and (b)), which ClickHouse refuses.
-- WITH TOTALS is not tested: ClickHouse sends its totals row as a second result block.

CREATE TABLE s (a String, b UInt32, c UInt8, x UInt32, n Nullable(UInt32)) ENGINE = MergeTree ORDER BY (a, b);
INSERT INTO s VALUES ('p', 1, 7, 10, 1), ('p', 2, 7, 20, NULL), ('q', 1, 8, 30, 3), ('q', 1, 9, 40, 4), ('r', 3, 9, 50, 5);

SELECT length(a), a = 'p', b, sum(x), count() FROM s GROUP BY GROUPING SETS ((a, b), (a), ()) ORDER BY a, b, sum(x);
SELECT concat('[', a, ']'), b, sum(x) FROM s GROUP BY GROUPING SETS ((a, b), (a), ()) ORDER BY a, b, sum(x);
SELECT b, c, sum(x), grouping(b), grouping(c), grouping(b, c), grouping(c, b) FROM s GROUP BY GROUPING SETS ((b, c), (b), ()) ORDER BY b, c, sum(x);
SELECT b, c, sum(x) FROM s GROUP BY GROUPING SETS (b, c) ORDER BY b, c, sum(x);
SELECT b, c, sum(x) FROM s GROUP BY GROUPING SETS ((b), (c)) ORDER BY b, c, sum(x);
SELECT b, c, sum(x), count() FROM s GROUP BY ROLLUP(b, c) ORDER BY b, c, sum(x);
SELECT b, c, sum(x), count() FROM s GROUP BY CUBE(b, c) ORDER BY b, c, sum(x);
SELECT b, c, sum(x) FROM s GROUP BY b, c WITH ROLLUP ORDER BY b, c, sum(x);
SELECT b, c, sum(x) FROM s GROUP BY b, c WITH CUBE ORDER BY b, c, sum(x);
SELECT b, c, grouping(b, c) FROM s GROUP BY ROLLUP(b, c) ORDER BY b, c, grouping(b, c);
SELECT b, c, grouping(b, c) FROM s GROUP BY b, c ORDER BY b, c;
SELECT b, sum(x) FROM s GROUP BY GROUPING SETS ((b), ()) HAVING sum(x) > 40 ORDER BY b, sum(x);
SELECT n, count() FROM s GROUP BY ROLLUP(n) ORDER BY n, count();
SELECT b, count() FROM s WHERE x > 100 GROUP BY ROLLUP(b) ORDER BY b;
SELECT count() FROM s WHERE x > 100 GROUP BY GROUPING SETS ((), ());
SELECT b, c, avg(x), max(n), uniqExact(a) FROM s GROUP BY GROUPING SETS ((b, c), (c)) ORDER BY b, c;
SELECT b AS bb, sum(x) AS total FROM s GROUP BY ROLLUP(bb) ORDER BY bb, total;
SELECT b, toTypeName(b), sum(x) FROM s GROUP BY GROUPING SETS ((b), ()) ORDER BY b, sum(x);
SELECT b, sum(x), row_number() OVER (ORDER BY b, sum(x)) FROM s GROUP BY ROLLUP(b) ORDER BY b, sum(x);
SELECT b, sum(x) FROM s GROUP BY ROLLUP(b) ORDER BY sum(x) DESC, b LIMIT 2;
