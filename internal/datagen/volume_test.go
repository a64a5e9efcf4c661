package datagen

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// datasetEntries lists the names in <vol>/<dataset>, sorted.
func datasetEntries(t *testing.T, vol, dataset string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(vol, dataset))
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

func TestAtomicity(t *testing.T) {
	t.Parallel()

	t.Run("SecondGenerateWritesNothing", func(t *testing.T) {
		t.Parallel()
		cfg := Config{Batch: 20261122, Orders: 200}
		vol, first := generate(t, cfg)
		dir := filepath.Join(vol, "olist", "batch=0020261122")
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		require.Len(t, entries, 13, "12 CSV files and the manifest")
		old := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
		contents := map[string][]byte{}
		for _, e := range entries {
			p := filepath.Join(dir, e.Name())
			require.NoError(t, os.Chtimes(p, old, old))
			b, err := os.ReadFile(p)
			require.NoError(t, err)
			contents[e.Name()] = b
		}

		again, err := Generate(context.Background(), vol, cfg, nil)
		require.NoError(t, err)
		require.True(t, again.AlreadyWritten)
		require.False(t, first.AlreadyWritten)
		first.AlreadyWritten = true
		require.Equal(t, first, again, "the retry returns the batch's manifest")

		for name, b := range contents {
			p := filepath.Join(dir, name)
			st, err := os.Stat(p)
			require.NoError(t, err)
			require.True(t, st.ModTime().Equal(old), "%s was rewritten (mtime %s)", name, st.ModTime())
			now, err := os.ReadFile(p)
			require.NoError(t, err)
			require.Equal(t, b, now, name)
		}
		require.Equal(t, []string{".batch=0020261122.lock", "batch=0020261122"}, datasetEntries(t, vol, "olist"))
	})

	t.Run("DifferentConfigSameBatchKeepsTheFirst", func(t *testing.T) {
		t.Parallel()
		vol, first := generate(t, Config{Batch: 5, Orders: 100})
		again, err := Generate(context.Background(), vol, Config{Batch: 5, Orders: 300}, nil)
		require.NoError(t, err)
		require.True(t, again.AlreadyWritten)
		require.Equal(t, 100, again.Config.Orders, "the committed batch's config is reported")
		require.Equal(t, first.Rows, again.Rows)
	})

	t.Run("CancelledBeforeStart", func(t *testing.T) {
		t.Parallel()
		vol := t.TempDir()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := Generate(ctx, vol, Config{Batch: 1, Orders: 100}, nil)
		require.ErrorIs(t, err, context.Canceled)
		for _, name := range datasetEntries(t, vol, "olist") {
			require.False(t, strings.HasPrefix(name, "batch=") || strings.HasPrefix(name, ".tmp-"), "left %s behind", name)
		}
	})

	for _, tc := range []struct {
		name   string
		orders int
		table  string // cancel when progress reports this table
	}{
		{"CancelledAfterSellers", 300, TableSellers},
		{"CancelledInsideOrderStream", 120_000, TableOrders}, // reported at 50k orders, mid-stream
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			vol := t.TempDir()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var reports []Progress
			_, err := Generate(ctx, vol, Config{Batch: 2, Orders: tc.orders}, func(p Progress) {
				reports = append(reports, p)
				if p.Table == tc.table {
					cancel()
				}
			})
			require.ErrorIs(t, err, context.Canceled)
			require.Equal(t, tc.table, reports[len(reports)-1].Table, "no progress after the cancel")
			if tc.table == TableOrders {
				require.Less(t, reports[len(reports)-1].Orders, int64(tc.orders), "cancelled mid-stream")
			}
			require.Equal(t, []string{".batch=0000000002.lock"}, datasetEntries(t, vol, "olist"), "no batch dir and no temp dir")

			res, err := Generate(context.Background(), vol, Config{Batch: 2, Orders: 300}, nil)
			require.NoError(t, err, "a retry after the cancel succeeds")
			require.False(t, res.AlreadyWritten)
		})
	}

	t.Run("StaleTempDirRemoved", func(t *testing.T) {
		t.Parallel()
		vol := t.TempDir()
		ds := filepath.Join(vol, "olist")
		stale := filepath.Join(ds, ".tmp-batch=0000000003-crashed")
		other := filepath.Join(ds, ".tmp-batch=0000000004-inflight")
		for _, d := range []string{stale, other} {
			require.NoError(t, os.MkdirAll(d, 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(d, "olist_orders_dataset.csv"), []byte("half"), 0o644))
		}
		_, err := Generate(context.Background(), vol, Config{Batch: 3, Orders: 50}, nil)
		require.NoError(t, err)
		require.NoDirExists(t, stale)
		require.DirExists(t, other, "temp dirs of other batches are left alone")
		require.Equal(t, []string{".batch=0000000003.lock", ".tmp-batch=0000000004-inflight", "batch=0000000003"}, datasetEntries(t, vol, "olist"))
	})

	t.Run("ConcurrentWritersWriteOnce", func(t *testing.T) {
		t.Parallel()
		vol := t.TempDir()
		cfg := Config{Batch: 2026112206, Orders: 3000}
		results := make([]Result, 4)
		errs := make([]error, len(results))
		var wg sync.WaitGroup
		for i := range results {
			wg.Go(func() { results[i], errs[i] = Generate(context.Background(), vol, cfg, nil) })
		}
		wg.Wait()
		written := 0
		for i, r := range results {
			require.NoError(t, errs[i])
			if !r.AlreadyWritten {
				written++
			}
			require.Equal(t, results[0].Files, r.Files)
			require.Equal(t, int64(3000), r.Totals[TableOrders], "totals count the batch once")
		}
		require.Equal(t, 1, written, "exactly one writer commits")
		require.Equal(t, []string{".batch=2026112206.lock", "batch=2026112206"}, datasetEntries(t, vol, "olist"))
	})

	t.Run("BatchDirWithoutManifestIsNotOverwritten", func(t *testing.T) {
		t.Parallel()
		vol := t.TempDir()
		dir := filepath.Join(vol, "olist", "batch=0000000009")
		require.NoError(t, os.MkdirAll(dir, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "olist_orders_dataset.csv"), []byte("mine"), 0o644))
		_, err := Generate(context.Background(), vol, Config{Batch: 9, Orders: 50}, nil)
		require.ErrorContains(t, err, "batch=0000000009 exists but has no _manifest.json")
		b, err := os.ReadFile(filepath.Join(dir, "olist_orders_dataset.csv"))
		require.NoError(t, err)
		require.Equal(t, "mine", string(b))
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		require.Len(t, entries, 1)
	})

	t.Run("BatchDirIsReadableByOthers", func(t *testing.T) {
		t.Parallel()
		vol, res := generate(t, Config{Batch: 8, Orders: 50})
		st, err := os.Stat(filepath.Join(vol, filepath.FromSlash(res.Dir)))
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o755), st.Mode().Perm())
	})
}

