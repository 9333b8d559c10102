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
// time. (Fyne has no API for a window's position: the window manager
// places it, and secondary windows are centred.)
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
