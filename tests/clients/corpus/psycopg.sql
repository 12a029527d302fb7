-- Statements psycopg sent to PostgreSQL 15, harvested by tests/clients/harvest.sh.

-- query
-- params: ["42", "2026-01-01"]
SELECT url, count(*) AS n, sum(price) AS total FROM hits WHERE user_id = $1 AND d >= $2 GROUP BY url ORDER BY url;

-- query
-- params: ["/b"]
SELECT d, ts, ok, price FROM hits WHERE url = $1;

-- query
-- params: ["43"]
SELECT user_id, url FROM hits WHERE user_id = $1 ORDER BY d;

-- query
SELECT count(*), sum(price) FROM hits WHERE user_id = 44;
