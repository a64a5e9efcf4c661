package lakehouse

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicedata/sluice/internal/pgtest"
)

const benchPipeline = `name: bench
ingest:
  - entity: orders
    source: bench/orders.csv
    table: bronze.orders
    columns:
      - {name: order_id, type: text, not_null: true}
      - {name: customer_id, type: text, not_null: true}
      - {name: order_status, type: text}
      - {name: order_purchase_timestamp, type: timestamp}
      - {name: order_approved_at, type: timestamp}
      - {name: order_delivered_carrier_date, type: timestamp}
      - {name: order_delivered_customer_date, type: timestamp}
      - {name: order_estimated_delivery_date, type: timestamp}
`

// writeBenchOrders writes n Olist-shaped order rows (quoted ids, some empty
// timestamps, as in the real files) and returns the file size.
func writeBenchOrders(tb testing.TB, path string, n int) int64 {
	tb.Helper()
	require.NoError(tb, os.MkdirAll(filepath.Dir(path), 0o755))
	f, err := os.Create(path)
	require.NoError(tb, err)
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	statuses := []string{"delivered", "delivered", "delivered", "shipped", "canceled", "invoiced"}
	fmt.Fprintln(w, `"order_id","customer_id","order_status","order_purchase_timestamp","order_approved_at","order_delivered_carrier_date","order_delivered_customer_date","order_estimated_delivery_date"`)
	base := time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC)
	ts := func(t time.Time) string { return t.Format("2006-01-02 15:04:05") }
	for i := range n {
		buy := base.Add(time.Duration(rng.IntN(600*24*3600)) * time.Second)
		st := statuses[rng.IntN(len(statuses))]
		carrier, delivered := "", ""
		if st == "delivered" {
			carrier = ts(buy.Add(48 * time.Hour))
			delivered = ts(buy.Add(time.Duration(100+rng.IntN(400)) * time.Hour))
		}
		fmt.Fprintf(w, "\"%016x%016x\",\"%032x\",%s,%s,%s,%s,%s,%s\n",
			rng.Uint64(), uint64(i), rng.Uint64(), st, ts(buy), ts(buy.Add(time.Hour)), carrier, delivered,
			buy.Add(20*24*time.Hour).Format("2006-01-02")+" 00:00:00")
	}
	require.NoError(tb, w.Flush())
	info, err := f.Stat()
	require.NoError(tb, err)
	require.NoError(tb, f.Close())
	return info.Size()
}

// BenchmarkIngest compares Run with `psql \copy` of the same file into an
// identical table, in the same benchmark. Run: go test -run '^$' -bench
// Ingest -benchtime 3x ./internal/lakehouse/
func BenchmarkIngest(b *testing.B) {
	if _, err := exec.LookPath("psql"); err != nil {
		b.Skip("psql is not installed; the baseline needs it")
	}
	const rows = 500_000
	dir := b.TempDir()
	volume := filepath.Join(dir, "volume")
	csvPath := filepath.Join(volume, "bench", "orders.csv")
	size := writeBenchOrders(b, csvPath, rows)
	require.NoError(b, os.WriteFile(filepath.Join(dir, SpecFile), []byte(benchPipeline), 0o644))
	p, err := Load(dir)
	require.NoError(b, err)

	db := pgtest.NewPool(b)
	ctx := context.Background()
	baseline := p.Ingest[0]
	baseline.Table = Table{Schema: "baseline", Name: "orders"}
	cols := make([]string, len(baseline.Columns))
	for i, c := range baseline.Columns {
		cols[i] = c.Name
	}
	psqlCopy := fmt.Sprintf(`\copy baseline.orders (%s) FROM '%s' WITH (FORMAT csv, HEADER true)`, strings.Join(cols, ", "), csvPath)
	dsn := db.Config().ConnString()

	exec1 := func(sql string) {
		_, err := db.Exec(ctx, sql)
		require.NoError(b, err)
	}
	exec1("CREATE SCHEMA baseline")
	var sluiceTime, psqlTime time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		exec1("DROP TABLE IF EXISTS bronze.orders")
		exec1("DROP TABLE IF EXISTS _sluice.ingested_files")
		exec1("DROP TABLE IF EXISTS baseline.orders")
		exec1(createBronzeSQL(&baseline))
		runSluice := func() {
			exec1("CHECKPOINT")
			b.StartTimer()
			start := time.Now()
			res, err := Run(ctx, db, p, Options{VolumeDir: volume})
			sluiceTime += time.Since(start)
			b.StopTimer()
			require.NoError(b, err)
			require.Equal(b, int64(rows), res.Loaded["bronze.orders"])
		}
		runPsql := func() {
			exec1("CHECKPOINT")
			start := time.Now()
			out, err := exec.CommandContext(ctx, "psql", dsn, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", psqlCopy).CombinedOutput()
			psqlTime += time.Since(start)
			require.NoError(b, err, string(out))
		}
		// Alternate the order so neither side always runs on a warmer server.
		if i%2 == 0 {
			runSluice()
			runPsql()
		} else {
			runPsql()
			runSluice()
		}
		var n int64
		require.NoError(b, db.QueryRow(ctx, "SELECT count(*) FROM baseline.orders").Scan(&n))
		require.Equal(b, int64(rows), n)
	}
	mb := float64(size) / 1e6 * float64(b.N)
	sluice, psql := mb/sluiceTime.Seconds(), mb/psqlTime.Seconds()
	b.ReportMetric(sluice, "sluice_MB/s")
	b.ReportMetric(psql, "psql_MB/s")
	b.ReportMetric(sluice/psql, "ratio")
	b.SetBytes(size)
}
