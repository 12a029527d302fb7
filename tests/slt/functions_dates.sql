-- Date and time functions (UTC): parts, truncation, toStartOfInterval, dateDiff, add/subtract,
-- formatDateTime, parseDateTimeBestEffort, toUnixTimestamp, DateTime64, NULL inputs.

CREATE TABLE ev (id UInt32, d Date, ts DateTime, ts64 DateTime64(3), maybe Nullable(DateTime), txt String) ENGINE = MergeTree ORDER BY id;
INSERT INTO ev VALUES (1, '2026-01-04', '2026-01-04 13:05:09', '2026-01-04 13:05:09.123', '2026-01-04 13:05:09', '2026-01-04T13:05:09Z'),
    (2, '2025-12-31', '2025-12-31 23:59:59', '2025-12-31 23:59:59.999', NULL, '2025-12-31 23:59:59'),
    (3, '2024-02-29', '2024-02-29 00:00:00', '2024-02-29 00:00:00.500', '2024-02-29 06:30:00', '29/02/2024'),
    (4, '2026-03-31', '2026-03-31 07:45:30', '2026-03-31 07:45:30.007', NULL, 'Tue, 31 Mar 2026 07:45:30 GMT'),
    (5, '1970-01-01', '1970-01-01 00:00:00', '1970-01-01 00:00:00.000', '1970-01-01 00:00:01', '1970-01-01'),
    (6, '2027-01-01', '2027-01-01 12:00:00', '2027-01-01 12:00:00.250', '2027-01-01 12:00:00', 'not a date');

-- Parts
SELECT id, toYear(ts), toQuarter(ts), toMonth(ts), toDayOfMonth(ts), toDayOfYear(ts), toDayOfWeek(ts) FROM ev ORDER BY id;
SELECT id, toHour(ts), toMinute(ts), toSecond(ts), toMinute(ts64), toSecond(ts64) FROM ev ORDER BY id;
SELECT id, toYear(d), toMonth(d), toDayOfMonth(d), toDayOfWeek(d), toQuarter(d), toDayOfYear(d) FROM ev ORDER BY id;
SELECT id, toISOWeek(d), toYYYYMM(ts), toYYYYMMDD(ts64) FROM ev ORDER BY id;
SELECT id, toHour(maybe), toYear(maybe), toDayOfWeek(maybe) FROM ev ORDER BY id;
SELECT toTypeName(toYear(ts)), toTypeName(toMonth(ts)), toTypeName(toDayOfYear(d)), toTypeName(toHour(maybe)) FROM ev LIMIT 1;

-- Truncation
SELECT id, toStartOfMinute(ts), toStartOfHour(ts), toStartOfDay(ts), toStartOfDay(d) FROM ev ORDER BY id;
SELECT id, toStartOfWeek(d), toStartOfWeek(d, 1), toMonday(ts), toStartOfMonth(ts), toStartOfQuarter(ts), toStartOfYear(d) FROM ev ORDER BY id;
SELECT id, toStartOfMinute(ts64), toStartOfDay(ts64), toStartOfMonth(ts64) FROM ev ORDER BY id;
SELECT id, toStartOfMonth(maybe), toStartOfMinute(maybe) FROM ev ORDER BY id;
SELECT toTypeName(toStartOfMinute(ts)), toTypeName(toStartOfDay(d)), toTypeName(toStartOfMonth(ts)), toTypeName(toStartOfWeek(ts)), toTypeName(toStartOfMonth(maybe)) FROM ev LIMIT 1;

-- toStartOfInterval
SELECT id, toStartOfInterval(ts, INTERVAL 15 MINUTE), toStartOfInterval(ts, INTERVAL 7 MINUTE), toStartOfInterval(ts, INTERVAL 10 SECOND) FROM ev ORDER BY id;
SELECT id, toStartOfInterval(ts, INTERVAL 7 HOUR), toStartOfInterval(ts, INTERVAL 2 DAY), toStartOfInterval(ts, INTERVAL 2 WEEK) FROM ev ORDER BY id;
SELECT id, toStartOfInterval(ts, INTERVAL 1 MONTH), toStartOfInterval(ts, INTERVAL 5 MONTH), toStartOfInterval(d, INTERVAL 1 QUARTER), toStartOfInterval(d, INTERVAL 3 YEAR) FROM ev ORDER BY id;
SELECT toStartOfInterval(ts, INTERVAL 6 HOUR) AS bucket, count() FROM ev GROUP BY bucket ORDER BY bucket;
SELECT toTypeName(toStartOfInterval(ts, INTERVAL 1 DAY)), toTypeName(toStartOfInterval(d, INTERVAL 1 WEEK)), toTypeName(toStartOfInterval(ts64, INTERVAL 1 HOUR)) FROM ev LIMIT 1;
SELECT toStartOfInterval(d, INTERVAL 1 HOUR) FROM ev;

