-- DISTINCT, UNION ALL, CTEs, IN / NOT IN / EXISTS subqueries, LIMIT BY, positional GROUP BY,
-- HAVING, NULLS FIRST/LAST, count(DISTINCT).

CREATE TABLE orders (id UInt32, d Date, user String, city String, status String, amount Float64, rating Nullable(UInt8)) ENGINE = MergeTree ORDER BY id;
INSERT INTO orders VALUES (1, '2026-04-01', 'ann', 'berlin', 'paid', 20, 5), (2, '2026-04-01', 'bob', 'paris', 'paid', 35.5, NULL), (3, '2026-04-02', 'ann', 'berlin', 'refunded', 12, 2), (4, '2026-04-02', 'cat', 'berlin', 'paid', 8, 4), (5, '2026-04-02', 'dan', 'rome', 'open', 60, NULL), (6, '2026-04-03', 'bob', 'paris', 'paid', 35.5, 3), (7, '2026-04-03', 'eve', 'paris', 'paid', 14, 5), (8, '2026-04-04', 'ann', 'oslo', 'open', 9.5, NULL);
INSERT INTO orders VALUES (9, '2026-04-04', 'fay', 'rome', 'paid', 41, 4), (10, '2026-04-05', 'cat', 'berlin', 'paid', 8, 4), (11, '2026-04-05', 'gus', 'oslo', 'refunded', 77, 1), (12, '2026-04-05', 'bob', 'paris', 'paid', 5, NULL), (13, '2026-04-06', 'dan', 'rome', 'paid', 60, 3), (14, '2026-04-06', 'hal', 'oslo', 'open', 22, 2), (15, '2026-04-07', 'eve', 'paris', 'paid', 14, 5), (16, '2026-04-07', 'ann', 'berlin', 'paid', 31, 4);

CREATE TABLE archive (id UInt32, d Date, user String, city String, status String, amount Float64, rating Nullable(UInt8)) ENGINE = MergeTree ORDER BY id;
INSERT INTO archive VALUES (101, '2026-03-20', 'ann', 'berlin', 'paid', 20, 4), (102, '2026-03-21', 'ivy', 'madrid', 'paid', 50, NULL), (103, '2026-03-25', 'bob', 'paris', 'refunded', 12, 1), (104, '2026-03-28', 'ivy', 'madrid', 'paid', 50, 5);

CREATE TABLE vip (user String, since Date) ENGINE = MergeTree ORDER BY user;
INSERT INTO vip VALUES ('ann', '2025-01-01'), ('dan', '2025-06-01'), ('ivy', '2026-01-01'), ('zed', '2024-01-01');

CREATE TABLE scores (user String, best Nullable(UInt8)) ENGINE = MergeTree ORDER BY user;
INSERT INTO scores VALUES ('ann', 5), ('bob', NULL), ('cat', 4), ('x1', 2);

-- DISTINCT
SELECT DISTINCT city FROM orders;
SELECT DISTINCT city FROM orders ORDER BY city;
SELECT DISTINCT city, status FROM orders ORDER BY city, status;
SELECT DISTINCT status FROM orders ORDER BY status DESC LIMIT 2;
SELECT DISTINCT user FROM orders WHERE amount > 20 ORDER BY user;
SELECT DISTINCT rating FROM orders ORDER BY rating;
SELECT DISTINCT amount FROM orders WHERE city = 'paris' ORDER BY amount;
SELECT DISTINCT toDate(d) - 1 AS prev FROM orders WHERE id <= 4 ORDER BY prev;
SELECT count() FROM (SELECT DISTINCT user, city FROM orders);
SELECT DISTINCT city, count() AS n FROM orders GROUP BY city, status ORDER BY city, n;

-- count(DISTINCT)
SELECT count(DISTINCT user), count(DISTINCT city), count(DISTINCT rating), count(rating), count() FROM orders;
SELECT city, count(DISTINCT user) AS users, count() AS n FROM orders GROUP BY city ORDER BY city;
SELECT status, count(DISTINCT d) FROM orders GROUP BY status ORDER BY status;

