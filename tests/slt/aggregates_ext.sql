-- Aggregates beyond count/sum/min/max/avg: any, anyLast, argMin, argMax, uniq, quantiles,
-- median, groupArray, groupUniqArray, variances and correlation, the -If combinator,
-- FILTER (WHERE …), DISTINCT, and -State/-Merge of the new functions.

CREATE TABLE obs (id UInt32, g String, x Int32, f Float64, n Nullable(Int32), d Date, tag String) ENGINE = MergeTree ORDER BY id;
INSERT INTO obs VALUES (1, 'a', 5, 1.5, 10, '2026-01-01', 'red'),
    (2, 'a', -3, 2.5, NULL, '2026-01-03', 'blue'),
    (3, 'a', 8, 4, 30, '2026-01-02', 'red'),
    (4, 'b', 1, 1, NULL, '2026-02-01', 'green'),
    (5, 'b', 1, 7.25, NULL, '2026-02-05', 'green'),
    (6, 'c', 100, -2, -5, '2025-12-31', 'blue'),
    (7, 'c', 42, 0.5, 7, '2026-03-01', 'red'),
    (8, 'c', 7, 3, 7, '2026-03-02', 'blue'),
    (9, 'c', 0, 10, 2, '2026-03-03', 'red');

-- Value pickers (one part, read in id order, so any/anyLast are deterministic)
SELECT g, any(x), anyLast(x), any(tag), anyLast(d) FROM obs GROUP BY g ORDER BY g;
SELECT g, argMin(tag, f), argMax(tag, f), argMin(id, x), argMax(d, x), argMax(id, d) FROM obs GROUP BY g ORDER BY g;
SELECT g, any(n), anyLast(n), argMax(id, n), argMin(n, id) FROM obs GROUP BY g ORDER BY g;
SELECT any(x), anyLast(x), argMin(tag, x), argMax(tag, x) FROM obs;
SELECT toTypeName(any(n)), toTypeName(argMax(tag, n)), toTypeName(argMin(x, f)), toTypeName(anyLast(d)) FROM obs;

-- uniq
SELECT uniq(g), uniq(tag), uniq(g, tag), uniqExact(g, tag), uniq(n), uniq(x % 2) FROM obs;
SELECT g, uniq(tag), uniqExact(tag, x) FROM obs GROUP BY g ORDER BY g;

-- Quantiles and median
SELECT quantile(0.5)(x), median(x), quantile(0.9)(f), quantile(0)(x), quantile(1)(x), quantile(x) FROM obs;
SELECT quantiles(0.1, 0.5, 0.9)(x), quantilesExact(0.25, 0.75)(f), quantileExact(0.5)(x), medianExact(f) FROM obs;
SELECT g, median(f), quantileExact(0.5)(x), quantile(0.25)(n), quantile(0.5)(d) FROM obs GROUP BY g ORDER BY g;
SELECT toTypeName(quantile(0.5)(x)), toTypeName(quantileExact(0.5)(x)), toTypeName(quantiles(0.5)(f)), toTypeName(median(n)), toTypeName(quantile(0.5)(d)) FROM obs;

-- groupArray / groupUniqArray
SELECT g, groupArray(x), groupArray(tag), groupArray(2)(id) FROM obs GROUP BY g ORDER BY g;
SELECT g, arraySort(groupUniqArray(tag)), length(groupUniqArray(x)), groupArray(n) FROM obs GROUP BY g ORDER BY g;
SELECT groupArray(d), arraySort(groupUniqArray(n)), toTypeName(groupArray(n)), toTypeName(groupUniqArray(tag)) FROM obs;
SELECT length(groupArray(id)), arraySort(groupArray(x)), arraySort(groupUniqArray(g)) FROM obs;

-- Variances, standard deviations, covariance, correlation
SELECT varPop(f), varSamp(f), stddevPop(f), stddevSamp(f) FROM obs;
SELECT covarPop(x, f), covarSamp(x, f), corr(x, f), corr(f, f) FROM obs;
SELECT g, varPop(x), varSamp(x), stddevSamp(f), corr(x, f) FROM obs GROUP BY g ORDER BY g;
SELECT varPop(n), stddevSamp(n), corr(n, x), toTypeName(varPop(n)), toTypeName(stddevPop(x)) FROM obs;
SELECT varSamp(f), stddevSamp(f), covarSamp(f, x) FROM obs WHERE id = 1;

