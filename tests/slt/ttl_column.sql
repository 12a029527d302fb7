
-- Column TTL: an expired column value is reset to the column default; the row stays
CREATE TABLE ttl_col (id UInt32, d Date, v UInt32 TTL d + INTERVAL 1 DAY, s String TTL d + INTERVAL 1 DAY) ENGINE = MergeTree ORDER BY id;
INSERT INTO ttl_col VALUES (1, '2000-01-01', 11, 'gone'), (2, '2100-01-01', 22, 'kept');
INSERT INTO ttl_col VALUES (3, '2000-01-03', 33, 'gone'), (4, '2100-01-03', 44, 'kept');
OPTIMIZE TABLE ttl_col FINAL;
SELECT id, d, v, s = '' FROM ttl_col ORDER BY id;
SELECT id, s FROM ttl_col WHERE s != '' ORDER BY id;
SELECT count(), sum(v) FROM ttl_col;
