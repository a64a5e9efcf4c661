// Package databricks runs Sluice tasks on a Databricks workspace
// (engine: databricks). It holds the databricks_job activity and what the
// other engine-aware activities (dlt_pipeline, sql, quality_checks,
// generate_data) share when they run on Databricks:
//
//   - Clients builds one internal/databricks Client per environment in the
//     worker, resolving the environment's ${secret:...} credentials there, so
//     no credential ever travels through workflow inputs or history. Fields
//     left unset fall back to the SDK's standard auth chain
//     (DATABRICKS_HOST/DATABRICKS_TOKEN, DATABRICKS_CLIENT_ID/SECRET,
//     ~/.databrickscfg profiles).
//   - Attached runs a poll of external work so that only a real cancellation
//     (the workflow cancelled the task, the task timed out) stops that work.
//     A worker shutting down leaves it running; the attempt Temporal starts
//     on another worker re-attaches to it through the heartbeat details.
//   - TaskError translates the library's error kinds into task errors:
//     transient kinds stay retryable, every other kind is permanent, typed by
//     its stable kind name (DatabricksNotFound, DatabricksFailed, ...).
package databricks
