-- ClickHouse join strictness: SEMI and ANTI (LEFT and RIGHT), ANY (first match only), ASOF (closest match).
-- A SEMI join keeps each row of its side that has a match, once, with the first match's columns; an ANTI
-- join keeps the rows without one, the other side's columns at their defaults (0, ''). ANY LEFT keeps every
-- left row with its first match; ANY INNER keeps one row per key (each right row is used once). ASOF pairs a
-- row with the match closest to it by the one inequality in ON (ASOF LEFT pads rows without one).
-- String columns filled with '' are printed as length(x), as in joins.slt.

CREATE TABLE l (k UInt32, v String) ENGINE = MergeTree ORDER BY (k, v);
INSERT INTO l VALUES (1, 'a'), (1, 'b'), (2, 'c'), (3, 'd'), (5, 'e');
CREATE TABLE r (k UInt32, w String, n UInt32) ENGINE = MergeTree ORDER BY (k, w);
INSERT INTO r VALUES (1, 'x', 10), (1, 'y', 20), (2, 'z', 30), (4, 'q', 40), (5, 'p', 50), (5, 's', 60);

-- SEMI and ANTI
SELECT l.k, l.v, r.w FROM l LEFT SEMI JOIN r ON l.k = r.k ORDER BY l.v;
SELECT l.k, l.v FROM l SEMI LEFT JOIN r ON l.k = r.k ORDER BY l.v;
SELECT l.k, l.v, r.k, length(r.w), r.n FROM l LEFT ANTI JOIN r ON l.k = r.k ORDER BY l.v;
SELECT r.k, r.w, length(l.v) > 0 FROM l RIGHT SEMI JOIN r ON l.k = r.k ORDER BY r.w;
SELECT l.k, length(l.v), r.k, r.w FROM l RIGHT ANTI JOIN r ON l.k = r.k ORDER BY r.w;
SELECT count() FROM l LEFT SEMI JOIN r ON l.k = r.k;
SELECT count() FROM l LEFT ANTI JOIN r ON l.k = r.k;
SELECT l.v, r.w FROM l LEFT SEMI JOIN r ON l.k = r.k AND r.n > 10 ORDER BY l.v;
SELECT l.v FROM l LEFT ANTI JOIN r ON l.k = r.k AND r.n > 30 ORDER BY l.v;
SELECT l.v, r.w FROM l LEFT SEMI JOIN r USING (k) ORDER BY l.v;
SELECT k, l.v FROM l LEFT ANTI JOIN r USING (k) ORDER BY l.v;
SELECT l.v FROM l LEFT SEMI JOIN r ON l.k = r.k WHERE l.v > 'a' ORDER BY l.v;

-- ANY: the first match only
SELECT l.k, l.v, length(r.w), r.n FROM l ANY LEFT JOIN r ON l.k = r.k ORDER BY l.v;
SELECT l.k, l.v, r.w = '' FROM l LEFT ANY JOIN r ON l.k = r.k ORDER BY l.v;
SELECT l.k, l.v, r.w FROM l ANY INNER JOIN r ON l.k = r.k ORDER BY l.v;
SELECT l.k, l.v, r.w FROM l ANY JOIN r ON l.k = r.k ORDER BY l.v;
SELECT l.v, r.n FROM l ANY LEFT JOIN r USING (k) ORDER BY l.v;
SELECT k, count(), sum(r.n) FROM l ANY LEFT JOIN r USING (k) GROUP BY k ORDER BY k;
SELECT r.k, r.w, length(l.v) > 0 FROM l ANY RIGHT JOIN r ON l.k = r.k ORDER BY r.w;
SELECT k, l.v, r.n FROM l ALL LEFT JOIN r USING (k) ORDER BY l.v, r.n;
SELECT l.v, r.n FROM l ANY LEFT JOIN r ON l.k = r.k AND r.n >= 20 ORDER BY l.v;

