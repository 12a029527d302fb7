-- ARRAY JOIN over arrays and Nested columns
CREATE TABLE sessions (id UInt32, user String, tags Array(String), scores Array(UInt32), context Nested(device String, city String)) ENGINE = MergeTree ORDER BY id;
INSERT INTO sessions VALUES (1, 'a', ['x', 'y'], [10, 20], ['ios', 'web'], ['Beijing', 'Shanghai']), (2, 'b', [], [], [], []), (3, 'c', ['z'], [5], ['android'], ['Wuhan']);
SELECT id, tags FROM sessions ARRAY JOIN tags ORDER BY id, tags;
SELECT id, tag, tags FROM sessions ARRAY JOIN tags AS tag ORDER BY id, tag;
SELECT id, length(tags), tags = '' FROM sessions LEFT ARRAY JOIN tags ORDER BY id, tags;
SELECT id, context.device, context.city FROM sessions ARRAY JOIN context ORDER BY id, context.device;
SELECT context.device, count() FROM sessions ARRAY JOIN context GROUP BY context.device ORDER BY context.device;
SELECT user, sum(scores) FROM sessions ARRAY JOIN scores WHERE scores > 5 GROUP BY user ORDER BY user;
SELECT count() FROM sessions ARRAY JOIN context WHERE context.city = 'Beijing';
SELECT id, c.device FROM sessions ARRAY JOIN context AS c ORDER BY id, c.device;
SELECT id FROM sessions ARRAY JOIN user;
