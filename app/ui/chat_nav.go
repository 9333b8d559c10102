package ui

import (
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/berth-app/berth/app/assistant"
)

// ChatRow is one row of the chat list: a date heading, or a chat.
type ChatRow struct {
	Heading string // "Today", "Yesterday", "Previous 7 days", "Earlier"; "" for a chat
	Session assistant.Session
}

// The chat list's date headings.
const (
	HeadingToday     = "Today"
	HeadingYesterday = "Yesterday"
	HeadingWeek      = "Previous 7 days"
	HeadingEarlier   = "Earlier"
)

// ChatRows lays out a group's chats (newest first) under date headings,
// keeping those whose title contains every word of query.
func ChatRows(sessions []assistant.Session, query string, now time.Time) []ChatRow {
	words := strings.Fields(strings.ToLower(query))
	y, m, d := now.Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, now.Location())
	var rows []ChatRow
	last := ""
	for _, ss := range sessions {
		title := strings.ToLower(ss.Title)
		if ss.Title == "" {
			title = strings.ToLower(untitled)
		}
		match := true
		for _, w := range words {
			match = match && strings.Contains(title, w)
		}
		if !match {
			continue
		}
		h := HeadingEarlier
		switch t := ss.Updated.In(now.Location()); {
		case !t.Before(today):
			h = HeadingToday
		case !t.Before(today.AddDate(0, 0, -1)):
			h = HeadingYesterday
		case !t.Before(today.AddDate(0, 0, -7)):
			h = HeadingWeek
		}
		if h != last {
			rows = append(rows, ChatRow{Heading: h})
			last = h
		}
		rows = append(rows, ChatRow{Session: ss})
	}
	return rows
}

// NewGroupOption is the group switcher's last entry.
const NewGroupOption = "New group…"

// buildNav makes the left side: the group switcher with its menu, New chat,
// a search box and the chat list.
func (v *ChatView) buildNav() fyne.CanvasObject {
	v.groupSel = widget.NewSelect(nil, v.onGroupChosen)
	v.groupSel.PlaceHolder = "Group"
	groupMenu := widget.NewButtonWithIcon("", theme.MoreHorizontalIcon(), nil)
	groupMenu.OnTapped = func() { v.showGroupMenu(groupMenu) }
	groupMenu.Importance = widget.LowImportance
	newBtn := widget.NewButtonWithIcon("New chat", theme.ContentAddIcon(), v.onNewChat)
	v.search = widget.NewEntry()
	v.search.SetPlaceHolder("Search chats")
	v.search.OnChanged = func(string) { v.refreshNav() }
	v.nav = widget.NewList(func() int { return len(v.navRows) },
		func() fyne.CanvasObject { return newChatRowObject(v) },
		func(id widget.ListItemID, o fyne.CanvasObject) { o.(*chatRowObject).set(v.navRows[id]) })
	v.nav.OnSelected = v.onSelect
	v.nav.OnUnselected = func(id widget.ListItemID) {
		if id < len(v.navRows) && v.navSelected == v.navRows[id].Session.ID {
			v.navSelected = ""
		}
	}
	top := container.NewVBox(container.NewBorder(nil, nil, nil, groupMenu, v.groupSel), newBtn, v.search)
	left := container.NewBorder(top, nil, nil, nil, v.nav)
	left.Objects = []fyne.CanvasObject{top, v.nav} // Tab: the group, New chat, search, then the list
	return left
}

// refreshNav rebuilds the chat list of the group in view and selects the
// chat in view (none for a new chat not sent yet).
func (v *ChatView) refreshNav() {
	if v.nav == nil {
		return
	}
	var names []string
	for _, g := range v.groups {
		names = append(names, v.groupName(g.Slug))
	}
	if len(names) == 0 {
		names = []string{v.Group()} // made with the first message
	}
	v.navSync = true
	defer func() { v.navSync = false }()
	v.groupSel.Options = append(names, NewGroupOption)
	v.groupSel.SetSelected(v.groupName(v.Group()))
	v.navRows = ChatRows(v.sessions[v.Group()], v.search.Text, time.Now())
	v.nav.Refresh()
	for i, r := range v.navRows {
		if r.Heading == "" && r.Session.ID == v.conv.Session && v.conv.Session != "" {
			v.nav.Select(i)
			v.navSelected = r.Session.ID
			return
		}
	}
	v.nav.UnselectAll()
	v.navSelected = ""
}

func (v *ChatView) onSelect(id widget.ListItemID) {
	if id >= len(v.navRows) {
		return
	}
	r := v.navRows[id]
	if r.Heading != "" {
		v.refreshNav() // a heading is not a chat: back to the one in view
		return
	}
	v.navSelected = r.Session.ID
	if v.navSync {
		return
	}
	v.Open(r.Session)
}

// onGroupChosen switches the window to a group (a new chat in it), or
// creates one.
func (v *ChatView) onGroupChosen(name string) {
	if v.navSync {
		return
	}
	if name == NewGroupOption {
		v.refreshNav() // the switcher shows the group in view until one is made
		v.askNewGroup()
		return
	}
	for _, g := range v.groups {
		if v.groupName(g.Slug) == name && g.Slug != v.Group() {
			if ss := v.sessions[g.Slug]; len(ss) > 0 {
				v.Open(ss[0])
			} else {
				v.NewChat(g.Slug)
			}
			return
		}
	}
}

// chatRowObject is one row of the chat list: a heading, or a chat's title
// (ellipsised) whose secondary click opens its menu.
type chatRowObject struct {
	widget.BaseWidget
	v     *ChatView
	label *widget.Label
	row   ChatRow
}

func newChatRowObject(v *ChatView) *chatRowObject {
	r := &chatRowObject{v: v, label: widget.NewLabel("chat title")}
	r.label.Truncation = fyne.TextTruncateEllipsis
	r.ExtendBaseWidget(r)
	return r
}

func (r *chatRowObject) set(row ChatRow) {
	r.row = row
	if row.Heading != "" {
		r.label.TextStyle = fyne.TextStyle{Bold: true}
		r.label.Importance = widget.LowImportance
		r.label.SetText(row.Heading)
		return
	}
	r.label.TextStyle = fyne.TextStyle{}
	r.label.Importance = widget.MediumImportance
	title := row.Session.Title
	if title == "" {
		title = untitled
	}
	r.label.SetText(title)
}

func (r *chatRowObject) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(r.label)
}

// TappedSecondary opens the chat's menu: Rename, Delete.
func (r *chatRowObject) TappedSecondary(e *fyne.PointEvent) {
	if r.row.Heading == "" {
		r.v.showChatMenuAt(r.row.Session.ID, e.AbsolutePosition)
	}
}