-- ASOF: the closest match by the inequality
CREATE TABLE trades (sym String, t DateTime, qty UInt32) ENGINE = MergeTree ORDER BY (sym, t);
INSERT INTO trades VALUES ('a', '2026-01-01 10:00:00', 1), ('a', '2026-01-01 10:05:00', 2), ('a', '2026-01-01 09:00:00', 3), ('b', '2026-01-01 10:00:00', 4), ('c', '2026-01-01 10:00:00', 5), ('b', '2026-01-01 11:00:00', 6);
CREATE TABLE quotes (sym String, t DateTime, px Float64) ENGINE = MergeTree ORDER BY (sym, t);
INSERT INTO quotes VALUES ('a', '2026-01-01 09:59:00', 10), ('a', '2026-01-01 10:01:00', 11), ('a', '2026-01-01 10:05:00', 12), ('b', '2026-01-01 10:30:00', 20), ('b', '2026-01-01 10:45:00', 21);

SELECT tr.sym, tr.t, tr.qty, q.t, q.px FROM trades tr ASOF JOIN quotes q ON tr.sym = q.sym AND tr.t >= q.t ORDER BY tr.sym, tr.t;
SELECT tr.sym, tr.t, tr.qty, q.t, q.px FROM trades tr ASOF LEFT JOIN quotes q ON tr.sym = q.sym AND tr.t >= q.t ORDER BY tr.sym, tr.t;
SELECT tr.sym, tr.t, q.t, q.px FROM trades tr LEFT ASOF JOIN quotes q ON tr.sym = q.sym AND tr.t > q.t ORDER BY tr.sym, tr.t;
SELECT tr.sym, tr.t, q.t, q.px FROM trades tr ASOF JOIN quotes q ON tr.sym = q.sym AND tr.t <= q.t ORDER BY tr.sym, tr.t;
SELECT tr.sym, tr.t, q.t, q.px FROM trades tr ASOF JOIN quotes q ON tr.sym = q.sym AND tr.t < q.t ORDER BY tr.sym, tr.t;
SELECT tr.sym, tr.t, q.px FROM trades tr ASOF JOIN quotes q ON q.sym = tr.sym AND q.t <= tr.t ORDER BY tr.sym, tr.t;
SELECT tr.sym, tr.t, q.px FROM trades tr ASOF JOIN quotes q USING (sym, t) ORDER BY tr.sym, tr.t;
SELECT tr.sym, tr.qty, q.px FROM trades tr ASOF JOIN quotes q ON tr.sym = q.sym AND toUInt32(tr.t) >= toUInt32(q.t) + 60 ORDER BY tr.sym, tr.t;
SELECT tr.sym, sum(tr.qty * q.px) FROM trades tr ASOF LEFT JOIN quotes q ON tr.sym = q.sym AND tr.t >= q.t GROUP BY tr.sym ORDER BY tr.sym;
SELECT tr.qty, q.px FROM trades tr ASOF JOIN quotes q ON tr.sym = q.sym AND tr.t >= q.t WHERE tr.qty > 1 ORDER BY tr.qty;
SELECT tr.sym, q.px FROM trades tr ASOF JOIN quotes q ON tr.t >= q.t ORDER BY tr.sym;
SELECT tr.sym, q.px FROM trades tr ASOF RIGHT JOIN quotes q ON tr.sym = q.sym AND tr.t >= q.t ORDER BY tr.sym;
-- ClickHouse refuses ANY FULL ("ANY FULL JOINs are not implemented") and ASOF RIGHT/FULL ("Only ASOF and
-- LEFT ASOF joins are supported"); so does Granary, with SQLSTATE 0A000.
SELECT tr.sym, q.px FROM trades tr ASOF FULL JOIN quotes q ON tr.sym = q.sym AND tr.t >= q.t ORDER BY tr.sym;
SELECT l.k, r.w FROM l ANY FULL JOIN r ON l.k = r.k ORDER BY l.k, r.w;
SELECT l.k, r.w FROM l ANY FULL OUTER JOIN r ON l.k = r.k ORDER BY l.k, r.w;
