-- PostgreSQL-style syntax that ClickHouse also accepts: double-quoted identifiers, x::T casts,
-- NULLS FIRST/LAST, LIMIT ... OFFSET, OFFSET ... FETCH, COALESCE, CASE, date_trunc, EXTRACT.

CREATE TABLE "Orders" ("Id" UInt32, "user name" String, ts DateTime, amount Nullable(Float64), note Nullable(String)) ENGINE = MergeTree ORDER BY "Id";
INSERT INTO "Orders" VALUES (1, 'ann', '2026-03-01 10:15:30', 12.5, 'a'), (2, 'bob', '2026-03-01 23:59:59', NULL, NULL), (3, 'cat', '2026-03-02 00:00:00', 7, 'c'), (4, 'ann', '2026-04-15 08:05:00', NULL, 'd'), (5, 'dan', '2026-05-31 18:45:10', 30, NULL), (6, 'eve', '2026-05-31 18:45:10', 7, 'f');

-- Double-quoted identifiers are case-sensitive and may contain spaces
SELECT "Id", "user name" FROM "Orders" ORDER BY "Id";
SELECT t."Id", t."user name" FROM "Orders" AS t WHERE t."user name" = 'ann' ORDER BY t."Id" DESC;
SELECT "Id" AS "Big Id", "Id" + 1 AS "next" FROM "Orders" ORDER BY "Big Id" DESC LIMIT 3;
SELECT id FROM "Orders";
SELECT "user name", count(*) AS "N" FROM "Orders" GROUP BY "user name" ORDER BY "N" DESC, "user name";

-- :: casts
SELECT "Id"::Int64 * -1, '42'::Int32 + 1, '2026-01-02'::Date + 1, ts::Date FROM "Orders" WHERE "Id" <= 2 ORDER BY "Id";
SELECT "Id"::String = '3', toTypeName("Id"::Int64), toTypeName('1.5'::Float64) FROM "Orders" WHERE "Id" = 3;
SELECT CAST("Id" AS BIGINT), CAST("Id" AS TEXT) = '2', CAST(3.7 AS INTEGER), CAST(-3.7 AS INTEGER) FROM "Orders" WHERE "Id" = 2;
-- ClickHouse reads a literal before :: as text and refuses `3.7::Int32`; Granary converts the
-- number as CAST does (Postgres would round to 4), so that case is not checked here.
-- ClickHouse refuses to cast a NULL to a non-Nullable type; Granary, like Postgres, keeps the
-- NULL (the result is Nullable), so that case is not checked here.

-- ORDER BY ... NULLS FIRST / NULLS LAST
SELECT "Id", amount FROM "Orders" ORDER BY amount NULLS LAST, "Id";
SELECT "Id", amount FROM "Orders" ORDER BY amount NULLS FIRST, "Id";
SELECT "Id", amount FROM "Orders" ORDER BY amount DESC NULLS LAST, "Id";
SELECT "Id", note FROM "Orders" ORDER BY note DESC NULLS FIRST, "Id";

-- LIMIT ... OFFSET and OFFSET ... FETCH
SELECT "Id" FROM "Orders" ORDER BY "Id" LIMIT 2 OFFSET 1;
SELECT "Id" FROM "Orders" ORDER BY "Id" LIMIT 10 OFFSET 4;
SELECT "Id" FROM "Orders" ORDER BY "Id" OFFSET 1 ROWS FETCH FIRST 2 ROWS ONLY;
SELECT "Id" FROM "Orders" ORDER BY "Id" DESC OFFSET 2 ROW FETCH NEXT 1 ROW ONLY;
SELECT "Id" FROM "Orders" ORDER BY "Id" FETCH FIRST 3 ROWS ONLY;
SELECT "Id" FROM "Orders" ORDER BY "Id" OFFSET 4 ROWS;
SELECT "Id", amount FROM (SELECT "Id", amount FROM "Orders" ORDER BY amount OFFSET 0 ROWS FETCH FIRST 1 ROWS WITH TIES) ORDER BY "Id";
-- `LIMIT ALL` (no limit) is accepted as in Postgres; ClickHouse refuses it, so it is not checked here.

-- COALESCE, NULLIF, CASE, GREATEST / LEAST
SELECT "Id", COALESCE(amount, 0), COALESCE(note, 'none'), COALESCE(NULL, amount, -1) FROM "Orders" ORDER BY "Id";
SELECT "Id", NULLIF("user name", 'ann'), GREATEST("Id", 3), LEAST("Id", 3) FROM "Orders" ORDER BY "Id";
SELECT "Id", CASE WHEN amount IS NULL THEN 'missing' WHEN amount > 10 THEN 'big' ELSE 'small' END AS size FROM "Orders" ORDER BY "Id";
SELECT sum(COALESCE(amount, 0)), count(amount), count(*) FROM "Orders";

-- date_trunc: 'day' and 'hour' keep DateTime, 'week' (Monday), 'month' and 'year' give a Date
SELECT "Id", date_trunc('day', ts), date_trunc('hour', ts), date_trunc('minute', ts) FROM "Orders" ORDER BY "Id";
SELECT "Id", date_trunc('week', ts), date_trunc('month', ts), date_trunc('quarter', ts), date_trunc('year', ts) FROM "Orders" ORDER BY "Id";
SELECT date_trunc('day', ts) AS day, count(*) FROM "Orders" GROUP BY day ORDER BY day;
SELECT date_trunc('month', ts) AS m, sum(amount) FROM "Orders" GROUP BY m ORDER BY m;

-- EXTRACT
SELECT "Id", EXTRACT(HOUR FROM ts), EXTRACT(MINUTE FROM ts), EXTRACT(SECOND FROM ts) FROM "Orders" ORDER BY "Id";
SELECT "Id", EXTRACT(YEAR FROM ts), EXTRACT(MONTH FROM ts), EXTRACT(DAY FROM ts) FROM "Orders" ORDER BY "Id";
SELECT EXTRACT(HOUR FROM ts) AS h, count(*) FROM "Orders" GROUP BY h ORDER BY h;

-- Other standard spellings: <>, TIMESTAMP / DATE literals, INTERVAL '1 day', ROUND (floats round half to even)
SELECT "Id" FROM "Orders" WHERE "Id" <> 2 AND "Id" != 3 AND ts >= TIMESTAMP '2026-03-01 12:00:00' AND ts < DATE '2026-05-01' ORDER BY "Id";
SELECT "Id", ts + INTERVAL '1 day' FROM "Orders" WHERE "Id" IN (1, 5) ORDER BY "Id";
SELECT ROUND(amount), ROUND(amount, 1) FROM "Orders" ORDER BY "Id";
SELECT ROUND(0.5), ROUND(1.5), ROUND(2.5), ROUND(-2.5), ROUND(0.125, 2), ROUND(0.375, 2);
