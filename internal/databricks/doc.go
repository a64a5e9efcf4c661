// Package databricks drives a Databricks workspace for Sluice's
// `engine: databricks` tasks: DLT (Lakeflow Declarative) pipeline updates,
// job runs, SQL statements on a warehouse and Files API uploads to Unity
// Catalog volumes. It is a plain library over databricks-sdk-go; the
// Temporal activities that call it live elsewhere.
//
// Every long operation is crash safe through two arguments the caller wires
// to Temporal heartbeats:
//
//   - resume: what the previous attempt recorded (nil on the first attempt).
//     With an update, run or statement id in it, the operation re-attaches
//     to that external work and never starts another.
//   - hb: called with the resume value as soon as the external id is known
//     (the first heartbeat, sent by Temporal without throttling) and then on
//     every poll, so heartbeats keep flowing while the work runs. PollMaxInterval
//     must therefore stay below the activity's heartbeat timeout.
//
// Starting work is idempotent on its own where the API allows it: job runs
// carry the caller's idempotency_token, and a pipeline update whose start
// outcome is unknown (timeout, 5xx) is looked up in the pipeline's update
// list before another start is attempted.
//
// Errors are *Error values with a Kind: KindTransient errors (HTTP 429/5xx,
// timeouts, connection resets) are retried with backoff inside this package
// for up to Config.RetryTimeout and then returned for the caller to retry;
// every other kind is permanent and its message says what to fix.
// Cancelling ctx stops the external work (pipeline stop, run cancel,
// statement cancel) with a fresh short context and returns ctx.Err().
package databricks
