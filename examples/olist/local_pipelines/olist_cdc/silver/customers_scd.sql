-- silver.customers_current (SCD type 1) and silver.customers_history (SCD type 2)
-- from silver.customers_cdc_clean, keyed by customer_id and sequenced by
-- sequence_number, as DLT's APPLY CHANGES would build them. Both are full
-- rebuilds from every event ever loaded, so events that arrive out of order
-- (even in a later batch) land where their sequence_number puts them.

-- SCD1: the latest event per key wins; a key whose latest event is a DELETE
-- is absent.
CREATE TABLE IF NOT EXISTS silver.customers_current (
    customer_id              text PRIMARY KEY,
    customer_unique_id       text,
    customer_zip_code_prefix text,
    customer_city            text,
    customer_state           text,
    sequence_number          bigint NOT NULL,
    operation_timestamp      timestamp
);

TRUNCATE silver.customers_current;

INSERT INTO silver.customers_current
SELECT customer_id, customer_unique_id, customer_zip_code_prefix, customer_city,
       customer_state, sequence_number, operation_timestamp
FROM (
    SELECT DISTINCT ON (customer_id) *
    FROM silver.customers_cdc_clean
    ORDER BY customer_id, sequence_number DESC
) latest
WHERE operation <> 'DELETE';

-- SCD2: one row per INSERT or UPDATE, valid from its sequence_number
-- ("__START_AT") to the sequence_number of the key's next event ("__END_AT",
-- NULL while current). A DELETE closes the open row and opens none.
CREATE TABLE IF NOT EXISTS silver.customers_history (
    customer_id              text NOT NULL,
    customer_unique_id       text,
    customer_zip_code_prefix text,
    customer_city            text,
    customer_state           text,
    operation_timestamp      timestamp,
    "__START_AT"             bigint NOT NULL,
    "__END_AT"               bigint,
    PRIMARY KEY (customer_id, "__START_AT")
);

TRUNCATE silver.customers_history;

INSERT INTO silver.customers_history
SELECT customer_id, customer_unique_id, customer_zip_code_prefix, customer_city,
       customer_state, operation_timestamp, sequence_number, next_sequence_number
FROM (
    SELECT *, lead(sequence_number) OVER (PARTITION BY customer_id ORDER BY sequence_number)
               AS next_sequence_number
    FROM silver.customers_cdc_clean
) e
WHERE operation <> 'DELETE';
