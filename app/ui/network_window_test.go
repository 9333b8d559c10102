package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/berth-app/berth/app/assistant"
)

// TestNetworkWindowFromTheGroupMenu: the group menu's Network… opens the
// group's Network window, read through the service; asking again brings
// the same window back, and closing it lets a new one open.
func TestNetworkWindowFromTheGroupMenu(t *testing.T) {
	f := newFake()
	v, w := openChat(t, f)
	v.Admin = &fakeAdmin{f: f}
	net := &fakeNet{view: assistant.NetView{Group: "work", Mode: assistant.NetModeOpen, Warning: assistant.OpenWarning}}
	v.Network = net
	v.reload()
	v.showGroupMenu(v.groupSel)
	item := overlayTappable(t, w, NetworkMenuLabel)
	test.Tap(item)
	windows := func() (out []fyne.Window) {
		for _, x := range fyne.CurrentApp().Driver().AllWindows() {
			if x.Title() == "Network — Work" {
				out = append(out, x)
			}
		}
		return out
	}
	nw := windows()
	if len(nw) != 1 {
		t.Fatalf("%d Network windows open", len(nw))
	}
	var warning string
	walk(nw[0].Content(), func(o fyne.CanvasObject) {
		if l, ok := o.(*widget.Label); ok && strings.HasPrefix(l.Text, "network open") && l.Visible() {
			warning = l.Text
		}
	})
	if !strings.Contains(warning, "berth net mode -g work allowlist") {
		t.Errorf("the open group's warning: %q", warning)
	}
	v.ShowNetwork("work")
	if len(windows()) != 1 {
		t.Errorf("asking again opened another window: %d", len(windows()))
	}
	nw[0].Close()
	v.ShowNetwork("work")
	if len(windows()) != 1 {
		t.Errorf("after closing, %d windows", len(windows()))
	}
}

// overlayTappable finds the menu item (or other tappable) in the top
// overlay that shows text.
func overlayTappable(t *testing.T, w fyne.Window, text string) fyne.Tappable {
	t.Helper()
	top := w.Canvas().Overlays().Top()
	if top == nil {
		t.Fatalf("no menu open; want one with %q", text)
	}
	var found fyne.Tappable
	walk(top, func(o fyne.CanvasObject) {
		tp, ok := o.(fyne.Tappable)
		if !ok {
			return
		}
		walk(o, func(x fyne.CanvasObject) {
			if l, ok := x.(*canvas.Text); ok && l.Text == text {
				found = tp // the innermost wins: the walk goes outside in
			}
		})
	})
	if found == nil {
		t.Fatalf("no %q in the menu", text)
	}
	return found
}
