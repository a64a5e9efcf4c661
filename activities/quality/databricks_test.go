package quality_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluicedata/sluice/activities/databricks/acttest"
	"github.com/sluicedata/sluice/activities/quality"
	"github.com/sluicedata/sluice/internal/databricks/databrickstest"
	iquality "github.com/sluicedata/sluice/internal/quality"
	"github.com/sluicedata/sluice/internal/spec"
)

const checksJSON = `[
  {"table": "silver.orders", "not_null": ["order_id"], "unique": ["order_id"], "row_count": {"min": 100}},
  {"table": "silver.orderz", "not_null": ["order_id"]},
  {"table": "silver.customers", "not_null": ["custmer_id"]},
  {"table": "silver.order_payments", "expression": "payment_value >= 0", "severity": "warn"}
]`

// setupChecks starts a fake warehouse answering the checks' queries as a
// Databricks SQL warehouse would: silver.orderz does not exist, custmer_id
// is misspelled, two payments are negative.
func setupChecks(t *testing.T) (*quality.Activities, *databrickstest.Server, quality.ChecksInput) {
	t.Helper()
	srv := databrickstest.New(t, databrickstest.WithToken(acttest.Token), databrickstest.WithUnknownFields())
	one := func(vals ...string) databrickstest.StatementScript {
		s := databrickstest.StatementScript{States: []string{"SUCCEEDED"}}
		row := make([]*string, len(vals))
		for i, v := range vals {
			s.Columns = append(s.Columns, databrickstest.Column{Name: "c" + string(rune('0'+i)), Type: "LONG"})
			row[i] = databrickstest.Str(v)
		}
		s.Chunks = [][][]*string{{row}}
		return s
	}
	srv.HandleStatements(func(c databrickstest.StatementCall) (databrickstest.StatementScript, bool) {
		q := c.Statement
		switch {
		case strings.Contains(q, "`silver`.`orderz`"):
			return databrickstest.LoadStatementScript(t, "statement_failed_table_not_found.json"), true
		case strings.Contains(q, "`custmer_id`"):
			return databrickstest.LoadStatementScript(t, "statement_failed_unresolved_column.json"), true
		case strings.HasPrefix(q, "SELECT count(*), coalesce"):
			return one("0", "0"), true
		case q == "SELECT count(*) FROM `silver`.`orders`":
			return one("120"), true
		case q == "SELECT count(*) FROM `silver`.`order_payments` WHERE NOT (payment_value >= 0)":
			return one("2"), true
		case strings.HasPrefix(q, "SELECT * FROM `silver`.`order_payments`"):
			return databrickstest.StatementScript{
				States:  []string{"SUCCEEDED"},
				Columns: []databrickstest.Column{{Name: "order_id", Type: "STRING"}, {Name: "payment_value", Type: "DECIMAL"}},
				Chunks:  [][][]*string{{{databrickstest.Str("o1"), databrickstest.Str("-1.00")}}, {{databrickstest.Str("o2"), nil}}},
			}, true
		case strings.HasPrefix(q, "SELECT count(*) FROM"):
			return one("0"), true
		}
		return databrickstest.StatementScript{}, false
	})
	var checks []iquality.Spec
	require.NoError(t, json.Unmarshal([]byte(checksJSON), &checks))
	acts := &quality.Activities{Runner: acttest.Runner(), Databricks: acttest.Clients()}
	return acts, srv, quality.ChecksInput{Meta: acttest.Meta(srv.URL, "quality_checks", "quality_checks"), Config: spec.QualityChecksConfig{Checks: checks}}
}

