-- Date, DateTime and DateTime64(3): comparisons with string literals, toDate, toYYYYMM,
-- toStartOfHour, toHour (time zone UTC), grouping and ordering by time.

CREATE TABLE visits (id UInt32, d Date, ts DateTime, ts64 DateTime64(3), page String) ENGINE = MergeTree PARTITION BY toYYYYMM(d) ORDER BY (d, id) SETTINGS index_granularity = 4;
INSERT INTO visits VALUES (1, '2025-11-30', '2025-11-30 06:17:23', '2025-11-30 06:17:23.125', '/search'),
    (5, '2025-12-09', '2025-12-09 01:25:55', '2025-12-09 01:25:55.625', '/cart'),
    (9, '2025-12-18', '2025-12-18 01:33:27', '2025-12-18 01:33:27.125', '/home'),
    (13, '2025-12-26', '2025-12-26 20:41:59', '2025-12-26 20:41:59.625', '/search'),
    (17, '2026-01-04', '2026-01-04 15:49:31', '2026-01-04 15:49:31.125', '/cart'),
    (21, '2026-01-13', '2026-01-13 10:57:03', '2026-01-13 10:57:03.625', '/home'),
    (25, '2026-01-22', '2026-01-22 05:05:35', '2026-01-22 05:05:35.125', '/search'),
    (29, '2026-01-31', '2026-01-31 05:13:07', '2026-01-31 05:13:07.625', '/cart'),
    (33, '2026-02-09', '2026-02-09 00:21:39', '2026-02-09 00:21:39.125', '/home'),
    (37, '2026-02-17', '2026-02-17 19:29:11', '2026-02-17 19:29:11.625', '/search');
INSERT INTO visits VALUES (2, '2025-12-02', '2025-12-02 12:34:46', '2025-12-02 12:34:46.250', '/cart'),
    (6, '2025-12-11', '2025-12-11 07:42:18', '2025-12-11 07:42:18.750', '/home'),
    (10, '2025-12-20', '2025-12-20 02:50:50', '2025-12-20 02:50:50.250', '/search'),
    (14, '2025-12-29', '2025-12-29 02:58:22', '2025-12-29 02:58:22.750', '/cart'),
    (18, '2026-01-06', '2026-01-06 21:06:54', '2026-01-06 21:06:54.250', '/home'),
    (22, '2026-01-15', '2026-01-15 16:14:26', '2026-01-15 16:14:26.750', '/search'),
    (26, '2026-01-24', '2026-01-24 11:22:58', '2026-01-24 11:22:58.250', '/cart'),
    (30, '2026-02-02', '2026-02-02 06:30:30', '2026-02-02 06:30:30.750', '/home'),
    (34, '2026-02-11', '2026-02-11 06:38:02', '2026-02-11 06:38:02.250', '/search'),
    (38, '2026-02-20', '2026-02-20 01:46:34', '2026-02-20 01:46:34.750', '/cart');
INSERT INTO visits VALUES (3, '2025-12-04', '2025-12-04 18:51:09', '2025-12-04 18:51:09.375', '/home'),
    (7, '2025-12-13', '2025-12-13 13:59:41', '2025-12-13 13:59:41.875', '/search'),
    (11, '2025-12-22', '2025-12-22 08:07:13', '2025-12-22 08:07:13.375', '/cart'),
    (15, '2025-12-31', '2025-12-31 03:15:45', '2025-12-31 03:15:45.875', '/home'),
    (19, '2026-01-09', '2026-01-09 03:23:17', '2026-01-09 03:23:17.375', '/search'),
    (23, '2026-01-17', '2026-01-17 22:31:49', '2026-01-17 22:31:49.875', '/cart'),
    (27, '2026-01-26', '2026-01-26 17:39:21', '2026-01-26 17:39:21.375', '/home'),
    (31, '2026-02-04', '2026-02-04 12:47:53', '2026-02-04 12:47:53.875', '/search'),
    (35, '2026-02-13', '2026-02-13 07:55:25', '2026-02-13 07:55:25.375', '/cart'),
    (39, '2026-02-22', '2026-02-22 07:03:57', '2026-02-22 07:03:57.875', '/home');
INSERT INTO visits VALUES (4, '2025-12-07', '2025-12-07 00:08:32', '2025-12-07 00:08:32.500', '/search'),
    (8, '2025-12-15', '2025-12-15 19:16:04', '2025-12-15 19:16:04.000', '/cart'),
    (12, '2025-12-24', '2025-12-24 14:24:36', '2025-12-24 14:24:36.500', '/home'),
    (16, '2026-01-02', '2026-01-02 09:32:08', '2026-01-02 09:32:08.000', '/search'),
    (20, '2026-01-11', '2026-01-11 04:40:40', '2026-01-11 04:40:40.500', '/cart'),
    (24, '2026-01-20', '2026-01-20 04:48:12', '2026-01-20 04:48:12.000', '/home'),
    (28, '2026-01-28', '2026-01-28 23:56:44', '2026-01-28 23:56:44.500', '/search'),
    (32, '2026-02-06', '2026-02-06 18:04:16', '2026-02-06 18:04:16.000', '/cart'),
    (36, '2026-02-15', '2026-02-15 13:12:48', '2026-02-15 13:12:48.500', '/home'),
    (40, '2026-02-24', '2026-02-24 08:20:20', '2026-02-24 08:20:20.000', '/search');
