-- silver.category_translation: Portuguese -> English category names, one
-- row per Portuguese name, both names present.
CREATE TABLE IF NOT EXISTS silver.category_translation (
    product_category_name         text PRIMARY KEY,
    product_category_name_english text NOT NULL
);

TRUNCATE silver.category_translation;

INSERT INTO silver.category_translation
SELECT DISTINCT ON (product_category_name) product_category_name, product_category_name_english
FROM (
    SELECT nullif(lower(trim(product_category_name)), '')         AS product_category_name,
           nullif(lower(trim(product_category_name_english)), '') AS product_category_name_english,
           _source_file, _source_line
    FROM bronze.category_translation
) t
WHERE product_category_name IS NOT NULL
  AND product_category_name_english IS NOT NULL
ORDER BY product_category_name, _source_file DESC, _source_line DESC;
