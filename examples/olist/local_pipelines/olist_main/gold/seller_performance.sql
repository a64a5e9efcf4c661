-- gold.seller_performance: one row per silver seller (sellers without sales
-- included, with zeros), over the items of orders in silver.orders_enriched.
CREATE TABLE IF NOT EXISTS gold.seller_performance (
    seller_id        text PRIMARY KEY,
    seller_city      text,
    seller_state     text NOT NULL,
    orders           int NOT NULL,
    items            int NOT NULL,
    items_value      numeric(14, 2) NOT NULL,
    freight_value    numeric(14, 2) NOT NULL,
    avg_review_score numeric(4, 2),   -- over the seller's distinct orders that have a review
    delivered_orders int NOT NULL,
    late_deliveries  int NOT NULL,
    first_order_at   timestamp,
    last_order_at    timestamp
);

TRUNCATE gold.seller_performance;

INSERT INTO gold.seller_performance
WITH sold AS (
    SELECT i.seller_id, i.order_id, i.price, i.freight_value, o.review_score,
           o.order_status, o.delivered_late, o.order_purchase_timestamp
    FROM silver.order_items i
    JOIN silver.orders_enriched o USING (order_id)
),
per_order AS (
    SELECT DISTINCT seller_id, order_id, review_score, order_status,
           delivered_late, order_purchase_timestamp
    FROM sold
),
items AS (
    SELECT seller_id, count(*) AS items, sum(price) AS items_value,
           sum(freight_value) AS freight_value
    FROM sold
    GROUP BY seller_id
),
orders AS (
    SELECT seller_id,
           count(*) AS orders,
           round(avg(review_score), 2) AS avg_review_score,
           count(*) FILTER (WHERE order_status = 'delivered') AS delivered_orders,
           count(*) FILTER (WHERE delivered_late) AS late_deliveries,
           min(order_purchase_timestamp) AS first_order_at,
           max(order_purchase_timestamp) AS last_order_at
    FROM per_order
    GROUP BY seller_id
)
SELECT s.seller_id, s.seller_city, s.seller_state,
       coalesce(o.orders, 0), coalesce(i.items, 0),
       coalesce(i.items_value, 0), coalesce(i.freight_value, 0),
       o.avg_review_score,
       coalesce(o.delivered_orders, 0), coalesce(o.late_deliveries, 0),
       o.first_order_at, o.last_order_at
FROM silver.sellers s
LEFT JOIN items i USING (seller_id)
LEFT JOIN orders o USING (seller_id);
