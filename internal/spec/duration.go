package spec

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration written as in Go ("90m", "1h30m", "45s") with
// "d" accepted for days ("7d"). It encodes as a string in YAML and JSON.
type Duration time.Duration

// D returns the standard library duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string {
	td := time.Duration(d)
	if td != 0 && td%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(td/(24*time.Hour)), 10) + "d"
	}
	s := td.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// ParseDuration parses a spec duration.
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, hinted{"empty duration", "write e.g. 90s, 30m, 2h or 7d"}
	}
	if strings.HasSuffix(s, "d") && !strings.ContainsAny(strings.TrimSuffix(s, "d"), "hmsuµn") {
		n, err := strconv.ParseFloat(strings.TrimSuffix(s, "d"), 64)
		// beyond ~106751 days the conversion overflows to a negative duration
		if err == nil && n >= 0 && n*float64(24*time.Hour) < float64(math.MaxInt64) {
			return Duration(time.Duration(n * float64(24*time.Hour))), nil
		}
		if err == nil && n > 0 {
			return 0, hinted{fmt.Sprintf("%q is too long", s), "durations must be under 106751d"}
		}
	}
	td, err := time.ParseDuration(s)
	if err != nil {
		return 0, hinted{fmt.Sprintf("%q is not a duration", s), "write e.g. 90s, 30m, 2h or 7d"}
	}
	if td < 0 {
		return 0, hinted{fmt.Sprintf("%q is negative", s), "durations must be positive"}
	}
	return Duration(td), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }
