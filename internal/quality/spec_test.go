package quality

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/invopop/jsonschema"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// decodeChecks decodes a YAML `checks:` list the way the spec package does:
// YAML -> JSON-shaped value -> encoding/json, refusing unknown fields.
func decodeChecks(t *testing.T, src []byte) ([]Spec, error) {
	t.Helper()
	var doc struct {
		Checks any `yaml:"checks"`
	}
	require.NoError(t, yaml.Unmarshal(src, &doc))
	b, err := json.Marshal(doc.Checks)
	require.NoError(t, err)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var specs []Spec
	err = dec.Decode(&specs)
	return specs, err
}

func ptr[T any](v T) *T { return &v }

func TestExpandBriefExample(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile(filepath.Join("testdata", "checks.yaml"))
	require.NoError(t, err)
	specs, err := decodeChecks(t, src)
	require.NoError(t, err)
	for i, s := range specs {
		require.NoError(t, s.Validate(), "checks[%d]", i)
	}

	checks, err := Expand(specs)
	require.NoError(t, err)
	where := "order_status <> 'canceled'"
	scd2 := `SELECT customer_id, count(*) FROM silver.customers_history WHERE "__END_AT" IS NULL GROUP BY 1 HAVING count(*) > 1`
	require.Equal(t, []Check{
		{Name: "silver.orders: not_null(order_id)", Table: "silver.orders", Kind: KindNotNull, Severity: SeverityError, Where: where, Columns: []string{"order_id"}},
		{Name: "silver.orders: not_null(customer_id)", Table: "silver.orders", Kind: KindNotNull, Severity: SeverityError, Where: where, Columns: []string{"customer_id"}},
		{Name: "silver.orders: unique(order_id)", Table: "silver.orders", Kind: KindUnique, Severity: SeverityError, Where: where, Columns: []string{"order_id"}},
		{Name: "silver.orders: unique(order_id, customer_id)", Table: "silver.orders", Kind: KindUnique, Severity: SeverityError, Where: where, Columns: []string{"order_id", "customer_id"}},
		{Name: "silver.orders: accepted_values(order_status)", Table: "silver.orders", Kind: KindAcceptedValues, Severity: SeverityError, Where: where, Columns: []string{"order_status"}, Values: []string{"delivered", "shipped", "canceled"}},
		{Name: "bronze.orders: row_count", Table: "bronze.orders", Kind: KindRowCount, Severity: SeverityError, Min: ptr[int64](100), Max: ptr[int64](1000000)},
		{Name: "silver.orders: freshness(order_purchase_timestamp)", Table: "silver.orders", Kind: KindFreshness, Severity: SeverityError, Columns: []string{"order_purchase_timestamp"}, MaxAge: 48 * time.Hour},
		{Name: "silver.order_items: relationships(order_id -> silver.orders.order_id)", Table: "silver.order_items", Kind: KindRelationships, Severity: SeverityError, Columns: []string{"order_id"}, To: "silver.orders", Field: "order_id"},
		{Name: "silver.order_items: expression(price >= 0 AND freight_value >= 0)", Table: "silver.order_items", Kind: KindExpression, Severity: SeverityError, Expression: "price >= 0 AND freight_value >= 0"},
		{Name: "scd2_one_open_row", Kind: KindSQL, Severity: SeverityError, SQL: scd2},
		{Name: "bronze.order_items: row_count", Table: "bronze.order_items", Kind: KindRowCount, Severity: SeverityWarn, Min: ptr[int64](5000)},
		{Name: "silver.reviews: accepted_values(review_score)", Table: "silver.reviews", Kind: KindAcceptedValues, Severity: SeverityError, Columns: []string{"review_score"}, Values: []string{"1", "2", "3", "4", "5"}},
		{Name: "silver.reviews: accepted_values(is_verified)", Table: "silver.reviews", Kind: KindAcceptedValues, Severity: SeverityError, Columns: []string{"is_verified"}, Values: []string{"true", "false"}},
	}, checks)
}

func TestDecodeRejects(t *testing.T) {
	t.Parallel()
	t.Run("UnknownField", func(t *testing.T) {
		t.Parallel()
		_, err := decodeChecks(t, []byte("checks: [{table: t, not_nul: [a]}]"))
		require.EqualError(t, err, `json: unknown field "not_nul"`)
	})
	t.Run("UniqueEntryNotAColumn", func(t *testing.T) {
		t.Parallel()
		_, err := decodeChecks(t, []byte("checks: [{table: t, unique: [3]}]"))
		require.EqualError(t, err, "unique: each entry is a column name or a list of column names, not 3")
	})
}

