package workflows

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"github.com/sluicedata/sluice/activities/builtin"
	"github.com/sluicedata/sluice/activities/history"
	"github.com/sluicedata/sluice/internal/dag"
	"github.com/sluicedata/sluice/internal/run"
	"github.com/sluicedata/sluice/internal/spec"
)

// originalDiamond returns a failed run of diamond: a and c succeeded, b
// failed (leaving resume details), d was not run.
func originalDiamond(t *testing.T, id string) history.LoadRunResult {
	t.Helper()
	p, err := spec.Load("testdata/project")
	require.NoError(t, err)
	plan, err := p.Plan(spec.PlanRequest{Pipeline: "diamond"})
	require.NoError(t, err)
	raw, err := json.Marshal(plan)
	require.NoError(t, err)
	st := run.Status{WorkflowID: id, RunID: "r1", Pipeline: "diamond", Env: "local", Status: dag.StatusFailed, Tasks: []run.Task{
		{Key: "a", State: dag.Success, Output: map[string]any{"message": "from-original-a"}, Attempts: []run.Attempt{{N: 1, State: dag.Success}}},
		{Key: "b", State: dag.Failed, Resume: json.RawMessage(`{"update_id":"u-42"}`), Error: &run.Error{Type: "Boom"}},
		{Key: "c", State: dag.Success, Output: map[string]any{"message": "c"}},
		{Key: "d", State: dag.UpstreamFailed},
	}}
	return history.LoadRunResult{Status: st, Plan: raw}
}

func TestRepair(t *testing.T) {
	t.Parallel()
	t.Run("RerunsWhatFailed", func(t *testing.T) {
		t.Parallel()
		h := setup(t)
		h.env.OnActivity("LoadRun", mock.Anything, mock.Anything).Return(func(_ context.Context, in history.LoadRunInput) (history.LoadRunResult, error) {
			return originalDiamond(t, in.WorkflowID), nil
		})
		st, err := h.execute(run.Input{RepairOf: "sluice/diamond/local/2026-11-22"})
		require.NoError(t, err)
		require.Equal(t, dag.StatusSuccess, st.Status)
		require.Equal(t, run.TriggerRepair, st.Trigger)
		require.Equal(t, "sluice/diamond/local/2026-11-22", st.RepairOf)
		require.Equal(t, []string{"b", "d"}, h.order, "only the failed task and what it blocked run again")
		require.Equal(t, "b saw from-original-a", h.inputs["b"][0].Config.Message, "outputs of reused tasks feed the re-run")
		require.JSONEq(t, `{"update_id":"u-42"}`, string(h.inputs["b"][0].Meta.Resume), "the failed attempt's resume details reach the re-run")
		require.Equal(t, "sluice/diamond/local/2026-11-22", st.Task("a").Reused)
		require.Equal(t, "sluice/diamond/local/2026-11-22", st.Task("c").Reused)
		require.Equal(t, "", st.Task("b").Reused)
		require.Len(t, st.Task("a").Attempts, 1, "a reused task keeps its original attempts")
	})
	t.Run("RepairOfARepairKeepsTheOrigin", func(t *testing.T) {
		t.Parallel()
		h := setup(t)
		h.env.OnActivity("LoadRun", mock.Anything, mock.Anything).Return(func(_ context.Context, in history.LoadRunInput) (history.LoadRunResult, error) {
			o := originalDiamond(t, in.WorkflowID)
			o.Status.Task("a").Reused = "sluice/diamond/local/first"
			return o, nil
		})
		st, err := h.execute(run.Input{RepairOf: "sluice/diamond/local/first/repair-1"})
		require.NoError(t, err)
		require.Equal(t, "sluice/diamond/local/first", st.Task("a").Reused, "the run that did the work")
		require.Equal(t, "sluice/diamond/local/first/repair-1", st.Task("c").Reused)
	})
	t.Run("NamedTasksAndDownstream", func(t *testing.T) {
		t.Parallel()
		h := setup(t)
		h.env.OnActivity("LoadRun", mock.Anything, mock.Anything).Return(func(_ context.Context, in history.LoadRunInput) (history.LoadRunResult, error) {
			return originalDiamond(t, in.WorkflowID), nil
		})
		st, err := h.execute(run.Input{RepairOf: "x", RepairTasks: []string{"a"}, RepairDownstream: true})
		require.NoError(t, err)
		require.ElementsMatch(t, []string{"a", "b", "c", "d"}, h.order)
		require.Equal(t, "", st.Task("c").Reused)
	})
	t.Run("UnknownTask", func(t *testing.T) {
		t.Parallel()
		h := setup(t)
		h.env.OnActivity("LoadRun", mock.Anything, mock.Anything).Return(func(_ context.Context, in history.LoadRunInput) (history.LoadRunResult, error) {
			return originalDiamond(t, in.WorkflowID), nil
		})
		h.noop = func(builtin.NoopInput) (builtin.NoopResult, error) {
			t.Error("nothing may run")
			return builtin.NoopResult{}, nil
		}
		st, err := h.execute(run.Input{RepairOf: "x", RepairTasks: []string{"z"}})
		require.Error(t, err)
		require.Equal(t, "--tasks z: no such task in diamond (tasks: a, b, c, d)", st.Error)
	})
}
