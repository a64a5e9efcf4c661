-- silver.products: one row per product_id, the most recently ingested record
-- without negative measures; the misspelled *_lenght columns are renamed and
-- the English category name is joined from silver.category_translation
-- (NULL when the category has no translation).
CREATE TABLE IF NOT EXISTS silver.products (
    product_id                    text PRIMARY KEY,
    product_category_name         text,
    product_category_name_english text,
    product_name_length           int,
    product_description_length    int,
    product_photos_qty            int,
    product_weight_g              int,
    product_length_cm             int,
    product_height_cm             int,
    product_width_cm              int
);

TRUNCATE silver.products;

INSERT INTO silver.products
SELECT p.product_id, p.product_category_name, t.product_category_name_english,
       p.product_name_lenght, p.product_description_lenght, p.product_photos_qty,
       p.product_weight_g, p.product_length_cm, p.product_height_cm, p.product_width_cm
FROM (
    SELECT DISTINCT ON (trim(product_id))
           trim(product_id)                              AS product_id,
           nullif(lower(trim(product_category_name)), '') AS product_category_name,
           product_name_lenght, product_description_lenght, product_photos_qty,
           product_weight_g, product_length_cm, product_height_cm, product_width_cm
    FROM bronze.products
    WHERE trim(product_id) <> ''
      AND coalesce(product_name_lenght, 0) >= 0
      AND coalesce(product_description_lenght, 0) >= 0
      AND coalesce(product_photos_qty, 0) >= 0
      AND coalesce(product_weight_g, 0) >= 0
      AND coalesce(product_length_cm, 0) >= 0
      AND coalesce(product_height_cm, 0) >= 0
      AND coalesce(product_width_cm, 0) >= 0
    ORDER BY trim(product_id), _source_file DESC, _source_line DESC
) p
LEFT JOIN silver.category_translation t USING (product_category_name);
