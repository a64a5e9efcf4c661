package integration

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/sluicedata/sluice/internal/dag"
	"github.com/sluicedata/sluice/internal/run"
	"github.com/sluicedata/sluice/internal/schedule"
	"github.com/sluicedata/sluice/internal/spec"
)

const schedProject = "testdata/schedules"

// desiredCount is how many schedules the project asks for in envs (all when
// none): the example project grows, the tests should not need to follow.
func desiredCount(t *testing.T, project string, envs ...string) int {
	t.Helper()
	p, err := spec.Load(project)
	require.NoError(t, err)
	ds, err := schedule.FromProject(p, envs)
	require.NoError(t, err)
	return len(ds)
}

// copyProject copies a project folder into a temporary one the test may edit.
func copyProject(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	require.NoError(t, os.CopyFS(dst, os.DirFS(src)))
	return dst
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
}

// editFile replaces old with new in a file (old must be there).
func editFile(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Contains(t, string(b), old)
	writeFile(t, path, strings.Replace(string(b), old, new, 1))
}

// describeSchedule returns the schedule, or nil when there is none.
func describeSchedule(t *testing.T, sb *sandbox, id string) *client.ScheduleDescription {
	t.Helper()
	d, err := sb.client.ScheduleClient().GetHandle(context.Background(), id).Describe(context.Background())
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return nil
	}
	require.NoError(t, err)
	return d
}

// scheduleFacts are what a user checks on the Web UI's schedule page.
type scheduleFacts struct {
	Calendar      string // the calendar's comment: the cron apply wrote
	Hours         []client.ScheduleRange
	Minutes       []client.ScheduleRange
	DaysOfWeek    []client.ScheduleRange
	Timezone      string
	Jitter        time.Duration
	Overlap       enumspb.ScheduleOverlapPolicy
	CatchupWindow time.Duration
	Paused        bool
	Note          string
	Workflow      string
	TaskQueue     string
	Input         string
	Timeout       time.Duration
	Summary       string
	Attrs         map[string]any
}

func factsOf(t *testing.T, d *client.ScheduleDescription) scheduleFacts {
	t.Helper()
	require.NotNil(t, d)
	require.Len(t, d.Schedule.Spec.Calendars, 1)
	cal := d.Schedule.Spec.Calendars[0]
	a, ok := d.Schedule.Action.(*client.ScheduleWorkflowAction)
	require.True(t, ok)
	require.Len(t, a.Args, 1)
	p, ok := a.Args[0].(*commonpb.Payload)
	require.True(t, ok)
	attrs := map[string]any{}
	for k, v := range a.TypedSearchAttributes.GetUntypedValues() {
		attrs[k.GetName()] = v
	}
	return scheduleFacts{
		Calendar: cal.Comment, Hours: cal.Hour, Minutes: cal.Minute, DaysOfWeek: cal.DayOfWeek,
		Timezone: d.Schedule.Spec.TimeZoneName, Jitter: d.Schedule.Spec.Jitter,
		Overlap: d.Schedule.Policy.Overlap, CatchupWindow: d.Schedule.Policy.CatchupWindow,
		Paused: d.Schedule.State.Paused, Note: d.Schedule.State.Note,
		Workflow: a.Workflow.(string), TaskQueue: a.TaskQueue, Input: string(p.GetData()),
		Timeout: a.WorkflowExecutionTimeout, Summary: a.StaticSummary, Attrs: attrs,
	}
}

func rng(start, end, step int) []client.ScheduleRange {
	return []client.ScheduleRange{{Start: start, End: end, Step: step}}
}

func scheduledAttrs(pipeline, env string) map[string]any {
	return map[string]any{"SluicePipeline": pipeline, "SluiceEnv": env, "SluiceTrigger": "SCHEDULED", "SluiceStatus": "RUNNING"}
}

