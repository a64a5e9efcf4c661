-- +goose Up
-- dbt manifests kept by RefreshDbtProject: one row per refresh of a dbt
-- project (a name in sluice.yaml dbt_projects) in an environment, with the
-- commit it was parsed at. `nodes` is the part Sluice reads (models, seeds,
-- snapshots, sources, tests: names, paths, tags, parents) for
-- `sluice dbt models` and selection checks; `manifest` is manifest.json
-- itself, gzip-compressed, secrets scrubbed.
CREATE TABLE dbt_manifests (
    id             bigserial   PRIMARY KEY,
    project        text        NOT NULL,
    dbt_project    text        NOT NULL,
    env            text        NOT NULL,
    commit_sha     text        NOT NULL DEFAULT '',
    ref            text        NOT NULL DEFAULT '',
    dbt_version    text        NOT NULL DEFAULT '',
    schema_version int         NOT NULL DEFAULT 0,
    workflow_id    text        NOT NULL,
    run_id         text        NOT NULL,
    nodes          jsonb       NOT NULL,
    manifest       bytea       NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workflow_id, run_id, dbt_project)
);
CREATE INDEX dbt_manifests_latest ON dbt_manifests (project, dbt_project, created_at DESC, id DESC);

-- +goose Down
DROP TABLE dbt_manifests;
