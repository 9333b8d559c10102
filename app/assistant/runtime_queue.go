package assistant

import (
	"context"
	"errors"
	"fmt"

	"github.com/berth-app/berth/app/agent"
	"github.com/berth-app/berth/app/store"
)

// The queues: one per group, turns in order, a slot each, cancelled by the gate.

type queuedTurn struct {
	req ChatRequest
	msg store.Message
}

type groupQueue struct {
	items []queuedTurn
	wake  chan struct{}
}

type activeTurn struct {
	cancel         context.CancelCauseFunc
	group, session string
	askNet         NetAsker // the face that sent the turn answers its network questions; may be nil
}

func (r *Runtime) enqueue(it queuedTurn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.done[it.msg.ID]; !ok {
		r.done[it.msg.ID] = make(chan ChatResult, 1)
	}
	q, ok := r.queues[it.req.Group]
	if !ok {
		q = &groupQueue{wake: make(chan struct{}, 1)}
		r.queues[it.req.Group] = q
		r.wg.Add(1)
		go r.worker(it.req.Group, q)
	}
	q.items = append(q.items, it)
	if pos := len(q.items); pos > 1 || r.runningIn(it.req.Group) {
		r.bus.publish(Event{Kind: EventQueued, Group: it.req.Group, Session: it.req.Session, MessageID: it.msg.ID, Position: pos})
	}
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (r *Runtime) runningIn(group string) bool {
	for _, t := range r.running {
		if t.group == group {
			return true
		}
	}
	return false
}

// worker runs one group's turns, in order.
func (r *Runtime) worker(group string, q *groupQueue) {
	defer r.wg.Done()
	for {
		r.mu.Lock()
		if len(q.items) == 0 {
			r.mu.Unlock()
			select {
			case <-q.wake:
				continue
			case <-r.root.Done():
				return
			}
		}
		it := q.items[0]
		r.mu.Unlock()
		if !r.waitOpen(it) || !r.takeSlot(it) {
			if r.root.Err() != nil {
				return
			}
			continue // canceled while waiting
		}
		r.mu.Lock()
		if len(q.items) == 0 || q.items[0].msg.ID != it.msg.ID {
			r.mu.Unlock()
			<-r.slots
			continue // canceled while waiting
		}
		q.items = q.items[1:]
		r.mu.Unlock()
		r.runTurn(it)
		<-r.slots
	}
}

// waitOpen waits for the gate; false if the message was canceled or the
// runtime stops meanwhile.
func (r *Runtime) waitOpen(it queuedTurn) bool {
	for {
		r.mu.Lock()
		g := r.gateLocked()
		open, ch := r.open, r.openCh
		r.mu.Unlock()
		if g.Open != open {
			// The pause flag changed behind the runtime's back (another
			// process wrote it): act on it first, so that the wait below is
			// on the gate as it is.
			r.update()
			continue
		}
		reason := g.Reason
		if open {
			return true
		}
		r.bus.publish(Event{Kind: EventWaitGate, Group: it.req.Group, Session: it.req.Session, MessageID: it.msg.ID, Text: reason})
		select {
		case <-ch:
		case <-r.root.Done():
			return false
		}
		if !r.stillQueued(it) {
			return false
		}
	}
}

func (r *Runtime) takeSlot(it queuedTurn) bool {
	select {
	case r.slots <- struct{}{}:
		return true
	default:
	}
	r.bus.publish(Event{Kind: EventWaitSlot, Group: it.req.Group, Session: it.req.Session, MessageID: it.msg.ID,
		Text: fmt.Sprintf("waiting for a free sandbox (%d running at most)", r.cfg.MaxSandboxes)})
	select {
	case r.slots <- struct{}{}:
		return true
	case <-r.root.Done():
		return false
	}
}

func (r *Runtime) stillQueued(it queuedTurn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	q := r.queues[it.req.Group]
	return q != nil && len(q.items) > 0 && q.items[0].msg.ID == it.msg.ID
}

// runTurn answers one message; a closing gate cancels it.
func (r *Runtime) runTurn(it queuedTurn) {
	ctx, cancel := context.WithCancelCause(r.root)
	defer cancel(nil)
	r.mu.Lock()
	r.running[it.msg.ID] = &activeTurn{cancel: cancel, group: it.req.Group, session: it.req.Session, askNet: it.req.AskNet}
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.running, it.msg.ID)
		r.mu.Unlock()
	}()
	r.makeRoom(ctx, it.req.Session)
	r.bus.publish(Event{Kind: EventTurnStart, Group: it.req.Group, Session: it.req.Session, MessageID: it.msg.ID})
	req := it.req
	onEvent := req.OnEvent
	req.OnEvent = func(ev agent.Event) {
		if onEvent != nil {
			onEvent(ev)
		}
		e := ev
		r.bus.publish(Event{Kind: EventAgent, Group: req.Group, Session: req.Session, MessageID: it.msg.ID, Agent: &e})
	}
	res, err := r.svc.Answer(ctx, req, it.msg)
	var gc *GateClosedError
	if errors.As(err, &gc) && res.Status == StatusPending {
		// The gate closed between the worker's wait and the turn's start
		// (both read the one gate): wait again.
		_ = r.svc.Store.SetMessageStatus(context.WithoutCancel(ctx), it.msg.ID, StatusPending)
		r.mu.Lock()
		q := r.queues[it.req.Group]
		q.items = append([]queuedTurn{it}, q.items...)
		r.mu.Unlock()
		r.update() // the worker then waits for the gate as it is now
		return
	}
	res.Err = err
	r.mu.Lock()
	rot := r.rotate[it.req.Session]
	delete(r.rotate, it.req.Session)
	r.mu.Unlock()
	if rot {
		r.stopSession(context.WithoutCancel(ctx), it.req.Group, it.req.Session, "rotated")
	}
	r.finish(it.msg.ID, res)
}

func (r *Runtime) finish(id int64, res ChatResult) {
	ev := Event{Kind: EventTurnEnd, Session: res.Session, MessageID: id, Status: res.Status, Text: res.Text}
	if res.Err != nil {
		ev.Err = res.Err.Error()
	}
	r.bus.publish(ev)
	r.mu.Lock()
	ch := r.done[id]
	if ch != nil {
		r.ended = append(r.ended, id)
		for len(r.ended) > r.cfg.KeepResults {
			delete(r.done, r.ended[0])
			r.ended = r.ended[1:]
		}
	}
	r.mu.Unlock()
	if ch != nil {
		select {
		case ch <- res:
		default:
		}
	}
}

// defaultKeepResults is how many ended turns Wait can still be asked about
// unless RuntimeConfig says otherwise.
const defaultKeepResults = 256
