package ui

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/berth-app/berth/app/assistant"
)

// openAudit shows the audit viewer over log, 1000×600; refreshes the list
// asks for after a layout are queued for flush.
func openAudit(t *testing.T, log *fakeAudit) (*AuditView, fyne.Window, func()) {
	t.Helper()
	a := test.NewTempApp(t)
	v := NewAuditView(context.Background(), log)
	var queued []func()
	v.do, v.async = now, now
	v.later = func(f func()) { queued = append(queued, f) }
	flush := func() {
		for len(queued) > 0 {
			f := queued[0]
			queued = queued[1:]
			f()
		}
	}
	w := NewAuditWindow(a, v)
	t.Cleanup(w.Close)
	w.Resize(fyne.NewSize(1000, 600))
	flush()
	return v, w, flush
}

func TestAuditGolden(t *testing.T) {
	log := &fakeAudit{n: 5}
	log.VerifyFunc = func() (assistant.AuditReport, error) {
		return assistant.AuditReport{Problem: assistant.AuditEdited, FirstBad: 3, Reason: "event #3 no longer matches its hash: it was changed after it was written"}, nil
	}
	v, w, _ := openAudit(t, log)
	v.list.Select(2)
	test.Tap(button(t, w, "Verify"))
	assertGolden(t, "audit_events.xml", w)
}

func TestAuditVerify(t *testing.T) {
	tests := []struct {
		name string
		r    assistant.AuditReport
		err  error
		want string
	}{
		{"intact", assistant.AuditReport{OK: true, Events: 5}, nil, "Intact — 5 events"},
		{"broken", assistant.AuditReport{Problem: assistant.AuditDeleted, FirstBad: 4, Reason: "event #4 is missing"}, nil, "BROKEN at #4 (deleted): event #4 is missing"},
		{"cannot read", assistant.AuditReport{}, errors.New("disk I/O error"), "Could not verify: disk I/O error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			log := &fakeAudit{n: 5, VerifyFunc: func() (assistant.AuditReport, error) { return tc.r, tc.err }}
			v, w, _ := openAudit(t, log)
			test.Tap(button(t, w, "Verify"))
			if v.verify.Text != tc.want {
				t.Errorf("got %q, want %q", v.verify.Text, tc.want)
			}
		})
	}
}

func TestAuditFilterNarrows(t *testing.T) {
	log := &fakeAudit{n: 30}
	v, w, _ := openAudit(t, log)
	if v.pager.Len() != 30 {
		t.Fatalf("rows before filtering: got %d, want 30", v.pager.Len())
	}
	test.Type(v.group, "work")
	test.Type(v.kind, "mount")
	test.Tap(button(t, w, "Filter"))
	// Odd seqs are work, seq%3 == 2 is mount.add: 5, 11, 17, 23, 29.
	if v.pager.Len() != 5 {
		t.Fatalf("rows after filtering: got %d, want 5", v.pager.Len())
	}
	for i := range v.pager.Len() {
		ev, _ := v.pager.Row(i)
		if ev.Group != "work" || ev.Kind != assistant.AuditMountAdd {
			t.Errorf("row %d: got %s %s, want work mount.add", i, ev.Group, ev.Kind)
		}
	}
	v.list.Select(0)
	if !strings.Contains(v.details.Text, `"seq": 5,`) {
		t.Errorf("details of the first row: got\n%s", v.details.Text)
	}
}

func TestAuditListPagesAsItScrolls(t *testing.T) {
	log := &fakeAudit{n: 100_000}
	v, _, flush := openAudit(t, log)
	v.pager.PageSize = 50
	v.onEarlier()
	for range 3 {
		v.onEarlier()
	}
	before := v.pager.Len()
	v.list.ScrollToBottom()
	flush()
	if v.pager.Len() <= before {
		t.Errorf("rows after scrolling to the end: got %d, want more than %d", v.pager.Len(), before)
	}
	if n := v.pager.Loaded(); n > v.pager.Window*v.pager.PageSize {
		t.Errorf("%d events in memory, want at most %d", n, v.pager.Window*v.pager.PageSize)
	}
}

func TestAuditExport(t *testing.T) {
	tests := []struct{ format, file, storeFormat string }{
		{"JSONL", "berth-audit.jsonl", "jsonl"},
		{"CSV", "berth-audit.csv", "csv"},
	}
	for _, tc := range tests {
		t.Run(tc.format, func(t *testing.T) {
			log := &fakeAudit{n: 3}
			log.ExportFunc = func(w io.Writer, format string) error {
				_, err := io.WriteString(w, "exported as "+format)
				return err
			}
			v, w, _ := openAudit(t, log)
			var name string
			var out bytes.Buffer
			v.Save = func(n string, write func(io.Writer) error) {
				name = n
				if err := write(&out); err != nil {
					t.Error(err)
				}
			}
			v.format.SetSelected(tc.format)
			test.Tap(button(t, w, "Export all…"))
			if name != tc.file || out.String() != "exported as "+tc.storeFormat {
				t.Errorf("got file %q with %q, want %q with %s", name, out.String(), tc.file, tc.storeFormat)
			}
		})
	}
}

func TestAuditKinds(t *testing.T) {
	t.Parallel()
	evs := []assistant.AuditEvent{{Kind: assistant.AuditExecStart}, {Kind: assistant.AuditExecEnd}, {Kind: assistant.AuditMountReject}, {Kind: assistant.AuditExecStart}, {Kind: "gate"}}
	want := []string{"exec", assistant.AuditExecEnd, assistant.AuditExecStart, "gate", "mount", assistant.AuditMountReject}
	if got := AuditKinds(evs); !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestExportFolder(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	if got := ExportFolder(); got != home {
		t.Errorf("without Downloads: got %q, want %q", got, home)
	}
	if err := os.Mkdir(filepath.Join(home, "Downloads"), 0o700); err != nil {
		t.Fatal(err)
	}
	if got := ExportFolder(); got != filepath.Join(home, "Downloads") {
		t.Errorf("with Downloads: got %q", got)
	}
}

// TestAuditOpensAtTheNewest: with more events than fit, the viewer opens
// scrolled to the newest one.
func TestAuditOpensAtTheNewest(t *testing.T) {
	v, _, _ := openAudit(t, &fakeAudit{n: 150})
	if v.list.GetScrollOffset() <= 0 {
		t.Errorf("scroll offset %v: the viewer opened at the oldest event", v.list.GetScrollOffset())
	}
	if got := AuditKinds(v.pager.loadedEvents()); len(got) == 0 {
		t.Error("the loaded events have no kinds to offer")
	}
}
