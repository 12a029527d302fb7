-- The example from the issue: a partitioned hits table spanning several months.

CREATE TABLE hits (d Date, user_id UInt64, url String, ts DateTime, price Float64, ok Bool) ENGINE = MergeTree PARTITION BY toYYYYMM(d) ORDER BY (d, user_id);

-- December 2025 (excluded by d >= '2026-01-01')
INSERT INTO hits VALUES ('2025-12-30', 42, '/a', '2025-12-30 08:00:00', 100, true), ('2025-12-31', 43, '/b', '2025-12-31 23:59:59', 50.5, true), ('2025-12-31', 7, '/a', '2025-12-31 12:00:00', 1, false);
-- January 2026
INSERT INTO hits VALUES ('2026-01-01', 42, '/a', '2026-01-01 00:00:00', 1.5, true), ('2026-01-03', 43, '/a', '2026-01-03 09:15:00', 2.25, true), ('2026-01-03', 42, '/b', '2026-01-03 10:30:00', 10, false), ('2026-01-05', 99, '/a', '2026-01-05 11:00:00', 1000, true), ('2026-01-20', 43, '/c', '2026-01-20 18:45:30', 0.75, true);
INSERT INTO hits VALUES ('2026-01-21', 44, '/b', '2026-01-21 07:00:00', 3, true), ('2026-01-31', 42, '/d', '2026-01-31 23:00:00', 4.5, false);
-- February 2026
INSERT INTO hits VALUES ('2026-02-01', 42, '/a', '2026-02-01 06:00:00', 2.5, true), ('2026-02-14', 43, '/b', '2026-02-14 14:14:14', 20.25, true), ('2026-02-14', 42, '/c', '2026-02-14 15:00:00', 1.25, false), ('2026-02-20', 43, '/b', '2026-02-20 09:00:00', 0.25, false), ('2026-02-28', 41, '/e', '2026-02-28 20:00:00', 9, true);
-- March 2026
INSERT INTO hits VALUES ('2026-03-01', 43, '/a', '2026-03-01 01:02:03', 0.5, true), ('2026-03-02', 42, '/b', '2026-03-02 04:05:06', 5, true), ('2026-03-10', 42, '/e', '2026-03-10 10:10:10', 7.75, false), ('2026-03-15', 43, '/c', '2026-03-15 12:00:00', 3.5, true);
INSERT INTO hits VALUES ('2026-03-20', 42, '/a', '2026-03-20 16:30:00', 8, true), ('2026-03-31', 43, '/d', '2026-03-31 23:59:59', 6.25, true), ('2026-03-31', 100, '/d', '2026-03-31 08:00:00', 2, false);

SELECT url, count(), sum(price), min(ts), max(ts), uniqExact(user_id) FROM hits WHERE d >= '2026-01-01' AND user_id IN (42, 43) GROUP BY url ORDER BY 2 DESC LIMIT 10;
SELECT url, count(), sum(price), min(ts), max(ts), uniqExact(user_id) FROM hits WHERE d >= '2026-01-01' AND user_id IN (42, 43) GROUP BY url ORDER BY 2 DESC, 1 LIMIT 10;
SELECT url, count(), sum(price), min(ts), max(ts), uniqExact(user_id) FROM hits WHERE d >= '2026-01-01' AND user_id IN (42, 43) GROUP BY url;

SELECT count(), sum(price), uniqExact(user_id), uniqExact(url) FROM hits;
SELECT toYYYYMM(d) AS m, count(), sum(price), uniqExact(user_id) FROM hits GROUP BY m ORDER BY m;
SELECT user_id, count(), countIf(ok), sum(price) FROM hits GROUP BY user_id ORDER BY user_id;
SELECT url, count() FROM hits WHERE d < '2026-01-01' GROUP BY url ORDER BY url;
SELECT url, count() AS c FROM hits WHERE ok GROUP BY url ORDER BY c DESC, url LIMIT 3;
SELECT d, user_id, url FROM hits WHERE d BETWEEN '2026-02-01' AND '2026-02-28' ORDER BY d, user_id;
SELECT user_id, url, price FROM hits WHERE price > 10 ORDER BY price DESC, user_id;
SELECT toHour(ts) AS h, count() FROM hits WHERE user_id NOT IN (42, 43) GROUP BY h ORDER BY h;
SELECT url, avg(price), min(price), max(price) FROM hits WHERE d >= '2026-01-01' AND d < '2026-04-01' AND user_id IN (42, 43) GROUP BY url ORDER BY url;
SELECT d, ts, url FROM hits ORDER BY ts DESC, user_id LIMIT 3;
SELECT count() FROM hits WHERE url LIKE '/_' AND user_id > 42 AND NOT ok;

DROP TABLE hits;
