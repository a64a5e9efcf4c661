package lakehouse

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// BenchmarkEncode measures the Go side of ingestion alone: parsing,
// validating and encoding a CSV file into the binary COPY stream, without
// Postgres. It is the CPU Sluice adds on top of the server's own work.
func BenchmarkEncode(b *testing.B) {
	dir := b.TempDir()
	volume := filepath.Join(dir, "volume")
	size := writeBenchOrders(b, filepath.Join(volume, "bench", "orders.csv"), 200_000)
	require.NoError(b, os.WriteFile(filepath.Join(dir, SpecFile), []byte(benchPipeline), 0o644))
	p, err := Load(dir)
	require.NoError(b, err)
	b.SetBytes(size)
	b.ResetTimer()
	cpu0 := userCPU()
	for range b.N {
		l, err := openFileLoader(context.Background(), "bench", pendingFile{src: &p.Ingest[0], rel: "bench/orders.csv"}, volume, time.Now())
		require.NoError(b, err)
		_, err = io.CopyBuffer(io.Discard, l, make([]byte, 65536))
		require.NoError(b, err)
		require.Equal(b, int64(200_000), l.rows)
		l.close()
	}
	// CPU time, unlike wall time, does not depend on what else the
	// (shared) machine is running.
	b.ReportMetric((userCPU()-cpu0)*1e3/(float64(size)/1e6*float64(b.N)), "cpu-ms/MB")
}

// userCPU is the CPU time this process has spent running Go code so far.
func userCPU() float64 {
	s := []metrics.Sample{{Name: "/cpu/classes/user:cpu-seconds"}}
	metrics.Read(s)
	return s[0].Value.Float64()
}