func TestCountForms(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		json string
		want int64
	}{
		{`{"min": 100}`, 100},
		{`{"min": "5000"}`, 5000},
		{`{"min": " 42 "}`, 42},
		{`{"min": 1e3}`, 1000},
		{`{"min": 0}`, 0},
	} {
		t.Run(tc.json, func(t *testing.T) {
			t.Parallel()
			var rc RowCount
			require.NoError(t, json.Unmarshal([]byte(tc.json), &rc))
			checks, err := Expand([]Spec{{Table: "t", RowCount: &rc}})
			require.NoError(t, err)
			require.Equal(t, tc.want, *checks[0].Min)
			require.Nil(t, checks[0].Max)
		})
	}
	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		b, err := json.Marshal(Spec{Table: "t", RowCount: &RowCount{Min: NewCount(7)}, Unique: []ColumnSet{{"a"}, {"a", "b"}}})
		require.NoError(t, err)
		require.JSONEq(t, `{"table":"t","row_count":{"min":7},"unique":["a",["a","b"]]}`, string(b))
	})
}

func TestValidateMessages(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		spec string // JSON of one entry
		want string
	}{
		{"Empty", `{}`, "no check given: add one of not_null, unique, accepted_values, row_count, freshness, relationships, expression or sql"},
		{"OnlyTable", `{"table": "silver.orders"}`, "no check given: add one of not_null, unique, accepted_values, row_count, freshness, relationships, expression or sql"},
		{"MissingTable", `{"not_null": ["a"]}`, "table: is missing: name the table, e.g. silver.orders"},
		{"BadDuration", `{"table": "t", "freshness": {"column": "ts", "max_age": "2x"}}`, `freshness.max_age: "2x" is not a duration (use 90m, 26h)`},
		{"DaysAreNotGoDurations", `{"table": "t", "freshness": {"column": "ts", "max_age": "2d"}}`, `freshness.max_age: "2d" is not a duration (use 90m, 26h)`},
		{"ZeroDuration", `{"table": "t", "freshness": {"column": "ts", "max_age": "0s"}}`, `freshness.max_age: "0s" must be more than 0 (use 90m, 26h)`},
		{"FreshnessEmpty", `{"table": "t", "freshness": {}}`, "freshness.column: is missing: name the timestamp or date column\n" +
			"freshness.max_age: is missing: set how old the newest row may be (use 90m, 26h)"},
		{"Severity", `{"table": "t", "not_null": ["a"], "severity": "fatal"}`, `severity: "fatal" is not a severity (use error or warn)`},
		{"RowCountNoBound", `{"table": "t", "row_count": {}}`, "row_count: sets no bound: set min, max or both"},
		{"RowCountNotNumber", `{"table": "t", "row_count": {"min": "${tasks.x.output.rows}"}}`, `row_count.min: "${tasks.x.output.rows}" is not a whole number (write a count such as 100)`},
		{"RowCountFraction", `{"table": "t", "row_count": {"max": 1.5}}`, `row_count.max: 1.5 is not a whole number (write a count such as 100)`},
		{"RowCountNegative", `{"table": "t", "row_count": {"min": -1}}`, `row_count.min: -1 is negative: a row count is 0 or more`},
		{"RowCountMinAboveMax", `{"table": "t", "row_count": {"min": 10, "max": "5"}}`, `row_count: min 10 is greater than max 5`},
		{"NotNullEmpty", `{"table": "t", "not_null": []}`, "not_null: is empty: list at least one column"},
		{"NotNullBlankColumn", `{"table": "t", "not_null": ["a", ""]}`, "not_null[1]: is missing: write a column name"},
		{"DottedColumn", `{"table": "t", "not_null": ["a.b"]}`, `not_null[0]: "a.b" is not a valid column name: a column name has no dots; quote it ("a.b") if the dot is part of the name`},
		{"UniqueEmptySet", `{"table": "t", "unique": [[]]}`, "unique[0]: is empty: write a column or a list of columns"},
		{"UniqueRepeated", `{"table": "t", "unique": [["a", "b", "a"]]}`, "unique[0]: lists a twice"},
		{"UniqueBadColumn", `{"table": "t", "unique": ["ok", ["a", "\"b"]]}`, `unique[1][1]: "\"b" is not a valid column name: part 1 has no closing "`},
		{"AcceptedValuesNull", `{"table": "t", "accepted_values": [{"column": "s", "values": ["a", null]}]}`, "accepted_values[0].values[1]: is null: NULL is never an offender here; remove it, and add not_null to forbid NULLs"},
		{"AcceptedValuesObject", `{"table": "t", "accepted_values": [{"column": "s", "values": [{"a": 1}]}]}`, "accepted_values[0].values[0]: must be a string, number or boolean, not map[string]interface {}"},
		{"AcceptedValuesIncomplete", `{"table": "t", "accepted_values": [{"values": []}]}`, "accepted_values[0].column: is missing: write a column name\n" +
			"accepted_values[0].values: is empty: list the accepted values"},
		{"RelationshipIncomplete", `{"table": "t", "relationships": [{"column": "a"}]}`, "relationships[0].to: is missing: name the table, e.g. silver.orders\n" +
			"relationships[0].field: is missing: write a column name"},
		{"BadTable", `{"table": "silver..orders", "not_null": ["a"]}`, `table: "silver..orders" is not a valid table name: part 2 is empty (two dots in a row, or a leading dot)`},
		{"TooManyParts", `{"table": "a.b.c.d", "not_null": ["a"]}`, `table: "a.b.c.d" is not a valid table name: it has 4 parts; use table, schema.table or catalog.schema.table`},
		{"SQLWithOthers", `{"table": "t", "not_null": ["a"], "expression": "a > 0", "sql": "SELECT 1"}`, "sql: a custom query stands alone in its entry: move not_null, expression to another entry"},
		{"SQLWithWhere", `{"sql": "SELECT 1", "where": "a > 0"}`, "where: is not used by sql checks: put the filter in the query"},
		{"SQLBlank", `{"sql": "  "}`, "sql: is blank: write a query whose rows are the offending rows"},
		{"BlankName", `{"name": " ", "sql": "SELECT 1"}`, "name: is blank: remove it or write a name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var s Spec
			require.NoError(t, json.Unmarshal([]byte(tc.spec), &s))
			err := s.Validate()
			require.EqualError(t, err, tc.want)
			var fes FieldErrors
			require.True(t, errors.As(err, &fes))
			require.Equal(t, -1, fes[0].Index)
		})
	}
}

