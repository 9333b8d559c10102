//go:build !linux

package desktop

import "fyne.io/fyne/v2"

// windowPlace cannot read a window's position here (Fyne 2.8 has no API
// for it): secondary windows open centred on the screen instead.
func windowPlace(fyne.Window) (x, y, screenW, screenH int, ok bool) { return 0, 0, 0, 0, false }

func screenSize() (w, h int, ok bool) { return 0, 0, false }
