package llm_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/berth-app/berth/app/llm"
	"github.com/berth-app/berth/app/llm/llmtest"
)

// testKey is the API key the tests send; no error text may ever hold it.
const testKey = "sk-test-0123456789-do-not-leak"

// backend is one provider with its fake server.
type backend struct {
	name     string
	server   func(testing.TB) *llmtest.Server
	provider func(llm.Config) llm.Provider
	key      func(llmtest.Request) string // the key as it arrived at the server
}

// backends lists both providers, for tests that hold for each.
var backends = []backend{
	{
		name:     llm.Anthropic,
		server:   llmtest.NewAnthropic,
		provider: llm.NewAnthropic,
		// anthropic-sdk-go v2 sends the key as Authorization: Bearer; older
		// SDKs and curl examples use x-api-key. Either reaches the API.
		key: func(r llmtest.Request) string { return llmtest.APIKey(r) },
	},
	{
		name:     llm.OpenAI,
		server:   llmtest.NewOpenAI,
		provider: llm.NewOpenAI,
		key:      func(r llmtest.Request) string { return llmtest.APIKey(r) },
	},
}

// testConfig returns a config for the fake at baseURL with a short backoff.
func testConfig(baseURL string) llm.Config {
	return llm.Config{
		APIKey:        testKey,
		BaseURL:       baseURL,
		Model:         "test-model",
		RetryDelay:    time.Millisecond,
		MaxRetryDelay: 2 * time.Millisecond,
	}
}

// start starts the backend's fake and a provider pointed at it.
func (b backend) start(t *testing.T) (*llmtest.Server, llm.Provider) {
	t.Helper()
	srv := b.server(t)
	return srv, b.provider(testConfig(srv.URL))
}

// recorder keeps the events a stream emitted.
type recorder struct {
	events []llm.Event
	// on, if set, sees each event as it arrives.
	on func(llm.Event)
}

func (r *recorder) emit(ev llm.Event) {
	r.events = append(r.events, ev)
	if r.on != nil {
		r.on(ev)
	}
}

// texts returns the text deltas in order.
func (r *recorder) texts() []string {
	var out []string
	for _, ev := range r.events {
		if ev.Kind == llm.EventText {
			out = append(out, ev.Text)
		}
	}
	return out
}

// kinds returns the event kinds in order, text deltas collapsed into one.
func (r *recorder) kinds() []llm.EventKind {
	var out []llm.EventKind
	for _, ev := range r.events {
		if ev.Kind == llm.EventText && len(out) > 0 && out[len(out)-1] == llm.EventText {
			continue
		}
		out = append(out, ev.Kind)
	}
	return out
}

// count returns how many events of kind arrived.
func (r *recorder) count(kind llm.EventKind) int {
	n := 0
	for _, ev := range r.events {
		if ev.Kind == kind {
			n++
		}
	}
	return n
}

// ask is the simplest request.
func ask(text string) llm.Request {
	return llm.Request{Messages: []llm.Message{llm.UserText(text)}}
}

// stream runs one Stream call with a fresh context and recorder.
func stream(t *testing.T, p llm.Provider, req llm.Request) (llm.Response, *recorder, error) {
	t.Helper()
	rec := &recorder{}
	resp, err := p.Stream(context.Background(), req, rec.emit)
	return resp, rec, err
}

// want fails the test when got and want differ.
func want[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: got %#v, want %#v", what, got, want)
	}
}

// wantJSON fails the test when got is not the JSON value want.
func wantJSON(t *testing.T, what string, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Errorf("%s: got %q, not JSON: %v", what, got, err)
		return
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("%s: want %q is not JSON: %v", what, want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s: got %s, want %s", what, got, want)
	}
}

// wantAt fails the test when the request's body has not want at path.
func wantAt(t *testing.T, req llmtest.Request, path string, want any) {
	t.Helper()
	got := req.Get(path)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("request body %s: got %#v, want %#v", path, got, want)
	}
}

// noSecret fails the test when any rendering of err holds the API key.
func noSecret(t *testing.T, err error, secret string) {
	t.Helper()
	for _, format := range []string{"%v", "%+v", "%s", "%q"} {
		if s := fmt.Sprintf(format, err); strings.Contains(s, secret) {
			t.Errorf("error text holds the API key (%s): %s", format, s)
		}
	}
}
