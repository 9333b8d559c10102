package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"
)

// messageEntry is the multi-line box the user types in: Enter sends,
// Shift+Enter starts a new line (Fyne's own multi-line entry does the
// opposite), Tab and Shift+Tab move the focus instead of typing
// whitespace, Esc stops the running turn, and the window's shortcuts work
// even while it has the focus (a focused widget gets shortcuts before the
// window does).
type messageEntry struct {
	widget.Entry
	onSend, onStop func()
	shortcuts      []shortcut
	shift          bool
}

func newMessageEntry(onSend, onStop func(), shortcuts []shortcut) *messageEntry {
	e := &messageEntry{onSend: onSend, onStop: onStop, shortcuts: shortcuts}
	e.MultiLine = true
	e.Wrapping = fyne.TextWrapWord
	e.SetMinRowsVisible(3)
	e.SetPlaceHolder("Message the assistant — Enter sends, Shift+Enter adds a line")
	e.ExtendBaseWidget(e)
	return e
}

// AcceptsTab is false: Tab leaves the box for Send, the transcript and the
// chat list.
func (e *messageEntry) AcceptsTab() bool { return false }

// KeyDown notes Shift, then lets the entry handle the key.
func (e *messageEntry) KeyDown(k *fyne.KeyEvent) {
	if k.Name == desktop.KeyShiftLeft || k.Name == desktop.KeyShiftRight {
		e.shift = true
	}
	e.Entry.KeyDown(k)
}

// KeyUp notes Shift's release.
func (e *messageEntry) KeyUp(k *fyne.KeyEvent) {
	if k.Name == desktop.KeyShiftLeft || k.Name == desktop.KeyShiftRight {
		e.shift = false
	}
	e.Entry.KeyUp(k)
}

// TypedKey sends on Enter, adds a line on Shift+Enter and stops on Esc.
func (e *messageEntry) TypedKey(k *fyne.KeyEvent) {
	switch {
	case (k.Name == fyne.KeyReturn || k.Name == fyne.KeyEnter) && !e.shift && !e.Disabled():
		if e.onSend != nil {
			e.onSend()
		}
		return
	case k.Name == fyne.KeyEscape:
		if e.onStop != nil {
			e.onStop()
		}
		return
	}
	// With Shift held and no OnSubmitted, the entry inserts a newline.
	e.Entry.TypedKey(k)
}

// TypedShortcut runs the window's shortcuts; everything else is the entry's.
func (e *messageEntry) TypedShortcut(s fyne.Shortcut) {
	if cs, ok := s.(*desktop.CustomShortcut); ok {
		for _, sc := range e.shortcuts {
			if sc.key.KeyName == cs.KeyName && sc.key.Modifier == cs.Modifier {
				sc.run()
				return
			}
		}
	}
	e.Entry.TypedShortcut(s)
}
