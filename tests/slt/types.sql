-- Type roundtrips, literal types and ClickHouse arithmetic type promotion.

-- Literals without FROM
SELECT 1 + 2;
SELECT 1, 255, 256, 65535, 65536, 4294967296, 18446744073709551615;
SELECT -1, -128, -129, -9223372036854775808;
SELECT 1.5, -2.25, 100.0, 1e3, 0.5e-2;
SELECT 'abc', 'héllo wörld';
SELECT true, false;

-- Division is always floating point; % follows the sign of the dividend
SELECT 7 / 2;
SELECT 6 / 3, 1 / 4, -7 / 2;
SELECT 7 % 3, -7 % 3, 7 % -3, -7 % -3;
SELECT 5.5 % 2, 7.5 / 2.5;
SELECT 1 / 0, -1 / 0, 0 / 0;

-- Integer literal arithmetic widens instead of overflowing
SELECT 255 + 1, 200 * 200, 1 - 2, 0 - 255;
SELECT 65535 + 65535, 4294967295 * 2;
SELECT 2 + 3 * 4, (2 + 3) * 4, 10 - 2 - 3, 100 / 10 / 4;
SELECT -(-3), -(1.5), - 2 * 3;

-- Float formatting (shortest roundtrip representation)
SELECT 0.1 + 0.2;
SELECT 1.5 * 2, 2.5 + 2.5, 0.25 * 4;
SELECT 1e15 + 0.5, 123456789.125, 0.000001, 0.0001;
SELECT 2 / 3, 1 / 3;

-- Comparisons produce UInt8 0/1
SELECT 1 < 2, 2 < 1, 1 = 1, 1 != 1, 1 <> 2, 2 >= 2, 3 <= 2;
SELECT 1 = 1.0, 2 > 1.5, -1 < 0, -1 < 255;
SELECT 'abc' < 'abd', 'B' < 'a', 'ab' < 'abc', 'z' < 'é', 'abc' = 'abc';
SELECT 1 < 2 AND 2 < 3, 1 > 2 OR 2 > 3, NOT 1 = 2, NOT 0;
SELECT (1 < 2) + (3 < 4);
SELECT 2 BETWEEN 1 AND 3, 5 NOT BETWEEN 1 AND 3, 3 IN (1, 2, 3), 4 NOT IN (1, 2, 3), 'b' IN ('a', 'b');
SELECT 'abc' LIKE 'a%', 'abc' LIKE 'a_c', 'abc' LIKE 'A%', 'abc' LIKE '%', 'abc' LIKE '_', 'abc' NOT LIKE '%d%';

-- Integer columns: roundtrip of every width at its extremes
CREATE TABLE ints (id UInt32, u8 UInt8, u16 UInt16, u32 UInt32, u64 UInt64, i8 Int8, i16 Int16, i32 Int32, i64 Int64) ENGINE = MergeTree ORDER BY id;
INSERT INTO ints VALUES (1, 0, 0, 0, 0, -128, -32768, -2147483648, -9223372036854775808);
INSERT INTO ints VALUES (2, 255, 65535, 4294967295, 18446744073709551615, 127, 32767, 2147483647, 9223372036854775807);
INSERT INTO ints VALUES (3, 7, 300, 70000, 5000000000, -7, -300, -70000, -5000000000), (4, 200, 1000, 100, 42, 100, 1000, 100, 42);
SELECT * FROM ints ORDER BY id;
SELECT id, u8, i8, u64, i64 FROM ints WHERE id IN (1, 2) ORDER BY id;

