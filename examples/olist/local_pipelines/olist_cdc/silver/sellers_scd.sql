-- silver.sellers_current (SCD type 1) and silver.sellers_history (SCD type 2)
-- from silver.sellers_cdc_clean, keyed by seller_id and sequenced by
-- sequence_number, as DLT's APPLY CHANGES would build them. Both are full
-- rebuilds from every event ever loaded, so events that arrive out of order
-- (even in a later batch) land where their sequence_number puts them.

-- SCD1: the latest event per key wins; a key whose latest event is a DELETE
-- is absent.
CREATE TABLE IF NOT EXISTS silver.sellers_current (
    seller_id              text PRIMARY KEY,
    seller_zip_code_prefix text,
    seller_city            text,
    seller_state           text,
    sequence_number        bigint NOT NULL,
    operation_timestamp    timestamp
);

TRUNCATE silver.sellers_current;

INSERT INTO silver.sellers_current
SELECT seller_id, seller_zip_code_prefix, seller_city, seller_state, sequence_number,
       operation_timestamp
FROM (
    SELECT DISTINCT ON (seller_id) *
    FROM silver.sellers_cdc_clean
    ORDER BY seller_id, sequence_number DESC
) latest
WHERE operation <> 'DELETE';

-- SCD2: one row per INSERT or UPDATE, valid from its sequence_number
-- ("__START_AT") to the sequence_number of the key's next event ("__END_AT",
-- NULL while current). A DELETE closes the open row and opens none.
CREATE TABLE IF NOT EXISTS silver.sellers_history (
    seller_id              text NOT NULL,
    seller_zip_code_prefix text,
    seller_city            text,
    seller_state           text,
    operation_timestamp    timestamp,
    "__START_AT"           bigint NOT NULL,
    "__END_AT"             bigint,
    PRIMARY KEY (seller_id, "__START_AT")
);

TRUNCATE silver.sellers_history;

INSERT INTO silver.sellers_history
SELECT seller_id, seller_zip_code_prefix, seller_city, seller_state, operation_timestamp,
       sequence_number, next_sequence_number
FROM (
    SELECT *, lead(sequence_number) OVER (PARTITION BY seller_id ORDER BY sequence_number)
               AS next_sequence_number
    FROM silver.sellers_cdc_clean
) e
WHERE operation <> 'DELETE';
