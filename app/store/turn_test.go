package store

import (
	"context"
	"encoding/json"
	"testing"
)

// TestFinishTurnAllOrNothing: a turn's messages, the user message's status
// and its audit event are kept together, or, when one part fails, none is.
func TestFinishTurnAllOrNothing(t *testing.T) {
	s := openStore(t, dbPath(t), Options{})
	ctx := context.Background()
	if _, err := s.CreateGroup(ctx, Group{Slug: "g", Name: "G"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateSession(ctx, Session{ID: "s1", Group: "g"}); err != nil {
		t.Fatal(err)
	}
	user, err := s.AddMessage(ctx, Message{Session: "s1", Role: "user", Content: "hi", Status: "running"})
	if err != nil {
		t.Fatal(err)
	}
	ev := Event{Group: "g", Session: "s1", Kind: "turn.end", Actor: ActorAgent, Summary: "turn done", Detail: json.RawMessage(`{"status":"done"}`)}

	// A message for a chat that does not exist fails the whole turn.
	bad := TurnEnd{MessageID: user.ID, Status: "done", Event: ev, Messages: []Message{
		{Session: "s1", Role: "assistant", Content: "hello", Status: "done"},
		{Session: "no-such-chat", Role: "tool", Content: "x", Status: "done"},
	}}
	if _, _, err := s.FinishTurn(ctx, bad); err == nil {
		t.Fatal("a turn with a message for a missing chat was kept")
	}
	ms, _ := s.Messages(ctx, "s1")
	evs, _ := s.Events(ctx, Filter{Kind: "turn.end"})
	if len(ms) != 1 || ms[0].Status != "running" || len(evs) != 0 {
		t.Fatalf("after a failed FinishTurn: %d messages (status %q), %d turn.end events; want 1, running, 0", len(ms), ms[0].Status, len(evs))
	}

	good := bad
	good.Messages = bad.Messages[:1]
	stored, got, err := s.FinishTurn(ctx, good)
	if err != nil {
		t.Fatal(err)
	}
	ms, _ = s.Messages(ctx, "s1")
	if len(ms) != 2 || ms[0].Status != "done" || ms[1].ID != stored[0].ID || ms[1].SHA256 != stored[0].SHA256 {
		t.Fatalf("after FinishTurn: %+v (stored %+v)", ms, stored)
	}
	var detail struct {
		Status   string
		Messages []struct {
			MessageID int64 `json:"message_id"`
			SHA256    string
		}
	}
	if err := json.Unmarshal(got.Detail, &detail); err != nil {
		t.Fatal(err)
	}
	if detail.Status != "done" || len(detail.Messages) != 1 || detail.Messages[0].MessageID != stored[0].ID || detail.Messages[0].SHA256 != stored[0].SHA256 {
		t.Errorf("turn.end detail: %s", got.Detail)
	}
	if rep, err := s.Verify(ctx); err != nil || !rep.OK {
		t.Errorf("chain after FinishTurn: %+v %v", rep, err)
	}
}