-- -If combinator and FILTER
SELECT sumIf(x, f > 2), avgIf(f, x > 0), minIf(tag, g = 'c'), maxIf(x, g != 'c'), countIf(n IS NULL), uniqExactIf(tag, x > 1) FROM obs;
SELECT g, sumIf(x, tag = 'red'), nullIf(anyIf(tag, x > 5), ''), argMaxIf(id, f, tag = 'blue'), groupArrayIf(id, f > 2), quantileIf(0.5)(x, x > 0) FROM obs GROUP BY g ORDER BY g;
SELECT sumIf(n, x > 1000), avgIf(f, 0), countIf(0), uniqIf(g, 1) FROM obs;
SELECT toTypeName(sumIf(n, x > 0)), toTypeName(sumIf(x, x > 0)), toTypeName(avgIf(x, 1)) FROM obs;
SELECT count() FILTER (WHERE x > 5), sum(x) FILTER (WHERE g = 'a'), avg(f) FILTER (WHERE tag = 'red'), max(id) FILTER (WHERE n IS NOT NULL) FROM obs;
SELECT g, count(*) FILTER (WHERE tag = 'red'), uniqExact(tag) FILTER (WHERE x >= 1) FROM obs GROUP BY g ORDER BY g;

-- DISTINCT
SELECT count(DISTINCT tag), sum(DISTINCT x), avg(DISTINCT x), count(DISTINCT g, tag) FROM obs;
SELECT g, sum(DISTINCT x), count(DISTINCT n) FROM obs GROUP BY g ORDER BY g;

-- Aggregates inside expressions and HAVING
SELECT g, round(stddevPop(f), 3), if(uniq(tag) > 1, 'mixed', 'single'), coalesce(any(n), -1) FROM obs GROUP BY g ORDER BY g;
SELECT g, median(x) AS m FROM obs GROUP BY g HAVING quantile(0.5)(x) > 1 ORDER BY g;
SELECT tag, argMax(id, f) FROM obs GROUP BY tag ORDER BY argMax(id, f);

-- Empty input
SELECT any(x), nullIf(anyLast(tag), ''), nullIf(argMin(tag, x), ''), uniq(x), varPop(f), quantile(0.5)(x), groupArray(x), sumIf(x, 1) FROM obs WHERE id > 100;

-- -State / -Merge of the new functions (parametric state columns such as
-- AggregateFunction(quantile(0.5), Int32) are in aggregate_state_types.sql)
SELECT quantileMerge(0.5)(s) FROM (SELECT quantileState(0.5)(x) AS s FROM obs);
SELECT finalizeAggregation(s), toTypeName(s) FROM (SELECT quantileState(0.5)(x) AS s FROM obs);
CREATE TABLE rollup (g String, u AggregateFunction(uniq, String), a AggregateFunction(argMax, UInt32, Float64), v AggregateFunction(varSamp, Float64), ga AggregateFunction(groupArray, Int32), si AggregateFunction(sumIf, Int32, UInt8)) ENGINE = AggregatingMergeTree ORDER BY g;
INSERT INTO rollup SELECT g, uniqState(tag), argMaxState(id, f), varSampState(f), groupArrayState(x), sumIfState(x, x > 1) FROM obs WHERE id <= 5 GROUP BY g;
INSERT INTO rollup SELECT g, uniqState(tag), argMaxState(id, f), varSampState(f), groupArrayState(x), sumIfState(x, x > 1) FROM obs WHERE id > 5 GROUP BY g;
INSERT INTO rollup SELECT 'a', uniqState(tag), argMaxState(id, f), varSampState(f), groupArrayState(x), sumIfState(x, x > 1) FROM obs WHERE g = 'c';
SELECT g, uniqMerge(u), argMaxMerge(a), round(varSampMerge(v), 6), length(groupArrayMerge(ga)), sumIfMerge(si) FROM rollup GROUP BY g ORDER BY g;
SELECT uniqMerge(u), argMaxMerge(a), arraySort(groupArrayMerge(ga)), sumIfMerge(si) FROM rollup;
OPTIMIZE TABLE rollup FINAL;
SELECT g, uniqMerge(u), argMaxMerge(a), sumIfMerge(si) FROM rollup GROUP BY g ORDER BY g;

DROP TABLE rollup;
DROP TABLE obs;
