-- Correlated subqueries over MergeTree tables: a scalar subquery compared per row or selected,
-- EXISTS and NOT EXISTS, each reading the outer row's key.

CREATE TABLE orders (id UInt32, k String, x Float64) ENGINE = MergeTree ORDER BY id;
INSERT INTO orders VALUES (1, 'a', 10), (2, 'a', 30), (3, 'b', 5), (4, 'b', 7), (5, 'b', 12), (6, 'c', 100), (7, 'd', 1);
CREATE TABLE refs (k String, x Float64) ENGINE = MergeTree ORDER BY k;
INSERT INTO refs VALUES ('a', 15), ('a', 25), ('b', 6), ('c', 50), ('c', 200), ('e', 3);

SELECT id, k, x FROM orders WHERE x > (SELECT avg(x) FROM refs WHERE refs.k = orders.k) ORDER BY id;
SELECT id, k FROM orders t1 WHERE x > (SELECT avg(x) FROM refs t2 WHERE t2.k = t1.k) ORDER BY id;
SELECT id, k FROM orders t1 WHERE EXISTS (SELECT 1 FROM refs t2 WHERE t2.k = t1.k) ORDER BY id;
SELECT id, k FROM orders t1 WHERE NOT EXISTS (SELECT 1 FROM refs t2 WHERE t2.k = t1.k) ORDER BY id;
SELECT id, k FROM orders t1 WHERE EXISTS (SELECT 1 FROM refs t2 WHERE t2.k = t1.k AND t2.x > t1.x) ORDER BY id;

-- A correlated scalar subquery whose aggregate sees no rows for an outer value is NULL, even
-- count(): ClickHouse groups the subquery by the outer values, and a group without rows is absent.
SELECT id, (SELECT max(x) FROM refs WHERE refs.k = orders.k) AS best FROM orders ORDER BY id;
SELECT id, (SELECT count() FROM refs WHERE refs.k = orders.k) AS n FROM orders ORDER BY id;
SELECT id, (SELECT sum(x) FROM refs WHERE refs.k = orders.k) AS s FROM orders ORDER BY id;
SELECT id, (SELECT avg(x) FROM refs WHERE refs.k = orders.k) AS a FROM orders ORDER BY id;
SELECT id, (SELECT countIf(x > 10) FROM refs WHERE refs.k = orders.k) AS n FROM orders ORDER BY id;
SELECT id, (SELECT count() + 1 FROM refs WHERE refs.k = orders.k) AS n FROM orders ORDER BY id;
SELECT id, (SELECT max(x) FROM refs WHERE refs.k = orders.k AND refs.x > orders.x) AS above FROM orders ORDER BY id;
SELECT toTypeName((SELECT count() FROM refs WHERE refs.k = orders.k)) FROM orders LIMIT 1;
-- An uncorrelated aggregate over no rows is still the aggregate of no rows.
SELECT (SELECT max(x) FROM refs WHERE k = 'zz'), (SELECT count() FROM refs WHERE k = 'zz');

-- The outer values come from the rows the outer WHERE keeps: 15,000 distinct keys in the table,
-- more than a correlated subquery runs for, but only a few past the filter.
CREATE TABLE big (id UInt32, k UInt32) ENGINE = MergeTree ORDER BY id;
INSERT INTO big SELECT generate_series, generate_series % 15000 FROM generate_series(1, 30000);
CREATE TABLE nrefs (k UInt32, x Float64) ENGINE = MergeTree ORDER BY k;
INSERT INTO nrefs VALUES (1, 15), (1, 25), (2, 6), (7, 50), (7, 200), (99, 3);
SELECT id, k, (SELECT max(x) FROM nrefs WHERE nrefs.k = big.k) AS m FROM big WHERE id < 10 ORDER BY id;
SELECT id, k, (SELECT count() FROM nrefs WHERE nrefs.k = big.k) AS n FROM big WHERE k IN (1, 2, 3) AND id < 20000 ORDER BY id;
SELECT id, k FROM big WHERE id <= 20 AND EXISTS (SELECT 1 FROM nrefs WHERE nrefs.k = big.k) ORDER BY id;
SELECT id, k FROM big WHERE EXISTS (SELECT 1 FROM nrefs WHERE nrefs.k = big.k) AND id <= 20 ORDER BY id;
SELECT count() FROM big WHERE id > 29990 AND NOT EXISTS (SELECT 1 FROM nrefs WHERE nrefs.k = big.k);
