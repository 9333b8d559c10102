package ui

import (
	"context"

	"github.com/berth-app/berth/app/assistant"
)

// Watch applies the runtime's events on Fyne's thread until ctx ends.
func (v *ChatView) Watch(ctx context.Context) {
	ch, cancel := v.asst.Subscribe()
	// The gate may have changed between building the view and subscribing:
	// start from the state as it is now.
	g := v.asst.Gate()
	v.do(func() { v.Handle(assistant.Event{Kind: assistant.EventGate, Gate: &g}) })
	go func() {
		defer cancel()
		for {
			select {
			case ev, ok := <-ch:
				if !ok {
					return
				}
				v.do(func() { v.Handle(ev) })
			case <-ctx.Done():
				return
			}
		}
	}()
}

// Handle applies one runtime event; call it on Fyne's thread.
func (v *ChatView) Handle(ev assistant.Event) {
	changed := false
	for _, c := range v.chats {
		if c != v.conv {
			c.Apply(ev)
		}
	}
	if v.conv.Apply(ev) {
		changed = true
	}
	if len(v.asked) > 0 && v.giveAskedInput() {
		changed = true
	}
	v.noticeNet(ev)
	if ev.Kind == assistant.EventGate {
		changed = true
		if v.Setup != nil && ev.Gate != nil {
			v.Setup.ShowGate(*ev.Gate)
		}
	}
	if ev.Kind == assistant.EventTurnEnd {
		v.refreshUsage(ev.Session)
		changed = changed || ev.Session == v.conv.Session
	}
	if changed {
		v.render()
	}
}
