package assistant

import (
	"time"

	"github.com/berth-app/berth/app/agent"
	"github.com/berth-app/berth/docker/fanout"
)

// Event kinds of the runtime's stream, which the desktop app renders and
// the CLI prints.
const (
	EventGate        = "gate"         // Gate: the gate opened or closed (Docker, pause)
	EventQueued      = "queued"       // Position: a message waits its turn in its group
	EventWaitGate    = "waiting_gate" // a message waits for the gate to open
	EventWaitSlot    = "waiting_slot" // a message waits for a free sandbox slot
	EventTurnStart   = "turn_start"   // a turn started
	EventAgent       = "agent"        // Agent: progress inside a turn (text, tool calls, approvals)
	EventTurnEnd     = "turn_end"     // Status, Text, Err: a turn ended
	EventSandboxStop = "sandbox_stop" // Text: a sandbox was stopped (idle, rotated, evicted)
	EventError       = "error"        // Err: something went wrong outside a turn
	// EventNetAsk and EventNetAnswer: see egress_ask.go.
)

// Event is one thing the runtime tells the faces.
type Event struct {
	Kind      string       `json:"kind"`
	Time      time.Time    `json:"time"`
	Group     string       `json:"group,omitempty"`
	Session   string       `json:"session,omitempty"`
	MessageID int64        `json:"message_id,omitempty"`
	Gate      *GateState   `json:"gate,omitempty"`
	Agent     *agent.Event `json:"-"`
	Position  int          `json:"position,omitempty"`
	Status    string       `json:"status,omitempty"`
	Text      string       `json:"text,omitempty"`
	Err       string       `json:"error,omitempty"`
	Net       *NetQuestion `json:"net,omitempty"` // EventNetAsk, EventNetAnswer
}

// bus fans events out to subscribers; each has an unbounded queue so a slow
// face never blocks a turn and never misses an event.
type bus struct{ f fanout.Fanout[Event] }

func (b *bus) publish(ev Event) {
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	b.f.Publish(ev)
}

func (b *bus) subscribe() (<-chan Event, func()) { return b.f.Subscribe() }