func TestApplyCreatesTheExampleSchedules(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t, "../examples/olist")
	want := desiredCount(t, "../examples/olist")

	code, out := sb.sluice("apply")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, `+ sluice/olist/olist_daily/prod (create)
    cron: 0 6 * * *
    timezone: UTC
    overlap: skip
    catchup_window: 6h
    jitter: none
    execution_timeout: 4h10m (pipeline timeout 4h + 10m)
    state: active
`)
	require.Contains(t, out, "    state: paused (environment dev: schedules: paused)\n")
	require.True(t, strings.HasSuffix(out, fmt.Sprintf("applied: %d created, 0 updated, 0 deleted, 0 unchanged\n", want)), out)

	daily := factsOf(t, describeSchedule(t, sb, "sluice/olist/olist_daily/prod"))
	require.Equal(t, scheduleFacts{
		Calendar: "0 6 * * *", Hours: rng(6, 6, 1), Minutes: rng(0, 0, 1), DaysOfWeek: rng(0, 6, 1),
		Timezone: "UTC", Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP, CatchupWindow: 6 * time.Hour,
		Workflow: "RunPipeline", TaskQueue: "sluice", Input: `{"pipeline":"olist_daily","env":"prod"}`,
		Timeout: 4*time.Hour + 10*time.Minute, Summary: "olist_daily · prod · SCHEDULED · 0 6 * * * UTC",
		Attrs: scheduledAttrs("olist_daily", "prod"),
	}, daily, "prod: daily at 06:00 UTC with the 4h timeout")

	staging := factsOf(t, describeSchedule(t, sb, "sluice/olist/olist_daily/staging"))
	require.Equal(t, "0 7 * * *", staging.Calendar)
	require.Equal(t, rng(7, 7, 1), staging.Hours)
	require.Equal(t, 3*time.Hour+10*time.Minute, staging.Timeout)
	require.False(t, staging.Paused)

	dev := factsOf(t, describeSchedule(t, sb, "sluice/olist/olist_daily/dev"))
	require.True(t, dev.Paused)
	require.Equal(t, "environment dev: schedules: paused", dev.Note)

	weekly := factsOf(t, describeSchedule(t, sb, "sluice/olist/olist_weekly_full_refresh/prod"))
	require.Equal(t, "0 2 * * 0", weekly.Calendar, "Sundays at 02:00")
	require.Equal(t, rng(0, 0, 1), weekly.DaysOfWeek)
	require.True(t, weekly.Paused)
	require.Equal(t, "enable when a weekly rebuild is wanted", weekly.Note)

	for env, minutes := range map[string][]client.ScheduleRange{
		"local": rng(0, 0, 1), "dev": rng(0, 0, 1), "staging": rng(0, 59, 30), "prod": rng(0, 59, 15),
	} {
		iot := factsOf(t, describeSchedule(t, sb, "sluice/olist/iot_sensors/"+env))
		require.Equal(t, minutes, iot.Minutes, env)
		require.Equal(t, rng(0, 23, 1), iot.Hours, env)
		require.Equal(t, env == "dev", iot.Paused, env)
	}

	code, out = sb.sluice("apply")
	require.Equal(t, 0, code, out)
	require.Equal(t, fmt.Sprintf("no changes: %d schedules up to date\n", want), out, "a second apply changes nothing")

	// The Web UI's Schedules page lists what `temporal schedule list` does.
	require.Eventually(t, func() bool {
		out, err := sb.temporal("schedule", "list")
		return err == nil && strings.Count(out, "sluice/olist/") == want
	}, 20*time.Second, 250*time.Millisecond)
}

