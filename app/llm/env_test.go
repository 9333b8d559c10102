package llm_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/berth-app/berth/app/llm"
	"github.com/berth-app/berth/app/llm/llmtest"
)

// These tests set environment variables, so none of them runs in parallel.

// TestEnvHonoured checks that an empty config takes the base URL and key
// from the provider's environment variables.
func TestEnvHonoured(t *testing.T) {
	const envKey = "sk-from-the-environment-42"
	tests := []struct {
		backend backend
		urlVar  string
		keyVar  string
	}{
		{backends[0], "ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY"},
		{backends[1], "OPENAI_BASE_URL", "OPENAI_API_KEY"},
	}
	for _, tc := range tests {
		t.Run(tc.backend.name, func(t *testing.T) {
			srv := tc.backend.server(t)
			t.Setenv(tc.urlVar, srv.URL)
			t.Setenv(tc.keyVar, envKey)
			t.Setenv("ANTHROPIC_AUTH_TOKEN", "")
			srv.Queue(llmtest.Reply{Text: []string{"from env"}})
			p := tc.backend.provider(llm.Config{Model: "env-model"})
			resp, _, err := stream(t, p, ask("hi"))
			if err != nil {
				t.Fatalf("Stream: %v", err)
			}
			want(t, "reply", resp.Text(), "from env")
			reqs := srv.Requests()
			if len(reqs) != 1 {
				t.Fatalf("requests: got %d, want 1", len(reqs))
			}
			want(t, "API key", tc.backend.key(reqs[0]), envKey)
			wantAt(t, reqs[0], "model", "env-model")
		})
	}
}

// TestEnvConfigWins checks that an explicit config beats the environment.
func TestEnvConfigWins(t *testing.T) {
	tests := []struct {
		backend backend
		urlVar  string
		keyVar  string
	}{
		{backends[0], "ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY"},
		{backends[1], "OPENAI_BASE_URL", "OPENAI_API_KEY"},
	}
	for _, tc := range tests {
		t.Run(tc.backend.name, func(t *testing.T) {
			srv := tc.backend.server(t)
			t.Setenv(tc.urlVar, llmtest.ClosedURL(t))
			t.Setenv(tc.keyVar, "sk-env-loses-000")
			srv.Queue(llmtest.Reply{Text: []string{"from config"}})
			resp, _, err := stream(t, tc.backend.provider(testConfig(srv.URL)), ask("hi"))
			if err != nil {
				t.Fatalf("Stream: %v", err)
			}
			want(t, "reply", resp.Text(), "from config")
			want(t, "API key", tc.backend.key(srv.Requests()[0]), testKey)
		})
	}
}

// TestEnvOpenAINoKey checks the Ollama case: no key anywhere, and the
// request goes out without one.
func TestEnvOpenAINoKey(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "")
	srv := llmtest.NewOpenAI(t)
	srv.Queue(llmtest.Reply{Text: []string{"local"}})
	p := llm.NewOpenAI(llm.Config{BaseURL: srv.URL, Model: "llama3.2"})
	if _, _, err := stream(t, p, ask("hi")); err != nil {
		t.Fatalf("Stream: %v", err)
	}
	want(t, "Authorization header", srv.Requests()[0].Header.Get("Authorization"), "")
}

// TestEnvAnthropicNoKey checks that no key at all is a clear ErrAuth before
// anything is sent. HOME and XDG_CONFIG_HOME point at an empty folder so that
// no SDK profile on this machine supplies one.
func TestEnvAnthropicNoKey(t *testing.T) {
	for _, v := range []string{"ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_PROFILE",
		"ANTHROPIC_FEDERATION_RULE_ID", "ANTHROPIC_IDENTITY_TOKEN", "ANTHROPIC_IDENTITY_TOKEN_FILE"} {
		t.Setenv(v, "")
	}
	t.Setenv("HOME", t.TempDir())
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	srv := llmtest.NewAnthropic(t)
	p := llm.NewAnthropic(llm.Config{BaseURL: srv.URL, Model: "m"})
	_, err := p.Stream(context.Background(), ask("hi"), nil)
	if !errors.Is(err, llm.ErrAuth) {
		t.Fatalf("Stream: got %v, want ErrAuth", err)
	}
	if !strings.Contains(err.Error(), "no API key is set") {
		t.Errorf("error %q does not say that no key is set", err)
	}
	want(t, "requests", len(srv.Requests()), 0)
}
