package llm_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/berth-app/berth/app/llm"
	"github.com/berth-app/berth/app/llm/llmtest"
)

// TestErrors checks the failures that are not retried: each is the right
// kind, says what to do in words, and never holds the API key — even when the
// server echoes it back, as the fakes' 401 bodies do.
func TestErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		reply    llmtest.Reply
		kind     error
		mentions func(b backend, srv *llmtest.Server) []string
	}{
		{
			name:  "401 key refused",
			reply: llmtest.Reply{Status: 401},
			kind:  llm.ErrAuth,
			mentions: func(b backend, _ *llmtest.Server) []string {
				return []string{"API key was refused", "berth auth set " + b.name}
			},
		},
		{
			name:  "403 forbidden",
			reply: llmtest.Reply{Status: 403},
			kind:  llm.ErrAuth,
			mentions: func(b backend, _ *llmtest.Server) []string {
				return []string{"berth auth set " + b.name}
			},
		},
		{
			name:  "404 model not found",
			reply: llmtest.Reply{Status: 404},
			kind:  llm.ErrModel,
			mentions: func(_ backend, srv *llmtest.Server) []string {
				return []string{`model "test-model" not found`, srv.URL}
			},
		},
		{
			name:  "400 bad request",
			reply: llmtest.Reply{Status: 400, ErrorMessage: "messages.0: unexpected role"},
			kind:  llm.ErrRequest,
			mentions: func(backend, *llmtest.Server) []string {
				return []string{"rejected the request", "messages.0: unexpected role"}
			},
		},
		{
			name:  "malformed event",
			reply: llmtest.Reply{Text: []string{"never"}, Malformed: true},
			kind:  llm.ErrMalformed,
			mentions: func(_ backend, srv *llmtest.Server) []string {
				return []string{"malformed reply", srv.URL}
			},
		},
		{
			name:  "server echoes the key in a 500",
			reply: llmtest.Reply{Status: 500, ErrorMessage: "boom for key " + testKey},
			kind:  llm.ErrServer,
			mentions: func(backend, *llmtest.Server) []string {
				return []string{"[redacted]"}
			},
		},
	}
	for _, b := range backends {
		for _, tc := range tests {
			t.Run(b.name+" "+tc.name, func(t *testing.T) {
				t.Parallel()
				srv := b.server(t)
				cfg := testConfig(srv.URL)
				cfg.MaxRetries = -1 // the 500 case would be retried otherwise
				p := b.provider(cfg)
				srv.Queue(tc.reply)
				resp, rec, err := stream(t, p, ask("hi"))
				if !errors.Is(err, tc.kind) {
					t.Fatalf("Stream: got %v, want %v", err, tc.kind)
				}
				var e *llm.Error
				if !errors.As(err, &e) {
					t.Fatalf("Stream: got %T, want *llm.Error", err)
				}
				want(t, "provider", e.Provider, b.name)
				for _, m := range tc.mentions(b, srv) {
					if !strings.Contains(err.Error(), m) {
						t.Errorf("error %q does not mention %q", err, m)
					}
				}
				if !strings.HasPrefix(err.Error(), b.name+": ") {
					t.Errorf("error %q does not start with the provider's name", err)
				}
				noSecret(t, err, testKey)
				want(t, "requests", len(srv.Requests()), 1)
				want(t, "text shown", len(rec.texts()), 0)
				want(t, "reply text", resp.Text(), "")
			})
		}
	}
}

// TestErrorsNotRetried checks that a refused key is not retried under the
// default policy.
func TestErrorsNotRetried(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			srv, p := b.start(t)
			srv.Queue(llmtest.Reply{Status: 401})
			_, rec, err := stream(t, p, ask("hi"))
			if !errors.Is(err, llm.ErrAuth) {
				t.Fatalf("Stream: got %v, want ErrAuth", err)
			}
			want(t, "requests", len(srv.Requests()), 1)
			want(t, "retry events", rec.count(llm.EventRetry), 0)
		})
	}
}

// TestErrorUnreachable points the provider at a closed port on 127.0.0.1.
func TestErrorUnreachable(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			url := llmtest.ClosedURL(t) + "/v1"
			_, rec, err := stream(t, b.provider(testConfig(url)), ask("hi"))
			if !errors.Is(err, llm.ErrUnreachable) {
				t.Fatalf("Stream: got %v, want ErrUnreachable", err)
			}
			if !strings.Contains(err.Error(), "nothing answers at "+url) {
				t.Errorf("error %q does not name %s", err, url)
			}
			want(t, "retry events", rec.count(llm.EventRetry), 0)
			noSecret(t, err, testKey)
		})
	}
}

// TestErrorNoModel checks a request that names no model anywhere.
func TestErrorNoModel(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			srv := b.server(t)
			cfg := testConfig(srv.URL)
			cfg.Model = ""
			_, _, err := stream(t, b.provider(cfg), ask("hi"))
			if !errors.Is(err, llm.ErrModel) {
				t.Fatalf("Stream: got %v, want ErrModel", err)
			}
			want(t, "requests", len(srv.Requests()), 0)
		})
	}
}

// TestErrorBadToolSchema checks that a tool whose schema is not a JSON
// object is refused before anything is sent.
func TestErrorBadToolSchema(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			srv, p := b.start(t)
			req := ask("hi")
			req.Tools = []llm.Tool{{Name: "broken", Schema: []byte(`{"type":`)}}
			_, _, err := stream(t, p, req)
			if !errors.Is(err, llm.ErrRequest) {
				t.Fatalf("Stream: got %v, want ErrRequest", err)
			}
			if !strings.Contains(err.Error(), `"broken"`) {
				t.Errorf("error %q does not name the tool", err)
			}
			want(t, "requests", len(srv.Requests()), 0)
		})
	}
}
