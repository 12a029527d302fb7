-- Window aggregates over running and sliding frames, which Granary computes from the frame
-- bounds (prefix sums for sum/count/avg, a monotonic deque for min/max): sliding ROWS frames
-- on both sides of the current row, RANGE frames whose peers share a value, NULLs in the
-- aggregated column, Float and Decimal arguments, empty frames, and several partitions.

CREATE TABLE m (id UInt32, g String, k Int32, x Nullable(Int64), f Float64, d Decimal(10, 2), s String) ENGINE = MergeTree ORDER BY id;
INSERT INTO m VALUES (1, 'a', 1, 10, 0.1, 1.10, 'pear'), (2, 'a', 1, NULL, 0.2, 2.20, 'apple'), (3, 'a', 2, 30, 0.3, 3.30, 'fig'), (4, 'a', 3, NULL, 1e16, 4.40, 'kiwi'), (5, 'a', 3, 50, 1.5, 5.50, 'date'), (6, 'a', 3, -20, -0.7, 6.60, 'lime'), (7, 'a', 5, 70, 2.25, 7.70, 'plum'), (8, 'b', 1, NULL, 3.0, 8.80, 'yuzu'), (9, 'b', 1, NULL, -1e16, 9.90, 'nut'), (10, 'b', 4, 5, 0.5, 10.10, 'bean');
INSERT INTO m VALUES (11, 'b', 4, 15, 0.25, 11.20, 'corn'), (12, 'b', 6, -5, 7.75, 12.30, 'oat'), (13, 'c', 2, 100, 9.5, 13.40, 'rye'), (14, 'd', 1, NULL, 0.0, 14.50, 'rice'), (15, 'd', 2, NULL, -0.0, 15.60, 'sago');

-- Sliding ROWS frames on both sides of the current row
SELECT id, sum(x) OVER w, count(x) OVER w, count() OVER w, avg(x) OVER w, min(x) OVER w, max(x) OVER w FROM m WINDOW w AS (PARTITION BY g ORDER BY id ROWS BETWEEN 2 PRECEDING AND 1 FOLLOWING) ORDER BY id;
SELECT id, sum(f) OVER w, round(avg(f) OVER w, 6), min(f) OVER w, max(f) OVER w FROM m WINDOW w AS (ORDER BY id ROWS BETWEEN 1 PRECEDING AND 2 FOLLOWING) ORDER BY id;
SELECT id, sum(d) OVER w, avg(d) OVER w, min(d) OVER w, max(d) OVER w FROM m WINDOW w AS (PARTITION BY g ORDER BY id ROWS BETWEEN 1 FOLLOWING AND 3 FOLLOWING) ORDER BY id;
SELECT id, concat('<', min(s) OVER w, '>'), concat('<', max(s) OVER w, '>'), count() OVER w FROM m WINDOW w AS (PARTITION BY g ORDER BY id ROWS BETWEEN 3 PRECEDING AND 1 PRECEDING) ORDER BY id;
SELECT id, sum(k) OVER (ORDER BY id ROWS BETWEEN 4 PRECEDING AND 4 PRECEDING), max(k) OVER (ORDER BY id ROWS BETWEEN 0 PRECEDING AND 0 FOLLOWING) FROM m ORDER BY id;
SELECT id, sum(x) OVER (ORDER BY id ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING), min(x) OVER (ORDER BY id ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING), sum(f) OVER (ORDER BY id ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) FROM m ORDER BY id;

-- Running frames: ROWS, and the default RANGE frame where peers (equal k) share the value (a Float
-- sum over peers is exact here: the order among peers is unspecified)
SELECT id, k, sum(x) OVER (PARTITION BY g ORDER BY k), count(x) OVER (PARTITION BY g ORDER BY k), max(x) OVER (PARTITION BY g ORDER BY k), min(s) OVER (PARTITION BY g ORDER BY k) FROM m ORDER BY id;
SELECT id, k, sum(x) OVER (PARTITION BY g ORDER BY k, id ROWS UNBOUNDED PRECEDING), avg(x) OVER (PARTITION BY g ORDER BY k, id ROWS UNBOUNDED PRECEDING) FROM m ORDER BY id;
SELECT id, k, sum(k / 4) OVER (ORDER BY k), avg(k / 4) OVER (ORDER BY k), count() OVER (ORDER BY k) FROM m ORDER BY id;
SELECT id, k, sum(x) OVER (ORDER BY k DESC RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING), min(x) OVER (ORDER BY k DESC RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) FROM m ORDER BY id;
SELECT id, k, sum(x) OVER (ORDER BY k RANGE BETWEEN CURRENT ROW AND CURRENT ROW), max(f) OVER (ORDER BY k RANGE BETWEEN CURRENT ROW AND CURRENT ROW) FROM m ORDER BY id;

-- RANGE frames with offsets, with peers at both ends
SELECT id, k, sum(x) OVER (ORDER BY k RANGE BETWEEN 1 PRECEDING AND 1 FOLLOWING), count() OVER (ORDER BY k RANGE BETWEEN 1 PRECEDING AND 1 FOLLOWING), max(x) OVER (ORDER BY k RANGE BETWEEN 1 PRECEDING AND 1 FOLLOWING) FROM m ORDER BY id;
SELECT id, k, sum(x) OVER (PARTITION BY g ORDER BY k RANGE BETWEEN 2 PRECEDING AND CURRENT ROW), min(f) OVER (PARTITION BY g ORDER BY k RANGE BETWEEN 2 PRECEDING AND CURRENT ROW) FROM m ORDER BY id;

-- Partitions whose argument is all NULL
SELECT id, sum(x) OVER w, avg(x) OVER w, min(x) OVER w, count(x) OVER w FROM m WHERE g IN ('b', 'd') WINDOW w AS (PARTITION BY g ORDER BY id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) ORDER BY id;

-- Over an aggregate, and uniqExact (fed frame by frame) next to sum
SELECT g, sum(k) AS s, sum(sum(k)) OVER (ORDER BY g ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING), uniqExact(sum(k)) OVER (ORDER BY g ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) FROM m GROUP BY g ORDER BY g;

-- Float sums over sliding frames wider than 15 rows, which Granary takes from exact prefix sums:
-- ClickHouse's own additions (16 partial sums) are exact on eighths, so the answers agree. On
-- values such as tenths ClickHouse's sum of a wide frame carries its additions' rounding and
-- Granary gives the correctly rounded sum, which may differ in the last digits: not tested here.
CREATE TABLE wide (id UInt32, g UInt8, q Float64) ENGINE = MergeTree ORDER BY id;
INSERT INTO wide SELECT generate_series, generate_series % 2, (generate_series * 37 % 101) / 8 - 6 FROM generate_series(1, 300);
SELECT id, s, a FROM (SELECT id, sum(q) OVER (ORDER BY id ROWS BETWEEN 100 PRECEDING AND CURRENT ROW) AS s, avg(q) OVER (PARTITION BY g ORDER BY id ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS a FROM wide) WHERE id % 25 = 0 ORDER BY id;
SELECT id, s FROM (SELECT id, sum(q) OVER (PARTITION BY g ORDER BY id ROWS BETWEEN 40 PRECEDING AND 20 FOLLOWING) AS s FROM wide) WHERE id % 20 = 7 ORDER BY id;
SELECT count(), sum(s) FROM (SELECT sum(q) OVER (ORDER BY id ROWS BETWEEN 30 PRECEDING AND 10 PRECEDING) AS s FROM wide);
