package ui

import (
	"context"
	"sync"

	"github.com/berth-app/berth/app/assistant"
)

// Approvals connects the agent's questions to the user's clicks. Ask runs
// on the turn's goroutine and waits; Answer comes from a button. Either may
// come first: the approval event that shows the buttons is emitted just
// before the agent asks.
type Approvals struct {
	mu      sync.Mutex
	waiting map[string]chan assistant.Approval // Asks waiting, by call id
	early   map[string]assistant.Approval      // answers that came before their Ask
	order   []string                           // early's keys, oldest first
	// OnAsk, when set, is told each request (with the call's input) as Ask
	// starts waiting, on the turn's goroutine; set it before the first Ask.
	OnAsk func(req assistant.ApprovalRequest)
}

// maxEarly bounds the answers kept for an Ask still to come: a click on a
// call that was already answered, or whose turn ended, is one of them, and
// must not be kept for ever.
const maxEarly = 16

// Ask is an assistant.Approver: it waits for Answer on the call, or for ctx
// (a stopped turn, a closed gate).
func (a *Approvals) Ask(ctx context.Context, req assistant.ApprovalRequest) (assistant.Approval, error) {
	a.mu.Lock()
	if ans, ok := a.early[req.CallID]; ok {
		delete(a.early, req.CallID)
		a.mu.Unlock()
		return ans, nil
	}
	if a.waiting == nil {
		a.waiting = map[string]chan assistant.Approval{}
	}
	ch := make(chan assistant.Approval, 1)
	a.waiting[req.CallID] = ch
	a.mu.Unlock()
	if a.OnAsk != nil {
		a.OnAsk(req)
	}
	defer func() {
		a.mu.Lock()
		delete(a.waiting, req.CallID)
		a.mu.Unlock()
	}()
	select {
	case ans := <-ch:
		return ans, nil
	case <-ctx.Done():
		return assistant.Deny, context.Cause(ctx)
	}
}

// Answer gives the user's answer to a call; a second answer is ignored.
func (a *Approvals) Answer(callID string, ans assistant.Approval) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if ch, ok := a.waiting[callID]; ok {
		select {
		case ch <- ans:
		default: // answered already
		}
		return
	}
	if _, ok := a.early[callID]; ok {
		return
	}
	if a.early == nil {
		a.early = map[string]assistant.Approval{}
	}
	a.early[callID] = ans
	a.order = append(a.order, callID)
	for len(a.order) > maxEarly {
		delete(a.early, a.order[0]) // a no-op when its Ask took it
		a.order = a.order[1:]
	}
}

// kept is how many answers wait for an Ask (for tests).
func (a *Approvals) kept() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.early) + len(a.waiting)
}
