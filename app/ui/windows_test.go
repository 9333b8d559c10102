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

func TestWindowPositionRemembered(t *testing.T) {
	a := test.NewTempApp(t)
	if _, _, ok := SavedPosition(a.Preferences(), WindowChat); ok {
		t.Fatal("a position before any was saved")
	}
	SavePosition(a.Preferences(), WindowChat, 0, 37)
	if x, y, ok := SavedPosition(a.Preferences(), WindowChat); !ok || x != 0 || y != 37 {
		t.Errorf("got %d,%d (%v), want 0,37", x, y, ok)
	}
}

func TestCentreOn(t *testing.T) {
	t.Parallel()
	main := Place{X: 100, Y: 50, W: 960, H: 640}
	tests := []struct {
		name         string
		main         Place
		w, h, sw, sh int
		wantX, wantY int
	}{
		{"centred on the main window", main, 400, 300, 1920, 1080, 380, 220},
		{"a main window at the right edge: pulled back on-screen", Place{X: 1500, Y: 50, W: 400, H: 400}, 720, 640, 1920, 1080, 1200, 0},
		{"a main window half off the left: on-screen", Place{X: -600, Y: 600, W: 800, H: 600}, 720, 760, 1920, 1080, 0, 320},
		{"larger than the screen: its top left shows", main, 2000, 1200, 1280, 800, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			x, y := CentreOn(tc.main, tc.w, tc.h, tc.sw, tc.sh)
			if x != tc.wantX || y != tc.wantY {
				t.Errorf("got %d,%d, want %d,%d", x, y, tc.wantX, tc.wantY)
			}
			if tc.w <= tc.sw && (x < 0 || x+tc.w > tc.sw || y < 0 || y+tc.h > tc.sh) {
				t.Errorf("%d,%d %d×%d is not wholly on a %d×%d screen", x, y, tc.w, tc.h, tc.sw, tc.sh)
			}
		})
	}
}

func TestOnScreen(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ x, y, wantX, wantY int }{
		{100, 100, 100, 100},
		{3000, 2000, 320, 160}, // saved on a larger screen
		{-50, -10, 0, 0},
	} {
		if x, y := OnScreen(tc.x, tc.y, 960, 640, 1280, 800); x != tc.wantX || y != tc.wantY {
			t.Errorf("OnScreen(%d,%d): got %d,%d, want %d,%d", tc.x, tc.y, x, y, tc.wantX, tc.wantY)
		}
	}
}

func TestFitSize(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		s      fyne.Size
		scale  float32
		wantSz fyne.Size
	}{
		{fyne.NewSize(960, 640), 1, fyne.NewSize(960, 640)},
		{fyne.NewSize(960, 640), 2, fyne.NewSize(608, 368)}, // (1280-64)/2, (800-64)/2
		{fyne.NewSize(2000, 300), 1, fyne.NewSize(1216, 300)},
	} {
		if got := FitSize(tc.s, 1280, 800, tc.scale); got != tc.wantSz {
			t.Errorf("FitSize(%v, scale %v): got %v, want %v", tc.s, tc.scale, got, tc.wantSz)
		}
	}
}
