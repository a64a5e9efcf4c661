-- Join the two branches for the run's logical date.
DROP TABLE IF EXISTS smoke.joined;
CREATE TABLE smoke.joined AS
SELECT n.n, n.square, l.letter, DATE '${run.logical_date}' AS logical_date
FROM smoke.numbers n
JOIN smoke.letters l USING (n);
