package schedule

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicedata/sluice/internal/spec"
)

// writeProject writes a project folder from file name -> content.
func writeProject(t *testing.T, files map[string]string) *spec.Project {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		path := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	}
	p, err := spec.Load(dir)
	require.NoError(t, err)
	return p
}

const projectYAML = `project: acme
environments:
  local: {engine: local, warehouse: "postgres://localhost/wh"}
  dev: {engine: local, warehouse: "postgres://localhost/wh", schedules: paused}
  prod: {engine: local, warehouse: "postgres://localhost/wh", timeout: 2h}
`

func TestFromProjectExamples(t *testing.T) {
	t.Parallel()
	p, err := spec.Load(filepath.Join("..", "..", "examples", "olist"))
	require.NoError(t, err)
	got, err := FromProject(p, nil)
	require.NoError(t, err)

	byID := map[string]Desired{}
	var ids []string
	for _, d := range got {
		byID[d.ID] = d
		ids = append(ids, d.ID)
	}
	require.True(t, slices.IsSorted(ids), "ordered by pipeline then environment: %v", ids)
	for _, pipeline := range []string{"iot_sensors", "olist_daily", "olist_weekly_full_refresh"} {
		for _, env := range []string{"dev", "local", "prod", "staging"} {
			require.Contains(t, ids, "sluice/olist/"+pipeline+"/"+env, "one schedule per scheduled pipeline and environment")
		}
	}
	for _, pipeline := range []string{"warehouse_smoke", "olist_report", "olist_rebuild"} {
		require.NotContains(t, ids, "sluice/olist/"+pipeline+"/local", "no schedule: no Temporal schedule")
	}

	require.Equal(t, Desired{
		ID: "sluice/olist/olist_daily/prod", Project: "olist", Pipeline: "olist_daily", Env: "prod", File: "pipelines/olist_daily.yaml",
		Cron: "0 6 * * *", CronWritten: "0 6 * * *", Timezone: "UTC", Overlap: "skip", CatchupWindow: 6 * time.Hour,
		Timeout: 4 * time.Hour,
	}, byID["sluice/olist/olist_daily/prod"], "prod: 06:00 with the 4h timeout of its overlay")
	require.Equal(t, "0 7 * * *", byID["sluice/olist/olist_daily/staging"].Cron, "staging: 07:00 from the overlay")
	require.Equal(t, 3*time.Hour, byID["sluice/olist/olist_daily/staging"].Timeout)

	dev := byID["sluice/olist/olist_daily/dev"]
	require.True(t, dev.Paused)
	require.Equal(t, "environment dev: schedules: paused", dev.Note)
	require.False(t, byID["sluice/olist/olist_daily/local"].Paused)

	weekly := byID["sluice/olist/olist_weekly_full_refresh/prod"]
	require.Equal(t, "0 2 * * 0", weekly.Cron, "Sunday 02:00")
	require.True(t, weekly.Paused)
	require.Equal(t, "enable when a weekly rebuild is wanted", weekly.Note)
	require.Equal(t, "enable when a weekly rebuild is wanted", byID["sluice/olist/olist_weekly_full_refresh/dev"].Note,
		"the pipeline's own note wins over the environment's")

	require.Equal(t, "0 * * * *", byID["sluice/olist/iot_sensors/local"].Cron)
	require.Equal(t, "0 * * * *", byID["sluice/olist/iot_sensors/dev"].Cron)
	require.True(t, byID["sluice/olist/iot_sensors/dev"].Paused)
	require.Equal(t, "*/30 * * * *", byID["sluice/olist/iot_sensors/staging"].Cron)
	require.Equal(t, "*/15 * * * *", byID["sluice/olist/iot_sensors/prod"].Cron)
	require.Equal(t, 10*time.Minute, byID["sluice/olist/iot_sensors/prod"].Timeout)
	require.Equal(t, 30*time.Minute, byID["sluice/olist/iot_sensors/prod"].CatchupWindow)
}

