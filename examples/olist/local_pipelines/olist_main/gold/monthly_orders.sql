-- gold.monthly_orders: one row per purchase month, over every order of
-- silver.orders_enriched (all statuses).
CREATE TABLE IF NOT EXISTS gold.monthly_orders (
    month              date PRIMARY KEY,   -- first day of the month
    orders             int NOT NULL,
    delivered_orders   int NOT NULL,
    canceled_orders    int NOT NULL,       -- canceled or unavailable
    customers          int NOT NULL,       -- distinct known customer_unique_id
    items              int NOT NULL,
    items_value        numeric(14, 2) NOT NULL,
    freight_value      numeric(14, 2) NOT NULL,
    payment_value      numeric(14, 2) NOT NULL,
    avg_order_value    numeric(14, 2) NOT NULL,  -- mean of items_total + freight_total
    avg_review_score   numeric(4, 2),
    avg_delivery_days  numeric(6, 1),            -- over delivered orders
    late_delivery_rate numeric(5, 4)             -- late / delivered orders with a delivery date
);

TRUNCATE gold.monthly_orders;

INSERT INTO gold.monthly_orders
SELECT date_trunc('month', order_purchase_timestamp)::date,
       count(*),
       count(*) FILTER (WHERE order_status = 'delivered'),
       count(*) FILTER (WHERE order_status IN ('canceled', 'unavailable')),
       count(DISTINCT customer_unique_id),
       sum(item_count),
       sum(items_total),
       sum(freight_total),
       sum(payment_total),
       round(avg(items_total + freight_total), 2),
       round(avg(review_score), 2),
       round(avg(delivery_days), 1),
       round(count(*) FILTER (WHERE delivered_late)::numeric
             / nullif(count(delivered_late), 0), 4)
FROM silver.orders_enriched
GROUP BY 1;