-- UNION ALL
SELECT id, user FROM orders WHERE amount > 50 UNION ALL SELECT id, user FROM archive WHERE amount > 40;
SELECT user FROM orders WHERE city = 'rome' UNION ALL SELECT user FROM archive UNION ALL SELECT user FROM vip;
SELECT * FROM (SELECT id, amount FROM orders WHERE status = 'refunded' UNION ALL SELECT id, amount FROM archive WHERE status = 'refunded') ORDER BY amount DESC, id;
SELECT * FROM (SELECT user, amount FROM orders UNION ALL SELECT user, amount FROM archive) ORDER BY amount DESC, user LIMIT 3;
SELECT src, count(), sum(amount) FROM (SELECT 'now' AS src, amount FROM orders UNION ALL SELECT 'old', amount FROM archive) GROUP BY src ORDER BY src;
SELECT user, count() FROM (SELECT user FROM orders UNION ALL SELECT user FROM archive UNION ALL SELECT user FROM vip) GROUP BY user ORDER BY count() DESC, user;
SELECT count(), count(DISTINCT user) FROM (SELECT user FROM orders UNION ALL SELECT user FROM archive);
-- Column names and types come from the first branch; numeric types are widened
SELECT a, b FROM (SELECT 1 AS a, 'p' AS b UNION ALL SELECT 2 AS b, 'q' AS a) ORDER BY a;
SELECT x FROM (SELECT id AS x FROM archive UNION ALL SELECT -1 UNION ALL SELECT 2.5) ORDER BY x;
-- Granary deliberately behaves like Postgres here, so these are checked in tests/embedded.rs,
-- not against ClickHouse: ORDER BY and LIMIT after the last UNION branch apply to the whole
-- union (ClickHouse applies them to the last branch only), and a bare UNION means UNION
-- DISTINCT (ClickHouse refuses it).
SELECT id FROM orders UNION ALL SELECT id, user FROM archive;

-- WITH (common table expressions)
WITH paid AS (SELECT * FROM orders WHERE status = 'paid') SELECT user, sum(amount) AS s FROM paid GROUP BY user ORDER BY s DESC, user;
WITH per_user AS (SELECT user, sum(amount) AS total FROM orders GROUP BY user) SELECT user, total FROM per_user WHERE total > (SELECT avg(total) FROM per_user) ORDER BY user;
WITH per_city AS (SELECT city, count() AS n FROM orders GROUP BY city), big AS (SELECT city FROM per_city WHERE n >= 4) SELECT o.id, o.city FROM orders AS o WHERE o.city IN (SELECT city FROM big) AND o.amount > 30 ORDER BY o.id;
WITH a AS (SELECT user, count() AS n FROM orders GROUP BY user), b AS (SELECT n, count() AS users FROM a GROUP BY n) SELECT n, users FROM b ORDER BY n;
WITH d1 AS (SELECT user, min(d) AS first_day FROM orders GROUP BY user) SELECT x.user, y.user FROM d1 AS x JOIN d1 AS y ON x.first_day = y.first_day AND x.user < y.user ORDER BY x.user, y.user;
WITH t AS (SELECT city, sum(amount) AS s FROM orders GROUP BY city) SELECT (SELECT max(s) FROM t), (SELECT min(s) FROM t), (SELECT count() FROM t);
WITH recent AS (SELECT * FROM orders WHERE d >= '2026-04-05'), old AS (SELECT * FROM archive) SELECT user FROM recent UNION ALL SELECT user FROM old;
-- ClickHouse's `WITH <expression> AS <name>` (a named constant) is not supported: only CTEs.

