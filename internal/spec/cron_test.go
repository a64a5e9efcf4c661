package spec

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseCron(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		// 5 fields pass through
		"0 6 * * *":          "0 6 * * *",
		"  */15 * * * *  ":   "*/15 * * * *",
		"0 6 1,15 * MON-FRI": "0 6 1,15 * MON-FRI",
		"30 2 * JAN-MAR 0":   "30 2 * JAN-MAR 0",
		// descriptors
		"@daily":    "0 0 * * *",
		"@Midnight": "0 0 * * *",
		"@hourly":   "0 * * * *",
		"@weekly":   "0 0 * * 0",
		"@monthly":  "0 0 1 * *",
		"@yearly":   "0 0 1 1 *",
		"@annually": "0 0 1 1 *",
		// Quartz, as Databricks Jobs write it: seconds first, ? for "no value",
		// days of the week numbered 1=SUN..7=SAT
		"0 0 6 * * ?":       "0 6 * * *",
		"0 0 6 ? * *":       "0 6 * * *",
		"0 30 6 ? * 2-6":    "30 6 * * 1-5",
		"0 0 6 ? * MON-FRI": "0 6 * * MON-FRI",
		"0 0 6 ? * WED":     "0 6 * * WED",
		"0 0 6 ? * wed,fri": "0 6 * * wed,fri",
		"0 0 6 ? * 1,7":     "0 6 * * 0,6",
		"0 0 6 ? * 2/2":     "0 6 * * 1/2",
		"0 0 6 ? * */2":     "0 6 * * */2",
		"0 0/15 * * * ?":    "0/15 * * * *",
		"0 0 12 1 * ?":      "0 12 1 * *",
		"0 0 6 * * ? *":     "0 6 * * *",
		"0 0 6 ? * 1-7 ?":   "0 6 * * 0-6",
		"0 15 10 ? * 6 *":   "15 10 * * 5",
		"0 0 0 1 JAN,JUL ?": "0 0 1 JAN,JUL *",
	} {
		c, err := ParseCron(in)
		require.NoError(t, err, in)
		require.Equal(t, Cron{Expr: want, Original: in}, c, in)
		require.Equal(t, want, c.String())
	}
	for in, want := range map[string]string{
		"":                 `cron "" has 0 fields`,
		"0 6 * *":          `cron "0 6 * *" has 4 fields`,
		"1 2 3 4 5 6 7 8":  `cron "1 2 3 4 5 6 7 8" has 8 fields`,
		"60 * * * *":       `cron "60 * * * *": end of range (60) above maximum (59): 60`,
		"0 6 * * 7":        `cron "0 6 * * 7": end of range (7) above maximum (6): 7`,
		"0 0 6 L * ?":      `cron "0 0 6 L * ?": "L" (L, W and # modifiers) is not supported`,
		"0 0 6 LW * ?":     `cron "0 0 6 LW * ?": "LW" (L, W and # modifiers) is not supported`,
		"0 0 6 15W * ?":    `cron "0 0 6 15W * ?": "15W" (L, W and # modifiers) is not supported`,
		"0 0 6 ? * 6L":     `cron "0 0 6 ? * 6L": "6L" (L, W and # modifiers) is not supported`,
		"0 0 6 ? * FRI#2":  `cron "0 0 6 ? * FRI#2": "FRI#2" (L, W and # modifiers) is not supported`,
		"15 0 6 * * ?":     `cron "15 0 6 * * ?": seconds field "15": schedules have minute precision, use 0`,
		"*/5 * * * * ?":    `cron "*/5 * * * * ?": seconds field "*/5": schedules have minute precision, use 0`,
		"0 0 6 * * ? 2027": `cron "0 0 6 * * ? 2027": year field "2027" is not supported`,
		"0 0 6 ? * 0":      `cron "0 0 6 ? * 0": day of week 0 is out of range 1-7 (Quartz: 1=SUN)`,
		"0 0 6 ? * 1-8":    `cron "0 0 6 ? * 1-8": day of week 8 is out of range 1-7 (Quartz: 1=SUN)`,
		"0 0 6 32 * ?":     `cron "0 0 6 32 * ?": end of range (32) above maximum (31): 32`,
	} {
		_, err := ParseCron(in)
		require.EqualError(t, err, want, in)
		require.Equal(t, cronHint, hintFor(err), in)
	}
	_, err := ParseCron("0 6 ? * *")
	require.EqualError(t, err, `cron "0 6 ? * *": "?" is Quartz syntax`)
	require.Equal(t, "use * in a 5-field expression, or write all 6 Quartz fields (seconds first)", hintFor(err))
}

