package quality

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// count answers a measure query with n.
func count(n string) func(string) (Rows, error) {
	return func(string) (Rows, error) { return one([]string{"count"}, str(n)), nil }
}

func TestRunStopsOnWarehouseOutage(t *testing.T) {
	t.Parallel()
	checks, err := Expand([]Spec{{Table: "t", NotNull: []string{"a", "b", "c"}}})
	require.NoError(t, err)
	outage := errors.New("dial tcp 10.0.0.1:443: connection refused")
	w := &fakeWarehouse{answer: func(sql string) (Rows, error) {
		if strings.Contains(sql, "`b`") {
			return Rows{}, outage
		}
		return one([]string{"count"}, str("0")), nil
	}}

	rep, err := Run(context.Background(), w, Databricks{}, checks, Options{})
	require.ErrorIs(t, err, outage)
	require.EqualError(t, err, `running check "t: not_null(b)": dial tcp 10.0.0.1:443: connection refused`)
	require.Len(t, rep.Results, 1, "only the check that finished is reported")
	require.Equal(t, "t: not_null(a)", rep.Results[0].Name)
	require.Equal(t, 1, rep.Passed)
	require.Len(t, w.seen(), 2, "the run stops at the outage")
}

func TestRunCanceled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w := &fakeWarehouse{answer: count("0")}
	rep, err := Run(ctx, w, Databricks{}, []Check{check(t, Spec{Table: "t", NotNull: []string{"a"}})}, Options{})
	require.ErrorIs(t, err, context.Canceled)
	require.Empty(t, rep.Results)
}

func TestRunSamples(t *testing.T) {
	t.Parallel()
	t.Run("RejectedSampleKeepsTheFailure", func(t *testing.T) {
		t.Parallel()
		w := &fakeWarehouse{answer: func(sql string) (Rows, error) {
			if strings.HasSuffix(sql, "LIMIT 5") {
				return Rows{}, &QueryError{Kind: OtherError, Code: "INSUFFICIENT_PERMISSIONS", Message: "no SELECT on column x"}
			}
			return one([]string{"count"}, str("3")), nil
		}}
		rep, err := Run(context.Background(), w, Databricks{}, []Check{check(t, Spec{Table: "t", Expression: "x > 0", Severity: SeverityWarn})}, Options{})
		require.NoError(t, err)
		r := rep.Results[0]
		require.Equal(t, StatusWarn, r.Status)
		require.Equal(t, int64(3), r.Offending)
		require.Equal(t, "3 rows violate x > 0 (could not fetch sample rows: no SELECT on column x (INSUFFICIENT_PERMISSIONS))", r.Message)
		require.Nil(t, r.Sample)
	})
	t.Run("LongValuesAndRepeatedColumns", func(t *testing.T) {
		t.Parallel()
		long := strings.Repeat("é", 12)
		w := &fakeWarehouse{answer: func(sql string) (Rows, error) {
			if strings.HasPrefix(sql, "SELECT * FROM") {
				return Rows{Columns: []string{"id", "id", "note"}, Values: [][]*string{{str("1"), str("2"), str(long)}, {str("3"), nil, nil}}}, nil
			}
			return one([]string{"count"}, str("2")), nil
		}}
		rep, err := Run(context.Background(), w, Databricks{}, []Check{check(t, Spec{Name: "dupes", SQL: "SELECT a.id, b.id, note FROM a JOIN b USING (k)"})}, Options{MaxValueLen: 10})
		require.NoError(t, err)
		require.Equal(t, []map[string]*string{
			{"id": str("1"), "id_2": str("2"), "note": str(strings.Repeat("é", 10) + "...")},
			{"id": str("3"), "id_2": nil, "note": nil},
		}, rep.Results[0].Sample)
	})
	t.Run("SampleRowsCapped", func(t *testing.T) {
		t.Parallel()
		w := &fakeWarehouse{answer: offenders}
		_, err := Run(context.Background(), w, Databricks{}, []Check{check(t, Spec{Table: "t", NotNull: []string{"a"}})}, Options{SampleRows: 1000})
		require.NoError(t, err)
		require.Equal(t, "SELECT * FROM `t` WHERE `a` IS NULL LIMIT 100", w.seen()[1])
	})
	t.Run("NoSampleWhenPassing", func(t *testing.T) {
		t.Parallel()
		w := &fakeWarehouse{answer: count("0")}
		_, err := Run(context.Background(), w, Databricks{}, []Check{check(t, Spec{Table: "t", NotNull: []string{"a"}})}, Options{})
		require.NoError(t, err)
		require.Len(t, w.seen(), 1)
	})
}

