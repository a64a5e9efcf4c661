package databricks_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluicedata/sluice/internal/databricks"
	"github.com/sluicedata/sluice/internal/databricks/databrickstest"
)

func TestReadFile(t *testing.T) {
	t.Parallel()

	t.Run("Present", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		srv.PutFile(batchDir+"/_SUCCESS", []byte(`{"batch":7}`))
		got, ok, err := c.ReadFile(context.Background(), batchDir+"/_SUCCESS")
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, `{"batch":7}`, string(got))
		require.Equal(t, []string{"GET /api/2.0/fs/files" + batchDir + "/_SUCCESS"}, srv.APIRequests())
	})

	t.Run("MissingIsNotAnError", func(t *testing.T) {
		t.Parallel()
		c, _ := setup(t)
		got, ok, err := c.ReadFile(context.Background(), batchDir+"/_SUCCESS")
		require.NoError(t, err)
		require.False(t, ok)
		require.Nil(t, got)
	})

	t.Run("ServiceUnavailableRetried", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		srv.PutFile(batchDir+"/_SUCCESS", []byte("x"))
		srv.InjectFault(databrickstest.Fault{Method: http.MethodGet, Path: "/api/2.0/fs/files/*", Status: 503})
		got, ok, err := c.ReadFile(context.Background(), batchDir+"/_SUCCESS")
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, "x", string(got))
		require.Len(t, srv.RequestsTo(http.MethodGet, "/api/2.0/fs/files/*"), 2)
	})

	t.Run("PermissionDeniedSaysWhatToGrant", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		srv.InjectFault(databrickstest.Fault{Path: "/api/2.0/fs/files/*", Status: 403})
		_, _, err := c.ReadFile(context.Background(), batchDir+"/_SUCCESS")
		require.Equal(t, databricks.KindPermissionDenied, databricks.KindOf(err))
		require.Contains(t, err.Error(), "reading "+batchDir+"/_SUCCESS in workspace")
		require.Contains(t, err.Error(), "READ VOLUME")
	})
}

func TestListDirectory(t *testing.T) {
	t.Parallel()

	t.Run("ImmediateEntries", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		srv.PutFile("/Volumes/main/raw/landing/olist/batch=0000000002/_SUCCESS", []byte("{}"))
		srv.PutFile("/Volumes/main/raw/landing/olist/batch=0000000001/a.csv", []byte("a"))
		srv.PutFile("/Volumes/main/raw/landing/olist/notes.txt", []byte("hello"))
		got, err := c.ListDirectory(context.Background(), "/Volumes/main/raw/landing/olist/")
		require.NoError(t, err)
		require.Equal(t, []databricks.DirEntry{
			{Name: "batch=0000000001", Path: "/Volumes/main/raw/landing/olist/batch=0000000001", IsDir: true},
			{Name: "batch=0000000002", Path: "/Volumes/main/raw/landing/olist/batch=0000000002", IsDir: true},
			{Name: "notes.txt", Path: "/Volumes/main/raw/landing/olist/notes.txt", Size: 5},
		}, got)
		require.Equal(t, []string{"GET /api/2.0/fs/directories/Volumes/main/raw/landing/olist"}, srv.APIRequests())
	})

	t.Run("MissingDirectoryIsEmpty", func(t *testing.T) {
		t.Parallel()
		c, _ := setup(t)
		got, err := c.ListDirectory(context.Background(), "/Volumes/main/raw/landing/olist")
		require.NoError(t, err)
		require.Empty(t, got)
	})
}

func TestResolvePipeline(t *testing.T) {
	t.Parallel()
	c, srv := setup(t)
	srv.AddPipeline("p-main", "olist_main_pipeline")
	for range 2 {
		id, err := c.ResolvePipeline(context.Background(), databricks.UpdateRequest{PipelineName: "olist_main_pipeline"})
		require.NoError(t, err)
		require.Equal(t, "p-main", id)
	}
	require.Len(t, srv.RequestsTo(http.MethodGet, "/api/2.0/pipelines"), 1, "the name is looked up once")

	_, err := c.ResolvePipeline(context.Background(), databricks.UpdateRequest{PipelineName: "olist_mian_pipeline", Ref: "sluice.yaml dlt_pipelines.main.databricks.name"})
	require.Equal(t, databricks.KindNotFound, databricks.KindOf(err))
	require.Contains(t, err.Error(), `pipeline "olist_mian_pipeline" not found`)
	require.Contains(t, err.Error(), "sluice.yaml dlt_pipelines.main.databricks.name")
}
