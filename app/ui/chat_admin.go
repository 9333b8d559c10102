package ui

import (
	"cmp"
	"errors"
	"regexp"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/berth-app/berth/app/assistant"
)

// GroupSlug makes a group's id from the name the user typed: lowercase,
// runs of anything else than letters and digits become one '-'.
func GroupSlug(name string) string {
	s := nonSlug.ReplaceAllString(strings.ToLower(strings.TrimSpace(name)), "-")
	s = strings.Trim(s, "-_")
	if len(s) > 64 {
		s = strings.Trim(s[:64], "-_")
	}
	return s
}

var nonSlug = regexp.MustCompile(`[^a-z0-9_]+`)

// admin runs a chat or group change off Fyne's thread, then reloads the
// lists and runs done (on Fyne's thread) unless it failed.
func (v *ChatView) admin(what string, change func() error, done func()) {
	v.work(func() {
		err := change()
		v.do(func() {
			if err != nil {
				v.status.SetText("Could not " + what + ": " + err.Error())
				return
			}
			v.status.SetText("")
			if done != nil {
				done()
			}
			v.reload()
		})
	})
}

func (v *ChatView) chatMenuItems(id string) []*fyne.MenuItem {
	ss, ok := v.session(id)
	if !ok || v.Admin == nil {
		return nil
	}
	return []*fyne.MenuItem{
		fyne.NewMenuItem("Rename chat…", func() { v.askRenameChat(ss) }),
		fyne.NewMenuItem("Delete chat…", func() { v.askDeleteChat(ss) }),
	}
}

// showChatMenu opens a chat's menu under a button.
func (v *ChatView) showChatMenu(id string, under fyne.CanvasObject) {
	pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(under).AddXY(0, under.Size().Height)
	v.showChatMenuAt(id, pos)
}

func (v *ChatView) showChatMenuAt(id string, pos fyne.Position) {
	items := v.chatMenuItems(id)
	if len(items) == 0 || v.win == nil {
		return
	}
	widget.ShowPopUpMenuAtPosition(fyne.NewMenu("", items...), v.win.Canvas(), pos)
}

func (v *ChatView) askRenameChat(ss assistant.Session) {
	e := widget.NewEntry()
	e.SetText(ss.Title)
	dialog.ShowForm("Rename chat", "Rename", "Cancel", []*widget.FormItem{widget.NewFormItem("Title", e)}, func(ok bool) {
		if ok {
			v.RenameChat(ss.ID, e.Text)
		}
	}, v.win)
}

// RenameChat gives a chat a new title.
func (v *ChatView) RenameChat(id, title string) {
	title = strings.TrimSpace(title)
	if title == "" {
		v.status.SetText("A chat's title cannot be empty.")
		return
	}
	v.admin("rename the chat", func() error { return v.Admin.RenameSession(v.ctx, id, title) }, nil)
}

func (v *ChatView) askDeleteChat(ss assistant.Session) {
	msg := "Delete the chat “" + cmp.Or(ss.Title, untitled) + "” and its messages? Its sandbox is stopped; the audit log keeps its events."
	dialog.ShowConfirm("Delete chat", msg, func(ok bool) {
		if ok {
			v.DeleteChat(ss.ID)
		}
	}, v.win)
}

// DeleteChat deletes a chat; if it is in view, a new chat takes its place.
func (v *ChatView) DeleteChat(id string) {
	v.admin("delete the chat", func() error { return v.Admin.RemoveSession(v.ctx, id) }, func() {
		delete(v.chats, id)
		if v.conv.Session == id {
			v.NewChat("")
		}
	})
}

// showGroupMenu opens the group menu: new, rename, delete.
func (v *ChatView) showGroupMenu(under fyne.CanvasObject) {
	if v.Admin == nil || v.win == nil {
		return
	}
	g := v.Group()
	menu := fyne.NewMenu("",
		fyne.NewMenuItem("New group…", v.askNewGroup),
		fyne.NewMenuItem("Rename group…", func() { v.askRenameGroup(g) }),
		fyne.NewMenuItem("Delete group…", func() { v.askDeleteGroup(g) }),
	)
	if v.Network != nil {
		menu.Items = append(menu.Items, fyne.NewMenuItemSeparator(), fyne.NewMenuItem(NetworkMenuLabel, func() { v.ShowNetwork(g) }))
	}
	pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(under).AddXY(0, under.Size().Height)
	widget.ShowPopUpMenuAtPosition(menu, v.win.Canvas(), pos)
}

func (v *ChatView) askNewGroup() {
	if v.Admin == nil || v.win == nil {
		return
	}
	e := widget.NewEntry()
	e.SetPlaceHolder("e.g. Work, Home, OSS")
	item := widget.NewFormItem("Name", e)
	item.HintText = "Its own folder, memory, mounts and sandbox settings."
	dialog.ShowForm("New group", "Create", "Cancel", []*widget.FormItem{item}, func(ok bool) {
		if ok {
			v.CreateGroup(e.Text)
		}
	}, v.win)
}

// CreateGroup makes a group from a name and opens a new chat in it.
func (v *ChatView) CreateGroup(name string) {
	name = strings.TrimSpace(name)
	slug := GroupSlug(name)
	if err := assistant.ValidGroup(slug); err != nil || name == "" {
		v.status.SetText("Give the group a name with letters or digits.")
		return
	}
	v.admin("create the group", func() error {
		_, err := v.Admin.AddGroup(v.ctx, slug, name, assistant.GroupSettings{})
		return err
	}, func() { v.NewChat(slug) })
}

func (v *ChatView) askRenameGroup(slug string) {
	e := widget.NewEntry()
	e.SetText(v.groupName(slug))
	dialog.ShowForm("Rename group", "Rename", "Cancel", []*widget.FormItem{widget.NewFormItem("Name", e)}, func(ok bool) {
		if ok {
			v.RenameGroup(slug, e.Text)
		}
	}, v.win)
}

// RenameGroup changes a group's name (its id and folder stay).
func (v *ChatView) RenameGroup(slug, name string) {
	name = strings.TrimSpace(name)
	if name == "" {
		v.status.SetText("A group's name cannot be empty.")
		return
	}
	v.admin("rename the group", func() error {
		_, err := v.Admin.SetGroup(v.ctx, slug, []string{"name=" + name})
		return err
	}, nil)
}

func (v *ChatView) askDeleteGroup(slug string) {
	msg := "Delete the group “" + v.groupName(slug) + "”, its chats and its mounts? Its sandboxes are stopped; its folder stays on disk and the audit log keeps its events."
	dialog.ShowConfirm("Delete group", msg, func(ok bool) {
		if ok {
			v.DeleteGroup(slug)
		}
	}, v.win)
}

// errLastGroup refuses to delete the only group: a chat needs one.
var errLastGroup = errors.New("it is the only group")

// DeleteGroup deletes a group (keeping its folder); the window moves to
// another group.
func (v *ChatView) DeleteGroup(slug string) {
	if len(v.groups) <= 1 {
		v.status.SetText("Could not delete the group: " + errLastGroup.Error() + ".")
		return
	}
	v.admin("delete the group", func() error { return v.Admin.RemoveGroup(v.ctx, slug, false) }, func() {
		for id, c := range v.chats {
			if c.Group == slug {
				delete(v.chats, id)
			}
		}
		if v.Group() == slug {
			for _, g := range v.groups {
				if g.Slug != slug {
					v.NewChat(g.Slug)
					break
				}
			}
		}
	})
}
