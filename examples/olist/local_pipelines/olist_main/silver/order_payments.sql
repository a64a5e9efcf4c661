-- silver.order_payments: one row per (order_id, payment_sequential), the
-- most recently ingested record with a known payment type and non-negative
-- installments and value.
CREATE TABLE IF NOT EXISTS silver.order_payments (
    order_id             text,
    payment_sequential   int,
    payment_type         text NOT NULL,
    payment_installments int NOT NULL,
    payment_value        numeric(12, 2) NOT NULL,
    PRIMARY KEY (order_id, payment_sequential)
);

TRUNCATE silver.order_payments;

INSERT INTO silver.order_payments
SELECT DISTINCT ON (order_id, payment_sequential)
       order_id, payment_sequential, payment_type, payment_installments, payment_value
FROM (
    SELECT trim(order_id)            AS order_id,
           payment_sequential,
           lower(trim(payment_type)) AS payment_type,
           payment_installments, payment_value,
           _source_file, _source_line
    FROM bronze.order_payments
) p
WHERE order_id <> ''
  AND payment_sequential >= 1
  AND payment_type IN ('credit_card', 'boleto', 'voucher', 'debit_card', 'not_defined')
  AND payment_installments >= 0
  AND payment_value >= 0
ORDER BY order_id, payment_sequential, _source_file DESC, _source_line DESC;
