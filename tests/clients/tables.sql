-- The client tests' tables besides tests/schema/user_behaviors.sql; tables.pg.sql is their twin.
CREATE TABLE hits (d Date, user_id UInt64, url String, ts DateTime, price Float64, ok Bool) ENGINE = MergeTree PARTITION BY toYYYYMM(d) ORDER BY (d, user_id);
CREATE VIEW hits_view AS SELECT * FROM hits;
INSERT INTO hits VALUES ('2026-01-01', 42, '/a', '2026-01-01 10:00:00', 9.5, true),
    ('2026-01-02', 43, '/b', '2026-01-02 11:30:00', 1.25, false),
    ('2026-02-01', 42, '/a', '2026-02-01 12:00:00', 3, true);