-- UInt8 + UInt8 is UInt16, UInt8 * UInt8 is UInt16: no wrap-around
SELECT id, u8 + u8, u8 * u8, u8 + 1 FROM ints ORDER BY id;
-- UInt - UInt is signed
SELECT id, u8 - 100, u16 - u8, u32 - 100 FROM ints ORDER BY id;
-- Unary minus on unsigned columns gives a signed result
SELECT id, -u8, -u16, -u32 FROM ints ORDER BY id;
SELECT id, -u64 FROM ints WHERE id IN (3, 4) ORDER BY id;
-- UInt32 + UInt32 is UInt64
SELECT id, u32 + u32, u16 * u16 FROM ints ORDER BY id;
-- Signed narrow arithmetic widens
SELECT id, i8 + i8, i8 - 1, i8 * i8, i16 * 2 FROM ints ORDER BY id;
-- Mixed signed / unsigned
SELECT id, u8 + i8, i16 - u16, i32 + u8 FROM ints ORDER BY id;
-- Integer division and modulo on columns
SELECT id, u8 / 2, i8 / 4, u8 % 7, i8 % 3, i32 % 1000 FROM ints WHERE id IN (2, 3, 4) ORDER BY id;
-- Comparisons between different integer widths and signedness
SELECT id, u8 > i8, u64 > i64, i8 < u8, u16 = i16 FROM ints ORDER BY id;
SELECT id, u8 + i8 * 2 - u16 % 7 FROM ints ORDER BY id;
-- 64-bit wrap-around (ClickHouse does not check overflow)
SELECT id, u64 + 1, i64 - 1 FROM ints WHERE id IN (1, 2) ORDER BY id;

-- Floats
CREATE TABLE floats (id UInt32, f32 Float32, f64 Float64) ENGINE = MergeTree ORDER BY id;
INSERT INTO floats VALUES (1, 1.5, 2.25), (2, -0.75, 1e20);
INSERT INTO floats VALUES (3, 1.1, 0.1), (4, 16777216, 123456789.125), (5, 0, -3.5);
SELECT * FROM floats ORDER BY id;
-- Float32 arithmetic is carried out in Float64
SELECT id, f32 + f32, f32 * 2, f32 + f64 FROM floats WHERE id IN (1, 2, 4, 5) ORDER BY id;
SELECT id, f32 + 0.5 FROM floats WHERE id = 3 ORDER BY id;
SELECT id, f64 / 2, f64 - 0.25, -f64 FROM floats ORDER BY id;
SELECT id, f64 * 2 + 1 FROM floats WHERE f64 < 1000 ORDER BY id;
-- int op float is float
SELECT 3 + 0.5, 2 * 1.25, 10 - 0.25;

-- Strings: byte-wise comparison
CREATE TABLE strs (id UInt32, s String) ENGINE = MergeTree ORDER BY id;
INSERT INTO strs VALUES (1, 'apple'), (2, 'Apple'), (3, 'banana');
INSERT INTO strs VALUES (4, 'éclair'), (5, 'zebra'), (6, 'app'), (7, 'apple pie'), (8, '123'), (9, 'a_b%c');
SELECT id, s FROM strs ORDER BY id;
SELECT s FROM strs ORDER BY s;
SELECT s, id FROM strs ORDER BY s DESC;
SELECT id, s > 'apple', s < 'b' FROM strs ORDER BY id;
SELECT min(s), max(s) FROM strs;
SELECT s FROM strs WHERE s >= 'apple' AND s < 'b';

-- Dates and times
CREATE TABLE times (id UInt32, d Date, dt DateTime, dt64 DateTime64(3)) ENGINE = MergeTree ORDER BY id;
INSERT INTO times VALUES (1, '2026-01-01', '2026-01-01 10:00:00', '2026-01-01 10:00:00.123');
INSERT INTO times VALUES (2, '1970-01-01', '1970-01-01 00:00:00', '2026-01-01 10:00:00');
INSERT INTO times VALUES (3, '2024-02-29', '2024-02-29 23:59:59', '2024-02-29 23:59:59.999'), (4, '2149-06-06', '2106-02-07 06:28:15', '1999-12-31 23:59:59.5');
SELECT * FROM times ORDER BY id;
SELECT id, dt64 FROM times ORDER BY dt64, id;
SELECT id FROM times WHERE dt64 = '2026-01-01 10:00:00.123';
SELECT id FROM times WHERE dt64 > '2026-01-01 10:00:00';

-- Bool
CREATE TABLE flags (id UInt32, ok Bool) ENGINE = MergeTree ORDER BY id;
INSERT INTO flags VALUES (1, true), (2, false);
INSERT INTO flags VALUES (3, true);
SELECT * FROM flags ORDER BY id;
SELECT id, NOT ok, ok = true, ok AND true, ok OR false FROM flags ORDER BY id;
SELECT id FROM flags WHERE ok;
SELECT id FROM flags WHERE NOT ok;
SELECT count(), countIf(ok), sum(ok), min(ok), max(ok) FROM flags;

DROP TABLE ints;
DROP TABLE floats;
DROP TABLE strs;
DROP TABLE times;
DROP TABLE flags;
