-- Aggregate functions and GROUP BY (on columns, expressions and aliases).

CREATE TABLE sales (id UInt32, d Date, ts DateTime, region String, product String, qty UInt32, price Float64, amount Int64, small UInt8, i8 Int8, f32 Float32, ok Bool) ENGINE = MergeTree PARTITION BY toYYYYMM(d) ORDER BY (region, d) SETTINGS index_granularity = 4;
INSERT INTO sales VALUES (1, '2026-02-08', '2026-02-08 05:11:17', 'apac', 'date', 7, 2.25, -47, 211, -6, 1.5, false),
    (2, '2026-03-15', '2026-03-15 10:22:34', 'us', 'cherry', 13, 0.75, 6, 222, 13, 3, true),
    (3, '2026-01-22', '2026-01-22 15:33:51', 'eu', 'banana', 19, 2.5, 59, 233, -19, 0.5, false),
    (4, '2026-02-02', '2026-02-02 20:44:08', 'apac', 'apple', 2, 1, -88, 244, 0, 2, false),
    (5, '2026-03-09', '2026-03-09 01:55:25', 'us', 'date', 8, 2.75, -35, 255, 19, 3.5, true),
    (6, '2026-01-16', '2026-01-16 06:06:42', 'eu', 'cherry', 14, 1.25, 18, 210, -13, 1, false),
    (7, '2026-02-23', '2026-02-23 11:17:59', 'eu', 'banana', 20, 3, 71, 221, 6, 2.5, true),
    (8, '2026-03-03', '2026-03-03 16:28:16', 'us', 'apple', 3, 1.5, -76, 232, 25, 0, false),
    (9, '2026-01-10', '2026-01-10 21:39:33', 'eu', 'date', 9, 3.25, -23, 243, -7, 1.5, false),
    (10, '2026-02-17', '2026-02-17 02:50:50', 'apac', 'cherry', 15, 1.75, 30, 254, 12, 3, true),
    (11, '2026-03-24', '2026-03-24 07:01:07', 'us', 'banana', 21, 3.5, 83, 209, -20, 0.5, false),
    (12, '2026-01-04', '2026-01-04 12:12:24', 'eu', 'apple', 4, 2, -64, 220, -1, 2, true);
INSERT INTO sales VALUES (13, '2026-02-11', '2026-02-11 17:23:41', 'apac', 'date', 10, 0.5, -11, 231, 18, 3.5, false),
    (14, '2026-03-18', '2026-03-18 22:34:58', 'eu', 'cherry', 16, 2.25, 42, 242, -14, 1, false),
    (15, '2026-01-25', '2026-01-25 03:45:15', 'eu', 'banana', 22, 0.75, 95, 253, 5, 2.5, true),
    (16, '2026-02-05', '2026-02-05 08:56:32', 'apac', 'apple', 5, 2.5, -52, 208, 24, 0, false),
    (17, '2026-03-12', '2026-03-12 13:07:49', 'us', 'date', 11, 1, 1, 219, -8, 1.5, true),
    (18, '2026-01-19', '2026-01-19 18:18:06', 'eu', 'cherry', 17, 2.75, 54, 230, 11, 3, false),
    (19, '2026-02-26', '2026-02-26 23:29:23', 'apac', 'banana', 23, 1.25, -93, 241, -21, 0.5, false),
    (20, '2026-03-06', '2026-03-06 04:40:40', 'us', 'apple', 6, 3, -40, 252, -2, 2, true),
    (21, '2026-01-13', '2026-01-13 09:51:57', 'eu', 'date', 12, 1.5, 13, 207, 17, 3.5, false),
    (22, '2026-02-20', '2026-02-20 14:02:14', 'apac', 'cherry', 18, 3.25, 66, 218, -15, 1, true),
    (23, '2026-03-27', '2026-03-27 19:13:31', 'us', 'banana', 1, 1.75, -81, 229, 4, 2.5, false),
    (24, '2026-01-07', '2026-01-07 00:24:48', 'eu', 'apple', 7, 3.5, -28, 240, 23, 0, false);
INSERT INTO sales VALUES (25, '2026-02-14', '2026-02-14 05:35:05', 'apac', 'date', 13, 2, 25, 251, -9, 1.5, true),
    (26, '2026-03-21', '2026-03-21 10:46:22', 'us', 'cherry', 19, 0.5, 78, 206, 10, 3, false),
    (27, '2026-01-01', '2026-01-01 15:57:39', 'eu', 'banana', 2, 2.25, -69, 217, -22, 0.5, true),
    (28, '2026-02-08', '2026-02-08 20:08:56', 'eu', 'apple', 8, 0.75, -16, 228, -3, 2, false),
    (29, '2026-03-15', '2026-03-15 01:19:13', 'us', 'date', 14, 2.5, 37, 239, 16, 3.5, false),
    (30, '2026-01-22', '2026-01-22 06:30:30', 'eu', 'cherry', 20, 1, 90, 250, -16, 1, true),
    (31, '2026-02-02', '2026-02-02 11:41:47', 'apac', 'banana', 3, 2.75, -57, 205, 3, 2.5, false),
    (32, '2026-03-09', '2026-03-09 16:52:04', 'us', 'apple', 9, 1.25, -4, 216, 22, 0, true),
    (33, '2026-01-16', '2026-01-16 21:03:21', 'eu', 'date', 15, 3, 49, 227, -10, 1.5, false),
    (34, '2026-02-23', '2026-02-23 02:14:38', 'apac', 'cherry', 21, 1.5, -98, 238, 9, 3, false),
    (35, '2026-03-03', '2026-03-03 07:25:55', 'eu', 'banana', 4, 3.25, -45, 249, -23, 0.5, true),
    (36, '2026-01-10', '2026-01-10 12:36:12', 'eu', 'apple', 10, 1.75, 8, 204, -4, 2, false);

