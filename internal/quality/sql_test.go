package quality

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// fakeWarehouse stands in for a warehouse that cannot run here (the
// Databricks SQL Statement Execution API). It records every statement and
// answers through answer; it checks nothing about the SQL itself, which is
// why the Databricks statements are compared to golden strings.
type fakeWarehouse struct {
	mu      sync.Mutex
	queries []string
	answer  func(sql string) (Rows, error)
}

func (f *fakeWarehouse) Query(ctx context.Context, sql string) (Rows, error) {
	f.mu.Lock()
	f.queries = append(f.queries, sql)
	f.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return Rows{}, err
	}
	return f.answer(sql)
}

func (f *fakeWarehouse) seen() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.queries...)
}

// one is a one-row result.
func one(cols []string, vals ...*string) Rows {
	return Rows{Columns: cols, Values: [][]*string{vals}}
}

// offenders answers every measure with offenders, so both statements of a
// check are generated.
func offenders(sql string) (Rows, error) {
	switch {
	case strings.HasPrefix(sql, "SELECT count(*), coalesce("):
		return one([]string{"count(1)", "coalesce(sum(n_rows), 0)"}, str("2"), str("5")), nil
	case strings.HasPrefix(sql, "SELECT count(*)"):
		return one([]string{"count(1)"}, str("3")), nil
	case strings.HasPrefix(sql, "SELECT max("):
		return one([]string{"max(ts)"}, str("2026-11-21T04:30:00.000Z")), nil
	}
	return one([]string{"k", "n_rows"}, str("x"), str("1")), nil
}

