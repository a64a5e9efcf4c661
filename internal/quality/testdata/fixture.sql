-- Tables with known rows for the Postgres tests. Expected counts in
-- postgres_test.go are read off these rows; keep them in step.
CREATE SCHEMA silver;

--  #  order_id customer_id order_status amount
CREATE TABLE silver.orders (order_id text, customer_id text, order_status text, amount numeric);
INSERT INTO silver.orders VALUES
  ('o1', 'c1', 'delivered', 10),   -- 1
  ('o2', 'c2', 'shipped',   20),   -- 2
  ('o3', 'c3', 'canceled',  -5),   -- 3 negative amount
  ('o3', 'c3', 'lost',      30),   -- 4 duplicate order_id o3
  ('o4', NULL, 'unknown',    0),   -- 5 NULL customer
  ('o5', 'c5', NULL,      NULL),   -- 6 NULL status and amount
  (NULL, 'c6', 'lost',       5),   -- 7 NULL order_id, orphan customer c6
  (NULL, 'c6', 'lost',       2),   -- 8 same as 7
  ('o6', 'c3', 'lost',       1);   -- 9

CREATE TABLE silver.customers (customer_id text PRIMARY KEY);
INSERT INTO silver.customers VALUES ('c1'), ('c2'), ('c3'), ('c5');

-- newest: 2026-11-21 04:30 UTC
CREATE TABLE silver.events (ts timestamptz, ts_naive timestamp, day date);
INSERT INTO silver.events VALUES
  ('2026-11-20 10:00:00+00', '2026-11-20 10:00:00', '2026-11-20'),
  ('2026-11-21 06:30:00+02', '2026-11-21 04:30:00', '2026-11-21');

-- SCD type 2 as the local pipelines write it: c1 has two open rows.
CREATE TABLE silver.customers_history (customer_id text, "__START_AT" timestamptz, "__END_AT" timestamptz);
INSERT INTO silver.customers_history VALUES
  ('c1', '2026-01-01 00:00+00', NULL),
  ('c1', '2026-02-01 00:00+00', NULL),
  ('c2', '2026-01-01 00:00+00', '2026-02-01 00:00+00'),
  ('c2', '2026-02-01 00:00+00', NULL);

CREATE TABLE "weird ""name""" ("a;b" text, x int);
INSERT INTO "weird ""name""" VALUES ('v', 1), (NULL, 2);

CREATE TABLE silver."my.table" (id int);
INSERT INTO silver."my.table" VALUES (1), (1), (2);

-- Injection attempts must leave it alone.
CREATE TABLE victim (id int);
INSERT INTO victim VALUES (1);
