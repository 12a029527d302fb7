-- Table TTL (row expiry): rows whose TTL expression is in the past are removed by OPTIMIZE TABLE ... FINAL.
-- Dates are far in the past (expired) or far in the future (kept), so the answers do not depend on today.
-- Only states after OPTIMIZE ... FINAL are checked: before it, ClickHouse may or may not have already run
-- a background TTL merge (see NOTES.md), so rows that have expired may still be visible.

-- TTL on a Date column
CREATE TABLE ttl_date (id UInt32, d Date, kind String, v Int64) ENGINE = MergeTree ORDER BY id TTL d + INTERVAL 90 DAY;
INSERT INTO ttl_date VALUES (1, '2000-01-01', 'old', 10), (2, '2100-01-01', 'new', 20), (3, '2000-06-30', 'old', 30);
INSERT INTO ttl_date VALUES (4, '2099-12-31', 'new', 40), (5, '1999-12-31', 'old', 50);
INSERT INTO ttl_date VALUES (6, '2100-06-01', 'new', 60), (7, '2001-01-01', 'old', 70), (8, '2149-01-01', 'new', 80);
-- Rows that never expire are visible whatever TTL merges have run
SELECT id, d, kind, v FROM ttl_date WHERE d > '2050-01-01' ORDER BY id;
SELECT count(), sum(v) FROM ttl_date WHERE kind = 'new';
OPTIMIZE TABLE ttl_date FINAL;
SELECT id, d, kind, v FROM ttl_date ORDER BY id;
SELECT count(), sum(v), min(d), max(d) FROM ttl_date;
SELECT kind, count() FROM ttl_date GROUP BY kind ORDER BY kind;
SELECT count() FROM ttl_date WHERE d < '2050-01-01';
-- New rows after the OPTIMIZE: expired ones go at the next OPTIMIZE ... FINAL
INSERT INTO ttl_date VALUES (9, '2000-02-02', 'old', 90), (10, '2100-02-02', 'new', 100);
OPTIMIZE TABLE ttl_date FINAL;
SELECT id, d, v FROM ttl_date ORDER BY id;
SELECT count() FROM ttl_date;

-- TTL on a DateTime column, one hour after the timestamp
CREATE TABLE ttl_ts (id UInt32, ts DateTime, v Float64) ENGINE = MergeTree ORDER BY ts TTL ts + INTERVAL 1 HOUR;
INSERT INTO ttl_ts VALUES (1, '2000-01-01 00:00:00', 0.5), (2, '2100-01-01 00:00:00', 1.5), (3, '2000-01-01 23:59:59', 2.5);
INSERT INTO ttl_ts VALUES (4, '2100-01-01 12:30:00', 3.5), (5, '2010-05-05 05:05:05', 4.5);
SELECT id, ts, v FROM ttl_ts WHERE ts >= '2100-01-01 00:00:00' ORDER BY id;
OPTIMIZE TABLE ttl_ts FINAL;
SELECT id, ts, v FROM ttl_ts ORDER BY id;
SELECT count(), sum(v) FROM ttl_ts;
SELECT toHour(ts) AS h, count() FROM ttl_ts GROUP BY h ORDER BY h;

-- TTL on toDateTime of a Date column, in hours
CREATE TABLE ttl_todt (id UInt32, d Date, v UInt32) ENGINE = MergeTree ORDER BY id TTL toDateTime(d) + INTERVAL 1 HOUR;
INSERT INTO ttl_todt VALUES (1, '2000-01-01', 1), (2, '2100-01-01', 2);
INSERT INTO ttl_todt VALUES (3, '2000-01-02', 3), (4, '2100-01-02', 4);
OPTIMIZE TABLE ttl_todt FINAL;
SELECT id, d, v FROM ttl_todt ORDER BY id;

-- TTL with MONTH / YEAR intervals
CREATE TABLE ttl_month (id UInt32, d Date, v UInt32) ENGINE = MergeTree ORDER BY id TTL d + INTERVAL 6 MONTH;
INSERT INTO ttl_month VALUES (1, '2005-03-31', 1), (2, '2100-08-31', 2), (3, '2099-01-01', 3);
OPTIMIZE TABLE ttl_month FINAL;
SELECT id, d FROM ttl_month ORDER BY id;
CREATE TABLE ttl_year (id UInt32, ts DateTime, v UInt32) ENGINE = MergeTree ORDER BY id TTL ts + INTERVAL 10 YEAR;
INSERT INTO ttl_year VALUES (1, '2001-01-01 00:00:00', 1), (2, '2090-01-01 00:00:00', 2);
INSERT INTO ttl_year VALUES (3, '1990-07-04 10:00:00', 3);
OPTIMIZE TABLE ttl_year FINAL;
SELECT id, ts FROM ttl_year ORDER BY id;

-- A table where every row has expired is empty after OPTIMIZE ... FINAL
CREATE TABLE ttl_all (id UInt32, d Date) ENGINE = MergeTree ORDER BY id TTL d + INTERVAL 1 DAY;
INSERT INTO ttl_all VALUES (1, '2000-01-01'), (2, '2000-01-02');
INSERT INTO ttl_all VALUES (3, '2001-01-01');
OPTIMIZE TABLE ttl_all FINAL;
SELECT count() FROM ttl_all;
SELECT count(), sum(id) FROM ttl_all;

-- TTL together with a partition key: expired rows go, partitions that empty out disappear from system.parts
CREATE TABLE ttl_part (id UInt32, d Date, region String) ENGINE = MergeTree PARTITION BY toYYYYMM(d) ORDER BY id TTL d + INTERVAL 30 DAY;
INSERT INTO ttl_part VALUES (1, '2000-01-05', 'eu'), (2, '2100-01-05', 'eu'), (3, '2000-01-20', 'us');
INSERT INTO ttl_part VALUES (4, '2100-01-25', 'us'), (5, '2000-02-05', 'eu'), (6, '2100-02-01', 'eu');
OPTIMIZE TABLE ttl_part FINAL;
SELECT id, d, region FROM ttl_part ORDER BY id;
SELECT toYYYYMM(d) AS m, count() FROM ttl_part GROUP BY m ORDER BY m;
-- (parts emptied by TTL may stay listed with 0 rows for a while, so only non-empty parts are counted)
SELECT partition, sum(rows) FROM system.parts WHERE table = 'ttl_part' AND active AND rows > 0 GROUP BY partition ORDER BY partition;

-- TTL on a ReplacingMergeTree: expiry and replacement both apply at OPTIMIZE ... FINAL. No key has its
-- newest row expired and an older one alive: whether that key survives depends on merge timing.
CREATE TABLE ttl_repl (id UInt32, d Date, name String) ENGINE = ReplacingMergeTree() ORDER BY id TTL d + INTERVAL 1 DAY;
INSERT INTO ttl_repl VALUES (1, '2100-01-01', 'a1'), (2, '2000-01-01', 'b1'), (3, '2000-01-01', 'c1'), (4, '2100-01-01', 'd1');
INSERT INTO ttl_repl VALUES (1, '2100-01-02', 'a2'), (2, '2100-01-02', 'b2'), (3, '2000-01-05', 'c2');
OPTIMIZE TABLE ttl_repl FINAL;
SELECT id, d, name FROM ttl_repl ORDER BY id;
