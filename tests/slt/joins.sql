-- Joins: INNER, LEFT, RIGHT, FULL, CROSS; ON (one and two keys, extra conditions), USING,
-- aliases and qualified columns, SELECT * over joins, subqueries, three tables, many-to-many, NULL keys.
-- String columns filled with '' by an outer join are never printed directly (an empty cell would not
-- survive the harness's whitespace normalisation): the queries print length(x) or x = '' instead.

CREATE TABLE users (user_id UInt32, name String, country String, age Nullable(UInt8)) ENGINE = MergeTree ORDER BY user_id;
INSERT INTO users VALUES (1, 'ann', 'de', 34), (2, 'bob', 'fr', NULL), (3, 'cat', 'de', 27), (4, 'dan', 'us', 41), (5, 'eve', 'fr', NULL), (6, 'fay', 'us', 19);

CREATE TABLE items (item_id UInt32, title String, category String, price Float64) ENGINE = MergeTree ORDER BY item_id;
INSERT INTO items VALUES (10, 'lamp', 'home', 25.5), (11, 'chair', 'home', 80), (12, 'mug', 'kitchen', 7.25), (13, 'pan', 'kitchen', 31), (14, 'book', 'media', 12), (15, 'film', 'media', 9.75), (16, 'desk', 'home', 150);

CREATE TABLE events (id UInt32, ts DateTime, user_id UInt32, item_id UInt32, action String, qty UInt32) ENGINE = MergeTree ORDER BY (ts, id);
INSERT INTO events VALUES (1, '2026-03-01 09:00:00', 1, 10, 'view', 1), (2, '2026-03-01 09:05:00', 1, 10, 'cart', 1), (3, '2026-03-01 09:10:00', 1, 10, 'order', 2), (4, '2026-03-01 10:00:00', 2, 12, 'view', 1), (5, '2026-03-01 11:00:00', 2, 13, 'view', 1), (6, '2026-03-02 08:30:00', 2, 13, 'order', 1), (7, '2026-03-02 09:00:00', 3, 11, 'view', 1), (8, '2026-03-02 09:30:00', 3, 14, 'view', 1), (9, '2026-03-02 12:00:00', 3, 14, 'order', 3), (10, '2026-03-03 14:00:00', 4, 12, 'view', 1);
INSERT INTO events VALUES (11, '2026-03-03 14:10:00', 4, 12, 'cart', 2), (12, '2026-03-03 15:00:00', 4, 99, 'view', 1), (13, '2026-03-04 07:00:00', 7, 10, 'view', 1), (14, '2026-03-04 07:20:00', 7, 11, 'order', 1), (15, '2026-03-04 18:00:00', 1, 13, 'view', 1), (16, '2026-03-05 10:00:00', 1, 12, 'order', 4), (17, '2026-03-05 11:00:00', 3, 10, 'view', 1), (18, '2026-03-05 11:30:00', 4, 14, 'view', 1), (19, '2026-03-06 09:00:00', 2, 10, 'view', 1), (20, '2026-03-06 09:45:00', 2, 11, 'cart', 1);

-- INNER JOIN, qualified columns and aliases
SELECT e.id, e.action, i.title, i.category FROM events AS e INNER JOIN items AS i ON e.item_id = i.item_id ORDER BY e.id;
SELECT e.id, u.name FROM events e JOIN users u ON e.user_id = u.user_id ORDER BY e.id;
SELECT events.id, items.price FROM events JOIN items ON events.item_id = items.item_id WHERE events.action = 'order' ORDER BY events.id;
SELECT count() FROM events AS e JOIN items AS i ON i.item_id = e.item_id;
SELECT count() FROM events AS e JOIN users AS u ON e.user_id = u.user_id;
SELECT e.id, i.price * e.qty AS revenue FROM events AS e JOIN items AS i ON e.item_id = i.item_id WHERE e.action = 'order' ORDER BY revenue DESC, e.id;
-- A column name that exists on one side only needs no qualifier
SELECT id, title, name FROM events AS e JOIN items AS i ON e.item_id = i.item_id JOIN users AS u ON e.user_id = u.user_id WHERE qty > 1 ORDER BY id;

-- LEFT JOIN: unmatched rows get the type's default (0, '') for non-Nullable columns, NULL for Nullable ones
SELECT e.id, e.item_id, i.item_id, length(i.title), i.price FROM events AS e LEFT JOIN items AS i ON e.item_id = i.item_id WHERE e.item_id > 90 ORDER BY e.id;
SELECT u.user_id, u.name, count(e.id) FROM users AS u LEFT JOIN events AS e ON u.user_id = e.user_id GROUP BY u.user_id, u.name ORDER BY u.user_id;
SELECT u.name, e.id FROM users AS u LEFT JOIN events AS e ON u.user_id = e.user_id WHERE e.id = 0 ORDER BY u.name;
SELECT i.item_id, i.title, count(e.id) AS n, sum(e.qty) AS q FROM items AS i LEFT JOIN events AS e ON i.item_id = e.item_id GROUP BY i.item_id, i.title ORDER BY i.item_id;
SELECT e.id, u.age, u.age IS NULL, u.name = '' FROM events AS e LEFT JOIN users AS u ON e.user_id = u.user_id WHERE e.id IN (4, 7, 13, 14) ORDER BY e.id;
SELECT i.category, count() FROM items AS i LEFT JOIN events AS e ON i.item_id = e.item_id WHERE e.item_id = 0 GROUP BY i.category ORDER BY i.category;
SELECT count(), countIf(i.item_id = 0), countIf(u.user_id = 0) FROM events AS e LEFT JOIN items AS i ON e.item_id = i.item_id LEFT JOIN users AS u ON e.user_id = u.user_id;
SELECT e.id, e.user_id, u.user_id, u.country = '' FROM events AS e LEFT OUTER JOIN users AS u ON e.user_id = u.user_id WHERE e.user_id = 7 ORDER BY e.id;

-- RIGHT JOIN
SELECT i.item_id, i.title, e.id FROM events AS e RIGHT JOIN items AS i ON e.item_id = i.item_id WHERE e.id = 0 ORDER BY i.item_id;
SELECT i.item_id, count(e.id) FROM events AS e RIGHT JOIN items AS i ON e.item_id = i.item_id GROUP BY i.item_id ORDER BY i.item_id;
SELECT e.id, e.user_id, u.user_id, u.name FROM events AS e RIGHT OUTER JOIN users AS u ON e.user_id = u.user_id WHERE u.user_id >= 4 ORDER BY u.user_id, e.id;

-- FULL OUTER JOIN
SELECT e.id, e.item_id, i.item_id, i.category = '' FROM events AS e FULL OUTER JOIN items AS i ON e.item_id = i.item_id WHERE e.id = 0 OR i.item_id = 0 ORDER BY e.id, i.item_id;
SELECT count(), countIf(e.id = 0), countIf(i.item_id = 0) FROM events AS e FULL JOIN items AS i ON e.item_id = i.item_id;
SELECT u.user_id, e.user_id, count() FROM users AS u FULL JOIN events AS e ON u.user_id = e.user_id GROUP BY u.user_id, e.user_id ORDER BY u.user_id, e.user_id;

-- CROSS JOIN and comma joins
SELECT count() FROM users CROSS JOIN items;
SELECT u.name, i.title FROM users AS u CROSS JOIN items AS i WHERE u.country = 'us' AND i.category = 'media' ORDER BY u.name, i.title;
SELECT u.name, i.title FROM users AS u, items AS i WHERE u.user_id = 1 AND i.price > 30 ORDER BY i.title;
SELECT e.id, i.title FROM events AS e, items AS i WHERE e.item_id = i.item_id AND e.user_id = 2 ORDER BY e.id;

-- ON with two keys and with extra conditions
CREATE TABLE prices (item_id UInt32, d Date, price Float64) ENGINE = MergeTree ORDER BY (item_id, d);
INSERT INTO prices VALUES (10, '2026-03-01', 24), (10, '2026-03-05', 22), (12, '2026-03-01', 7), (12, '2026-03-03', 6.5), (13, '2026-03-01', 30), (13, '2026-03-02', 29), (14, '2026-03-02', 11), (11, '2026-03-04', 79);
SELECT e.id, p.price FROM events AS e JOIN prices AS p ON e.item_id = p.item_id AND toDate(e.ts) = p.d ORDER BY e.id;
SELECT e.id, p.d, p.price FROM events AS e LEFT JOIN prices AS p ON e.item_id = p.item_id AND toDate(e.ts) = p.d WHERE e.action = 'order' ORDER BY e.id;
SELECT e.id, i.title FROM events AS e JOIN items AS i ON e.item_id = i.item_id AND i.price > 20 ORDER BY e.id;
SELECT e.id, i.title FROM events AS e JOIN items AS i ON e.item_id = i.item_id AND e.action = 'order' ORDER BY e.id;
SELECT e.id, i.item_id, i.price FROM events AS e LEFT JOIN items AS i ON e.item_id = i.item_id AND i.category = 'kitchen' WHERE e.user_id = 2 ORDER BY e.id;
SELECT e.id, p.d FROM events AS e JOIN prices AS p ON e.item_id = p.item_id AND p.d <= toDate(e.ts) WHERE e.user_id = 1 ORDER BY e.id, p.d;
SELECT e.id, i.title FROM events AS e JOIN items AS i ON e.item_id = i.item_id AND e.qty * 10 < i.price ORDER BY e.id;
-- OR of equalities
SELECT e.id, u.name FROM events AS e JOIN users AS u ON e.user_id = u.user_id OR e.qty = u.user_id WHERE e.id IN (3, 9, 16) ORDER BY e.id, u.name;

-- USING
SELECT id, item_id, title FROM events JOIN items USING (item_id) WHERE user_id = 3 ORDER BY id;
SELECT item_id, count() FROM events LEFT JOIN items USING (item_id) GROUP BY item_id ORDER BY item_id;
SELECT item_id, d, e.id, p.price FROM (SELECT id, item_id, toDate(ts) AS d FROM events) AS e JOIN prices AS p USING (item_id, d) ORDER BY e.id;
SELECT item_id, events.item_id, items.item_id FROM events FULL JOIN items USING (item_id) WHERE events.id = 0 OR items.item_id = 0 ORDER BY item_id;

-- SELECT * over joins
CREATE TABLE a (id UInt32, name String, v Int32) ENGINE = MergeTree ORDER BY id;
CREATE TABLE b (id UInt32, name String, v Int32) ENGINE = MergeTree ORDER BY id;
INSERT INTO a VALUES (1, 'x', 10), (2, 'y', 20), (3, 'z', 30), (5, 'w', 50);
INSERT INTO b VALUES (2, 'p', 150), (3, 'q', 300), (4, 'r', 400), (5, 'w', 50);
SELECT * FROM a JOIN b ON a.id = b.id ORDER BY a.id;
SELECT * FROM a JOIN b USING (id) ORDER BY id;
SELECT * FROM a JOIN b USING (id, name) ORDER BY id;
SELECT a.*, b.v FROM a JOIN b ON a.id = b.id ORDER BY a.id;
SELECT x.*, y.name FROM a AS x LEFT JOIN b AS y ON x.id = y.id WHERE y.id > 0 ORDER BY x.id;
-- Same column names on both sides: an unqualified name is the left table's column
SELECT id, name, v, b.name, b.v FROM a JOIN b ON a.id = b.id ORDER BY id;
SELECT name, v FROM a AS x JOIN b AS y ON x.id = y.id ORDER BY name;
SELECT a.v + b.v, a.name = b.name FROM a JOIN b ON a.id = b.id ORDER BY a.id;
SELECT t.id, t.v FROM (SELECT * FROM a JOIN b ON a.id = b.id) AS t ORDER BY t.id;
SELECT a.id, b.id, a.v * 10 < b.v FROM a FULL JOIN b ON a.id = b.id ORDER BY a.id, b.id;
SELECT a.id, b.id FROM a JOIN b ON a.id = b.id AND a.v * 5 < b.v ORDER BY a.id;
SELECT a.id, b.id, b.v FROM a LEFT JOIN b ON a.id = b.id AND b.v > 100 ORDER BY a.id;
SELECT a.id, b.id FROM a FULL JOIN b ON a.id = b.id AND a.v > 20 ORDER BY a.id, b.id;
SELECT a.id, b.id FROM a JOIN b ON a.id < b.id ORDER BY a.id, b.id;

-- Self-join: a later event of the same user
SELECT e1.id, e2.id, e2.action FROM events AS e1 JOIN events AS e2 ON e1.user_id = e2.user_id AND e2.ts > e1.ts WHERE e1.action = 'order' ORDER BY e1.id, e2.id;
SELECT e1.user_id, count() FROM events AS e1 JOIN events AS e2 ON e1.user_id = e2.user_id AND e1.item_id = e2.item_id AND e1.id < e2.id GROUP BY e1.user_id ORDER BY e1.user_id;

-- Joins with subqueries
SELECT u.name, t.n FROM users AS u JOIN (SELECT user_id, count() AS n FROM events GROUP BY user_id) AS t ON u.user_id = t.user_id ORDER BY t.n DESC, u.name;
SELECT t.category, t.views, s.orders FROM (SELECT i.category AS category, count() AS views FROM events AS e JOIN items AS i ON e.item_id = i.item_id WHERE e.action = 'view' GROUP BY i.category) AS t LEFT JOIN (SELECT i.category AS category, count() AS orders FROM events AS e JOIN items AS i ON e.item_id = i.item_id WHERE e.action = 'order' GROUP BY i.category) AS s ON t.category = s.category ORDER BY t.category;
SELECT i.title, o.total FROM (SELECT item_id, sum(qty) AS total FROM events WHERE action = 'order' GROUP BY item_id) AS o JOIN items AS i ON o.item_id = i.item_id ORDER BY o.total DESC, i.title;
SELECT u.country, count() FROM (SELECT DISTINCT user_id FROM events WHERE action = 'cart') AS c JOIN users AS u ON c.user_id = u.user_id GROUP BY u.country ORDER BY u.country;

-- Three-table joins with WHERE, GROUP BY, ORDER BY, LIMIT
SELECT u.country, i.category, count() AS n, sum(e.qty) AS q FROM events AS e JOIN users AS u ON e.user_id = u.user_id JOIN items AS i ON e.item_id = i.item_id GROUP BY u.country, i.category ORDER BY u.country, i.category;
SELECT u.name, round(sum(i.price * e.qty), 2) AS spent FROM events AS e JOIN users AS u ON e.user_id = u.user_id JOIN items AS i ON e.item_id = i.item_id WHERE e.action = 'order' GROUP BY u.name ORDER BY spent DESC, u.name LIMIT 2;
SELECT i.category, uniqExact(e.user_id) AS buyers FROM events AS e JOIN items AS i ON e.item_id = i.item_id JOIN users AS u ON e.user_id = u.user_id WHERE u.country IN ('de', 'fr') GROUP BY i.category HAVING buyers > 1 ORDER BY i.category;
SELECT e.id, length(u.name), length(i.title), u.age FROM events AS e LEFT JOIN users AS u ON e.user_id = u.user_id LEFT JOIN items AS i ON e.item_id = i.item_id WHERE u.user_id = 0 OR i.item_id = 0 ORDER BY e.id;
SELECT toDate(e.ts) AS day, count() AS n, uniqExact(u.country) FROM events AS e JOIN users AS u ON e.user_id = u.user_id JOIN items AS i ON e.item_id = i.item_id WHERE i.price BETWEEN 10 AND 100 GROUP BY day ORDER BY n DESC, day LIMIT 3;

-- Many-to-many: every pair of matching rows
CREATE TABLE l (k UInt32, x String) ENGINE = MergeTree ORDER BY (k, x);
CREATE TABLE r (k UInt32, y String) ENGINE = MergeTree ORDER BY (k, y);
INSERT INTO l VALUES (1, 'l1'), (1, 'l2'), (2, 'l3'), (3, 'l4'), (3, 'l5'), (3, 'l6');
INSERT INTO r VALUES (1, 'r1'), (1, 'r2'), (1, 'r3'), (3, 'r4'), (3, 'r5'), (4, 'r6');
SELECT l.k, l.x, r.y FROM l JOIN r ON l.k = r.k ORDER BY l.k, l.x, r.y;
SELECT k, count() FROM l JOIN r USING (k) GROUP BY k ORDER BY k;
SELECT l.x, count(r.y) FROM l LEFT JOIN r ON l.k = r.k GROUP BY l.x ORDER BY l.x;
SELECT count() FROM l FULL JOIN r ON l.k = r.k;

-- NULL keys never match (not even NULL = NULL)
CREATE TABLE na (k Nullable(UInt32), a String) ENGINE = MergeTree ORDER BY a;
CREATE TABLE nb (k Nullable(UInt32), b String) ENGINE = MergeTree ORDER BY b;
INSERT INTO na VALUES (1, 'a1'), (2, 'a2'), (NULL, 'a3'), (NULL, 'a4'), (4, 'a5');
INSERT INTO nb VALUES (1, 'b1'), (NULL, 'b2'), (3, 'b3'), (4, 'b4'), (4, 'b5');
SELECT na.a, nb.b FROM na JOIN nb ON na.k = nb.k ORDER BY na.a, nb.b;
SELECT na.a, na.k, nb.k FROM na LEFT JOIN nb ON na.k = nb.k ORDER BY na.a, nb.b;
SELECT nb.b, na.k, nb.k FROM na RIGHT JOIN nb ON na.k = nb.k ORDER BY nb.b, na.a;
SELECT count(), countIf(na.k IS NULL), countIf(nb.k IS NULL) FROM na FULL JOIN nb ON na.k = nb.k;
SELECT a, b FROM na JOIN nb USING (k) ORDER BY a, b;

-- Errors
SELECT * FROM a JOIN b ON a.nope = b.id;
SELECT * FROM a JOIN b USING (nope);
SELECT * FROM a JOIN missing ON a.id = missing.id;
SELECT * FROM a JOIN b;
SELECT * FROM a LEFT JOIN b ON a.id < b.id;
