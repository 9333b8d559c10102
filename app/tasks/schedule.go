// Package tasks is the pure part of scheduled tasks: parsing a schedule
// (a cron expression in local time, an interval, or one run at a time),
// computing its next run times, and deciding what to do with a run that is
// due — run it, run it late, or skip it — after Berth was away. It knows
// nothing of the store, the runtime or the faces.
package tasks

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Kind says how a schedule repeats.
type Kind string

// The kinds of schedule.
const (
	Cron  Kind = "cron"  // a 5-field cron expression or @daily-style descriptor, in local time
	Every Kind = "every" // a fixed interval, anchored to the first run so it does not drift
	Once  Kind = "once"  // one run at a time
)

// MinInterval is the shortest interval an Every schedule may have.
const MinInterval = time.Minute

// Schedule is a parsed schedule. The zero value is invalid.
type Schedule struct {
	Kind   Kind
	Expr   string         // as the user wrote it: "0 8 * * 1-5", "2h", "2026-12-02 09:00"
	Loc    *time.Location // the zone cron and once times are read in
	Anchor time.Time      // Every: the first run; later runs are Anchor + k·interval

	spec     *cron.SpecSchedule
	interval time.Duration
	at       time.Time
}

var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Parse reads a schedule. For Every, anchor is the first run (usually the
// time the task was created plus one interval); for Once, expr is a time in
// loc ("2006-01-02 15:04", RFC 3339, or "15:04" for the next such time after
// now).
func Parse(kind Kind, expr string, loc *time.Location, anchor, now time.Time) (Schedule, error) {
	if loc == nil {
		loc = time.Local
	}
	expr = strings.TrimSpace(expr)
	s := Schedule{Kind: kind, Expr: expr, Loc: loc}
	switch kind {
	case Cron:
		if strings.HasPrefix(expr, "@every") {
			return s, errors.New("use an interval schedule (--every) instead of @every")
		}
		if strings.HasPrefix(expr, "TZ=") || strings.HasPrefix(expr, "CRON_TZ=") {
			return s, errors.New("a cron schedule runs in your local time zone; remove the TZ= prefix")
		}
		sched, err := cronParser.Parse(expr)
		if err != nil {
			return s, fmt.Errorf("cron expression %q: %v", expr, err)
		}
		spec, ok := sched.(*cron.SpecSchedule)
		if !ok {
			return s, fmt.Errorf("cron expression %q is not a calendar schedule", expr)
		}
		s.spec = spec
	case Every:
		d, err := ParseInterval(expr)
		if err != nil {
			return s, err
		}
		s.interval = d
		s.Anchor = anchor
		if s.Anchor.IsZero() {
			s.Anchor = now.Add(d)
		}
	case Once:
		at, err := ParseTime(expr, loc, now)
		if err != nil {
			return s, err
		}
		s.at = at
	default:
		return s, fmt.Errorf("unknown schedule kind %q (want cron, every or once)", kind)
	}
	return s, nil
}

// ParseInterval reads "90m", "2h", "1h30m", "1d" (a day is 24 hours).
func ParseInterval(expr string) (time.Duration, error) {
	e := strings.TrimPrefix(strings.TrimSpace(expr), "every ")
	var d time.Duration
	var err error
	if days, ok := strings.CutSuffix(e, "d"); ok && !strings.ContainsAny(days, "hms") {
		d, err = time.ParseDuration(days + "h")
		d *= 24
	} else {
		d, err = time.ParseDuration(e)
	}
	if err != nil {
		return 0, fmt.Errorf("interval %q: want a duration like 30m, 2h or 1d", expr)
	}
	if d < MinInterval {
		return 0, fmt.Errorf("interval %q is shorter than %s", expr, MinInterval)
	}
	return d, nil
}

// ParseTime reads a one-off run time in loc.
func ParseTime(expr string, loc *time.Location, now time.Time) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02 15:04:05"} {
		if layout == time.RFC3339 {
			if t, err := time.Parse(layout, expr); err == nil {
				return t, nil
			}
			continue
		}
		if t, err := time.ParseInLocation(layout, expr, loc); err == nil {
			return t, nil
		}
	}
	if t, err := time.ParseInLocation("15:04", expr, loc); err == nil {
		n := now.In(loc)
		at := time.Date(n.Year(), n.Month(), n.Day(), t.Hour(), t.Minute(), 0, 0, loc)
		if !at.After(now) {
			at = time.Date(n.Year(), n.Month(), n.Day()+1, t.Hour(), t.Minute(), 0, 0, loc)
		}
		return at, nil
	}
	return time.Time{}, fmt.Errorf("time %q: want YYYY-MM-DD HH:MM (local time), RFC 3339, or HH:MM", expr)
}

// Next is the first run strictly after t, or the zero time when there is
// none (a one-off run that has passed).
func (s Schedule) Next(t time.Time) time.Time {
	switch s.Kind {
	case Cron:
		return s.nextCron(t)
	case Every:
		if t.Before(s.Anchor) {
			return s.Anchor
		}
		k := t.Sub(s.Anchor)/s.interval + 1
		return s.Anchor.Add(k * s.interval)
	case Once:
		if s.at.After(t) {
			return s.at
		}
	}
	return time.Time{}
}

// NextN lists up to n runs after t (for showing the user what a schedule
// means as they type it).
func (s Schedule) NextN(t time.Time, n int) []time.Time {
	var out []time.Time
	for len(out) < n {
		t = s.Next(t)
		if t.IsZero() {
			break
		}
		out = append(out, t)
	}
	return out
}

// Interval is an Every schedule's interval.
func (s Schedule) Interval() time.Duration { return s.interval }
