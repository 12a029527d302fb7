-- ORDER BY (several keys, directions, positions, aliases, expressions) and LIMIT / OFFSET.
-- Every ORDER BY is total (ties broken by id) so the expected order is unique.

CREATE TABLE players (id UInt32, team String, score Int32, pts UInt16, rating Float64, joined Date, last DateTime, active Bool) ENGINE = MergeTree ORDER BY id SETTINGS index_granularity = 3;
INSERT INTO players VALUES (21, 'Zebras', -1, 300, 1.5, '2025-10-08', '2026-01-02 03:33:00', false),
    (22, 'bears', -5, 400, -0.5, '2025-11-11', '2026-01-03 10:46:00', true),
    (23, 'cats', 2, 500, 2, '2025-12-14', '2026-01-04 17:59:00', true),
    (24, 'ants', -2, 600, 0, '2025-01-17', '2026-01-01 00:12:00', true),
    (25, 'owls', 5, 700, 2.5, '2025-02-20', '2026-01-02 07:25:00', false),
    (26, 'Zebras', 1, 800, 0.5, '2025-03-23', '2026-01-03 14:38:00', true),
    (27, 'bears', -3, 0, -1.5, '2025-04-26', '2026-01-04 21:51:00', true),
    (28, 'cats', 4, 100, 1, '2025-05-01', '2026-01-01 04:04:00', true),
    (29, 'ants', 0, 200, -1, '2025-06-04', '2026-01-02 11:17:00', false),
    (30, 'owls', -4, 300, 1.5, '2025-07-07', '2026-01-03 18:30:00', true);
INSERT INTO players VALUES (1, 'Zebras', 2, 100, 1, '2025-02-04', '2026-01-02 07:13:00', false),
    (2, 'bears', -2, 200, -1, '2025-03-07', '2026-01-03 14:26:00', true),
    (3, 'cats', 5, 300, 1.5, '2025-04-10', '2026-01-04 21:39:00', true),
    (4, 'ants', 1, 400, -0.5, '2025-05-13', '2026-01-01 04:52:00', true),
    (5, 'owls', -3, 500, 2, '2025-06-16', '2026-01-02 11:05:00', false),
    (6, 'Zebras', 4, 600, 0, '2025-07-19', '2026-01-03 18:18:00', true),
    (7, 'bears', 0, 700, 2.5, '2025-08-22', '2026-01-04 01:31:00', true),
    (8, 'cats', -4, 800, 0.5, '2025-09-25', '2026-01-01 08:44:00', true),
    (9, 'ants', 3, 0, -1.5, '2025-10-28', '2026-01-02 15:57:00', false),
    (10, 'owls', -1, 100, 1, '2025-11-03', '2026-01-03 22:10:00', true);
INSERT INTO players VALUES (11, 'Zebras', -5, 200, -1, '2025-12-06', '2026-01-04 05:23:00', true),
    (12, 'bears', 2, 300, 1.5, '2025-01-09', '2026-01-01 12:36:00', true),
    (13, 'cats', -2, 400, -0.5, '2025-02-12', '2026-01-02 19:49:00', false),
    (14, 'ants', 5, 500, 2, '2025-03-15', '2026-01-03 02:02:00', true),
    (15, 'owls', 1, 600, 0, '2025-04-18', '2026-01-04 09:15:00', true),
    (16, 'Zebras', -3, 700, 2.5, '2025-05-21', '2026-01-01 16:28:00', true),
    (17, 'bears', 4, 800, 0.5, '2025-06-24', '2026-01-02 23:41:00', false),
    (18, 'cats', 0, 0, -1.5, '2025-07-27', '2026-01-03 06:54:00', true),
    (19, 'ants', -4, 100, 1, '2025-08-02', '2026-01-04 13:07:00', true),
    (20, 'owls', 3, 200, -1, '2025-09-05', '2026-01-01 20:20:00', true);

