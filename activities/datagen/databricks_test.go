package datagen_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicedata/sluice/activities/databricks/acttest"
	"github.com/sluicedata/sluice/activities/datagen"
	"github.com/sluicedata/sluice/internal/databricks/databrickstest"
	idatagen "github.com/sluicedata/sluice/internal/datagen"
	"github.com/sluicedata/sluice/internal/spec"
)

const batchDir = "/Volumes/olist/landing/raw/olist/batch=0020261122"

func setupGenerate(t *testing.T) (*datagen.Activities, *databrickstest.Server, datagen.GenerateInput) {
	t.Helper()
	srv := databrickstest.New(t, databrickstest.WithToken(acttest.Token), databrickstest.WithUnknownFields())
	acts := &datagen.Activities{Runner: acttest.Runner(), Databricks: acttest.Clients()}
	in := datagen.GenerateInput{
		Meta:   acttest.Meta(srv.URL, "generate_data", "generate_data"),
		Config: spec.GenerateDataConfig{Dataset: "olist", Orders: 40, MalformedRate: 0.05},
	}
	return acts, srv, in
}

func generate(t *testing.T, acts *datagen.Activities, in datagen.GenerateInput) (datagen.GenerateResult, error) {
	t.Helper()
	res, _, err := acttest.Execute[datagen.GenerateResult](t, acts, acts.Generate, in)
	return res, err
}

