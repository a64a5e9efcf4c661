package quality

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/sluicedata/sluice/internal/pgtest"
)

// testNow is when the Postgres tests measure freshness: 24h after the newest
// silver.events.ts.
func testNow() time.Time { return time.Date(2026, 11, 22, 4, 30, 0, 0, time.UTC) }

// setup gives the test its own database holding testdata/fixture.sql.
func setup(t *testing.T) (*pgxpool.Pool, *PostgresQuerier) {
	t.Helper()
	pool := pgtest.NewPool(t)
	fixture, err := os.ReadFile(filepath.Join("testdata", "fixture.sql"))
	require.NoError(t, err)
	_, err = pool.Exec(context.Background(), string(fixture))
	require.NoError(t, err, "loading fixture.sql")
	return pool, NewPostgresQuerier(pool)
}

// check expands a one-check entry.
func check(t *testing.T, s Spec) Check {
	t.Helper()
	checks, err := Expand([]Spec{s})
	require.NoError(t, err)
	require.Len(t, checks, 1)
	return checks[0]
}

// runOne runs one check on Postgres and returns its result, Duration zeroed
// once it is known to be set.
func runOne(t *testing.T, q Querier, c Check, opts Options) Result {
	t.Helper()
	if opts.Now.IsZero() {
		opts.Now = testNow()
	}
	rep, err := Run(context.Background(), q, Postgres{}, []Check{c}, opts)
	require.NoError(t, err)
	require.Len(t, rep.Results, 1)
	r := rep.Results[0]
	require.Positive(t, r.Duration)
	r.Duration = 0
	return r
}

func str(s string) *string { return &s }

// row builds a sample row from column, value pairs; a nil value is NULL.
func row(kv ...any) map[string]*string {
	m := map[string]*string{}
	for i := 0; i < len(kv); i += 2 {
		if v, ok := kv[i+1].(string); ok {
			m[kv[i].(string)] = &v
		} else {
			m[kv[i].(string)] = nil
		}
	}
	return m
}

// orderRow is a whole silver.orders row as Postgres prints it.
func orderRow(id, customer, status, amount any) map[string]*string {
	return row("order_id", id, "customer_id", customer, "order_status", status, "amount", amount)
}

