package ui

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/berth-app/berth/app/store"
)

// storeEvents is the size of the real audit log the pager is tested on.
const storeEvents = 100_000

// auditStore opens a real SQLite audit log of n events in a temp folder,
// event #seq made as auditEvent(seq) makes it for the fake (group, session,
// kind and summary from the seq), so that what each filter must match is
// known without asking the store.
func auditStore(tb testing.TB, n int) *store.Store {
	tb.Helper()
	s, err := store.Open(filepath.Join(tb.TempDir(), "berth.db"), store.Options{QueueSize: n + 1, MaxBatch: 5000})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	for seq := int64(1); seq <= int64(n); seq++ {
		ev := auditEvent(seq)
		s.Record(store.Event{Group: ev.Group, Session: ev.Session, Kind: ev.Kind, Actor: ev.Actor, Summary: ev.Summary, Detail: ev.Detail})
	}
	// The writer commits in order: once this is acknowledged, all are.
	last, err := s.Append(context.Background(), store.Event{Kind: "test.last", Actor: store.ActorSystem, Summary: "last"})
	if err != nil || last.Seq != int64(n)+1 || s.Err() != nil {
		tb.Fatalf("filling the log: the last event got #%d, %v (store: %v); want #%d", last.Seq, err, s.Err(), n+1)
	}
	return s
}

// wantSeqs are the seqs of the events matching q among the first n.
func wantSeqs(n int, q AuditQuery) []int64 {
	var out []int64
	for seq := int64(1); seq <= int64(n); seq++ {
		ev := auditEvent(seq)
		if (q.Group == "" || ev.Group == q.Group) && (q.Session == "" || ev.Session == q.Session) &&
			(q.Kind == "" || ev.Kind == q.Kind || len(ev.Kind) > len(q.Kind) && ev.Kind[:len(q.Kind)+1] == q.Kind+".") {
			out = append(out, seq)
		}
	}
	return out
}

// TestAuditPagerOnTheRealStore scrolls the audit viewer's pager through a
// real SQLite log of 100,000 events, with the filters the viewer offers:
// every row is the right event, in order, none missing, and memory stays
// within the window.
func TestAuditPagerOnTheRealStore(t *testing.T) {
	s := auditStore(t, storeEvents)
	ctx := context.Background()
	fetch := func(f store.Filter) ([]store.Event, error) { return s.Events(ctx, f) }
	for _, q := range []AuditQuery{
		{},
		{Kind: "mount.add", Session: "s0"},
		{Group: "home", Session: "s3", Kind: "exec.end"},
	} {
		t.Run(q.Group+"/"+q.Session+"/"+q.Kind, func(t *testing.T) {
			t.Parallel()
			want := wantSeqs(storeEvents, q)
			if q == (AuditQuery{}) {
				want = append(want, storeEvents+1) // the filler's last event
			}
			p := NewAuditPager(fetch)
			if err := p.From(q, 0); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			for i := 0; i < p.Len(); i++ {
				ev, err := p.Row(i)
				if err != nil {
					t.Fatalf("row %d: %v", i, err)
				}
				if i >= len(want) || ev.Seq != want[i] {
					t.Fatalf("row %d: got #%d %s/%s/%s, want #%d", i, ev.Seq, ev.Group, ev.Session, ev.Kind, want[min(i, len(want)-1)])
				}
				if ev.Seq <= storeEvents && ev.Summary != auditEvent(ev.Seq).Summary {
					t.Fatalf("row %d: #%d says %q, want %q", i, ev.Seq, ev.Summary, auditEvent(ev.Seq).Summary)
				}
				if n := p.Loaded(); n > p.Window*p.PageSize {
					t.Fatalf("row %d: %d events in memory, want at most %d", i, n, p.Window*p.PageSize)
				}
			}
			if p.Len() != len(want) || !p.Done() {
				t.Errorf("rows: got %d (done %v), want %d", p.Len(), p.Done(), len(want))
			}
			pages := (len(want) + p.PageSize - 1) / p.PageSize
			t.Logf("%d rows in %d pages, %d store reads, %s per page (not asserted)", p.Len(), pages, p.Fetches,
				(time.Since(start) / time.Duration(max(pages, 1))).Round(time.Microsecond))

			// The newest page, then back a page: the viewer's opening and "Earlier".
			if err := p.Latest(q); err != nil {
				t.Fatal(err)
			}
			if ev, err := p.Row(p.Len() - 1); err != nil || ev.Seq != want[len(want)-1] {
				t.Errorf("the newest row: got #%d, %v; want #%d", ev.Seq, err, want[len(want)-1])
			}
			base := p.Base()
			if ok, err := p.Earlier(); err != nil || !ok || p.Base() >= base {
				t.Errorf("Earlier: got %v, %v, base %d; want an earlier base than %d", ok, err, p.Base(), base)
			}
			if ev, err := p.Row(0); err != nil || ev.Seq <= p.Base() || ev.Seq > base {
				t.Errorf("after Earlier, row 0: got #%d, %v; want one after #%d up to #%d", ev.Seq, err, p.Base(), base)
			}
		})
	}
}

// BenchmarkAuditPagerPage measures how long the audit viewer takes to read
// one page of a 100,000-event real log while scrolling, unfiltered and with
// a filter that matches one event in 30 (make bench prints it).
func BenchmarkAuditPagerPage(b *testing.B) {
	s := auditStore(b, storeEvents)
	ctx := context.Background()
	fetch := func(f store.Filter) ([]store.Event, error) { return s.Events(ctx, f) }
	for _, q := range []AuditQuery{{}, {Kind: "mount.add", Session: "s0"}} {
		b.Run("filter="+q.Session+q.Kind, func(b *testing.B) {
			pages := 0
			start := time.Now()
			for range b.N {
				p := NewAuditPager(fetch)
				if err := p.From(q, 0); err != nil {
					b.Fatal(err)
				}
				for i := 0; i < p.Len(); i += p.PageSize {
					if _, err := p.Row(i); err != nil {
						b.Fatal(err)
					}
				}
				pages += p.Fetches
			}
			b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(pages), "ms/page")
		})
	}
}
