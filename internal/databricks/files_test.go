package databricks_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluicedata/sluice/internal/databricks"
	"github.com/sluicedata/sluice/internal/databricks/databrickstest"
)

const batchDir = "/Volumes/olist_dev/raw/landing/batch=0007"

// localBatch writes two CSV files and returns them as a batch.
func localBatch(t *testing.T) []databricks.LocalFile {
	t.Helper()
	dir := t.TempDir()
	orders := filepath.Join(dir, "orders.csv")
	items := filepath.Join(dir, "items.csv")
	require.NoError(t, os.WriteFile(orders, []byte("order_id,customer_id\no1,c1\n"), 0o600))
	require.NoError(t, os.WriteFile(items, []byte("order_id,order_item_id\no1,1\n"), 0o600))
	return []databricks.LocalFile{
		{Path: orders, Name: "orders/orders_0007.csv"},
		{Path: items, Name: "order_items/order_items_0007.csv"},
	}
}

func TestUploadBatch(t *testing.T) {
	t.Parallel()

	t.Run("FilesThenMarker", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		err := c.UploadBatch(context.Background(), batchDir, localBatch(t), []byte(`{"files":2}`))
		require.NoError(t, err)
		require.Equal(t, []string{
			"HEAD /api/2.0/fs/files" + batchDir + "/_SUCCESS",
			"PUT /api/2.0/fs/files" + batchDir + "/orders/orders_0007.csv",
			"PUT /api/2.0/fs/files" + batchDir + "/order_items/order_items_0007.csv",
			"PUT /api/2.0/fs/files" + batchDir + "/_SUCCESS",
		}, srv.APIRequests())
		for _, r := range srv.RequestsTo(http.MethodPut, "*") {
			require.Equal(t, "true", r.Query.Get("overwrite"), r.Path)
		}
		got, ok := srv.File(batchDir + "/orders/orders_0007.csv")
		require.True(t, ok)
		require.Equal(t, "order_id,customer_id\no1,c1\n", string(got))
		marker, ok := srv.File(batchDir + "/_SUCCESS")
		require.True(t, ok)
		require.Equal(t, `{"files":2}`, string(marker))
	})

	t.Run("MarkerPresentUploadsNothing", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		srv.PutFile(batchDir+"/_SUCCESS", []byte("done"))
		require.NoError(t, c.UploadBatch(context.Background(), batchDir, localBatch(t), []byte("new")))
		require.Equal(t, []string{"HEAD /api/2.0/fs/files" + batchDir + "/_SUCCESS"}, srv.APIRequests())
		marker, _ := srv.File(batchDir + "/_SUCCESS")
		require.Equal(t, "done", string(marker))
	})

	t.Run("HalfUploadedBatchCompleted", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		srv.PutFile(batchDir+"/orders/orders_0007.csv", []byte("order_id,cust")) // torn by a crash
		require.NoError(t, c.UploadBatch(context.Background(), batchDir, localBatch(t), nil))
		got, _ := srv.File(batchDir + "/orders/orders_0007.csv")
		require.Equal(t, "order_id,customer_id\no1,c1\n", string(got))
		marker, ok := srv.File(batchDir + "/_SUCCESS")
		require.True(t, ok)
		require.Empty(t, marker)
	})

	t.Run("ServerErrorRetriedAndMarkerStillLast", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		srv.InjectFault(databrickstest.Fault{Method: http.MethodPut, Path: "/api/2.0/fs/files" + batchDir + "/order_items/*",
			Status: http.StatusInternalServerError})
		require.NoError(t, c.UploadBatch(context.Background(), batchDir, localBatch(t), nil))
		reqs := srv.APIRequests()
		require.Len(t, reqs, 5)
		require.Equal(t, "PUT /api/2.0/fs/files"+batchDir+"/_SUCCESS", reqs[len(reqs)-1])
	})

	t.Run("FailedFileLeavesNoMarker", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		srv.InjectFault(databrickstest.Fault{Method: http.MethodPut, Path: "/api/2.0/fs/files" + batchDir + "/order_items/*",
			Status: http.StatusForbidden, Message: "User does not have WRITE VOLUME on Volume 'olist_dev.raw.landing'."})
		err := c.UploadBatch(context.Background(), batchDir, localBatch(t), nil)
		require.Equal(t, databricks.KindPermissionDenied, databricks.KindOf(err))
		_, ok := srv.File(batchDir + "/_SUCCESS")
		require.False(t, ok, "a reader must never see the marker of a half batch")
	})

	t.Run("RejectsBadPaths", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		for _, p := range []string{"/tmp/landing", "/Volumes/olist_dev/raw", "Volumes/a/b/c/d", "/Volumes/a/b/../c/d"} {
			err := c.UploadBatch(context.Background(), p, nil, nil)
			require.Equal(t, databricks.KindInvalid, databricks.KindOf(err), p)
		}
		for _, name := range []string{"../escape.csv", "/abs.csv", "_SUCCESS", "a/../b.csv", ""} {
			err := c.UploadBatch(context.Background(), batchDir, []databricks.LocalFile{{Path: "x", Name: name}}, nil)
			require.Equal(t, databricks.KindInvalid, databricks.KindOf(err), name)
		}
		require.Empty(t, srv.RequestsTo(http.MethodPut, "*"))
	})

	t.Run("MissingLocalFile", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		err := c.UploadBatch(context.Background(), batchDir,
			[]databricks.LocalFile{{Path: filepath.Join(t.TempDir(), "nope.csv"), Name: "nope.csv"}}, nil)
		require.Equal(t, databricks.KindInvalid, databricks.KindOf(err))
		require.Contains(t, err.Error(), "uploading "+batchDir+"/nope.csv: reading local file: open ")
		require.Empty(t, srv.RequestsTo(http.MethodPut, "*"))
	})
}
