-- silver.products_current (SCD type 1) and silver.products_history (SCD type 2)
-- from silver.products_cdc_clean, keyed by product_id and sequenced by
-- sequence_number, as DLT's APPLY CHANGES would build them. Both are full
-- rebuilds from every event ever loaded, so events that arrive out of order
-- (even in a later batch) land where their sequence_number puts them.

-- SCD1: the latest event per key wins; a key whose latest event is a DELETE
-- is absent.
CREATE TABLE IF NOT EXISTS silver.products_current (
    product_id                 text PRIMARY KEY,
    product_category_name      text,
    product_name_length        int,
    product_description_length int,
    product_photos_qty         int,
    product_weight_g           int,
    product_length_cm          int,
    product_height_cm          int,
    product_width_cm           int,
    sequence_number            bigint NOT NULL,
    operation_timestamp        timestamp
);

TRUNCATE silver.products_current;

INSERT INTO silver.products_current
SELECT product_id, product_category_name, product_name_length, product_description_length,
       product_photos_qty, product_weight_g, product_length_cm, product_height_cm,
       product_width_cm, sequence_number, operation_timestamp
FROM (
    SELECT DISTINCT ON (product_id) *
    FROM silver.products_cdc_clean
    ORDER BY product_id, sequence_number DESC
) latest
WHERE operation <> 'DELETE';

-- SCD2: one row per INSERT or UPDATE, valid from its sequence_number
-- ("__START_AT") to the sequence_number of the key's next event ("__END_AT",
-- NULL while current). A DELETE closes the open row and opens none.
CREATE TABLE IF NOT EXISTS silver.products_history (
    product_id                 text NOT NULL,
    product_category_name      text,
    product_name_length        int,
    product_description_length int,
    product_photos_qty         int,
    product_weight_g           int,
    product_length_cm          int,
    product_height_cm          int,
    product_width_cm           int,
    operation_timestamp        timestamp,
    "__START_AT"               bigint NOT NULL,
    "__END_AT"                 bigint,
    PRIMARY KEY (product_id, "__START_AT")
);

TRUNCATE silver.products_history;

INSERT INTO silver.products_history
SELECT product_id, product_category_name, product_name_length, product_description_length,
       product_photos_qty, product_weight_g, product_length_cm, product_height_cm,
       product_width_cm, operation_timestamp, sequence_number, next_sequence_number
FROM (
    SELECT *, lead(sequence_number) OVER (PARTITION BY product_id ORDER BY sequence_number)
               AS next_sequence_number
    FROM silver.products_cdc_clean
) e
WHERE operation <> 'DELETE';
