-- Window functions: ranking, lag/lead, first/last_value, aggregates over default, ROWS and RANGE frames,
-- OVER (), windows over GROUP BY results, several windows per SELECT, named windows, top-N per group.
-- Every window whose answer depends on the order among peers (row_number, lag, lead, ntile, ROWS frames,
-- first/last_value) orders by a unique key; rank, dense_rank and RANGE frames keep the ties on purpose.

CREATE TABLE sales (id UInt32, day Date, region String, rep String, amount Int32, units UInt32, score Nullable(Int32)) ENGINE = MergeTree ORDER BY id;
INSERT INTO sales VALUES (1, '2026-05-01', 'north', 'ann', 100, 2, 7), (2, '2026-05-01', 'north', 'bob', 250, 5, NULL), (3, '2026-05-01', 'south', 'cat', 80, 1, 4), (4, '2026-05-02', 'north', 'ann', 250, 4, 9), (5, '2026-05-02', 'south', 'dan', 120, 3, NULL), (6, '2026-05-02', 'south', 'cat', 80, 2, 6), (7, '2026-05-03', 'east', 'eve', 300, 6, 8), (8, '2026-05-03', 'north', 'bob', 100, 1, 5), (9, '2026-05-03', 'south', 'dan', 200, 4, 5), (10, '2026-05-04', 'east', 'eve', 50, 1, NULL), (11, '2026-05-04', 'north', 'ann', 175, 3, 6);
INSERT INTO sales VALUES (12, '2026-05-04', 'south', 'cat', 120, 2, 7), (13, '2026-05-05', 'east', 'fay', 300, 5, 9), (14, '2026-05-05', 'north', 'bob', 60, 1, 3), (15, '2026-05-05', 'south', 'dan', 95, 2, NULL), (16, '2026-05-06', 'east', 'eve', 140, 3, 6), (17, '2026-05-06', 'north', 'ann', 100, 2, 8), (18, '2026-05-06', 'west', 'gus', 400, 8, 10), (19, '2026-05-07', 'south', 'cat', 200, 4, 4), (20, '2026-05-07', 'east', 'fay', 50, 1, 2);

-- row_number, rank, dense_rank
SELECT id, amount, row_number() OVER (ORDER BY amount DESC, id) AS rn FROM sales ORDER BY rn;
SELECT id, amount, rank() OVER (ORDER BY amount DESC) AS r, dense_rank() OVER (ORDER BY amount DESC) AS dr FROM sales ORDER BY r, id;
SELECT region, id, amount, row_number() OVER (PARTITION BY region ORDER BY amount DESC, id) AS rn FROM sales ORDER BY region, rn;
SELECT region, id, amount, rank() OVER (PARTITION BY region ORDER BY amount) AS r FROM sales ORDER BY region, r, id;
SELECT region, id, amount, dense_rank() OVER (PARTITION BY region ORDER BY amount DESC) AS dr FROM sales ORDER BY region, dr, id;
SELECT id, rep, day, row_number() OVER (PARTITION BY rep ORDER BY day, id) FROM sales ORDER BY rep, day, id;
SELECT max(rn), min(rn), count(), uniqExact(rn) FROM (SELECT row_number() OVER () AS rn FROM sales);
SELECT id, score, rank() OVER (ORDER BY score) AS r FROM sales ORDER BY r, id;
SELECT id, score, rank() OVER (ORDER BY score NULLS FIRST) AS r FROM sales ORDER BY r, id;
SELECT id, score, dense_rank() OVER (ORDER BY score DESC) AS r FROM sales ORDER BY r, id;
SELECT region, rep, amount, rank() OVER (PARTITION BY region, rep ORDER BY amount DESC) AS r FROM sales WHERE region IN ('north', 'south') ORDER BY region, rep, r, amount;

