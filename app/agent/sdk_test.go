package agent_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-app/berth/app/agent"
	"github.com/berth-app/berth/app/llm"
	"github.com/berth-app/berth/app/llm/llmtest"
)

// backend is a fake model server and a real SDK provider pointed at it.
type backend struct {
	name  string
	start func(t *testing.T) (*llmtest.Server, llm.Provider)
	// toolResult returns the dotted path of the first tool result's text in
	// a request body, and of its call ID.
	toolResult func(msgIndex int) (text, id string)
	holdAfter  int // events of a stream before its first text delta is out
}

var backends = []backend{
	{
		name: "anthropic",
		start: func(t *testing.T) (*llmtest.Server, llm.Provider) {
			srv := llmtest.NewAnthropic(t)
			return srv, llm.NewAnthropic(llm.Config{BaseURL: srv.URL, APIKey: "sk-test-key", Model: "m", RetryDelay: time.Millisecond})
		},
		toolResult: func(i int) (string, string) {
			p := "messages." + itoa(i) + ".content.0."
			return p + "content.0.text", p + "tool_use_id"
		},
		holdAfter: 4, // message_start, ping, content_block_start, the first delta
	},
	{
		name: "openai",
		start: func(t *testing.T) (*llmtest.Server, llm.Provider) {
			srv := llmtest.NewOpenAI(t)
			return srv, llm.NewOpenAI(llm.Config{BaseURL: srv.URL, APIKey: "sk-test-key", Model: "m", RetryDelay: time.Millisecond})
		},
		// OpenAI puts the system prompt first: messages are shifted by one.
		toolResult: func(i int) (string, string) {
			p := "messages." + itoa(i+1) + "."
			return p + "content", p + "tool_call_id"
		},
		holdAfter: 2, // the role chunk, the first delta
	},
}

func itoa(i int) string { return strconv.Itoa(i) }

// scriptedSandbox answers the tools' execs from what their argv asks.
type scriptedSandbox struct {
	mu    sync.Mutex
	files map[string]string
	argvs [][]string
}

// File: no helper; the tools use their scripts.
func (s *scriptedSandbox) File(context.Context, agent.FileRequest) (agent.FileResult, error) {
	return agent.FileResult{}, agent.ErrNoFileOps
}

func (s *scriptedSandbox) Exec(_ context.Context, req agent.ExecRequest) (agent.ExecResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.argvs = append(s.argvs, req.Argv)
	switch {
	case len(req.Argv) > 4 && req.Argv[3] == "berth-write":
		s.files[req.Argv[4]] = string(req.Stdin)
		return agent.ExecResult{Stdout: []byte(itoa(len(req.Stdin)) + "\n")}, nil
	case len(req.Argv) > 4 && req.Argv[3] == "berth":
		out := "total 0\nnotes.md\n"
		return agent.ExecResult{Stdout: []byte(out), StdoutTotal: int64(len(out))}, nil
	}
	return agent.ExecResult{ExitCode: 1, Stderr: []byte("unexpected command")}, nil
}

