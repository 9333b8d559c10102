package ui

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

func TestWindowSizeRemembered(t *testing.T) {
	a := test.NewTempApp(t)
	w := a.NewWindow("x")
	defer w.Close()
	RestoreSize(a.Preferences(), WindowAudit, w, fyne.NewSize(1000, 640))
	if got := w.Canvas().Size(); got != fyne.NewSize(1000, 640) {
		t.Fatalf("first open: %v, want the default", got)
	}
	w.Resize(fyne.NewSize(700, 500))
	SaveSize(a.Preferences(), WindowAudit, w)
	w2 := a.NewWindow("y")
	defer w2.Close()
	RestoreSize(a.Preferences(), WindowAudit, w2, fyne.NewSize(1000, 640))
	if got := w2.Canvas().Size(); got != fyne.NewSize(700, 500) {
		t.Errorf("reopened: %v, want 700×500", got)
	}
}