func TestPostgresChecks(t *testing.T) {
	t.Parallel()
	_, q := setup(t)

	for _, tc := range []struct {
		name string
		spec Spec
		want Result
	}{
		{
			name: "NotNullPass",
			spec: Spec{Table: "silver.orders", NotNull: []string{"order_status"}, Where: "order_id <> 'o5'"},
			want: Result{Name: "silver.orders: not_null(order_status)", Table: "silver.orders", Kind: KindNotNull, Severity: SeverityError,
				Status: StatusPass, Message: "no rows have NULL in order_status",
				Query: `SELECT count(*) FROM "silver"."orders" WHERE (order_id <> 'o5') AND "order_status" IS NULL`},
		},
		{
			name: "NotNullFail",
			spec: Spec{Table: "silver.orders", NotNull: []string{"customer_id"}},
			want: Result{Name: "silver.orders: not_null(customer_id)", Table: "silver.orders", Kind: KindNotNull, Severity: SeverityError,
				Status: StatusFail, Offending: 1, Message: "1 row has NULL in customer_id",
				Sample: []map[string]*string{orderRow("o4", nil, "unknown", "0")},
				Query:  `SELECT count(*) FROM "silver"."orders" WHERE "customer_id" IS NULL`},
		},
		{
			name: "NotNullWarn",
			spec: Spec{Table: "silver.orders", NotNull: []string{"customer_id"}, Severity: SeverityWarn},
			want: Result{Name: "silver.orders: not_null(customer_id)", Table: "silver.orders", Kind: KindNotNull, Severity: SeverityWarn,
				Status: StatusWarn, Offending: 1, Message: "1 row has NULL in customer_id",
				Sample: []map[string]*string{orderRow("o4", nil, "unknown", "0")},
				Query:  `SELECT count(*) FROM "silver"."orders" WHERE "customer_id" IS NULL`},
		},
		{
			name: "WhereFilterExcludesTheOffender",
			spec: Spec{Table: "silver.orders", NotNull: []string{"customer_id"}, Where: "order_status <> 'unknown'"},
			want: Result{Name: "silver.orders: not_null(customer_id)", Table: "silver.orders", Kind: KindNotNull, Severity: SeverityError,
				Status: StatusPass, Message: "no rows have NULL in customer_id",
				Query: `SELECT count(*) FROM "silver"."orders" WHERE (order_status <> 'unknown') AND "customer_id" IS NULL`},
		},
		{
			// o3 twice; the two NULL order_ids are not duplicates.
			name: "UniqueFail",
			spec: Spec{Table: "silver.orders", Unique: []ColumnSet{{"order_id"}}},
			want: Result{Name: "silver.orders: unique(order_id)", Table: "silver.orders", Kind: KindUnique, Severity: SeverityError,
				Status: StatusFail, Offending: 2, Message: "2 rows share 1 duplicated value of (order_id)",
				Sample: []map[string]*string{row("order_id", "o3", "n_rows", "2")},
				Query:  `SELECT count(*), coalesce(sum(n_rows), 0) FROM (SELECT count(*) AS n_rows FROM "silver"."orders" WHERE "order_id" IS NOT NULL GROUP BY "order_id" HAVING count(*) > 1) AS duplicates`},
		},
		{
			name: "UniqueCompositePass",
			spec: Spec{Table: "silver.orders", Unique: []ColumnSet{{"order_id", "order_status"}}},
			want: Result{Name: "silver.orders: unique(order_id, order_status)", Table: "silver.orders", Kind: KindUnique, Severity: SeverityError,
				Status: StatusPass, Message: "no duplicated values of (order_id, order_status)",
				Query: `SELECT count(*), coalesce(sum(n_rows), 0) FROM (SELECT count(*) AS n_rows FROM "silver"."orders" WHERE "order_id" IS NOT NULL AND "order_status" IS NOT NULL GROUP BY "order_id", "order_status" HAVING count(*) > 1) AS duplicates`},
		},
		{
			// (c3, lost) rows 4 and 9, (c6, lost) rows 7 and 8; (c5, NULL) is skipped.
			name: "UniqueCompositeFail",
			spec: Spec{Table: "silver.orders", Unique: []ColumnSet{{"customer_id", "order_status"}}},
			want: Result{Name: "silver.orders: unique(customer_id, order_status)", Table: "silver.orders", Kind: KindUnique, Severity: SeverityError,
				Status: StatusFail, Offending: 4, Message: "4 rows share 2 duplicated values of (customer_id, order_status)",
				Sample: []map[string]*string{
					row("customer_id", "c3", "order_status", "lost", "n_rows", "2"),
					row("customer_id", "c6", "order_status", "lost", "n_rows", "2"),
				},
				Query: `SELECT count(*), coalesce(sum(n_rows), 0) FROM (SELECT count(*) AS n_rows FROM "silver"."orders" WHERE "customer_id" IS NOT NULL AND "order_status" IS NOT NULL GROUP BY "customer_id", "order_status" HAVING count(*) > 1) AS duplicates`},
		},
		{
			// c3 three times, c6 twice: the sample lists the most repeated first.
			name: "UniqueSampleOrder",
			spec: Spec{Table: "silver.orders", Unique: []ColumnSet{{"customer_id"}}},
			want: Result{Name: "silver.orders: unique(customer_id)", Table: "silver.orders", Kind: KindUnique, Severity: SeverityError,
				Status: StatusFail, Offending: 5, Message: "5 rows share 2 duplicated values of (customer_id)",
				Sample: []map[string]*string{row("customer_id", "c3", "n_rows", "3"), row("customer_id", "c6", "n_rows", "2")},
				Query:  `SELECT count(*), coalesce(sum(n_rows), 0) FROM (SELECT count(*) AS n_rows FROM "silver"."orders" WHERE "customer_id" IS NOT NULL GROUP BY "customer_id" HAVING count(*) > 1) AS duplicates`},
		},
		{
			// lost x4 and unknown x1; the NULL status (row 6) is not an offender.
			name: "AcceptedValuesFailIgnoresNull",
			spec: Spec{Table: "silver.orders", AcceptedValues: []AcceptedValues{{Column: "order_status", Values: []any{"delivered", "shipped", "canceled"}}}},
			want: Result{Name: "silver.orders: accepted_values(order_status)", Table: "silver.orders", Kind: KindAcceptedValues, Severity: SeverityError,
				Status: StatusFail, Offending: 5, Message: "5 rows have order_status not in [delivered, shipped, canceled]",
				Sample: []map[string]*string{row("order_status", "lost", "n_rows", "4"), row("order_status", "unknown", "n_rows", "1")},
				Query:  `SELECT count(*) FROM "silver"."orders" WHERE "order_status" IS NOT NULL AND "order_status" NOT IN ('delivered', 'shipped', 'canceled')`},
		},
		{
			name: "AcceptedValuesPass",
			spec: Spec{Table: "silver.orders", AcceptedValues: []AcceptedValues{{Column: "order_status", Values: []any{"delivered", "shipped", "canceled", "lost", "unknown"}}}},
			want: Result{Name: "silver.orders: accepted_values(order_status)", Table: "silver.orders", Kind: KindAcceptedValues, Severity: SeverityError,
				Status: StatusPass, Message: "every non-NULL order_status is in [delivered, shipped, canceled, lost, unknown]",
				Query: `SELECT count(*) FROM "silver"."orders" WHERE "order_status" IS NOT NULL AND "order_status" NOT IN ('delivered', 'shipped', 'canceled', 'lost', 'unknown')`},
		},
		{
			// Numbers from YAML compare with a numeric column.
			name: "AcceptedValuesNumbers",
			spec: Spec{Table: "silver.orders", AcceptedValues: []AcceptedValues{{Column: "amount", Values: []any{float64(10), float64(20), float64(30), float64(0), float64(5), float64(2), float64(1)}}}},
			want: Result{Name: "silver.orders: accepted_values(amount)", Table: "silver.orders", Kind: KindAcceptedValues, Severity: SeverityError,
				Status: StatusFail, Offending: 1, Message: "1 row has amount not in [10, 20, 30, 0, 5, 2, 1]",
				Sample: []map[string]*string{row("amount", "-5", "n_rows", "1")},
				Query:  `SELECT count(*) FROM "silver"."orders" WHERE "amount" IS NOT NULL AND "amount" NOT IN ('10', '20', '30', '0', '5', '2', '1')`},
		},
		{
			name: "RowCountMinPass",
			spec: Spec{Table: "silver.orders", RowCount: &RowCount{Min: NewCount(5)}},
			want: Result{Name: "silver.orders: row_count", Table: "silver.orders", Kind: KindRowCount, Severity: SeverityError,
				Status: StatusPass, Message: "row count 9 is within bounds (min 5)", Query: `SELECT count(*) FROM "silver"."orders"`},
		},
		{
			name: "RowCountMinFail",
			spec: Spec{Table: "silver.orders", RowCount: &RowCount{Min: NewCount(10)}},
			want: Result{Name: "silver.orders: row_count", Table: "silver.orders", Kind: KindRowCount, Severity: SeverityError,
				Status: StatusFail, Message: "row count 9 is below the minimum 10", Query: `SELECT count(*) FROM "silver"."orders"`},
		},
		{
			name: "RowCountMaxFail",
			spec: Spec{Table: "silver.orders", RowCount: &RowCount{Max: NewCount(8)}},
			want: Result{Name: "silver.orders: row_count", Table: "silver.orders", Kind: KindRowCount, Severity: SeverityError,
				Status: StatusFail, Message: "row count 9 is above the maximum 8", Query: `SELECT count(*) FROM "silver"."orders"`},
		},
		{
			name: "RowCountBothPass",
			spec: Spec{Table: "silver.orders", RowCount: &RowCount{Min: NewCount(1), Max: NewCount(9)}},
			want: Result{Name: "silver.orders: row_count", Table: "silver.orders", Kind: KindRowCount, Severity: SeverityError,
				Status: StatusPass, Message: "row count 9 is within bounds (min 1, max 9)", Query: `SELECT count(*) FROM "silver"."orders"`},
		},
		{
			name: "RowCountWhere",
			spec: Spec{Table: "silver.orders", RowCount: &RowCount{Min: NewCount(5)}, Where: "order_status = 'lost'"},
			want: Result{Name: "silver.orders: row_count", Table: "silver.orders", Kind: KindRowCount, Severity: SeverityError,
				Status: StatusFail, Message: "row count 4 is below the minimum 5", Query: `SELECT count(*) FROM "silver"."orders" WHERE (order_status = 'lost')`},
		},
		{
			name: "FreshnessPass",
			spec: Spec{Table: "silver.events", Freshness: &Freshness{Column: "ts", MaxAge: "48h"}},
			want: Result{Name: "silver.events: freshness(ts)", Table: "silver.events", Kind: KindFreshness, Severity: SeverityError,
				Status: StatusPass, Message: "newest ts is 2026-11-21T04:30:00Z, 24h0m0s old (max_age 48h0m0s)", Query: `SELECT max("ts") FROM "silver"."events"`},
		},
		{
			name: "FreshnessFail",
			spec: Spec{Table: "silver.events", Freshness: &Freshness{Column: "ts", MaxAge: "12h"}},
			want: Result{Name: "silver.events: freshness(ts)", Table: "silver.events", Kind: KindFreshness, Severity: SeverityError,
				Status: StatusFail, Message: "newest ts is 2026-11-21T04:30:00Z, 24h0m0s old: older than max_age 12h0m0s", Query: `SELECT max("ts") FROM "silver"."events"`},
		},
		{
			name: "FreshnessWithoutTimeZoneIsUTC",
			spec: Spec{Table: "silver.events", Freshness: &Freshness{Column: "ts_naive", MaxAge: "23h"}},
			want: Result{Name: "silver.events: freshness(ts_naive)", Table: "silver.events", Kind: KindFreshness, Severity: SeverityError,
				Status: StatusFail, Message: "newest ts_naive is 2026-11-21T04:30:00Z, 24h0m0s old: older than max_age 23h0m0s", Query: `SELECT max("ts_naive") FROM "silver"."events"`},
		},
		{
			name: "FreshnessDate",
			spec: Spec{Table: "silver.events", Freshness: &Freshness{Column: "day", MaxAge: "30h"}, Severity: SeverityWarn},
			want: Result{Name: "silver.events: freshness(day)", Table: "silver.events", Kind: KindFreshness, Severity: SeverityWarn,
				Status: StatusPass, Message: "newest day is 2026-11-21T00:00:00Z, 28h30m0s old (max_age 30h0m0s)", Query: `SELECT max("day") FROM "silver"."events"`},
		},
		{
			name: "FreshnessNoRows",
			spec: Spec{Table: "silver.events", Freshness: &Freshness{Column: "ts", MaxAge: "48h"}, Where: "ts < '2000-01-01'", Severity: SeverityWarn},
			want: Result{Name: "silver.events: freshness(ts)", Table: "silver.events", Kind: KindFreshness, Severity: SeverityWarn,
				Status: StatusWarn, Message: "no row has a ts (the table is empty, or the where filter matches no rows)",
				Query: `SELECT max("ts") FROM "silver"."events" WHERE (ts < '2000-01-01')`},
		},
		{
			name: "FreshnessNotATime",
			spec: Spec{Table: "silver.orders", Freshness: &Freshness{Column: "order_status", MaxAge: "1h"}},
			want: Result{Name: "silver.orders: freshness(order_status)", Table: "silver.orders", Kind: KindFreshness, Severity: SeverityError,
				Status: StatusError, Message: `cannot read max(order_status) = "unknown" as a time: freshness needs a timestamp or date column`,
				Query: `SELECT max("order_status") FROM "silver"."orders"`},
		},
		{
			// c6 twice; the NULL customer_id (row 5) is not an orphan.
			name: "RelationshipsOrphans",
			spec: Spec{Table: "silver.orders", Relationships: []Relationship{{Column: "customer_id", To: "silver.customers", Field: "customer_id"}}},
			want: Result{Name: "silver.orders: relationships(customer_id -> silver.customers.customer_id)", Table: "silver.orders", Kind: KindRelationships, Severity: SeverityError,
				Status: StatusFail, Offending: 2, Message: "2 rows have customer_id not found in silver.customers.customer_id",
				Sample: []map[string]*string{row("customer_id", "c6", "n_rows", "2")},
				Query:  `SELECT count(*) FROM "silver"."orders" AS child WHERE child."customer_id" IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "silver"."customers" AS parent WHERE parent."customer_id" = child."customer_id")`},
		},
		{
			name: "RelationshipsWherePass",
			spec: Spec{Table: "silver.orders", Relationships: []Relationship{{Column: "customer_id", To: "silver.customers", Field: "customer_id"}}, Where: "order_id IS NOT NULL"},
			want: Result{Name: "silver.orders: relationships(customer_id -> silver.customers.customer_id)", Table: "silver.orders", Kind: KindRelationships, Severity: SeverityError,
				Status: StatusPass, Message: "every non-NULL customer_id is found in silver.customers.customer_id",
				Query: `SELECT count(*) FROM (SELECT * FROM "silver"."orders" WHERE (order_id IS NOT NULL)) AS child WHERE child."customer_id" IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "silver"."customers" AS parent WHERE parent."customer_id" = child."customer_id")`},
		},
		{
			// amount -5 (row 3); the NULL amount (row 6) does not violate.
			name: "ExpressionFail",
			spec: Spec{Table: "silver.orders", Expression: "amount >= 0"},
			want: Result{Name: "silver.orders: expression(amount >= 0)", Table: "silver.orders", Kind: KindExpression, Severity: SeverityError,
				Status: StatusFail, Offending: 1, Message: "1 row violates amount >= 0",
				Sample: []map[string]*string{orderRow("o3", "c3", "canceled", "-5")},
				Query:  `SELECT count(*) FROM "silver"."orders" WHERE NOT (amount >= 0)`},
		},
		{
			name: "ExpressionWherePass",
			spec: Spec{Table: "silver.orders", Expression: "amount >= 0", Where: "order_status <> 'canceled'"},
			want: Result{Name: "silver.orders: expression(amount >= 0)", Table: "silver.orders", Kind: KindExpression, Severity: SeverityError,
				Status: StatusPass, Message: "no rows violate amount >= 0",
				Query: `SELECT count(*) FROM "silver"."orders" WHERE (order_status <> 'canceled') AND NOT (amount >= 0)`},
		},
		{
			// The brief's SCD2 check, verbatim: c1 has two open rows.
			name: "CustomSQLFail",
			spec: Spec{Name: "scd2_one_open_row", SQL: `SELECT customer_id, count(*) FROM silver.customers_history WHERE "__END_AT" IS NULL GROUP BY 1 HAVING count(*) > 1`},
			want: Result{Name: "scd2_one_open_row", Kind: KindSQL, Severity: SeverityError,
				Status: StatusFail, Offending: 1, Message: "the query returned 1 row",
				Sample: []map[string]*string{row("customer_id", "c1", "count", "2")},
				Query:  "SELECT count(*) FROM (\n" + `SELECT customer_id, count(*) FROM silver.customers_history WHERE "__END_AT" IS NULL GROUP BY 1 HAVING count(*) > 1` + "\n) AS custom_sql"},
		},
		{
			// A trailing semicolon and a trailing comment do not break the wrapping.
			name: "CustomSQLPass",
			spec: Spec{Name: "no_big_refunds", Table: "silver.orders", SQL: "SELECT *\nFROM silver.orders\nWHERE amount < -100 -- none that negative\n;\n"},
			want: Result{Name: "no_big_refunds", Table: "silver.orders", Kind: KindSQL, Severity: SeverityError,
				Status: StatusPass, Message: "the query returned no rows",
				Query: "SELECT count(*) FROM (\nSELECT *\nFROM silver.orders\nWHERE amount < -100 -- none that negative\n) AS custom_sql"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := runOne(t, q, check(t, tc.spec), Options{})
			require.Equal(t, tc.want, got)
		})
	}

	t.Run("NotNullSampleRows", func(t *testing.T) {
		t.Parallel()
		got := runOne(t, q, check(t, Spec{Table: "silver.orders", NotNull: []string{"order_id"}}), Options{})
		require.Equal(t, StatusFail, got.Status)
		require.Equal(t, int64(2), got.Offending)
		require.Equal(t, "2 rows have NULL in order_id", got.Message)
		// LIMIT without ORDER BY: any order.
		require.ElementsMatch(t, []map[string]*string{orderRow(nil, "c6", "lost", "5"), orderRow(nil, "c6", "lost", "2")}, got.Sample)
	})
	t.Run("SampleRowsOption", func(t *testing.T) {
		t.Parallel()
		c := check(t, Spec{Table: "silver.orders", Unique: []ColumnSet{{"customer_id"}}})
		one := runOne(t, q, c, Options{SampleRows: 1})
		require.Equal(t, []map[string]*string{row("customer_id", "c3", "n_rows", "3")}, one.Sample)
		none := runOne(t, q, c, Options{SampleRows: -1})
		require.Nil(t, none.Sample)
		require.Equal(t, int64(5), none.Offending)
	})
}

