package lakehouse

import (
	"bufio"
	"encoding/csv"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// sameAsEncodingCSV reads input with encoding/csv and with csvReader and
// requires the same records, start lines, end offsets and errors, and that
// each record's [start, end) byte range holds exactly that record.
func sameAsEncodingCSV(t testing.TB, input string) {
	std := csv.NewReader(strings.NewReader(input))
	std.FieldsPerRecord = -1
	// The smallest bufio buffer, so long lines take the slow path too.
	ours := newCSVReader(bufio.NewReaderSize(strings.NewReader(input), 16))
	for i := 0; ; i++ {
		want, werr := std.Read()
		got, rec, gerr := ours.read()
		if werr == io.EOF {
			require.ErrorIs(t, gerr, io.EOF, "record %d of %q", i, input)
			return
		}
		require.Equal(t, std.InputOffset(), rec.end, "end offset of record %d of %q", i, input)
		var wp *csv.ParseError
		if errors.As(werr, &wp) {
			var gp *csv.ParseError
			require.ErrorAs(t, gerr, &gp, "record %d of %q", i, input)
			require.Equal(t, wp.Err, gp.Err, "record %d of %q", i, input)
			require.Equal(t, wp.StartLine, gp.StartLine, "record %d of %q", i, input)
			require.Equal(t, wp.StartLine, rec.line)
			continue
		}
		require.NoError(t, werr)
		require.NoError(t, gerr, "record %d of %q", i, input)
		fields := make([]string, len(got))
		for j, f := range got {
			fields[j] = string(f)
		}
		require.Equal(t, want, fields, "record %d of %q", i, input)
		line, _ := std.FieldPos(0)
		require.Equal(t, line, rec.line, "start line of record %d of %q", i, input)
		again, err := csv.NewReader(strings.NewReader(input[rec.start:rec.end])).Read()
		require.NoError(t, err)
		require.Equal(t, want, again, "raw range [%d,%d) of record %d of %q", rec.start, rec.end, i, input)
	}
}

var csvEdgeCases = []string{
	"",
	"\n",
	"a",
	"a\n",
	"a,b\nc,d\n",
	"a,b\r\nc,d\r\n",
	"a,b\rc\n",
	"a\r",
	"a\n\r",
	"\n\na\n\n\nb\n",
	"\r\n\r\na\r\n",
	",\n,,\n",
	`"a","b"` + "\n",
	`"a,b","c""d"` + "\n",
	`""` + "\n",
	`"",""` + "\n",
	"\"multi\nline\",x\nnext,y\n",
	"\"multi\r\nline\r\n\",x\r\n",
	"\"ends in quote\n\"\n",
	`a"b,c` + "\n" + "ok\n",
	`"a"b,c` + "\nok\n",
	`"a" ,c` + "\nok\n",
	"\"unterminated\nstill\n",
	"\"unterminated",
	"a,\"b\nc\"d\",e\nok\n",
	"\xef\xbb\xbfa,b\n",
	strings.Repeat("x", 100) + "," + strings.Repeat("y", 50) + "\n" + "\"" + strings.Repeat("q\n", 30) + "\"\n",
	"é,ü\n\"ação\",\"x\"\n",
}

func TestCSVReaderMatchesEncodingCSV(t *testing.T) {
	t.Parallel()
	for _, in := range csvEdgeCases {
		sameAsEncodingCSV(t, in)
	}
	// Random documents built from the pieces that matter to a CSV parser.
	pieces := []string{"a", "bc", ",", `"`, `""`, "\n", "\r\n", "\r", " ", "é", `"x,y"`, "\"p\nq\"", "\"r\r\ns\""}
	rng := rand.New(rand.NewPCG(7, 11))
	for range 5000 {
		var b strings.Builder
		for range rng.IntN(40) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		sameAsEncodingCSV(t, b.String())
	}
}

// FuzzCSVReader explores inputs beyond the random ones; `go test` runs the
// seeds only.
func FuzzCSVReader(f *testing.F) {
	for _, in := range csvEdgeCases {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		sameAsEncodingCSV(t, in)
	})
}
