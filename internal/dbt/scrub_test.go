package dbt

import (
	"bytes"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"
)

func TestScrubber(t *testing.T) {
	t.Parallel()
	sc := NewScrubber([]string{"", "tok3n/+&=", "pa\"ss-Wörd-😀"})
	tests := []struct{ name, in, want string }{
		{"Raw", "token tok3n/+&= here", "token ***** here"},
		{"URLEncoded", "postgres://u:tok3n%2F%2B%26%3D@h/db", "postgres://u:*****@h/db"},
		{"PathEscaped", "https://h/tok3n%2F+&=/x", "https://h/*****/x"},
		{"GoJSON", `{"msg": "pa\"ss-Wörd-😀"}`, `{"msg": "*****"}`},
		{"PythonJSON", `{"msg": "pa\"ss-W\u00f6rd-\ud83d\ude00"}`, `{"msg": "*****"}`},
		{"Twice", "tok3n/+&=tok3n/+&=", "**********"},
		{"Clean", "nothing secret", "nothing secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, sc.String(tt.in))
			require.Equal(t, tt.want, string(sc.Bytes([]byte(tt.in))))
			// Streaming one byte at a time finds secrets across reads.
			var out bytes.Buffer
			n, err := sc.Copy(&out, iotest.OneByteReader(strings.NewReader(tt.in)))
			require.NoError(t, err)
			require.Equal(t, tt.want, out.String())
			require.Equal(t, int64(len(tt.want)), n)
		})
	}
}

func TestScrubberPrefersTheLongerSecret(t *testing.T) {
	t.Parallel()
	sc := NewScrubber([]string{"pass", "password123"})
	in := "a password123 b pass c"
	require.Equal(t, "a ***** b ***** c", sc.String(in))
	var out bytes.Buffer
	_, err := sc.Copy(&out, iotest.OneByteReader(strings.NewReader(in)))
	require.NoError(t, err)
	require.Equal(t, "a ***** b ***** c", out.String())
}

func TestScrubberWithoutSecrets(t *testing.T) {
	t.Parallel()
	for _, sc := range []*Scrubber{nil, NewScrubber(nil), NewScrubber([]string{""})} {
		require.Equal(t, "x", sc.String("x"))
		var out bytes.Buffer
		_, err := sc.Copy(&out, strings.NewReader("abc"))
		require.NoError(t, err)
		require.Equal(t, "abc", out.String())
	}
}

func TestScrubberCopyLargeInput(t *testing.T) {
	t.Parallel()
	const secret = "Zq9-secret-value"
	// Secrets straddle the 64 KiB read chunks at many offsets.
	var in strings.Builder
	for i := 0; i < 20000; i++ {
		in.WriteString("padding-")
		if i%7 == 0 {
			in.WriteString(secret)
		}
	}
	var out bytes.Buffer
	_, err := NewScrubber([]string{secret}).Copy(&out, strings.NewReader(in.String()))
	require.NoError(t, err)
	require.NotContains(t, out.String(), secret)
	require.Equal(t, strings.ReplaceAll(in.String(), secret, Redacted), out.String())
}
