package llm_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/berth-app/berth/app/llm"
	"github.com/berth-app/berth/app/llm/llmtest"
)

// These tests replay responses recorded from a real llama.cpp llama-server
// (testdata/llamacpp/record.sh in llmtest re-records them) byte for byte.
// What a test expects is read from the recording itself by sseData, a
// parser independent of the SDKs, so a new recording needs no new numbers.

// sseData returns the JSON data of each server-sent event in body, in
// order ("[DONE]" left out).
func sseData(t *testing.T, body []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(string(body), "\n") {
		data, ok := strings.CutPrefix(strings.TrimRight(line, "\r"), "data: ")
		if !ok || data == "[DONE]" {
			continue
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(data), &v); err != nil {
			t.Fatalf("recording: event %q is not JSON: %v", data, err)
		}
		out = append(out, v)
	}
	return out
}

// chunkFacts is what an OpenAI-format recording holds, read by sseData.
type chunkFacts struct {
	text, finish, model string
	args                map[float64]string // tool call arguments by index
	names               map[float64]string
	prompt, completion  float64
	cached              float64
}

func openaiFacts(t *testing.T, rec llmtest.Recording) chunkFacts {
	t.Helper()
	f := chunkFacts{args: map[float64]string{}, names: map[float64]string{}}
	for _, ev := range sseData(t, rec.Body) {
		if m, _ := ev["model"].(string); m != "" {
			f.model = m
		}
		if u, ok := ev["usage"].(map[string]any); ok {
			f.prompt, _ = u["prompt_tokens"].(float64)
			f.completion, _ = u["completion_tokens"].(float64)
			if d, ok := u["prompt_tokens_details"].(map[string]any); ok {
				f.cached, _ = d["cached_tokens"].(float64)
			}
		}
		choices, _ := ev["choices"].([]any)
		for _, c := range choices {
			c := c.(map[string]any)
			if fr, _ := c["finish_reason"].(string); fr != "" {
				f.finish = fr
			}
			d, _ := c["delta"].(map[string]any)
			if s, _ := d["content"].(string); s != "" {
				f.text += s
			}
			calls, _ := d["tool_calls"].([]any)
			for _, tc := range calls {
				tc := tc.(map[string]any)
				i, _ := tc["index"].(float64)
				fn, _ := tc["function"].(map[string]any)
				if n, _ := fn["name"].(string); n != "" {
					f.names[i] += n
				}
				a, _ := fn["arguments"].(string)
				f.args[i] += a
			}
		}
	}
	return f
}

// replayOpenAI serves recs for the chat endpoint and returns a provider on it.
func replayOpenAI(t *testing.T, recs ...llmtest.Recording) (*llmtest.Replay, llm.Provider) {
	t.Helper()
	r := llmtest.NewReplay(t)
	r.Queue("POST", "/v1/chat/completions", recs...)
	return r, llm.NewOpenAI(llm.Config{BaseURL: r.URL + "/v1", Model: "tiny"})
}

func TestLlamaCppReplayText(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"chat-text", "chat-length"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rec := llmtest.LlamaCpp(t, name)
			f := openaiFacts(t, rec)
			r, p := replayOpenAI(t, rec)
			resp, events, err := stream(t, p, ask("List my files."))
			if err != nil {
				t.Fatalf("Stream: %v", err)
			}
			want(t, "text", resp.Text(), f.text)
			want(t, "model", resp.Model, f.model)
			want(t, "usage", resp.Usage, llm.Usage{InputTokens: int64(f.prompt), OutputTokens: int64(f.completion), CacheRead: int64(f.cached)})
			wantStop := llm.StopEndTurn
			if f.finish == "length" {
				wantStop = llm.StopMaxTokens
			}
			want(t, "stop reason", resp.StopReason, wantStop)
			if events.count(llm.EventText) == 0 && f.text != "" {
				t.Error("no text events")
			}
			if mt := r.Requests()[0].Get("max_tokens"); mt != float64(llm.DefaultMaxTokens) {
				t.Errorf("max_tokens sent: %v", mt)
			}
		})
	}
	if f := openaiFacts(t, llmtest.LlamaCpp(t, "chat-length")); f.finish != "length" {
		t.Errorf("the chat-length recording ends with %q, not length: re-record it", f.finish)
	}
}

