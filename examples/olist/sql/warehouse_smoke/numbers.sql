-- ${params.rows} numbers with their squares.
DROP TABLE IF EXISTS smoke.numbers;
CREATE TABLE smoke.numbers AS
SELECT n, n * n AS square
FROM generate_series(1, ${params.rows}) AS n;