// TestDatabricksSQL pins the statements sent to Databricks SQL, which cannot
// run here. Postgres runs the same shapes in postgres_test.go.
func TestDatabricksSQL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		spec Spec
		want []string
	}{
		{"NotNull", Spec{Table: "silver.orders", NotNull: []string{"order_id"}, Where: "order_status <> 'canceled'"}, []string{
			"SELECT count(*) FROM `silver`.`orders` WHERE (order_status <> 'canceled') AND `order_id` IS NULL",
			"SELECT * FROM `silver`.`orders` WHERE (order_status <> 'canceled') AND `order_id` IS NULL LIMIT 5",
		}},
		{"UniqueComposite", Spec{Table: "main.silver.orders", Unique: []ColumnSet{{"order_id", "customer_id"}}}, []string{
			"SELECT count(*), coalesce(sum(n_rows), 0) FROM (SELECT count(*) AS n_rows FROM `main`.`silver`.`orders` WHERE `order_id` IS NOT NULL AND `customer_id` IS NOT NULL GROUP BY `order_id`, `customer_id` HAVING count(*) > 1) AS duplicates",
			"SELECT `order_id`, `customer_id`, count(*) AS n_rows FROM `main`.`silver`.`orders` WHERE `order_id` IS NOT NULL AND `customer_id` IS NOT NULL GROUP BY `order_id`, `customer_id` HAVING count(*) > 1 ORDER BY count(*) DESC, 1, 2 LIMIT 5",
		}},
		{"AcceptedValues", Spec{Table: "silver.orders", AcceptedValues: []AcceptedValues{{Column: "order_status", Values: []any{"delivered", "it's", `a\b`, float64(3)}}}}, []string{
			"SELECT count(*) FROM `silver`.`orders` WHERE `order_status` IS NOT NULL AND `order_status` NOT IN ('delivered', 'it\\'s', 'a\\\\b', '3')",
			"SELECT `order_status`, count(*) AS n_rows FROM `silver`.`orders` WHERE `order_status` IS NOT NULL AND `order_status` NOT IN ('delivered', 'it\\'s', 'a\\\\b', '3') GROUP BY `order_status` ORDER BY count(*) DESC, 1 LIMIT 5",
		}},
		{"RowCount", Spec{Table: "bronze.orders", RowCount: &RowCount{Min: NewCount(100)}, Where: "_ingested_at > current_date()"}, []string{
			"SELECT count(*) FROM `bronze`.`orders` WHERE (_ingested_at > current_date())",
		}},
		{"Freshness", Spec{Table: "silver.orders", Freshness: &Freshness{Column: "order_purchase_timestamp", MaxAge: "48h"}}, []string{
			"SELECT max(`order_purchase_timestamp`) FROM `silver`.`orders`",
		}},
		{"Relationships", Spec{Table: "silver.order_items", Where: "price > 0", Relationships: []Relationship{{Column: "order_id", To: "silver.orders", Field: "order_id"}}}, []string{
			"SELECT count(*) FROM (SELECT * FROM `silver`.`order_items` WHERE (price > 0)) AS child WHERE child.`order_id` IS NOT NULL AND NOT EXISTS (SELECT 1 FROM `silver`.`orders` AS parent WHERE parent.`order_id` = child.`order_id`)",
			"SELECT child.`order_id`, count(*) AS n_rows FROM (SELECT * FROM `silver`.`order_items` WHERE (price > 0)) AS child WHERE child.`order_id` IS NOT NULL AND NOT EXISTS (SELECT 1 FROM `silver`.`orders` AS parent WHERE parent.`order_id` = child.`order_id`) GROUP BY child.`order_id` ORDER BY count(*) DESC, 1 LIMIT 5",
		}},
		{"Expression", Spec{Table: "silver.order_items", Expression: "price >= 0 AND freight_value >= 0"}, []string{
			"SELECT count(*) FROM `silver`.`order_items` WHERE NOT (price >= 0 AND freight_value >= 0)",
			"SELECT * FROM `silver`.`order_items` WHERE NOT (price >= 0 AND freight_value >= 0) LIMIT 5",
		}},
		{"CustomSQL", Spec{Name: "scd2_one_open_row", SQL: "SELECT customer_id, count(*) FROM silver.customers_history WHERE `__END_AT` IS NULL GROUP BY 1 HAVING count(*) > 1;"}, []string{
			"SELECT count(*) FROM (\nSELECT customer_id, count(*) FROM silver.customers_history WHERE `__END_AT` IS NULL GROUP BY 1 HAVING count(*) > 1\n) AS custom_sql",
			"SELECT * FROM (\nSELECT customer_id, count(*) FROM silver.customers_history WHERE `__END_AT` IS NULL GROUP BY 1 HAVING count(*) > 1\n) AS custom_sql LIMIT 5",
		}},
		{"Quoting", Spec{Table: "`weird``name`.x", NotNull: []string{"a`b; DROP TABLE t"}}, []string{
			"SELECT count(*) FROM `weird``name`.`x` WHERE `a``b; DROP TABLE t` IS NULL",
			"SELECT * FROM `weird``name`.`x` WHERE `a``b; DROP TABLE t` IS NULL LIMIT 5",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := &fakeWarehouse{answer: offenders}
			rep, err := Run(context.Background(), w, Databricks{}, []Check{check(t, tc.spec)}, Options{Now: testNow()})
			require.NoError(t, err)
			require.Equal(t, tc.want, w.seen())
			require.Equal(t, tc.want[0], rep.Results[0].Query)
		})
	}
}

func TestDialects(t *testing.T) {
	t.Parallel()
	t.Run("Postgres", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, `"silver"."orders"`, Postgres{}.QuoteIdent("silver", "orders"))
		require.Equal(t, `"weird ""name"""`, Postgres{}.QuoteIdent(`weird "name"`))
		require.Equal(t, `'it''s'`, Postgres{}.QuoteString("it's"))
		require.Equal(t, `E'a\\''b'`, Postgres{}.QuoteString(`a\'b`))
	})
	t.Run("Databricks", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, "`main`.`silver`.`orders`", Databricks{}.QuoteIdent("main", "silver", "orders"))
		require.Equal(t, "`a``b`", Databricks{}.QuoteIdent("a`b"))
		require.Equal(t, `'it\'s'`, Databricks{}.QuoteString("it's"))
		require.Equal(t, `'a\\\'b'`, Databricks{}.QuoteString(`a\'b`))
	})
}
