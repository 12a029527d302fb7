-- ClickHouse's WITH <expression> AS <name>: a named expression usable anywhere in the query (SELECT, WHERE,
-- GROUP BY, HAVING, ORDER BY), alongside the WITH <name> AS (<subquery>) common table expressions.
-- WITH (SELECT …) AS m binds the scalar subquery's value.

CREATE TABLE t (id UInt32, d Date, x UInt32, s String) ENGINE = MergeTree ORDER BY id;
INSERT INTO t VALUES (1, '2026-11-19', 5, 'a'), (2, '2026-11-20', 12, 'b'), (3, '2026-11-20', 30, 'a'), (4, '2026-11-21', 8, 'c'), (5, '2026-11-22', 41, 'b');

WITH 10 AS n SELECT id, x FROM t WHERE x > n ORDER BY id;
WITH 10 AS n, toDate('2026-11-20') AS day SELECT id, x FROM t WHERE x > n AND d >= day ORDER BY id;
WITH 10 AS n SELECT id, x * n AS scaled FROM t ORDER BY scaled DESC;
WITH (SELECT max(x) FROM t) AS m SELECT id, x, m - x FROM t ORDER BY id;
WITH (SELECT avg(x) FROM t) AS mean SELECT s, count() FROM t WHERE x > mean GROUP BY s ORDER BY s;
WITH 'a' AS wanted SELECT count() FROM t WHERE s = wanted;
WITH x * 2 AS doubled SELECT id, doubled FROM t WHERE doubled > 20 ORDER BY id;
WITH 2 AS k SELECT s, sum(x) * k FROM t GROUP BY s HAVING sum(x) > k * 10 ORDER BY s;
WITH 10 AS n, big AS (SELECT id, x FROM t WHERE x > 10) SELECT count(), max(x) + n FROM big;
WITH big AS (SELECT id, x FROM t WHERE x > 10), 3 AS lim SELECT id FROM big ORDER BY id LIMIT 2;
WITH toDate('2026-11-20') AS day SELECT d = day, count() FROM t GROUP BY d = day ORDER BY d = day;
