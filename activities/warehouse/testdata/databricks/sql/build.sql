-- Rebuild the daily sales table (Databricks SQL).
CREATE OR REPLACE TABLE gold.daily_sales AS
SELECT order_date, sum(price) AS sales FROM silver.order_items GROUP BY order_date;

INSERT INTO gold.audit VALUES ('${run.logical_date}', 'daily_sales; rebuilt');
