CREATE TABLE silver.orders AS SELECT 1;
