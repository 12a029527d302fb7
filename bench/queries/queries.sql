-- ClickHouse dialect (run through chdb). One query per line; the comment line above each names it.
-- Constants: data spans 2026-08-23 .. 2026-11-20 (90 days); "last 7 days" = 2026-11-14 .. 2026-11-20.
-- u1489982 = Zipf rank-1 user, u1975066 = rank-1000 user, i47219 = rank-100 item (stable across --rows;
-- the ranks of `granary bench gen`, see bench/src/dataset.rs, not of the Python reference generator).
-- Q01 count of all rows
SELECT count() FROM user_behaviors;
-- Q02 dashboard: one tenant+scenario, last 7 days
SELECT countIf(action_type = 'impression') AS impressions, countIf(action_type = 'click') AS clicks, countIf(action_type = 'order') AS orders, countIf(action_type = 'click') / countIf(action_type = 'impression') AS ctr, uniqExact(user_id) AS users FROM user_behaviors WHERE tenant_id = 't00' AND scenario_id = 'feed' AND date >= '2026-11-14' AND date <= '2026-11-20';
-- Q03 hourly trend, one tenant, 7 days
SELECT toStartOfHour(timestamp) AS hour, countIf(action_type = 'impression') AS impressions, countIf(action_type = 'click') AS clicks, countIf(action_type = 'click') / countIf(action_type = 'impression') AS ctr FROM user_behaviors WHERE tenant_id = 't01' AND date >= '2026-11-14' AND date <= '2026-11-20' GROUP BY hour ORDER BY hour;
-- Q04 top 10 items by clicks, one tenant+scenario, 7 days
SELECT item_id, count() AS clicks FROM user_behaviors WHERE tenant_id = 't00' AND scenario_id = 'feed' AND date >= '2026-11-14' AND date <= '2026-11-20' AND action_type = 'click' GROUP BY item_id ORDER BY clicks DESC, item_id LIMIT 10;
-- Q05 funnel for one tenant on one day, share of the day's distinct users via scalar subquery
SELECT action_type, count() AS events, uniqExact(user_id) AS users, uniqExact(user_id) * 100.0 / (SELECT uniqExact(user_id) FROM user_behaviors WHERE tenant_id = 't00' AND date = '2026-11-20') AS user_pct FROM user_behaviors WHERE tenant_id = 't00' AND date = '2026-11-20' GROUP BY action_type ORDER BY action_type;
-- Q06 global GROUP BY action_type (full scan)
SELECT action_type, count() AS events FROM user_behaviors GROUP BY action_type ORDER BY action_type;
-- Q07 distinct users per tenant (full scan, high cardinality)
SELECT tenant_id, uniqExact(user_id) AS users FROM user_behaviors GROUP BY tenant_id ORDER BY tenant_id;
-- Q08 top 10 users by event count (high-cardinality GROUP BY)
SELECT user_id, count() AS events FROM user_behaviors GROUP BY user_id ORDER BY events DESC, user_id LIMIT 10;
-- Q09 experiment report
SELECT experiment_id, experiment_group, count() AS events, avg(completion_rate) AS avg_completion, sum(watch_duration) AS total_watch, countIf(action_type = 'order') AS orders FROM user_behaviors WHERE experiment_id != '' GROUP BY experiment_id, experiment_group ORDER BY experiment_id, experiment_group;
-- Q10 point lookup on the full sort-key prefix (tenant, scenario, date, user)
SELECT * FROM user_behaviors WHERE tenant_id = 't00' AND scenario_id = 'feed' AND date = '2026-11-20' AND user_id = 'u1489982' ORDER BY timestamp, event_id;
-- Q11 equality filter on a non-key column
SELECT count() FROM user_behaviors WHERE item_id = 'i47219';
-- Q12 LIKE substring filter + equality on non-key columns
SELECT count() FROM user_behaviors WHERE location LIKE '%zhou%' AND device_type = 'ios';
-- Q13 daily active users, last 30 days
SELECT date, uniqExact(user_id) AS dau FROM user_behaviors WHERE date >= '2026-10-22' AND date <= '2026-11-20' GROUP BY date ORDER BY date;
-- Q14 JOIN with items: orders and GMV per category
SELECT i.category AS category, count() AS orders, sum(i.price) AS gmv FROM user_behaviors AS e INNER JOIN items AS i ON e.item_id = i.item_id WHERE e.action_type = 'order' GROUP BY i.category ORDER BY gmv DESC LIMIT 10;
-- Q15 last 100 events of one user across all tenants (non-key filter)
SELECT * FROM user_behaviors WHERE user_id = 'u1975066' ORDER BY timestamp DESC, event_id DESC LIMIT 100;
-- Q16 metrics_hourly rollup computed from raw data (full scan, ~216k groups), summarised
SELECT count() AS groups, sum(impressions), sum(clicks), sum(orders), sum(users), sum(items) FROM (SELECT tenant_id, scenario_id, date, toHour(timestamp) AS hour, countIf(action_type = 'impression') AS impressions, countIf(action_type = 'click') AS clicks, countIf(action_type = 'order') AS orders, uniqExact(user_id) AS users, uniqExact(item_id) AS items FROM user_behaviors GROUP BY tenant_id, scenario_id, date, hour);
