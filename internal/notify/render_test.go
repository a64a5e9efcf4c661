package notify

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRender(t *testing.T) {
	t.Parallel()

	start := failureEvent()
	start.Kind, start.Outcome, start.Trigger, start.Duration, start.FailedTasks = KindStart, OutcomeRunning, "MANUAL", 0, nil
	start.RepairCommand = ""

	success := failureEvent()
	success.Kind, success.Outcome, success.Duration, success.FailedTasks = KindSuccess, OutcomeSuccess, 42*time.Minute+7*time.Second, nil
	success.RepairCommand = ""

	partial := failureEvent()
	partial.Kind, partial.Outcome = KindSuccess, OutcomeSuccessWithFailures
	partial.FailedTasks = []TaskFailure{{Key: "export_gold", State: "FAILED", ErrorType: "SqlError", Message: "relation \"gold.daily_sales\" does not exist", Attempts: 1}}

	// 12 failing tasks: the first with 25 lines of error, colour codes, a
	// 600-character line and mrkdwn control characters.
	truncated := failureEvent()
	truncated.Outcome = OutcomeTimedOut
	truncated.FailedTasks = []TaskFailure{{
		Key: "dbt_build", State: "TIMEDOUT", ErrorType: "StartToCloseTimeout", Attempts: 2,
		Message: "\x1b[31mDatabase Error in model orders (models/orders.sql)\x1b[0m\r\n  a < b && c > d\r\n" +
			strings.Repeat("x", 600) + "\n" + manyLines(22),
	}}
	for i := 1; i <= 11; i++ {
		truncated.FailedTasks = append(truncated.FailedTasks, TaskFailure{Key: "check_" + strconv.Itoa(i), State: "UPSTREAM_FAILED"})
	}

	canceled := failureEvent()
	canceled.Kind, canceled.Outcome, canceled.Trigger = KindCanceled, OutcomeCanceled, "MANUAL"
	canceled.FailedTasks = []TaskFailure{
		{Key: "run_main_pipeline", State: "CANCELED", Attempts: 1},
		{Key: "quality_checks", State: "CANCELED"},
	}
	canceled.RepairCommand = ""

	durationWarning := failureEvent()
	durationWarning.Kind, durationWarning.Outcome, durationWarning.Duration = KindDurationWarning, OutcomeRunning, 2*time.Hour+5*time.Minute
	durationWarning.FailedTasks, durationWarning.RepairCommand = nil, ""
	durationWarning.Warnings = []string{"run time 2h5m exceeds duration_warning 2h"}

	warning := failureEvent()
	warning.Kind, warning.Outcome, warning.FailedTasks, warning.RepairCommand = KindWarning, OutcomeSuccess, nil, ""
	warning.Warnings = []string{
		"quality_checks: silver.orders: 3 rows with null customer_id (warn threshold 0)",
		"quality_checks: bronze.orders: row_count 4980 below min 5000\nchecked at 2026-11-22 07:01:55 UTC",
	}

	tests := []struct {
		name    string
		event   Event
		subject string
	}{
		{"Start", start, "[sluice] olist_daily (prod) STARTED"},
		{"Success", success, "[sluice] olist_daily (prod) SUCCESS"},
		{"SuccessWithFailures", partial, "[sluice] olist_daily (prod) SUCCESS_WITH_FAILURES"},
		{"Failure", failureEvent(), "[sluice] olist_daily (prod) FAILED"},
		{"FailureTruncated", truncated, "[sluice] olist_daily (prod) TIMEDOUT"},
		{"Canceled", canceled, "[sluice] olist_daily (prod) CANCELED"},
		{"DurationWarning", durationWarning, "[sluice] olist_daily (prod) still RUNNING after 2h5m"},
		{"Warning", warning, "[sluice] olist_daily (prod) SUCCESS with 2 warnings"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			msg := Render(tt.event)
			require.Equal(t, tt.subject, msg.Subject)
			require.Equal(t, msg, Render(tt.event), "Render must be deterministic")
			golden(t, "render/"+tt.name+".golden",
				"Subject: "+msg.Subject+"\n==== Text ====\n"+msg.Text+"==== Markdown ====\n"+msg.Markdown+"\n")
		})
	}
}