-- IN / NOT IN with a subquery
SELECT id, user FROM orders WHERE user IN (SELECT user FROM vip) ORDER BY id;
SELECT id, user FROM orders WHERE user NOT IN (SELECT user FROM vip) AND status = 'paid' ORDER BY id;
SELECT user, count() FROM orders WHERE user IN (SELECT user FROM archive WHERE status = 'paid') GROUP BY user ORDER BY user;
SELECT id FROM orders WHERE (user, city) IN (SELECT user, city FROM archive) ORDER BY id;
SELECT id FROM orders WHERE amount IN (SELECT amount FROM archive) ORDER BY id;
SELECT id FROM orders WHERE id IN (SELECT id FROM archive);
SELECT id, user IN (SELECT user FROM vip) AS is_vip FROM orders WHERE id <= 6 ORDER BY id;
SELECT user IN (SELECT user FROM vip) AS is_vip, count(), sum(amount) FROM orders GROUP BY is_vip ORDER BY is_vip;
-- NULLs: NULL IN (...) is NULL; a NULL inside the subquery result is ignored
SELECT id, rating, rating IN (SELECT best FROM scores), rating NOT IN (SELECT best FROM scores) FROM orders WHERE id <= 8 ORDER BY id;
SELECT id FROM orders WHERE rating NOT IN (SELECT best FROM scores) ORDER BY id;
SELECT count() FROM orders WHERE rating IN (SELECT best FROM scores);
SELECT id FROM orders WHERE id IN (SELECT id, id FROM archive);

-- EXISTS / NOT EXISTS (uncorrelated)
SELECT count() FROM orders WHERE EXISTS (SELECT 1 FROM vip WHERE user = 'zed');
SELECT count() FROM orders WHERE NOT EXISTS (SELECT 1 FROM vip WHERE user = 'nobody');
SELECT EXISTS (SELECT 1 FROM archive WHERE amount > 100), EXISTS (SELECT 1 FROM archive WHERE amount > 40), NOT EXISTS (SELECT * FROM archive WHERE amount > 100);
SELECT id FROM orders WHERE status = 'open' AND EXISTS (SELECT 1 FROM archive WHERE status = 'refunded') ORDER BY id;

-- LIMIT n BY
SELECT city, id, amount FROM orders ORDER BY city, amount DESC, id LIMIT 2 BY city;
SELECT user, d, id FROM orders ORDER BY user, d, id LIMIT 1 BY user;
SELECT city, id FROM orders ORDER BY city, id LIMIT 2 OFFSET 1 BY city;
SELECT city, id FROM orders ORDER BY city, id LIMIT 1, 2 BY city;
SELECT city, status, id FROM orders ORDER BY city, status, id LIMIT 1 BY city, status;
SELECT city, id FROM orders ORDER BY city, id LIMIT 1 BY city LIMIT 3;
SELECT city, id FROM orders ORDER BY city DESC, id LIMIT 1 BY city LIMIT 2 OFFSET 1;

-- GROUP BY position and alias; HAVING with aggregates not in the select list
SELECT city, count() FROM orders GROUP BY 1 ORDER BY 1;
SELECT city, status, sum(amount) FROM orders GROUP BY 1, 2 ORDER BY 1, 2;
SELECT toYYYYMM(d) AS m, count() AS n FROM orders GROUP BY m ORDER BY m;
SELECT amount > 20 AS big, count() FROM orders GROUP BY big ORDER BY big;
SELECT city FROM orders GROUP BY city HAVING sum(amount) > 100 ORDER BY city;
SELECT user, count() AS n FROM orders GROUP BY user HAVING max(amount) < 30 AND count() > 1 ORDER BY user;
SELECT city, count() FROM orders GROUP BY city HAVING countIf(status = 'refunded') = 0 ORDER BY city;
SELECT count() FROM orders HAVING count() > 100;
SELECT user FROM orders GROUP BY user HAVING uniqExact(city) > 1;
SELECT user, count() FROM orders GROUP BY user HAVING min(d) >= '2026-04-04' ORDER BY user;
SELECT city, count() FROM orders GROUP BY 3;

-- ORDER BY ... NULLS FIRST / LAST (NULLs sort last by default, for ASC and DESC)
SELECT id, rating FROM orders ORDER BY rating, id;
SELECT id, rating FROM orders ORDER BY rating DESC, id;
SELECT id, rating FROM orders ORDER BY rating NULLS FIRST, id;
SELECT id, rating FROM orders ORDER BY rating DESC NULLS FIRST, id LIMIT 6;
SELECT id, rating FROM orders ORDER BY rating ASC NULLS LAST, id DESC LIMIT 5;
SELECT rating, count() FROM orders GROUP BY rating ORDER BY rating DESC NULLS FIRST;
SELECT user, best FROM scores ORDER BY best NULLS FIRST, user;
