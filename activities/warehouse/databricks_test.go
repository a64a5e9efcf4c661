package warehouse_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"

	"github.com/sluicedata/sluice/activities/databricks/acttest"
	"github.com/sluicedata/sluice/activities/warehouse"
	"github.com/sluicedata/sluice/internal/databricks/databrickstest"
	"github.com/sluicedata/sluice/internal/spec"
)

const (
	createSQL = "CREATE OR REPLACE TABLE gold.daily_sales AS\nSELECT order_date, sum(price) AS sales FROM silver.order_items GROUP BY order_date"
	insertSQL = "INSERT INTO gold.audit VALUES ('2026-11-22', 'daily_sales; rebuilt')"
	optimize  = "OPTIMIZE gold.daily_sales"
)

// setupSQL starts a fake workspace and returns a sql task input running
// testdata/databricks/sql/build.sql and one inline statement.
func setupSQL(t *testing.T) (*warehouse.Activities, *databrickstest.Server, warehouse.SQLInput) {
	t.Helper()
	srv := databrickstest.New(t, databrickstest.WithToken(acttest.Token), databrickstest.WithUnknownFields())
	srv.AddStatement(insertSQL, databrickstest.StatementScript{
		States:  []string{"PENDING", "RUNNING", "SUCCEEDED"},
		Columns: []databrickstest.Column{{Name: "num_affected_rows", Type: "LONG"}, {Name: "num_inserted_rows", Type: "LONG"}},
		Chunks:  [][][]*string{{{databrickstest.Str("1"), databrickstest.Str("1")}}},
	})
	m := acttest.Meta(srv.URL, "build", "sql")
	m.Target.ProjectDir = "testdata/databricks"
	acts := &warehouse.Activities{Runner: acttest.Runner(), Databricks: acttest.Clients()}
	return acts, srv, warehouse.SQLInput{Meta: m, Config: spec.SQLConfig{Files: []string{"sql/build.sql"}, Statements: []string{optimize + ";"}}}
}

func runSQL(t *testing.T, acts *warehouse.Activities, in warehouse.SQLInput) (warehouse.SQLResult, error) {
	t.Helper()
	res, _, err := acttest.Execute[warehouse.SQLResult](t, acts, acts.RunSQL, in)
	return res, err
}

func statementTexts(srv *databrickstest.Server) []string {
	var out []string
	for _, s := range srv.Statements() {
		out = append(out, s.Call.Statement)
	}
	return out
}

