package tasks

import (
	"fmt"
	"math/bits"
	"strings"
	"time"
)

var descriptors = map[string]string{
	"@yearly": "every year on 1 January at 00:00", "@annually": "every year on 1 January at 00:00",
	"@monthly": "on the 1st of every month at 00:00", "@weekly": "every Sunday at 00:00",
	"@daily": "every day at 00:00", "@midnight": "every day at 00:00", "@hourly": "every hour, on the hour",
}

// Describe says a schedule in words: "every day at 08:00", "every 2h0m0s",
// "once, on Wed 2 Dec 2026 09:00". Cron expressions outside the common
// shapes are shown as written; the next run times say the rest.
func Describe(s Schedule) string {
	switch s.Kind {
	case Every:
		return "every " + shortDuration(s.interval) + ", from " + s.Anchor.In(s.Loc).Format("Mon 2 Jan 15:04")
	case Once:
		return "once, on " + s.at.In(s.Loc).Format("Mon 2 Jan 2006 15:04")
	case Cron:
		if d, ok := descriptors[s.Expr]; ok {
			return d
		}
		return describeCron(s)
	}
	return string(s.Kind) + " " + s.Expr
}

func describeCron(s Schedule) string {
	f := strings.Fields(s.Expr)
	if len(f) != 5 {
		return fmt.Sprintf("cron %q", s.Expr)
	}
	min, hour, dom, mon, dow := f[0], f[1], f[2], f[3], f[4]
	if mon != "*" || dom != "*" {
		return fmt.Sprintf("cron %q (local time)", s.Expr)
	}
	days := "every day"
	if dow != "*" {
		days = "on " + weekdays(s.spec.Dow)
	}
	single := func(bitsSet uint64) (int, bool) {
		b := bitsSet &^ starBit
		if bits.OnesCount64(b) != 1 {
			return 0, false
		}
		return bits.TrailingZeros64(b), true
	}
	m, oneMin := single(s.spec.Minute)
	h, oneHour := single(s.spec.Hour)
	switch {
	case oneMin && oneHour:
		return fmt.Sprintf("%s at %02d:%02d", days, h, m)
	case oneMin && hour == "*":
		return fmt.Sprintf("%s, every hour at :%02d", days, m)
	case strings.HasPrefix(min, "*/") && hour == "*":
		return fmt.Sprintf("%s, every %s minutes", days, strings.TrimPrefix(min, "*/"))
	}
	return fmt.Sprintf("cron %q (local time)", s.Expr)
}

func weekdays(mask uint64) string {
	var names []string
	for d := time.Sunday; d <= time.Saturday; d++ {
		if mask&(1<<uint(d)) != 0 {
			names = append(names, d.String()[:3])
		}
	}
	switch strings.Join(names, ",") {
	case "Mon,Tue,Wed,Thu,Fri":
		return "weekdays"
	case "Sun,Sat":
		return "weekends"
	}
	return strings.Join(names, ", ")
}

func shortDuration(d time.Duration) string {
	s := d.String()
	s = strings.TrimSuffix(s, "0s")
	return strings.TrimSuffix(s, "0m")
}
