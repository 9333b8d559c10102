package ui

import (
	"github.com/berth-app/berth/app/assistant"
)

// Note is a desktop notification, with the buttons it offers where the
// notification service shows them (freedesktop actions).
type Note struct {
	Title, Body string
	Actions     []NoteAction
	// Group and Session are the chat Open chat opens; NetID the network
	// question Allow once and Deny answer.
	Group, Session, NetID string
}

// NoteAction is a notification's button: its key and its label.
type NoteAction struct{ Key, Label string }

// The keys of the notification buttons.
const (
	NoteAllowOnce = "allow-once"
	NoteDeny      = "deny"
	NoteOpenChat  = "open-chat"
)

// openChatNote is the Open chat button, for a note about a chat.
func openChatNote(session string) []NoteAction {
	if session == "" {
		return nil
	}
	return []NoteAction{{NoteOpenChat, "Open chat"}}
}

// Response is what the button key asks of the app: a network answer for
// the note's question, or to open its chat.
func (n Note) Response(key string) (ans assistant.NetAnswer, answer, open bool) {
	switch {
	case key == NoteAllowOnce && n.NetID != "":
		return assistant.NetAllowOnce, true, false
	case key == NoteDeny && n.NetID != "":
		return assistant.NetDeny, true, false
	case key == NoteOpenChat && n.Session != "":
		return 0, false, true
	}
	return 0, false, false
}

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
			return Note{Title: "Berth is ready again", Body: "Docker is back; waiting messages run now."}, true
		}
		if g.Paused != "" {
			return Note{}, false
		}
		b := BannerFor(*g)
		body := b.Reason
		if b.Hint != "" {
			body += " — " + PlainHint(b.Hint)
		}
		return Note{Title: b.Title, Body: body}, true
	case assistant.EventAgent:
		if hidden && ev.Agent != nil && ev.Agent.Kind == assistant.AgentApproval {
			return Note{Title: "Berth needs your approval", Body: ev.Agent.Summary,
				Actions: openChatNote(ev.Session), Group: ev.Group, Session: ev.Session}, true
		}
	case assistant.EventTaskApproval:
		return Note{Title: "Berth: a task needs your approval", Body: ev.Text + ". Its chat shows what it wants to run.",
			Actions: openChatNote(ev.Session), Group: ev.Group, Session: ev.Session}, true
	case assistant.EventTaskEnd:
		if ev.Status == assistant.RunFinished {
			return Note{Title: "Berth: task finished", Body: ev.Text + " — its answer is in its chat."}, true
		}
		return Note{Title: "Berth: task " + ev.Status, Body: ev.Text + ": " + ev.Err}, true
	case assistant.EventTurnEnd:
		if hidden && ev.Status == assistant.StatusDone {
			return Note{Title: "Berth answered", Body: clipNote(ev.Text)}, true
		}
		if hidden && ev.Status != assistant.StatusDone && ev.Status != assistant.StatusCanceled {
			return Note{Title: "Berth stopped a turn", Body: "The turn ended " + ev.Status + "; open the chat to retry."}, true
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
