package datagen

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMalformed(t *testing.T) {
	t.Parallel()
	const rate = 0.05
	vol, res := generate(t, Config{Seed: 9, Batch: 20261122, Orders: 3000, MalformedRate: rate})

	kinds := map[string]map[string]int{} // table -> kind -> count
	for _, f := range res.Files {
		tt := testTableByName(t, f.Table)
		path := filepath.Join(vol, filepath.FromSlash(f.Path))
		_, recs := readCSV(t, path) // strict parse: every record, malformed or not, is valid CSV
		var bad []int64
		kinds[f.Table] = map[string]int{}
		shifted := false
		for i, r := range recs {
			err := validate(tt, r.fields)
			if err == nil {
				continue
			}
			bad = append(bad, r.line)
			kinds[f.Table][classify(tt, r.fields)]++
			if r.line != int64(i+2) {
				shifted = true // an embedded newline came before it
			}
		}
		require.Equal(t, res.Malformed[f.Table], f.Malformed)
		if f.Table == TableCategoryTranslation {
			require.Zero(t, f.Malformed, "the translation file gets no malformed records")
			require.Empty(t, bad)
			continue
		}
		require.Equal(t, f.MalformedLines, bad, "%s: listed malformed lines vs the records that fail validation", f.Path)
		require.Equal(t, int64(len(bad)), f.Malformed)
		require.Equal(t, int64(len(recs)-len(bad)), f.Rows)
		require.Equal(t, int64(2), bad[0], "%s: the first data record is preceded by a malformed one", f.Path)
		if f.Rows >= 2000 {
			require.InDelta(t, rate, float64(f.Malformed)/float64(f.Rows), 0.015, "%s malformed share", f.Path)
		}
		if f.Table == TableOrderReviews {
			require.True(t, shifted, "some malformed review starts after a multi-line record, so its line differs from its record number")
		}

		// The listed line really is where the record starts in the raw file.
		raw, err := os.ReadFile(path)
		require.NoError(t, err)
		lines := strings.Split(string(raw), "\n")
		for i, l := range f.MalformedLines {
			rec := recs[indexOfLine(t, recs, l)]
			require.True(t, strings.HasPrefix(lines[l-1], firstFieldRaw(rec.fields[0])), "%s: line %d (malformed #%d) does not start the record", f.Path, l, i)
		}
	}

	// Tables without numeric or timestamp columns only get field-count errors;
	// the others get all kinds they can carry.
	require.Equal(t, []string{"fields"}, keys(kinds[TableCustomers]))
	require.Equal(t, []string{"fields"}, keys(kinds[TableSellers]))
	require.ElementsMatch(t, []string{"fields", "numeric"}, keys(kinds[TableGeolocation]))
	require.ElementsMatch(t, []string{"fields", "numeric"}, keys(kinds[TableProducts]))
	require.ElementsMatch(t, []string{"fields", "timestamp"}, keys(kinds[TableOrders]))
	for _, table := range []string{TableOrderItems, TableOrderReviews, TableCDCCustomers, TableCDCProducts, TableCDCSellers} {
		require.ElementsMatch(t, []string{"fields", "numeric", "timestamp"}, keys(kinds[table]), table)
	}
}

// classify names the kind of a malformed record from the validator's view.
func classify(tt testTable, fields []string) string {
	if len(fields) != len(tt.cols) {
		return "fields"
	}
	for i, col := range tt.cols {
		one := testTable{cols: []testCol{col}}
		if validate(one, fields[i:i+1]) != nil {
			switch col.kind {
			case kTS:
				return "timestamp"
			case kInt, kMoney, kFloat:
				return "numeric"
			}
			return "other:" + col.name
		}
	}
	return "valid"
}

func indexOfLine(t *testing.T, recs []record, line int64) int {
	t.Helper()
	for i, r := range recs {
		if r.line == line {
			return i
		}
	}
	t.Fatalf("no record starts on line %d", line)
	return -1
}

// firstFieldRaw is how the generator writes a record's first field: ids and
// zips quoted, category names bare.
func firstFieldRaw(v string) string {
	if reID.MatchString(v) || reZip.MatchString(v) {
		return `"` + v + `"`
	}
	return v
}

func TestMalformedKindsStayValidCSV(t *testing.T) {
	t.Parallel()
	// Every mutation of a record holding quotes, commas and a newline keeps
	// the CSV in sync: exactly one record, the mutated one.
	spec := tableSpecs()
	var reviews *tableSpec
	for i := range spec {
		if spec[i].table == TableOrderReviews {
			reviews = &spec[i]
		}
	}
	require.NotNil(t, reviews)
	m := newMalformer(reviews, 0.1, 1, 1)
	rec := []byte(`"0123456789abcdef0123456789abcdef","0123456789abcdef0123456789abcdef",5,Ótimo,"Produto ""original"", igual
à foto.",2026-11-23 00:00:00,2026-11-24 10:00:00` + "\n")
	seen := map[string]bool{}
	for key := range uint64(400) {
		out := m.mutate(nil, rec, key)
		dir := t.TempDir()
		path := filepath.Join(dir, "r.csv")
		require.NoError(t, os.WriteFile(path, append([]byte("h\n"), out...), 0o644))
		_, recs := readCSV(t, path)
		require.Len(t, recs, 1, "%q", out)
		tt := testTableByName(t, TableOrderReviews)
		require.Error(t, validate(tt, recs[0].fields), "%q", out)
		seen[classify(tt, recs[0].fields)] = true
	}
	require.Equal(t, map[string]bool{"fields": true, "numeric": true, "timestamp": true}, seen)
}
