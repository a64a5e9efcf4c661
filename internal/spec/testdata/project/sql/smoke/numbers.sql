CREATE TABLE IF NOT EXISTS smoke.numbers AS SELECT generate_series(1, ${params.rows}) AS n;
