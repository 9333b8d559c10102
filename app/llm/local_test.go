package llm_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-app/berth/app/llm"
	"github.com/berth-app/berth/app/llm/llmtest"
)

// TestStallTimeoutEndsASilentStream: a server that stops sending (llama.cpp
// under SIGSTOP) ends the attempt with ErrStalled and a clear message, and
// it is not retried.
func TestStallTimeoutEndsASilentStream(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			srv := b.server(t)
			cfg := testConfig(srv.URL)
			cfg.StallTimeout = 300 * time.Millisecond
			p := b.provider(cfg)
			srv.Queue(llmtest.Reply{Text: []string{"Hel", "lo"}, HoldAfter: 1})
			_, rec, err := stream(t, p, ask("hi"))
			if !errors.Is(err, llm.ErrStalled) {
				t.Fatalf("got %v, want ErrStalled", err)
			}
			if !strings.Contains(err.Error(), "sent nothing for 300ms") {
				t.Errorf("message: %v", err)
			}
			want(t, "retries", rec.count(llm.EventRetry), 0)
			want(t, "requests", len(srv.Requests()), 1)
		})
	}
}

// TestToolInputProgress: while a long tool call streams, EventToolInput
// says which call and how many bytes so far, about every ToolInputStep.
func TestToolInputProgress(t *testing.T) {
	t.Parallel()
	content := strings.Repeat("a", 3000)
	input := `{"path":"/workspace/group/big.txt","content":"` + content + `"}`
	var parts []string
	for i := 0; i < len(input); i += 100 {
		parts = append(parts, input[i:min(i+100, len(input))])
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			srv, p := b.start(t)
			srv.Queue(llmtest.Reply{ToolCalls: []llmtest.ToolCall{{ID: "w1", Name: "write_file", Input: input, Parts: parts}}})
			_, rec, err := stream(t, p, ask("write it"))
			if err != nil {
				t.Fatal(err)
			}
			var sizes []int
			for _, ev := range rec.events {
				if ev.Kind == llm.EventToolInput {
					if ev.ToolCall.Name != "write_file" || ev.ToolCall.ID != "w1" {
						t.Errorf("progress of %+v", ev.ToolCall)
					}
					sizes = append(sizes, ev.Bytes)
				}
			}
			if len(sizes) < len(input)/llm.ToolInputStep || sizes[len(sizes)-1] > len(input) {
				t.Fatalf("progress sizes %v for %d bytes", sizes, len(input))
			}
			for i := 1; i < len(sizes); i++ {
				if d := sizes[i] - sizes[i-1]; d < llm.ToolInputStep || d > llm.ToolInputStep+100 {
					t.Errorf("progress step %d → %d", sizes[i-1], sizes[i])
				}
			}
		})
	}
}

// TestRetryEventIsNoVerdict: the error a retry event carries says what
// failed, not "gave up", since a retry follows.
func TestRetryEventIsNoVerdict(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			srv, p := b.start(t)
			srv.Queue(llmtest.Reply{Status: 500}, llmtest.Reply{Status: 500}, llmtest.Reply{Text: []string{"ok"}})
			_, rec, err := stream(t, p, ask("hi"))
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range rec.events {
				if ev.Kind == llm.EventRetry && strings.Contains(ev.Err.Error(), "gave up") {
					t.Errorf("retry %d says %q", ev.Attempt, ev.Err)
				}
			}
			want(t, "retries", rec.count(llm.EventRetry), 2)
		})
	}
}

