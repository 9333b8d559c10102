package llm_test

import (
	"testing"

	"github.com/berth-app/berth/app/llm"
	"github.com/berth-app/berth/app/llm/llmtest"
)

func TestStreamText(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			srv, p := b.start(t)
			srv.Queue(llmtest.Reply{
				Text:  []string{"Hel", "lo, ", "world"},
				Usage: llmtest.Usage{InputTokens: 12, OutputTokens: 5},
			})
			req := ask("hi")
			req.System = "You are terse."
			resp, rec, err := stream(t, p, req)
			if err != nil {
				t.Fatalf("Stream: %v", err)
			}
			want(t, "text deltas", rec.texts(), []string{"Hel", "lo, ", "world"})
			want(t, "event order", rec.kinds(), []llm.EventKind{llm.EventText, llm.EventUsage, llm.EventStop})
			want(t, "reply text", resp.Text(), "Hello, world")
			want(t, "reply role", resp.Message.Role, llm.RoleAssistant)
			want(t, "usage", resp.Usage, llm.Usage{InputTokens: 12, OutputTokens: 5})
			want(t, "stop reason", resp.StopReason, llm.StopEndTurn)
			want(t, "tool calls", len(resp.ToolCalls()), 0)

			reqs := srv.Requests()
			if len(reqs) != 1 {
				t.Fatalf("requests: got %d, want 1", len(reqs))
			}
			got := reqs[0]
			want(t, "API key", b.key(got), testKey)
			wantAt(t, got, "model", "test-model")
			wantAt(t, got, "stream", true)
			switch b.name {
			case llm.Anthropic:
				wantAt(t, got, "system.0.text", "You are terse.")
				wantAt(t, got, "max_tokens", float64(llm.DefaultMaxTokens))
				wantAt(t, got, "messages.0.role", "user")
				wantAt(t, got, "messages.0.content.0.text", "hi")
			case llm.OpenAI:
				wantAt(t, got, "messages.0.role", "system")
				wantAt(t, got, "messages.0.content", "You are terse.")
				wantAt(t, got, "messages.1.role", "user")
				wantAt(t, got, "messages.1.content", "hi")
				wantAt(t, got, "stream_options.include_usage", true)
			}
		})
	}
}

// TestStreamMaxTokens checks which reply cap is sent, and under which name.
func TestStreamMaxTokens(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		backend   backend
		config    int
		request   int
		wantField string
		want      any
	}{
		{"anthropic request wins", backends[0], 100, 50, "max_tokens", 50.0},
		{"anthropic config", backends[0], 100, 0, "max_tokens", 100.0},
		{"openai local server uses max_tokens", backends[1], 100, 0, "max_tokens", 100.0},
		// llama.cpp's server writes without end when no cap is sent.
		{"openai unset sends the default", backends[1], 0, 0, "max_tokens", float64(llm.DefaultMaxTokens)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := tc.backend.server(t)
			cfg := testConfig(srv.URL)
			cfg.MaxTokens = tc.config
			p := tc.backend.provider(cfg)
			srv.Queue(llmtest.Reply{Text: []string{"ok"}})
			req := ask("hi")
			req.MaxTokens = tc.request
			if _, _, err := stream(t, p, req); err != nil {
				t.Fatalf("Stream: %v", err)
			}
			wantAt(t, srv.Requests()[0], tc.wantField, tc.want)
		})
	}
}

func TestStreamRequestModelOverridesConfig(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			srv, p := b.start(t)
			srv.Queue(llmtest.Reply{Text: []string{"ok"}})
			req := ask("hi")
			req.Model = "other-model"
			if _, _, err := stream(t, p, req); err != nil {
				t.Fatalf("Stream: %v", err)
			}
			wantAt(t, srv.Requests()[0], "model", "other-model")
		})
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		wantErr bool
	}{
		{llm.Anthropic, false},
		{llm.OpenAI, false},
		{"gemini", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := llm.New(tc.name, llm.Config{BaseURL: "http://127.0.0.1:1"})
			if (err != nil) != tc.wantErr {
				t.Fatalf("New(%q): got error %v, want error %v", tc.name, err, tc.wantErr)
			}
			if err == nil {
				want(t, "Name", p.Name(), tc.name)
			}
		})
	}
}
