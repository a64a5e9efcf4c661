-- gold.customer_summary: one row per real customer (customer_unique_id; one
-- person has one customer_id per order), over the orders in
-- silver.orders_enriched whose customer is known.
CREATE TABLE IF NOT EXISTS gold.customer_summary (
    customer_unique_id text PRIMARY KEY,
    customer_city      text,            -- as of the latest order
    customer_state     text NOT NULL,   -- as of the latest order
    orders             int NOT NULL,
    first_order_at     timestamp NOT NULL,
    last_order_at      timestamp NOT NULL,
    total_paid         numeric(14, 2) NOT NULL,
    avg_review_score   numeric(4, 2)
);

TRUNCATE gold.customer_summary;

INSERT INTO gold.customer_summary
WITH latest AS (
    SELECT DISTINCT ON (customer_unique_id) customer_unique_id, customer_city, customer_state
    FROM silver.orders_enriched
    WHERE customer_unique_id IS NOT NULL
    ORDER BY customer_unique_id, order_purchase_timestamp DESC, order_id DESC
)
SELECT o.customer_unique_id, l.customer_city, l.customer_state,
       count(*),
       min(o.order_purchase_timestamp),
       max(o.order_purchase_timestamp),
       sum(o.payment_total),
       round(avg(o.review_score), 2)
FROM silver.orders_enriched o
JOIN latest l USING (customer_unique_id)
GROUP BY o.customer_unique_id, l.customer_city, l.customer_state;
