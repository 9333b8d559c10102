package tasks

import (
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // named zones on machines without a zoneinfo database
)

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return loc
}

func mustParse(t *testing.T, k Kind, expr string, loc *time.Location, anchor, now time.Time) Schedule {
	t.Helper()
	s, err := Parse(k, expr, loc, anchor, now)
	if err != nil {
		t.Fatalf("parse %s %q: %v", k, expr, err)
	}
	return s
}

func TestCronNextRuns(t *testing.T) {
	t.Parallel()
	utc := time.UTC
	base := time.Date(2026, 12, 1, 7, 59, 30, 0, utc) // a Tuesday
	cases := []struct {
		expr string
		want []string
	}{
		{"0 8 * * *", []string{"2026-12-01 08:00", "2026-12-02 08:00", "2026-12-03 08:00"}},
		{"*/20 8 * * *", []string{"2026-12-01 08:00", "2026-12-01 08:20", "2026-12-01 08:40"}},
		{"0 9 * * 1-5", []string{"2026-12-01 09:00", "2026-12-02 09:00", "2026-12-03 09:00"}},
		{"0 9 * * 6", []string{"2026-12-05 09:00", "2026-12-12 09:00", "2026-12-19 09:00"}},
		{"@daily", []string{"2026-12-02 00:00", "2026-12-03 00:00", "2026-12-04 00:00"}},
		{"@hourly", []string{"2026-12-01 08:00", "2026-12-01 09:00", "2026-12-01 10:00"}},
		{"0 0 1 * *", []string{"2027-01-01 00:00", "2027-02-01 00:00", "2027-03-01 00:00"}},
		// Day of month OR day of week when both are restricted (cron's rule).
		{"0 12 15 * 5", []string{"2026-12-04 12:00", "2026-12-11 12:00", "2026-12-15 12:00"}},
		{"0 0 29 2 *", []string{"2028-02-29 00:00", "2032-02-29 00:00", "2036-02-29 00:00"}},
	}
	for _, c := range cases {
		t.Run(c.expr, func(t *testing.T) {
			s := mustParse(t, Cron, c.expr, utc, time.Time{}, base)
			var got []string
			for _, at := range s.NextN(base, 3) {
				got = append(got, at.In(utc).Format("2006-01-02 15:04"))
			}
			if strings.Join(got, ", ") != strings.Join(c.want, ", ") {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestCronNeverMatchingEnds(t *testing.T) {
	t.Parallel()
	s := mustParse(t, Cron, "0 0 30 2 *", time.UTC, time.Time{}, time.Now())
	if got := s.Next(time.Now()); !got.IsZero() {
		t.Fatalf("Feb 30: got %v, want no run", got)
	}
}

func TestCronAcrossDaylightSaving(t *testing.T) {
	t.Parallel()
	ny := zone(t, "America/New_York")
	berlin := zone(t, "Europe/Berlin")
	// New York: 2026-03-08 02:00 EST → 03:00 EDT; 2026-11-01 02:00 EDT → 01:00 EST.
	// Berlin: 2026-03-29 02:00 CET → 03:00 CEST; 2026-10-25 03:00 CEST → 02:00 CET.
	cases := []struct {
		name string
		loc  *time.Location
		expr string
		from time.Time
		n    int
		want []string // RFC 3339 in the zone
	}{
		{"spring forward: 02:30 runs once, right after the jump", ny, "30 2 * * *",
			time.Date(2026, 3, 7, 12, 0, 0, 0, ny), 3,
			[]string{"2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00", "2026-03-10T02:30:00-04:00"}},
		{"spring forward: 02:00 and 02:30 collapse into one run", ny, "0,30 2 * * *",
			time.Date(2026, 3, 8, 0, 0, 0, 0, ny), 2,
			[]string{"2026-03-08T03:00:00-04:00", "2026-03-09T02:00:00-04:00"}},
		{"fall back: 01:30 runs once, at its first occurrence", ny, "30 1 * * *",
			time.Date(2026, 10, 31, 12, 0, 0, 0, ny), 2,
			[]string{"2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"}},
		{"fall back: an hourly job runs in both copies of the hour", ny, "0 * * * *",
			time.Date(2026, 11, 1, 0, 30, 0, 0, ny), 4,
			[]string{"2026-11-01T01:00:00-04:00", "2026-11-01T01:00:00-05:00", "2026-11-01T02:00:00-05:00", "2026-11-01T03:00:00-05:00"}},
		{"spring forward: an hourly job skips the missing hour", ny, "0 * * * *",
			time.Date(2026, 3, 8, 0, 30, 0, 0, ny), 3,
			[]string{"2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-08T04:00:00-04:00"}},
		{"Berlin spring forward", berlin, "30 2 * * *",
			time.Date(2026, 3, 28, 12, 0, 0, 0, berlin), 2,
			[]string{"2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"}},
		{"Berlin fall back", berlin, "30 2 * * *",
			time.Date(2026, 10, 24, 12, 0, 0, 0, berlin), 2,
			[]string{"2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := mustParse(t, Cron, c.expr, c.loc, time.Time{}, c.from)
			var got []string
			for _, at := range s.NextN(c.from, c.n) {
				got = append(got, at.In(c.loc).Format(time.RFC3339))
			}
			if strings.Join(got, " ") != strings.Join(c.want, " ") {
				t.Errorf("got  %v\nwant %v", got, c.want)
			}
		})
	}
}

func TestIntervalIsAnchored(t *testing.T) {
	t.Parallel()
	anchor := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	s := mustParse(t, Every, "2h", time.UTC, anchor, anchor)
	// Looked at late (a run took 7 minutes): the next run is still on the grid.
	if got, want := s.Next(anchor.Add(2*time.Hour+7*time.Minute)), anchor.Add(4*time.Hour); !got.Equal(want) {
		t.Errorf("next after a late run: got %v, want %v", got, want)
	}
	if got := s.Next(anchor.Add(-time.Hour)); !got.Equal(anchor) {
		t.Errorf("before the anchor: got %v, want the anchor", got)
	}
	if got, want := s.Next(anchor), anchor.Add(2*time.Hour); !got.Equal(want) {
		t.Errorf("at the anchor: got %v, want %v", got, want)
	}
}

func TestOnce(t *testing.T) {
	t.Parallel()
	loc := zone(t, "Europe/Berlin")
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, loc)
	s := mustParse(t, Once, "2026-12-02 09:00", loc, time.Time{}, now)
	want := time.Date(2026, 12, 2, 9, 0, 0, 0, loc)
	if got := s.Next(now); !got.Equal(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if got := s.Next(want); !got.IsZero() {
		t.Fatalf("after it ran: got %v, want none", got)
	}
	hm := mustParse(t, Once, "09:00", loc, time.Time{}, now)
	if got := hm.Next(now); !got.Equal(want) {
		t.Fatalf("HH:MM already past today: got %v, want tomorrow %v", got, want)
	}
}

func TestParseRefusals(t *testing.T) {
	t.Parallel()
	now := time.Now()
	cases := []struct {
		kind Kind
		expr string
		want string
	}{
		{Cron, "61 * * * *", "cron expression"},
		{Cron, "* * *", "cron expression"},
		{Cron, "@every 5m", "interval schedule"},
		{Cron, "CRON_TZ=UTC 0 8 * * *", "local time zone"},
		{Every, "30s", "shorter than"},
		{Every, "soon", "want a duration"},
		{Once, "tomorrow-ish", "want YYYY-MM-DD"},
		{"hourly", "x", "unknown schedule kind"},
	}
	for _, c := range cases {
		_, err := Parse(c.kind, c.expr, time.UTC, time.Time{}, now)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %q: got %v, want an error containing %q", c.kind, c.expr, err, c.want)
		}
	}
	if d, err := ParseInterval("1d"); err != nil || d != 24*time.Hour {
		t.Errorf("1d: got %v %v", d, err)
	}
}

func TestDecide(t *testing.T) {
	t.Parallel()
	utc := time.UTC
	s := mustParse(t, Cron, "0 8 * * *", utc, time.Time{}, time.Now())
	due := time.Date(2026, 12, 1, 8, 0, 0, 0, utc)
	cases := []struct {
		name   string
		now    time.Time
		want   Action
		due    time.Time
		missed int
	}{
		{"on time", due.Add(5 * time.Second), Run, due, 0},
		{"late, within the window", due.Add(3 * time.Hour), RunLate, due, 0},
		{"too late", due.Add(13 * time.Hour), Skip, due, 0},
		// Away three days: only the latest missed run counts, once.
		{"away three days, back at 09:00", due.Add(72*time.Hour + time.Hour), RunLate, due.Add(72 * time.Hour), 3},
		{"away three days, back at 23:00", due.Add(72*time.Hour + 15*time.Hour), Skip, due.Add(72 * time.Hour), 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, ok := Decide(s, due, c.now, DefaultCatchUp)
			if !ok {
				t.Fatal("not due")
			}
			if d.Action != c.want || !d.Due.Equal(c.due) || d.Missed != c.missed {
				t.Errorf("got %s due %v missed %d, want %s due %v missed %d", d.Action, d.Due, d.Missed, c.want, c.due, c.missed)
			}
			if !d.Next.After(c.now) {
				t.Errorf("next %v is not after now %v: the task could run twice", d.Next, c.now)
			}
		})
	}
	if _, ok := Decide(s, due, due.Add(-time.Second), DefaultCatchUp); ok {
		t.Error("due before its time")
	}
}
