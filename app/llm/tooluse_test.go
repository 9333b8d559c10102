package llm_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/berth-app/berth/app/llm"
	"github.com/berth-app/berth/app/llm/llmtest"
)

// bashTool is the tool the tests offer the model.
var bashTool = llm.Tool{
	Name:        "bash",
	Description: "Run a shell command in the sandbox.",
	Schema: json.RawMessage(`{"type":"object","properties":{"command":{"type":"string"},` +
		`"timeout_s":{"type":"integer"}},"required":["command"]}`),
}

func TestToolUseRoundTrip(t *testing.T) {
	t.Parallel()
	const input = `{"command":"ls -la /workspace","timeout_s":5}`
	tests := []struct {
		backend backend
		// check looks at what the SDK sent: the first request (tools) and the
		// second (the tool call and its result).
		check func(t *testing.T, first, second llmtest.Request)
	}{
		{backends[0], func(t *testing.T, first, second llmtest.Request) {
			wantAt(t, first, "tools.0.name", "bash")
			wantAt(t, first, "tools.0.description", bashTool.Description)
			wantAt(t, first, "tools.0.input_schema.type", "object")
			wantAt(t, first, "tools.0.input_schema.properties.command.type", "string")
			wantAt(t, first, "tools.0.input_schema.required", []any{"command"})

			wantAt(t, second, "messages.1.role", "assistant")
			wantAt(t, second, "messages.1.content.0.type", "text")
			wantAt(t, second, "messages.1.content.0.text", "Let me look.")
			wantAt(t, second, "messages.1.content.1.type", "tool_use")
			wantAt(t, second, "messages.1.content.1.id", "toolu_01")
			wantAt(t, second, "messages.1.content.1.name", "bash")
			wantAt(t, second, "messages.1.content.1.input", map[string]any{"command": "ls -la /workspace", "timeout_s": 5.0})
			wantAt(t, second, "messages.2.role", "user")
			wantAt(t, second, "messages.2.content.0.type", "tool_result")
			wantAt(t, second, "messages.2.content.0.tool_use_id", "toolu_01")
			wantAt(t, second, "messages.2.content.0.content.0.type", "text")
			wantAt(t, second, "messages.2.content.0.content.0.text", "a.txt\nb.txt")
			wantAt(t, second, "messages.2.content.0.is_error", nil)
		}},
		{backends[1], func(t *testing.T, first, second llmtest.Request) {
			wantAt(t, first, "tools.0.type", "function")
			wantAt(t, first, "tools.0.function.name", "bash")
			wantAt(t, first, "tools.0.function.description", bashTool.Description)
			wantAt(t, first, "tools.0.function.parameters.properties.command.type", "string")
			wantAt(t, first, "tools.0.function.parameters.required", []any{"command"})

			wantAt(t, second, "messages.1.role", "assistant")
			wantAt(t, second, "messages.1.content", "Let me look.")
			wantAt(t, second, "messages.1.tool_calls.0.id", "toolu_01")
			wantAt(t, second, "messages.1.tool_calls.0.type", "function")
			wantAt(t, second, "messages.1.tool_calls.0.function.name", "bash")
			args, _ := second.Get("messages.1.tool_calls.0.function.arguments").(string)
			wantJSON(t, "arguments sent back", []byte(args), input)
			wantAt(t, second, "messages.2.role", "tool")
			wantAt(t, second, "messages.2.tool_call_id", "toolu_01")
			wantAt(t, second, "messages.2.content", "a.txt\nb.txt")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.backend.name, func(t *testing.T) {
			t.Parallel()
			srv, p := tc.backend.start(t)
			srv.Queue(
				llmtest.Reply{
					Text:      []string{"Let me look."},
					ToolCalls: []llmtest.ToolCall{{ID: "toolu_01", Name: "bash", Input: input}},
					Usage:     llmtest.Usage{InputTokens: 40, OutputTokens: 20},
				},
				llmtest.Reply{Text: []string{"Two files: ", "a.txt and b.txt."}},
			)

			req := ask("What is in my workspace?")
			req.Tools = []llm.Tool{bashTool}
			first, rec, err := stream(t, p, req)
			if err != nil {
				t.Fatalf("first Stream: %v", err)
			}
			want(t, "event order", rec.kinds(),
				[]llm.EventKind{llm.EventText, llm.EventToolInput, llm.EventToolCall, llm.EventUsage, llm.EventStop})
			want(t, "stop reason", first.StopReason, llm.StopToolUse)
			calls := first.ToolCalls()
			if len(calls) != 1 {
				t.Fatalf("tool calls: got %d, want 1", len(calls))
			}
			var emitted *llm.ToolCall
			for _, ev := range rec.events {
				if ev.Kind == llm.EventToolCall {
					emitted = ev.ToolCall
				}
			}
			for what, call := range map[string]llm.ToolCall{"emitted call": *emitted, "reply call": calls[0]} {
				want(t, what+" ID", call.ID, "toolu_01")
				want(t, what+" name", call.Name, "bash")
				wantJSON(t, what+" input", call.Input, input)
				if call.Err != nil {
					t.Errorf("%s: got error %v, want none", what, call.Err)
				}
			}

			req.Messages = append(req.Messages, first.Message, llm.Message{
				Role:  llm.RoleUser,
				Parts: []llm.Part{llm.ToolResult("toolu_01", "a.txt\nb.txt", false)},
			})
			second, _, err := stream(t, p, req)
			if err != nil {
				t.Fatalf("second Stream: %v", err)
			}
			want(t, "final text", second.Text(), "Two files: a.txt and b.txt.")
			want(t, "final stop reason", second.StopReason, llm.StopEndTurn)

			reqs := srv.Requests()
			if len(reqs) != 2 {
				t.Fatalf("requests: got %d, want 2", len(reqs))
			}
			tc.check(t, reqs[0], reqs[1])
		})
	}
}

// TestToolUseMalformedArguments checks that arguments that are not JSON reach
// the agent as a flagged call, and that the error result sent back is well
// formed.
func TestToolUseMalformedArguments(t *testing.T) {
	t.Parallel()
	const garbage = `{"command": "ls -la` // cut off mid-string
	tests := []struct {
		backend backend
		check   func(t *testing.T, second llmtest.Request)
	}{
		{backends[0], func(t *testing.T, second llmtest.Request) {
			wantAt(t, second, "messages.1.content.0.type", "tool_use")
			wantAt(t, second, "messages.1.content.0.input", map[string]any{})
			wantAt(t, second, "messages.2.content.0.type", "tool_result")
			wantAt(t, second, "messages.2.content.0.is_error", true)
			wantAt(t, second, "messages.2.content.0.content.0.text", "the arguments were not valid JSON")
		}},
		{backends[1], func(t *testing.T, second llmtest.Request) {
			wantAt(t, second, "messages.1.tool_calls.0.function.arguments", "{}")
			wantAt(t, second, "messages.2.role", "tool")
			wantAt(t, second, "messages.2.content", "Error: the arguments were not valid JSON")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.backend.name, func(t *testing.T) {
			t.Parallel()
			srv, p := tc.backend.start(t)
			srv.Queue(
				llmtest.Reply{ToolCalls: []llmtest.ToolCall{{ID: "call_9", Name: "bash", Input: garbage}}},
				llmtest.Reply{Text: []string{"Sorry."}},
			)
			req := ask("list")
			req.Tools = []llm.Tool{bashTool}
			first, rec, err := stream(t, p, req)
			if err != nil {
				t.Fatalf("Stream: got %v, want the malformed call surfaced, not an error", err)
			}
			if rec.count(llm.EventToolCall) != 1 {
				t.Fatalf("tool call events: got %d, want 1", rec.count(llm.EventToolCall))
			}
			calls := first.ToolCalls()
			if len(calls) != 1 {
				t.Fatalf("tool calls: got %d, want 1", len(calls))
			}
			call := calls[0]
			want(t, "raw input", string(call.Input), garbage)
			if !errors.Is(call.Err, llm.ErrMalformed) {
				t.Errorf("call error: got %v, want ErrMalformed", call.Err)
			}

			req.Messages = append(req.Messages, first.Message, llm.Message{
				Role:  llm.RoleUser,
				Parts: []llm.Part{llm.ToolResult(call.ID, "the arguments were not valid JSON", true)},
			})
			if _, _, err := stream(t, p, req); err != nil {
				t.Fatalf("second Stream: %v", err)
			}
			tc.check(t, srv.Requests()[1])
		})
	}
}

// TestToolUseSeveralCalls checks that two calls in one reply keep their
// order and their own inputs.
func TestToolUseSeveralCalls(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			srv, p := b.start(t)
			srv.Queue(llmtest.Reply{ToolCalls: []llmtest.ToolCall{
				{ID: "c1", Name: "read_file", Input: `{"path":"/workspace/group/MEMORY.md"}`},
				{ID: "c2", Name: "list_files", Input: ``},
			}})
			resp, _, err := stream(t, p, ask("look around"))
			if err != nil {
				t.Fatalf("Stream: %v", err)
			}
			calls := resp.ToolCalls()
			if len(calls) != 2 {
				t.Fatalf("tool calls: got %d, want 2", len(calls))
			}
			want(t, "first name", calls[0].Name, "read_file")
			wantJSON(t, "first input", calls[0].Input, `{"path":"/workspace/group/MEMORY.md"}`)
			want(t, "second name", calls[1].Name, "list_files")
			wantJSON(t, "second input", calls[1].Input, `{}`)
			for _, c := range calls {
				if c.Err != nil {
					t.Errorf("call %s: got error %v, want none", c.ID, c.Err)
				}
			}
		})
	}
}