func TestRunChecksDatabricks(t *testing.T) {
	t.Parallel()

	t.Run("SameChecksAsTheLocalEngine", func(t *testing.T) {
		t.Parallel()
		acts, srv, in := setupChecks(t)
		env, _ := acttest.Env(t, acts)
		_, err := env.ExecuteActivity(acts.RunChecks, in)
		typ, msg, f := acttest.Failure(t, err)
		require.Equal(t, quality.ErrChecksFailed, typ)
		require.False(t, f.Retryable)
		require.Equal(t, "2 of 6 checks failed: ERROR silver.orderz: not_null(order_id): table silver.orderz does not exist in the warehouse: check the table name or that the upstream pipeline created it (and 1 more)", msg)
		require.Equal(t, strings.Join([]string{
			"ERROR silver.orderz: not_null(order_id): table silver.orderz does not exist in the warehouse: check the table name or that the upstream pipeline created it",
			"ERROR silver.customers: not_null(custmer_id): column custmer_id does not exist in table silver.customers: check the column name or that the upstream pipeline created it",
			"WARN silver.order_payments: expression(payment_value >= 0): 2 rows violate payment_value >= 0",
		}, "\n"), f.Detail)

		var queries []string
		for _, s := range srv.Statements() {
			require.Equal(t, "wh-1", s.Call.WarehouseID)
			require.Equal(t, "olist", s.Call.Catalog)
			require.Equal(t, "silver", s.Call.Schema)
			queries = append(queries, s.Call.Statement)
		}
		require.Equal(t, []string{
			"SELECT count(*) FROM `silver`.`orders` WHERE `order_id` IS NULL",
			"SELECT count(*), coalesce(sum(n_rows), 0) FROM (SELECT count(*) AS n_rows FROM `silver`.`orders` WHERE `order_id` IS NOT NULL GROUP BY `order_id` HAVING count(*) > 1) AS duplicates",
			"SELECT count(*) FROM `silver`.`orders`",
			"SELECT count(*) FROM `silver`.`orderz` WHERE `order_id` IS NULL",
			"SELECT count(*) FROM `silver`.`customers` WHERE `custmer_id` IS NULL",
			"SELECT count(*) FROM `silver`.`order_payments` WHERE NOT (payment_value >= 0)",
			"SELECT * FROM `silver`.`order_payments` WHERE NOT (payment_value >= 0) LIMIT 5",
		}, queries)
	})

	t.Run("PassingChecksSucceed", func(t *testing.T) {
		t.Parallel()
		acts, _, in := setupChecks(t)
		in.Config.Checks = in.Config.Checks[:1]
		in.Config.Catalog = "olist_dev"
		res, _, err := acttest.Execute[quality.ChecksResult](t, acts, acts.RunChecks, in)
		require.NoError(t, err)
		require.Equal(t, 3, res.Passed)
		require.Equal(t, "row count 120 is within bounds (min 100)", res.Checks[2].Message)
	})

	t.Run("UnreachableWarehouseIsRetryable", func(t *testing.T) {
		t.Parallel()
		acts, srv, in := setupChecks(t)
		srv.InjectFault(databrickstest.Fault{Method: http.MethodPost, Path: "/api/2.0/sql/statements", Status: 503, Times: -1})
		env, _ := acttest.Env(t, acts)
		_, err := env.ExecuteActivity(acts.RunChecks, in)
		typ, msg, f := acttest.Failure(t, err)
		require.Equal(t, quality.ErrUnavailable, typ)
		require.True(t, f.Retryable)
		require.Contains(t, msg, "submitting a statement to warehouse wh-1")
	})

	t.Run("WarehouseNotFoundIsPermanent", func(t *testing.T) {
		t.Parallel()
		acts, srv, in := setupChecks(t)
		srv.InjectFault(databrickstest.Fault{Method: http.MethodPost, Path: "/api/2.0/sql/statements", Status: 404,
			ErrorCode: "RESOURCE_DOES_NOT_EXIST", Message: "SQL warehouse wh-1 does not exist."})
		env, _ := acttest.Env(t, acts)
		_, err := env.ExecuteActivity(acts.RunChecks, in)
		typ, msg, f := acttest.Failure(t, err)
		require.Equal(t, "DatabricksNotFound", typ)
		require.False(t, f.Retryable)
		require.Contains(t, msg, "not found (HTTP 404 RESOURCE_DOES_NOT_EXIST: SQL warehouse wh-1 does not exist.): check task quality_checks with.checks")
	})
}
