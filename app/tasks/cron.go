package tasks

import (
	"sort"
	"time"
)

// starBit is robfig/cron's mark for a field written as "*" (no step).
const starBit = 1 << 63

// searchDays bounds the search for the next cron run (an expression such as
// "0 0 30 2 *" never matches; "0 0 29 2 *" matches once in four years).
const searchDays = 366*4 + 2

// nextCron walks the calendar in local wall-clock time and returns the first
// run after t. Daylight-saving transitions follow the rule cron users know
// (Vixie cron's):
//   - a fixed time that does not exist on the spring-forward day (02:30 when
//     clocks jump from 02:00 to 03:00) runs once, at the first instant after
//     the jump; several such times collapse into that one run;
//   - a fixed time that occurs twice on the fall-back day runs once, at its
//     first occurrence;
//   - a schedule whose hour field is "*" follows the clock: it skips the
//     minutes that do not exist and runs in both copies of a repeated hour.
func (s Schedule) nextCron(t time.Time) time.Time {
	a := t.In(s.Loc)
	first := time.Date(a.Year(), a.Month(), a.Day(), 0, 0, 0, 0, time.UTC)
	hourWild := s.spec.Hour&starBit != 0
	for i := 0; i < searchDays; i++ {
		d := first.AddDate(0, 0, i)
		if !s.dayMatches(d) {
			continue
		}
		for h := 0; h < 24; h++ {
			if s.spec.Hour&(1<<uint(h)) == 0 {
				continue
			}
			for m := 0; m < 60; m++ {
				if s.spec.Minute&(1<<uint(m)) == 0 {
					continue
				}
				for _, at := range wallInstants(d, h, m, s.Loc, hourWild) {
					if at.After(t) {
						return at
					}
				}
			}
		}
	}
	return time.Time{}
}

// dayMatches applies cron's day rule: when both day-of-month and day-of-week
// are restricted, either may match; otherwise both must.
func (s Schedule) dayMatches(d time.Time) bool {
	if s.spec.Month&(1<<uint(d.Month())) == 0 {
		return false
	}
	dom := s.spec.Dom&(1<<uint(d.Day())) != 0
	dow := s.spec.Dow&(1<<uint(d.Weekday())) != 0
	if s.spec.Dom&starBit != 0 || s.spec.Dow&starBit != 0 {
		return dom && dow
	}
	return dom || dow
}

// wallInstants is when the wall-clock time h:m of calendar day d happens in
// loc: usually once; never or twice across a daylight-saving change (see
// nextCron for which of those are kept).
func wallInstants(d time.Time, h, m int, loc *time.Location, follow bool) []time.Time {
	t := time.Date(d.Year(), d.Month(), d.Day(), h, m, 0, 0, loc)
	if !sameWall(t, d, h, m) { // in the spring-forward gap
		if follow {
			return nil
		}
		start, end := t.ZoneBounds()
		if t.Hour()*60+t.Minute() > h*60+m {
			return []time.Time{start}
		}
		return []time.Time{end}
	}
	out := []time.Time{t}
	for delta := -2 * time.Hour; delta <= 2*time.Hour; delta += 15 * time.Minute {
		if c := t.Add(delta); delta != 0 && sameWall(c, d, h, m) {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	if !follow {
		out = out[:1]
	}
	return out
}

func sameWall(t, d time.Time, h, m int) bool {
	return t.Year() == d.Year() && t.Month() == d.Month() && t.Day() == d.Day() && t.Hour() == h && t.Minute() == m
}