func TestTurnThroughSDKs(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			srv, p := b.start(t)
			srv.Queue(
				llmtest.Reply{Text: []string{"Let me ", "write it."}, ToolCalls: []llmtest.ToolCall{
					{ID: "call_1", Name: "write_file", Input: `{"path":"notes.md","content":"milk\neggs\n"}`},
				}, Usage: llmtest.Usage{InputTokens: 100, OutputTokens: 20}},
				llmtest.Reply{ToolCalls: []llmtest.ToolCall{
					{ID: "call_2", Name: "bash", Input: `{"command":"ls"}`},
					{ID: "call_3", Name: "bash", Input: `{"command": "ls`}, // malformed
				}, Usage: llmtest.Usage{InputTokens: 150, OutputTokens: 10}},
				llmtest.Reply{Text: []string{"Saved ", "your list."}, Usage: llmtest.Usage{InputTokens: 200, OutputTokens: 5}},
			)
			sb := &scriptedSandbox{files: map[string]string{}}
			var texts []string
			var audit []agent.AuditEvent
			cfg := agent.Config{
				Provider: p,
				OnEvent: func(ev agent.Event) {
					if ev.Kind == agent.EventText {
						texts = append(texts, ev.Text)
					}
				},
				Record: func(_ context.Context, ev agent.AuditEvent) error { audit = append(audit, ev); return nil },
			}
			res, err := agent.RunTurn(context.Background(), cfg, sb, "You are terse.", []llm.Message{llm.UserText("save my list")})
			if err != nil {
				t.Fatalf("RunTurn: %v", err)
			}
			if res.Text != "Saved your list." || res.StopReason != "end_turn" || res.ToolCalls != 3 {
				t.Errorf("got text %q stop %q calls %d", res.Text, res.StopReason, res.ToolCalls)
			}
			if got := strings.Join(texts, ""); got != "Let me write it.Saved your list." {
				t.Errorf("streamed %q", got)
			}
			if res.Usage.InputTokens != 450 || res.Usage.OutputTokens != 35 {
				t.Errorf("usage: got %+v, want 450 in and 35 out", res.Usage)
			}
			if sb.files["/workspace/group/notes.md"] != "milk\neggs\n" {
				t.Errorf("files: got %q", sb.files)
			}
			if len(res.Messages) != 5 {
				t.Fatalf("got %d messages, want assistant, results, assistant, results, assistant", len(res.Messages))
			}

			reqs := srv.Requests()
			if len(reqs) != 3 {
				t.Fatalf("the server got %d requests, want 3", len(reqs))
			}
			// Request 2 carries the write_file result; request 3 the bash results.
			text, id := b.toolResult(2)
			if got, _ := reqs[1].Get(text).(string); !strings.HasPrefix(got, "Wrote 10 bytes to /workspace/group/notes.md (sha256 ") {
				t.Errorf("request 2 %s: got %q", text, got)
			}
			if got := reqs[1].Get(id); got != "call_1" {
				t.Errorf("request 2 %s: got %v, want call_1", id, got)
			}
			text, id = b.toolResult(4)
			if got, _ := reqs[2].Get(text).(string); got != "total 0\nnotes.md" {
				t.Errorf("request 3 %s: got %q, want the ls output", text, got)
			}
			if got := reqs[2].Get(id); got != "call_2" {
				t.Errorf("request 3 %s: got %v, want call_2", id, got)
			}
			if !strings.Contains(string(reqs[2].Raw), "the input for bash is not a JSON object") {
				t.Errorf("request 3 lacks the malformed call's error result: %s", reqs[2].Raw)
			}
			if b.name == "openai" {
				if got := reqs[2].Get("messages.5.role"); got != "tool" {
					t.Errorf("request 3 messages.5.role: got %v, want tool", got)
				}
				if got := reqs[2].Get("messages.6.tool_call_id"); got != "call_3" {
					t.Errorf("request 3: the malformed call got no tool message (%v)", got)
				}
			}
			if b.name == "anthropic" {
				if got := reqs[2].Get("messages.4.content.1.is_error"); got != true {
					t.Errorf("malformed call: got is_error %v, want true", got)
				}
				if got := reqs[0].Get("tools.0.name"); got != "bash" {
					t.Errorf("tools: got %v first, want bash", got)
				}
			}
			for _, ev := range audit {
				if strings.Contains(ev.Summary+strings.Join(keys(ev.Detail), ""), "sk-test-key") {
					t.Errorf("audit event %s holds the key", ev.Kind)
				}
			}
		})
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k, v := range m {
		s, _ := v.(string)
		out = append(out, k, s)
	}
	return out
}

func TestCancelMidStream(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			srv, p := b.start(t)
			srv.Queue(llmtest.Reply{Text: []string{"first", "never sent"}, HoldAfter: b.holdAfter})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			cfg := agent.Config{Provider: p, OnEvent: func(ev agent.Event) {
				if ev.Kind == agent.EventText {
					cancel()
				}
			}}
			done := make(chan struct{})
			var res agent.Result
			var err error
			go func() {
				defer close(done)
				res, err = agent.RunTurn(ctx, cfg, &scriptedSandbox{}, "", []llm.Message{llm.UserText("write a novel")})
			}()
			select {
			case <-done:
			case <-time.After(30 * time.Second): // a hang guard, not a speed limit
				t.Fatal("RunTurn did not return after its context was canceled")
			}
			if err != nil || !res.Interrupted || res.StopReason != agent.StopInterrupted {
				t.Fatalf("got %v, interrupted %v, stop %q", err, res.Interrupted, res.StopReason)
			}
			if res.Text != "first" || len(res.Messages) != 1 {
				t.Errorf("got text %q and %d messages, want the partial reply kept", res.Text, len(res.Messages))
			}
		})
	}
}

func TestProviderErrorThroughSDKs(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			srv, p := b.start(t)
			srv.Queue(
				llmtest.Reply{Text: []string{"Checking."}, ToolCalls: []llmtest.ToolCall{{ID: "call_1", Name: "bash", Input: `{"command":"ls"}`}}},
				llmtest.Reply{Status: 401},
			)
			res, err := agent.RunTurn(context.Background(), agent.Config{Provider: p}, &scriptedSandbox{}, "", []llm.Message{llm.UserText("hi")})
			if !errors.Is(err, llm.ErrAuth) {
				t.Fatalf("got %v, want ErrAuth", err)
			}
			if strings.Contains(err.Error(), "sk-test-key") {
				t.Errorf("the error holds the key: %v", err)
			}
			if res.StopReason != agent.StopError || len(res.Messages) != 2 || res.Text != "Checking." {
				t.Errorf("got stop %q, %d messages, text %q; want the first round kept", res.StopReason, len(res.Messages), res.Text)
			}
		})
	}
}
