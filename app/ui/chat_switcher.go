package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// switcher is the Ctrl+K chat switcher: a filter box over the chats of
// every group; ↑/↓ move, Enter opens, Esc closes.
type switcher struct {
	v       *ChatView
	pop     *widget.PopUp
	filter  *switcherEntry
	list    *widget.List
	matches []ChatMatch
	current int
}

// switcherEntry is the switcher's filter box: it keeps the keys that move
// through the list.
type switcherEntry struct {
	widget.Entry
	onKey func(k *fyne.KeyEvent) bool
}

func (e *switcherEntry) TypedKey(k *fyne.KeyEvent) {
	if e.onKey != nil && e.onKey(k) {
		return
	}
	e.Entry.TypedKey(k)
}

// ShowSwitcher opens the chat switcher over the window.
func (v *ChatView) ShowSwitcher() {
	if v.win == nil {
		return
	}
	s := &switcher{v: v}
	s.filter = &switcherEntry{onKey: s.onKey}
	s.filter.ExtendBaseWidget(s.filter)
	s.filter.SetPlaceHolder("Type to find a chat")
	s.filter.OnChanged = s.onFilter
	s.list = widget.NewList(func() int { return len(s.matches) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("chat title · group")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.ListItemID, o fyne.CanvasObject) {
			label := s.matches[id].Label
			if id == s.current {
				label = "▸ " + label
			}
			o.(*widget.Label).SetText(label)
		})
	s.list.OnSelected = func(id widget.ListItemID) { s.open(id) }
	s.onFilter("")
	content := container.NewBorder(s.filter, nil, nil, nil, s.list)
	s.pop = widget.NewModalPopUp(content, v.win.Canvas())
	size := v.win.Canvas().Size()
	s.pop.Resize(fyne.NewSize(min(520, size.Width-40), min(400, size.Height-40)))
	s.pop.Show()
	v.switcher = s
	v.win.Canvas().Focus(s.filter)
}

func (s *switcher) onFilter(q string) {
	s.matches = FilterChats(s.v.groups, s.v.sessions, q)
	s.current = 0
	s.list.Refresh()
}

func (s *switcher) onKey(k *fyne.KeyEvent) bool {
	switch k.Name {
	case fyne.KeyDown:
		if s.current < len(s.matches)-1 {
			s.current++
			s.list.Refresh()
			s.list.ScrollTo(s.current)
		}
	case fyne.KeyUp:
		if s.current > 0 {
			s.current--
			s.list.Refresh()
			s.list.ScrollTo(s.current)
		}
	case fyne.KeyReturn, fyne.KeyEnter:
		s.open(s.current)
	case fyne.KeyEscape:
		s.close()
	default:
		return false
	}
	return true
}

func (s *switcher) open(id int) {
	if id < 0 || id >= len(s.matches) {
		return
	}
	ss := s.matches[id].Session
	s.close()
	s.v.Open(ss)
}

func (s *switcher) close() {
	s.pop.Hide()
	s.v.switcher = nil
	if c := s.v.win.Canvas(); c != nil {
		c.Focus(s.v.input)
	}
}
