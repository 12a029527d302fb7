-- Parametric AggregateFunction column types (quantile(0.9), quantiles(0.5, 0.9), groupArray(3)) and
-- SimpleAggregateFunction next to them in AggregatingMergeTree tables, filled by INSERT ... SELECT
-- and by a materialized view, read through -Merge with the same parameters, FINAL and OPTIMIZE.

CREATE TABLE lat (batch UInt8, route String, ms Float64, bytes UInt32, user String) ENGINE = MergeTree ORDER BY (batch, route);
INSERT INTO lat VALUES (1, 'a', 10, 100, 'u1'), (1, 'a', 20, 300, 'u2'), (1, 'a', 30, 200, 'u1'), (1, 'b', 5, 50, 'u3'), (1, 'b', 15, 70, 'u3');
INSERT INTO lat VALUES (2, 'a', 40, 400, 'u4'), (2, 'a', 50, 500, 'u2'), (2, 'b', 25, 90, 'u5'), (2, 'c', 100, 1000, 'u6');
INSERT INTO lat VALUES (3, 'a', 60, 600, 'u1'), (3, 'c', 200, 2000, 'u7'), (3, 'c', 300, 3000, 'u6');

CREATE TABLE lat_rollup (route String, p90 AggregateFunction(quantile(0.9), Float64), ps AggregateFunction(quantiles(0.5, 0.9), UInt32), users AggregateFunction(uniqExact, String), first3 AggregateFunction(groupArray(3), UInt32), total SimpleAggregateFunction(sum, UInt64), worst SimpleAggregateFunction(max, Float64)) ENGINE = AggregatingMergeTree ORDER BY route;
INSERT INTO lat_rollup SELECT route, quantileState(0.9)(ms), quantilesState(0.5, 0.9)(bytes), uniqExactState(user), groupArrayState(3)(bytes), sum(bytes), max(ms) FROM lat WHERE batch = 1 GROUP BY route;
INSERT INTO lat_rollup SELECT route, quantileState(0.9)(ms), quantilesState(0.5, 0.9)(bytes), uniqExactState(user), groupArrayState(3)(bytes), sum(bytes), max(ms) FROM lat WHERE batch = 2 GROUP BY route;
INSERT INTO lat_rollup SELECT route, quantileState(0.9)(ms), quantilesState(0.5, 0.9)(bytes), uniqExactState(user), groupArrayState(3)(bytes), sum(bytes), max(ms) FROM lat WHERE batch = 3 GROUP BY route;
SELECT toTypeName(p90), toTypeName(ps), toTypeName(first3) FROM lat_rollup LIMIT 1;

-- The same answers as aggregating the source directly
SELECT route, quantile(0.9)(ms), quantiles(0.5, 0.9)(bytes), uniqExact(user), sum(bytes), max(ms) FROM lat GROUP BY route ORDER BY route;
SELECT route, quantileMerge(0.9)(p90), quantilesMerge(0.5, 0.9)(ps), uniqExactMerge(users), sum(total), max(worst) FROM lat_rollup GROUP BY route ORDER BY route;
SELECT route, quantileMerge(0.9)(p90), quantilesMerge(0.5, 0.9)(ps), uniqExactMerge(users), length(groupArrayMerge(3)(first3)) FROM lat_rollup FINAL GROUP BY route ORDER BY route;
SELECT quantileMerge(0.9)(p90), quantilesMerge(0.5, 0.9)(ps), uniqExactMerge(users) FROM lat_rollup;
SELECT route, total, worst FROM lat_rollup FINAL ORDER BY route;
OPTIMIZE TABLE lat_rollup FINAL;
SELECT count() FROM lat_rollup;
SELECT route, quantileMerge(0.9)(p90), quantilesMerge(0.5, 0.9)(ps), uniqExactMerge(users), length(groupArrayMerge(3)(first3)), total, worst FROM lat_rollup GROUP BY route, total, worst ORDER BY route;
SELECT route, finalizeAggregation(p90), finalizeAggregation(ps) FROM lat_rollup ORDER BY route;

-- The levels of quantileMerge are the call's own: the states hold the values, not a level
SELECT quantileMerge(0.5)(p90) FROM lat_rollup;
INSERT INTO lat_rollup SELECT route, quantileState(0.5)(ms), quantilesState(0.5, 0.9)(bytes), uniqExactState(user), groupArrayState(3)(bytes), sum(bytes), max(ms) FROM lat GROUP BY route;

-- A materialized view keeps the rollup as rows arrive
CREATE TABLE hits (route String, ms Float64, n UInt32) ENGINE = MergeTree ORDER BY route;
CREATE TABLE hits_rollup (route String, p90 AggregateFunction(quantile(0.90), Float64), med AggregateFunction(quantile(0.5), UInt32), ns SimpleAggregateFunction(sum, UInt64)) ENGINE = AggregatingMergeTree ORDER BY route;
CREATE MATERIALIZED VIEW hits_mv TO hits_rollup AS SELECT route, quantileState(0.9)(ms) AS p90, quantileState(0.5)(n) AS med, sum(n) AS ns FROM hits GROUP BY route;
INSERT INTO hits VALUES ('x', 1, 1), ('x', 2, 2), ('y', 10, 10), ('x', 3, 3);
INSERT INTO hits VALUES ('x', 4, 4), ('y', 20, 20), ('y', 30, 30), ('x', 5, 5);
INSERT INTO hits VALUES ('z', 7, 7), ('x', 100, 6);
SELECT route, quantileMerge(0.9)(p90), quantileMerge(0.5)(med), sum(ns) FROM hits_rollup GROUP BY route ORDER BY route;
SELECT route, quantile(0.9)(ms), quantile(0.5)(n), sum(n) FROM hits GROUP BY route ORDER BY route;

-- A materialized view with its own AggregatingMergeTree table, created over rows already there
CREATE MATERIALIZED VIEW hits_mv2 ENGINE = AggregatingMergeTree ORDER BY route AS SELECT route, quantileState(0.9)(ms) AS p90, quantilesState(0.25, 0.75)(n) AS qs FROM hits GROUP BY route;
INSERT INTO hits VALUES ('x', 8, 8), ('y', 40, 40), ('w', 1.5, 2);
INSERT INTO hits VALUES ('x', 9, 9), ('w', 2.5, 4);
SELECT route, quantileMerge(0.9)(p90), quantilesMerge(0.25, 0.75)(qs) FROM hits_mv2 GROUP BY route ORDER BY route;