func TestExpandErrors(t *testing.T) {
	t.Parallel()
	t.Run("PathsNameTheEntry", func(t *testing.T) {
		t.Parallel()
		_, err := Expand([]Spec{
			{Table: "silver.orders", NotNull: []string{"order_id"}},
			{Table: "bronze.orders", RowCount: &RowCount{Min: NewCount(1)}},
			{Table: "silver.orders", Freshness: &Freshness{Column: "ts", MaxAge: "2x"}},
			{},
		})
		require.EqualError(t, err, `checks[2].freshness.max_age: "2x" is not a duration (use 90m, 26h)`+"\n"+
			"checks[3]: no check given: add one of not_null, unique, accepted_values, row_count, freshness, relationships, expression or sql")
		var fe *FieldError
		require.True(t, errors.As(err, &fe))
		require.Equal(t, FieldError{Index: 2, Field: "freshness.max_age", Message: `"2x" is not a duration (use 90m, 26h)`}, *fe)
		require.Equal(t, "checks[2].freshness.max_age", fe.Path())
	})
	t.Run("DuplicateNames", func(t *testing.T) {
		t.Parallel()
		_, err := Expand([]Spec{
			{Table: "silver.orders", NotNull: []string{"order_id", "customer_id"}},
			{Table: "silver.orders", Unique: []ColumnSet{{"order_id"}}, NotNull: []string{"customer_id"}},
			{Name: "orders ok", SQL: "SELECT 1"},
			{Name: "orders ok", Table: "t", Expression: "a > 0"},
		})
		require.EqualError(t, err,
			`checks[1].not_null[0]: check name "silver.orders: not_null(customer_id)" is also used by checks[0]; remove the duplicate or set a different name`+"\n"+
				`checks[3].name: check name "orders ok" is also used by checks[2]; remove the duplicate or set a different name`)
	})
}

