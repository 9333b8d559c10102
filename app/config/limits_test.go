package config

import (
	"os"
	"testing"
	"time"
)

func TestLimitsPerModelThenAnyModel(t *testing.T) {
	t.Parallel()
	c := Config{ContextTokens: 8192, MaxTokens: 1024, Models: map[string]ModelLimits{
		"openai/qwen2.5-coder:7b": {ContextTokens: 32768},
		"openai/tiny":             {MaxTokens: 64},
	}}
	tests := []struct {
		provider, model string
		want            ModelLimits
	}{
		{"openai", "qwen2.5-coder:7b", ModelLimits{ContextTokens: 32768, MaxTokens: 1024}},
		{"openai", "tiny", ModelLimits{ContextTokens: 8192, MaxTokens: 64}},
		{"anthropic", "qwen2.5-coder:7b", ModelLimits{ContextTokens: 8192, MaxTokens: 1024}},
		{"openai", "other", ModelLimits{ContextTokens: 8192, MaxTokens: 1024}},
	}
	for _, tc := range tests {
		if got := c.Limits(tc.provider, tc.model); got != tc.want {
			t.Errorf("%s/%s: got %+v, want %+v", tc.provider, tc.model, got, tc.want)
		}
	}
	if got := (Config{}).Limits("openai", "x"); got != (ModelLimits{}) {
		t.Errorf("no settings: got %+v", got)
	}
}

func TestModelLimitsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("BERTH_IMAGE", "")
	os.WriteFile(File(dir), []byte(`{"provider":"openai","context_tokens":4096,"stall_timeout":"90s",
		"models":{"openai/tiny":{"context_tokens":2048,"max_tokens":256}}}`), 0o600)
	c, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if time.Duration(c.StallTimeout) != 90*time.Second || c.Limits("openai", "tiny") != (ModelLimits{ContextTokens: 2048, MaxTokens: 256}) {
		t.Errorf("loaded %+v", c)
	}
}
