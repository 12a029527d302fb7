-- WHERE clauses: comparisons, boolean logic, IN, BETWEEN, LIKE, arithmetic predicates.
-- ev has a small index_granularity and several parts so primary-key filtering skips granules.

CREATE TABLE ev (id UInt32, cat String, name String, n Int32, u UInt16, x Float64, d Date, flag Bool) ENGINE = MergeTree PARTITION BY toYYYYMM(d) ORDER BY id SETTINGS index_granularity = 4;
INSERT INTO ev VALUES (40, 'green', 'Item-40', -16, 20, 1.5, '2026-03-05', false),
    (34, 'green', 'item_34', 8, 342, -1, '2026-03-03', false),
    (15, 'red', 'item_15', 2, 195, 1, '2026-01-20', true),
    (16, 'green', 'Item-16', -2, 308, 0, '2026-01-25', false),
    (11, 'blue', 'item_11', 18, 243, 0.75, '2026-01-28', false),
    (47, 'blue', 'item_47', -3, 311, 3, '2026-03-12', false),
    (12, 'red', 'Item-12', 14, 356, -0.25, '2026-01-05', true),
    (17, 'blue', 'item_17', -6, 421, -1, '2026-02-02', false),
    (32, 'blue', 'Item-32', 16, 116, 1, '2026-02-21', false),
    (37, 'green', 'item_37', -4, 181, 0.25, '2026-03-18', false),
    (41, 'blue', 'item_41', -20, 133, 0.5, '2026-03-10', false),
    (43, 'green', 'item_43', 13, 359, 2.75, '2026-03-20', false);
INSERT INTO ev VALUES (29, 'blue', 'item_29', -13, 277, -0.25, '2026-02-06', false),
    (9, 'red', 'item_9', -15, 17, 2.75, '2026-01-18', true),
    (1, 'green', 'item_1', 17, 113, 2.25, '2026-01-06', false),
    (23, 'blue', 'item_23', 11, 99, 1.5, '2026-02-04', false),
    (20, 'blue', 'Item-20', -18, 260, 0.25, '2026-02-17', false),
    (13, 'green', 'item_13', 10, 469, 3, '2026-01-10', false),
    (46, 'green', 'item_46', 1, 198, -0.25, '2026-03-07', false),
    (25, 'green', 'item_25', 3, 325, -0.5, '2026-02-14', false),
    (22, 'green', 'item_22', 15, 486, 2.5, '2026-02-27', false),
    (48, 'red', 'Item-48', -7, 424, 2, '2026-03-17', true),
    (30, 'red', 'item_30', -17, 390, 3, '2026-02-11', true),
    (39, 'red', 'item_39', -12, 407, 2.5, '2026-03-28', true);
INSERT INTO ev VALUES (19, 'green', 'item_19', -14, 147, 1.25, '2026-02-12', false),
    (2, 'blue', 'item_2', 13, 226, 1.25, '2026-01-11', false),
    (36, 'red', 'Item-36', 0, 68, 1.25, '2026-03-13', true),
    (18, 'red', 'item_18', -10, 34, 2.25, '2026-02-07', true),
    (31, 'green', 'item_31', 20, 3, 2, '2026-02-16', false),
    (8, 'blue', 'Item-8', -11, 404, -0.5, '2026-01-13', false),
    (45, 'red', 'item_45', 5, 85, 0.75, '2026-03-02', true),
    (27, 'red', 'item_27', -5, 51, 1.75, '2026-02-24', true),
    (28, 'green', 'Item-28', -9, 164, 0.75, '2026-02-01', false),
    (6, 'red', 'item_6', -3, 178, 1.5, '2026-01-03', true),
    (3, 'red', 'item_3', 9, 339, 0.25, '2026-01-16', true),
    (14, 'blue', 'item_14', 6, 82, 2, '2026-01-15', false);
INSERT INTO ev VALUES (33, 'red', 'item_33', 12, 229, 0, '2026-03-26', true),
    (44, 'blue', 'Item-44', 9, 472, 1.75, '2026-03-25', false),
    (38, 'blue', 'item_38', -8, 294, -0.75, '2026-03-23', false),
    (24, 'red', 'Item-24', 7, 212, 0.5, '2026-02-09', true),
    (7, 'green', 'item_7', -7, 291, 0.5, '2026-01-08', false),
    (35, 'blue', 'item_35', 4, 455, 2.25, '2026-03-08', false),
    (5, 'blue', 'item_5', 1, 65, 2.5, '2026-01-26', false),
    (4, 'green', 'Item-4', 5, 452, -0.75, '2026-01-21', false),
    (42, 'red', 'item_42', 17, 246, -0.5, '2026-03-15', true),
    (26, 'blue', 'item_26', -1, 438, 2.75, '2026-02-19', false),
    (10, 'green', 'item_10', -19, 130, 1.75, '2026-01-23', false),
    (21, 'red', 'item_21', 19, 373, -0.75, '2026-02-22', true);

SELECT count() FROM ev;