func TestApplyUpdatesKeepsManualPausesAndPrunes(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t, copyProject(t, schedProject))
	file := func(name string) string { return filepath.Join(sb.project, "pipelines", name) }

	code, out := sb.sluice("apply")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "applied: 6 created, 0 updated, 0 deleted, 0 unchanged")
	require.Contains(t, out, `+ sluice/sched/yearly/local (create)
    cron: 0 0 1 1 * (written "0 0 0 1 1 ?")
    timezone: Europe/Paris
    overlap: buffer_one
    catchup_window: 3h
    jitter: 30s
    execution_timeout: 1h10m (pipeline timeout 1h + 10m)
    state: active
`)
	yearly := factsOf(t, describeSchedule(t, sb, "sluice/sched/yearly/local"))
	require.Equal(t, "0 0 1 1 *", yearly.Calendar)
	require.Equal(t, "Europe/Paris", yearly.Timezone)
	require.Equal(t, 30*time.Second, yearly.Jitter)
	require.Equal(t, enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE, yearly.Overlap)
	require.Equal(t, 3*time.Hour, yearly.CatchupWindow)
	require.Equal(t, "0 12 1 1 *", factsOf(t, describeSchedule(t, sb, "sluice/sched/yearly/dev")).Calendar, "the dev overlay's cron")
	require.Nil(t, describeSchedule(t, sb, "sluice/sched/manual/local"), "a pipeline without schedule gets none")

	t.Run("DryRunChangesNothing", func(t *testing.T) {
		editFile(t, file("logged.yaml"), `cron: "0 6 * * *"`, `cron: "30 6 * * *"`)
		code, out := sb.sluice("apply", "--dry-run", "--env", "local")
		require.Equal(t, 0, code, out)
		require.Equal(t, `~ sluice/sched/logged/local (update)
    cron: 0 6 * * * -> 30 6 * * *
    summary: logged · local · SCHEDULED · 0 6 * * * UTC -> logged · local · SCHEDULED · 30 6 * * * UTC
dry run, nothing changed: 0 to create, 1 to update, 0 to delete, 2 unchanged
`, out)
		require.Equal(t, "0 6 * * *", factsOf(t, describeSchedule(t, sb, "sluice/sched/logged/local")).Calendar)
	})

	t.Run("UpdateOnlyTheEnvironmentAsked", func(t *testing.T) {
		code, out := sb.sluice("apply", "--env", "local")
		require.Equal(t, 0, code, out)
		require.Contains(t, out, "applied: 0 created, 1 updated, 0 deleted, 2 unchanged\n")
		local := factsOf(t, describeSchedule(t, sb, "sluice/sched/logged/local"))
		require.Equal(t, "30 6 * * *", local.Calendar)
		require.Equal(t, rng(30, 30, 1), local.Minutes)
		require.Equal(t, "0 6 * * *", factsOf(t, describeSchedule(t, sb, "sluice/sched/logged/dev")).Calendar, "dev was not asked for")
	})

	t.Run("PauseByHandSurvivesApply", func(t *testing.T) {
		code, out := sb.sluice("pause", "slow", "--env", "local", "--note", "incident 42")
		require.Equal(t, 0, code, out)
		require.Equal(t, "paused sluice/sched/slow/local: incident 42\nsluice apply leaves it paused; `sluice unpause slow --env local` resumes it\n", out)
		code, out = sb.sluice("unpause", "yearly", "--env", "dev", "--note", "trying it")
		require.Equal(t, 0, code, out)
		require.Equal(t, "unpaused sluice/sched/yearly/dev: trying it\nnote: pipelines/yearly.yaml pauses this schedule (environment dev: schedules: paused); sluice apply leaves it running until that setting changes\n", out)

		code, out = sb.sluice("apply")
		require.Equal(t, 0, code, out)
		require.Contains(t, out, "! sluice/sched/slow/local: paused by hand (\"incident 42\"): left paused; `sluice unpause slow --env local` resumes it\n")
		require.Contains(t, out, "! sluice/sched/yearly/dev: unpaused by hand (\"trying it\") although the spec pauses it (environment dev: schedules: paused): left running; `sluice pause yearly --env dev` pauses it again\n")
		require.Contains(t, out, "~ sluice/sched/logged/dev (update)\n    cron: 0 6 * * * -> 30 6 * * *\n")
		slow := factsOf(t, describeSchedule(t, sb, "sluice/sched/slow/local"))
		require.True(t, slow.Paused)
		require.Equal(t, "incident 42", slow.Note)
		require.False(t, factsOf(t, describeSchedule(t, sb, "sluice/sched/yearly/dev")).Paused)
	})

	t.Run("SpecPausesAndResumes", func(t *testing.T) {
		editFile(t, file("slow.yaml"), `cron: "0 0 1 1 *"`, `cron: "0 0 1 1 *", paused: true, note: "off for now"`)
		code, out := sb.sluice("apply", "--env", "local")
		require.Equal(t, 0, code, out)
		require.Equal(t, "~ sluice/sched/slow/local (update)\n    state: paused (incident 42) -> paused (off for now)\napplied: 0 created, 1 updated, 0 deleted, 2 unchanged\n", out)
		slow := factsOf(t, describeSchedule(t, sb, "sluice/sched/slow/local"))
		require.True(t, slow.Paused)
		require.Equal(t, "off for now", slow.Note)

		editFile(t, file("slow.yaml"), `, paused: true, note: "off for now"`, ``)
		code, out = sb.sluice("apply", "--env", "local")
		require.Equal(t, 0, code, out)
		require.Equal(t, "~ sluice/sched/slow/local (update)\n    state: paused (off for now) -> active\napplied: 0 created, 1 updated, 0 deleted, 2 unchanged\n", out)
		require.False(t, factsOf(t, describeSchedule(t, sb, "sluice/sched/slow/local")).Paused)
	})

	t.Run("StaleSchedulesArePrunedOnlyWhenAsked", func(t *testing.T) {
		require.NoError(t, os.Remove(file("slow.yaml")))
		// the list the stale schedules come from lags a moment behind writes
		require.Eventually(t, func() bool {
			_, out := sb.sluice("apply", "--dry-run")
			return strings.Contains(out, "? sluice/sched/slow/dev (stale: no pipeline slow with a schedule in the project; --prune deletes it)\n") &&
				strings.Contains(out, "? sluice/sched/slow/local (stale: no pipeline slow with a schedule in the project; --prune deletes it)\n")
		}, 20*time.Second, 250*time.Millisecond)
		code, out := sb.sluice("apply")
		require.Equal(t, 0, code, out)
		require.Contains(t, out, "no changes: 4 schedules up to date\n")
		require.NotNil(t, describeSchedule(t, sb, "sluice/sched/slow/local"), "kept without --prune")

		code, out = sb.sluice("apply", "--prune")
		require.Equal(t, 0, code, out)
		require.Contains(t, out, "- sluice/sched/slow/dev (delete: no pipeline slow with a schedule in the project)\n")
		require.Contains(t, out, "- sluice/sched/slow/local (delete: no pipeline slow with a schedule in the project)\n")
		require.Contains(t, out, "applied: 0 created, 0 updated, 2 deleted, 4 unchanged\n")
		require.Nil(t, describeSchedule(t, sb, "sluice/sched/slow/local"))
		require.Nil(t, describeSchedule(t, sb, "sluice/sched/slow/dev"))
		require.Eventually(t, func() bool {
			_, out := sb.sluice("apply", "--prune")
			return !strings.Contains(out, "- sluice/") && strings.HasSuffix(out, "no changes: 4 schedules up to date\n")
		}, 20*time.Second, 250*time.Millisecond)
	})
}

