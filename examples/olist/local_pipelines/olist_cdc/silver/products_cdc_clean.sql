-- silver.products_cdc_clean: the valid change events of bronze.cdc_products.
-- Dropped: a NULL or blank product_id, an operation other than INSERT, UPDATE or
-- DELETE (case and blanks ignored). Events sharing (product_id,
-- sequence_number) collapse to one, the last ingested: exact duplicate lines
-- are the usual case. Values are kept as sent; DELETE events carry only the key.
CREATE TABLE IF NOT EXISTS silver.products_cdc_clean (
    product_id                 text NOT NULL,
    product_category_name      text,
    product_name_length        int,
    product_description_length int,
    product_photos_qty         int,
    product_weight_g           int,
    product_length_cm          int,
    product_height_cm          int,
    product_width_cm           int,
    operation                  text NOT NULL,
    sequence_number            bigint NOT NULL,
    operation_timestamp        timestamp,
    PRIMARY KEY (product_id, sequence_number)
);

TRUNCATE silver.products_cdc_clean;

INSERT INTO silver.products_cdc_clean
SELECT DISTINCT ON (product_id, sequence_number)
       product_id, product_category_name, product_name_length, product_description_length,
       product_photos_qty, product_weight_g, product_length_cm, product_height_cm, product_width_cm,
       operation, sequence_number, operation_timestamp
FROM (
    SELECT trim(product_id) AS product_id,
           product_category_name,
           product_name_lenght AS product_name_length,
           product_description_lenght AS product_description_length,
           product_photos_qty,
           product_weight_g,
           product_length_cm,
           product_height_cm,
           product_width_cm,
           upper(trim(operation)) AS operation,
           sequence_number, operation_timestamp,
           _source_file, _source_line
    FROM bronze.cdc_products
) e
WHERE product_id <> ''
  AND operation IN ('INSERT', 'UPDATE', 'DELETE')
ORDER BY product_id, sequence_number, _source_file DESC, _source_line DESC;
