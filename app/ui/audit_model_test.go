package ui

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/berth-app/berth/app/assistant"
)

// scroll reads every row in order, as a list scrolled to the end would,
// and checks that they are the matching events in seq order.
func scroll(t *testing.T, p *AuditPager, q AuditQuery) (rows int) {
	t.Helper()
	prev := p.Base()
	for i := 0; i < p.Len(); i++ {
		ev, err := p.Row(i)
		if err != nil {
			t.Fatalf("row %d of %d: %v", i, p.Len(), err)
		}
		if ev.Seq <= prev || !matches(ev, q.filter(0, 0, false)) {
			t.Fatalf("row %d: got #%d %s %s after #%d; want the next match of %+v", i, ev.Seq, ev.Group, ev.Kind, prev, q)
		}
		prev = ev.Seq
		if n := p.Loaded(); n > p.Window*p.PageSize {
			t.Fatalf("row %d: %d events in memory, want at most %d", i, n, p.Window*p.PageSize)
		}
	}
	return p.Len()
}

func TestAuditPagerScroll(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		n           int64
		size, win   int
		q           AuditQuery
		want        int // matching events
		wantFetches int // reads to scroll from the first to the last row
	}{
		{"empty log", 0, 10, 2, AuditQuery{}, 0, 1},
		{"less than a page", 7, 10, 2, AuditQuery{}, 7, 1},
		{"exactly two pages", 20, 10, 2, AuditQuery{}, 20, 3},
		{"group filter", 95, 10, 2, AuditQuery{Group: "work"}, 48, 5},
		{"kind prefix", 30, 4, 2, AuditQuery{Kind: "exec"}, 20, 6},
		{"kind and session", 300, 7, 3, AuditQuery{Kind: assistant.AuditMountAdd, Session: "s0"}, 20, 3},
		{"100k events", 100_000, AuditPageSize, AuditWindow, AuditQuery{}, 100_000, 100_000/AuditPageSize + 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			log := &fakeAudit{n: tc.n}
			p := &AuditPager{Fetch: func(f assistant.AuditFilter) ([]assistant.AuditEvent, error) { return log.Events(t.Context(), f) }, PageSize: tc.size, Window: tc.win}
			if err := p.From(tc.q, 0); err != nil {
				t.Fatal(err)
			}
			if got := scroll(t, p, tc.q); got != tc.want || !p.Done() {
				t.Errorf("rows: got %d (done %v), want %d", got, p.Done(), tc.want)
			}
			if p.Fetches != tc.wantFetches {
				t.Errorf("store reads: got %d, want %d", p.Fetches, tc.wantFetches)
			}
			if tc.want == 0 {
				return
			}
			// Back to the top: the first page was dropped and is read again.
			before := p.Fetches
			ev, err := p.Row(0)
			if err != nil || ev.Seq != firstMatch(tc.q) {
				t.Errorf("row 0 again: got #%d, %v; want #%d", ev.Seq, err, firstMatch(tc.q))
			}
			if tc.want > tc.size*tc.win && p.Fetches != before+1 {
				t.Errorf("row 0 again: %d reads, want 1", p.Fetches-before)
			}
		})
	}
}

func firstMatch(q AuditQuery) int64 {
	for s := int64(1); ; s++ {
		if matches(auditEvent(s), q.filter(0, 0, false)) {
			return s
		}
	}
}

