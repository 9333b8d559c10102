package ui

import "fyne.io/fyne/v2"

// revealCheck scrolls the picker so that a folder's check result — what
// the sandbox will see and the Add button — is in view: in a short window
// (or at a large scale) it lies below the fold.
func (v *MountsView) revealCheck() {
	if v.scroll == nil || v.check == nil {
		return
	}
	top := v.checkBox.Position().Y
	bottom := top + v.checkBox.Size().Height
	view := v.scroll.Size().Height
	off := v.scroll.Offset.Y
	switch {
	case bottom-top > view || top < off:
		off = top // taller than the view: its start
	case bottom > off+view:
		off = bottom - view
	default:
		return
	}
	v.scroll.ScrollToOffset(fyne.NewPos(v.scroll.Offset.X, off))
}
