package llm_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/berth-app/berth/app/llm"
	"github.com/berth-app/berth/app/llm/llmtest"
)

// TestCancelMidStream cancels from inside emit, after the first text delta,
// while the fake stalls with the rest of the reply unsent. Stream must return
// with context.Canceled rather than wait for the server.
func TestCancelMidStream(t *testing.T) {
	t.Parallel()
	tests := []struct {
		backend   backend
		holdAfter int // events before the stall: the first delta got out
	}{
		{backends[0], 4}, // message_start, ping, content_block_start, "first"
		{backends[1], 2}, // role, "first"
	}
	for _, tc := range tests {
		t.Run(tc.backend.name, func(t *testing.T) {
			t.Parallel()
			srv, p := tc.backend.start(t)
			srv.Queue(llmtest.Reply{Text: []string{"first", "never sent"}, HoldAfter: tc.holdAfter})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			rec := &recorder{on: func(ev llm.Event) {
				if ev.Kind == llm.EventText {
					cancel()
				}
			}}
			done := make(chan error, 1)
			go func() {
				_, err := p.Stream(ctx, ask("write a novel"), rec.emit)
				done <- err
			}()
			var err error
			select {
			case err = <-done:
			case <-time.After(30 * time.Second): // a hang guard, not a speed limit
				t.Fatal("Stream did not return after its context was cancelled")
			}
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Stream: got %v, want context.Canceled", err)
			}
			want(t, "text shown", rec.texts(), []string{"first"})
			want(t, "requests", len(srv.Requests()), 1)
		})
	}
}
