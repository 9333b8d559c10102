package llmtest

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// post sends body to the fake's endpoint and returns the response.
func post(t *testing.T, url, body string, header map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

// sse reads a whole event stream into (event name, data) pairs.
func sse(t *testing.T, r io.Reader) [][2]string {
	t.Helper()
	var out [][2]string
	var name string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			out = append(out, [2]string{name, strings.TrimPrefix(line, "data: ")})
			name = ""
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read stream: %v", err)
	}
	return out
}

func TestAnthropicEventSequence(t *testing.T) {
	t.Parallel()
	srv := NewAnthropic(t)
	srv.Queue(Reply{
		Text:      []string{"a", "b"},
		ToolCalls: []ToolCall{{ID: "t1", Name: "bash", Input: `{"command":"ls"}`, Parts: []string{`{"comm`, `and":"ls"}`}}},
	})
	res := post(t, srv.URL+"/v1/messages", `{"model":"m","stream":true}`, map[string]string{"x-api-key": "k"})
	if got := res.Header.Get("Content-Type"); got != "text/event-stream" {
		t.Fatalf("content type: got %q, want text/event-stream", got)
	}
	var names []string
	var partial []string
	for _, ev := range sse(t, res.Body) {
		names = append(names, ev[0])
		var data struct {
			Type  string `json:"type"`
			Delta struct {
				PartialJSON *string `json:"partial_json"`
			} `json:"delta"`
		}
		if err := json.Unmarshal([]byte(ev[1]), &data); err != nil {
			t.Fatalf("event %s: data is not JSON: %v", ev[0], err)
		}
		if data.Type != ev[0] {
			t.Errorf("event %s: data type %q", ev[0], data.Type)
		}
		if data.Delta.PartialJSON != nil {
			partial = append(partial, *data.Delta.PartialJSON)
		}
	}
	wantNames := []string{"message_start", "ping",
		"content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
		"content_block_start", "content_block_delta", "content_block_delta", "content_block_delta", "content_block_stop",
		"message_delta", "message_stop"}
	if !reflect.DeepEqual(names, wantNames) {
		t.Errorf("events: got %v, want %v", names, wantNames)
	}
	if want := []string{"", `{"comm`, `and":"ls"}`}; !reflect.DeepEqual(partial, want) {
		t.Errorf("input fragments: got %q, want %q", partial, want)
	}
}

func TestOpenAIChunks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		body      string
		wantUsage bool
	}{
		{"with usage", `{"model":"m","stream":true,"stream_options":{"include_usage":true}}`, true},
		{"without usage", `{"model":"m","stream":true}`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := NewOpenAI(t)
			srv.Queue(Reply{Text: []string{"hi"}, ToolCalls: []ToolCall{{ID: "c", Name: "bash", Input: `{}`}}})
			res := post(t, srv.URL+"/chat/completions", tc.body, nil)
			evs := sse(t, res.Body)
			if last := evs[len(evs)-1][1]; last != "[DONE]" {
				t.Fatalf("last event: got %q, want [DONE]", last)
			}
			var finish string
			usage := false
			for _, ev := range evs[:len(evs)-1] {
				var chunk struct {
					Object  string `json:"object"`
					Choices []struct {
						FinishReason *string `json:"finish_reason"`
					} `json:"choices"`
					Usage *struct{} `json:"usage"`
				}
				if err := json.Unmarshal([]byte(ev[1]), &chunk); err != nil {
					t.Fatalf("chunk is not JSON: %v", err)
				}
				if chunk.Object != "chat.completion.chunk" {
					t.Errorf("object: got %q", chunk.Object)
				}
				for _, c := range chunk.Choices {
					if c.FinishReason != nil {
						finish = *c.FinishReason
					}
				}
				usage = usage || chunk.Usage != nil
			}
			if finish != "tool_calls" {
				t.Errorf("finish_reason: got %q, want tool_calls", finish)
			}
			if usage != tc.wantUsage {
				t.Errorf("usage chunk: got %v, want %v", usage, tc.wantUsage)
			}
		})
	}
}

func TestErrorBodies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		server   func(testing.TB) *Server
		path     string
		status   int
		typePath string
		wantType string
	}{
		{"anthropic 529", NewAnthropic, "/v1/messages", 529, "error.type", "overloaded_error"},
		{"anthropic 401", NewAnthropic, "/v1/messages", 401, "error.type", "authentication_error"},
		{"openai 404", NewOpenAI, "/chat/completions", 404, "error.code", "model_not_found"},
		{"openai 429", NewOpenAI, "/chat/completions", 429, "error.code", "rate_limit_exceeded"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := tc.server(t)
			srv.Queue(Reply{Status: tc.status, RetryAfter: "2"})
			res := post(t, srv.URL+tc.path, `{"model":"m"}`, nil)
			if res.StatusCode != tc.status {
				t.Fatalf("status: got %d, want %d", res.StatusCode, tc.status)
			}
			if got := res.Header.Get("Retry-After"); got != "2" {
				t.Errorf("Retry-After: got %q, want 2", got)
			}
			raw, _ := io.ReadAll(res.Body)
			body := Request{}
			if err := json.Unmarshal(raw, &body.Body); err != nil {
				t.Fatalf("body is not JSON: %v", err)
			}
			if got := body.Get(tc.typePath); got != tc.wantType {
				t.Errorf("%s: got %v, want %q", tc.typePath, got, tc.wantType)
			}
		})
	}
}

func TestCutAfter(t *testing.T) {
	t.Parallel()
	srv := NewAnthropic(t)
	srv.Queue(Reply{Text: []string{"a", "b", "c"}, CutAfter: 3})
	res := post(t, srv.URL+"/v1/messages", `{"model":"m"}`, nil)
	_, err := io.ReadAll(res.Body)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("read: got %v, want unexpected EOF", err)
	}
}

func TestRecordsRequests(t *testing.T) {
	t.Parallel()
	srv := NewOpenAI(t)
	srv.Queue(Reply{Text: []string{"x"}})
	res := post(t, srv.URL+"/chat/completions", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`,
		map[string]string{"Authorization": "Bearer sk-1"})
	_, _ = io.ReadAll(res.Body)
	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("requests: got %d, want 1", len(reqs))
	}
	r := reqs[0]
	tests := []struct {
		path string
		want any
	}{
		{"model", "m"},
		{"messages.0.role", "user"},
		{"messages.0.content", "hi"},
		{"messages.1.role", nil},
		{"messages.x", nil},
		{"model.deeper", nil},
	}
	for _, tc := range tests {
		if got := r.Get(tc.path); got != tc.want {
			t.Errorf("Get(%q): got %#v, want %#v", tc.path, got, tc.want)
		}
	}
	if got := APIKey(r); got != "sk-1" {
		t.Errorf("APIKey: got %q, want sk-1", got)
	}
	if srv.Pending() != 0 {
		t.Errorf("pending: got %d, want 0", srv.Pending())
	}
}
