-- One letter per number, cycling through the alphabet.
DROP TABLE IF EXISTS smoke.letters;
CREATE TABLE smoke.letters AS
SELECT n, chr(65 + (n - 1) % 26) AS letter
FROM generate_series(1, ${params.rows}) AS n;
