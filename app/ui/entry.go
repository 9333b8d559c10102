package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"
)

// newChatShortcut is Ctrl+N (Cmd+N on macOS).
var newChatShortcut = &desktop.CustomShortcut{KeyName: fyne.KeyN, Modifier: fyne.KeyModifierShortcutDefault}

// messageEntry is the multi-line box the user types in: Enter sends,
// Shift+Enter starts a new line (Fyne's own multi-line entry does the
// opposite), and Ctrl+N starts a new chat even while it has the focus
// (a focused widget gets shortcuts before the window does).
type messageEntry struct {
	widget.Entry
	onSend    func()
	onNewChat func()
	shift     bool
}

func newMessageEntry(onSend, onNewChat func()) *messageEntry {
	e := &messageEntry{onSend: onSend, onNewChat: onNewChat}
	e.MultiLine = true
	e.Wrapping = fyne.TextWrapWord
	e.SetMinRowsVisible(3)
	e.SetPlaceHolder("Message the assistant — Enter sends, Shift+Enter adds a line")
	e.ExtendBaseWidget(e)
	return e
}

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

// TypedKey sends on Enter and adds a line on Shift+Enter.
func (e *messageEntry) TypedKey(k *fyne.KeyEvent) {
	if (k.Name == fyne.KeyReturn || k.Name == fyne.KeyEnter) && !e.shift && !e.Disabled() {
		if e.onSend != nil {
			e.onSend()
		}
		return
	}
	// With Shift held and no OnSubmitted, the entry inserts a newline.
	e.Entry.TypedKey(k)
}

// TypedShortcut catches Ctrl+N; everything else is the entry's.
func (e *messageEntry) TypedShortcut(s fyne.Shortcut) {
	if cs, ok := s.(*desktop.CustomShortcut); ok && cs.KeyName == newChatShortcut.KeyName && cs.Modifier == newChatShortcut.Modifier {
		if e.onNewChat != nil {
			e.onNewChat()
		}
		return
	}
	e.Entry.TypedShortcut(s)
}
