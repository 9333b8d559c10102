package ui

import (
	"slices"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/berth-app/berth/app/assistant"
)

func TestFilterChats(t *testing.T) {
	t.Parallel()
	groups := []assistant.Group{{Slug: "work", Name: "Work"}, {Slug: "home", Name: "Home"}}
	sessions := map[string][]assistant.Session{
		"work": {{ID: "a", Title: "Fix the build"}, {ID: "b", Title: "Release notes"}},
		"home": {{ID: "c", Title: "Budget"}, {ID: "d"}},
	}
	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{"a", "b", "c", "d"}},
		{"BUILD", []string{"a"}},
		{"home", []string{"c", "d"}},
		{"untitled home", []string{"d"}},
		{"nothing like it", nil},
	}
	for _, tc := range tests {
		var got []string
		for _, m := range FilterChats(groups, sessions, tc.query) {
			got = append(got, m.Session.ID)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%q: got %v, want %v", tc.query, got, tc.want)
		}
	}
}

// TestChatTabOrder: Tab leaves the message box, and going on with Tab
// reaches Send, the approval's three buttons and the chat list.
func TestChatTabOrder(t *testing.T) {
	v, w := openChat(t, newFake())
	running(v, "c1", assistant.AgentEvent{Kind: assistant.AgentToolStart, Tool: "bash", CallID: "c1", Summary: "bash: make"},
		assistant.AgentEvent{Kind: assistant.AgentApproval, Tool: "bash", CallID: "c1"})
	if v.input.AcceptsTab() {
		t.Fatal("the message box takes Tab as text")
	}
	c := w.Canvas()
	c.Focus(v.input)
	seen := map[string]bool{}
	for range 40 {
		c.FocusNext()
		switch f := c.Focused().(type) {
		case *widget.Button:
			seen[f.Text] = true
		case *widget.List:
			if f == v.nav {
				seen["chat list"] = true
			}
		case *messageEntry:
			seen["message box"] = true
		}
	}
	for _, want := range []string{"Send", "Stop", "Allow once", AlwaysLabel("bash"), "Deny", "chat list", "message box"} {
		if !seen[want] {
			t.Errorf("Tab never reaches %q (reached %v)", want, seen)
		}
	}
}

// TestChatShortcuts: Ctrl+K opens the switcher, typing filters, Enter opens
// the chat; Ctrl+, opens Settings; Esc stops the running turn.
func TestChatShortcuts(t *testing.T) {
	f := newFake()
	f.sessions["work"] = append(f.sessions["work"], assistant.Session{ID: "s2", Group: "work", Title: "Release notes"})
	var canceled []int64
	f.CancelFunc = func(id int64) error { canceled = append(canceled, id); return nil }
	v, w := openChat(t, f)
	settings := 0
	v.OnOpenSettings = func() { settings++ }

	v.input.TypedShortcut(switchShortcut)
	if v.switcher == nil {
		t.Fatal("Ctrl+K opened no switcher")
	}
	if w.Canvas().Focused() != v.switcher.filter {
		t.Error("the switcher's filter does not have the focus")
	}
	test.Type(v.switcher.filter, "release")
	if len(v.switcher.matches) != 1 {
		t.Fatalf("filter: %d matches, want 1", len(v.switcher.matches))
	}
	v.switcher.filter.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if v.conv.Session != "s2" || v.switcher != nil {
		t.Errorf("after Enter: showing %q, switcher open %v", v.conv.Session, v.switcher != nil)
	}

	v.input.TypedShortcut(settingsShortcut)
	if settings != 1 {
		t.Errorf("Ctrl+, opened Settings %d times", settings)
	}

	running(v, "c1")
	v.input.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if !slices.Equal(canceled, []int64{7}) {
		t.Errorf("Esc canceled %v, want [7]", canceled)
	}
}
