package lakehouse

import (
	"encoding/binary"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Each CSV value is parsed once, in Go: the parser both validates it and
// appends it in Postgres' binary COPY representation (a 4-byte length, then
// the value as the type's send function writes it). The server then does no
// text parsing at all, which is what makes ingestion faster than `psql
// \copy` of the same CSV.
//
// Every parser accepts a subset of what the Postgres input function of its
// type accepts, and produces the same value that function would: a record
// Postgres would reject is quarantined instead of failing the whole file.
// Surrounding blanks are allowed for non-text types because Postgres
// ignores them too.

// appendValue appends s, a non-empty CSV value, as a binary COPY field of
// type t. It reports false, leaving b's content past its length undefined,
// when s does not parse as t.
func (t Type) appendValue(b []byte, s string) ([]byte, bool) {
	switch t {
	case TypeText:
		if !validText(s) {
			return b, false
		}
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		return append(b, s...), true
	case TypeInt:
		v, ok := parseInt(trimBlank(s), 32)
		b = binary.BigEndian.AppendUint32(b, 4)
		return binary.BigEndian.AppendUint32(b, uint32(int32(v))), ok
	case TypeBigint:
		v, ok := parseInt(trimBlank(s), 64)
		b = binary.BigEndian.AppendUint32(b, 8)
		return binary.BigEndian.AppendUint64(b, uint64(v)), ok
	case TypeDouble:
		v, ok := parseDouble(trimBlank(s))
		b = binary.BigEndian.AppendUint32(b, 8)
		return binary.BigEndian.AppendUint64(b, math.Float64bits(v)), ok
	case TypeNumeric:
		return appendNumeric(b, trimBlank(s))
	case TypeTimestamp:
		v, ok := parseTimestamp(trimBlank(s))
		b = binary.BigEndian.AppendUint32(b, 8)
		return binary.BigEndian.AppendUint64(b, uint64(v)), ok
	case TypeDate:
		v, ok := parseDate(trimBlank(s))
		b = binary.BigEndian.AppendUint32(b, 4)
		return binary.BigEndian.AppendUint32(b, uint32(int32(v))), ok
	case TypeBool:
		v, ok := parseBool(trimBlank(s))
		b = binary.BigEndian.AppendUint32(b, 1)
		if v {
			return append(b, 1), ok
		}
		return append(b, 0), ok
	}
	return b, false
}

// expect is the phrase used in quarantine reasons: `"x" is not <expect>`.
func (t Type) expect() string {
	switch t {
	case TypeText:
		return "valid UTF-8 text without NUL bytes"
	case TypeInt:
		return "an int (32-bit integer)"
	case TypeBigint:
		return "a bigint (64-bit integer)"
	case TypeNumeric:
		return "numeric"
	case TypeDouble:
		return "a double"
	case TypeTimestamp:
		return "a timestamp (YYYY-MM-DD HH:MM:SS)"
	case TypeDate:
		return "a date (YYYY-MM-DD)"
	case TypeBool:
		return "a bool (true/false, t/f, yes/no, on/off, 1/0)"
	}
	return string(t)
}

// trimBlank strips the ASCII blanks Postgres ignores around numbers and
// dates (isspace in the C locale).
func trimBlank(s string) string {
	for len(s) > 0 && isBlank(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isBlank(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

func isBlank(c byte) bool {
	return c == ' ' || (c >= '\t' && c <= '\r')
}

func validText(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// parseInt accepts what Postgres 15 integer input accepts: an optional sign
// and decimal digits, within range.
func parseInt(s string, bits int) (int64, bool) {
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && !(i == 0 && (c == '+' || c == '-') && len(s) > 1) {
			return 0, false
		}
	}
	v, err := strconv.ParseInt(s, 10, bits)
	return v, err == nil
}

// decimalParts is a decimal literal split for numeric conversion.
type decimalParts struct {
	neg      bool
	intPart  string // digits before the point
	fracPart string // digits after the point
	exp      int
	nonZero  bool
}

const maxDecimalDigits = 1000

// parseDecimal checks [+-]?(digits[.digits]|.digits)([eE][+-]?digits)?
// with at most maxDecimalDigits digits and |exponent| <= 1000, the limits
// under which Postgres numeric input always succeeds.
func parseDecimal(s string) (decimalParts, bool) {
	var d decimalParts
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		d.neg = s[i] == '-'
		i++
	}
	start := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		d.nonZero = d.nonZero || s[i] != '0'
		i++
	}
	d.intPart = s[start:i]
	if i < len(s) && s[i] == '.' {
		i++
		start = i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			d.nonZero = d.nonZero || s[i] != '0'
			i++
		}
		d.fracPart = s[start:i]
	}
	digits := len(d.intPart) + len(d.fracPart)
	if digits == 0 || digits > maxDecimalDigits {
		return d, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		neg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			neg = s[i] == '-'
			i++
		}
		start = i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			d.exp = d.exp*10 + int(s[i]-'0')
			if d.exp > 1000 {
				return d, false
			}
			i++
		}
		if i == start {
			return d, false
		}
		if neg {
			d.exp = -d.exp
		}
	}
	return d, i == len(s)
}