func TestRenderFailureText(t *testing.T) {
	t.Parallel()
	// Spelled out here, not only in a golden file, so the expected layout is
	// reviewable next to the event that produces it.
	want := `olist_daily (prod) FAILED

Project:      olist
Trigger:      SCHEDULED
Logical date: 2026-11-22
Started:      2026-11-22 06:00:03 UTC
Duration:     1h2m3s
Workflow ID:  sluice/olist_daily/prod/2026-11-22
Run ID:       0199c3b8-7d2e-7c4a-9f1e-3b5d2a6c8e01

Failed tasks (2):
- run_main_pipeline: FAILED (DltUpdateFailed) after 3 attempts
    Update 5d4e8f2a-1c3b-4e7a-9d6f-0a2b4c6d8e10 failed: FLOW_FAILED
    Flow 'silver_orders' has FAILED.
    org.apache.spark.sql.catalyst.ExtendedAnalysisException: [UNRESOLVED_COLUMN.WITH_SUGGESTION] A column, variable, or function parameter with name ` + "`order_status`" + ` cannot be resolved. Did you mean one of the following? [` + "`order_stat`, `order_id`" + `].
    	at org.apache.spark.sql.errors.QueryCompilationErrors$.unresolvedColumnError(QueryCompilationErrors.scala:312)
- quality_checks: UPSTREAM_FAILED

Temporal UI:  http://localhost:8233/namespaces/default/workflows/sluice%2Folist_daily%2Fprod%2F2026-11-22/0199c3b8-7d2e-7c4a-9f1e-3b5d2a6c8e01/history
Repair:       sluice repair --workflow-id sluice/olist_daily/prod/2026-11-22
`
	require.Equal(t, want, Render(failureEvent()).Text)
}

func TestRenderLimits(t *testing.T) {
	t.Parallel()
	e := failureEvent()
	e.FailedTasks = nil
	for i := 1; i <= 13; i++ {
		e.FailedTasks = append(e.FailedTasks, TaskFailure{Key: "task_" + strconv.Itoa(i), State: "FAILED", Message: manyLines(30)})
	}
	msg := Render(e)

	require.Contains(t, msg.Text, "Failed tasks (13):\n")
	require.Contains(t, msg.Text, "- task_10: FAILED\n")
	require.NotContains(t, msg.Text, "task_11")
	require.Contains(t, msg.Text, "- ... and 3 more failed tasks\n")
	require.Contains(t, msg.Text, "    line 20\n    ... (10 more lines)\n")
	require.NotContains(t, msg.Text, "line 21")

	require.Contains(t, msg.Markdown, "_... and 3 more failed tasks_")
	for _, section := range newView(e).mrkdwnSections() {
		require.LessOrEqual(t, len([]rune(section)), maxSlackSection)
	}
}

func TestRenderWarningLimits(t *testing.T) {
	t.Parallel()
	e := Event{Kind: KindWarning, Pipeline: "olist_daily", Env: "prod", Outcome: OutcomeSuccess}
	for i := 1; i <= 12; i++ {
		e.Warnings = append(e.Warnings, "warning "+strconv.Itoa(i)+"\n"+strings.Repeat(strings.Repeat("w", 600)+"\n", 6))
	}
	msg := Render(e)
	require.Equal(t, "[sluice] olist_daily (prod) SUCCESS with 12 warnings", msg.Subject)
	require.Contains(t, msg.Text, "Warnings (12):\n- warning 1\n  "+strings.Repeat("w", 500)+"...\n")
	require.Contains(t, msg.Text, "  ... (2 more lines)\n- warning 2\n")
	require.Contains(t, msg.Text, "- warning 10\n")
	require.NotContains(t, msg.Text, "warning 11")
	require.True(t, strings.HasSuffix(msg.Text, "- ... and 2 more warnings\n"), msg.Text[len(msg.Text)-60:])

	sections := newView(e).mrkdwnSections()
	require.Len(t, sections, 2)
	require.LessOrEqual(t, len([]rune(sections[1])), maxSlackSection)
	require.True(t, strings.HasPrefix(sections[1], "*Warnings (12):*\n• warning 1\n"))
	require.True(t, strings.HasSuffix(sections[1], "\n..."), "cut at a line boundary and marked")
}

func TestRenderSlackSectionLimit(t *testing.T) {
	t.Parallel()
	// 20 lines of 500 characters do not fit one Slack section (3000): lines
	// are dropped and counted, and the code block stays closed.
	e := failureEvent()
	long := strings.Repeat(strings.Repeat("y", 500)+"\n", 20)
	e.FailedTasks = []TaskFailure{{Key: "big", State: "FAILED", Message: long}}
	sections := newView(e).mrkdwnSections()
	task := sections[2]
	require.LessOrEqual(t, len([]rune(task)), maxSlackSection)
	require.True(t, strings.HasPrefix(task, "• *big*: FAILED\n```\n"), task[:40])
	require.True(t, strings.HasSuffix(task, "\n... (15 more lines)\n```"), task[len(task)-40:])
	require.Equal(t, 5, strings.Count(task, strings.Repeat("y", 500)))
}

func TestFormatDuration(t *testing.T) {
	t.Parallel()
	tests := map[time.Duration]string{
		0:                                    "0s",
		250 * time.Millisecond:               "250ms",
		45 * time.Second:                     "45s",
		90 * time.Second:                     "1m30s",
		2*time.Hour + 5*time.Minute:          "2h5m",
		2 * time.Hour:                        "2h",
		26*time.Hour + 1500*time.Millisecond: "26h2s",
	}
	for d, want := range tests {
		require.Equal(t, want, formatDuration(d), "formatDuration(%s)", d)
	}
}
