-- Revenue and review score per product category.
select
    i.category,
    count(distinct i.order_id) as orders,
    count(*) as items,
    sum(i.price) as items_value,
    round(avg(o.review_score), 2) as avg_review_score
from {{ ref('stg_order_items') }} as i
join {{ ref('stg_orders') }} as o on o.order_id = i.order_id
group by i.category
