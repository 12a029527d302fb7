-- MergeTree engine variants: SummingMergeTree and ReplacingMergeTree. Collapsed results are only observed
-- through FINAL or after OPTIMIZE TABLE ... FINAL; before that only merge-invariant aggregates (sums) are queried.

-- SummingMergeTree(): every numeric non-key column is summed. The partition key is on a sorting key
-- column, so rows of one key never span partitions. Surviving keys have every summed column non-zero
-- (see NOTES.md: a FINAL read only checks the columns it reads for all-zero sums).
CREATE TABLE sm_all (k String, d Date, hits UInt64, bytes Int64, cost Float64, note String) ENGINE = SummingMergeTree() PARTITION BY toYYYYMM(d) ORDER BY (k, d);
INSERT INTO sm_all VALUES ('a', '2026-01-03', 1, 100, 0.5, 'n'), ('b', '2026-01-04', 2, -50, 1.25, 'n'), ('c', '2026-02-10', 3, 7, 0.5, 'n'), ('z', '2026-01-09', 0, -4, 2.5, 'n');
INSERT INTO sm_all VALUES ('a', '2026-01-03', 10, 1, 0.25, 'n'), ('a', '2026-02-01', 5, 5, 5, 'n'), ('c', '2026-02-10', 30, -8, 0.75, 'n'), ('b', '2026-01-04', 1, -1, 1, 'n');
INSERT INTO sm_all VALUES ('z', '2026-01-09', 0, 4, -2.5, 'n'), ('a', '2026-01-03', 100, 10, 0.125, 'n'), ('d', '2026-03-01', 4, 4, 4, 'n'), ('z', '2026-02-15', 1, 1, 1, 'n');

-- Sums are the same whatever has been merged
SELECT sum(hits), sum(bytes), sum(cost) FROM sm_all;
SELECT k, sum(hits), sum(bytes), sum(cost) FROM sm_all GROUP BY k ORDER BY k;
SELECT toYYYYMM(d) AS m, sum(hits), sum(bytes) FROM sm_all GROUP BY m ORDER BY m;

-- FINAL: one row per key; ('z', 2026-01-09) sums to all zeros and disappears
SELECT k, d, hits, bytes, cost FROM sm_all FINAL ORDER BY k, d;
SELECT k, d, hits, bytes, cost FROM sm_all FINAL WHERE hits > 5 ORDER BY k, d;
SELECT sum(hits), sum(bytes), sum(cost) FROM sm_all FINAL;

OPTIMIZE TABLE sm_all FINAL;
SELECT k, d, hits, bytes, cost FROM sm_all ORDER BY k, d;
SELECT count() FROM sm_all;
SELECT count() FROM sm_all FINAL;
SELECT k, d, hits, bytes, cost FROM sm_all FINAL ORDER BY k, d;
SELECT toYYYYMM(d) AS m, count(), sum(hits) FROM sm_all GROUP BY m ORDER BY m;

