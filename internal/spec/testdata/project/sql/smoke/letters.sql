CREATE TABLE IF NOT EXISTS smoke.letters AS SELECT chr(64 + n) AS l FROM generate_series(1, 26) AS n;
