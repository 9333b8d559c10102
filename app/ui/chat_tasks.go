package ui

import (
	"context"

	"github.com/berth-app/berth/app/assistant"
)

// AskForTask is the desktop's approver for unattended task runs: it shows
// the run's chat with the call's approval card, and waits for the click (or
// for the task's approval wait to run out).
func (v *ChatView) AskForTask(ctx context.Context, group, session string, req assistant.ApprovalRequest) (assistant.Approval, error) {
	v.do(func() {
		v.Open(assistant.Session{ID: session, Group: group})
		// The turn's cards are not stored until it ends: a chat opened now
		// lacks this call's card.
		if c := v.chats[session]; c != nil && c.card(req.CallID) == nil {
			v.Handle(assistant.Event{Kind: assistant.EventAgent, Group: group, Session: session,
				Agent: &assistant.AgentEvent{Kind: assistant.AgentToolStart, Tool: req.Tool, CallID: req.CallID, Summary: req.Summary}})
		}
		v.Handle(assistant.Event{Kind: assistant.EventAgent, Group: group, Session: session,
			Agent: &assistant.AgentEvent{Kind: assistant.AgentApproval, Tool: req.Tool, CallID: req.CallID, Summary: req.Summary}})
	})
	return v.approvals.Ask(ctx, req)
}
