-- Correlated subqueries over MergeTree tables: a scalar subquery compared per row, EXISTS and
-- NOT EXISTS, each reading the outer row's key.

CREATE TABLE orders (id UInt32, k String, x Float64) ENGINE = MergeTree ORDER BY id;
INSERT INTO orders VALUES (1, 'a', 10), (2, 'a', 30), (3, 'b', 5), (4, 'b', 7), (5, 'b', 12), (6, 'c', 100), (7, 'd', 1);
CREATE TABLE refs (k String, x Float64) ENGINE = MergeTree ORDER BY k;
INSERT INTO refs VALUES ('a', 15), ('a', 25), ('b', 6), ('c', 50), ('c', 200), ('e', 3);

SELECT id, k, x FROM orders WHERE x > (SELECT avg(x) FROM refs WHERE refs.k = orders.k) ORDER BY id;
SELECT id, k FROM orders t1 WHERE x > (SELECT avg(x) FROM refs t2 WHERE t2.k = t1.k) ORDER BY id;
SELECT id, k FROM orders t1 WHERE EXISTS (SELECT 1 FROM refs t2 WHERE t2.k = t1.k) ORDER BY id;
SELECT id, k FROM orders t1 WHERE NOT EXISTS (SELECT 1 FROM refs t2 WHERE t2.k = t1.k) ORDER BY id;
SELECT id, k FROM orders t1 WHERE EXISTS (SELECT 1 FROM refs t2 WHERE t2.k = t1.k AND t2.x > t1.x) ORDER BY id;
