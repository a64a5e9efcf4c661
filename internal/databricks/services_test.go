package databricks_test

import (
	"context"
	"testing"

	"github.com/databricks/databricks-sdk-go/service/sql"
	"github.com/stretchr/testify/require"

	"github.com/sluicedata/sluice/internal/databricks"
)

// chunkOnlyStatements is a service-level fake: a statement that succeeds
// with no inline chunk, so the client must fetch chunk 0 itself, and whose
// chunks link by index only.
type chunkOnlyStatements struct {
	links []string
}

func (f *chunkOnlyStatements) ExecuteStatement(context.Context, sql.ExecuteStatementRequest) (*databricks.StatementResponse, error) {
	return &databricks.StatementResponse{StatementID: "s-1", Status: &sql.StatementStatus{State: sql.StatementStatePending}}, nil
}

func (f *chunkOnlyStatements) GetStatement(context.Context, string) (*databricks.StatementResponse, error) {
	return &databricks.StatementResponse{
		StatementID: "s-1",
		Status:      &sql.StatementStatus{State: sql.StatementStateSucceeded},
		Manifest: &sql.ResultManifest{TotalChunkCount: 2, TotalRowCount: 2, Schema: &sql.ResultSchema{
			Columns: []sql.ColumnInfo{{Name: "b", TypeName: sql.ColumnInfoTypeNameString, Position: 1},
				{Name: "a", TypeName: sql.ColumnInfoTypeNameInt, Position: 0}}}},
	}, nil
}

func (f *chunkOnlyStatements) GetResultChunk(_ context.Context, link string) (*databricks.ResultChunk, error) {
	f.links = append(f.links, link)
	one := 1
	if len(f.links) == 1 {
		return &databricks.ResultChunk{DataArray: [][]*string{{ptr("1"), nil}}, NextChunkIndex: &one}, nil
	}
	return &databricks.ResultChunk{ChunkIndex: 1, DataArray: [][]*string{{ptr("2"), ptr("x")}}}, nil
}

func (f *chunkOnlyStatements) CancelExecution(context.Context, string) error { return nil }

func TestServiceLevelFake(t *testing.T) {
	t.Parallel()
	fake := &chunkOnlyStatements{}
	cfg := testConfig("https://adb-1.2.azuredatabricks.net")
	c, err := databricks.NewWithServices(cfg, databricks.Services{Statements: fake})
	require.NoError(t, err)
	res, err := c.ExecuteStatement(context.Background(), databricks.StatementRequest{Statement: "SELECT 1"}, nil, nil)
	require.NoError(t, err)
	require.Equal(t, []string{"/api/2.0/sql/statements/s-1/result/chunks/0", "/api/2.0/sql/statements/s-1/result/chunks/1"}, fake.links)
	require.Equal(t, []string{"a", "b"}, res.ColumnNames(), "columns are ordered by position")
	require.Equal(t, [][]*string{{ptr("1"), nil}, {ptr("2"), ptr("x")}}, res.Rows)
}
