// Package workflows holds Sluice's deterministic workflow code: RunPipeline,
// the one workflow users start (by the CLI, the temporal CLI, schedules or
// other services), which resolves a pipeline into a plan and runs its DAG.
//
// Code here imports no I/O package and never reads the clock or iterates a
// map to decide anything; everything it learns from the outside world comes
// through activities and is therefore recorded in history and replayable.
package workflows