func TestTotals(t *testing.T) {
	t.Parallel()
	vol := t.TempDir()
	empty, err := Totals(vol, "")
	require.NoError(t, err)
	require.Empty(t, empty, "no dataset dir: no rows")

	r1, err := Generate(context.Background(), vol, Config{Dataset: "shop", Batch: 1, Orders: 120}, nil)
	require.NoError(t, err)
	require.Equal(t, r1.Rows, r1.Totals, "the first batch is the whole dataset")
	r2, err := Generate(context.Background(), vol, Config{Dataset: "shop", Batch: 2, Orders: 90, MalformedRate: 0.1}, nil)
	require.NoError(t, err)

	want := map[string]int64{}
	for table, n := range r1.Rows {
		want[table] = n + r2.Rows[table]
	}
	require.Len(t, want, 12)
	require.Equal(t, int64(210), want[TableOrders])
	require.Equal(t, want, r2.Totals)

	// Dirs that are not committed batches do not count.
	require.NoError(t, os.MkdirAll(filepath.Join(vol, "shop", "batch=0000000003"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(vol, "shop", ".tmp-batch=0000000004-x"), 0o755))
	got, err := Totals(vol, "shop")
	require.NoError(t, err)
	require.Equal(t, want, got)

	other, err := Totals(vol, "olist")
	require.NoError(t, err)
	require.Empty(t, other, "datasets are separate")

	require.NoError(t, os.WriteFile(filepath.Join(vol, "shop", "batch=0000000001", manifestName), []byte("{"), 0o644))
	_, err = Totals(vol, "shop")
	require.ErrorContains(t, err, "batch=0000000001/_manifest.json")
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	require.Equal(t, Config{Dataset: "olist", Batch: 3, Orders: 1000}, Config{Batch: 3}.WithDefaults())
	require.NoError(t, Config{Batch: MaxBatch, Orders: MaxOrders, MalformedRate: MaxMalformedRate, Dataset: "my_data-1.v2"}.Validate())

	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"NoBatch", Config{}, "batch 0 is out of range: use 1..9999999999"},
		{"BatchTooLarge", Config{Batch: MaxBatch + 1}, "batch 10000000000 is out of range"},
		{"NegativeOrders", Config{Batch: 1, Orders: -5}, "orders -5 is out of range"},
		{"TooManyOrders", Config{Batch: 1, Orders: MaxOrders + 1}, "orders 50000001 is out of range"},
		{"RateTooHigh", Config{Batch: 1, MalformedRate: 0.3}, "malformed_rate 0.3 is out of range: use 0..0.2"},
		{"NegativeRate", Config{Batch: 1, MalformedRate: -0.1}, "malformed_rate -0.1 is out of range"},
		{"DotDataset", Config{Batch: 1, Dataset: ".hidden"}, `dataset ".hidden" is not a folder name`},
		{"PathDataset", Config{Batch: 1, Dataset: "a/b"}, `dataset "a/b" is not a folder name`},
		{"ParentDataset", Config{Batch: 1, Dataset: ".."}, `dataset ".." is not a folder name`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			vol := t.TempDir()
			_, err := Generate(context.Background(), vol, tc.cfg, nil)
			require.ErrorContains(t, err, tc.want)
			entries, err := os.ReadDir(vol)
			require.NoError(t, err)
			require.Empty(t, entries, "an invalid config writes nothing")
		})
	}

	_, err := Generate(context.Background(), "", Config{Batch: 1}, nil)
	require.ErrorContains(t, err, "volume dir is empty")
}

