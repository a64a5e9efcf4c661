-- silver.orders_enriched: one row per silver order with its customer, item,
-- payment and review facts. Orders whose customer is not in silver.customers
-- keep NULL customer columns.
CREATE TABLE IF NOT EXISTS silver.orders_enriched (
    order_id                      text PRIMARY KEY,
    customer_id                   text NOT NULL,
    customer_unique_id            text,
    customer_city                 text,
    customer_state                text,
    order_status                  text NOT NULL,
    order_purchase_timestamp      timestamp NOT NULL,
    order_approved_at             timestamp,
    order_delivered_carrier_date  timestamp,
    order_delivered_customer_date timestamp,
    order_estimated_delivery_date timestamp,
    item_count                    int NOT NULL,
    items_total                   numeric(14, 2) NOT NULL,
    freight_total                 numeric(14, 2) NOT NULL,
    payment_total                 numeric(14, 2) NOT NULL,
    payment_types                 text,
    review_score                  int,
    delivery_days                 int,
    delivered_late                boolean
);

TRUNCATE silver.orders_enriched;

INSERT INTO silver.orders_enriched
SELECT o.order_id, o.customer_id,
       c.customer_unique_id, c.customer_city, c.customer_state,
       o.order_status, o.order_purchase_timestamp, o.order_approved_at,
       o.order_delivered_carrier_date, o.order_delivered_customer_date,
       o.order_estimated_delivery_date,
       coalesce(i.item_count, 0),
       coalesce(i.items_total, 0),
       coalesce(i.freight_total, 0),
       coalesce(p.payment_total, 0),
       p.payment_types,
       r.review_score,
       o.order_delivered_customer_date::date - o.order_purchase_timestamp::date,
       o.order_delivered_customer_date::date > o.order_estimated_delivery_date::date
FROM silver.orders o
LEFT JOIN silver.customers c USING (customer_id)
LEFT JOIN (
    SELECT order_id, count(*) AS item_count, sum(price) AS items_total,
           sum(freight_value) AS freight_total
    FROM silver.order_items
    GROUP BY order_id
) i USING (order_id)
LEFT JOIN (
    SELECT order_id, sum(payment_value) AS payment_total,
           string_agg(DISTINCT payment_type, ',' ORDER BY payment_type) AS payment_types
    FROM silver.order_payments
    GROUP BY order_id
) p USING (order_id)
LEFT JOIN (
    -- the latest review of the order
    SELECT DISTINCT ON (order_id) order_id, review_score
    FROM silver.order_reviews
    ORDER BY order_id, review_creation_date DESC NULLS LAST,
             review_answer_timestamp DESC NULLS LAST, review_id DESC
) r USING (order_id);
