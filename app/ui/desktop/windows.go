package desktop

import (
	"os"
	"runtime/debug"
	"strconv"
	"time"

	"fyne.io/fyne/v2"
	fynedesktop "fyne.io/fyne/v2/driver/desktop"

	"github.com/berth-app/berth/app/ui"
)

// releaseAfter is how long after the chat window closed its memory is
// given back: its destruction (and its GL context's) completes on Fyne's
// next frame.
const releaseAfter = 2 * time.Second

// trayGCPercent is the GC's target while only the tray runs: little is
// allocated then, and a smaller heap is worth the odd extra collection.
const trayGCPercent = 25

// newChatWindow makes the chat window at the size and place it had when
// last closed.
func (d *desktopApp) newChatWindow() fyne.Window {
	w := ui.NewChatWindow(d.app, d.view)
	p := d.app.Preferences()
	ui.RestoreSize(p, ui.WindowChat, w, fyne.NewSize(960, 640))
	d.fitScreen(w)
	if x, y, ok := ui.SavedPosition(p, ui.WindowChat); ok {
		if sw, sh, ok := screenSize(); ok {
			s := w.Canvas().Size()
			x, y = ui.OnScreen(x, y, int(s.Width), int(s.Height), sw, sh)
		}
		if dw, ok := w.(fynedesktop.Window); ok {
			dw.RequestPosition(x, y)
		}
	}
	w.SetCloseIntercept(d.hide)
	return w
}

// saveChatPlace remembers the chat window's size and position.
func (d *desktopApp) saveChatPlace() {
	if d.win == nil {
		return
	}
	p := d.app.Preferences()
	ui.SaveSize(p, ui.WindowChat, d.win)
	if x, y, _, _, ok := windowPlace(d.win); ok {
		ui.SavePosition(p, ui.WindowChat, x, y)
	}
}

// hide closes the chat window to the tray. The window is destroyed, not
// hidden — a hidden one keeps its GL context, its textures and its widgets'
// renderers — and, once it is gone, the memory it held is given back.
func (d *desktopApp) hide() {
	if d.win == nil {
		return
	}
	d.saveChatPlace()
	d.hidden.Store(true)
	d.win.Close()
	d.win = nil
	d.gcPercent = debug.SetGCPercent(trayGCPercent)
	time.AfterFunc(releaseAfter, func() { fyne.Do(d.release) })
}

// release gives back the closed window's memory, unless it was opened
// again meanwhile. Fyne drops its parsed fonts (~10 MB of Go heap: the
// emoji font alone is parsed once per text style) and its theme caches
// when the theme is set: setting the same one again does that, and the
// next window parses what it draws.
func (d *desktopApp) release() {
	if !d.hidden.Load() {
		return
	}
	d.app.Settings().SetTheme(d.app.Settings().Theme())
	go func() {
		d.memory.Lock()
		defer d.memory.Unlock()
		if d.hidden.Load() {
			releaseMemory()
		}
	}()
}

// show opens the chat window (a new one when it was closed), in front.
func (d *desktopApp) show() {
	if d.hidden.Swap(false) {
		debug.SetGCPercent(d.gcPercent)
		d.memory.Lock()
		restoreMemory()
		d.memory.Unlock()
	}
	if d.win == nil {
		d.win = d.newChatWindow()
	}
	d.win.Show()
	d.win.RequestFocus()
}

// keep makes closing a secondary window hide it (remembering its size),
// and gives it the size it had.
func (d *desktopApp) keep(name string, w fyne.Window, def fyne.Size) fyne.Window {
	p := d.app.Preferences()
	ui.RestoreSize(p, name, w, def)
	d.fitScreen(w)
	w.SetCloseIntercept(func() {
		ui.SaveSize(p, name, w)
		w.Hide()
	})
	return w
}

// open shows a secondary window centred on the chat window and wholly on
// the screen — or centred on the screen when the chat window is closed or
// its position cannot be read (Wayland) — in front.
func (d *desktopApp) open(w fyne.Window) {
	placed := false
	if d.win != nil {
		if mx, my, sw, sh, ok := windowPlace(d.win); ok {
			scale := d.win.Canvas().Scale()
			ms, ws := d.win.Canvas().Size(), w.Canvas().Size()
			main := ui.Place{X: mx, Y: my, W: int(ms.Width * scale), H: int(ms.Height * scale)}
			x, y := ui.CentreOn(main, int(ws.Width*scale), int(ws.Height*scale), sw, sh)
			if dw, ok := w.(fynedesktop.Window); ok {
				dw.RequestPosition(x, y)
				placed = true
			}
		}
	}
	if !placed {
		w.CenterOnScreen()
	}
	w.Show()
	w.RequestFocus()
}

// fitScreen shrinks w to fit the screen at the app's scale (a 960×640
// window at FYNE_SCALE=2 is wider than a 1280×800 screen).
func (d *desktopApp) fitScreen(w fyne.Window) {
	if sw, sh, ok := screenSize(); ok {
		w.Resize(ui.FitSize(w.Canvas().Size(), sw, sh, d.scale()))
	}
}

// scale is the user's scale as Fyne's GLFW driver reads it (FYNE_SCALE,
// else the setting); a window's canvas knows its scale only once shown.
func (d *desktopApp) scale() float32 {
	if f, err := strconv.ParseFloat(os.Getenv("FYNE_SCALE"), 32); err == nil && f > 0 {
		return float32(f)
	}
	return max(d.app.Settings().Scale(), 1)
}