func TestPostgresErrors(t *testing.T) {
	t.Parallel()
	_, q := setup(t)

	for _, tc := range []struct {
		name string
		spec Spec
		want string
	}{
		{"MissingTable", Spec{Table: "silver.orderz", NotNull: []string{"order_id"}},
			"table silver.orderz does not exist in the warehouse: check the table name or that the upstream pipeline created it"},
		{"MissingSchema", Spec{Table: "silvr.orders", RowCount: &RowCount{Min: NewCount(1)}},
			"table silvr.orders does not exist in the warehouse: check the table name or that the upstream pipeline created it"},
		{"MissingColumn", Spec{Table: "silver.orders", NotNull: []string{"order_idd"}},
			"column order_idd does not exist in table silver.orders: check the column name or that the upstream pipeline created it"},
		{"NamesAreCaseSensitive", Spec{Table: "silver.orders", Unique: []ColumnSet{{"order_id", "Customer_ID"}}},
			"column Customer_ID does not exist in table silver.orders: check the column name or that the upstream pipeline created it"},
		{"MissingFreshnessColumn", Spec{Table: "silver.events", Freshness: &Freshness{Column: "updated_at", MaxAge: "1h"}},
			"column updated_at does not exist in table silver.events: check the column name or that the upstream pipeline created it"},
		{"MissingColumnInWhere", Spec{Table: "silver.orders", NotNull: []string{"order_id"}, Where: "nosuch > 0"},
			"column nosuch does not exist in table silver.orders: check the columns used in the where filter"},
		{"MissingColumnInExpression", Spec{Table: "silver.orders", Expression: "price >= 0"},
			"column price does not exist in table silver.orders: check the columns used in the expression"},
		{"MissingParentTable", Spec{Table: "silver.orders", Relationships: []Relationship{{Column: "customer_id", To: "silver.customerz", Field: "customer_id"}}},
			"table silver.customerz does not exist in the warehouse: check the table name or that the upstream pipeline created it"},
		{"MissingChildTable", Spec{Table: "silver.orderz", Relationships: []Relationship{{Column: "customer_id", To: "silver.customers", Field: "customer_id"}}},
			"table silver.orderz does not exist in the warehouse: check the table name or that the upstream pipeline created it"},
		{"MissingParentColumn", Spec{Table: "silver.orders", Relationships: []Relationship{{Column: "customer_id", To: "silver.customers", Field: "id"}}},
			"column id does not exist in table silver.customers: check the column name or that the upstream pipeline created it"},
		{"MissingChildColumn", Spec{Table: "silver.orders", Relationships: []Relationship{{Column: "cust_id", To: "silver.customers", Field: "customer_id"}}},
			"column cust_id does not exist in table silver.orders: check the column name or that the upstream pipeline created it"},
		{"ValuesOfTheWrongType", Spec{Table: "silver.orders", AcceptedValues: []AcceptedValues{{Column: "amount", Values: []any{"ten"}}}},
			`query failed: invalid input syntax for type numeric: "ten" (22P02): check that the accepted values fit the column's type`},
		{"BadWhere", Spec{Table: "silver.orders", RowCount: &RowCount{Min: NewCount(1)}, Where: "order_status = "},
			`query failed: syntax error at or near ")" (42601): check the where filter`},
		{"BadCustomSQL", Spec{Name: "typo", SQL: "SELECT order_id FROM silver.orders WHERE lenght(order_id) > 2"},
			"custom SQL failed: function lenght(text) does not exist (42883): check the query"},
		{"CustomSQLMissingTable", Spec{Name: "gone", SQL: "SELECT * FROM silver.nope"},
			"custom SQL failed: table silver.nope does not exist in the warehouse: check the query or that the upstream pipeline created it"},
		{"CustomSQLMissingColumn", Spec{Name: "gone", SQL: "SELECT nope FROM silver.orders"},
			"custom SQL failed: column nope does not exist: check the query"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := check(t, tc.spec)
			got := runOne(t, q, c, Options{})
			require.Equal(t, StatusError, got.Status)
			require.Equal(t, tc.want, got.Message)
			require.Zero(t, got.Offending)
			require.Nil(t, got.Sample)
			require.NotEmpty(t, got.Query)
		})
	}

	t.Run("WarnSeverityStillErrors", func(t *testing.T) {
		t.Parallel()
		got := runOne(t, q, check(t, Spec{Table: "silver.orderz", NotNull: []string{"a"}, Severity: SeverityWarn}), Options{})
		require.Equal(t, StatusError, got.Status)
		require.Equal(t, SeverityWarn, got.Severity)
	})
}

