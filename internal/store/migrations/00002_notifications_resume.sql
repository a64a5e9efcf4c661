-- +goose Up
-- Delivery log of notifications: one row per run, event and channel. A
-- delivery id is sent at most once by Sluice; receivers can dedupe on it
-- (X-Sluice-Delivery header, email Message-ID) in the rare case a worker dies
-- between sending and recording.
CREATE TABLE notifications (
    delivery_id  text        PRIMARY KEY,
    workflow_id  text        NOT NULL,
    run_id       text        NOT NULL,
    event        text        NOT NULL,
    channel      text        NOT NULL,
    channel_type text        NOT NULL,
    status       text        NOT NULL, -- sending, sent, failed
    attempts     int         NOT NULL DEFAULT 0,
    error        text        NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    sent_at      timestamptz
);
CREATE INDEX notifications_run ON notifications (workflow_id, run_id);

-- What a failed task's last attempt left to resume from (an external run id,
-- dbt artifacts): a repair hands it to the re-run.
ALTER TABLE task_runs ADD COLUMN resume jsonb;

-- +goose Down
ALTER TABLE task_runs DROP COLUMN resume;
DROP TABLE notifications;