func TestRunSQLDatabricks(t *testing.T) {
	t.Parallel()

	t.Run("OneRequestPerStatementInOrder", func(t *testing.T) {
		t.Parallel()
		acts, srv, in := setupSQL(t)
		res, err := runSQL(t, acts, in)
		require.NoError(t, err)
		require.Equal(t, []string{createSQL, insertSQL, optimize}, statementTexts(srv))
		for _, s := range srv.Statements() {
			require.Equal(t, databrickstest.StatementCall{Statement: s.Call.Statement, WarehouseID: "wh-1", Catalog: "olist", Schema: "silver",
				WaitTimeout: "10s", OnWaitTimeout: "CONTINUE", Disposition: "INLINE", Format: "JSON_ARRAY"}, s.Call)
		}
		require.Equal(t, 3, res.Statements)
		require.Equal(t, int64(1), res.RowsAffected)
		require.Equal(t, "olist", res.Catalog)
		require.Equal(t, []warehouse.FileResult{
			{Source: "sql/build.sql", Statements: 2, RowsAffected: 1},
			{Source: "statements[0]", Statements: 1},
		}, res.Files)
	})

	t.Run("CatalogAndSchemaOfTheTask", func(t *testing.T) {
		t.Parallel()
		acts, srv, in := setupSQL(t)
		in.Config.Catalog, in.Config.Schema = "olist_dev", "gold"
		_, err := runSQL(t, acts, in)
		require.NoError(t, err)
		for _, s := range srv.Statements() {
			require.Equal(t, "olist_dev", s.Call.Catalog)
			require.Equal(t, "gold", s.Call.Schema)
		}
	})

	t.Run("FailedStatementNamesFileAndLine", func(t *testing.T) {
		t.Parallel()
		acts, srv, in := setupSQL(t)
		srv.AddStatement(insertSQL, databrickstest.LoadStatementScript(t, "statement_failed_table_not_found.json"))
		_, err := runSQL(t, acts, in)
		typ, msg, f := acttest.Failure(t, err)
		require.Equal(t, "SQLError", typ)
		require.False(t, f.Retryable)
		id := srv.Statements()[1].ID
		require.Equal(t, "sql/build.sql:5: statement "+id+" FAILED on warehouse wh-1 in workspace "+srv.URL+
			": [TABLE_OR_VIEW_NOT_FOUND] The table or view `olist`.`silver`.`orders` cannot be found. Verify the spelling and correctness of the schema and catalog."+
			": check that the table exists (did its pipeline run?) and the catalog/schema in task build, sql/build.sql:5", msg)
		require.Equal(t, []string{createSQL, insertSQL}, statementTexts(srv), "nothing runs after a failed statement")
	})

	t.Run("RetryOfTheRunSkipsFinishedStatements", func(t *testing.T) {
		t.Parallel()
		acts, srv, in := setupSQL(t)
		srv.AddStatement(insertSQL, databrickstest.LoadStatementScript(t, "statement_failed_table_not_found.json"))
		_, err := runSQL(t, acts, in)
		_, _, f := acttest.Failure(t, err)
		var resume map[string]any
		require.NoError(t, json.Unmarshal(f.Resume, &resume))
		require.Equal(t, float64(1), resume["done"])

		srv.AddStatement(insertSQL, databrickstest.StatementScript{})
		in.Meta.Attempt, in.Meta.Resume = 2, f.Resume
		res, err := runSQL(t, acts, in)
		require.NoError(t, err)
		require.Equal(t, []string{createSQL, insertSQL, insertSQL, optimize}, statementTexts(srv))
		require.Equal(t, 2, res.Statements, "the statements this attempt ran")

		in.Meta.RunID = "run-2" // a repair: another run starts over
		_, err = runSQL(t, acts, in)
		require.NoError(t, err)
		require.Len(t, srv.Statements(), 7)
	})

	t.Run("RateLimitedSubmitRetried", func(t *testing.T) {
		t.Parallel()
		acts, srv, in := setupSQL(t)
		srv.InjectFault(databrickstest.Fault{Method: http.MethodPost, Path: "/api/2.0/sql/statements", Status: 429})
		res, err := runSQL(t, acts, in)
		require.NoError(t, err)
		require.Equal(t, 3, res.Statements)
		require.Len(t, srv.RequestsTo(http.MethodPost, "/api/2.0/sql/statements"), 4)
	})

	t.Run("CancelCancelsTheStatement", func(t *testing.T) {
		t.Parallel()
		acts, srv, in := setupSQL(t)
		running := make([]string, 1000)
		for i := range running {
			running[i] = "RUNNING"
		}
		srv.AddStatement(createSQL, databrickstest.StatementScript{States: running})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		env, _ := acttest.Env(t, acts)
		env.SetWorkerOptions(worker.Options{BackgroundActivityContext: ctx})
		go func() {
			for ctx.Err() == nil {
				if len(srv.RequestsTo(http.MethodGet, "/api/2.0/sql/statements/*")) >= 3 {
					cancel()
					return
				}
				time.Sleep(time.Millisecond)
			}
		}()
		_, err := env.ExecuteActivity(acts.RunSQL, in)
		var ce *temporal.CanceledError
		require.True(t, errors.As(err, &ce), "want a cancellation, got %v", err)
		st := srv.Statements()
		require.Len(t, st, 1)
		require.True(t, st[0].Canceled)
	})

	t.Run("TransactionIsRefused", func(t *testing.T) {
		t.Parallel()
		acts, srv, in := setupSQL(t)
		yes := true
		in.Config.Transaction = &yes
		_, err := runSQL(t, acts, in)
		typ, msg, _ := acttest.Failure(t, err)
		require.Equal(t, "ConfigInvalid", typ)
		require.Contains(t, msg, "task build: transaction: true is not supported on engine databricks")
		require.Empty(t, srv.Statements())
	})

	t.Run("UnterminatedStringNamesTheLine", func(t *testing.T) {
		t.Parallel()
		acts, srv, in := setupSQL(t)
		in.Config = spec.SQLConfig{Statements: []string{"SELECT 1;\nSELECT 'oops"}}
		_, err := runSQL(t, acts, in)
		typ, msg, _ := acttest.Failure(t, err)
		require.Equal(t, "SQLError", typ)
		require.Equal(t, "statements[0]:2: unterminated string literal: close it with '", msg)
		require.Empty(t, srv.Statements())
	})
}
