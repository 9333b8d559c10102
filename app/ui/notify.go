package ui

import (
	"github.com/berth-app/berth/app/assistant"
)

// Note is a desktop notification.
type Note struct{ Title, Body string }

// NoteFor decides whether an event deserves a desktop notification: Docker
// going down or coming back (a change of the gate, was being the gate
// before), and, while the window is hidden, an approval waiting or an answer
// finished. A pause is the user's own doing and is not news; everything else
// stays in the window.
func NoteFor(ev assistant.Event, was assistant.GateState, hidden bool) (Note, bool) {
	switch ev.Kind {
	case assistant.EventGate:
		g := ev.Gate
		if g == nil || g.Open == was.Open {
			return Note{}, false
		}
		if g.Open {
			if was.Paused != "" {
				return Note{}, false // resumed by the user
			}
			return Note{"Berth is ready again", "Docker is back; waiting messages run now."}, true
		}
		if g.Paused != "" {
			return Note{}, false
		}
		b := BannerFor(*g)
		body := b.Reason
		if b.Hint != "" {
			body += " — " + PlainHint(b.Hint)
		}
		return Note{b.Title, body}, true
	case assistant.EventAgent:
		if hidden && ev.Agent != nil && ev.Agent.Kind == assistant.AgentApproval {
			return Note{"Berth needs your approval", ev.Agent.Summary}, true
		}
	case assistant.EventTaskApproval:
		return Note{"Berth: a task needs your approval", ev.Text + ". Its chat shows what it wants to run."}, true
	case assistant.EventTaskEnd:
		if ev.Status == assistant.RunFinished {
			return Note{"Berth: task finished", ev.Text + " — its answer is in its chat."}, true
		}
		return Note{"Berth: task " + ev.Status, ev.Text + ": " + ev.Err}, true
	case assistant.EventTurnEnd:
		if hidden && ev.Status == assistant.StatusDone {
			return Note{"Berth answered", clipNote(ev.Text)}, true
		}
		if hidden && ev.Status != assistant.StatusDone && ev.Status != assistant.StatusCanceled {
			return Note{"Berth stopped a turn", "The turn ended " + ev.Status + "; open the chat to retry."}, true
		}
	}
	return Note{}, false
}

func clipNote(s string) string {
	if r := []rune(s); len(r) > 120 {
		return string(r[:119]) + "…"
	}
	if s == "" {
		return "Open the chat to read it."
	}
	return s
}
