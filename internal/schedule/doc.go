// Package schedule keeps Temporal Schedules in step with a Sluice project:
// every pipeline with a `schedule:` becomes one schedule per environment,
// id sluice/<project>/<pipeline>/<env>, whose action starts RunPipeline with
// {"pipeline": ..., "env": ...}.
//
// Reconciling is three steps, each usable alone: FromProject reads what
// the project asks for, Client.Plan compares it with what the server has
// (Describe per schedule, List for schedules whose pipeline is gone) and
// returns the changes, and Client.Apply makes them. A second Plan after an
// Apply finds nothing to do.
//
// The paused state is the one field people change by hand (`sluice pause`,
// the Web UI, `temporal schedule toggle`). Apply records in the action's memo
// what the spec said at the last apply, and changes the live state only when
// the spec's setting changed since then (or on creation): an operator's pause
// during an incident survives the next deploy, and a schedule the spec pauses
// stays as a person left it until the spec changes.
//
// Cron expressions go to Temporal with the expression itself as the
// calendar's comment ("0 6 * * * # 0 6 * * *"): the server keeps only the
// parsed calendar, and the comment is how a later Plan reads the cron back.
package schedule
