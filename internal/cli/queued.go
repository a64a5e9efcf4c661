package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/sluicedata/sluice/internal/dag"
	"github.com/sluicedata/sluice/internal/run"
	"github.com/sluicedata/sluice/internal/schedule"
	"github.com/sluicedata/sluice/internal/spec"
)

// A run that a schedule holds back (overlap buffer_one or buffer_all) has
// no workflow yet, so run history cannot know it. Temporal keeps it in the
// schedule's buffer: DescribeSchedule reports how many starts are buffered
// (ScheduleInfo.buffer_size, which the SDK's ScheduleClient does not expose,
// so it is read through the workflow service) and the runs they wait for,
// but not their scheduled times. `sluice runs` shows one QUEUED row per
// schedule with a non-empty buffer.

// queuedTimeout bounds the Temporal calls of `sluice runs`: history must
// list promptly even when Temporal is slow or down.
const queuedTimeout = 5 * time.Second

// scheduleBuffers reads schedules' buffers.
type scheduleBuffers interface {
	// ListIDs returns the ids of the schedules whose id starts with prefix.
	ListIDs(ctx context.Context, prefix string) ([]string, error)
	// Buffered returns how many starts a schedule holds back and the runs
	// they wait for; found is false when there is no such schedule.
	Buffered(ctx context.Context, id string) (queued int, waitingFor []string, found bool, err error)
}

// findQueued returns the QUEUED rows of the schedules that may buffer runs
// of the pipeline and environment ("" = any). With a project it asks only
// about the schedules whose overlap policy buffers (none: no Temporal call);
// without one, about every schedule whose id starts with sluice/.
func findQueued(ctx context.Context, g *globals, pipeline, env string) ([]runRow, error) {
	var ids []string
	known := false
	if p, err := g.loadProject(); err == nil {
		if desired, err := schedule.FromProject(p, nil); err == nil {
			known = true
			for _, d := range desired {
				if d.Overlap == spec.OverlapBufferOne || d.Overlap == spec.OverlapBufferAll {
					ids = append(ids, d.ID)
				}
			}
		}
	}
	if known && len(ids) == 0 {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, queuedTimeout)
	defer cancel()
	c, err := g.dial(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	src := temporalBuffers{c: c, namespace: g.namespace}
	if !known {
		return queuedRows(ctx, src, nil, pipeline, env)
	}
	return queuedRows(ctx, src, ids, pipeline, env)
}

// queuedRows describes the schedules (ids nil: every schedule whose id
// starts with sluice/) and returns a row per schedule holding starts back.
func queuedRows(ctx context.Context, src scheduleBuffers, ids []string, pipeline, env string) ([]runRow, error) {
	if ids == nil {
		var err error
		if ids, err = src.ListIDs(ctx, "sluice/"); err != nil {
			return nil, err
		}
	}
	var rows []runRow
	for _, id := range ids {
		_, p, e, ok := schedule.ParseID(id)
		if !ok || (pipeline != "" && p != pipeline) || (env != "" && e != env) {
			continue
		}
		n, waiting, found, err := src.Buffered(ctx, id)
		if err != nil {
			return rows, err
		}
		if !found || n == 0 {
			continue
		}
		rows = append(rows, runRow{Pipeline: p, Env: e, Trigger: string(run.TriggerScheduled), Status: dag.StatusQueued,
			ScheduleID: id, Queued: n, WaitingFor: waiting})
	}
	slices.SortFunc(rows, func(a, b runRow) int {
		if a.ScheduleID < b.ScheduleID {
			return -1
		}
		if a.ScheduleID > b.ScheduleID {
			return 1
		}
		return 0
	})
	return rows, nil
}

// temporalBuffers reads schedules from a Temporal namespace.
type temporalBuffers struct {
	c         client.Client
	namespace string
}

func (t temporalBuffers) ListIDs(ctx context.Context, prefix string) ([]string, error) {
	return schedule.New(t.c).ListIDs(ctx, prefix)
}

func (t temporalBuffers) Buffered(ctx context.Context, id string) (int, []string, bool, error) {
	resp, err := t.c.WorkflowService().DescribeSchedule(ctx, &workflowservice.DescribeScheduleRequest{Namespace: t.namespace, ScheduleId: id})
	if err != nil {
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			return 0, nil, false, nil
		}
		return 0, nil, false, fmt.Errorf("describing schedule %s: %w", id, err)
	}
	info := resp.GetInfo()
	var waiting []string
	for _, w := range info.GetRunningWorkflows() {
		waiting = append(waiting, w.GetWorkflowId())
	}
	return int(info.GetBufferSize()), waiting, true, nil
}
