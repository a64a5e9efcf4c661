-- silver.customers_cdc_clean: the valid change events of bronze.cdc_customers.
-- Dropped: a NULL or blank customer_id, an operation other than INSERT, UPDATE or
-- DELETE (case and blanks ignored). Events sharing (customer_id,
-- sequence_number) collapse to one, the last ingested: exact duplicate lines
-- are the usual case. Values are kept as sent; DELETE events carry only the key.
CREATE TABLE IF NOT EXISTS silver.customers_cdc_clean (
    customer_id              text NOT NULL,
    customer_unique_id       text,
    customer_zip_code_prefix text,
    customer_city            text,
    customer_state           text,
    operation                text NOT NULL,
    sequence_number          bigint NOT NULL,
    operation_timestamp      timestamp,
    PRIMARY KEY (customer_id, sequence_number)
);

TRUNCATE silver.customers_cdc_clean;

INSERT INTO silver.customers_cdc_clean
SELECT DISTINCT ON (customer_id, sequence_number)
       customer_id, customer_unique_id, customer_zip_code_prefix, customer_city, customer_state,
       operation, sequence_number, operation_timestamp
FROM (
    SELECT trim(customer_id) AS customer_id,
           customer_unique_id,
           customer_zip_code_prefix,
           customer_city,
           customer_state,
           upper(trim(operation)) AS operation,
           sequence_number, operation_timestamp,
           _source_file, _source_line
    FROM bronze.cdc_customers
) e
WHERE customer_id <> ''
  AND operation IN ('INSERT', 'UPDATE', 'DELETE')
ORDER BY customer_id, sequence_number, _source_file DESC, _source_line DESC;
