CREATE TABLE IF NOT EXISTS smoke.joined AS SELECT * FROM smoke.numbers, smoke.letters;