func TestApplyOfAnInvalidSpecChangesNothing(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t, copyProject(t, schedProject))
	code, out := sb.sluice("apply")
	require.Equal(t, 0, code, out)
	before := factsOf(t, describeSchedule(t, sb, "sluice/sched/yearly/local"))

	// a valid change next to an invalid one: neither is applied
	editFile(t, filepath.Join(sb.project, "pipelines", "yearly.yaml"), `overlap: buffer_one`, `overlap: allow`)
	editFile(t, filepath.Join(sb.project, "pipelines", "logged.yaml"), `cron: "0 6 * * *"`, `cron: "0 6 * *"`)
	code, out = sb.sluice("apply")
	require.Equal(t, 1, code, out)
	require.Equal(t, `pipelines/logged.yaml:3:18: schedule.cron: cron "0 6 * *" has 4 fields (write 5 fields "minute hour day-of-month month day-of-week" (e.g. "0 6 * * *") or Quartz "0 0 6 * * ?")
1 error(s): nothing changed; fix them and run again (`+"`sluice validate`"+` checks the project)
`, out)
	require.Equal(t, before, factsOf(t, describeSchedule(t, sb, "sluice/sched/yearly/local")))

	editFile(t, filepath.Join(sb.project, "pipelines", "logged.yaml"), `cron: "0 6 * *"`, `cron: "0 6 1 * MON"`)
	code, out = sb.sluice("apply")
	require.Equal(t, 1, code, out)
	require.Equal(t, `pipelines/logged.yaml:3:18: schedule.cron: "0 6 1 * MON" restricts both the day of the month and the day of the week: `+
		"Temporal starts a run only on days matching both, where classic cron starts on days matching either (use * for one of them, or two pipelines)\n"+
		"1 error(s): nothing changed; fix them and run again (`sluice validate` checks the project)\n", out)
	require.Equal(t, before, factsOf(t, describeSchedule(t, sb, "sluice/sched/yearly/local")))
	require.Equal(t, "0 6 * * *", factsOf(t, describeSchedule(t, sb, "sluice/sched/logged/local")).Calendar)
}