func TestProgress(t *testing.T) {
	t.Parallel()
	vol := t.TempDir()
	var reports []Progress
	res, err := Generate(context.Background(), vol, Config{Batch: 1, Orders: 110_000}, func(p Progress) { reports = append(reports, p) })
	require.NoError(t, err)
	var tables []string
	for _, p := range reports {
		tables = append(tables, p.Table)
		require.Equal(t, int64(110_000), p.OrdersTotal)
	}
	require.Equal(t, []string{
		TableSellers, TableProducts, TableOrders, TableOrders, TableOrders,
		TableCDCCustomers, TableCDCProducts, TableCDCSellers, TableGeolocation, TableCategoryTranslation, "",
	}, tables)
	require.Equal(t, []int64{51200, 100352, 110_000}, []int64{reports[2].Orders, reports[3].Orders, reports[4].Orders},
		"orders are reported about every 50k (at chunk boundaries) and at the end")
	for i := 1; i < len(reports); i++ {
		require.GreaterOrEqual(t, reports[i].Rows, reports[i-1].Rows)
	}
	var rows int64
	for _, n := range res.Rows {
		rows += n
	}
	require.Equal(t, rows, reports[len(reports)-1].Rows)
	require.Equal(t, reports[len(reports)-2].Rows, reports[len(reports)-1].Rows)

	_, err = Generate(context.Background(), vol, Config{Batch: 2, Orders: 10}, nil)
	require.NoError(t, err, "a nil progress func is allowed")
}

func TestGenerateErrorsNameThePath(t *testing.T) {
	t.Parallel()
	vol := t.TempDir()
	blocker := filepath.Join(vol, "olist")
	require.NoError(t, os.WriteFile(blocker, []byte("not a dir"), 0o644))
	_, err := Generate(context.Background(), vol, Config{Batch: 1, Orders: 10}, nil)
	require.ErrorContains(t, err, "creating dataset dir "+blocker)
	require.False(t, errors.Is(err, context.Canceled))
}
