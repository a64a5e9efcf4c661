-- silver.sellers: one row per seller_id, the most recently ingested record
-- with a 2-letter state.
CREATE TABLE IF NOT EXISTS silver.sellers (
    seller_id              text PRIMARY KEY,
    seller_zip_code_prefix text,
    seller_city            text,
    seller_state           text NOT NULL
);

TRUNCATE silver.sellers;

INSERT INTO silver.sellers
SELECT DISTINCT ON (seller_id) seller_id, seller_zip_code_prefix, seller_city, seller_state
FROM (
    SELECT trim(seller_id)                          AS seller_id,
           nullif(trim(seller_zip_code_prefix), '') AS seller_zip_code_prefix,
           nullif(lower(trim(seller_city)), '')     AS seller_city,
           upper(trim(seller_state))                AS seller_state,
           _source_file, _source_line
    FROM bronze.sellers
) s
WHERE seller_id <> ''
  AND seller_state ~ '^[A-Z]{2}$'
ORDER BY seller_id, _source_file DESC, _source_line DESC;
