-- Postgres spellings that clients send, where ClickHouse accepts them too: EXTRACT, date_trunc,
-- CURRENT_DATE / CURRENT_TIMESTAMP / NOW(), ::, COALESCE, NULLIF, ILIKE, "quoted" names,
-- CASE, SUBSTRING … FROM … FOR, POSITION … IN, TRIM, IS [NOT] DISTINCT FROM, ||, CEIL/FLOOR,
-- FILTER (WHERE …). Postgres-only behaviour ClickHouse rejects is tested in Rust
-- (query/src/functions/syntax.rs). Not here: CAST(float AS Decimal), where Granary converts
-- the float's shortest text (19.99 stays 19.99) and ClickHouse truncates its binary value (19.98).

CREATE TABLE orders ("Id" UInt32, customer String, placed DateTime, amount Float64, note Nullable(String), status String) ENGINE = MergeTree ORDER BY "Id";
INSERT INTO orders VALUES (1, 'Ann', '2026-01-04 13:05:09', 19.99, 'gift', 'paid'),
    (2, 'bob', '2026-02-28 23:59:59', 5.5, NULL, 'open'),
    (3, 'ANN', '2026-03-01 00:00:00', 120, 'rush', 'paid'),
    (4, 'Carl', '2025-12-31 08:30:00', 0.49, '', 'void');

SELECT "Id", EXTRACT(YEAR FROM placed), EXTRACT(MONTH FROM placed), EXTRACT(DAY FROM placed), EXTRACT(HOUR FROM placed), EXTRACT(MINUTE FROM placed), EXTRACT(SECOND FROM placed) FROM orders ORDER BY "Id";
SELECT "Id", EXTRACT(DOW FROM placed), EXTRACT(DOY FROM placed), EXTRACT(QUARTER FROM placed), EXTRACT(WEEK FROM placed), EXTRACT(EPOCH FROM placed) FROM orders ORDER BY "Id";
SELECT "Id", date_trunc('hour', placed), date_trunc('day', placed), date_trunc('week', placed), date_trunc('month', placed), date_trunc('quarter', placed), date_trunc('year', placed) FROM orders ORDER BY "Id";
SELECT date_trunc('minute', placed) AS m, count() FROM orders GROUP BY m ORDER BY m;
SELECT CURRENT_DATE = today(), CURRENT_TIMESTAMP = now(), NOW() >= toDateTime('2026-01-01 00:00:00'), toTypeName(CURRENT_DATE), toTypeName(CURRENT_TIMESTAMP);
SELECT "Id", amount::Int32, "Id"::String, CAST("Id" AS Decimal(10, 2)), '42'::UInt8 + 1, placed::Date FROM orders ORDER BY "Id";
SELECT "Id", COALESCE(NULLIF(note, ''), 'none'), NULLIF(status, 'void'), NULLIF(note, '') FROM orders ORDER BY "Id";
SELECT "Id", customer FROM orders WHERE customer ILIKE 'ann%' ORDER BY "Id";
SELECT "Id", customer ILIKE '%B', customer NOT ILIKE 'a%', customer LIKE 'A%' FROM orders ORDER BY "Id";
SELECT "Id", CASE WHEN amount >= 100 THEN 'big' WHEN amount >= 10 THEN 'medium' ELSE 'small' END AS size, CASE status WHEN 'paid' THEN 1 WHEN 'open' THEN 0 END FROM orders ORDER BY "Id";
SELECT "Id", SUBSTRING(customer FROM 2 FOR 2), SUBSTRING(customer FROM 2), SUBSTRING(customer, 1, 1), POSITION('n' IN customer) FROM orders ORDER BY "Id";
SELECT "Id", TRIM(BOTH 'A' FROM customer), TRIM(LEADING 'A' FROM customer), TRIM(TRAILING 'N' FROM customer), TRIM('  x  ') FROM orders WHERE "Id" IN (1, 3) ORDER BY "Id";
SELECT "Id", customer || ':' || status, 'order-' || "Id"::String, note || '!' FROM orders ORDER BY "Id";
SELECT "Id", note IS DISTINCT FROM 'gift', note IS NOT DISTINCT FROM NULL, status IS DISTINCT FROM 'paid' FROM orders ORDER BY "Id";
SELECT "Id", CEIL(amount), FLOOR(amount), ROUND(amount, 1), ABS(-amount), CEILING(amount) FROM orders ORDER BY "Id";
SELECT count(*) FILTER (WHERE status = 'paid'), sum(amount) FILTER (WHERE status != 'void'), count(*) FROM orders;
SELECT lower(customer) AS c, count(*), sum(amount) FROM orders GROUP BY lower(customer) ORDER BY c;
SELECT "Id", LENGTH(customer), UPPER(customer), LOWER(customer), CHAR_LENGTH(customer), REPLACE(customer, 'n', 'N') FROM orders ORDER BY "Id";
SELECT "Id", GREATEST(amount, 10), LEAST(amount, 10), POWER(2, "Id"), SQRT(amount), LN(amount) > 0 FROM orders ORDER BY "Id";
SELECT date_trunc('day', placed) AS day, COALESCE(sum(amount), 0) FROM orders WHERE placed >= '2026-01-01' GROUP BY day ORDER BY day;

DROP TABLE orders;