func TestFromProjectDefaultsAndOverlays(t *testing.T) {
	t.Parallel()
	p := writeProject(t, map[string]string{
		"sluice.yaml": projectYAML,
		"pipelines/a.yaml": `name: a
schedule: {cron: "0 0 6 ? * MON-FRI", timezone: Europe/Paris, jitter: 2m}
tasks: [{key: t, type: noop}]
environments:
  prod: {schedule: {overlap: buffer_one, catchup_window: 3h}}
`,
		"pipelines/b.yaml": `name: b
tasks: [{key: t, type: noop}]
`,
		"pipelines/c.yaml": `name: c
schedule: {cron: "@hourly", paused: true}
timeout: 45m
tasks: [{key: t, type: noop}]
`,
	})
	got, err := FromProject(p, []string{"prod", "local"})
	require.NoError(t, err)
	require.Equal(t, []Desired{
		{ID: "sluice/acme/a/local", Project: "acme", Pipeline: "a", Env: "local", File: "pipelines/a.yaml",
			Cron: "0 6 * * MON-FRI", CronWritten: "0 0 6 ? * MON-FRI", Timezone: "Europe/Paris", Overlap: "skip",
			CatchupWindow: time.Hour, Jitter: 2 * time.Minute, Timeout: 24 * time.Hour},
		{ID: "sluice/acme/a/prod", Project: "acme", Pipeline: "a", Env: "prod", File: "pipelines/a.yaml",
			Cron: "0 6 * * MON-FRI", CronWritten: "0 0 6 ? * MON-FRI", Timezone: "Europe/Paris", Overlap: "buffer_one",
			CatchupWindow: 3 * time.Hour, Jitter: 2 * time.Minute, Timeout: 2 * time.Hour},
		{ID: "sluice/acme/c/local", Project: "acme", Pipeline: "c", Env: "local", File: "pipelines/c.yaml",
			Cron: "0 * * * *", CronWritten: "@hourly", Timezone: "UTC", Overlap: "skip",
			CatchupWindow: time.Hour, Paused: true, Note: "schedule.paused in pipelines/c.yaml", Timeout: 45 * time.Minute},
		{ID: "sluice/acme/c/prod", Project: "acme", Pipeline: "c", Env: "prod", File: "pipelines/c.yaml",
			Cron: "0 * * * *", CronWritten: "@hourly", Timezone: "UTC", Overlap: "skip",
			CatchupWindow: time.Hour, Paused: true, Note: "schedule.paused in pipelines/c.yaml", Timeout: 45 * time.Minute},
	}, got, "b has no schedule; the pipeline timeout wins over the environment's; the environment's applies otherwise")
	require.Equal(t, 24*time.Hour+10*time.Minute, got[0].ExecutionTimeout(), "the run timeout plus the grace")
}

func TestFromProjectRefusesInvalidProjects(t *testing.T) {
	t.Parallel()
	t.Run("SpecError", func(t *testing.T) {
		t.Parallel()
		p := writeProject(t, map[string]string{
			"sluice.yaml": projectYAML,
			"pipelines/a.yaml": `name: a
schedule: {cron: "0 25 * * *"}
tasks: [{key: t, type: noop}]
`,
		})
		_, err := FromProject(p, nil)
		var diags spec.Diagnostics
		require.ErrorAs(t, err, &diags)
		require.Len(t, diags, 1)
		require.Equal(t, `pipelines/a.yaml:2:18: schedule.cron: cron "0 25 * * *": end of range (25) above maximum (23): 25 (write 5 fields "minute hour day-of-month month day-of-week" (e.g. "0 6 * * *") or Quartz "0 0 6 * * ?")`, diags[0].String())
	})
	t.Run("DayOfMonthAndDayOfWeek", func(t *testing.T) {
		t.Parallel()
		p := writeProject(t, map[string]string{
			"sluice.yaml": projectYAML,
			"pipelines/a.yaml": `name: a
schedule: {cron: "0 6 * * *"}
tasks: [{key: t, type: noop}]
environments:
  prod: {schedule: {cron: "0 6 1 * MON"}}
`,
		})
		_, err := FromProject(p, nil)
		require.EqualError(t, err, `pipelines/a.yaml:5:27: schedule.cron: "0 6 1 * MON" restricts both the day of the month and the day of the week: `+
			`Temporal starts a run only on days matching both, where classic cron starts on days matching either (use * for one of them, or two pipelines)`)
	})
	t.Run("UnknownEnvironment", func(t *testing.T) {
		t.Parallel()
		p := writeProject(t, map[string]string{"sluice.yaml": projectYAML, "pipelines/a.yaml": "name: a\ntasks: [{key: t, type: noop}]\n"})
		_, err := FromProject(p, []string{"prd"})
		require.EqualError(t, err, `unknown environment "prd" (known: dev, local, prod)`)
	})
}

