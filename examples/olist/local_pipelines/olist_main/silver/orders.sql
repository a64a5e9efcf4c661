-- silver.orders: one row per order_id, the most recently ingested record
-- with a known status (lower-cased), a customer and a purchase time.
CREATE TABLE IF NOT EXISTS silver.orders (
    order_id                      text PRIMARY KEY,
    customer_id                   text NOT NULL,
    order_status                  text NOT NULL,
    order_purchase_timestamp      timestamp NOT NULL,
    order_approved_at             timestamp,
    order_delivered_carrier_date  timestamp,
    order_delivered_customer_date timestamp,
    order_estimated_delivery_date timestamp
);

TRUNCATE silver.orders;

INSERT INTO silver.orders
SELECT DISTINCT ON (order_id)
       order_id, customer_id, order_status, order_purchase_timestamp, order_approved_at,
       order_delivered_carrier_date, order_delivered_customer_date, order_estimated_delivery_date
FROM (
    SELECT trim(order_id)                     AS order_id,
           nullif(trim(customer_id), '')      AS customer_id,
           lower(trim(order_status))          AS order_status,
           order_purchase_timestamp, order_approved_at, order_delivered_carrier_date,
           order_delivered_customer_date, order_estimated_delivery_date,
           _source_file, _source_line
    FROM bronze.orders
) o
WHERE order_id <> ''
  AND customer_id IS NOT NULL
  AND order_purchase_timestamp IS NOT NULL
  AND order_status IN ('delivered', 'shipped', 'canceled', 'unavailable',
                       'invoiced', 'processing', 'created', 'approved')
ORDER BY order_id, _source_file DESC, _source_line DESC;
