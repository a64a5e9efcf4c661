package datagen

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkGenerate measures a whole batch: generation, writing, fsync and the
// atomic commit. Run the large one once:
//
//	go test ./internal/datagen -run '^$' -bench Generate/1M -benchtime 1x
func BenchmarkGenerate(b *testing.B) {
	for _, bc := range []struct {
		name   string
		orders int
	}{{"10k", 10_000}, {"1M", 1_000_000}} {
		b.Run(bc.name, func(b *testing.B) {
			vol := b.TempDir()
			var rows, bytes int64
			for i := 0; i < b.N; i++ {
				res, err := Generate(context.Background(), vol, Config{Seed: 1, Batch: int64(i + 1), Orders: bc.orders}, nil)
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				rows, bytes = 0, 0
				for _, f := range res.Files {
					rows += f.Rows
					bytes += f.Bytes
				}
				if err := os.RemoveAll(filepath.Join(vol, filepath.FromSlash(res.Dir))); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.SetBytes(bytes)
			secs := b.Elapsed().Seconds()
			b.ReportMetric(float64(rows)*float64(b.N)/secs, "rows/s")
			b.ReportMetric(float64(bc.orders)*float64(b.N)/secs, "orders/s")
		})
	}
}