func TestIDRoundTrip(t *testing.T) {
	t.Parallel()
	id := ID("olist", "olist_daily", "prod")
	require.Equal(t, "sluice/olist/olist_daily/prod", id)
	project, pipeline, env, ok := ParseID(id)
	require.True(t, ok)
	require.Equal(t, []string{"olist", "olist_daily", "prod"}, []string{project, pipeline, env})
	for _, bad := range []string{"sluice/olist/olist_daily", "other/olist/a/prod", "sluice/olist/a/prod/x", "sluice//a/prod"} {
		_, _, _, ok := ParseID(bad)
		require.False(t, ok, bad)
	}
}

func TestTimes(t *testing.T) {
	t.Parallel()
	daily, err := spec.ParseCron("0 6 * * *")
	require.NoError(t, err)
	from, to, err := ParseRange("2026-11-01", "2026-11-03", time.UTC)
	require.NoError(t, err)
	got, err := Times(daily, time.UTC, from, to, 100)
	require.NoError(t, err)
	require.Equal(t, []time.Time{
		time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC),
		time.Date(2026, 11, 2, 6, 0, 0, 0, time.UTC),
		time.Date(2026, 11, 3, 6, 0, 0, 0, time.UTC),
	}, got, "a date as --to covers that whole day")

	hourly, err := spec.ParseCron("0 * * * *")
	require.NoError(t, err)
	from, to, err = ParseRange("2026-11-20T00:00:00Z", "2026-11-20T02:00:00Z", time.UTC)
	require.NoError(t, err)
	got, err = Times(hourly, time.UTC, from, to, 100)
	require.NoError(t, err)
	require.Equal(t, []time.Time{
		time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 11, 20, 1, 0, 0, 0, time.UTC),
		time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC),
	}, got, "times include both ends")

	paris, err := time.LoadLocation("Europe/Paris")
	require.NoError(t, err)
	from, to, err = ParseRange("2026-10-24", "2026-10-26", paris)
	require.NoError(t, err)
	got, err = Times(daily, paris, from, to, 100)
	require.NoError(t, err)
	require.Equal(t, []time.Time{
		time.Date(2026, 10, 24, 4, 0, 0, 0, time.UTC), // CEST
		time.Date(2026, 10, 25, 5, 0, 0, 0, time.UTC), // CET from that night
		time.Date(2026, 10, 26, 5, 0, 0, 0, time.UTC),
	}, got, "dates and times are in the schedule's time zone; results are UTC")

	_, err = Times(hourly, time.UTC, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC), 24)
	require.EqualError(t, err, `2026-11-01T00:00:00Z to 2026-11-03T00:00:00Z holds more than 24 runs of "0 * * * *": backfill a shorter range at a time`)
	_, err = Times(hourly, time.UTC, time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), 24)
	require.EqualError(t, err, "the range ends (2026-11-01T00:00:00Z) before it starts (2026-11-03T00:00:00Z)")
	_, _, err = ParseRange("yesterday", "2026-11-01", time.UTC)
	require.EqualError(t, err, `--from: "yesterday": write a date (2026-11-01) or an RFC 3339 time (2026-11-01T06:00:00Z)`)
}