// TestLlamaCppReplayToolCalls: a real grammar-constrained tool call, and
// one cut by max_tokens inside its arguments: the cut one comes back with
// its text verbatim and ErrMalformed, the reply marked as cut.
func TestLlamaCppReplayToolCalls(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"chat-tool", "chat-tool-cut"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rec := llmtest.LlamaCpp(t, name)
			f := openaiFacts(t, rec)
			if len(f.args) == 0 {
				t.Fatalf("the %s recording holds no tool call: re-record it", name)
			}
			_, p := replayOpenAI(t, rec)
			resp, events, err := stream(t, p, ask("List my files."))
			if err != nil {
				t.Fatalf("Stream: %v", err)
			}
			calls := resp.ToolCalls()
			want(t, "calls", len(calls), len(f.args))
			for i, c := range calls {
				want(t, "name", c.Name, f.names[float64(i)])
				want(t, "arguments kept verbatim", string(c.Input), f.args[float64(i)])
				valid := json.Valid([]byte(f.args[float64(i)]))
				if valid != (c.Err == nil) || (c.Err != nil && !errors.Is(c.Err, llm.ErrMalformed)) {
					t.Errorf("call %d: valid JSON %v, Err %v", i, valid, c.Err)
				}
			}
			if events.count(llm.EventToolInput) == 0 {
				t.Error("no tool-input progress")
			}
			if name == "chat-tool-cut" {
				want(t, "stop reason", resp.StopReason, llm.StopMaxTokens)
				if calls[0].Err == nil {
					t.Errorf("the cut call's arguments %q are whole: re-record with a smaller max_tokens", calls[0].Input)
				}
			}
		})
	}
}

// TestLlamaCppReplayOverflow: llama-server's 400 for a request bigger than
// its context is ErrContextFull with both sizes, on both APIs.
func TestLlamaCppReplayOverflow(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, path string }{{"overflow", "/v1/chat/completions"}, {"messages-overflow", "/v1/messages"}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := llmtest.LlamaCpp(t, tc.name)
			r := llmtest.NewReplay(t)
			r.Queue("POST", tc.path, rec)
			p := llm.NewOpenAI(llm.Config{BaseURL: r.URL + "/v1", Model: "tiny"})
			if tc.path == "/v1/messages" {
				p = llm.NewAnthropic(llm.Config{BaseURL: r.URL, APIKey: "none", Model: "tiny"})
			}
			_, _, err := stream(t, p, ask("hi"))
			var le *llm.Error
			if !errors.Is(err, llm.ErrContextFull) || !errors.As(err, &le) {
				t.Fatalf("got %v (recorded %d: %s), want ErrContextFull", err, rec.Status, rec.Body)
			}
			want(t, "context size", le.ContextTokens, 2048)
			if le.RequestTokens <= 2048 {
				t.Errorf("request size %d", le.RequestTokens)
			}
		})
	}
}

// TestLlamaCppReplayProps: the context size comes from /props.
func TestLlamaCppReplayProps(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		want int
	}{{"props", 8192}, {"props-2048", 2048}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := llmtest.NewReplay(t)
			r.Queue("GET", "/props", llmtest.LlamaCpp(t, tc.name))
			info, err := llm.Probe(context.Background(), llm.OpenAI, llm.Config{BaseURL: r.URL + "/v1", Model: "tiny"})
			if err != nil {
				t.Fatal(err)
			}
			want(t, "server", info, llm.ServerInfo{Kind: llm.ServerLlamaCpp, ContextTokens: tc.want})
		})
	}
}

// TestLlamaCppReplayMessages: the same server's Anthropic-format
// /v1/messages, text and tool use.
func TestLlamaCppReplayMessages(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"messages-text", "messages-tool"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rec := llmtest.LlamaCpp(t, name)
			var text, stop string
			var inputs []string
			for _, ev := range sseData(t, rec.Body) {
				switch ev["type"] {
				case "content_block_delta":
					d := ev["delta"].(map[string]any)
					if s, ok := d["text"].(string); ok {
						text += s
					}
					if s, ok := d["partial_json"].(string); ok {
						inputs[len(inputs)-1] += s
					}
				case "content_block_start":
					if b := ev["content_block"].(map[string]any); b["type"] == "tool_use" {
						inputs = append(inputs, "")
					}
				case "message_delta":
					stop, _ = ev["delta"].(map[string]any)["stop_reason"].(string)
				}
			}
			r := llmtest.NewReplay(t)
			r.Queue("POST", "/v1/messages", rec)
			p := llm.NewAnthropic(llm.Config{BaseURL: r.URL, APIKey: "none", Model: "tiny"})
			resp, _, err := stream(t, p, ask("List my files."))
			if err != nil {
				t.Fatalf("Stream: %v", err)
			}
			want(t, "text", resp.Text(), text)
			want(t, "stop reason", resp.StopReason, llm.StopReason(stop))
			calls := resp.ToolCalls()
			if len(calls) != len(inputs) {
				t.Fatalf("tool calls: %d, recorded %d", len(calls), len(inputs))
			}
			for i, c := range calls {
				wantJSON(t, "tool input", c.Input, inputs[i])
			}
			if name == "messages-tool" && len(calls) == 0 {
				t.Error("the messages-tool recording holds no tool call: re-record it")
			}
		})
	}
}
