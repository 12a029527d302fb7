-- String functions: lengths, case, concat and ||, substring, position/locate, LIKE as
-- functions, match and regex replacement, replace, splitByChar, trims, reverse, repeat,
-- toString, empty/notEmpty, JSON extraction; NULL inputs propagate.

CREATE TABLE s (id UInt32, name String, note Nullable(String), code FixedString(4), tags String, doc String) ENGINE = MergeTree ORDER BY id;
INSERT INTO s VALUES (1, 'Hello World', 'first', 'ab', 'a,b,c', '{"user":{"name":"ann","age":31,"tags":["x","y"]},"score":9.5,"ok":true}'),
    (2, 'héllo wörld', NULL, 'abcd', 'solo', '{"user":{"name":"bob","age":"42"},"score":"7.25","ok":false}'),
    (3, '  padded  ', 'x', '', '', '{"user":null,"score":3}'),
    (4, 'ClickHouse', 'Postgres', 'zz', ',,', 'not json'),
    (5, 'a%b_c', '', 'a', 'x,y', '[1,2,{"k":"v"}]');

SELECT id, length(name), lengthUTF8(name), char_length(name), length(code) FROM s ORDER BY id;
SELECT id, lower(name), upper(name), lowerUTF8(name), upperUTF8(name) FROM s ORDER BY id;
SELECT id, concat(name, '|', toString(id)), concat('#', id, '-', 2.5), name || '!' FROM s ORDER BY id;
SELECT id, concat(name, note), note || '?' FROM s ORDER BY id;
SELECT id, substring(name, 1, 5), substring(name, -3), substring(name, 3), substr(name, 2, 2) FROM s WHERE id != 2 ORDER BY id;
SELECT id, substringUTF8(name, 2, 4), substringUTF8(name, -5), substringUTF8(name, 3, -2), substring(name, 1, 3) FROM s ORDER BY id;
SELECT id, concat('[', substring(name, 100), ']'), substring(name, 2, -2), concat('[', substring(name, -100, 3), ']'), substring(name, -100, 103) FROM s WHERE id = 1;
SELECT id, position(name, 'o'), position(name, 'l', 4), positionCaseInsensitive(name, 'WORLD'), locate('l', name), position(name, '') FROM s ORDER BY id;
SELECT id, like(name, '%o%'), notLike(name, '%o%'), ilike(name, 'HELLO%'), name ILIKE '%HOUSE', name LIKE 'a\\%b%' FROM s ORDER BY id;
SELECT id, match(name, '^[A-Z]'), match(name, 'o.*o'), match(name, '(?i)click') FROM s ORDER BY id;
SELECT id, replaceAll(name, 'l', 'L'), replaceOne(name, 'l', 'L'), replace(name, 'o', '') FROM s ORDER BY id;
SELECT id, replaceRegexpAll(name, '[aeiou]', '*'), replaceRegexpOne(name, '(\\w+) (\\w+)', '\\2 \\1') FROM s ORDER BY id;
SELECT replaceRegexpOne('2026-01-07', '(\\d+)-(\\d+)-(\\d+)', '\\3/\\2/\\1'), replaceRegexpAll('aaa', 'a', '$'), replaceAll('abc', '', 'x');
SELECT id, splitByChar(',', tags), length(splitByChar(',', tags)), nullIf(splitByChar(',', tags)[1], '') FROM s ORDER BY id;
SELECT splitByString(', ', 'a, b, c'), splitByString('ab', 'xabyabz'), splitByChar('-', '2026-01-07');
SELECT id, startsWith(name, 'Hel'), endsWith(name, 'ld'), startsWith(name, ''), endsWith(note, 'st') FROM s ORDER BY id;
SELECT id, concat('[', trim(name), ']'), concat('[', trimLeft(name), ']'), concat('[', trimRight(name), ']'), concat('[', trimBoth(name), ']') FROM s ORDER BY id;
SELECT id, reverse(name), repeat(name, 2), repeat('-', id) FROM s WHERE id != 2 ORDER BY id;
SELECT id, empty(name), notEmpty(note), empty(tags), notEmpty(tags), empty(splitByChar(',', tags)) FROM s ORDER BY id;
SELECT id, toString(id), toString(id * 1.5), toString(toDate('2026-01-07') + id), concat('<', toString(note), '>') FROM s ORDER BY id;
SELECT toTypeName(length(name)), toTypeName(concat(name, note)), toTypeName(splitByChar(',', tags)), toTypeName(position(name, 'a')), toTypeName(match(name, 'a')), toTypeName(upper(note)) FROM s LIMIT 1;
SELECT id, nullIf(upper(note), ''), nullIf(lower(note), ''), nullIf(reverse(note), ''), length(note) FROM s ORDER BY id;
SELECT id, name FROM s WHERE startsWith(lower(name), 'h') OR match(name, 'C.*H') ORDER BY id;
SELECT lower(substring(trim(name), 1, 1)) AS initial, count() FROM s GROUP BY initial ORDER BY initial;
SELECT match(name, '(unclosed') FROM s;
SELECT splitByChar(', ', tags) FROM s;

-- JSON
SELECT id, nullIf(JSONExtractString(doc, 'user', 'name'), ''), JSONExtractInt(doc, 'user', 'age'), JSONExtractFloat(doc, 'score'), JSONExtractBool(doc, 'ok') FROM s ORDER BY id;
SELECT id, JSONHas(doc, 'user'), JSONHas(doc, 'user', 'name'), JSONHas(doc, 'missing'), nullIf(JSONExtractString(doc, 'user', 'tags', 2), ''), nullIf(JSONExtractString(doc, 'user', 'tags', -1), '') FROM s ORDER BY id;
SELECT id, JSONExtractInt(doc, 'score'), JSONExtractUInt(doc, 'user', 'age'), nullIf(JSONExtractRaw(doc, 'user', 'tags'), ''), nullIf(JSONExtractString(doc, 3, 'k'), ''), JSONExtractInt(doc, 1) FROM s ORDER BY id;
SELECT JSONExtractString('{"a":"x\\ny"}', 'a') = 'x\ny', JSONExtractString('{"a":1.50}', 'a'), JSONExtractString('{"a":[1, true]}', 'a'), JSONExtractBool('{"a":0.5}', 'a'), JSONExtractInt('{"a":1.9}', 'a'), JSONExtractInt('{"a":true}', 'a'), JSONExtractBool('{"a":1}', 'a'), JSONHas('{"a":null}', 'a');
SELECT toTypeName(JSONExtractInt(doc, 'a')), toTypeName(JSONExtractFloat(doc, 'a')), toTypeName(JSONExtractBool(doc, 'a')), toTypeName(JSONHas(doc, 'a')), toTypeName(JSONExtractString(doc, 'a')) FROM s LIMIT 1;
SELECT JSONExtractString(doc, 'user', 'name') AS who, count() FROM s GROUP BY who HAVING who != '' ORDER BY who;

DROP TABLE s;