func parseDouble(s string) (float64, bool) {
	d, ok := parseDecimal(s)
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, false
	}
	// Postgres rejects a non-zero literal that underflows to zero.
	return f, f != 0 || !d.nonZero
}

// appendNumeric appends s in numeric's binary form: ndigits, weight, sign,
// dscale (int16 each), then base-10000 digits, with the weight and display
// scale Postgres' numeric_in would give the same text.
func appendNumeric(b []byte, s string) ([]byte, bool) {
	d, ok := parseDecimal(s)
	if !ok {
		return b, false
	}
	dscale := max(len(d.fracPart)-d.exp, 0)
	// All digits, with the decimal point after point of them.
	var buf1, buf2 [64]byte // typical values need no allocation
	digits := buf1[:0]
	point := len(d.intPart) + d.exp
	if point < 0 {
		for range -point {
			digits = append(digits, '0')
		}
		point = 0
	}
	digits = append(digits, d.intPart...)
	digits = append(digits, d.fracPart...)
	for len(digits) < point {
		digits = append(digits, '0')
	}
	// Align the point on a base-10000 group boundary, then pad the tail.
	lead := (4 - point%4) % 4
	aligned := buf2[:0]
	for range lead {
		aligned = append(aligned, '0')
	}
	aligned = append(aligned, digits...)
	for len(aligned)%4 != 0 {
		aligned = append(aligned, '0')
	}
	var buf3 [16]uint16
	groups := buf3[:0]
	for i := 0; i < len(aligned); i += 4 {
		g := uint16(aligned[i]-'0')*1000 + uint16(aligned[i+1]-'0')*100 + uint16(aligned[i+2]-'0')*10 + uint16(aligned[i+3]-'0')
		groups = append(groups, g)
	}
	weight := (point+lead)/4 - 1
	for len(groups) > 0 && groups[0] == 0 {
		groups = groups[1:]
		weight--
	}
	for len(groups) > 0 && groups[len(groups)-1] == 0 {
		groups = groups[:len(groups)-1]
	}
	sign := uint16(0x0000)
	if d.neg && len(groups) > 0 {
		sign = 0x4000
	}
	if len(groups) == 0 {
		weight = 0
	}
	b = binary.BigEndian.AppendUint32(b, uint32(8+2*len(groups)))
	b = binary.BigEndian.AppendUint16(b, uint16(len(groups)))
	b = binary.BigEndian.AppendUint16(b, uint16(int16(weight)))
	b = binary.BigEndian.AppendUint16(b, sign)
	b = binary.BigEndian.AppendUint16(b, uint16(dscale))
	for _, g := range groups {
		b = binary.BigEndian.AppendUint16(b, g)
	}
	return b, true
}

func parseBool(s string) (v, ok bool) {
	switch strings.ToLower(s) {
	case "t", "true", "y", "yes", "on", "1":
		return true, true
	case "f", "false", "n", "no", "off", "0":
		return false, true
	}
	return false, false
}

// Postgres dates and timestamps count from 2000-01-01.
const (
	pgEpochDays  = 10957 // days from 1970-01-01 to 2000-01-01
	microsPerDay = 86_400_000_000
	microsPerSec = 1_000_000
)

// parseDate accepts YYYY-MM-DD with a real calendar day, year 0001..9999,
// and returns days since 2000-01-01.
func parseDate(s string) (int64, bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, false
	}
	y, ok1 := digitsAt(s, 0, 4)
	m, ok2 := digitsAt(s, 5, 2)
	d, ok3 := digitsAt(s, 8, 2)
	if !ok1 || !ok2 || !ok3 || y == 0 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, false
	}
	return daysFromCivil(y, m, d) - pgEpochDays, true
}

// parseTimestamp accepts YYYY-MM-DD, optionally followed by ' ' or 'T' and
// HH:MM:SS with up to 6 fractional digits, and returns microseconds since
// 2000-01-01 00:00:00.
func parseTimestamp(s string) (int64, bool) {
	if len(s) < 10 {
		return 0, false
	}
	days, ok := parseDate(s[:10])
	if !ok {
		return 0, false
	}
	us := days * microsPerDay
	if len(s) == 10 {
		return us, true
	}
	t := s[10:]
	if len(t) < 9 || (t[0] != ' ' && t[0] != 'T') || t[3] != ':' || t[6] != ':' {
		return 0, false
	}
	h, ok1 := digitsAt(t, 1, 2)
	mi, ok2 := digitsAt(t, 4, 2)
	se, ok3 := digitsAt(t, 7, 2)
	if !ok1 || !ok2 || !ok3 || h > 23 || mi > 59 || se > 59 {
		return 0, false
	}
	us += int64((h*60+mi)*60+se) * microsPerSec
	frac := t[9:]
	if frac == "" {
		return us, true
	}
	if frac[0] != '.' || len(frac) < 2 || len(frac) > 7 {
		return 0, false
	}
	f, ok := digitsAt(frac, 1, len(frac)-1)
	if !ok {
		return 0, false
	}
	for range 7 - len(frac) {
		f *= 10
	}
	return us + int64(f), true
}

func digitsAt(s string, off, n int) (int, bool) {
	v := 0
	for i := off; i < off+n; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns days since 1970-01-01 of a proleptic Gregorian
// date (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era*146097 + doe - 719468)
}
