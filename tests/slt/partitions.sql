-- PARTITION BY variants (month, day, tuple, integer, string, none), how system.parts shows the
-- partition value, ALTER TABLE ... DROP PARTITION, WHERE filters across partitions, and
-- OPTIMIZE TABLE ... PARTITION ... FINAL. Part counts are only checked where they are deterministic
-- (sum(rows) per partition always is; the number of parts only right after OPTIMIZE ... FINAL).

-- PARTITION BY toYYYYMM(d)
CREATE TABLE pt_month (id UInt32, d Date, region String, amount Int64) ENGINE = MergeTree PARTITION BY toYYYYMM(d) ORDER BY id;
INSERT INTO pt_month VALUES (1, '2026-01-03', 'eu', 10), (2, '2026-01-17', 'us', 20), (3, '2026-02-01', 'eu', 30), (4, '2026-03-09', 'apac', 40);
INSERT INTO pt_month VALUES (5, '2026-02-14', 'us', 50), (6, '2026-02-28', 'apac', 60), (7, '2026-01-31', 'eu', 70);
INSERT INTO pt_month VALUES (8, '2026-03-01', 'eu', 80), (9, '2026-03-31', 'us', 90), (10, '2026-02-10', 'eu', 100), (11, '2025-12-31', 'us', 110);
SELECT partition, sum(rows) FROM system.parts WHERE table = 'pt_month' AND active GROUP BY partition ORDER BY partition;
SELECT toYYYYMM(d) AS m, count(), sum(amount) FROM pt_month GROUP BY m ORDER BY m;
SELECT id, d FROM pt_month WHERE d >= '2026-02-01' AND d < '2026-03-01' ORDER BY id;
SELECT count(), sum(amount) FROM pt_month WHERE d BETWEEN '2026-01-15' AND '2026-02-15';
SELECT id FROM pt_month WHERE toYYYYMM(d) IN (202512, 202603) ORDER BY id;
ALTER TABLE pt_month DROP PARTITION 202601;
SELECT count(), sum(amount) FROM pt_month;
SELECT id, d FROM pt_month WHERE d < '2026-02-01' ORDER BY id;
SELECT partition, sum(rows) FROM system.parts WHERE table = 'pt_month' AND active GROUP BY partition ORDER BY partition;
-- Dropping a partition that does not exist is not an error
ALTER TABLE pt_month DROP PARTITION 209901;
SELECT count() FROM pt_month;
-- Rows inserted after the drop land in a fresh partition with the same value
INSERT INTO pt_month VALUES (12, '2026-01-05', 'eu', 1000);
SELECT toYYYYMM(d) AS m, count(), sum(amount) FROM pt_month GROUP BY m ORDER BY m;
OPTIMIZE TABLE pt_month FINAL;
SELECT partition, count(), sum(rows) FROM system.parts WHERE table = 'pt_month' AND active GROUP BY partition ORDER BY partition;

-- PARTITION BY toYYYYMMDD(ts)
CREATE TABLE pt_day (id UInt32, ts DateTime, v UInt32) ENGINE = MergeTree PARTITION BY toYYYYMMDD(ts) ORDER BY ts;
INSERT INTO pt_day VALUES (1, '2026-04-01 00:00:00', 1), (2, '2026-04-01 23:59:59', 2), (3, '2026-04-02 12:00:00', 3);
INSERT INTO pt_day VALUES (4, '2026-04-02 13:30:00', 4), (5, '2026-04-03 08:15:00', 5), (6, '2026-04-01 06:00:00', 6);
SELECT partition, sum(rows) FROM system.parts WHERE table = 'pt_day' AND active GROUP BY partition ORDER BY partition;
SELECT toHour(ts) AS h, count() FROM pt_day WHERE ts >= '2026-04-02 00:00:00' GROUP BY h ORDER BY h;
ALTER TABLE pt_day DROP PARTITION 20260402;
SELECT id, ts FROM pt_day ORDER BY id;

-- PARTITION BY a tuple (region, toYYYYMM(d))
CREATE TABLE pt_tuple (id UInt32, d Date, region String, amount Int64) ENGINE = MergeTree PARTITION BY (region, toYYYYMM(d)) ORDER BY id;
INSERT INTO pt_tuple VALUES (1, '2026-01-03', 'eu', 10), (2, '2026-01-17', 'us', 20), (3, '2026-02-01', 'eu', 30);
INSERT INTO pt_tuple VALUES (4, '2026-02-09', 'us', 40), (5, '2026-01-14', 'eu', 50), (6, '2026-02-28', 'eu', 60);
SELECT partition, sum(rows) FROM system.parts WHERE table = 'pt_tuple' AND active GROUP BY partition ORDER BY partition;
SELECT region, toYYYYMM(d) AS m, count(), sum(amount) FROM pt_tuple GROUP BY region, m ORDER BY region, m;
ALTER TABLE pt_tuple DROP PARTITION ('eu', 202601);
SELECT id, region, d FROM pt_tuple ORDER BY id;
SELECT region, count() FROM pt_tuple GROUP BY region ORDER BY region;

