-- Extended column types: Nullable, Enum8/Enum16, LowCardinality, FixedString, Decimal, UUID, IPv4,
-- Array, Nested and DateTime64: roundtrip, comparisons, ORDER BY / GROUP BY and output formats.

-- Nullable(Int32 / String / Float64)
CREATE TABLE tx_null (id UInt32, a Nullable(Int32), s Nullable(String), f Nullable(Float64)) ENGINE = MergeTree ORDER BY id;
INSERT INTO tx_null VALUES (1, 10, 'x', 1.5), (2, NULL, NULL, NULL), (3, -5, 'y', NULL);
INSERT INTO tx_null VALUES (4, NULL, 'z', 2.5), (5, 7, NULL, -0.5);
INSERT INTO tx_null VALUES (6, NULL, 'x', NULL);
SELECT id, a, s, f FROM tx_null ORDER BY id;
SELECT count(), count(*), count(a), count(s), count(f) FROM tx_null;
SELECT sum(a), sum(f), min(a), max(a), min(s), max(s), avg(a) FROM tx_null;
-- Aggregates over only NULLs are NULL (count is 0)
SELECT sum(a), min(a), max(s), count(a) FROM tx_null WHERE a IS NULL;
SELECT id FROM tx_null WHERE a IS NULL ORDER BY id;
SELECT id FROM tx_null WHERE s IS NOT NULL AND f IS NULL ORDER BY id;
-- NULL compares as neither true nor false: such rows are filtered out
SELECT id FROM tx_null WHERE a > 0 OR f > 0 ORDER BY id;
SELECT id, a + 1, a * 2, a = 10, f * 2 FROM tx_null ORDER BY id;
-- NULLs sort last, in ascending and descending order
SELECT id, a FROM tx_null ORDER BY a, id;
SELECT id, a FROM tx_null ORDER BY a DESC, id;
SELECT s, count() FROM tx_null GROUP BY s ORDER BY s;
SELECT uniqExact(a), uniqExact(s), countIf(a IS NULL), countIf(f IS NOT NULL) FROM tx_null;

-- Enum8 / Enum16: insert by name or by number; compare with either; ordered by number
CREATE TABLE tx_enum (id UInt32, e Enum8('b' = 2, 'a' = 1, 'neg' = -3), e16 Enum16('x' = 1000, 'y' = -1000, 'z' = 0)) ENGINE = MergeTree ORDER BY id;
INSERT INTO tx_enum VALUES (1, 'a', 'x'), (2, 2, 1000), (3, -3, 'z');
INSERT INTO tx_enum VALUES (4, 'b', -1000), (5, 1, 'y');
INSERT INTO tx_enum VALUES (6, 'c', 'x');
INSERT INTO tx_enum VALUES (7, 5, 'x');
SELECT id, e, e16 FROM tx_enum ORDER BY id;
SELECT id FROM tx_enum WHERE e = 'a' ORDER BY id;
SELECT id FROM tx_enum WHERE e = 1 ORDER BY id;
SELECT id FROM tx_enum WHERE e IN ('a', 'neg') ORDER BY id;
SELECT id FROM tx_enum WHERE e16 = 'y' OR e16 = 0 ORDER BY id;
SELECT id, e FROM tx_enum ORDER BY e, id;
SELECT id, e16 FROM tx_enum ORDER BY e16 DESC, id;
SELECT e, count() FROM tx_enum GROUP BY e ORDER BY e;
SELECT min(e), max(e), min(e16), max(e16) FROM tx_enum;
SELECT id, CAST(e AS Int8), CAST(e16 AS Int16), CAST(e AS String) FROM tx_enum ORDER BY id;
-- Comparing with an unknown name matches nothing (no error)
SELECT count() FROM tx_enum WHERE e = 'nope';

-- LowCardinality(String)
CREATE TABLE tx_lc (id UInt32, region LowCardinality(String), v UInt32) ENGINE = MergeTree ORDER BY id;
INSERT INTO tx_lc VALUES (1, 'eu', 10), (2, 'us', 20), (3, 'eu', 30);
INSERT INTO tx_lc VALUES (4, 'apac', 40), (5, 'us', 50), (6, 'eu', 60);
SELECT region, count(), sum(v) FROM tx_lc GROUP BY region ORDER BY region;
SELECT id, region FROM tx_lc WHERE region = 'eu' OR region LIKE 'a%' ORDER BY id;
SELECT min(region), max(region), uniqExact(region) FROM tx_lc;

-- FixedString(4): values are NUL-padded to 4 bytes (only compared or measured here, never printed padded)
CREATE TABLE tx_fs (id UInt32, code FixedString(4)) ENGINE = MergeTree ORDER BY id;
INSERT INTO tx_fs VALUES (1, 'ab'), (2, 'abcd'), (3, 'b');
INSERT INTO tx_fs VALUES (4, 'abcde');
INSERT INTO tx_fs VALUES (5, 'zz'), (6, 'ab');
SELECT id, code = 'ab', code = 'abcd', length(code) FROM tx_fs ORDER BY id;
SELECT id, code FROM tx_fs WHERE code = 'abcd';
SELECT id FROM tx_fs ORDER BY code, id;
SELECT code = 'ab', count() FROM tx_fs GROUP BY code ORDER BY code;