INSERT INTO visits (id, page, ts, ts64, d) VALUES (41, '/home', '2025-12-31 23:59:59', '2025-12-31 23:59:59.999', '2025-12-31'), (42, '/cart', '2026-01-01 00:00:00', '2026-01-01 00:00:00.000', '2026-01-01');
INSERT INTO visits (d, ts, ts64, id, page) VALUES ('2026-01-15', '2026-01-15 10:00:00', '2026-01-15 10:00:00.001', 43, '/search'), ('2024-02-29', '2024-02-29 12:30:00', '2024-02-29 12:30:00.5', 44, '/home');

SELECT count(), min(d), max(d), min(ts), max(ts), min(ts64), max(ts64) FROM visits;
SELECT id, d, ts, ts64 FROM visits WHERE id IN (1, 2, 41, 42, 43, 44) ORDER BY id;

-- Functions on Date / DateTime / DateTime64
SELECT id, toDate(ts), toDate(ts64), toYYYYMM(d), toYYYYMM(ts), toYYYYMM(ts64) FROM visits WHERE id <= 6 ORDER BY id;
SELECT id, toStartOfHour(ts), toStartOfHour(ts64), toHour(ts), toHour(ts64) FROM visits WHERE id <= 6 ORDER BY id;
SELECT id, toStartOfHour(ts), toHour(ts) FROM visits WHERE id >= 41 ORDER BY id;
SELECT id, toYYYYMM(d) % 100, toHour(ts) + 1, toHour(ts) * 60 FROM visits WHERE id BETWEEN 10 AND 13 ORDER BY id;
SELECT count() FROM visits WHERE toDate(ts) = d;
SELECT count() FROM visits WHERE toDate(ts64) = toDate(ts);
SELECT toDate('2026-03-15'), toYYYYMM(toDate('2026-03-15')), toDate('2026-03-15') > '2026-03-01';
SELECT toDate('2024-02-29') < toDate('2024-03-01'), toDate('2026-01-01') = '2026-01-01';
SELECT today() > toDate('2020-01-01');

-- Comparisons with string literals
SELECT id, d FROM visits WHERE d = '2026-01-01';
SELECT id, d FROM visits WHERE d >= '2026-02-20' ORDER BY d, id;
SELECT id, d FROM visits WHERE d < '2025-12-05' ORDER BY d, id;
SELECT count() FROM visits WHERE d BETWEEN '2025-12-01' AND '2025-12-31';
SELECT count() FROM visits WHERE d NOT BETWEEN '2025-12-01' AND '2025-12-31';
SELECT id FROM visits WHERE d IN ('2025-12-31', '2026-01-15', '2024-02-29') ORDER BY id;
SELECT id, ts FROM visits WHERE ts = '2026-01-15 10:00:00';
SELECT id, ts FROM visits WHERE ts >= '2026-02-15 00:00:00' ORDER BY ts, id;
SELECT id, ts FROM visits WHERE ts > '2025-12-31 12:00:00' AND ts < '2026-01-01 12:00:00' ORDER BY ts, id;
SELECT count() FROM visits WHERE ts < '2026-01-01';
SELECT count() FROM visits WHERE ts >= '2026-01-01';
SELECT id, ts64 FROM visits WHERE ts64 = '2026-01-15 10:00:00.001';
SELECT id, ts64 FROM visits WHERE ts64 > '2025-12-31 23:59:59.998' AND ts64 < '2026-01-01 00:00:00.001' ORDER BY ts64;
SELECT count() FROM visits WHERE ts64 >= '2026-01-01 00:00:00';
SELECT id FROM visits WHERE toHour(ts) IN (0, 23) ORDER BY id;
SELECT id, toHour(ts64) FROM visits WHERE toHour(ts64) BETWEEN 10 AND 11 ORDER BY id;
SELECT id FROM visits WHERE toYYYYMM(d) = 202602 AND page = '/home' ORDER BY id;

-- Ordering by time
SELECT id, ts FROM visits ORDER BY ts DESC, id LIMIT 5;
SELECT id, ts64 FROM visits ORDER BY ts64, id LIMIT 5;
SELECT id, d FROM visits WHERE page = '/cart' ORDER BY d DESC, id DESC LIMIT 4;

-- Grouping by time buckets
SELECT toYYYYMM(d) AS m, count(), min(d), max(d) FROM visits GROUP BY m ORDER BY m;
SELECT toYYYYMM(ts64), count() FROM visits GROUP BY toYYYYMM(ts64) ORDER BY 1;
SELECT toHour(ts) AS h, count() FROM visits GROUP BY h ORDER BY h;
SELECT toHour(ts) AS h, count() AS c FROM visits GROUP BY h ORDER BY c DESC, h LIMIT 3;
SELECT toDate(ts) AS day, count() FROM visits WHERE d >= '2026-02-10' GROUP BY day ORDER BY day;
SELECT toStartOfHour(ts) AS hr, count(), min(id) FROM visits WHERE d BETWEEN '2025-12-30' AND '2026-01-02' GROUP BY hr ORDER BY hr;
SELECT page, toYYYYMM(d) AS m, count(), min(ts), max(ts64) FROM visits GROUP BY page, m ORDER BY page, m;
SELECT uniqExact(toYYYYMM(d)), uniqExact(toDate(ts)), uniqExact(toHour(ts)), uniqExact(ts64) FROM visits;
SELECT toYYYYMM(d), countIf(toHour(ts) < 12), countIf(toHour(ts) >= 12) FROM visits GROUP BY toYYYYMM(d);

DROP TABLE visits;
