package llm_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/berth-app/berth/app/llm"
	"github.com/berth-app/berth/app/llm/llmtest"
)

// TestRetryThenSuccess checks that a failure before any output is retried
// and that the user sees the reply once.
func TestRetryThenSuccess(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		backend backend
		fail    llmtest.Reply
		kind    error
	}{
		{"anthropic 429", backends[0], llmtest.Reply{Status: 429, RetryAfter: "1"}, llm.ErrRateLimited},
		{"anthropic 529 overloaded", backends[0], llmtest.Reply{Status: 529}, llm.ErrOverloaded},
		{"anthropic 500", backends[0], llmtest.Reply{Status: 500}, llm.ErrServer},
		{"anthropic overloaded mid-stream", backends[0], llmtest.Reply{StreamError: "overloaded_error"}, llm.ErrOverloaded},
		{"anthropic cut before output", backends[0], llmtest.Reply{Text: []string{"lost"}, CutAfter: 2}, llm.ErrStreamCut},
		{"openai 429", backends[1], llmtest.Reply{Status: 429, RetryAfter: "1"}, llm.ErrRateLimited},
		{"openai 500", backends[1], llmtest.Reply{Status: 500}, llm.ErrServer},
		{"openai 503", backends[1], llmtest.Reply{Status: 503}, llm.ErrServer},
		{"openai error mid-stream", backends[1], llmtest.Reply{StreamError: "server_error"}, llm.ErrServer},
		{"openai cut before output", backends[1], llmtest.Reply{Text: []string{"lost"}, CutAfter: 1}, llm.ErrStreamCut},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, p := tc.backend.start(t)
			srv.Queue(tc.fail, llmtest.Reply{Text: []string{"fine, ", "thanks"}})
			resp, rec, err := stream(t, p, ask("how are you?"))
			if err != nil {
				t.Fatalf("Stream: %v", err)
			}
			want(t, "reply text", resp.Text(), "fine, thanks")
			want(t, "text shown", strings.Join(rec.texts(), ""), "fine, thanks")
			want(t, "requests", len(srv.Requests()), 2)
			want(t, "event order", rec.kinds(),
				[]llm.EventKind{llm.EventRetry, llm.EventText, llm.EventUsage, llm.EventStop})
			retry := rec.events[0]
			if !errors.Is(retry.Err, tc.kind) {
				t.Errorf("retry event error: got %v, want %v", retry.Err, tc.kind)
			}
			want(t, "retry attempt", retry.Attempt, 2)
			noSecret(t, retry.Err, testKey)
		})
	}
}

// TestRetryCutAfterOutput checks that a stream cut once text was shown is not
// retried: the user gets a clear error and no text twice.
func TestRetryCutAfterOutput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		backend  backend
		cutAfter int // events before the cut: two text deltas got out
	}{
		{backends[0], 5}, // message_start, ping, content_block_start, "one ", "two "
		{backends[1], 3}, // role, "one ", "two "
	}
	for _, tc := range tests {
		t.Run(tc.backend.name, func(t *testing.T) {
			t.Parallel()
			srv, p := tc.backend.start(t)
			srv.Queue(
				llmtest.Reply{Text: []string{"one ", "two ", "three"}, CutAfter: tc.cutAfter},
				llmtest.Reply{Text: []string{"must not be asked for"}},
			)
			resp, rec, err := stream(t, p, ask("count"))
			if !errors.Is(err, llm.ErrStreamCut) {
				t.Fatalf("Stream: got %v, want ErrStreamCut", err)
			}
			if !strings.Contains(err.Error(), "cut off") {
				t.Errorf("error %q does not say the reply was cut off", err)
			}
			noSecret(t, err, testKey)
			want(t, "text shown", rec.texts(), []string{"one ", "two "})
			want(t, "partial reply", resp.Text(), "one two ")
			want(t, "requests", len(srv.Requests()), 1)
			want(t, "replies left", srv.Pending(), 1)
			want(t, "retry events", rec.count(llm.EventRetry), 0)
		})
	}
}

// TestRetryGivesUp checks the error after the last retry.
func TestRetryGivesUp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		backend backend
		fail    llmtest.Reply
		kind    error
	}{
		{"anthropic rate limited", backends[0], llmtest.Reply{Status: 429}, llm.ErrRateLimited},
		{"anthropic overloaded", backends[0], llmtest.Reply{Status: 529}, llm.ErrOverloaded},
		{"anthropic stream cut", backends[0], llmtest.Reply{CutAfter: 1}, llm.ErrStreamCut},
		{"openai rate limited", backends[1], llmtest.Reply{Status: 429}, llm.ErrRateLimited},
		{"openai server error", backends[1], llmtest.Reply{Status: 502}, llm.ErrServer},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := tc.backend.server(t)
			cfg := testConfig(srv.URL)
			cfg.MaxRetries = 2
			p := tc.backend.provider(cfg)
			srv.Queue(tc.fail, tc.fail, tc.fail)
			_, rec, err := stream(t, p, ask("hi"))
			if !errors.Is(err, tc.kind) {
				t.Fatalf("Stream: got %v, want %v", err, tc.kind)
			}
			var e *llm.Error
			if !errors.As(err, &e) {
				t.Fatalf("Stream: got %T, want *llm.Error", err)
			}
			want(t, "attempts", e.Attempts, 3)
			want(t, "provider", e.Provider, tc.backend.name)
			if !strings.Contains(err.Error(), "gave up after 3 attempts") {
				t.Errorf("error %q does not say how many attempts were made", err)
			}
			want(t, "requests", len(srv.Requests()), 3)
			want(t, "retry events", rec.count(llm.EventRetry), 2)
			noSecret(t, err, testKey)
		})
	}
}

// TestRetryNever checks that a negative MaxRetries makes one attempt only.
func TestRetryNever(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			srv := b.server(t)
			cfg := testConfig(srv.URL)
			cfg.MaxRetries = -1
			srv.Queue(llmtest.Reply{Status: 500})
			_, _, err := stream(t, b.provider(cfg), ask("hi"))
			if !errors.Is(err, llm.ErrServer) {
				t.Fatalf("Stream: got %v, want ErrServer", err)
			}
			want(t, "requests", len(srv.Requests()), 1)
		})
	}
}

// TestRetryWaitCancelled checks that cancelling during a backoff wait ends
// Stream with the context's error.
func TestRetryWaitCancelled(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			srv := b.server(t)
			cfg := testConfig(srv.URL)
			cfg.RetryDelay, cfg.MaxRetryDelay = time.Hour, time.Hour
			srv.Queue(llmtest.Reply{Status: 429, RetryAfter: "3600"})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			rec := &recorder{on: func(ev llm.Event) {
				if ev.Kind == llm.EventRetry {
					want(t, "announced wait", ev.Wait, time.Hour)
					cancel()
				}
			}}
			_, err := b.provider(cfg).Stream(ctx, ask("hi"), rec.emit)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Stream: got %v, want context.Canceled", err)
			}
			want(t, "requests", len(srv.Requests()), 1)
		})
	}
}
