package ui

import (
	"testing"

	"github.com/berth-app/berth/app/assistant"
)

func TestNoteFor(t *testing.T) {
	t.Parallel()
	down := &assistant.GateState{Open: false, Docker: assistant.DockerDown, Reason: "Docker is not running", Hint: "start Docker"}
	up := &assistant.GateState{Open: true, Docker: assistant.DockerReady}
	paused := &assistant.GateState{Docker: assistant.DockerReady, Paused: "lunch", Reason: "the assistant is paused (lunch)", Hint: "resume it from the tray or with `berth resume`"}
	approval := &assistant.AgentEvent{Kind: assistant.AgentApproval, Summary: "bash: rm -rf build"}
	cases := []struct {
		name string
		ev   assistant.Event
		was  *assistant.GateState
		hide bool
		want string // title; "" = no note
	}{
		{"docker went down", assistant.Event{Kind: assistant.EventGate, Gate: down}, up, false, DownTitle},
		{"still down: no repeat", assistant.Event{Kind: assistant.EventGate, Gate: down}, down, false, ""},
		{"docker came back", assistant.Event{Kind: assistant.EventGate, Gate: up}, down, false, "Berth is ready again"},
		{"paused by the user: not news", assistant.Event{Kind: assistant.EventGate, Gate: paused}, up, false, ""},
		{"resumed by the user: not news", assistant.Event{Kind: assistant.EventGate, Gate: up}, paused, false, ""},
		{"approval while hidden", assistant.Event{Kind: assistant.EventAgent, Agent: approval}, up, true, "Berth needs your approval"},
		{"approval in view: the window shows it", assistant.Event{Kind: assistant.EventAgent, Agent: approval}, up, false, ""},
		{"answer while hidden", assistant.Event{Kind: assistant.EventTurnEnd, Status: assistant.StatusDone, Text: "done"}, up, true, "Berth answered"},
		{"answer in view", assistant.Event{Kind: assistant.EventTurnEnd, Status: assistant.StatusDone}, up, false, ""},
		{"interrupted while hidden", assistant.Event{Kind: assistant.EventTurnEnd, Status: assistant.StatusInterrupted}, up, true, "Berth stopped a turn"},
		{"canceled by the user", assistant.Event{Kind: assistant.EventTurnEnd, Status: assistant.StatusCanceled}, up, true, ""},
		{"task waits for an approval, window open or not", assistant.Event{Kind: assistant.EventTaskApproval, Text: `Task "Tidy" needs your approval`}, up, false, "Berth: a task needs your approval"},
		{"task finished", assistant.Event{Kind: assistant.EventTaskEnd, Status: assistant.RunFinished, Text: "Tidy"}, up, false, "Berth: task finished"},
		{"task needs approval", assistant.Event{Kind: assistant.EventTaskEnd, Status: assistant.RunNeedsApproval, Text: "Tidy"}, up, false, "Berth: task needs-approval"},
		{"text delta", assistant.Event{Kind: assistant.EventAgent, Agent: &assistant.AgentEvent{Kind: assistant.AgentText, Text: "x"}}, up, true, ""},
	}
	for _, c := range cases {
		n, ok := NoteFor(c.ev, *c.was, c.hide)
		if got := map[bool]string{true: n.Title, false: ""}[ok]; got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
	down.Hint = "start Docker: `sudo systemctl start docker`"
	if n, _ := NoteFor(assistant.Event{Kind: assistant.EventGate, Gate: down}, *up, false); n.Body != "Docker is not running — start Docker: sudo systemctl start docker" {
		t.Errorf("blocked note body: %q", n.Body)
	}
}
