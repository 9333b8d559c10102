package ui

import "fyne.io/fyne/v2"

// Window names, the keys their sizes are remembered under.
const (
	WindowChat     = "chat"
	WindowSettings = "settings"
	WindowMounts   = "mounts"
	WindowAudit    = "audit"
	WindowTasks    = "tasks"
)

// RestoreSize gives w the size it had when last closed, or def the first
// time. (Its position is the desktop shell's: Fyne can move a window but
// not say where one is.)
func RestoreSize(p fyne.Preferences, name string, w fyne.Window, def fyne.Size) {
	wd := p.FloatWithFallback("window."+name+".width", float64(def.Width))
	ht := p.FloatWithFallback("window."+name+".height", float64(def.Height))
	w.Resize(fyne.NewSize(float32(max(wd, 320)), float32(max(ht, 240))))
}

// SaveSize remembers w's size for the next RestoreSize.
func SaveSize(p fyne.Preferences, name string, w fyne.Window) {
	s := w.Canvas().Size()
	if s.Width <= 0 || s.Height <= 0 {
		return
	}
	p.SetFloat("window."+name+".width", float64(s.Width))
	p.SetFloat("window."+name+".height", float64(s.Height))
}

// Place is where a window is on the screen and its size, in the screen's
// pixels.
type Place struct{ X, Y, W, H int }

// SavePosition remembers where a window was (in the screen's pixels).
func SavePosition(p fyne.Preferences, name string, x, y int) {
	p.SetInt("window."+name+".x", x)
	p.SetInt("window."+name+".y", y)
	p.SetBool("window."+name+".placed", true)
}

// SavedPosition is where a window was when last closed; false the first
// time.
func SavedPosition(p fyne.Preferences, name string) (x, y int, ok bool) {
	if !p.Bool("window." + name + ".placed") {
		return 0, 0, false
	}
	return p.Int("window." + name + ".x"), p.Int("window." + name + ".y"), true
}

// CentreOn is where a window of size w×h goes to be centred on the main
// window, moved as little as needed to be wholly on a screen of sw×sh (its
// top left on-screen first, should it be larger than the screen).
func CentreOn(main Place, w, h, sw, sh int) (x, y int) {
	x = main.X + (main.W-w)/2
	y = main.Y + (main.H-h)/2
	x = max(min(x, sw-w), 0)
	y = max(min(y, sh-h), 0)
	return x, y
}

// OnScreen brings a remembered position back onto a screen of sw×sh (the
// screen may have shrunk since), keeping at least the window's top left
// part visible.
func OnScreen(x, y, w, h, sw, sh int) (int, int) {
	return max(min(x, sw-min(w, sw)), 0), max(min(y, sh-min(h, sh)), 0)
}

// FitSize shrinks a window's size s to fit a screen of sw×sh pixels at
// scale (Fyne sizes are pixels ÷ scale), leaving room for the window's
// frame and a panel.
func FitSize(s fyne.Size, sw, sh int, scale float32) fyne.Size {
	const frame = 64 // pixels
	if scale <= 0 {
		scale = 1
	}
	return fyne.NewSize(min(s.Width, float32(sw-frame)/scale), min(s.Height, float32(sh-frame)/scale))
}