-- Partition key NOT covered by the sorting key: OPTIMIZE merges each partition on its own, but a
-- FINAL read merges equal keys across partitions (ClickHouse's default; see NOTES.md), so FINAL
-- queries here do not look at d, whose value would come from an arbitrary row.
CREATE TABLE sm_xpart (k String, d Date, hits UInt64, bytes Int64) ENGINE = SummingMergeTree() PARTITION BY toYYYYMM(d) ORDER BY k;
INSERT INTO sm_xpart VALUES ('a', '2026-01-03', 1, 10), ('b', '2026-01-04', 2, 20), ('a', '2026-02-10', 4, 40);
INSERT INTO sm_xpart VALUES ('a', '2026-01-20', 8, 80), ('b', '2026-02-04', 16, 160);
INSERT INTO sm_xpart VALUES ('a', '2026-02-28', 32, 320), ('c', '2026-03-01', 64, 640);
SELECT k, hits, bytes FROM sm_xpart FINAL ORDER BY k;
SELECT count() FROM sm_xpart FINAL;
OPTIMIZE TABLE sm_xpart FINAL;
SELECT k, toYYYYMM(d), hits, bytes FROM sm_xpart ORDER BY k, toYYYYMM(d);
SELECT count() FROM sm_xpart;
SELECT k, hits, bytes FROM sm_xpart FINAL ORDER BY k;

-- SummingMergeTree((hits, bytes)): only the listed columns are summed; 'other' is equal within a key.
-- A key whose listed columns sum to zero is deleted even if other columns are not zero.
CREATE TABLE sm_cols (k String, hits UInt32, bytes Int64, other UInt32) ENGINE = SummingMergeTree((hits, bytes)) ORDER BY k;
INSERT INTO sm_cols VALUES ('a', 1, 10, 5), ('b', 2, -7, 7), ('c', 0, 3, 9);
INSERT INTO sm_cols VALUES ('a', 1, 20, 5), ('b', 3, -7, 7), ('c', 0, -3, 9);
INSERT INTO sm_cols VALUES ('a', 4, 1, 5), ('e', 6, 6, 1);
SELECT k, hits, bytes, other FROM sm_cols FINAL ORDER BY k;
SELECT sum(hits), sum(bytes) FROM sm_cols FINAL;
OPTIMIZE TABLE sm_cols FINAL;
SELECT k, hits, bytes, other FROM sm_cols ORDER BY k;
SELECT count() FROM sm_cols;

-- SummingMergeTree(hits): a single summed column; rows with hits summing to 0 are deleted
CREATE TABLE sm_one (k UInt32, hits UInt64, tag String) ENGINE = SummingMergeTree(hits) ORDER BY k;
INSERT INTO sm_one VALUES (1, 5, 'x'), (2, 0, 'y'), (3, 1, 'z');
INSERT INTO sm_one VALUES (1, 6, 'x'), (2, 0, 'y'), (4, 9, 'w');
SELECT k, hits, tag FROM sm_one FINAL ORDER BY k;
OPTIMIZE TABLE sm_one FINAL;
SELECT k, hits, tag FROM sm_one ORDER BY k;

-- ReplacingMergeTree(): the last inserted row of a key wins (also within one INSERT)
CREATE TABLE rm_last (id UInt32, name String, score Int32) ENGINE = ReplacingMergeTree() ORDER BY id;
INSERT INTO rm_last VALUES (1, 'a1', 10), (2, 'b1', 20), (3, 'c1', 30), (1, 'a2', 11);
INSERT INTO rm_last VALUES (2, 'b2', 21), (4, 'd1', 40);
INSERT INTO rm_last VALUES (1, 'a3', 12), (4, 'd2', 41), (2, 'b3', 22);
SELECT id, name, score FROM rm_last FINAL ORDER BY id;
SELECT count() FROM rm_last FINAL;
SELECT id, name FROM rm_last FINAL WHERE score > 20 ORDER BY id;
SELECT sum(score) FROM rm_last FINAL;
OPTIMIZE TABLE rm_last FINAL;
SELECT id, name, score FROM rm_last ORDER BY id;
SELECT count() FROM rm_last;

-- ReplacingMergeTree(ver): the highest version wins, ties go to the last inserted row
CREATE TABLE rm_ver (id UInt32, ver UInt32, name String) ENGINE = ReplacingMergeTree(ver) ORDER BY id;
INSERT INTO rm_ver VALUES (1, 5, 'one-v5'), (2, 1, 'two-v1'), (3, 9, 'three-v9');
INSERT INTO rm_ver VALUES (1, 3, 'one-v3'), (2, 2, 'two-v2'), (3, 9, 'three-v9-late');
INSERT INTO rm_ver VALUES (1, 4, 'one-v4'), (2, 2, 'two-v2-late'), (4, 1, 'four-v1');
SELECT id, ver, name FROM rm_ver FINAL ORDER BY id;
OPTIMIZE TABLE rm_ver FINAL;
SELECT id, ver, name FROM rm_ver ORDER BY id;

-- ReplacingMergeTree with a DateTime version and a partition key that the sorting key does not cover:
-- OPTIMIZE keeps one row per key in each partition, while FINAL replaces across partitions too.
CREATE TABLE rm_ts (id UInt32, d Date, updated DateTime, status String) ENGINE = ReplacingMergeTree(updated) PARTITION BY toYYYYMM(d) ORDER BY id;
INSERT INTO rm_ts VALUES (1, '2026-01-10', '2026-01-10 10:00:00', 'new'), (1, '2026-02-10', '2026-02-10 10:00:00', 'new'), (2, '2026-01-11', '2026-01-11 09:00:00', 'new');
INSERT INTO rm_ts VALUES (1, '2026-01-10', '2026-01-12 08:00:00', 'paid'), (2, '2026-01-11', '2026-01-11 08:00:00', 'stale');
INSERT INTO rm_ts VALUES (1, '2026-02-10', '2026-02-11 00:00:00', 'shipped'), (2, '2026-01-11', '2026-01-13 12:30:00', 'paid');
SELECT id, d, updated, status FROM rm_ts FINAL ORDER BY id;
OPTIMIZE TABLE rm_ts FINAL;
SELECT id, d, updated, status FROM rm_ts ORDER BY id, d;
SELECT count() FROM rm_ts;
SELECT id, d, updated, status FROM rm_ts FINAL ORDER BY id;