// workflowAttrs returns a run's search attributes as strings (times in RFC 3339).
func workflowAttrs(t *testing.T, sb *sandbox, id string) map[string]string {
	t.Helper()
	resp, err := sb.client.DescribeWorkflowExecution(context.Background(), id, "")
	require.NoError(t, err)
	out := map[string]string{}
	for k, p := range resp.GetWorkflowExecutionInfo().GetSearchAttributes().GetIndexedFields() {
		var v any
		require.NoError(t, converter.GetDefaultDataConverter().FromPayload(p, &v))
		out[k] = fmt.Sprint(v)
	}
	return out
}

// waitResult waits for a run's end and returns its status.
func waitResult(t *testing.T, sb *sandbox, id string) *run.Status {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var st run.Status
	require.NoError(t, sb.client.GetWorkflow(ctx, id, "").Get(ctx, &st))
	return &st
}

// listWorkflows returns the ids of the workflows a visibility query finds,
// once it finds want of them.
func listWorkflows(t *testing.T, sb *sandbox, query string, want int) []string {
	t.Helper()
	var ids []string
	require.Eventually(t, func() bool {
		resp, err := sb.client.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{Query: query})
		if err != nil {
			return false
		}
		ids = nil
		for _, e := range resp.GetExecutions() {
			ids = append(ids, e.GetExecution().GetWorkflowId())
		}
		return len(ids) == want
	}, 20*time.Second, 250*time.Millisecond, "query %s", query)
	slices.Sort(ids)
	return ids
}

var startedRe = regexp.MustCompile(`started (\S+) \(run \S+\), logical date (\S+)`)

func TestTriggerStartsAScheduledRunWithItsLogicalDate(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t, schedProject)
	sb.startWorker()
	code, out := sb.sluice("apply", "--env", "local")
	require.Equal(t, 0, code, out)

	before := time.Now().UTC().Truncate(time.Second)
	code, out = sb.sluice("trigger", "logged", "--env", "local", "--wait")
	require.Equal(t, 0, code, out)
	m := startedRe.FindStringSubmatch(out)
	require.NotNil(t, m, out)
	id, logical := m[1], m[2]
	at, err := time.Parse(time.RFC3339, logical)
	require.NoError(t, err)
	require.Equal(t, "sluice/sched/logged/local-"+logical, id, "scheduled runs are <schedule id>-<time>")
	require.WithinRange(t, at, before, time.Now().UTC())

	st := waitResult(t, sb, id)
	require.Equal(t, dag.StatusSuccess, st.Status)
	require.Equal(t, run.TriggerScheduled, st.Trigger)
	require.True(t, at.Equal(st.LogicalDate), "logical date %s, want the scheduled time %s", st.LogicalDate, at)
	attrs := workflowAttrs(t, sb, id)
	require.Equal(t, "SCHEDULED", attrs["SluiceTrigger"])
	require.Equal(t, "sluice/sched/logged/local", attrs["TemporalScheduledById"])
	require.Equal(t, attrs["TemporalScheduledStartTime"], attrs["SluiceLogicalDate"])
	rows := sb.query("SELECT logical, trigger, workflow_id FROM run_log")
	require.Len(t, rows, 1)
	require.True(t, at.Equal(rows[0][0].(time.Time)), "the SQL saw ${run.logical_date.iso_datetime} = %v", rows[0][0])
	require.Equal(t, []any{"SCHEDULED", id}, rows[0][1:])

	code, out = sb.sluice("schedules", "--pipeline", "logged")
	require.Equal(t, 0, code, out)
	require.Regexp(t, `(?m)^PIPELINE\s+ENV\s+CRON\s+TZ\s+OVERLAP\s+STATE\s+NEXT RUN\s+LAST RUN\s+RESULT\n`+
		`logged\s+local\s+0 6 \* \* \*\s+UTC\s+skip\s+active\s+\d{4}-\d\d-\d\d 06:00:00Z\s+`+regexp.QuoteMeta(at.Format("2006-01-02 15:04:05Z"))+`\s+SUCCESS\n$`, out)
}

