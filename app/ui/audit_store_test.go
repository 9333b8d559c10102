package ui

import (
	"context"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/berth-app/berth/app/assistant"
	"github.com/berth-app/berth/app/store"
	"github.com/berth-app/berth/app/ui/internal/auditfill"
)

// The installation's audit log (assistant.Instance.Store) is the viewer's.
var _ AuditLog = (*store.Store)(nil)

// storeEvents is the size of the real audit log the pager is tested on:
// more matching events than the pager's window for every filter below.
// make test builds its writer with -race, under which SQLite is ~20× slower;
// the benchmark reads a log of benchEvents.
const storeEvents, benchEvents = 40_000, 100_000

// auditStore opens a real SQLite audit log of n+1 events (auditfill's, the
// last a marker) in a temp folder. A helper process writes it, built as the
// go command is told (make test: GOFLAGS=-race, the one build mode of its
// packages), not as this test binary.
func auditStore(tb testing.TB, n int) *store.Store {
	tb.Helper()
	dir := tb.TempDir()
	fill := filepath.Join(dir, "fill")
	if out, err := exec.Command("go", "build", "-o", fill, "./internal/auditfill/fill").CombinedOutput(); err != nil {
		tb.Fatalf("build the filler: %v\n%s", err, out)
	}
	path := filepath.Join(dir, "berth.db")
	if out, err := exec.Command(fill, path, strconv.Itoa(n)).CombinedOutput(); err != nil {
		tb.Fatalf("fill the audit log: %v\n%s", err, out)
	}
	s, err := store.Open(path, store.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// wantSeqs are the seqs of the events matching q in a log of n+1 events.
func wantSeqs(n int, q AuditQuery) []int64 {
	var out []int64
	for seq := int64(1); seq <= int64(n)+1; seq++ {
		ev := auditfill.Event(seq)
		if (q.Group == "" || ev.Group == q.Group) && (q.Session == "" || ev.Session == q.Session) &&
			(q.Kind == "" || ev.Kind == q.Kind || len(ev.Kind) > len(q.Kind) && ev.Kind[:len(q.Kind)+1] == q.Kind+".") {
			out = append(out, seq)
		}
	}
	return out
}

// TestAuditPagerOnTheRealStore scrolls the audit viewer's pager through a
// real SQLite log of 40,000 events, with the filters the viewer offers:
// every row is the right event, in order, none missing, and memory stays
// within the window.
func TestAuditPagerOnTheRealStore(t *testing.T) {
	t.Parallel() // no Fyne app: the pager alone, beside the other parallel tests
	s := auditStore(t, storeEvents)
	ctx := context.Background()
	fetch := func(f assistant.AuditFilter) ([]assistant.AuditEvent, error) { return s.Events(ctx, f) }
	for _, q := range []AuditQuery{
		{},
		{Kind: assistant.AuditMountAdd, Session: "s0"},
		{Group: "home", Session: "s3", Kind: assistant.AuditExecEnd},
	} {
		t.Run(q.Group+"/"+q.Session+"/"+q.Kind, func(t *testing.T) {
			t.Parallel()
			want := wantSeqs(storeEvents, q)
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
				if want := auditfill.Event(ev.Seq); ev.Summary != want.Summary || ev.Group != want.Group || ev.Kind != want.Kind {
					t.Fatalf("row %d: #%d is %s %s %q, want %s %s %q", i, ev.Seq, ev.Group, ev.Kind, ev.Summary, want.Group, want.Kind, want.Summary)
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
	s := auditStore(b, benchEvents)
	ctx := context.Background()
	fetch := func(f assistant.AuditFilter) ([]assistant.AuditEvent, error) { return s.Events(ctx, f) }
	for _, q := range []AuditQuery{{}, {Kind: assistant.AuditMountAdd, Session: "s0"}} {
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
