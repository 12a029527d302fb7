-- Conditionals and NULL handling (if, multiIf, CASE, coalesce, ifNull, nullIf, isNull,
-- assumeNotNull, greatest/least) and math and conversions (round, floor, ceil, trunc, abs,
-- intDiv, modulo, exp, log, sqrt, pow, sign, CAST, toInt*, toFloat*, toDecimal*, OrZero/OrNull).

CREATE TABLE m (id UInt32, x Int32, y Nullable(Int32), f Float64, u UInt8, s String, ns Nullable(String), dec Decimal(10, 3)) ENGINE = MergeTree ORDER BY id;
INSERT INTO m VALUES (1, -7, 2, 2.5, 200, '12', 'a', 1.005),
    (2, 0, NULL, -2.5, 0, 'x1', NULL, -12.345),
    (3, 15, -4, 1234.5678, 7, '-3', 'c', 0.5),
    (4, 1350, 0, 0.125, 255, '300', NULL, 999.999),
    (5, -1250, NULL, -0.0001, 1, '', '', 2.675);

-- if / multiIf / CASE
SELECT id, if(x > 0, 'pos', 'non-pos'), if(x > 0, x, f), if(y > 0, 1, 0), if(x = 0, NULL, x) FROM m ORDER BY id;
SELECT id, multiIf(x < 0, 'neg', x = 0, 'zero', x < 100, 'small', 'big'), multiIf(y IS NULL, -1, y) FROM m ORDER BY id;
SELECT id, CASE WHEN x < 0 THEN 'neg' WHEN x = 0 THEN 'zero' ELSE 'pos' END, CASE WHEN y > 0 THEN y END FROM m ORDER BY id;
SELECT id, CASE id WHEN 1 THEN 'one' WHEN 2 THEN 'two' ELSE 'many' END, CASE ns WHEN 'a' THEN 1 WHEN 'c' THEN 3 ELSE 0 END FROM m ORDER BY id;
SELECT toTypeName(if(x > 0, x, f)), toTypeName(if(x > 0, 'a', NULL)), toTypeName(multiIf(x > 0, u, x < 0, x, 0)), toTypeName(CASE WHEN x > 0 THEN 'a' END) FROM m LIMIT 1;
SELECT if(1, 1, -1), if(0, 1, -1), if(NULL, 1, 2), multiIf(0, 'a', NULL, 'b', 'c');
SELECT sum(if(x > 0, 1, 0)), countIf(x > 0), sum(CASE WHEN y IS NULL THEN 1 ELSE 0 END) FROM m;

-- NULL functions
SELECT id, coalesce(y, 0), concat('<', coalesce(ns, s, 'none'), '>'), ifNull(y, -1), concat('<', ifNull(ns, '?'), '>') FROM m ORDER BY id;
SELECT id, nullIf(x, 0), nullIf(s, ''), isNull(y), isNotNull(ns), assumeNotNull(y), y IS NULL FROM m ORDER BY id;
SELECT toTypeName(coalesce(y, 0)), toTypeName(coalesce(y, y)), toTypeName(ifNull(ns, '?')), toTypeName(nullIf(x, 0)), toTypeName(assumeNotNull(y)), toTypeName(isNull(y)) FROM m LIMIT 1;
SELECT coalesce(NULL, NULL, 3), coalesce(NULL, 'a'), ifNull(NULL, 5), nullIf(1, 1), nullIf(1, 2), isNull(NULL), toNullable(1) + 1;
SELECT id, greatest(x, y), least(x, y), greatest(x, u, 10), least(f, x) FROM m ORDER BY id;
SELECT greatest(1, 2.5), least(1, -1), greatest('a', 'b'), least(toDate('2026-01-01'), toDate('2025-01-01')), greatest(1, NULL), toTypeName(greatest(toUInt8(1), toInt8(-1)));
SELECT id, x IS DISTINCT FROM y, x IS NOT DISTINCT FROM y, y IS DISTINCT FROM NULL FROM m ORDER BY id;

