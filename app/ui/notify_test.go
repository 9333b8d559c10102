package ui

import (
	"testing"

	"github.com/berth-app/berth/app/agent"
	"github.com/berth-app/berth/app/assistant"
	"github.com/berth-app/berth/docker"
)

func TestNoteFor(t *testing.T) {
	t.Parallel()
	down := &assistant.GateState{Open: false, Docker: docker.Status{State: docker.Down, Reason: "Docker is not running", Hint: "start Docker"}}
	up := &assistant.GateState{Open: true, Docker: docker.Status{State: docker.Ready}}
	approval := &agent.Event{Kind: agent.EventApproval, Summary: "bash: rm -rf build"}
	cases := []struct {
		name          string
		ev            assistant.Event
		wasOpen, hide bool
		want          string // title; "" = no note
	}{
		{"docker went down", assistant.Event{Kind: assistant.EventGate, Gate: down}, true, false, "Berth is blocked"},
		{"still down: no repeat", assistant.Event{Kind: assistant.EventGate, Gate: down}, false, false, ""},
		{"docker came back", assistant.Event{Kind: assistant.EventGate, Gate: up}, false, false, "Berth is ready"},
		{"approval while hidden", assistant.Event{Kind: assistant.EventAgent, Agent: approval}, true, true, "Berth needs your approval"},
		{"approval in view: the window shows it", assistant.Event{Kind: assistant.EventAgent, Agent: approval}, true, false, ""},
		{"answer while hidden", assistant.Event{Kind: assistant.EventTurnEnd, Status: assistant.StatusDone, Text: "done"}, true, true, "Berth answered"},
		{"answer in view", assistant.Event{Kind: assistant.EventTurnEnd, Status: assistant.StatusDone}, true, false, ""},
		{"interrupted while hidden", assistant.Event{Kind: assistant.EventTurnEnd, Status: assistant.StatusInterrupted}, true, true, "Berth stopped a turn"},
		{"canceled by the user", assistant.Event{Kind: assistant.EventTurnEnd, Status: assistant.StatusCanceled}, true, true, ""},
		{"task waits for an approval, window open or not", assistant.Event{Kind: assistant.EventTaskApproval, Text: `Task "Tidy" needs your approval`}, true, false, "Berth: a task needs your approval"},
		{"task finished", assistant.Event{Kind: assistant.EventTaskEnd, Status: assistant.RunFinished, Text: "Tidy"}, true, false, "Berth: task finished"},
		{"task needs approval", assistant.Event{Kind: assistant.EventTaskEnd, Status: assistant.RunNeedsApproval, Text: "Tidy"}, true, false, "Berth: task needs-approval"},
		{"text delta", assistant.Event{Kind: assistant.EventAgent, Agent: &agent.Event{Kind: agent.EventText, Text: "x"}}, true, true, ""},
	}
	for _, c := range cases {
		n, ok := NoteFor(c.ev, c.wasOpen, c.hide)
		if got := map[bool]string{true: n.Title, false: ""}[ok]; got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
	if n, _ := NoteFor(assistant.Event{Kind: assistant.EventGate, Gate: down}, true, false); n.Body != "Docker is not running — start Docker" {
		t.Errorf("blocked note body: %q", n.Body)
	}
}
