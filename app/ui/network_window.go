package ui

import (
	"fyne.io/fyne/v2"
)

// NetworkMenuLabel is the group menu's item that opens the group's Network
// window.
const NetworkMenuLabel = "Network…"

// ShowNetwork opens the Network window of a group: its mode, rules,
// presets and recent destinations. One window per group: asking again
// brings it to the front.
func (v *ChatView) ShowNetwork(group string) {
	if v.Network == nil {
		return
	}
	if v.netWins == nil {
		v.netWins = map[string]fyne.Window{}
	}
	if w, ok := v.netWins[group]; ok {
		w.Show()
		w.RequestFocus()
		return
	}
	nv := NewNetworkView(v.ctx, v.Network, group)
	nv.do, nv.async = v.do, v.work
	w := NewNetworkWindow(fyne.CurrentApp(), nv, v.groupName(group))
	v.netWins[group] = w
	w.SetOnClosed(func() { delete(v.netWins, group) })
	w.Show()
}

// NewNetworkWindow makes a window on a group's Network view.
func NewNetworkWindow(app fyne.App, nv *NetworkView, groupName string) fyne.Window {
	w := app.NewWindow("Network — " + groupName)
	w.SetIcon(AppIcon())
	w.SetContent(nv.Content())
	w.Resize(fyne.NewSize(620, 640))
	return w
}
