{{ config(tags=['hourly']) }}
-- Orders and revenue per purchase hour: the hourly dashboard's table.
select
    purchase_hour,
    count(*) as orders,
    count(*) filter (where order_status = 'delivered') as delivered_orders,
    count(distinct customer_unique_id) as customers,
    sum(items_total) as items_value,
    sum(payment_total) as payment_value
from {{ ref('stg_orders') }}
group by purchase_hour