-- Rounding
SELECT id, round(f), round(f, 1), round(f, 2), round(f, -2), floor(f), ceil(f), trunc(f) FROM m ORDER BY id;
SELECT id, round(x, -1), round(x, -2), floor(x, -1), ceil(x, -1), trunc(x, -2), round(u, -1) FROM m ORDER BY id;
SELECT id, round(dec, 2), round(dec), floor(dec, 1), ceil(dec, 1), trunc(dec, 2) FROM m ORDER BY id;
SELECT round(2.5), round(3.5), round(-2.5), round(0.125, 2), round(1.005, 2), round(1234.5678, -2), ceiling(1.2), truncate(-1.7);
SELECT toTypeName(round(f)), toTypeName(round(x)), toTypeName(floor(u, -1)), toTypeName(round(dec, 1)), toTypeName(ceil(toFloat32(1.5))) FROM m LIMIT 1;
SELECT id, round(y / 3, 2), floor(y / 3) FROM m ORDER BY id;

-- Arithmetic functions
SELECT id, abs(x), abs(f), abs(y), sign(x), sign(f), sign(u) FROM m ORDER BY id;
SELECT id, intDiv(x, 3), intDiv(x, -4), intDiv(u, 7), modulo(x, 3), x % 4, intDiv(f, 1) FROM m ORDER BY id;
SELECT toTypeName(abs(x)), toTypeName(intDiv(x, 3)), toTypeName(intDiv(u, 7)), toTypeName(intDiv(f, 2)), toTypeName(modulo(x, 3)), toTypeName(sign(x)) FROM m LIMIT 1;
SELECT intDiv(x, 0) FROM m;
SELECT intDiv(7, 0);
SELECT id, intDiv(x, y) FROM m WHERE y IS NULL OR y != 0 ORDER BY id;
SELECT exp(0), exp(1), log(1), ln(exp(2)), log2(8), log10(1000), sqrt(2), sqrt(16), pow(2, 10), power(2, 0.5), cbrt(27);
SELECT id, sqrt(u), log10(u), exp(x / 1000), pow(f, 2) FROM m ORDER BY id;
SELECT sqrt(-1), log(0), log(-1), 1 / 0, -1 / 0, intDiv(-7, 2), intDiv(7.9, 2);

-- Conversions
SELECT id, CAST(x AS String), CAST(f AS Int32), CAST(u AS Int8), x::Float64, f::UInt8 FROM m ORDER BY id;
SELECT id, toInt8(x), toUInt16(x), toInt64(f), toUInt32(u), toFloat32(f), toFloat64(x) FROM m ORDER BY id;
SELECT toInt32('42'), toUInt8('300'), toInt16(-1.9), toUInt8(-1), toFloat64('2.5'), toString(toFloat32(0.1)), CAST('2026-01-07' AS Date), CAST(1.5 AS Decimal(10, 2));
SELECT id, toInt32OrZero(s), toInt32OrNull(s), toFloat64OrZero(s), toUInt8OrNull(ns) FROM m ORDER BY id;
SELECT id, toDecimal32(f, 2), toDecimal64(x, 3), toDecimal32(s, 1) FROM m WHERE id IN (1, 3) ORDER BY id;
SELECT toTypeName(toDecimal32(1.5, 2)), toTypeName(toDecimal64(1, 4)), toTypeName(toInt32OrNull(s)), toTypeName(toFloat64OrZero(s)) FROM m LIMIT 1;
-- Granary keeps CAST(Nullable AS T) Nullable (ClickHouse types it T and fails on NULLs); see query/src/functions tests.
SELECT toInt32(s) FROM m;
SELECT id, toString(y), CAST(y AS Nullable(String)), toInt64(y) * 2 FROM m ORDER BY id;

-- Combined in WHERE, GROUP BY and ORDER BY
SELECT multiIf(x < 0, 'neg', x = 0, 'zero', 'pos') AS sgn, count(), sum(abs(x)) FROM m GROUP BY sgn ORDER BY sgn;
SELECT id FROM m WHERE coalesce(y, 0) = 0 ORDER BY id;
SELECT id, round(f, 1) AS r FROM m ORDER BY abs(x) DESC, id;

DROP TABLE m;
