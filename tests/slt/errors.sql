-- Statements ClickHouse rejects. Each error is followed by checks that nothing changed.

CREATE TABLE t (id UInt32, s String, d Date, ts DateTime, u UInt8, ok Bool) ENGINE = MergeTree ORDER BY id;
INSERT INTO t VALUES (1, 'a', '2026-01-01', '2026-01-01 10:00:00', 1, true), (2, 'b', '2026-02-01', '2026-02-01 11:00:00', 2, false);
INSERT INTO t VALUES (3, 'c', '2026-03-01', '2026-03-01 12:00:00', 3, true);

-- Unknown table
SELECT * FROM nope;
SELECT count() FROM nope;
INSERT INTO nope VALUES (1);
DROP TABLE nope;
DROP TABLE IF EXISTS nope;

-- Unknown column
SELECT nope FROM t;
SELECT id FROM t WHERE nope = 1;
SELECT id, nope + 1 FROM t;
SELECT count(nope) FROM t;
SELECT id FROM t GROUP BY nope;
SELECT id FROM t ORDER BY nope;
INSERT INTO t (id, nope) VALUES (4, 1);
CREATE TABLE bad_key (a UInt8) ENGINE = MergeTree ORDER BY b;

-- Unknown function
SELECT foo(1);
SELECT nope(id) FROM t;
SELECT id FROM t WHERE bar(id) = 1;

-- Unknown type, duplicate column
CREATE TABLE bad_type (a Foo) ENGINE = MergeTree ORDER BY a;
CREATE TABLE bad_dup (a UInt8, a String) ENGINE = MergeTree ORDER BY a;
SELECT * FROM bad_type;

-- Duplicate CREATE TABLE; IF NOT EXISTS leaves the existing table alone
CREATE TABLE t (x UInt8) ENGINE = MergeTree ORDER BY x;
CREATE TABLE IF NOT EXISTS t (x UInt8) ENGINE = MergeTree ORDER BY x;
SELECT count(), sum(u) FROM t;
SELECT x FROM t;

-- Syntax errors
SELEC 1;
SELECT 1 +;
SELECT FROM t;
SELECT id FROM t WHERE;
SELECT id FROM t WHERE id = 1 AND;
SELECT (1;
SELECT 'abc;
SELECT 1 2;
SELECT id FROM t ORDER;
SELECT id FROM t LIMIT;
CREATE TABLE bad_syntax (a UInt8 ENGINE = MergeTree ORDER BY a;
INSERT INTO t VALUES (5, 'e', '2026-01-05', '2026-01-05 00:00:00', 5, true;

-- Type mismatches
SELECT 'a' + 1;
SELECT 1 - 'a';
SELECT -s FROM t;
SELECT s * 2 FROM t;
SELECT id FROM t WHERE s = 1;
SELECT 'a' < 1;
SELECT NOT 'a';
SELECT 'a' AND 1;
SELECT id FROM t WHERE s;
SELECT id FROM t WHERE d;
SELECT id FROM t WHERE s LIKE 1;
SELECT id FROM t WHERE id LIKE '1%';
SELECT id FROM t WHERE id IN ('a');
SELECT id FROM t WHERE id BETWEEN 'a' AND 'b';
SELECT sum(s) FROM t;
SELECT avg(s) FROM t;
SELECT d + d FROM t;
SELECT toYYYYMM(s) FROM t;
SELECT toHour('2026-01-01 10:30:00');
SELECT toStartOfHour(s) FROM t;
-- a Date compared with a string that is not a plain date
SELECT id FROM t WHERE d = 'garbage';
SELECT id FROM t WHERE d < '2026-01-02 00:00:00';
SELECT id FROM t WHERE ts = 'noon';

-- Integer modulo by zero is an error (division by zero is not: it gives inf)
SELECT 5 % 0;
SELECT id % 0 FROM t;
SELECT id / 0 FROM t ORDER BY id;

-- Aggregation errors
SELECT id, count() FROM t;
SELECT id FROM t WHERE count() > 1;
SELECT sum(count()) FROM t;
SELECT uniqExact() FROM t;
SELECT s, count() FROM t GROUP BY id;

-- ORDER BY position out of range
SELECT id FROM t ORDER BY 2;
SELECT id, s FROM t ORDER BY 0;

-- INSERT errors
INSERT INTO t VALUES (4);
INSERT INTO t VALUES (4, 'd', '2026-04-01', '2026-04-01 00:00:00', 4, true, 99);
INSERT INTO t (id) VALUES ('abc');
INSERT INTO t (id, d) VALUES (4, 'garbage');

-- Nothing above changed the table
SELECT id, s, d, ts, u, ok FROM t ORDER BY id;

DROP TABLE t;
DROP TABLE t;
SELECT * FROM t;
DROP TABLE IF EXISTS t;
