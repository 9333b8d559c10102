package ui

import (
	"context"
	"sync"

	"github.com/berth-app/berth/app/agent"
)

// Approvals connects the agent's questions to the user's clicks. Ask runs
// on the turn's goroutine and waits; Answer comes from a button. Either may
// come first: the approval event that shows the buttons is emitted just
// before the agent asks.
type Approvals struct {
	mu      sync.Mutex
	pending map[string]chan agent.Approval // by call id
	// OnAsk, when set, is told each request (with the call's input) as Ask
	// starts waiting, on the turn's goroutine; set it before the first Ask.
	OnAsk func(req agent.ApprovalRequest)
}

func (a *Approvals) slot(callID string) chan agent.Approval {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.pending == nil {
		a.pending = map[string]chan agent.Approval{}
	}
	ch, ok := a.pending[callID]
	if !ok {
		ch = make(chan agent.Approval, 1)
		a.pending[callID] = ch
	}
	return ch
}

// Ask is an agent.Approver: it waits for Answer on the call, or for ctx
// (a stopped turn, a closed gate).
func (a *Approvals) Ask(ctx context.Context, req agent.ApprovalRequest) (agent.Approval, error) {
	ch := a.slot(req.CallID)
	if a.OnAsk != nil {
		a.OnAsk(req)
	}
	defer func() {
		a.mu.Lock()
		delete(a.pending, req.CallID)
		a.mu.Unlock()
	}()
	select {
	case ans := <-ch:
		return ans, nil
	case <-ctx.Done():
		return agent.Deny, context.Cause(ctx)
	}
}

// Answer gives the user's answer to a call; a second answer is ignored.
func (a *Approvals) Answer(callID string, ans agent.Approval) {
	select {
	case a.slot(callID) <- ans:
	default:
	}
}