// TestUsageCountsCachedTokensAndModel: Anthropic's cached prompt tokens
// count as input, and the Response names the model the server reported.
func TestUsageCountsCachedTokensAndModel(t *testing.T) {
	t.Parallel()
	srv, p := backends[0].start(t)
	srv.Queue(llmtest.Reply{Text: []string{"ok"}, Model: "claude-sonnet-4-5-20250929",
		Usage: llmtest.Usage{InputTokens: 1, CacheRead: 5000, CacheWrite: 300, OutputTokens: 7}})
	resp, _, err := stream(t, p, ask("hi"))
	if err != nil {
		t.Fatal(err)
	}
	want(t, "usage", resp.Usage, llm.Usage{InputTokens: 5301, OutputTokens: 7, CacheRead: 5000, CacheWrite: 300})
	want(t, "model", resp.Model, "claude-sonnet-4-5-20250929")

	srv2, p2 := backends[1].start(t)
	srv2.Queue(llmtest.Reply{Text: []string{"ok"}, Model: "qwen2.5-coder:7b"})
	resp, _, err = stream(t, p2, ask("hi"))
	if err != nil {
		t.Fatal(err)
	}
	want(t, "openai model", resp.Model, "qwen2.5-coder:7b")
}

// TestContextOverflowIsRecognised: each server's way of saying the request
// is too big for the context is ErrContextFull, with the sizes it gave.
func TestContextOverflowIsRecognised(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		backend   backend
		reply     llmtest.Reply
		req, ctxt int
	}{
		{"llama.cpp", backends[1], llmtest.Reply{Status: 400, ErrorType: "exceed_context_size_error",
			ErrorMessage: "request (2067 tokens) exceeds the available context size (2048 tokens), try increasing it"}, 2067, 2048},
		{"openai", backends[1], llmtest.Reply{Status: 400, ErrorMessage: "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens. Please reduce the length of the messages."}, 130000, 128000},
		{"vllm", backends[1], llmtest.Reply{Status: 400, ErrorType: "BadRequestError", ErrorMessage: "This model's maximum context length is 4096 tokens. However, you requested 5000 tokens (4000 in the messages, 1000 in the completion). Please reduce the length of the messages or completion."}, 5000, 4096},
		{"anthropic", backends[0], llmtest.Reply{Status: 400, ErrorMessage: "prompt is too long: 208000 tokens > 200000 maximum"}, 208000, 200000},
		{"no sizes", backends[1], llmtest.Reply{Status: 400, ErrorMessage: "the context window is full"}, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, p := tc.backend.start(t)
			srv.Queue(tc.reply)
			_, _, err := stream(t, p, ask("hi"))
			var le *llm.Error
			if !errors.Is(err, llm.ErrContextFull) || !errors.As(err, &le) {
				t.Fatalf("got %v, want ErrContextFull", err)
			}
			want(t, "sizes", [2]int{le.RequestTokens, le.ContextTokens}, [2]int{tc.req, tc.ctxt})
		})
	}
	srv, p := backends[1].start(t)
	srv.Queue(llmtest.Reply{Status: 400})
	if _, _, err := stream(t, p, ask("hi")); !errors.Is(err, llm.ErrRequest) {
		t.Errorf("a plain 400: got %v, want ErrRequest", err)
	}
}

// TestProbeKnowsNoServer: the fakes are neither llama.cpp nor Ollama nor
// vLLM, and public APIs are not asked at all.
func TestProbeKnowsNoServer(t *testing.T) {
	t.Parallel()
	srv := llmtest.NewOpenAI(t)
	info, err := llm.Probe(context.Background(), llm.OpenAI, testConfig(srv.URL))
	if err != nil || info != (llm.ServerInfo{}) {
		t.Errorf("probe of a plain OpenAI fake: %+v, %v", info, err)
	}
	info, err = llm.Probe(context.Background(), llm.OpenAI, llm.Config{BaseURL: "https://api.openai.com/v1"})
	if err != nil || info != (llm.ServerInfo{}) {
		t.Errorf("probe of OpenAI: %+v, %v", info, err)
	}
}

// TestStallTimeoutBeforeHeaders: a stopped server still accepts connections
// (the kernel does) but never answers; that stall ends the turn too.
func TestStallTimeoutBeforeHeaders(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn // held open, never answered
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			cfg := testConfig("http://" + l.Addr().String() + "/v1")
			cfg.StallTimeout = 200 * time.Millisecond
			_, _, err := stream(t, b.provider(cfg), ask("hi"))
			if !errors.Is(err, llm.ErrStalled) {
				t.Fatalf("got %v, want ErrStalled", err)
			}
		})
	}
}