func TestCronText(t *testing.T) {
	t.Parallel()
	var s Schedule
	require.NoError(t, json.Unmarshal([]byte(`{"cron":"0 0 6 ? * 2-6"}`), &s))
	require.Equal(t, Cron{Expr: "0 6 * * 1-5", Original: "0 0 6 ? * 2-6"}, s.Cron)
	b, err := json.Marshal(s.Cron)
	require.NoError(t, err)
	require.Equal(t, `"0 6 * * 1-5"`, string(b), "plans carry the normalised expression")
	require.Error(t, json.Unmarshal([]byte(`{"cron":"0 0 6 L * ?"}`), &s))
}

func TestCronNextPrev(t *testing.T) {
	t.Parallel()
	paris, err := time.LoadLocation("Europe/Paris")
	require.NoError(t, err)
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		require.NoError(t, err)
		return v
	}
	for _, tc := range []struct {
		cron       string
		loc        *time.Location
		from       string
		next, prev string
	}{
		{"0 6 * * *", nil, "2026-11-22T05:00:00Z", "2026-11-22T06:00:00Z", "2026-11-21T06:00:00Z"},
		{"0 6 * * *", nil, "2026-11-22T06:00:00Z", "2026-11-23T06:00:00Z", "2026-11-22T06:00:00Z"},
		{"0 6 * * *", time.UTC, "2026-11-22T06:00:01Z", "2026-11-23T06:00:00Z", "2026-11-22T06:00:00Z"},
		// 06:00 in Paris is 05:00Z in winter, 04:00Z in summer
		{"0 6 * * *", paris, "2026-11-22T12:00:00Z", "2026-11-23T05:00:00Z", "2026-11-22T05:00:00Z"},
		{"0 6 * * *", paris, "2026-07-01T12:00:00Z", "2026-07-02T04:00:00Z", "2026-07-01T04:00:00Z"},
		// Quartz MON-FRI from a Saturday (2026-11-21)
		{"0 0 6 ? * MON-FRI", nil, "2026-11-21T12:00:00Z", "2026-11-23T06:00:00Z", "2026-11-20T06:00:00Z"},
		{"0 0 6 ? * 2-6", nil, "2026-11-21T12:00:00Z", "2026-11-23T06:00:00Z", "2026-11-20T06:00:00Z"},
		{"*/15 * * * *", nil, "2026-11-22T10:07:00Z", "2026-11-22T10:15:00Z", "2026-11-22T10:00:00Z"},
		{"@monthly", nil, "2026-11-22T10:00:00Z", "2026-12-01T00:00:00Z", "2026-11-01T00:00:00Z"},
		// the previous run of a yearly schedule can be 365 days back
		{"@yearly", nil, "2026-12-20T00:00:00Z", "2027-01-01T00:00:00Z", "2026-01-01T00:00:00Z"},
		{"@yearly", nil, "2026-12-31T23:59:00Z", "2027-01-01T00:00:00Z", "2026-01-01T00:00:00Z"},
	} {
		c, err := ParseCron(tc.cron)
		require.NoError(t, err)
		require.True(t, at(tc.next).Equal(c.Next(at(tc.from), tc.loc)), "%s next after %s: %s", tc.cron, tc.from, c.Next(at(tc.from), tc.loc))
		require.True(t, at(tc.prev).Equal(c.Prev(at(tc.from), tc.loc)), "%s prev at %s: %s", tc.cron, tc.from, c.Prev(at(tc.from), tc.loc))
	}
	// 29 February is more than a year back: not found, as documented
	leap, err := ParseCron("0 0 29 2 *")
	require.NoError(t, err)
	require.True(t, leap.Prev(at("2027-03-01T00:00:00Z"), nil).IsZero())
	require.True(t, leap.Next(at("2027-03-01T00:00:00Z"), nil).Equal(at("2028-02-29T00:00:00Z")))

	require.True(t, Cron{}.Next(at("2026-01-01T00:00:00Z"), nil).IsZero(), "a zero Cron never fires")
	require.True(t, Cron{}.Prev(at("2026-01-01T00:00:00Z"), nil).IsZero())
}

func TestValidateRejectsDayOfMonthAndDayOfWeek(t *testing.T) {
	t.Parallel()
	dir := writeProject(t, "project: p\nenvironments: {local: {engine: local}}\n", map[string]string{"pipelines/p.yaml": `name: p
schedule: {cron: "0 6 1 * 1"}
tasks: [{key: a, type: noop}]
`})
	require.Equal(t, []string{
		`pipelines/p.yaml:2:18: schedule.cron: "0 6 1 * 1" restricts both the day of the month and the day of the week: Temporal starts a run only on days matching both, where classic cron starts on days matching either (use * for one of them, or two pipelines)`,
	}, diagLines(loadProject(t, dir).Validate()))
}