func TestOverlapSkipWhileASlowRunIsInProgress(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t, schedProject)
	sb.startWorker()
	code, out := sb.sluice("apply", "--env", "local")
	require.Equal(t, 0, code, out)

	code, out = sb.sluice("trigger", "slow", "--env", "local")
	require.Equal(t, 0, code, out)
	m := startedRe.FindStringSubmatch(out)
	require.NotNil(t, m, out)
	first := m[1]

	code, out = sb.sluice("trigger", "slow", "--env", "local")
	require.Equal(t, 0, code, out)
	require.Equal(t, fmt.Sprintf("skipped: a run is in progress and the overlap policy is skip (%s)\n", first), out)

	d := describeSchedule(t, sb, "sluice/sched/slow/local")
	require.Equal(t, 1, d.Info.NumActions)
	require.Equal(t, 1, d.Info.NumActionsSkippedOverlap)
	require.Equal(t, dag.StatusSuccess, waitResult(t, sb, first).Status)
	require.Equal(t, []string{first}, listWorkflows(t, sb, `TemporalScheduledById = "sluice/sched/slow/local"`, 1), "one run, not two")

	code, out = sb.sluice("trigger", "slow", "--env", "dev")
	require.Equal(t, 1, code, out)
	require.Equal(t, "sluice: triggering schedule sluice/sched/slow/dev: there is no such schedule (create it with `sluice apply`)\n", out)
	code, out = sb.sluice("trigger", "slw", "--env", "local")
	require.Equal(t, 1, code, out)
	require.Equal(t, "sluice: unknown pipeline \"slw\" (did you mean \"slow\"?)\n", out)
}

func TestBackfillThreeDays(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t, schedProject)
	sb.startWorker()

	code, out := sb.sluice("backfill", "logged", "--env", "local", "--from", "2026-11-01", "--to", "2026-11-03", "--dry-run")
	require.Equal(t, 0, code, out)
	require.Equal(t, `would start sluice/logged/local/backfill/2026-11-01T06:00:00Z..2026-11-03T06:00:00Z: 3 runs of logged in local (0 6 * * * UTC), at most 1 at once
  2026-11-01T06:00:00Z  sluice/logged/local/2026-11-01T06:00:00Z
  2026-11-02T06:00:00Z  sluice/logged/local/2026-11-02T06:00:00Z
  2026-11-03T06:00:00Z  sluice/logged/local/2026-11-03T06:00:00Z
`, out)

	code, out = sb.sluice("backfill", "logged", "--env", "local", "--from", "2026-11-01", "--to", "2026-11-03", "--parallel", "2", "--wait")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "started sluice/logged/local/backfill/2026-11-01T06:00:00Z..2026-11-03T06:00:00Z: 3 runs of logged in local, at most 2 at once\n")
	for _, day := range []string{"01", "02", "03"} {
		require.Regexp(t, `(?m)^  SUCCESS\s+2026-11-`+day+`T06:00:00Z  sluice/logged/local/2026-11-`+day+`T06:00:00Z$`, out)
	}
	require.True(t, strings.HasSuffix(out, "backfill SUCCESS: 3 SUCCESS\n"), out)
	checkReplay(t, sb, "sluice/logged/local/backfill/2026-11-01T06:00:00Z..2026-11-03T06:00:00Z", "logged_backfill_success")

	rows := sb.query("SELECT to_char(logical AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), trigger, workflow_id FROM run_log ORDER BY logical")
	require.Equal(t, [][]any{
		{"2026-11-01 06:00", "BACKFILL", "sluice/logged/local/2026-11-01T06:00:00Z"},
		{"2026-11-02 06:00", "BACKFILL", "sluice/logged/local/2026-11-02T06:00:00Z"},
		{"2026-11-03 06:00", "BACKFILL", "sluice/logged/local/2026-11-03T06:00:00Z"},
	}, rows, "one run per interval, each with its own logical date")
	require.Equal(t, []string{
		"sluice/logged/local/2026-11-01T06:00:00Z", "sluice/logged/local/2026-11-02T06:00:00Z", "sluice/logged/local/2026-11-03T06:00:00Z",
	}, listWorkflows(t, sb, `SluicePipeline = "logged" AND SluiceTrigger = "BACKFILL" AND WorkflowType = "RunPipeline"`, 3))

	code, out = sb.sluice("backfill", "manual", "--env", "local", "--from", "2026-11-01", "--to", "2026-11-03")
	require.Equal(t, 1, code, out)
	require.Equal(t, "sluice: pipeline manual has no schedule in environment local, so it has no intervals to backfill: run single dates with `sluice run manual --env local --date D`\n", out)
}