func TestPostgresQuoting(t *testing.T) {
	t.Parallel()
	pool, q := setup(t)

	t.Run("WeirdNames", func(t *testing.T) {
		t.Parallel()
		got := runOne(t, q, check(t, Spec{Table: `weird "name"`, NotNull: []string{"a;b"}}), Options{})
		require.Equal(t, Result{Name: `weird "name": not_null(a;b)`, Table: `weird "name"`, Kind: KindNotNull, Severity: SeverityError,
			Status: StatusFail, Offending: 1, Message: "1 row has NULL in a;b",
			Sample: []map[string]*string{row("a;b", nil, "x", "2")},
			Query:  `SELECT count(*) FROM "weird ""name""" WHERE "a;b" IS NULL`}, got)
	})
	t.Run("DotInsideQuotedName", func(t *testing.T) {
		t.Parallel()
		got := runOne(t, q, check(t, Spec{Table: `silver."my.table"`, Unique: []ColumnSet{{"id"}}}), Options{})
		require.Equal(t, StatusFail, got.Status)
		require.Equal(t, "2 rows share 1 duplicated value of (id)", got.Message)
		require.Equal(t, `SELECT count(*), coalesce(sum(n_rows), 0) FROM (SELECT count(*) AS n_rows FROM "silver"."my.table" WHERE "id" IS NOT NULL GROUP BY "id" HAVING count(*) > 1) AS duplicates`, got.Query)
	})
	t.Run("InjectionIsInert", func(t *testing.T) {
		t.Parallel()
		for _, s := range []Spec{
			{Table: `victim"; DROP TABLE victim; --`, NotNull: []string{"id"}},
			{Table: `public."victim; DROP TABLE victim"`, RowCount: &RowCount{Min: NewCount(1)}},
			{Table: "victim", NotNull: []string{`id" IS NULL; DROP TABLE victim; --`}},
			{Table: "silver.orders", Relationships: []Relationship{{Column: "customer_id", To: `silver.customers") ; DROP TABLE victim; --`, Field: "customer_id"}}},
		} {
			got := runOne(t, q, check(t, s), Options{})
			require.Equal(t, StatusError, got.Status, got.Query)
		}
		require.Equal(t, "table victim\"; DROP TABLE victim; -- does not exist in the warehouse: check the table name or that the upstream pipeline created it",
			runOne(t, q, check(t, Spec{Table: `victim"; DROP TABLE victim; --`, NotNull: []string{"id"}}), Options{}).Message)

		// Values are literals: a quote in one cannot end the string.
		got := runOne(t, q, check(t, Spec{Table: "silver.orders", AcceptedValues: []AcceptedValues{{Column: "order_status",
			Values: []any{"lost'); DROP TABLE victim; --", `lost\'); DROP TABLE victim; --`, "delivered", "shipped", "canceled", "unknown"}}}}), Options{})
		require.Equal(t, StatusFail, got.Status)
		require.Equal(t, int64(4), got.Offending) // the four 'lost' rows: no value above equals lost
		require.Equal(t, `SELECT count(*) FROM "silver"."orders" WHERE "order_status" IS NOT NULL AND "order_status" NOT IN ('lost''); DROP TABLE victim; --', E'lost\\''); DROP TABLE victim; --', 'delivered', 'shipped', 'canceled', 'unknown')`, got.Query)

		var n int
		require.NoError(t, pool.QueryRow(context.Background(), "SELECT count(*) FROM victim").Scan(&n))
		require.Equal(t, 1, n)
	})
	t.Run("OneStatementOnly", func(t *testing.T) {
		t.Parallel()
		got := runOne(t, q, check(t, Spec{Name: "two statements", SQL: "SELECT 1 WHERE false; DROP TABLE victim"}), Options{})
		require.Equal(t, StatusError, got.Status)
		require.Equal(t, `custom SQL failed: syntax error at or near ";" (42601): check the query`, got.Message)
		var n int
		require.NoError(t, pool.QueryRow(context.Background(), "SELECT count(*) FROM victim").Scan(&n))
		require.Equal(t, 1, n)
	})
}

