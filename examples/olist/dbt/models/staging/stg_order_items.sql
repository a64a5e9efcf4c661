-- One row per order item, with its product's category.
select
    i.order_id,
    i.order_item_id,
    i.product_id,
    i.seller_id,
    i.price,
    i.freight_value,
    coalesce(p.product_category_name_english, p.product_category_name, 'unknown') as category
from {{ source('silver', 'order_items') }} as i
left join {{ source('silver', 'products') }} as p on p.product_id = i.product_id
