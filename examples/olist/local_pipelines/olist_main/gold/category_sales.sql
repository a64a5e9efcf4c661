-- gold.category_sales: one row per product category (English name, else the
-- Portuguese one, else 'unknown', also for items whose product is not in
-- silver.products), over the items of orders in silver.orders_enriched.
CREATE TABLE IF NOT EXISTS gold.category_sales (
    category         text PRIMARY KEY,
    orders           int NOT NULL,
    items            int NOT NULL,
    items_value      numeric(14, 2) NOT NULL,
    freight_value    numeric(14, 2) NOT NULL,
    avg_price        numeric(14, 2) NOT NULL,
    avg_review_score numeric(4, 2)    -- over the category's distinct orders that have a review
);

TRUNCATE gold.category_sales;

INSERT INTO gold.category_sales
WITH sold AS (
    SELECT coalesce(p.product_category_name_english, p.product_category_name, 'unknown')
               AS category,
           i.order_id, i.price, i.freight_value, o.review_score
    FROM silver.order_items i
    JOIN silver.orders_enriched o USING (order_id)
    LEFT JOIN silver.products p USING (product_id)
),
reviews AS (
    SELECT category, round(avg(review_score), 2) AS avg_review_score
    FROM (SELECT DISTINCT category, order_id, review_score FROM sold) d
    GROUP BY category
)
SELECT category,
       count(DISTINCT order_id),
       count(*),
       sum(price),
       sum(freight_value),
       round(avg(price), 2),
       r.avg_review_score
FROM sold
JOIN reviews r USING (category)
GROUP BY category, r.avg_review_score;