func TestGenerateDatabricks(t *testing.T) {
	t.Parallel()

	t.Run("FilesThenManifestMarker", func(t *testing.T) {
		t.Parallel()
		acts, srv, in := setupGenerate(t)
		res, err := generate(t, acts, in)
		require.NoError(t, err)

		// The same batch generated locally: the generator is deterministic.
		local := t.TempDir()
		want, err := idatagen.Generate(context.Background(), local, datagen.Config(in.Config, in.Meta.LogicalDate), nil)
		require.NoError(t, err)

		var wantReqs []string
		wantReqs = append(wantReqs, "GET /api/2.0/fs/files"+batchDir+"/_SUCCESS", "HEAD /api/2.0/fs/files"+batchDir+"/_SUCCESS")
		var wantFiles []string
		for _, f := range want.Files {
			name := filepath.Base(f.Path)
			wantReqs = append(wantReqs, "PUT /api/2.0/fs/files"+batchDir+"/"+name)
			wantFiles = append(wantFiles, batchDir+"/"+name)
			got, ok := srv.File(batchDir + "/" + name)
			require.True(t, ok, name)
			b, err := os.ReadFile(filepath.Join(local, filepath.FromSlash(f.Path)))
			require.NoError(t, err)
			require.Equal(t, string(b), string(got), name)
		}
		wantReqs = append(wantReqs, "PUT /api/2.0/fs/files"+batchDir+"/_SUCCESS",
			"GET /api/2.0/fs/directories/Volumes/olist/landing/raw/olist")
		require.Len(t, want.Files, 12)
		require.Equal(t, wantReqs, srv.APIRequests(), "files first, the marker last")

		marker, ok := srv.File(batchDir + "/_SUCCESS")
		require.True(t, ok)
		manifest, err := os.ReadFile(filepath.Join(local, filepath.FromSlash(want.Dir), "_manifest.json"))
		require.NoError(t, err)
		require.Equal(t, string(manifest), string(marker), "the marker is the batch manifest")

		require.Equal(t, datagen.GenerateResult{
			Dataset: "olist", Batch: 20261122, Dir: batchDir, Orders: 40,
			Rows: want.Rows, Malformed: want.Malformed, Totals: want.Rows, Files: wantFiles,
			DurationMS: res.DurationMS,
		}, res)
	})

	t.Run("CommittedBatchIsNeverWrittenTwice", func(t *testing.T) {
		t.Parallel()
		acts, srv, in := setupGenerate(t)
		first, err := generate(t, acts, in)
		require.NoError(t, err)
		puts := len(srv.RequestsTo(http.MethodPut, "*"))
		second, err := generate(t, acts, in)
		require.NoError(t, err)
		require.Len(t, srv.RequestsTo(http.MethodPut, "*"), puts, "nothing uploaded the second time")
		require.True(t, second.AlreadyWritten)
		require.Equal(t, first.Rows, second.Rows)
		require.Equal(t, first.Totals, second.Totals)
		require.Equal(t, first.Files, second.Files)
	})

	t.Run("TotalsCountEveryCommittedBatch", func(t *testing.T) {
		t.Parallel()
		acts, srv, in := setupGenerate(t)
		day1 := in
		day1.Meta.LogicalDate = time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
		r1, err := generate(t, acts, day1)
		require.NoError(t, err)
		// A batch without its marker was never committed: it does not count.
		srv.PutFile("/Volumes/olist/landing/raw/olist/batch=0020261120/olist_orders_dataset.csv", []byte("order_id\n"))
		r2, err := generate(t, acts, in)
		require.NoError(t, err)
		require.Equal(t, int64(20261122), r2.Batch)
		for table, n := range r2.Rows {
			require.Equal(t, r1.Rows[table]+n, r2.Totals[table], table)
		}
	})

	t.Run("HalfUploadedBatchIsCompleted", func(t *testing.T) {
		t.Parallel()
		acts, srv, in := setupGenerate(t)
		srv.PutFile(batchDir+"/olist_orders_dataset.csv", []byte(`"order_id","cust`)) // torn by a crash
		res, err := generate(t, acts, in)
		require.NoError(t, err)
		require.False(t, res.AlreadyWritten)
		got, _ := srv.File(batchDir + "/olist_orders_dataset.csv")
		require.True(t, strings.HasPrefix(string(got), `"order_id","customer_id","order_status"`), string(got[:40]))
		_, ok := srv.File(batchDir + "/_SUCCESS")
		require.True(t, ok)
	})

	t.Run("NoVolumeIsAConfigError", func(t *testing.T) {
		t.Parallel()
		acts, srv, in := setupGenerate(t)
		in.Meta.Target.Volume = ""
		_, err := generate(t, acts, in)
		typ, msg, _ := acttest.Failure(t, err)
		require.Equal(t, "ConfigInvalid", typ)
		require.Equal(t, "environment prod has no volume for generate_data: set databricks: {volume: /Volumes/<catalog>/<schema>/<volume>} in environments.prod of sluice.yaml", msg)
		require.Empty(t, srv.APIRequests())
	})

	t.Run("PermissionDeniedOnTheVolume", func(t *testing.T) {
		t.Parallel()
		acts, srv, in := setupGenerate(t)
		srv.InjectFault(databrickstest.Fault{Method: http.MethodPut, Path: "/api/2.0/fs/files/*", Status: 403,
			Message: "User does not have WRITE VOLUME on Volume 'olist.landing.raw'."})
		_, err := generate(t, acts, in)
		typ, msg, f := acttest.Failure(t, err)
		require.Equal(t, "DatabricksPermissionDenied", typ)
		require.False(t, f.Retryable)
		require.Contains(t, msg, "permission denied (HTTP 403 PERMISSION_DENIED: User does not have WRITE VOLUME on Volume 'olist.landing.raw'.)")
		_, ok := srv.File(batchDir + "/_SUCCESS")
		require.False(t, ok, "no marker for a batch that failed")
	})
}

func TestManifestMatchesResult(t *testing.T) {
	t.Parallel()
	// The marker is read back as an internal/datagen Result: its JSON
	// fields must carry rows and files.
	dir := t.TempDir()
	res, err := idatagen.Generate(context.Background(), dir, idatagen.Config{Batch: 7, Orders: 10}, nil)
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(res.Dir), "_manifest.json"))
	require.NoError(t, err)
	var back idatagen.Result
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, res.Rows, back.Rows)
	require.Equal(t, res.Files, back.Files)
	require.Equal(t, res.Dir, back.Dir)
}
