package ui

import (
	"fmt"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"github.com/berth-app/berth/app/assistant"
)

// focusName names a focused object for TestChatTabOrderExact.
func (v *ChatView) focusName(o fyne.Focusable) string {
	switch f := o.(type) {
	case *messageEntry:
		return "message box"
	case *widget.List:
		if f == v.nav {
			return "chat list"
		}
		return "transcript"
	case *widget.Button:
		switch f {
		case v.chatMenu:
			return "chat menu"
		}
		return strings.TrimSpace(cmpText(f.Text, "?"))
	case *widget.Select:
		return "group"
	case *widget.Entry:
		if f == v.search {
			return "search"
		}
	}
	return fmt.Sprintf("%T", o)
}

func cmpText(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// TestChatTabOrderExact: Tab goes from the message box to Stop and Send,
// then the transcript (its list, for the arrow keys, and its buttons), the
// chat's menu and help, then the left side (group and its menu, New chat,
// search, the chat list) and back to the message box; Shift+Tab goes the
// same way back.
func TestChatTabOrderExact(t *testing.T) {
	v, w := openChat(t, newFake())
	running(v, "c1", assistant.AgentEvent{Kind: assistant.AgentToolStart, Tool: "bash", CallID: "c1", Summary: "bash: make"},
		assistant.AgentEvent{Kind: assistant.AgentApproval, Tool: "bash", CallID: "c1"})
	c := w.Canvas()
	c.Focus(v.input)
	var got []string
	for range 30 {
		c.FocusNext()
		n := v.focusName(c.Focused())
		got = append(got, n)
		if n == "message box" {
			break
		}
	}
	want := []string{"Stop", "Send", "transcript", "Allow once", AlwaysLabel("bash"), "Deny", "chat menu", "?",
		"group", "?", "New chat", "search", "chat list", "message box"}
	if strings.Join(got, " → ") != strings.Join(want, " → ") {
		t.Errorf("Tab from the message box:\n got  %s\n want %s", strings.Join(got, " → "), strings.Join(want, " → "))
	}
	var back []string
	for range 30 {
		c.FocusPrevious()
		n := v.focusName(c.Focused())
		back = append(back, n)
		if n == "message box" {
			break
		}
	}
	// Back, the same stops in reverse — but Fyne's focus manager reaches a
	// list before the buttons inside it either way.
	want = []string{"chat list", "search", "New chat", "?", "group", "?", "chat menu",
		"transcript", "Deny", AlwaysLabel("bash"), "Allow once", "Send", "Stop", "message box"}
	if strings.Join(back, " → ") != strings.Join(want, " → ") {
		t.Errorf("Shift+Tab from the message box:\n got  %s\n want %s", strings.Join(back, " → "), strings.Join(want, " → "))
	}
}
