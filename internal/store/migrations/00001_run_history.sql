-- +goose Up
-- Run history, a projection of RunPipeline workflows. Every write carries the
-- workflow's sequence number so a late or repeated write never overwrites a
-- newer state.
CREATE TABLE runs (
    workflow_id  text        NOT NULL,
    run_id       text        NOT NULL,
    project      text        NOT NULL DEFAULT '',
    pipeline     text        NOT NULL,
    env          text        NOT NULL,
    trigger      text        NOT NULL,
    logical_date timestamptz,
    status       text        NOT NULL,
    params       jsonb,
    plan_hash    text        NOT NULL DEFAULT '',
    plan         jsonb,
    repair_of    text        NOT NULL DEFAULT '',
    error        text        NOT NULL DEFAULT '',
    warnings     jsonb,
    started_at   timestamptz NOT NULL,
    ended_at     timestamptz,
    seq          bigint      NOT NULL DEFAULT 0,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workflow_id, run_id)
);
CREATE INDEX runs_pipeline_started ON runs (pipeline, env, started_at DESC);
CREATE INDEX runs_started ON runs (started_at DESC);
CREATE INDEX runs_status ON runs (status);

CREATE TABLE task_runs (
    workflow_id   text        NOT NULL,
    run_id        text        NOT NULL,
    task_key      text        NOT NULL,
    position      int         NOT NULL,
    type          text        NOT NULL,
    state         text        NOT NULL,
    depends_on    text[]      NOT NULL DEFAULT '{}',
    attempts      int         NOT NULL DEFAULT 0,
    started_at    timestamptz,
    ended_at      timestamptz,
    error_type    text        NOT NULL DEFAULT '',
    error_message text        NOT NULL DEFAULT '',
    output        jsonb,
    log_uri       text        NOT NULL DEFAULT '',
    reused_from   text        NOT NULL DEFAULT '',
    seq           bigint      NOT NULL DEFAULT 0,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workflow_id, run_id, task_key),
    FOREIGN KEY (workflow_id, run_id) REFERENCES runs ON DELETE CASCADE
);

CREATE TABLE task_attempts (
    workflow_id   text        NOT NULL,
    run_id        text        NOT NULL,
    task_key      text        NOT NULL,
    attempt       int         NOT NULL,
    state         text        NOT NULL,
    started_at    timestamptz NOT NULL,
    ended_at      timestamptz,
    error_type    text        NOT NULL DEFAULT '',
    error_message text        NOT NULL DEFAULT '',
    PRIMARY KEY (workflow_id, run_id, task_key, attempt),
    FOREIGN KEY (workflow_id, run_id, task_key) REFERENCES task_runs ON DELETE CASCADE
);

-- Full error text (stack traces, stderr tails), kept apart from the listings.
CREATE TABLE run_errors (
    workflow_id text        NOT NULL,
    run_id      text        NOT NULL,
    task_key    text        NOT NULL,
    attempt     int         NOT NULL,
    error_type  text        NOT NULL,
    message     text        NOT NULL,
    detail      text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workflow_id, run_id, task_key, attempt),
    FOREIGN KEY (workflow_id, run_id) REFERENCES runs ON DELETE CASCADE
);

-- +goose Down
DROP TABLE run_errors;
DROP TABLE task_attempts;
DROP TABLE task_runs;
DROP TABLE runs;
