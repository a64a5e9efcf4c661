-- silver.sellers_cdc_clean: the valid change events of bronze.cdc_sellers.
-- Dropped: a NULL or blank seller_id, an operation other than INSERT, UPDATE or
-- DELETE (case and blanks ignored). Events sharing (seller_id,
-- sequence_number) collapse to one, the last ingested: exact duplicate lines
-- are the usual case. Values are kept as sent; DELETE events carry only the key.
CREATE TABLE IF NOT EXISTS silver.sellers_cdc_clean (
    seller_id              text NOT NULL,
    seller_zip_code_prefix text,
    seller_city            text,
    seller_state           text,
    operation              text NOT NULL,
    sequence_number        bigint NOT NULL,
    operation_timestamp    timestamp,
    PRIMARY KEY (seller_id, sequence_number)
);

TRUNCATE silver.sellers_cdc_clean;

INSERT INTO silver.sellers_cdc_clean
SELECT DISTINCT ON (seller_id, sequence_number)
       seller_id, seller_zip_code_prefix, seller_city, seller_state,
       operation, sequence_number, operation_timestamp
FROM (
    SELECT trim(seller_id) AS seller_id,
           seller_zip_code_prefix,
           seller_city,
           seller_state,
           upper(trim(operation)) AS operation,
           sequence_number, operation_timestamp,
           _source_file, _source_line
    FROM bronze.cdc_sellers
) e
WHERE seller_id <> ''
  AND operation IN ('INSERT', 'UPDATE', 'DELETE')
ORDER BY seller_id, sequence_number, _source_file DESC, _source_line DESC;
