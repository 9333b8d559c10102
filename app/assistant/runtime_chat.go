package assistant

import (
	"context"
	"fmt"

	"github.com/berth-app/berth/docker"
)

// Chat sends one message and waits for its turn to end: what `berth chat`
// does, in-process or through a running Berth's control socket. It does not
// wait for a closed gate: the message stays queued (it runs when the gate
// opens, in a long-running Berth) and *GateClosedError is returned. A
// canceled ctx stops the turn, which is kept as interrupted with its partial
// answer; the result then says so and the error is ctx's.
func (r *Runtime) Chat(ctx context.Context, req ChatRequest) (ChatResult, error) {
	events, unsub := r.Subscribe()
	defer unsub()
	msg, err := r.Send(ctx, req)
	res := ChatResult{Session: msg.Session, MessageID: msg.ID}
	if err != nil {
		return res, err
	}
	started, waitingGate := false, false
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return res, fmt.Errorf("the runtime stopped before message %d was answered", msg.ID)
			}
			switch {
			case ev.MessageID == msg.ID && ev.Kind == EventWaitGate:
				waitingGate = true
			case ev.MessageID == msg.ID && ev.Kind == EventTurnStart:
				started, waitingGate = true, false
			case ev.MessageID == msg.ID && ev.Kind == EventTurnEnd:
				out, err := r.Wait(ctx, msg.ID)
				if err != nil {
					return out, err
				}
				if g := r.Gate(); out.Status == StatusInterrupted && ctx.Err() == nil && !g.Open {
					// Docker went away mid-turn: why, and how to fix it.
					return out, fmt.Errorf("%w: %s — %s", ErrGateClosed, g.Reason, g.Hint)
				}
				return out, out.Err
			}
			if waitingGate && !started {
				// Only a real reading closes the door on this message; the
				// first one may still be on its way.
				if g := r.Gate(); !g.Open && g.Docker != docker.Checking {
					return res, &GateClosedError{Gate: g}
				}
			}
		case <-ctx.Done():
			stop := context.WithoutCancel(ctx)
			if err := r.Cancel(stop, msg.ID); err != nil {
				return res, ctx.Err()
			}
			out, err := r.Wait(stop, msg.ID)
			if err != nil {
				return res, err
			}
			return out, ctx.Err()
		}
	}
}

// Service is the service the runtime drives (a one-shot command stops its
// chat's sandbox through it as it exits).
func (r *Runtime) Service() *Service { return r.svc }
