-- +goose Up
-- `sluice run-info` lists the runs that repair a run.
CREATE INDEX runs_repair_of ON runs (repair_of) WHERE repair_of <> '';

-- +goose Down
DROP INDEX runs_repair_of;