-- ntile
SELECT id, amount, ntile(4) OVER (ORDER BY amount, id) AS q FROM sales ORDER BY q, amount, id;
SELECT region, id, ntile(2) OVER (PARTITION BY region ORDER BY id) AS half FROM sales ORDER BY region, id;
SELECT q, count(), min(amount), max(amount) FROM (SELECT amount, ntile(3) OVER (ORDER BY amount DESC, id) AS q FROM sales) GROUP BY q ORDER BY q;
SELECT id, ntile(30) OVER (ORDER BY id) FROM sales WHERE id <= 4 ORDER BY id;

-- lag / lead (plain lag and lead ignore the frame) and lagInFrame / leadInFrame (frame-bound)
SELECT id, amount, lag(amount) OVER (ORDER BY id) AS prev, lead(amount) OVER (ORDER BY id) AS next FROM sales ORDER BY id;
SELECT rep, id, amount, lag(amount, 1, -1) OVER (PARTITION BY rep ORDER BY id) AS prev, lead(amount, 2) OVER (PARTITION BY rep ORDER BY id) AS next2 FROM sales ORDER BY rep, id;
SELECT rep, id, amount - lag(amount) OVER (PARTITION BY rep ORDER BY id) AS delta FROM sales ORDER BY rep, id;
SELECT id, lagInFrame(amount) OVER (ORDER BY id) AS prev, lagInFrame(amount, 2, 0) OVER (ORDER BY id) FROM sales WHERE region = 'north' ORDER BY id;
SELECT id, leadInFrame(amount) OVER (ORDER BY id) AS nxt FROM sales WHERE region = 'east' ORDER BY id;
SELECT id, leadInFrame(amount) OVER (ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS nxt, leadInFrame(amount, 1, -1) OVER (ORDER BY id ROWS BETWEEN CURRENT ROW AND 1 FOLLOWING) FROM sales WHERE region = 'east' ORDER BY id;
SELECT region, id, leadInFrame(day) OVER (PARTITION BY region ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) FROM sales WHERE region IN ('east', 'west') ORDER BY region, id;
SELECT id, score, lag(score) OVER (ORDER BY id), lead(score) OVER (ORDER BY id) FROM sales WHERE id BETWEEN 8 AND 16 ORDER BY id;
SELECT id, lag(rep, 1, 'none') OVER (ORDER BY id), lag(rep) OVER (ORDER BY id) = '', lead(day, 1) OVER (ORDER BY id) FROM sales WHERE region = 'west' OR id = 20 ORDER BY id;

-- first_value / last_value
SELECT region, id, first_value(amount) OVER (PARTITION BY region ORDER BY id) AS f, last_value(amount) OVER (PARTITION BY region ORDER BY id) AS l FROM sales ORDER BY region, id;
SELECT region, id, last_value(amount) OVER (PARTITION BY region ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS l FROM sales ORDER BY region, id;
SELECT region, id, first_value(rep) OVER (PARTITION BY region ORDER BY amount DESC, id) AS top_rep FROM sales ORDER BY region, id;
-- first_value / last_value skip NULLs (RESPECT NULLS keeps them)
SELECT id, score, first_value(score) OVER (PARTITION BY rep ORDER BY id) AS f, last_value(score) OVER (PARTITION BY rep ORDER BY id) AS l FROM sales WHERE rep IN ('ann', 'bob', 'dan') ORDER BY id;
SELECT id, first_value(score) RESPECT NULLS OVER (PARTITION BY rep ORDER BY id) AS f FROM sales WHERE rep IN ('ann', 'bob', 'dan') ORDER BY id;

-- Aggregates with the default frame: RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW, so peers (ties) share the value
SELECT id, amount, sum(amount) OVER (ORDER BY amount) AS running FROM sales ORDER BY amount, id;
SELECT id, day, sum(amount) OVER (ORDER BY day) AS running, count() OVER (ORDER BY day) AS n FROM sales ORDER BY id;
SELECT region, id, amount, sum(amount) OVER (PARTITION BY region ORDER BY amount DESC) AS s FROM sales ORDER BY region, amount DESC, id;
SELECT rep, day, sum(amount) OVER (PARTITION BY rep ORDER BY day) FROM sales ORDER BY rep, day;
SELECT id, min(amount) OVER (ORDER BY id) AS mn, max(amount) OVER (ORDER BY id) AS mx FROM sales ORDER BY id;
SELECT id, round(avg(amount) OVER (PARTITION BY region ORDER BY day), 4) FROM sales ORDER BY id;
SELECT id, sum(score) OVER (ORDER BY id), count(score) OVER (ORDER BY id), max(score) OVER (PARTITION BY rep ORDER BY id) FROM sales ORDER BY id;
SELECT id, score, sum(amount) OVER (ORDER BY score) FROM sales ORDER BY id;
SELECT id, sum(units) OVER (ORDER BY day, id) AS running_units FROM sales ORDER BY id;

-- Aggregates over the whole partition (no ORDER BY in the window)
SELECT region, id, sum(amount) OVER (PARTITION BY region) AS total, count() OVER (PARTITION BY region) AS n FROM sales ORDER BY region, id;
SELECT id, amount, round(amount / sum(amount) OVER (PARTITION BY region), 4) AS share FROM sales ORDER BY id;
SELECT id, round(amount - avg(amount) OVER (PARTITION BY region), 4) AS diff FROM sales ORDER BY id;
SELECT id, min(score) OVER (PARTITION BY region), max(score) OVER (PARTITION BY region), count(score) OVER (PARTITION BY region), sum(score) OVER (PARTITION BY region) FROM sales ORDER BY id;
SELECT id, uniqExact(rep) OVER (PARTITION BY region), countIf(amount >= 150) OVER (PARTITION BY region) FROM sales ORDER BY id;

-- OVER (): the whole result
SELECT id, amount, sum(amount) OVER () AS total, count() OVER () AS n FROM sales WHERE region = 'east' ORDER BY id;
SELECT id, round(amount * 100 / sum(amount) OVER (), 4) AS pct FROM sales ORDER BY id;
SELECT id, max(amount) OVER () - amount AS gap FROM sales ORDER BY gap, id;

-- ROWS frames
SELECT id, amount, sum(amount) OVER (ORDER BY id ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS s3 FROM sales ORDER BY id;
SELECT id, round(avg(amount) OVER (ORDER BY id ROWS BETWEEN 2 PRECEDING AND CURRENT ROW), 4) AS ma3 FROM sales ORDER BY id;
SELECT region, id, sum(amount) OVER (PARTITION BY region ORDER BY id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS s2 FROM sales ORDER BY region, id;
SELECT id, amount, sum(amount) OVER (ORDER BY amount, id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running FROM sales ORDER BY amount, id;
SELECT region, id, sum(amount) OVER (PARTITION BY region ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS total FROM sales ORDER BY region, id;
SELECT id, sum(amount) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) AS s, count() OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) AS n FROM sales ORDER BY id;
SELECT id, sum(amount) OVER (ORDER BY id ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS rest FROM sales ORDER BY id;
SELECT id, min(amount) OVER (ORDER BY id ROWS BETWEEN 3 PRECEDING AND 1 PRECEDING) FROM sales ORDER BY id;
SELECT id, max(amount) OVER (ORDER BY id ROWS 2 PRECEDING) FROM sales ORDER BY id;
-- RANGE with an offset
SELECT id, amount, count() OVER (ORDER BY amount RANGE BETWEEN 50 PRECEDING AND CURRENT ROW) AS near FROM sales ORDER BY amount, id;
SELECT id, day, sum(amount) OVER (ORDER BY day RANGE BETWEEN 1 PRECEDING AND CURRENT ROW) AS two_days FROM sales ORDER BY id;

-- Windows over an aggregated query
SELECT region, count() AS n, sum(count()) OVER () AS total, round(count() / sum(count()) OVER (), 4) AS share FROM sales GROUP BY region ORDER BY region;
SELECT region, sum(amount) AS s, rank() OVER (ORDER BY sum(amount) DESC) AS r FROM sales GROUP BY region ORDER BY r, region;
SELECT rep, sum(amount) AS s, dense_rank() OVER (ORDER BY sum(amount) DESC) AS dr, row_number() OVER (ORDER BY sum(amount) DESC, rep) AS rn FROM sales GROUP BY rep ORDER BY rn;
SELECT day, sum(amount) AS daily, sum(sum(amount)) OVER (ORDER BY day) AS cumulative FROM sales GROUP BY day ORDER BY day;
SELECT day, sum(amount) AS daily, lag(sum(amount)) OVER (ORDER BY day) AS prev_day FROM sales GROUP BY day ORDER BY day;
SELECT region, rep, sum(amount) AS s, sum(sum(amount)) OVER (PARTITION BY region) AS region_total FROM sales GROUP BY region, rep ORDER BY region, rep;
SELECT day, sum(amount) AS s, round(avg(sum(amount)) OVER (ORDER BY day ROWS BETWEEN 2 PRECEDING AND CURRENT ROW), 4) AS ma3 FROM sales GROUP BY day ORDER BY day;

-- Several windows with different partitions in one SELECT
SELECT id, row_number() OVER (PARTITION BY region ORDER BY id) AS in_region, row_number() OVER (PARTITION BY rep ORDER BY id) AS in_rep, row_number() OVER (ORDER BY id DESC) AS from_end FROM sales ORDER BY id;
SELECT id, sum(amount) OVER (PARTITION BY region) AS by_region, sum(amount) OVER (PARTITION BY day) AS by_day, sum(amount) OVER () AS all_rows FROM sales ORDER BY id;
SELECT id, rank() OVER (PARTITION BY day ORDER BY amount DESC) AS day_rank, rank() OVER (ORDER BY amount DESC) AS overall FROM sales ORDER BY id;

-- Named windows
SELECT id, rank() OVER w AS r, dense_rank() OVER w AS dr, sum(amount) OVER w AS s FROM sales WINDOW w AS (PARTITION BY region ORDER BY amount) ORDER BY id;
SELECT id, sum(amount) OVER w3, count() OVER w3 FROM sales WINDOW w3 AS (ORDER BY id ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) ORDER BY id;
SELECT id, row_number() OVER a, row_number() OVER b FROM sales WINDOW a AS (PARTITION BY region ORDER BY id), b AS (ORDER BY amount, id) ORDER BY id;

-- Windows with WHERE (filtered before the window runs)
SELECT id, row_number() OVER (ORDER BY id) AS rn, sum(amount) OVER () AS total FROM sales WHERE amount >= 200 ORDER BY id;
SELECT region, id, rank() OVER (PARTITION BY region ORDER BY amount DESC) AS r FROM sales WHERE day >= '2026-05-04' ORDER BY region, r, id;

-- Window results in an outer query: top-N per group
SELECT region, id, amount FROM (SELECT region, id, amount, row_number() OVER (PARTITION BY region ORDER BY amount DESC, id) AS rn FROM sales) WHERE rn <= 2 ORDER BY region, amount DESC, id;
SELECT region, id, amount, r FROM (SELECT region, id, amount, rank() OVER (PARTITION BY region ORDER BY amount DESC) AS r FROM sales) WHERE r <= 2 ORDER BY region, r, id;
SELECT rep, day, amount FROM (SELECT rep, day, amount, row_number() OVER (PARTITION BY rep ORDER BY day DESC, id DESC) AS rn FROM sales) WHERE rn = 1 ORDER BY rep;
SELECT count() FROM (SELECT id, amount, lag(amount) OVER (PARTITION BY rep ORDER BY id) AS prev FROM sales) WHERE amount > prev AND prev > 0;
SELECT region, id FROM sales QUALIFY row_number() OVER (PARTITION BY region ORDER BY amount DESC, id) = 1 ORDER BY region;

-- Errors
SELECT id FROM sales WHERE row_number() OVER (ORDER BY id) = 1;
SELECT id, ntile(0) OVER (ORDER BY id) FROM sales;
SELECT id, lag(amount) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM sales;
SELECT id, sum(amount) OVER undefined_w FROM sales;