func TestRunUnexpectedResults(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		answer Rows
		want   string
	}{
		{"NotANumber", one([]string{"count"}, str("abc")), `unexpected result from the warehouse: expected a whole number in column 1, got "abc"`},
		{"Null", one([]string{"count"}, nil), "unexpected result from the warehouse: expected a number in column 1, got NULL"},
		{"NoRows", Rows{Columns: []string{"count"}}, "unexpected result from the warehouse: expected one row, got 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := &fakeWarehouse{answer: func(string) (Rows, error) { return tc.answer, nil }}
			rep, err := Run(context.Background(), w, Databricks{}, []Check{check(t, Spec{Table: "t", NotNull: []string{"a"}})}, Options{})
			require.NoError(t, err)
			require.Equal(t, StatusError, rep.Results[0].Status)
			require.Equal(t, tc.want, rep.Results[0].Message)
			require.Equal(t, 1, rep.Errored)
		})
	}
}

func TestRunInvalidCheck(t *testing.T) {
	t.Parallel()
	w := &fakeWarehouse{answer: count("0")}
	rep, err := Run(context.Background(), w, Databricks{}, []Check{
		{Name: "hand made", Table: "a..b", Kind: KindNotNull, Columns: []string{"x"}},
		{Name: "no kind", Table: "t"},
	}, Options{})
	require.NoError(t, err)
	require.Equal(t, `invalid check: table "a..b" is not a valid table name: part 2 is empty (two dots in a row, or a leading dot)`, rep.Results[0].Message)
	require.Equal(t, SeverityError, rep.Results[0].Severity)
	require.Equal(t, `invalid check: unknown check kind ""`, rep.Results[1].Message)
	require.Equal(t, 2, rep.Errored)
	require.Empty(t, w.seen())
}

// TestDescribeDatabricksNames feeds error names shaped as Databricks writes
// them (backquoted, catalog-qualified), as the Databricks adapter will.
func TestDescribeDatabricksNames(t *testing.T) {
	t.Parallel()
	rel := Check{Name: "r", Table: "silver.order_items", Kind: KindRelationships, Columns: []string{"order_id"}, To: "silver.orders", Field: "id"}
	for _, tc := range []struct {
		name  string
		check Check
		err   QueryError
		want  string
	}{
		{"ParentTable", rel, QueryError{Kind: MissingTable, Name: "`main`.`silver`.`orders`"},
			"table silver.orders does not exist in the warehouse: check the table name or that the upstream pipeline created it"},
		{"UnknownWhichTable", rel, QueryError{Kind: MissingTable},
			"table silver.order_items or silver.orders does not exist in the warehouse: check the table name or that the upstream pipeline created it"},
		{"ParentColumn", rel, QueryError{Kind: MissingColumn, Name: "`parent`.`id`"},
			"column id does not exist in table silver.orders: check the column name or that the upstream pipeline created it"},
		{"ChildColumn", rel, QueryError{Kind: MissingColumn, Name: "`child`.`order_id`"},
			"column order_id does not exist in table silver.order_items: check the column name or that the upstream pipeline created it"},
		{"NoNameOneColumn", Check{Table: "t", Kind: KindNotNull, Columns: []string{"a"}}, QueryError{Kind: MissingColumn, Message: "cannot resolve"},
			"column a does not exist in table t: check the column name or that the upstream pipeline created it"},
		{"NoNameWithWhere", Check{Table: "t", Kind: KindNotNull, Columns: []string{"a"}, Where: "b > 0"}, QueryError{Kind: MissingColumn, Message: "cannot resolve"},
			"query failed: cannot resolve: check the where filter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, describe(tc.check, &tc.err))
		})
	}
}

func TestParseTime(t *testing.T) {
	t.Parallel()
	want := time.Date(2026, 11, 21, 4, 30, 0, 0, time.UTC)
	for _, in := range []string{
		"2026-11-21T04:30:00Z",            // Databricks
		"2026-11-21T04:30:00.000Z",        // Databricks, milliseconds
		"2026-11-21T06:30:00+02:00",       // RFC 3339
		"2026-11-21 06:30:00+02",          // Postgres timestamptz
		"2026-11-21 10:00:00+05:30",       // Postgres, half-hour zone
		"2026-11-21 04:30:00.000000+00",   // Postgres, microseconds
		"2026-11-21 04:30:00",             // timestamp without time zone
		"2026-11-21T04:30:00",             // Databricks TIMESTAMP_NTZ
		"2026-11-21 04:29:59.999999999Z ", // trailing blank
	} {
		got, err := parseTime(in)
		require.NoError(t, err, in)
		require.WithinDuration(t, want, got, time.Microsecond, in)
	}
	day, err := parseTime("2026-11-21")
	require.NoError(t, err)
	require.Equal(t, time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC), day)
	_, err = parseTime("1732163400")
	require.EqualError(t, err, `"1732163400" is not a timestamp or date`)
}

func TestReportOK(t *testing.T) {
	t.Parallel()
	require.True(t, Report{Passed: 3, Warned: 2}.OK())
	require.False(t, Report{Passed: 3, Failed: 1}.OK())
	require.False(t, Report{Errored: 1}.OK())
}
