package spec

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Cron is a schedule expression. Users may write the 5-field form
// ("0 6 * * *"), a Quartz expression as Databricks Jobs use
// ("0 0 6 * * ?", seconds first, optional year) or a descriptor (@daily);
// it is normalised to 5 fields, which is what Temporal schedules receive.
type Cron struct {
	Expr     string // normalised 5-field expression
	Original string // as written
}

var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)

var cronDescriptors = map[string]string{
	"@yearly":   "0 0 1 1 *",
	"@annually": "0 0 1 1 *",
	"@monthly":  "0 0 1 * *",
	"@weekly":   "0 0 * * 0",
	"@daily":    "0 0 * * *",
	"@midnight": "0 0 * * *",
	"@hourly":   "0 * * * *",
}

var cronHint = `write 5 fields "minute hour day-of-month month day-of-week" (e.g. "0 6 * * *") or Quartz "0 0 6 * * ?"`

// ParseCron validates and normalises a cron expression.
func ParseCron(s string) (Cron, error) {
	orig := s
	s = strings.TrimSpace(s)
	if d, ok := cronDescriptors[strings.ToLower(s)]; ok {
		return Cron{Expr: d, Original: orig}, nil
	}
	fields := strings.Fields(s)
	switch len(fields) {
	case 5:
		for _, f := range fields {
			if f == "?" {
				return Cron{}, hinted{fmt.Sprintf("cron %q: \"?\" is Quartz syntax", s), "use * in a 5-field expression, or write all 6 Quartz fields (seconds first)"}
			}
		}
	case 6, 7:
		conv, err := quartzToFive(fields)
		if err != nil {
			return Cron{}, hinted{fmt.Sprintf("cron %q: %v", s, err), cronHint}
		}
		fields = conv
	default:
		return Cron{}, hinted{fmt.Sprintf("cron %q has %d fields", s, len(fields)), cronHint}
	}
	expr := strings.Join(fields, " ")
	if _, err := cronParser.Parse(expr); err != nil {
		return Cron{}, hinted{fmt.Sprintf("cron %q: %v", s, err), cronHint}
	}
	return Cron{Expr: expr, Original: orig}, nil
}

// quartzToFive converts Quartz fields (sec min hour dom month dow [year]).
func quartzToFive(f []string) ([]string, error) {
	if f[0] != "0" {
		return nil, fmt.Errorf("seconds field %q: schedules have minute precision, use 0", f[0])
	}
	if len(f) == 7 && f[6] != "*" && f[6] != "?" {
		return nil, fmt.Errorf("year field %q is not supported", f[6])
	}
	minute, hour, dom, month, dow := f[1], f[2], f[3], f[4], f[5]
	// W is a day-of-month modifier only: day-of-week names (WED) contain it.
	for _, x := range []struct{ field, mods string }{{dom, "LW#"}, {dow, "L#"}} {
		if strings.ContainsAny(strings.ToUpper(x.field), x.mods) {
			return nil, fmt.Errorf("%q (L, W and # modifiers) is not supported", x.field)
		}
	}
	if dom == "?" {
		dom = "*"
	}
	if dow == "?" {
		dow = "*"
	} else {
		conv, err := quartzDow(dow)
		if err != nil {
			return nil, err
		}
		dow = conv
	}
	return []string{minute, hour, dom, month, dow}, nil
}

// quartzDow shifts Quartz day numbers (1=SUN..7=SAT) to cron's (0=SUN..6=SAT),
// keeping names, ranges, lists and steps.
func quartzDow(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			b.WriteByte(c)
			continue
		}
		j := i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		num := s[i:j]
		// a step value (after '/') is a count, not a day
		if i > 0 && s[i-1] == '/' {
			b.WriteString(num)
		} else {
			var n int
			fmt.Sscanf(num, "%d", &n)
			if n < 1 || n > 7 {
				return "", fmt.Errorf("day of week %d is out of range 1-7 (Quartz: 1=SUN)", n)
			}
			fmt.Fprintf(&b, "%d", n-1)
		}
		i = j - 1
	}
	return b.String(), nil
}

// Next returns the next activation strictly after t in the given time zone.
func (c Cron) Next(t time.Time, loc *time.Location) time.Time {
	sched, err := cronParser.Parse(c.Expr)
	if err != nil {
		return time.Time{}
	}
	if loc == nil {
		loc = time.UTC
	}
	return sched.Next(t.In(loc))
}

// Prev returns the latest activation at or before t, searching back up to a year.
func (c Cron) Prev(t time.Time, loc *time.Location) time.Time {
	sched, err := cronParser.Parse(c.Expr)
	if err != nil {
		return time.Time{}
	}
	if loc == nil {
		loc = time.UTC
	}
	// step back in growing windows until an activation is found; the last
	// window is a full year (doubling from 1h alone stops at 341 days)
	const year = 366 * 24 * time.Hour
	for win := time.Hour; ; win = min(2*win, year) {
		var last time.Time
		for x := sched.Next(t.Add(-win).In(loc)); !x.After(t); x = sched.Next(x) {
			last = x
		}
		if !last.IsZero() || win == year {
			return last
		}
	}
}

func (c Cron) String() string { return c.Expr }

// UnmarshalText implements encoding.TextUnmarshaler.
func (c *Cron) UnmarshalText(b []byte) error {
	v, err := ParseCron(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (c Cron) MarshalText() ([]byte, error) { return []byte(c.Expr), nil }