SELECT * FROM players ORDER BY id;
SELECT id FROM players ORDER BY id DESC LIMIT 5;
SELECT id FROM players ORDER BY id ASC LIMIT 3;
SELECT id, team FROM players ORDER BY id LIMIT 4 OFFSET 10;
SELECT id FROM players ORDER BY id DESC LIMIT 3 OFFSET 28;
SELECT id FROM players ORDER BY id LIMIT 5 OFFSET 30;
SELECT id FROM players ORDER BY id LIMIT 0;
SELECT id FROM players WHERE id > 25 ORDER BY id LIMIT 100;

-- Multiple keys, mixed directions
SELECT team, score, id FROM players ORDER BY team, score, id;
SELECT team, score, id FROM players ORDER BY team DESC, score DESC, id ASC;
SELECT team, id FROM players ORDER BY team ASC, id DESC LIMIT 7;
SELECT score, pts, id FROM players ORDER BY score DESC, pts, id LIMIT 8;
SELECT score, id FROM players ORDER BY score, id DESC LIMIT 6 OFFSET 2;

-- Strings order byte-wise (upper case before lower case)
SELECT team, id FROM players WHERE id <= 10 ORDER BY team, id;

-- Signed, unsigned, float, date, datetime and bool keys
SELECT id, score FROM players WHERE id <= 12 ORDER BY score, id;
SELECT id, pts FROM players WHERE id <= 12 ORDER BY pts DESC, id;
SELECT id, rating FROM players ORDER BY rating, id LIMIT 10;
SELECT id, rating FROM players ORDER BY rating DESC, id DESC LIMIT 5;
SELECT id, joined FROM players ORDER BY joined, id LIMIT 6;
SELECT id, joined FROM players ORDER BY joined DESC, id LIMIT 4;
SELECT id, last FROM players ORDER BY last, id LIMIT 6;
SELECT id, last FROM players ORDER BY last DESC, id DESC LIMIT 3;
SELECT id, active FROM players WHERE id <= 8 ORDER BY active, id;
SELECT id, active FROM players WHERE id <= 8 ORDER BY active DESC, id DESC;

-- ORDER BY position
SELECT team, id FROM players ORDER BY 1, 2 LIMIT 5;
SELECT id, score FROM players ORDER BY 2 DESC, 1 LIMIT 5;
SELECT id, pts, score FROM players ORDER BY 3, 2 DESC, 1 LIMIT 6;

-- ORDER BY alias and expression
SELECT id, score * pts AS w FROM players ORDER BY w DESC, id LIMIT 5;
SELECT id, -score AS neg FROM players ORDER BY neg, id LIMIT 4;
SELECT id, id % 7 AS m FROM players WHERE id <= 14 ORDER BY m, id DESC;
SELECT id, score FROM players ORDER BY score * -1, id LIMIT 4;
SELECT id, rating FROM players ORDER BY rating - score, id LIMIT 5;

-- ORDER BY a column that is not selected
SELECT id FROM players ORDER BY pts DESC, rating DESC, id LIMIT 6;
SELECT team FROM players WHERE id <= 6 ORDER BY id DESC;

-- WHERE + ORDER BY + LIMIT
SELECT id, team, score FROM players WHERE team IN ('owls', 'ants') AND score > 0 ORDER BY score DESC, id LIMIT 4;
SELECT id, score FROM players WHERE active ORDER BY score, id LIMIT 3 OFFSET 3;

-- ORDER BY and LIMIT on aggregates
SELECT team, count(), sum(score) FROM players GROUP BY team ORDER BY team;
SELECT team, count() AS c, sum(pts) AS p FROM players GROUP BY team ORDER BY p DESC, team LIMIT 3;
SELECT team, max(rating), min(score) FROM players GROUP BY team ORDER BY 2 DESC, 3, 1;
SELECT active, avg(pts) FROM players GROUP BY active ORDER BY 2;
SELECT score, count() FROM players GROUP BY score ORDER BY 2 DESC, 1 LIMIT 3;
SELECT toYYYYMM(joined) AS m, count() FROM players GROUP BY m ORDER BY m DESC LIMIT 4;
SELECT count() FROM players LIMIT 1;

DROP TABLE players;
