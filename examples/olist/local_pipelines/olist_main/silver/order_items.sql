-- silver.order_items: one row per (order_id, order_item_id), the most
-- recently ingested record with a product, a seller, a positive item number
-- and non-negative price and freight.
CREATE TABLE IF NOT EXISTS silver.order_items (
    order_id            text,
    order_item_id       int,
    product_id          text NOT NULL,
    seller_id           text NOT NULL,
    shipping_limit_date timestamp,
    price               numeric(12, 2) NOT NULL,
    freight_value       numeric(12, 2) NOT NULL,
    PRIMARY KEY (order_id, order_item_id)
);

TRUNCATE silver.order_items;

INSERT INTO silver.order_items
SELECT DISTINCT ON (order_id, order_item_id)
       order_id, order_item_id, product_id, seller_id, shipping_limit_date, price, freight_value
FROM (
    SELECT trim(order_id)                AS order_id,
           order_item_id,
           nullif(trim(product_id), '')  AS product_id,
           nullif(trim(seller_id), '')   AS seller_id,
           shipping_limit_date, price, freight_value,
           _source_file, _source_line
    FROM bronze.order_items
) i
WHERE order_id <> ''
  AND order_item_id >= 1
  AND product_id IS NOT NULL
  AND seller_id IS NOT NULL
  AND price >= 0
  AND freight_value >= 0
ORDER BY order_id, order_item_id, _source_file DESC, _source_line DESC;
