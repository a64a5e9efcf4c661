package schedule

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func desiredDaily() Desired {
	return Desired{
		ID: "sluice/acme/daily/prod", Project: "acme", Pipeline: "daily", Env: "prod", File: "pipelines/daily.yaml",
		Cron: "0 6 * * *", CronWritten: "0 6 * * *", Timezone: "UTC", Overlap: "skip", CatchupWindow: time.Hour, Timeout: 3 * time.Hour,
	}
}

// liveOf is the live schedule an apply of d leaves behind.
func liveOf(d Desired) *Live {
	return &Live{
		ID: d.ID, Cron: d.Cron, Timezone: d.Timezone, Jitter: d.Jitter, Overlap: d.Overlap, CatchupWindow: d.CatchupWindow,
		Paused: d.Paused, Note: d.Note, Workflow: "RunPipeline", TaskQueue: "sluice", Input: inputJSON(d.Input()),
		ExecutionTimeout: d.ExecutionTimeout(), Summary: d.Summary(),
		ActionAttrs: attrString(d.actionAttributes()), ScheduleAttrs: attrString(d.scheduleAttributes()),
		Applied: &applied{Paused: d.Paused, Note: d.Note},
	}
}

func TestDiffCreate(t *testing.T) {
	t.Parallel()
	d := desiredDaily()
	d.CronWritten = "0 0 6 * * ?"
	c := Diff(d, nil)
	require.Equal(t, OpCreate, c.Op)
	require.Equal(t, []Field{
		{Name: "cron", To: `0 6 * * * (written "0 0 6 * * ?")`},
		{Name: "timezone", To: "UTC"},
		{Name: "overlap", To: "skip"},
		{Name: "catchup_window", To: "1h"},
		{Name: "jitter", To: "none"},
		{Name: "execution_timeout", To: "3h10m (pipeline timeout 3h + 10m)"},
		{Name: "state", To: "active"},
	}, c.Fields)
}

func TestDiffUnchangedAfterApply(t *testing.T) {
	t.Parallel()
	d := desiredDaily()
	c := Diff(d, liveOf(d))
	require.Equal(t, OpUnchanged, c.Op)
	require.Empty(t, c.Fields)
	require.Empty(t, c.Notes)
}

func TestDiffUpdateFields(t *testing.T) {
	t.Parallel()
	old := desiredDaily()
	d := desiredDaily()
	d.Cron, d.Overlap, d.CatchupWindow, d.Jitter, d.Timeout, d.Timezone = "0 7 * * *", "buffer_all", 6*time.Hour, time.Minute, 4*time.Hour, "Europe/Paris"
	c := Diff(d, liveOf(old))
	require.Equal(t, OpUpdate, c.Op)
	require.Equal(t, []Field{
		{Name: "cron", From: "0 6 * * *", To: "0 7 * * *"},
		{Name: "timezone", From: "UTC", To: "Europe/Paris"},
		{Name: "overlap", From: "skip", To: "buffer_all"},
		{Name: "catchup_window", From: "1h", To: "6h"},
		{Name: "jitter", From: "none", To: "1m"},
		{Name: "execution_timeout", From: "3h10m", To: "4h10m"},
		{Name: "summary", From: "daily · prod · SCHEDULED · 0 6 * * * UTC", To: "daily · prod · SCHEDULED · 0 7 * * * Europe/Paris"},
	}, c.Fields)
	require.False(t, c.setState)
}

func TestDiffEditedOutsideSluice(t *testing.T) {
	t.Parallel()
	d := desiredDaily()
	l := liveOf(d)
	l.Cron, l.Spec = "", "2 calendar(s), 0 interval(s) set outside sluice"
	l.Input = `{"pipeline":"daily","env":"prod","params":{"x":"1"}}`
	l.ActionAttrs = ""
	c := Diff(d, l)
	require.Equal(t, []Field{
		{Name: "cron", From: "2 calendar(s), 0 interval(s) set outside sluice", To: "0 6 * * *"},
		{Name: "input", From: `{"pipeline":"daily","env":"prod","params":{"x":"1"}}`, To: `{"pipeline":"daily","env":"prod"}`},
		{Name: "search_attributes", To: "SluiceEnv=prod SluicePipeline=daily SluiceStatus=RUNNING SluiceTrigger=SCHEDULED"},
	}, c.Fields)
}

// The paused state follows the spec only when the spec's setting changed
// since the last apply (or there is no record of one).
func TestDiffPausedState(t *testing.T) {
	t.Parallel()
	active := desiredDaily()
	paused := desiredDaily()
	paused.Paused, paused.Note = true, "environment prod: schedules: paused"

	for name, tc := range map[string]struct {
		desired  Desired
		live     func() *Live
		op       Op
		fields   []Field
		setState bool
		notes    []string
	}{
		"SpecPausesIt": {
			desired: paused, live: func() *Live { return liveOf(active) }, op: OpUpdate, setState: true,
			fields: []Field{{Name: "state", From: "active", To: "paused (environment prod: schedules: paused)"}},
		},
		"SpecResumesIt": {
			desired: active, live: func() *Live { return liveOf(paused) }, op: OpUpdate, setState: true,
			fields: []Field{{Name: "state", From: "paused (environment prod: schedules: paused)", To: "active"}},
		},
		"SpecPausedAndStillPaused": {
			desired: paused, live: func() *Live { return liveOf(paused) }, op: OpUnchanged,
		},
		"PausedByHandIsLeftAlone": {
			desired: active, op: OpUnchanged,
			live:  func() *Live { l := liveOf(active); l.Paused, l.Note = true, "incident 42"; return l },
			notes: []string{`paused by hand ("incident 42"): left paused; ` + "`sluice unpause daily --env prod` resumes it"},
		},
		"UnpausedByHandIsLeftAlone": {
			desired: paused, op: OpUnchanged,
			live:  func() *Live { l := liveOf(paused); l.Paused, l.Note = false, "trying it"; return l },
			notes: []string{`unpaused by hand ("trying it") although the spec pauses it (environment prod: schedules: paused): left running; ` + "`sluice pause daily --env prod` pauses it again"},
		},
		"SpecChangesTheNote": {
			desired: func() Desired { d := paused; d.Note = "until the migration"; return d }(), live: func() *Live { return liveOf(paused) },
			op: OpUpdate, setState: true,
			fields: []Field{{Name: "state", From: "paused (environment prod: schedules: paused)", To: "paused (until the migration)"}},
		},
		"NoRecordAndLiveMatches": {
			desired: active, op: OpUpdate,
			live:   func() *Live { l := liveOf(active); l.Applied = nil; return l },
			fields: []Field{{Name: "recorded_spec_state", From: "none", To: "active"}},
		},
		"NoRecordAndLiveDiffers": {
			desired: paused, op: OpUpdate, setState: true,
			live:   func() *Live { l := liveOf(active); l.Applied = nil; return l },
			fields: []Field{{Name: "state", From: "active", To: "paused (environment prod: schedules: paused)"}},
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := Diff(tc.desired, tc.live())
			require.Equal(t, tc.op, c.Op)
			require.Equal(t, tc.fields, c.Fields)
			require.Equal(t, tc.setState, c.setState)
			require.Equal(t, tc.notes, c.Notes)
		})
	}
}
