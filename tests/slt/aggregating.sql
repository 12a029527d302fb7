-- AggregatingMergeTree: AggregateFunction and SimpleAggregateFunction columns, observed through *Merge, FINAL and OPTIMIZE.

-- AggregatingMergeTree with AggregateFunction columns filled by INSERT ... SELECT ...State()
CREATE TABLE am_src (batch UInt8, k String, x UInt64, s String, f Float64) ENGINE = MergeTree ORDER BY (batch, k);
INSERT INTO am_src VALUES (1, 'a', 10, 'u1', 0.5), (1, 'a', 20, 'u2', 1.5), (1, 'b', 5, 'u1', 2), (1, 'c', 1, 'u3', 4);
INSERT INTO am_src VALUES (2, 'a', 30, 'u1', 2.5), (2, 'b', 7, 'u4', 1), (2, 'b', 8, 'u4', 0.25), (2, 'd', 100, 'u5', 8);
INSERT INTO am_src VALUES (3, 'a', 1, 'u9', 0.5), (3, 'c', 2, 'u3', 1), (3, 'd', 3, 'u6', 2.5);
CREATE TABLE am (k String, xs AggregateFunction(sum, UInt64), us AggregateFunction(uniqExact, String), fa AggregateFunction(avg, Float64), c AggregateFunction(count)) ENGINE = AggregatingMergeTree ORDER BY k;
INSERT INTO am SELECT k, sumState(x), uniqExactState(s), avgState(f), countState() FROM am_src WHERE batch = 1 GROUP BY k;
INSERT INTO am SELECT k, sumState(x), uniqExactState(s), avgState(f), countState() FROM am_src WHERE batch = 2 GROUP BY k;
INSERT INTO am SELECT k, sumState(x), uniqExactState(s), avgState(f), countState() FROM am_src WHERE batch = 3 GROUP BY k;
-- The same answers as aggregating the source directly
SELECT k, sum(x), uniqExact(s), avg(f), count() FROM am_src GROUP BY k ORDER BY k;
SELECT k, sumMerge(xs), uniqExactMerge(us), avgMerge(fa), countMerge(c) FROM am GROUP BY k ORDER BY k;
SELECT k, sumMerge(xs), uniqExactMerge(us), avgMerge(fa), countMerge(c) FROM am FINAL GROUP BY k ORDER BY k;
SELECT sumMerge(xs), uniqExactMerge(us), avgMerge(fa), countMerge(c) FROM am;
SELECT count() FROM am FINAL;
SELECT k FROM am FINAL ORDER BY k;
OPTIMIZE TABLE am FINAL;
SELECT count() FROM am;
SELECT k, sumMerge(xs), uniqExactMerge(us), avgMerge(fa), countMerge(c) FROM am GROUP BY k ORDER BY k;
SELECT k, sumMerge(xs), countMerge(c) FROM am WHERE k IN ('a', 'd') GROUP BY k ORDER BY k;

-- SimpleAggregateFunction columns hold plain values and are combined on merge
CREATE TABLE am_simple (k String, total SimpleAggregateFunction(sum, UInt64), peak SimpleAggregateFunction(max, Float64), low SimpleAggregateFunction(min, Int32)) ENGINE = AggregatingMergeTree ORDER BY k;
INSERT INTO am_simple VALUES ('a', 1, 1.5, -3), ('b', 2, 0.5, 4), ('c', 7, 7, 7);
INSERT INTO am_simple VALUES ('a', 10, 0.5, 3), ('b', 20, 2.5, -4);
INSERT INTO am_simple VALUES ('a', 100, 9.75, 0), ('d', 5, -1, -1);
SELECT k, sum(total), max(peak), min(low) FROM am_simple GROUP BY k ORDER BY k;
SELECT k, total, peak, low FROM am_simple FINAL ORDER BY k;
SELECT count() FROM am_simple FINAL;
OPTIMIZE TABLE am_simple FINAL;
SELECT k, total, peak, low FROM am_simple ORDER BY k;
SELECT count() FROM am_simple;
