package spec

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDuration(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{
		"30s": 30 * time.Second, "90m": 90 * time.Minute, "1h30m": 90 * time.Minute,
		"7d": 7 * 24 * time.Hour, "1.5h": 90 * time.Minute, "250ms": 250 * time.Millisecond,
	} {
		d, err := ParseDuration(in)
		require.NoError(t, err, in)
		require.Equal(t, want, d.D(), in)
	}
	for d, want := range map[time.Duration]string{
		30 * time.Second: "30s", 10 * time.Minute: "10m", time.Hour: "1h", 90 * time.Minute: "1h30m",
		24 * time.Hour: "1d", 36 * time.Hour: "36h", 0: "0s", 1500 * time.Millisecond: "1.5s",
	} {
		require.Equal(t, want, Duration(d).String())
		b, err := json.Marshal(Duration(d))
		require.NoError(t, err)
		var back Duration
		require.NoError(t, json.Unmarshal(b, &back))
		require.Equal(t, d, back.D(), "round trip of %s", want)
	}
	for _, bad := range []string{"", "abc", "10", "-5m", "3 days"} {
		_, err := ParseDuration(bad)
		require.Error(t, err, bad)
	}
}

func TestDurationLimits(t *testing.T) {
	t.Parallel()
	d, err := ParseDuration("106751d")
	require.NoError(t, err)
	require.Equal(t, 106751*24*time.Hour, d.D())
	for in, want := range map[string]string{
		"106752d":  `"106752d" is too long`,
		"1e300d":   `"1e300d" is too long`,
		"-1d":      `"-1d" is not a duration`,
		"NaNd":     `"NaNd" is not a duration`,
		"Infd":     `"Infd" is not a duration`,
		"1d2h":     `"1d2h" is not a duration`,
		"3000000h": `"3000000h" is not a duration`,
	} {
		_, err := ParseDuration(in)
		require.EqualError(t, err, want, in)
	}
}
