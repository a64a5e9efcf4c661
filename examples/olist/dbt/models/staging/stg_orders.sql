-- One row per order, with the facts the marts use.
select
    order_id,
    customer_unique_id,
    customer_state,
    order_status,
    order_purchase_timestamp,
    date_trunc('hour', order_purchase_timestamp) as purchase_hour,
    cast(order_purchase_timestamp as date) as purchase_date,
    item_count,
    items_total,
    freight_total,
    payment_total,
    review_score,
    delivery_days,
    delivered_late
from {{ source('silver', 'orders_enriched') }}