-- Whole-table aggregates
SELECT count(), count(*), count(id), count(region) FROM sales;
SELECT sum(qty), sum(amount), sum(price), sum(small), sum(i8), sum(f32) FROM sales;
SELECT avg(qty), avg(amount), avg(price), avg(small), avg(f32) FROM sales;
SELECT min(qty), max(qty), min(amount), max(amount), min(price), max(price) FROM sales;
SELECT min(small), max(small), min(i8), max(i8), min(f32), max(f32) FROM sales;
SELECT min(region), max(region), min(product), max(product) FROM sales;
SELECT min(d), max(d), min(ts), max(ts) FROM sales;
SELECT min(ok), max(ok) FROM sales;
SELECT countIf(qty > 10), countIf(ok), countIf(region = 'eu'), countIf(price >= 2 AND amount < 0) FROM sales;
SELECT uniqExact(region), uniqExact(product), uniqExact(qty), uniqExact(d), uniqExact(ok), uniqExact(price) FROM sales;
-- sum(UInt8) does not overflow: the sum is UInt64
SELECT sum(small), max(small) + max(small) FROM sales;
-- avg of integers is Float64
SELECT avg(id), avg(i8) FROM sales;

-- Aggregates over expressions, and expressions over aggregates
SELECT sum(qty * price), sum(amount * 2), sum(qty) * 2, max(price) - min(price), count() + 1 FROM sales;
SELECT sum(qty) / count(), avg(qty) FROM sales;
SELECT sum(-amount), -sum(amount), sum(amount % 7) FROM sales;

-- Aggregates with WHERE
SELECT count(), sum(qty), min(id), max(id) FROM sales WHERE region = 'us';
SELECT count(), sum(amount), avg(price) FROM sales WHERE d >= '2026-02-01' AND d < '2026-03-01';
SELECT count(), uniqExact(product) FROM sales WHERE id BETWEEN 5 AND 20 AND NOT ok;

-- Aggregates over an empty input still return one row
SELECT count(), count(*), sum(qty), sum(price), min(qty), max(amount), uniqExact(region), countIf(ok) FROM sales WHERE id > 1000;
SELECT avg(qty) FROM sales WHERE id > 1000;
SELECT max(d), min(ts), min(region) = '' FROM sales WHERE id > 1000;

-- GROUP BY a column
SELECT region, count(), sum(qty), min(price), max(price) FROM sales GROUP BY region ORDER BY region;
SELECT product, count(), sum(amount), avg(price) FROM sales GROUP BY product ORDER BY product;
SELECT ok, count(), sum(qty) FROM sales GROUP BY ok ORDER BY ok;
SELECT region, count() FROM sales GROUP BY region;
SELECT count() FROM sales GROUP BY region;
SELECT region, uniqExact(product), countIf(ok), min(d), max(ts) FROM sales GROUP BY region ORDER BY region;
SELECT region, sum(small), avg(small), sum(i8), avg(i8) FROM sales GROUP BY region ORDER BY region;

-- GROUP BY several columns
SELECT region, product, count(), sum(qty) FROM sales GROUP BY region, product ORDER BY region, product;
SELECT product, region, max(amount) FROM sales WHERE qty > 10 GROUP BY product, region ORDER BY product, region;

-- GROUP BY expressions and aliases
SELECT toYYYYMM(d), count(), sum(qty) FROM sales GROUP BY toYYYYMM(d) ORDER BY toYYYYMM(d);
SELECT toYYYYMM(d) AS m, count(), sum(price) FROM sales GROUP BY m ORDER BY m;
SELECT qty % 3 AS r, count(), sum(qty) FROM sales GROUP BY r ORDER BY r;
SELECT id % 4 AS b, region, count() FROM sales GROUP BY b, region ORDER BY b, region;
SELECT amount > 0 AS pos, count(), sum(amount) FROM sales GROUP BY pos ORDER BY pos;
SELECT price * 4 AS p4, count() FROM sales WHERE price < 1.5 GROUP BY p4 ORDER BY p4;
SELECT region, sum(qty) * 10 AS s10, count() AS c FROM sales GROUP BY region ORDER BY region;

-- GROUP BY over an empty input returns no rows
SELECT region, count() FROM sales WHERE id > 1000 GROUP BY region;

DROP TABLE sales;