-- Primary key comparisons
SELECT id, cat, name, n, u, x, d, flag FROM ev WHERE id = 17;
SELECT id FROM ev WHERE id < 5 ORDER BY id;
SELECT id FROM ev WHERE id <= 3 ORDER BY id DESC;
SELECT id FROM ev WHERE id > 45 ORDER BY id;
SELECT id FROM ev WHERE id >= 46 AND id != 47 ORDER BY id;
SELECT count() FROM ev WHERE id <> 10;
SELECT id FROM ev WHERE id BETWEEN 10 AND 13 ORDER BY id;
SELECT id FROM ev WHERE id NOT BETWEEN 3 AND 46 ORDER BY id;
SELECT id FROM ev WHERE id IN (1, 20, 48, 99) ORDER BY id;
SELECT id FROM ev WHERE id NOT IN (2, 4, 6, 8) AND id < 10 ORDER BY id;
SELECT id FROM ev WHERE id = 100;
SELECT id FROM ev WHERE 17 = id;
SELECT id FROM ev WHERE 5 > id ORDER BY id;

-- Non-key columns
SELECT id, n FROM ev WHERE n > 15 ORDER BY id;
SELECT id, n FROM ev WHERE n < -17 ORDER BY id;
SELECT id, n FROM ev WHERE n = 0 OR n = -1 ORDER BY id;
SELECT id, u FROM ev WHERE u < 60 ORDER BY id;
SELECT id, u FROM ev WHERE u BETWEEN 400 AND 430 ORDER BY id;
SELECT count() FROM ev WHERE u > -1;
SELECT count() FROM ev WHERE n > -1;
SELECT id, x FROM ev WHERE x >= 2.75 ORDER BY id;
SELECT id, x FROM ev WHERE x < -0.5 ORDER BY id;
SELECT id, x FROM ev WHERE x = 1.25 ORDER BY id;
SELECT id FROM ev WHERE x IN (-1, 3) ORDER BY id;

-- Strings
SELECT id FROM ev WHERE cat = 'red' AND n > 10 ORDER BY id;
SELECT count() FROM ev WHERE cat != 'blue';
SELECT count() FROM ev WHERE cat IN ('red', 'green');
SELECT count() FROM ev WHERE cat NOT IN ('red', 'green');
SELECT id, cat FROM ev WHERE cat > 'green' AND id < 8 ORDER BY id;
SELECT id, name FROM ev WHERE name LIKE 'Item%' ORDER BY id;
SELECT id, name FROM ev WHERE name LIKE 'item_1_' ORDER BY id;
SELECT id, name FROM ev WHERE name LIKE '%5' ORDER BY id;
SELECT id, name FROM ev WHERE name LIKE '%m-2%' ORDER BY id;
SELECT id, name FROM ev WHERE name LIKE '_tem%' AND id > 40 ORDER BY id;
SELECT count() FROM ev WHERE name NOT LIKE 'item%';
SELECT count() FROM ev WHERE name LIKE 'ITEM%';
SELECT id FROM ev WHERE name = 'item_7';

-- Boolean logic and precedence
SELECT id FROM ev WHERE cat = 'red' OR cat = 'blue' AND n > 15 ORDER BY id;
SELECT id FROM ev WHERE (cat = 'red' OR cat = 'blue') AND n > 15 ORDER BY id;
SELECT id FROM ev WHERE NOT (n < 15) ORDER BY id;
SELECT id FROM ev WHERE NOT cat = 'red' AND NOT cat = 'green' AND id < 12 ORDER BY id;
SELECT id FROM ev WHERE flag AND n > 10 ORDER BY id;
SELECT id FROM ev WHERE NOT flag AND id > 42 ORDER BY id;
SELECT count() FROM ev WHERE flag = true;
SELECT count() FROM ev WHERE flag OR id < 3;
SELECT count() FROM ev WHERE 1 = 1;
SELECT count() FROM ev WHERE 1 = 0;

-- Arithmetic in predicates
SELECT id FROM ev WHERE id % 10 = 0 ORDER BY id;
SELECT id, n FROM ev WHERE n * 2 > 30 ORDER BY id;
SELECT id, n, u FROM ev WHERE u + n < 30 ORDER BY id;
SELECT id FROM ev WHERE id / 4 = 3;
SELECT id, -n FROM ev WHERE -n > 17 ORDER BY id;
SELECT id, x * 4 FROM ev WHERE x * 4 = id % 13 ORDER BY id;

-- Dates
SELECT count() FROM ev WHERE d >= '2026-02-01' AND d < '2026-03-01';
SELECT id, d FROM ev WHERE d = '2026-01-06';
SELECT id, d FROM ev WHERE d > '2026-03-20' ORDER BY d, id;
SELECT id, d FROM ev WHERE d BETWEEN '2026-01-01' AND '2026-01-08' ORDER BY d, id;
SELECT id FROM ev WHERE d IN ('2026-01-03', '2026-02-04', '2026-12-31') ORDER BY id;

-- Expressions and aliases in the select list
SELECT id, n * 2 AS dbl, u - n AS diff FROM ev WHERE id <= 4 ORDER BY id;
SELECT id AS k, (n + 20) % 7 AS m FROM ev WHERE id BETWEEN 20 AND 24 ORDER BY k;
SELECT id, n > 0 AS pos, cat = 'red' AS is_red FROM ev WHERE id IN (1, 2, 3) ORDER BY id;

DROP TABLE ev;