-- Decimal(10,2) / Decimal(18,4): extra digits are truncated on insert; output drops trailing zeros
CREATE TABLE tx_dec (id UInt32, p Decimal(10, 2), q Decimal(18, 4)) ENGINE = MergeTree ORDER BY id;
INSERT INTO tx_dec VALUES (1, 1.5, 2.25), (2, -3.1, 100), (3, 12345678.99, 0.0001);
INSERT INTO tx_dec VALUES (4, 0, -99999999999999.9999), (5, '1.009', '3.14159');
SELECT id, p, q FROM tx_dec ORDER BY id;
SELECT sum(p), sum(q), min(p), max(p), min(q), max(q) FROM tx_dec;
SELECT id, p * 2, p + 1, p - 1, p - q, p * q, p / 4, q / 3 FROM tx_dec ORDER BY id;
SELECT id FROM tx_dec WHERE p > 1.5 OR q = 100 ORDER BY id;
SELECT id, p FROM tx_dec ORDER BY p, id;
SELECT id, CAST(p AS Float64), CAST(p AS Int32), CAST(q AS String) FROM tx_dec ORDER BY id;

-- UUID and IPv4: text in, text out; ordered by value
CREATE TABLE tx_net (id UInt32, u UUID, ip IPv4) ENGINE = MergeTree ORDER BY id;
INSERT INTO tx_net VALUES (1, '123e4567-e89b-12d3-a456-426614174000', '10.0.0.1'), (2, '00000000-0000-0000-0000-000000000000', '192.168.1.254');
INSERT INTO tx_net VALUES (3, 'ffffffff-ffff-ffff-ffff-ffffffffffff', '9.255.255.255'), (4, '923e4567-e89b-12d3-a456-426614174000', '255.255.255.255'), (5, '123e4567-e89b-12d3-a456-426614174001', '0.0.0.0');
SELECT id, u, ip FROM tx_net ORDER BY id;
SELECT id, u FROM tx_net ORDER BY u, id;
SELECT id, ip FROM tx_net ORDER BY ip DESC, id;
SELECT id FROM tx_net WHERE u = '123e4567-e89b-12d3-a456-426614174000' OR ip = '0.0.0.0' ORDER BY id;
SELECT id FROM tx_net WHERE ip BETWEEN '9.0.0.0' AND '11.0.0.0' ORDER BY id;
SELECT min(ip), max(ip), min(u), max(u), uniqExact(u) FROM tx_net;
SELECT id, CAST(ip AS UInt32) FROM tx_net ORDER BY id;

-- Array(String) / Array(UInt32): whole arrays and 1-based indexing (out of range gives the default)
CREATE TABLE tx_arr (id UInt32, tags Array(String), nums Array(UInt32)) ENGINE = MergeTree ORDER BY id;
INSERT INTO tx_arr VALUES (1, ['a', 'b'], [1, 2, 3]), (2, [], []), (3, ['x'], [4294967295]);
INSERT INTO tx_arr VALUES (4, ['it''s', 'q"t', 'b\\s'], [0]);
SELECT id, tags, nums FROM tx_arr ORDER BY id;
SELECT id, tags[1], nums[1] FROM tx_arr WHERE id != 2 ORDER BY id;
SELECT id, nums[2], nums[3], tags[2] = '' FROM tx_arr ORDER BY id;
SELECT id, nums FROM tx_arr ORDER BY nums, id;

-- Nested: stored as parallel arrays context.device_type / context.os of equal length
CREATE TABLE tx_nested (id UInt32, context Nested(device_type String, os String)) ENGINE = MergeTree ORDER BY id;
INSERT INTO tx_nested VALUES (1, ['ios','web'], ['a','b']), (2, [], []);
INSERT INTO tx_nested VALUES (3, ['tv'], ['c']);
INSERT INTO tx_nested VALUES (4, ['a', 'b'], ['c']);
SELECT id, context.device_type FROM tx_nested ORDER BY id;
SELECT * FROM tx_nested ORDER BY id;
SELECT id, context.os[1] FROM tx_nested WHERE id != 2 ORDER BY id;

-- DateTime64(3) / DateTime64(6): digits beyond the precision are truncated; integers are seconds
CREATE TABLE tx_dt64 (id UInt32, ts DateTime64(3), ts6 DateTime64(6)) ENGINE = MergeTree ORDER BY ts;
INSERT INTO tx_dt64 VALUES (1, '2026-01-01 00:00:00.123', '2026-01-01 00:00:00.123456'), (2, '2026-01-01 00:00:00', '2026-01-01 00:00:00.1');
INSERT INTO tx_dt64 VALUES (3, '2026-01-01 00:00:00.1239', '2026-01-01 00:00:00'), (4, '2026-03-15 13:45:59.999', '2026-03-15 13:45:59.999999');
INSERT INTO tx_dt64 VALUES (5, 1767225600, 1767225600);
SELECT id, ts, ts6 FROM tx_dt64 ORDER BY id;
SELECT id, ts FROM tx_dt64 ORDER BY ts, id;
SELECT id FROM tx_dt64 WHERE ts > '2026-01-01 00:00:00.1' ORDER BY id;
SELECT id FROM tx_dt64 WHERE ts = '2026-01-01 00:00:00.123' ORDER BY id;
SELECT min(ts), max(ts), min(ts6), max(ts6) FROM tx_dt64;
SELECT id, toHour(ts), toDate(ts), toStartOfHour(ts), CAST(ts AS DateTime), ts + 1 FROM tx_dt64 ORDER BY id;
