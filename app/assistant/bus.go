package assistant

import (
	"sync"
	"time"

	"github.com/berth-app/berth/app/agent"
	"github.com/berth-app/berth/docker"
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
}

// GateState is whether work may run, and if not, why and how to fix it.
type GateState struct {
	Open   bool           `json:"open"`
	Docker docker.Status  `json:"docker"`
	Paused string         `json:"paused,omitempty"` // the pause reason, "" when not paused
	Disk   *docker.Status `json:"disk,omitempty"`   // set while a disk is almost full (see diskguard.go)
}

// Reason is the one line a face shows for a closed gate.
func (g GateState) Reason() (reason, hint string) {
	if g.Paused != "" {
		st := pausedStatus(g.Paused)
		return st.Reason, st.Hint
	}
	if g.Disk != nil {
		return g.Disk.Reason, g.Disk.Hint
	}
	return g.Docker.Reason, g.Docker.Hint
}

// bus fans events out to subscribers; each has an unbounded queue so a slow
// face never blocks a turn and never misses an event.
type bus struct {
	mu   sync.Mutex
	subs map[*sub]struct{}
}

type sub struct {
	mu    sync.Mutex
	queue []Event
	wake  chan struct{}
	out   chan Event
	done  chan struct{}
}

func (b *bus) publish(ev Event) {
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		s.mu.Lock()
		s.queue = append(s.queue, ev)
		s.mu.Unlock()
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

func (b *bus) subscribe() (<-chan Event, func()) {
	s := &sub{wake: make(chan struct{}, 1), out: make(chan Event), done: make(chan struct{})}
	b.mu.Lock()
	if b.subs == nil {
		b.subs = map[*sub]struct{}{}
	}
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	go func() {
		defer close(s.out)
		for {
			s.mu.Lock()
			if len(s.queue) == 0 {
				s.mu.Unlock()
				select {
				case <-s.wake:
					continue
				case <-s.done:
					return
				}
			}
			ev := s.queue[0]
			s.queue = s.queue[1:]
			s.mu.Unlock()
			select {
			case s.out <- ev:
			case <-s.done:
				return
			}
		}
	}()
	var once sync.Once
	return s.out, func() {
		once.Do(func() {
			b.mu.Lock()
			delete(b.subs, s)
			b.mu.Unlock()
			close(s.done)
		})
	}
}
