-- Scalar subqueries, subqueries in FROM, and INTERVAL arithmetic
CREATE TABLE ev (id UInt32, user String, kind String, ts DateTime, d Date, amount Float64) ENGINE = MergeTree ORDER BY id;
INSERT INTO ev VALUES (1, 'a', 'view', '2026-01-31 10:00:00', '2026-01-31', 1.5), (2, 'a', 'buy', '2026-02-01 11:30:00', '2026-02-01', 20), (3, 'b', 'view', '2026-02-15 00:00:05', '2026-02-15', 2.5), (4, 'c', 'view', '2026-03-31 23:59:59', '2026-03-31', 0.5), (5, 'b', 'buy', '2026-03-01 08:00:00', '2026-03-01', 7.25);
SELECT kind, count() * 100.0 / (SELECT count() FROM ev) AS share FROM ev GROUP BY kind ORDER BY kind;
SELECT id FROM ev WHERE amount > (SELECT avg(amount) FROM ev) ORDER BY id;
SELECT (SELECT max(id) FROM ev) + 1;
SELECT (SELECT id FROM ev WHERE id > 100);
SELECT (SELECT id FROM ev);
SELECT user, total FROM (SELECT user, sum(amount) AS total FROM ev GROUP BY user) ORDER BY total DESC, user;
SELECT count(), max(n) FROM (SELECT user, count() AS n FROM ev GROUP BY user) WHERE n > 1;
SELECT t.kind, t.c FROM (SELECT kind, count() AS c FROM ev GROUP BY kind) AS t ORDER BY t.kind;
SELECT avg(total) FROM (SELECT user, sum(amount) AS total FROM ev WHERE kind = 'view' GROUP BY user);
SELECT id, ts + INTERVAL 1 HOUR, ts - INTERVAL 2 DAY, d + INTERVAL 3 DAY, d - INTERVAL 1 WEEK FROM ev ORDER BY id;
SELECT id, d + INTERVAL 1 MONTH, ts + INTERVAL 1 MONTH, d - INTERVAL 1 YEAR, d + INTERVAL 1 QUARTER FROM ev ORDER BY id;
SELECT id FROM ev WHERE ts >= toDateTime('2026-03-01 00:00:00') - INTERVAL 30 MINUTE ORDER BY id;
SELECT count() FROM ev WHERE d BETWEEN toDate('2026-03-31') - INTERVAL 45 DAY AND toDate('2026-03-31');
-- Plain views: a named query, run by every statement that reads it
CREATE VIEW per_user AS SELECT user, count() AS n, sum(amount) AS total FROM ev GROUP BY user;
SELECT user, n, total FROM per_user ORDER BY user;
SELECT count() FROM per_user WHERE total > 1;
CREATE VIEW big_users AS SELECT user FROM per_user WHERE n > 1;
SELECT user FROM big_users ORDER BY user;
INSERT INTO ev VALUES (6, 'c', 'buy', '2026-04-01 09:00:00', '2026-04-01', 3);
SELECT user FROM big_users ORDER BY user;
CREATE OR REPLACE VIEW big_users AS SELECT user FROM per_user WHERE n > 1 AND total > 5;
SELECT user FROM big_users ORDER BY user;
CREATE VIEW per_user AS SELECT 1;
DROP VIEW big_users;
SELECT count() FROM big_users;
