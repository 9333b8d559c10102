package ui

import (
	"context"
	"sync/atomic"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/berth-app/berth/app/assistant"
)

// countedAudit counts its reads (from any goroutine).
type countedAudit struct {
	fakeAudit
	reads atomic.Int64
}

func (c *countedAudit) Events(ctx context.Context, f assistant.AuditFilter) ([]assistant.AuditEvent, error) {
	c.reads.Add(1)
	return c.fakeAudit.Events(ctx, f)
}

// TestAuditReadsOffTheUIThread: opening the viewer, Earlier, a filter and
// the rows the list wants read nothing on Fyne's thread: the reads are
// handed to async, run on a goroutine of their own, and their results come
// back through do.
func TestAuditReadsOffTheUIThread(t *testing.T) {
	a := test.NewTempApp(t)
	log := &countedAudit{fakeAudit: fakeAudit{n: 1000}}
	v := NewAuditView(context.Background(), log)
	var jobs, onUI []func()
	v.async = func(f func()) { jobs = append(jobs, f) }
	v.do = func(f func()) { onUI = append(onUI, f) }
	v.later = v.do
	// settle runs the reads handed off, each on a goroutine of its own, then
	// what they send back to Fyne's thread (this goroutine), until both are
	// done.
	settle := func() {
		for len(jobs)+len(onUI) > 0 {
			for len(jobs) > 0 {
				f := jobs[0]
				jobs = jobs[1:]
				done := make(chan struct{})
				go func() { f(); close(done) }()
				<-done
			}
			for len(onUI) > 0 {
				f := onUI[0]
				onUI = onUI[1:]
				f()
			}
		}
	}
	onThread := func(what string, f func()) {
		t.Helper()
		before := log.reads.Load()
		f()
		if n := log.reads.Load() - before; n != 0 {
			t.Errorf("%s read the store %d times on Fyne's thread", what, n)
		}
		if len(jobs) == 0 {
			t.Errorf("%s handed no read off Fyne's thread", what)
		}
	}

	w := NewAuditWindow(a, v)
	t.Cleanup(w.Close)
	onThread("opening the viewer", func() {})
	if got := v.status.Text; got != "Reading the audit log…" {
		t.Errorf("before the store answered the status says %q", got)
	}
	settle()
	if v.pager.Len() != 200 || v.pager.Base() != 800 {
		t.Fatalf("after the store answered: %d rows after #%d, want 200 after #800", v.pager.Len(), v.pager.Base())
	}

	onThread("Earlier", v.onEarlier)
	settle()
	if v.pager.Base() != 600 {
		t.Errorf("after Earlier the rows start after #%d, want #600", v.pager.Base())
	}

	// A row of the last known page wants the next page (here: none more).
	l := widget.NewLabel("")
	v.pager.done = false
	onThread("a row on the last page", func() { v.updateRow(v.pager.Len()-1, l) })
	if l.Text == "" || l.Text == "…" {
		t.Errorf("a row in memory shows %q", l.Text)
	}
	settle()
	if !v.pager.Done() || v.pager.Len() != 400 {
		t.Errorf("after the next page was read: %d rows (done %v), want 400, done", v.pager.Len(), v.pager.Done())
	}

	// A row whose page left memory shows "…" until it is read again.
	v.pager.Window = minWindow
	for k := range 3 {
		v.pager.pages[k+10] = nil // fill the window so that page 0 leaves it
		v.pager.touch(k + 10)
	}
	v.pager.drop(0)
	for k := range 3 {
		v.pager.drop(k + 10)
	}
	onThread("a row not in memory", func() { v.updateRow(0, l) })
	if l.Text != "…" {
		t.Errorf("a row being read shows %q, want …", l.Text)
	}
	settle()
	if ev, ok, _ := v.pager.cached(0); !ok || ev.Seq != 601 {
		t.Errorf("row 0 after its page was read: %v (%v), want #601", ev.Seq, ok)
	}

	onThread("a filter", func() { v.group.SetText("work"); v.onFilter() })
	settle()
	if q := v.pager.Query(); q.Group != "work" {
		t.Errorf("after filtering the rows are of %+v", q)
	}
	// A read for rows the user has moved away from is dropped: the page
	// read for the filtered rows does not land in Latest's.
	v.pager.done = false
	v.updateRow(v.pager.Len()-1, l)
	v.group.SetText("")
	v.onLatest()
	settle()
	if q := v.pager.Query(); q.Group != "" || v.pager.Len() != 200 || v.pager.Base() != 800 {
		t.Errorf("after Latest: %d rows after #%d of %+v, want 200 after #800 of everything", v.pager.Len(), v.pager.Base(), q)
	}
}
