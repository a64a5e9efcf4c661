// Package dbt is everything Sluice knows about dbt Core, as a plain library
// the Temporal activity wraps: it runs the dbt CLI and reads what dbt writes.
//
//   - Artifacts: ParseManifest streams target/manifest.json (schema v4,
//     dbt 1.0, to v12) into models, tests, seeds, snapshots, sources and the
//     dependency graph; ParseRunResults reads target/run_results.json (v1 to
//     v6).
//   - Logs: ParseEvent and LogReader read `--log-format json` lines; a
//     Tracker folds them into a Progress (nodes selected, done, running, per
//     node results) while dbt runs.
//   - Runner: Run executes a list of dbt commands with exact, per-command
//     flags, checks the dbt version, streams progress, stores scrubbed logs
//     and artifacts, cancels the whole process group with SIGINT then
//     SIGKILL, and turns failures into an *Error whose Kind says whether a
//     retry can help (IsPermanent).
//   - Profiles: WriteProfile writes a profiles.yml for Postgres or
//     Databricks whose secrets come only from the environment.
//   - Retry: RetrySelection turns a failed run into --select arguments
//     for the failed, errored and skipped nodes and everything downstream.
//
// dbt cannot be installed where Sluice is developed, so the tests run a
// stand-in executable (testdata/fakedbt) that replays real dbt logs and
// artifacts.
package dbt
