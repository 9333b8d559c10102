package ui

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/berth-app/berth/app/assistant"
)

// fakeAdmin is a ChatAdmin over the fake assistant's groups and chats.
type fakeAdmin struct {
	f     *fakeAssistant
	calls []string
}

var _ ChatAdmin = (*fakeAdmin)(nil)

func (a *fakeAdmin) RenameSession(_ context.Context, id, title string) error {
	a.calls = append(a.calls, "rename "+id+" "+title)
	for g, list := range a.f.sessions {
		for i := range list {
			if list[i].ID == id {
				a.f.sessions[g][i].Title = title
			}
		}
	}
	return nil
}

func (a *fakeAdmin) RemoveSession(_ context.Context, id string) error {
	a.calls = append(a.calls, "remove "+id)
	for g, list := range a.f.sessions {
		a.f.sessions[g] = slices.DeleteFunc(list, func(s assistant.Session) bool { return s.ID == id })
	}
	return nil
}

func (a *fakeAdmin) AddGroup(_ context.Context, slug, name string, _ assistant.GroupSettings) (assistant.Group, error) {
	a.calls = append(a.calls, "add "+slug+" "+name)
	g := assistant.Group{Slug: slug, Name: name}
	a.f.groups = append(a.f.groups, g)
	return g, nil
}

func (a *fakeAdmin) SetGroup(_ context.Context, slug string, changes []string) (assistant.Group, error) {
	a.calls = append(a.calls, "set "+slug+" "+changes[0])
	for i := range a.f.groups {
		if a.f.groups[i].Slug == slug {
			a.f.groups[i].Name = changes[0][len("name="):]
			return a.f.groups[i], nil
		}
	}
	return assistant.Group{}, nil
}

func (a *fakeAdmin) RemoveGroup(_ context.Context, slug string, purge bool) error {
	a.calls = append(a.calls, "remove group "+slug)
	a.f.groups = slices.DeleteFunc(a.f.groups, func(g assistant.Group) bool { return g.Slug == slug })
	return nil
}

func TestChatRows(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC)
	ss := []assistant.Session{
		{ID: "a", Title: "Fix the build", Updated: now.Add(-time.Hour)},
		{ID: "b", Title: "Release notes", Updated: now.Add(-20 * time.Hour)},
		{ID: "c", Title: "Budget", Updated: now.AddDate(0, 0, -3)},
		{ID: "d", Updated: now.AddDate(0, -2, 0)},
	}
	flat := func(rows []ChatRow) []string {
		var out []string
		for _, r := range rows {
			out = append(out, r.Heading+r.Session.ID)
		}
		return out
	}
	if got, want := flat(ChatRows(ss, "", now)), []string{"Today", "a", "Yesterday", "b", "Previous 7 days", "c", "Earlier", "d"}; !slices.Equal(got, want) {
		t.Errorf("all: got %v, want %v", got, want)
	}
	if got, want := flat(ChatRows(ss, "BUD", now)), []string{"Previous 7 days", "c"}; !slices.Equal(got, want) {
		t.Errorf("search: got %v, want %v", got, want)
	}
	if got := ChatRows(ss, "untitled", now); len(got) != 2 || got[1].Session.ID != "d" {
		t.Errorf("untitled: got %v", flat(got))
	}
}

func TestGroupSlug(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"Work": "work", "Open source!": "open-source", "  Home / Family ": "home-family", "日本": ""} {
		if got := GroupSlug(in); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
}

// TestChatRenameAndDelete renames the chat in view and then deletes it: the
// list follows, and a new chat takes the deleted one's place.
func TestChatRenameAndDelete(t *testing.T) {
	f := newFake()
	a := &fakeAdmin{f: f}
	v, _ := openChat(t, f)
	v.Admin = a
	clickChat(t, v, "s1")
	if items := v.chatMenuItems("s1"); len(items) != 2 || items[0].Label != "Rename chat…" || items[1].Label != "Delete chat…" {
		t.Fatalf("chat menu: %v", items)
	}
	v.RenameChat("s1", "  Green build  ")
	if v.navRows[1].Session.Title != "Green build" || v.header.Text != "Green build · Work" {
		t.Errorf("after rename: row %q, header %q", v.navRows[1].Session.Title, v.header.Text)
	}
	v.RenameChat("s1", " ")
	if v.status.Text == "" || len(a.calls) != 1 {
		t.Errorf("an empty title: status %q, calls %v", v.status.Text, a.calls)
	}
	v.DeleteChat("s1")
	if v.conv.Session != "" || len(v.navRows) != 0 || v.navSelected != "" {
		t.Errorf("after delete: showing %q, %d rows, selected %q", v.conv.Session, len(v.navRows), v.navSelected)
	}
}

// TestGroupsInTheWindow creates a group from the switcher's menu, renames
// it, switches between groups and deletes one.
func TestGroupsInTheWindow(t *testing.T) {
	f := newFake()
	a := &fakeAdmin{f: f}
	v, _ := openChat(t, f)
	v.Admin = a
	v.CreateGroup("Open source")
	if v.Group() != "open-source" || !slices.Contains(v.groupSel.Options, "Open source") || v.groupSel.Selected != "Open source" {
		t.Fatalf("after create: group %q, options %v, selected %q", v.Group(), v.groupSel.Options, v.groupSel.Selected)
	}
	v.RenameGroup("open-source", "OSS")
	if v.groupSel.Selected != "OSS" {
		t.Errorf("after rename: selected %q", v.groupSel.Selected)
	}
	v.groupSel.SetSelected("Work")
	if v.Group() != "work" || v.conv.Session != "s1" {
		t.Errorf("after switching to Work: group %q, chat %q; want its latest chat", v.Group(), v.conv.Session)
	}
	v.DeleteGroup("work")
	if v.Group() != "open-source" || slices.Contains(v.groupSel.Options, "Work") {
		t.Errorf("after delete: group %q, options %v", v.Group(), v.groupSel.Options)
	}
	v.DeleteGroup("open-source")
	if v.status.Text == "" {
		t.Error("deleting the only group is not refused")
	}
	want := []string{"add open-source Open source", "set open-source name=OSS", "remove group work"}
	if !slices.Equal(a.calls, want) {
		t.Errorf("calls: got %v, want %v", a.calls, want)
	}
}
