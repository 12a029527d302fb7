-- Statements asyncpg sent to PostgreSQL 15, harvested by tests/clients/harvest.sh.

-- query
-- params: ["42", "2026-01-01"]
SELECT url, count(*) AS n, sum(price) AS total FROM hits WHERE user_id = $1 AND d >= $2 GROUP BY url ORDER BY url;

-- query
-- params: ["t1"]
SELECT event_id, action_type, "context.device_type", watch_duration, completion_rate, timestamp, date FROM user_behaviors WHERE tenant_id = $1;

-- query
-- params: ["5"]
SELECT count(*) FROM hits WHERE price > $1;