func TestAuditPagerLatestAndEarlier(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		n         int64
		q         AuditQuery
		wantFirst int64 // first row after Latest
		earlier   []int64
	}{
		{"whole log", 1000, AuditQuery{}, 901, []int64{801, 701}},
		{"sparse filter doubles the step", 1000, AuditQuery{Session: "s0", Kind: assistant.AuditMountAdd}, 5, nil},
		{"short log", 30, AuditQuery{}, 1, nil},
		{"empty", 0, AuditQuery{}, 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			log := &fakeAudit{n: tc.n}
			p := &AuditPager{Fetch: func(f assistant.AuditFilter) ([]assistant.AuditEvent, error) { return log.Events(t.Context(), f) }, PageSize: 100, Window: 2}
			if err := p.Latest(tc.q); err != nil {
				t.Fatal(err)
			}
			if tc.n == 0 {
				if p.Len() != 0 || !p.Done() {
					t.Errorf("empty log: got %d rows, done %v", p.Len(), p.Done())
				}
				return
			}
			if ev, _ := p.Row(0); ev.Seq != tc.wantFirst {
				t.Errorf("first row after Latest: got #%d, want #%d", ev.Seq, tc.wantFirst)
			}
			for _, want := range tc.earlier {
				if moved, err := p.Earlier(); !moved || err != nil {
					t.Fatalf("Earlier: got %v, %v", moved, err)
				}
				if ev, _ := p.Row(0); ev.Seq != want {
					t.Errorf("first row after Earlier: got #%d, want #%d", ev.Seq, want)
				}
			}
			for i := 0; i < 64 && p.Base() > 0; i++ {
				if _, err := p.Earlier(); err != nil {
					t.Fatal(err)
				}
			}
			if moved, _ := p.Earlier(); moved || p.Base() != 0 {
				t.Errorf("at the start: moved %v, base %d; want no move, base 0", moved, p.Base())
			}
			if got := scroll(t, p, tc.q); got == 0 {
				t.Error("no rows from the start")
			}
		})
	}
}

func TestAuditPagerError(t *testing.T) {
	t.Parallel()
	p := NewAuditPager(func(assistant.AuditFilter) ([]assistant.AuditEvent, error) {
		return nil, errors.New("database is locked")
	})
	err := p.Latest(AuditQuery{})
	if err == nil || !strings.Contains(err.Error(), "database is locked") || p.Len() != 0 {
		t.Errorf("got %v with %d rows, want the store's error and no rows", err, p.Len())
	}
	if _, err := p.Row(0); err == nil {
		t.Error("row 0 of nothing: no error")
	}
}

func TestVerifyText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		r    assistant.AuditReport
		want string
	}{
		{"intact", assistant.AuditReport{OK: true, Events: 12345}, "Intact — 12,345 events"},
		{"one event", assistant.AuditReport{OK: true, Events: 1}, "Intact — 1 event"},
		{"edited", assistant.AuditReport{Problem: assistant.AuditEdited, FirstBad: 42, Reason: "event #42 was changed after it was written"},
			"BROKEN at #42 (edited): event #42 was changed after it was written"},
		{"truncated, no one event", assistant.AuditReport{Problem: assistant.AuditTruncated, Reason: "the anchor is at #90 but the log ends at #80"},
			"BROKEN (truncated): the anchor is at #90 but the log ends at #80"},
	}
	for _, tc := range tests {
		if got := VerifyText(tc.r); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestEventJSON(t *testing.T) {
	t.Parallel()
	ev := auditEvent(7)
	ev.Detail = json.RawMessage(`{"command":"make test","exit":0}`)
	got := EventJSON(ev)
	for _, want := range []string{`"seq": 7,`, `"kind": "exec.end",`, "\"detail\": {\n    \"command\": \"make test\",\n    \"exit\": 0\n  },"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
	ev.Detail = json.RawMessage(`{broken`)
	if got := EventJSON(ev); !strings.Contains(got, `"detail": "{broken"`) {
		t.Errorf("tampered detail: got\n%s", got)
	}
}

func BenchmarkAuditPagerScroll(b *testing.B) {
	log := &fakeAudit{n: 100_000}
	for b.Loop() {
		p := NewAuditPager(func(f assistant.AuditFilter) ([]assistant.AuditEvent, error) { return log.Events(b.Context(), f) })
		if err := p.From(AuditQuery{}, 0); err != nil {
			b.Fatal(err)
		}
		for i := 0; i < p.Len(); i++ {
			if _, err := p.Row(i); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(p.Loaded()), "events-in-memory")
	}
}
