package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"

	"github.com/berth-app/berth/app/assistant"
)

// shortcut is one of the chat window's keyboard shortcuts.
type shortcut struct {
	key  *desktop.CustomShortcut
	help string
	run  func()
}

// The chat window's shortcuts (Cmd instead of Ctrl on macOS).
var (
	newChatShortcut  = &desktop.CustomShortcut{KeyName: fyne.KeyN, Modifier: fyne.KeyModifierShortcutDefault}
	switchShortcut   = &desktop.CustomShortcut{KeyName: fyne.KeyK, Modifier: fyne.KeyModifierShortcutDefault}
	settingsShortcut = &desktop.CustomShortcut{KeyName: fyne.KeyComma, Modifier: fyne.KeyModifierShortcutDefault}
	helpShortcut     = &desktop.CustomShortcut{KeyName: fyne.KeySlash, Modifier: fyne.KeyModifierShortcutDefault}
	closeShortcut    = &desktop.CustomShortcut{KeyName: fyne.KeyW, Modifier: fyne.KeyModifierShortcutDefault}
)

// Shortcut is a key and what it does, for the Help view and the README.
type Shortcut struct{ Keys, Does string }

// Shortcuts lists every key the chat window knows.
var Shortcuts = []Shortcut{
	{"Enter", "send the message"},
	{"Shift+Enter", "a new line in the message"},
	{"Esc", "stop the running turn (or close the chat switcher)"},
	{"Ctrl+N", "new chat in the group in view"},
	{"Ctrl+K", "switch chat: type to filter, ↑/↓ and Enter to open"},
	{"Ctrl+,", "Settings"},
	{"Ctrl+/", "this list of shortcuts"},
	{"Ctrl+W", "close the window; Berth stays in the tray"},
	{"Tab, Shift+Tab", "move between the message box, Stop/Send, the transcript's buttons (Allow once, Always allow…, Deny, Retry, Show) and the chat list"},
	{"Space", "press the focused button"},
}

// shortcuts are the window's shortcuts bound to the view.
func (v *ChatView) shortcuts() []shortcut {
	return []shortcut{
		{newChatShortcut, "new chat", v.onNewChat},
		{switchShortcut, "switch chat", v.ShowSwitcher},
		{settingsShortcut, "settings", func() {
			if v.OnOpenSettings != nil {
				v.OnOpenSettings()
			}
		}},
		{helpShortcut, "shortcuts", v.ShowHelp},
		{closeShortcut, "close", func() {
			if v.OnCloseWindow != nil {
				v.OnCloseWindow()
			}
		}},
	}
}

// addShortcuts registers the shortcuts on the window's canvas, for when the
// message box does not have the focus.
func (v *ChatView) addShortcuts(c fyne.Canvas) {
	for _, sc := range v.shortcuts() {
		run := sc.run
		c.AddShortcut(sc.key, func(fyne.Shortcut) { run() })
	}
	c.SetOnTypedKey(func(k *fyne.KeyEvent) {
		if k.Name == fyne.KeyEscape {
			v.onStop()
		}
	})
}

// ShowHelp shows the keyboard shortcuts and what Berth is.
func (v *ChatView) ShowHelp() {
	if v.win == nil {
		return
	}
	form := widget.NewForm()
	for _, s := range Shortcuts {
		does := widget.NewLabel(s.Does)
		does.Wrapping = fyne.TextWrapWord
		form.Append(s.Keys, does)
	}
	about := widget.NewLabel("Berth runs your assistant's tools only inside Docker sandboxes, and logs every call in a tamper-evident audit log.")
	about.Wrapping = fyne.TextWrapWord
	d := dialog.NewCustom("Keyboard shortcuts — "+AppName, "Close", container.NewVBox(about, form), v.win)
	d.Resize(fyne.NewSize(560, 480))
	d.Show()
}

// ChatMatch is a chat the switcher offers.
type ChatMatch struct {
	Session assistant.Session
	Label   string // "title · group"
}

// FilterChats lists the chats whose title or group contains every word of
// query (any case), in the order given; an empty query lists them all.
func FilterChats(groups []assistant.Group, sessions map[string][]assistant.Session, query string) []ChatMatch {
	words := strings.Fields(strings.ToLower(query))
	var out []ChatMatch
	for _, g := range groups {
		name := g.Name
		if name == "" {
			name = g.Slug
		}
		for _, ss := range sessions[g.Slug] {
			title := ss.Title
			if title == "" {
				title = untitled
			}
			label := title + " · " + name
			hay := strings.ToLower(label)
			ok := true
			for _, w := range words {
				if !strings.Contains(hay, w) {
					ok = false
					break
				}
			}
			if ok {
				out = append(out, ChatMatch{Session: ss, Label: label})
			}
		}
	}
	return out
}
