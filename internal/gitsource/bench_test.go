package gitsource

import (
	"context"
	"testing"
)

// BenchmarkCheckoutWarmCache measures what every dbt task pays once the
// repository is cached: lock, fetch (already up to date), resolve, and
// writing the tree. BenchmarkCheckoutWarmCacheSHA skips the fetch.
func BenchmarkCheckoutWarmCache(b *testing.B) {
	benchmarkCheckout(b, func(fx *fixture) string { return "main" })
}

func BenchmarkCheckoutWarmCacheSHA(b *testing.B) {
	benchmarkCheckout(b, func(fx *fixture) string { return fx.c2 })
}

func benchmarkCheckout(b *testing.B, ref func(*fixture) string) {
	fx := newFixture(b)
	c := newCache(b)
	src := Source{Repo: fx.url, Ref: ref(fx), Path: "dbt"}
	warm, err := c.Checkout(context.Background(), src)
	if err != nil {
		b.Fatal(err)
	}
	if err := warm.Cleanup(); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		co, err := c.Checkout(context.Background(), src)
		if err != nil {
			b.Fatal(err)
		}
		if err := co.Cleanup(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/checkout")
}
