package ui

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/berth-app/berth/app/assistant"
)

// TestApprovalsLateClicksAreNotKept: clicks on calls whose Ask has ended
// (a double click, a button left on screen after the turn stopped) leave
// nothing behind beyond a small bound; before, each kept a channel for ever.
func TestApprovalsLateClicksAreNotKept(t *testing.T) {
	t.Parallel()
	var a Approvals
	ctx := context.Background()
	for i := range 1000 {
		id := fmt.Sprintf("call-%d", i)
		a.Answer(id, assistant.AllowOnce) // before its Ask: kept for it
		if got, err := a.Ask(ctx, assistant.ApprovalRequest{CallID: id}); err != nil || got != assistant.AllowOnce {
			t.Fatalf("early answer: got %v, %v", got, err)
		}
		a.Answer(id, assistant.Deny) // late: after its Ask returned
	}
	if n := a.kept(); n > maxEarly {
		t.Errorf("answers kept after 1000 late clicks: got %d, want at most %d", n, maxEarly)
	}
	// Asking first still works, and a second answer is ignored.
	done := make(chan assistant.Approval)
	go func() {
		got, _ := a.Ask(ctx, assistant.ApprovalRequest{CallID: "x"})
		done <- got
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !a.waitingFor("x") {
		if time.Now().After(deadline) {
			t.Fatal("Ask never started waiting")
		}
		runtime.Gosched()
	}
	a.Answer("x", assistant.AllowAlways)
	a.Answer("x", assistant.Deny)
	if got := <-done; got != assistant.AllowAlways {
		t.Errorf("answer to a waiting Ask: got %v, want AllowAlways", got)
	}
}

func (a *Approvals) waitingFor(id string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ok := a.waiting[id]
	return ok
}
