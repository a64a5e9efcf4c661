package datagen

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestCDC(t *testing.T) {
	t.Parallel()
	const orders = 3000 // 600 events per entity and batch, over 1500 keys
	const events = orders / 5
	vol := t.TempDir()
	batches := []int64{20261122, 20261123}
	var results []Result
	for _, b := range batches {
		res, err := Generate(context.Background(), vol, Config{Seed: 5, Batch: b, Orders: orders}, nil)
		require.NoError(t, err)
		results = append(results, res)
	}

	for _, table := range []string{TableCDCCustomers, TableCDCProducts, TableCDCSellers} {
		t.Run(table, func(t *testing.T) {
			t.Parallel()
			tt := testTableByName(t, table)
			key := tt.cols[0].name
			entity := tt.cols[1 : len(tt.cols)-3]
			image := func(r map[string]string) string {
				var parts []string
				for _, col := range entity {
					parts = append(parts, r[col.name])
				}
				return strings.Join(parts, ",")
			}
			inserted := map[string]string{} // key -> INSERT row image, over both batches
			var keySets []map[string]bool
			type update struct{ key, image string }
			var updates []update

			for bi, res := range results {
				batch := batches[bi]
				f := fileOf(t, res, table)
				recs := validRecords(t, vol, res, table)
				base := batch * 10_000_000
				day := time.Date(int(batch/10000), time.Month(batch/100%100), int(batch%100), 0, 0, 0, 0, time.UTC)

				line := func(r map[string]string) string {
					var parts []string
					for _, col := range tt.cols {
						parts = append(parts, r[col.name])
					}
					return strings.Join(parts, ",")
				}
				seen := map[int64]string{}
				ops := map[string]int{}
				tsBySeq := map[int64]time.Time{}
				keys := map[string]bool{}
				var dups, outOfOrder int
				maxSeq := int64(-1)
				for i, r := range recs {
					seq := mustInt(t, r["sequence_number"])
					require.True(t, seq >= base && seq < base+events, "sequence_number %d outside batch %d's range", seq, batch)
					if prev, ok := seen[seq]; ok {
						require.Equal(t, prev, line(r), "sequence_number %d repeats with different content", seq)
						require.Equal(t, prev, line(recs[i-1]), "a duplicate line follows its original")
						dups++
						continue
					}
					seen[seq] = line(r)
					if seq < maxSeq {
						outOfOrder++
					}
					maxSeq = max(maxSeq, seq)

					op := r["operation"]
					ops[op]++
					keys[r[key]] = true
					at := ts(t, r["operation_timestamp"])
					require.False(t, at.Before(day), "%s outside the batch day", at)
					require.True(t, at.Before(day.Add(24*time.Hour)), "%s outside the batch day", at)
					tsBySeq[seq] = at
					switch op {
					case "DELETE":
						require.Equal(t, strings.Repeat(",", len(entity)-1), image(r), "DELETE carries only the key")
					case "INSERT":
						inserted[r[key]] = image(r)
						fallthrough
					default:
						if table != TableCDCProducts {
							require.NotEmpty(t, r[entity[len(entity)-1].name], "%s row image has a state", op)
						}
						if op == "UPDATE" {
							updates = append(updates, update{r[key], image(r)})
						}
					}
				}
				require.Len(t, seen, events, "every event of the batch appears")
				require.Equal(t, f.Duplicates, int64(dups), "File.Duplicates")
				require.InDelta(t, 0.02, float64(dups)/events, 0.015, "share of duplicate lines")
				require.Positive(t, outOfOrder, "some events are out of order")
				require.InDelta(t, 0.03, float64(2*outOfOrder)/events, 0.025, "share of out-of-order events")
				for _, op := range []string{"INSERT", "UPDATE", "DELETE"} {
					require.Positive(t, ops[op], "%s events present", op)
				}
				seqs := make([]int64, 0, len(tsBySeq))
				for s := range tsBySeq {
					seqs = append(seqs, s)
				}
				sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
				for i := 1; i < len(seqs); i++ {
					require.False(t, tsBySeq[seqs[i]].Before(tsBySeq[seqs[i-1]]), "operation_timestamp follows sequence_number")
				}
				keySets = append(keySets, keys)
			}

			shared := 0
			for k := range keySets[1] {
				if keySets[0][k] {
					shared++
				}
			}
			require.Greater(t, shared, len(keySets[1])/10, "the second batch touches keys of the first (shared %d of %d)", shared, len(keySets[1]))

			compared := 0
			for _, u := range updates {
				if ins, ok := inserted[u.key]; ok {
					require.NotEqual(t, ins, u.image, "UPDATE of %s changes nothing", u.key)
					compared++
				}
			}
			require.Positive(t, compared)
		})
	}
}
