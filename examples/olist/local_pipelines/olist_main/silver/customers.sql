-- silver.customers: one row per customer_id, the most recently ingested
-- record that passes the rules (unique id present, 2-letter state).
-- Rebuilt in full on every run (see ../../README.md for why).
CREATE TABLE IF NOT EXISTS silver.customers (
    customer_id              text PRIMARY KEY,
    customer_unique_id       text NOT NULL,
    customer_zip_code_prefix text,
    customer_city            text,
    customer_state           text NOT NULL
);

TRUNCATE silver.customers;

INSERT INTO silver.customers
SELECT DISTINCT ON (customer_id)
       customer_id, customer_unique_id, customer_zip_code_prefix, customer_city, customer_state
FROM (
    SELECT trim(customer_id)                        AS customer_id,
           nullif(trim(customer_unique_id), '')     AS customer_unique_id,
           nullif(trim(customer_zip_code_prefix), '') AS customer_zip_code_prefix,
           nullif(lower(trim(customer_city)), '')   AS customer_city,
           upper(trim(customer_state))              AS customer_state,
           _source_file, _source_line
    FROM bronze.customers
) c
WHERE customer_id <> ''
  AND customer_unique_id IS NOT NULL
  AND customer_state ~ '^[A-Z]{2}$'
ORDER BY customer_id, _source_file DESC, _source_line DESC;
