-- tables.sql and tests/schema/user_behaviors.sql in PostgreSQL's types: what Granary sends
-- for each column.
CREATE TABLE hits (d date NOT NULL, user_id bigint NOT NULL, url text NOT NULL, ts timestamp NOT NULL, price double precision NOT NULL, ok boolean NOT NULL);
CREATE VIEW hits_view AS SELECT * FROM hits;
CREATE TABLE user_behaviors (event_id text NOT NULL, tenant_id text NOT NULL, scenario_id text NOT NULL, user_id text NOT NULL, item_id text NOT NULL, action_type text NOT NULL, "context.device_type" text[] NOT NULL, "context.os" text[] NOT NULL, "context.location" text[] NOT NULL, "context.ip" text[] NOT NULL, extra_data text NOT NULL, watch_duration integer NOT NULL, completion_rate real NOT NULL, experiment_id text NOT NULL, experiment_group text NOT NULL, timestamp timestamp NOT NULL, date date NOT NULL);
INSERT INTO hits VALUES ('2026-01-01', 42, '/a', '2026-01-01 10:00:00', 9.5, true), ('2026-01-02', 43, '/b', '2026-01-02 11:30:00', 1.25, false), ('2026-02-01', 42, '/a', '2026-02-01 12:00:00', 3, true);
INSERT INTO user_behaviors VALUES ('e1', 't1', 's1', 'u1', 'i1', 'click', '{phone,tv}', '{ios,android}', '{x,y}', '{1.1.1.1,2.2.2.2}', '{}', 30, 0.5, 'x1', 'A', '2026-01-05 10:00:00.25', '2026-01-05');
