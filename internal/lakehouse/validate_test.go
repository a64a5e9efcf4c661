package lakehouse

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluicedata/sluice/internal/pgtest"
)

// accepted lists values each parser must accept; every one is checked
// against Postgres: the binary value sent must equal what the type's own
// text input function makes of the same string.
var accepted = map[Type][]string{
	TypeText:   {"hello", "ação", "emoji 🎉", "with\nnewline", `quote "x"`, `\.`, "tab\t", " padded "},
	TypeInt:    {"0", "7", "-12", "+5", " 42 ", "\t3\n", "2147483647", "-2147483648", "007"},
	TypeBigint: {"0", "9223372036854775807", "-9223372036854775808", " -1 ", "12"},
	TypeNumeric: {
		"0", "58.90", "-0.00", "-0", "1.", ".5", "1e2", "1.5e2", "1E-2", "+3.14", "5e0",
		"12.3400e1", "1000e-3", "0.0001", "10000", "9999", "99999999999999999999.99",
		"1e-20", "123456789012345678901234567890", "0.00000", "-12345678.123456789", " 13.29 ",
		"0.000123e-3", "7e20", "100.100",
	},
	TypeDouble: {
		"0", "-0", "1.5", "-0.25", "1e300", "-1.7976931348623157e308", "2.2250738585072014e-308",
		"4.9e-324", "1e-310", "123456789.123456789", ".5", "5.", "-23.54562128115268", "0.1", " 2 ",
	},
	TypeTimestamp: {
		"2018-01-10 09:00:00", "2018-01-10", "2018-01-10T09:00:00", "2024-02-29 23:59:59.999999",
		"0001-01-01 00:00:00", "9999-12-31 23:59:59", "1970-01-01 00:00:00.5", " 2018-01-10 09:00:00 ",
		"1999-12-31 23:59:59.000001", "2000-01-01 00:00:00", "1900-03-01 12:34:56.07",
	},
	TypeDate: {"2018-01-10", "2000-01-01", "1999-12-31", "0001-01-01", "9999-12-31", "2024-02-29", "2100-02-28", " 2018-01-10"},
	TypeBool: {"t", "TRUE", "false", "Yes", "no", "on", "OFF", "1", "0", "y", "N", " t "},
}

// rejected lists values each parser must reject. Some Postgres would accept
// ("tru", "24:00:00", "NaN", hex floats): Sluice is stricter on purpose, a
// rejected value is quarantined, never silently reinterpreted.
var rejected = map[Type][]string{
	TypeText:      {"bad \xff utf8", "nul\x00byte"},
	TypeInt:       {"1.0", "1e3", "2147483648", "-2147483649", "abc", "12a", "- 1", "0x10", "1_000", "+", " ", "1 2"},
	TypeBigint:    {"9223372036854775808", "1.5", "x"},
	TypeNumeric:   {"abc", "1.2.3", "1e", "NaN", "Infinity", "1e1001", "1,5", "--1", ".", "e5", "1e+", " ", "12,3x"},
	TypeDouble:    {"1e400", "-1e400", "1e-400", "inf", "NaN", "0x1p-2", "1_0", "1.5.", ""},
	TypeTimestamp: {"2018-02-30 10:00:00", "2018-13-01 00:00:00", "2018-01-10 24:00:00", "2018-01-10 10:60:00", "2018-01-10 10:00", "10/01/2018", "2018-01-10 09:00:00+02", "0000-01-01", "2018-01-10 09:00:00.1234567", "2019-02-29", "2018-01-10 09:00:00.", "2018-1-10 09:00:00"},
	TypeDate:      {"2018-1-10", "2018-01-10 00:00:00", "2018-02-29", "2018-04-31", "20180110", "2018/01/10"},
	TypeBool:      {"maybe", "2", "tru", "yess"},
}

func TestAppendValueMatchesPostgres(t *testing.T) {
	t.Parallel()
	db := pgtest.NewPool(t)
	ctx := context.Background()
	for _, x := range types {
		t.Run(string(x.t), func(t *testing.T) {
			table := "v_" + string(x.t)
			_, err := db.Exec(ctx, fmt.Sprintf(`CREATE TABLE %s (id int, src text, val %s)`, table, x.pg))
			require.NoError(t, err)
			// A binary COPY stream of (id, src, val) tuples.
			stream := append([]byte(nil), copyHeader...)
			for i, s := range accepted[x.t] {
				stream = binary.BigEndian.AppendUint16(stream, 3)
				stream = binary.BigEndian.AppendUint32(stream, 4)
				stream = binary.BigEndian.AppendUint32(stream, uint32(i))
				stream, _ = TypeText.appendValue(stream, s)
				var ok bool
				stream, ok = x.t.appendValue(stream, s)
				require.True(t, ok, "%q must be accepted as %s", s, x.t)
			}
			stream = append(stream, copyTrailer...)
			conn, err := db.Acquire(ctx)
			require.NoError(t, err)
			defer conn.Release()
			_, err = conn.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(stream), fmt.Sprintf(`COPY %s (id, src, val) FROM STDIN WITH (FORMAT binary)`, table))
			require.NoError(t, err)

			rows := queryRows(t, db, fmt.Sprintf(`SELECT val::text, src::%s::text FROM %s ORDER BY id`, x.pg, table))
			require.Len(t, rows, len(accepted[x.t]))
			for i, row := range rows {
				got, want, _ := strings.Cut(row, "|")
				require.Equal(t, want, got, "%s %q: Sluice sent %s, Postgres parses %s", x.t, accepted[x.t][i], got, want)
			}

			for _, s := range rejected[x.t] {
				_, ok := x.t.appendValue(nil, s)
				require.False(t, ok, "%q must be rejected as %s", s, x.t)
			}
		})
	}
}