-- dateDiff counts unit boundaries crossed
SELECT id, dateDiff('day', d, toDate('2026-01-01')), dateDiff('month', d, toDate('2026-01-01')), dateDiff('year', ts, toDateTime('2026-01-01 00:00:00')) FROM ev ORDER BY id;
SELECT id, dateDiff('second', ts, ts64), dateDiff('minute', toStartOfDay(ts), ts), date_diff('hour', ts, toDateTime('2026-01-01 00:00:00')), dateDiff('week', d, toDate('2026-01-05')) FROM ev ORDER BY id;
SELECT dateDiff('month', toDate('2026-01-31'), toDate('2026-02-01')), dateDiff('quarter', toDate('2026-03-31'), toDate('2026-04-01')), dateDiff('day', toDateTime('2026-01-01 23:00:00'), toDateTime('2026-01-02 01:00:00')), dateDiff('week', toDate('2026-01-03'), toDate('2026-01-05'));
SELECT id, dateDiff('day', maybe, ts) FROM ev ORDER BY id;
SELECT toTypeName(dateDiff('day', d, d)) FROM ev LIMIT 1;
SELECT dateDiff('fortnight', d, d) FROM ev;

-- add / subtract
SELECT id, addDays(d, 1), addWeeks(d, 1), addMonths(d, 1), addQuarters(d, -1), addYears(d, 1) FROM ev ORDER BY id;
SELECT id, addHours(ts, 12), addMinutes(ts, -90), addSeconds(ts, 3600), subtractDays(ts, 31), subtractMonths(ts, 1), subtractYears(ts, 1) FROM ev ORDER BY id;
SELECT id, addHours(d, 1), addSeconds(ts64, 1), subtractWeeks(ts64, 1), addMonths(ts64, 1) FROM ev ORDER BY id;
SELECT id, addDays(d, id), subtractHours(ts, id) FROM ev ORDER BY id;
SELECT toTypeName(addHours(d, 1)), toTypeName(addDays(d, 1)), toTypeName(addSeconds(ts64, 1)), toTypeName(addMonths(ts, 1)) FROM ev LIMIT 1;
SELECT id, addDays(maybe, 1) FROM ev ORDER BY id;

-- formatDateTime
SELECT id, formatDateTime(ts, '%Y-%m-%d %H:%i:%S'), formatDateTime(d, '%d/%m/%y'), formatDateTime(ts, '%F %T') FROM ev ORDER BY id;
SELECT id, formatDateTime(ts, '%a %b %e %j %u %w %W %M %Q'), formatDateTime(ts, '%I:%i %p|%r|%R|%D|%C|%G-%V|%g') FROM ev ORDER BY id;
SELECT id, formatDateTime(ts64, '%s.%f'), formatDateTime(ts, '%%|%z|%k|%l|%h|%c') FROM ev ORDER BY id;
SELECT id, formatDateTime(maybe, '%Y%m%d') FROM ev ORDER BY id;
SELECT formatDateTime(ts, '%Y-%E') FROM ev;

-- parseDateTimeBestEffort
SELECT id, parseDateTimeBestEffortOrNull(txt) FROM ev ORDER BY id;
SELECT id, parseDateTimeBestEffort(txt) FROM ev WHERE id <= 5 ORDER BY id;
SELECT parseDateTimeBestEffort('2026-01-04 13:05:09.789+02:00'), parseDateTimeBestEffort('1767532509'), parseDateTimeBestEffort('2026/01/04 13:05'), parseDateTimeBestEffort('20260104');
SELECT parseDateTimeBestEffort('4 January 2026'), parseDateTimeBestEffort('Jan 4 2026 1:05 PM'), parseDateTimeBestEffort('12/25/2026'), parseDateTimeBestEffort('20260104130509');
SELECT parseDateTimeBestEffort(txt) FROM ev;
SELECT toTypeName(parseDateTimeBestEffort(txt)), toTypeName(parseDateTimeBestEffortOrNull(txt)) FROM ev LIMIT 1;

-- Conversions, constants
SELECT id, toUnixTimestamp(ts), toUnixTimestamp(ts64), toDateTime(toUnixTimestamp(ts)) = ts FROM ev ORDER BY id;
SELECT toUnixTimestamp('2026-01-04 13:05:09'), toDateTime64('2026-01-04 13:05:09.5', 3), toDateTime64('2026-01-04 13:05:09', 0), toDate(ts) FROM ev WHERE id = 1;
SELECT id, toDateTime64(ts, 2), toDateTime(ts64), toDate(ts64) FROM ev ORDER BY id;
SELECT yesterday() = today() - 1, today() = toDate(now()), now() >= toDateTime('2026-01-01 00:00:00');
SELECT toTypeName(now()), toTypeName(today()), toTypeName(yesterday()), toTypeName(toUnixTimestamp(ts)), toTypeName(toDateTime64(ts, 3)) FROM ev LIMIT 1;

-- Grouping by time functions
SELECT toYear(ts) AS y, count(), min(id) FROM ev GROUP BY y ORDER BY y;
SELECT toStartOfMonth(d) AS m, count() FROM ev WHERE d >= '2025-01-01' GROUP BY m ORDER BY m;
SELECT toDayOfWeek(ts) AS dow, count(), min(id) FROM ev GROUP BY dow ORDER BY dow;

DROP TABLE ev;