// TestPostgresReport runs a list of checks together: counts, order, and the
// same report whatever the parallelism.
func TestPostgresReport(t *testing.T) {
	t.Parallel()
	_, q := setup(t)
	checks, err := Expand([]Spec{
		{Table: "silver.orders", NotNull: []string{"order_status"}, Where: "order_id <> 'o5'", RowCount: &RowCount{Min: NewCount(1)}},
		{Table: "silver.orders", Unique: []ColumnSet{{"order_id"}}, Severity: SeverityWarn},
		{Table: "silver.orderz", RowCount: &RowCount{Min: NewCount(1)}},
		{Table: "silver.events", Freshness: &Freshness{Column: "ts", MaxAge: "1h"}},
		{Name: "scd2_one_open_row", SQL: `SELECT customer_id FROM silver.customers_history WHERE "__END_AT" IS NULL GROUP BY 1 HAVING count(*) > 1`},
		{Table: "silver.orders", Expression: "amount >= -5"},
	})
	require.NoError(t, err)

	run := func(parallelism int) Report {
		rep, err := Run(context.Background(), q, Postgres{}, checks, Options{Now: testNow(), Parallelism: parallelism})
		require.NoError(t, err)
		for i := range rep.Results {
			rep.Results[i].Duration = 0
		}
		return rep
	}
	seq := run(1)
	var got [][2]string
	for _, r := range seq.Results {
		got = append(got, [2]string{r.Name, string(r.Status)})
	}
	require.Equal(t, [][2]string{
		{"silver.orders: not_null(order_status)", "PASS"},
		{"silver.orders: row_count", "PASS"},
		{"silver.orders: unique(order_id)", "WARN"},
		{"silver.orderz: row_count", "ERROR"},
		{"silver.events: freshness(ts)", "FAIL"},
		{"scd2_one_open_row", "FAIL"},
		{"silver.orders: expression(amount >= -5)", "PASS"},
	}, got)
	require.Equal(t, [4]int{3, 1, 2, 1}, [4]int{seq.Passed, seq.Warned, seq.Failed, seq.Errored})
	require.Equal(t, "7 checks: 3 passed, 1 warned, 2 failed, 1 errored", seq.Summary())
	require.False(t, seq.OK())

	require.Equal(t, seq, run(3))
}
