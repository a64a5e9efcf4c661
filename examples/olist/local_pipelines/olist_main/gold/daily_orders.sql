-- gold.daily_orders: one row per purchase date, over every order of
-- silver.orders_enriched (all statuses).
CREATE TABLE IF NOT EXISTS gold.daily_orders (
    order_date       date PRIMARY KEY,
    orders           int NOT NULL,
    delivered_orders int NOT NULL,
    canceled_orders  int NOT NULL,      -- canceled or unavailable
    customers        int NOT NULL,      -- distinct known customer_unique_id
    items            int NOT NULL,
    items_value      numeric(14, 2) NOT NULL,
    freight_value    numeric(14, 2) NOT NULL,
    payment_value    numeric(14, 2) NOT NULL,
    avg_review_score numeric(4, 2),     -- NULL when no order of the day has a review
    late_deliveries  int NOT NULL
);

TRUNCATE gold.daily_orders;

INSERT INTO gold.daily_orders
SELECT order_purchase_timestamp::date,
       count(*),
       count(*) FILTER (WHERE order_status = 'delivered'),
       count(*) FILTER (WHERE order_status IN ('canceled', 'unavailable')),
       count(DISTINCT customer_unique_id),
       sum(item_count),
       sum(items_total),
       sum(freight_total),
       sum(payment_total),
       round(avg(review_score), 2),
       count(*) FILTER (WHERE delivered_late)
FROM silver.orders_enriched
GROUP BY 1;
