-- A correlated scalar subquery whose aggregate sees no rows: ClickHouse (and Postgres) give NULL,
-- Granary gives the aggregate of no rows (0), as an uncorrelated one does.

CREATE TABLE orders (id UInt32, k String, x Float64) ENGINE = MergeTree ORDER BY id;
INSERT INTO orders VALUES (1, 'a', 10), (2, 'a', 30), (3, 'b', 5), (4, 'b', 7), (5, 'b', 12), (6, 'c', 100), (7, 'd', 1);
CREATE TABLE refs (k String, x Float64) ENGINE = MergeTree ORDER BY k;
INSERT INTO refs VALUES ('a', 15), ('a', 25), ('b', 6), ('c', 50), ('c', 200), ('e', 3);

SELECT id, (SELECT max(x) FROM refs WHERE refs.k = orders.k) AS best FROM orders ORDER BY id;