-- PARTITION BY an integer column
CREATE TABLE pt_int (id UInt32, bucket UInt8, v Float64) ENGINE = MergeTree PARTITION BY bucket ORDER BY id;
INSERT INTO pt_int VALUES (1, 0, 0.5), (2, 1, 1.5), (3, 2, 2.5), (4, 10, 10.5);
INSERT INTO pt_int VALUES (5, 1, 1.25), (6, 2, 2.25), (7, 0, 0.25);
SELECT partition, sum(rows) FROM system.parts WHERE table = 'pt_int' AND active GROUP BY partition ORDER BY partition;
SELECT bucket, count(), sum(v) FROM pt_int WHERE bucket >= 1 GROUP BY bucket ORDER BY bucket;
ALTER TABLE pt_int DROP PARTITION 1;
ALTER TABLE pt_int DROP PARTITION 10;
SELECT id, bucket, v FROM pt_int ORDER BY id;

-- PARTITION BY a String column
CREATE TABLE pt_str (id UInt32, region String, v Int32) ENGINE = MergeTree PARTITION BY region ORDER BY id;
INSERT INTO pt_str VALUES (1, 'eu', 1), (2, 'us', 2), (3, 'apac', 3);
INSERT INTO pt_str VALUES (4, 'eu', 4), (5, 'us', 5), (6, 'eu', 6);
SELECT partition, sum(rows) FROM system.parts WHERE table = 'pt_str' AND active GROUP BY partition ORDER BY partition;
ALTER TABLE pt_str DROP PARTITION 'eu';
SELECT id, region FROM pt_str ORDER BY id;
SELECT count() FROM pt_str WHERE region LIKE '%u%';

-- PARTITION BY tuple() and no PARTITION BY: one partition, shown as tuple()
CREATE TABLE pt_unit (id UInt32, v UInt32) ENGINE = MergeTree PARTITION BY tuple() ORDER BY id;
INSERT INTO pt_unit VALUES (1, 10), (2, 20);
INSERT INTO pt_unit VALUES (3, 30);
CREATE TABLE pt_none (id UInt32, v UInt32) ENGINE = MergeTree ORDER BY id;
INSERT INTO pt_none VALUES (1, 10), (2, 20);
INSERT INTO pt_none VALUES (3, 30);
SELECT partition, sum(rows) FROM system.parts WHERE table = 'pt_unit' AND active GROUP BY partition ORDER BY partition;
SELECT partition, sum(rows) FROM system.parts WHERE table = 'pt_none' AND active GROUP BY partition ORDER BY partition;
OPTIMIZE TABLE pt_none FINAL;
SELECT partition, count(), sum(rows) FROM system.parts WHERE table = 'pt_none' AND active GROUP BY partition ORDER BY partition;
ALTER TABLE pt_unit DROP PARTITION tuple();
SELECT count() FROM pt_unit;

-- OPTIMIZE one partition: only that partition is collapsed (checked on that partition only)
CREATE TABLE pt_opt (id UInt32, d Date, name String) ENGINE = ReplacingMergeTree() PARTITION BY toYYYYMM(d) ORDER BY id;
INSERT INTO pt_opt VALUES (1, '2026-01-05', 'jan-a'), (2, '2026-02-05', 'feb-a'), (3, '2026-02-06', 'feb-b');
INSERT INTO pt_opt VALUES (1, '2026-01-05', 'jan-a2'), (2, '2026-02-05', 'feb-a2'), (4, '2026-02-07', 'feb-c');
INSERT INTO pt_opt VALUES (2, '2026-02-05', 'feb-a3'), (3, '2026-02-06', 'feb-b2');
SELECT count() FROM pt_opt FINAL;
OPTIMIZE TABLE pt_opt PARTITION 202602 FINAL;
SELECT id, name FROM pt_opt WHERE toYYYYMM(d) = 202602 ORDER BY id;
SELECT count() FROM pt_opt WHERE d >= '2026-02-01';
SELECT partition, count(), sum(rows) FROM system.parts WHERE table = 'pt_opt' AND active AND partition = '202602' GROUP BY partition ORDER BY partition;
SELECT id, name FROM pt_opt FINAL ORDER BY id;