func TestDefaultNames(t *testing.T) {
	t.Parallel()
	long := "SELECT customer_id, count(*)\n  FROM silver.customers_history\n WHERE \"__END_AT\" IS NULL GROUP BY 1 HAVING count(*) > 1"
	checks, err := Expand([]Spec{
		{Name: "orders_ok", Table: "silver.orders", NotNull: []string{"order_id"}, Unique: []ColumnSet{{"order_id", "customer_id"}}},
		{Name: "big enough", Table: "bronze.orders", RowCount: &RowCount{Max: NewCount(9)}},
		{SQL: long},
		{Table: "silver.customers_history", SQL: "SELECT 1;"},
		{Table: `weird "name"`, NotNull: []string{"a;b"}},
		{Table: `silver."my.table"`, Expression: "x\n  > 0"},
	})
	require.NoError(t, err)
	var names []string
	for _, c := range checks {
		names = append(names, c.Name)
	}
	require.Equal(t, []string{
		"orders_ok: not_null(order_id)",
		"orders_ok: unique(order_id, customer_id)",
		"big enough",
		"sql(SELECT customer_id, count(*) FROM silver.customers_history W...)",
		"silver.customers_history: sql(SELECT 1)",
		`weird "name": not_null(a;b)`,
		`silver."my.table": expression(x > 0)`,
	}, names)
}

func TestSplitName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want []string
		err  string
	}{
		{in: "orders", want: []string{"orders"}},
		{in: "silver.orders", want: []string{"silver", "orders"}},
		{in: "main.silver.orders", want: []string{"main", "silver", "orders"}},
		{in: `silver."my.table"`, want: []string{"silver", "my.table"}},
		{in: "silver.`my.table`", want: []string{"silver", "my.table"}},
		{in: `"a""b".c`, want: []string{`a"b`, "c"}},
		{in: "`a``b`", want: []string{"a`b"}},
		{in: `weird "name"`, want: []string{`weird "name"`}},
		{in: `orders"; DROP TABLE x; --`, want: []string{`orders"; DROP TABLE x; --`}},
		{in: "Mixed Case", want: []string{"Mixed Case"}},
		{in: "", err: "the name is empty"},
		{in: "silver.", err: "part 2 is empty (a name cannot end with a dot)"},
		{in: ".orders", err: "part 1 is empty (two dots in a row, or a leading dot)"},
		{in: `"silver`, err: `part 1 has no closing "`},
		{in: `"silver"x.orders`, err: `part 1 has text after its closing " (quote the whole part)`},
		{in: `silver.""`, err: "part 2 is empty"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			got, err := splitName(tc.in)
			if tc.err != "" {
				require.EqualError(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

// TestJSONSchema checks what an editor learns about the fields whose Go type
// differs from what users write.
func TestJSONSchema(t *testing.T) {
	t.Parallel()
	r := &jsonschema.Reflector{DoNotReference: true}
	b, err := json.Marshal(r.Reflect(&Spec{}))
	require.NoError(t, err)
	var s struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	require.NoError(t, json.Unmarshal(b, &s))

	require.JSONEq(t, `{"type":"array","items":{"oneOf":[{"type":"string","description":"a column"},{"type":"array","items":{"type":"string"},"minItems":1,"description":"a composite key"}]},
		"description":"Keys that must be unique: a column name, or a list of columns for a composite key. Rows where a key column is NULL are not compared (as a SQL UNIQUE constraint)."}`,
		string(s.Properties["unique"]))
	require.JSONEq(t, `{"type":"string","enum":["error","warn"],"description":"error (default): a failing check fails the task. warn: it is reported and the task succeeds."}`,
		string(s.Properties["severity"]))

	var rc struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	require.NoError(t, json.Unmarshal(s.Properties["row_count"], &rc))
	require.JSONEq(t, `{"oneOf":[{"type":"integer","minimum":0},{"type":"string","pattern":"^\\s*[0-9]+\\s*$","description":"a whole number, e.g. from ${tasks.x.output.rows}"}],"description":"Fewest rows allowed."}`,
		string(rc.Properties["min"]))

	var av struct {
		Items struct {
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"items"`
	}
	require.NoError(t, json.Unmarshal(s.Properties["accepted_values"], &av))
	require.JSONEq(t, `{"type":"array","items":{"oneOf":[{"type":"string"},{"type":"number"},{"type":"boolean"}]},"description":"Accepted values. NULL is never an offender: add not_null to forbid it."}`,
		string(av.Items.Properties["values"]))
}
