-- if, multiIf and CASE evaluate a branch only on the rows that choose it, so a branch that would fail on
-- the other rows (division by zero, a bad conversion) does not fail the query. Granary does so inside aggregate
-- arguments too: ClickHouse 25 still fails sum(if(x = 0, 0, intDiv(60, x))) with a division by zero there.

CREATE TABLE c (id UInt32, x Int32, s String) ENGINE = MergeTree ORDER BY id;
INSERT INTO c VALUES (1, 0, '12'), (2, 5, 'abc'), (3, -2, '7'), (4, 0, ''), (5, 3, '40');

SELECT id, if(x = 0, 0, intDiv(10, x)) FROM c ORDER BY id;
SELECT id, if(x != 0, intDiv(10, x), -1) FROM c ORDER BY id;
SELECT id, multiIf(x = 0, 0, x < 0, intDiv(100, x), intDiv(1000, x)) FROM c ORDER BY id;
SELECT id, CASE WHEN x = 0 THEN 0 ELSE intDiv(10, x) END FROM c ORDER BY id;
SELECT id, CASE WHEN x = 0 THEN -1 WHEN x > 0 THEN 60 % x ELSE intDiv(7, x) END FROM c ORDER BY id;
SELECT id, if(match(s, '^[0-9]+$'), toUInt32(s), 0) FROM c ORDER BY id;
SELECT id FROM c WHERE if(x = 0, 0, intDiv(10, x)) > 1 ORDER BY id;
SELECT id, intDiv(10, x) FROM c ORDER BY id;
