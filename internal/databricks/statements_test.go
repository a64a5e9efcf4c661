package databricks_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluicedata/sluice/internal/databricks"
	"github.com/sluicedata/sluice/internal/databricks/databrickstest"
)

func ptr(s string) *string { return &s }

func TestExecuteStatement(t *testing.T) {
	t.Parallel()

	t.Run("ExactRequestAndChunksInOrder", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		script := databrickstest.LoadStatementScript(t, "statement_result_chunks.json")
		script.States = []string{"PENDING", "RUNNING", "SUCCEEDED"}
		const q = "SELECT order_status, count(*) AS orders, max(order_purchase_timestamp) AS last_purchase FROM orders GROUP BY 1"
		srv.AddStatement(q, script)
		var hb beats[databricks.StatementResume, databricks.StatementProgress]

		res, err := c.ExecuteStatement(context.Background(), databricks.StatementRequest{Statement: q}, nil, hb.record)
		require.NoError(t, err)

		st := srv.Statements()
		require.Len(t, st, 1)
		id := st[0].ID
		require.Equal(t, []string{
			"POST /api/2.0/sql/statements",
			"GET /api/2.0/sql/statements/" + id,
			"GET /api/2.0/sql/statements/" + id,
			"GET /api/2.0/sql/statements/" + id + "/result/chunks/1",
			"GET /api/2.0/sql/statements/" + id + "/result/chunks/2",
		}, srv.APIRequests())
		require.Equal(t, fmt.Sprintf(`{"catalog":"olist","disposition":"INLINE","format":"JSON_ARRAY","on_wait_timeout":"CONTINUE",`+
			`"schema":"silver","statement":%q,"wait_timeout":"10s","warehouse_id":"wh-1"}`, q),
			bodyJSON(t, srv.RequestsTo(http.MethodPost, "/api/2.0/sql/statements")[0]))
		require.Equal(t, "2", srv.RequestsTo(http.MethodGet, "/api/2.0/sql/statements/"+id+"/result/chunks/1")[0].Query.Get("row_offset"))

		require.Equal(t, id, res.StatementID)
		require.Equal(t, []databricks.Column{{Name: "order_status", Type: "STRING"}, {Name: "orders", Type: "LONG"},
			{Name: "last_purchase", Type: "TIMESTAMP"}}, res.Columns)
		require.Equal(t, [][]*string{
			{ptr("delivered"), ptr("96478"), ptr("2018-08-29T15:00:37.000Z")},
			{ptr("shipped"), ptr("1107"), ptr("2018-09-03T09:06:57.000Z")},
			{ptr("canceled"), ptr("625"), nil},
			{ptr(""), ptr("3"), nil},
			{nil, ptr("5"), nil},
		}, res.Rows)
		require.Equal(t, int64(5), res.TotalRowCount)

		resumes, progress := hb.all()
		require.Equal(t, databricks.StatementResume{StatementID: id, WarehouseID: "wh-1"}, resumes[0])
		require.Equal(t, []string{"PENDING", "RUNNING", "SUCCEEDED"}, []string{progress[0].State, progress[1].State, progress[2].State})
	})

	t.Run("RequestOverridesDefaults", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		_, err := c.ExecuteStatement(context.Background(), databricks.StatementRequest{
			Statement: "SELECT 1", WarehouseID: "wh-2", Catalog: "olist_dev", Schema: "gold"}, nil, nil)
		require.NoError(t, err)
		call := srv.Statements()[0].Call
		require.Equal(t, []string{"wh-2", "olist_dev", "gold"}, []string{call.WarehouseID, call.Catalog, call.Schema})
	})

	t.Run("ResumeReattachesWithoutSubmitting", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		srv.AddStatement("SELECT 1", databrickstest.StatementScript{Columns: []databrickstest.Column{{Name: "one", Type: "INT"}},
			Chunks: [][][]*string{{{databrickstest.Str("1")}}}})
		first, err := c.ExecuteStatement(context.Background(), databricks.StatementRequest{Statement: "SELECT 1"}, nil, nil)
		require.NoError(t, err)
		res, err := c.ExecuteStatement(context.Background(), databricks.StatementRequest{Statement: "SELECT 1"},
			&databricks.StatementResume{StatementID: first.StatementID, WarehouseID: "wh-1"}, nil)
		require.NoError(t, err)
		require.Len(t, srv.RequestsTo(http.MethodPost, "/api/2.0/sql/statements"), 1)
		require.True(t, res.Reattached)
		require.Equal(t, [][]*string{{ptr("1")}}, res.Rows)
	})

	t.Run("MissingTable", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		script := databrickstest.LoadStatementScript(t, "statement_failed_table_not_found.json")
		script.States = []string{"RUNNING", "FAILED"}
		srv.AddStatement("SELECT count(*) FROM olist.silver.orders", script)
		_, err := c.ExecuteStatement(context.Background(), databricks.StatementRequest{
			Statement: "SELECT count(*) FROM olist.silver.orders", Ref: "pipelines/olist_daily.yaml:31 quality_checks"}, nil, nil)
		var e *databricks.Error
		require.ErrorAs(t, err, &e)
		require.Equal(t, databricks.KindMissingTable, e.Kind)
		require.Equal(t, "TABLE_OR_VIEW_NOT_FOUND", e.Code)
		require.True(t, databricks.IsPermanent(err))
		require.Equal(t, fmt.Sprintf("statement %s FAILED on warehouse wh-1 in workspace %s: [TABLE_OR_VIEW_NOT_FOUND] The table or view "+
			"`olist`.`silver`.`orders` cannot be found. Verify the spelling and correctness of the schema and catalog.: "+
			"check that the table exists (did its pipeline run?) and the catalog/schema in pipelines/olist_daily.yaml:31 quality_checks",
			srv.Statements()[0].ID, srv.URL), e.Message)
	})

	t.Run("MissingColumn", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		srv.AddStatement("SELECT custmer_id FROM orders", databrickstest.LoadStatementScript(t, "statement_failed_unresolved_column.json"))
		_, err := c.ExecuteStatement(context.Background(), databricks.StatementRequest{Statement: "SELECT custmer_id FROM orders"}, nil, nil)
		var e *databricks.Error
		require.ErrorAs(t, err, &e)
		require.Equal(t, databricks.KindMissingColumn, e.Kind)
		require.Equal(t, "UNRESOLVED_COLUMN.WITH_SUGGESTION", e.Code)
	})

	t.Run("OtherFailureBySQLState", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		srv.AddStatement("SELECT 1/0", databrickstest.StatementScript{States: []string{"FAILED"}, Error: &databrickstest.StatementError{
			ErrorCode: "BAD_REQUEST", Message: "[DIVIDE_BY_ZERO] Division by zero. SQLSTATE: 22012", SQLState: "22012"}})
		srv.AddStatement("SELECT * FROM gone", databrickstest.StatementScript{States: []string{"FAILED"}, Error: &databrickstest.StatementError{
			ErrorCode: "BAD_REQUEST", Message: "Table gone does not exist", SQLState: "42P01"}})
		_, err := c.ExecuteStatement(context.Background(), databricks.StatementRequest{Statement: "SELECT 1/0"}, nil, nil)
		require.Equal(t, databricks.KindFailed, databricks.KindOf(err))
		_, err = c.ExecuteStatement(context.Background(), databricks.StatementRequest{Statement: "SELECT * FROM gone"}, nil, nil)
		require.Equal(t, databricks.KindMissingTable, databricks.KindOf(err))
	})

	t.Run("ContextCancelCancelsStatement", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		srv.AddStatement("SELECT slow()", databrickstest.StatementScript{States: []string{"RUNNING"}})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var hb beats[databricks.StatementResume, databricks.StatementProgress]
		hb.onBeat = func(databricks.StatementResume, databricks.StatementProgress) { cancel() }
		_, err := c.ExecuteStatement(ctx, databricks.StatementRequest{Statement: "SELECT slow()"}, nil, hb.record)
		require.ErrorIs(t, err, context.Canceled)
		id := srv.Statements()[0].ID
		require.Len(t, srv.RequestsTo(http.MethodPost, "/api/2.0/sql/statements/"+id+"/cancel"), 1)
		require.Equal(t, "CANCELED", srv.Statements()[0].State)
	})

	t.Run("CanceledInWorkspace", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		srv.AddStatement("SELECT 2", databrickstest.StatementScript{States: []string{"PENDING", "CANCELED"}})
		_, err := c.ExecuteStatement(context.Background(), databricks.StatementRequest{Statement: "SELECT 2"}, nil, nil)
		require.Equal(t, databricks.KindCanceled, databricks.KindOf(err))
	})

	t.Run("RateLimitedSubmitRetried", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		srv.InjectFault(databrickstest.Fault{Method: http.MethodPost, Path: "/api/2.0/sql/statements", Status: http.StatusTooManyRequests})
		_, err := c.ExecuteStatement(context.Background(), databricks.StatementRequest{Statement: "SELECT 1"}, nil, nil)
		require.NoError(t, err)
		require.Len(t, srv.RequestsTo(http.MethodPost, "/api/2.0/sql/statements"), 2)
		require.Len(t, srv.Statements(), 1)
	})

	t.Run("NoWarehouse", func(t *testing.T) {
		t.Parallel()
		srv := databrickstest.New(t)
		cfg := testConfig(srv.URL)
		cfg.WarehouseID = ""
		c, err := databricks.New(cfg)
		require.NoError(t, err)
		_, err = c.ExecuteStatement(context.Background(), databricks.StatementRequest{Statement: "SELECT 1"}, nil, nil)
		require.Equal(t, databricks.KindInvalid, databricks.KindOf(err))
		require.Empty(t, srv.APIRequests())
	})

	t.Run("UnknownResponseFieldsTolerated", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t, databrickstest.WithUnknownFields())
		srv.AddStatement("SELECT 1", databrickstest.LoadStatementScript(t, "statement_result_chunks.json"))
		res, err := c.ExecuteStatement(context.Background(), databricks.StatementRequest{Statement: "SELECT 1"}, nil, nil)
		require.NoError(t, err)
		require.Len(t, res.Rows, 5)
	})
}

func TestQuerier(t *testing.T) {
	t.Parallel()
	c, srv := setup(t)
	srv.AddStatement("SELECT count(*) AS n, count(order_id) AS non_null FROM orders", databrickstest.StatementScript{
		Columns: []databrickstest.Column{{Name: "n", Type: "LONG"}, {Name: "non_null", Type: "LONG"}},
		Chunks:  [][][]*string{{{databrickstest.Str("10"), nil}}},
	})
	q := c.Querier(databricks.StatementRequest{Catalog: "olist_dev", Schema: "silver"})
	cols, rows, err := q.Query(context.Background(), "SELECT count(*) AS n, count(order_id) AS non_null FROM orders")
	require.NoError(t, err)
	require.Equal(t, []string{"n", "non_null"}, cols)
	require.Equal(t, [][]*string{{ptr("10"), nil}}, rows)
	require.Equal(t, "olist_dev", srv.Statements()[0].Call.Catalog)

	srv.AddStatement("SELECT x FROM missing", databrickstest.LoadStatementScript(t, "statement_failed_table_not_found.json"))
	_, _, err = q.Query(context.Background(), "SELECT x FROM missing")
	require.Equal(t, databricks.KindMissingTable, databricks.KindOf(err))
}