func TestReadmeScheduleRecipes(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t, "../examples/olist")
	// the recipes call sluice: put the binaries built from this tree first
	sep := string(os.PathListSeparator)
	sb.extraEnv = map[string]string{
		"SLUICE_CATALOG": dbName(t, sb.whURL),
		"PATH":           binaries(t) + sep + filepath.Dir(sb.srv.CLI) + sep + os.Getenv("PATH"),
	}
	sb.startWorker()
	const id = "sluice/olist/iot_sensors/local"
	hours := func(day string) []string {
		var out []string
		for _, r := range sb.query(`SELECT DISTINCT to_char(hour AT TIME ZONE 'UTC', 'HH24') FROM iot.sensor_hourly
			WHERE (hour AT TIME ZONE 'UTC')::date = $1::date AND readings = 60 ORDER BY 1`, day) {
			out = append(out, r[0].(string))
		}
		return out
	}

	local := desiredCount(t, "../examples/olist", "local")
	out := sb.runRecipe(t, "schedules-apply")
	require.Contains(t, out, "+ sluice/olist/iot_sensors/local (create)\n    cron: 0 * * * *\n")
	require.Contains(t, out, fmt.Sprintf("dry run, nothing changed: %d to create, 0 to update, 0 to delete, 0 unchanged\n", local))
	require.Contains(t, out, fmt.Sprintf("applied: %d created, 0 updated, 0 deleted, 0 unchanged\n", local))
	require.Contains(t, out, fmt.Sprintf("no changes: %d schedules up to date\n", local))
	require.Regexp(t, `(?m)^iot_sensors\s+local\s+0 \* \* \* \*\s+UTC\s+skip\s+active\s+\d{4}-\d\d-\d\d \d\d:00:\d\dZ\s+-\s+-$`, out)
	require.Regexp(t, `(?m)^olist_daily\s+local\s+0 6 \* \* \*\s+UTC\s+skip\s+active\s+`, out)
	require.Regexp(t, `(?m)^olist_weekly_full_refresh\s+local\s+0 2 \* \* 0\s+UTC\s+skip\s+paused: enable when a weekly rebuild is wanted\s+-\s+-\s+-$`, out)

	out = sb.runRecipe(t, "schedules-sluice")
	require.Contains(t, out, "paused sluice/olist/iot_sensors/local: warehouse maintenance\n")
	require.Contains(t, out, "unpaused sluice/olist/iot_sensors/local: maintenance done\n")
	m := startedRe.FindStringSubmatch(out)
	require.NotNil(t, m, out)
	require.True(t, strings.HasPrefix(m[1], id+"-"), m[1])
	require.Equal(t, dag.StatusSuccess, waitResult(t, sb, m[1]).Status)
	require.Contains(t, out, "started sluice/iot_sensors/local/backfill/2026-11-21T00:00:00Z..2026-11-21T02:00:00Z: 3 runs of iot_sensors in local, at most 2 at once\n")
	require.Contains(t, out, "backfill SUCCESS: 3 SUCCESS\n")
	require.Equal(t, []string{"00", "01", "02"}, hours("2026-11-21"), "the backfill landed the three hours")
	d := describeSchedule(t, sb, id)
	require.False(t, d.Schedule.State.Paused)
	require.Equal(t, "maintenance done", d.Schedule.State.Note)

	out = sb.runRecipe(t, "schedules-temporal")
	require.Contains(t, out, id)
	require.Contains(t, out, "0 * * * *")
	// the backfill's runs start one after the other (BufferAll), for both ends
	backfilled := listWorkflows(t, sb, `TemporalScheduledById = "`+id+`" AND SluiceLogicalDate < "2026-11-21T00:00:00Z"`, 3)
	require.Equal(t, []string{id + "-2026-11-20T00:00:00Z", id + "-2026-11-20T01:00:00Z", id + "-2026-11-20T02:00:00Z"}, backfilled)
	for _, w := range backfilled {
		require.Equal(t, dag.StatusSuccess, waitResult(t, sb, w).Status, w)
		require.Equal(t, "SCHEDULED", workflowAttrs(t, sb, w)["SluiceTrigger"])
	}
	require.Equal(t, []string{"00", "01", "02"}, hours("2026-11-20"))

	out = sb.runRecipe(t, "schedules-find")
	require.Contains(t, out, id+"-2026-11-20T00:00:00Z")
	for _, h := range []string{"00", "01", "02"} {
		require.Contains(t, out, "sluice/iot_sensors/local/2026-11-21T"+h+":00:00Z")
	}
	require.Regexp(t, `(?m)^\s+sluice/olist/iot_sensors/local\s+\{"Workflow":"RunPipeline"\}\s+false\s`, out, "the schedule, found by its search attributes")
}
