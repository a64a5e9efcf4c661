-- Revenue per seller and purchase date, with late deliveries.
select
    i.seller_id,
    s.seller_state,
    o.purchase_date,
    count(distinct i.order_id) as orders,
    sum(i.price) as items_value,
    sum(i.freight_value) as freight_value,
    count(distinct i.order_id) filter (where o.delivered_late) as late_orders
from {{ ref('stg_order_items') }} as i
join {{ ref('stg_orders') }} as o on o.order_id = i.order_id
left join {{ ref('stg_sellers') }} as s on s.seller_id = i.seller_id
group by i.seller_id, s.seller_state, o.purchase_date
