package llm_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/zalando/go-keyring"

	"github.com/berth-app/berth/app/llm"
)

// The keyring mock is process-wide, and these tests set environment
// variables, so none of them runs in parallel.

func TestKeysKeyringThenEnv(t *testing.T) {
	keyring.MockInit()
	t.Setenv("ANTHROPIC_API_KEY", "sk-env-anthropic")

	if err := llm.SetKey(llm.Anthropic, "  sk-keyring-anthropic\n"); err != nil {
		t.Fatalf("SetKey: %v", err)
	}
	key, src, err := llm.GetKey(llm.Anthropic)
	if err != nil {
		t.Fatalf("GetKey: %v", err)
	}
	want(t, "key from keyring", key, "sk-keyring-anthropic")
	want(t, "source", src, llm.SourceKeyring)

	if err := llm.DeleteKey(llm.Anthropic); err != nil {
		t.Fatalf("DeleteKey: %v", err)
	}
	key, src, err = llm.GetKey(llm.Anthropic)
	if err != nil {
		t.Fatalf("GetKey after delete: %v", err)
	}
	want(t, "key from env", key, "sk-env-anthropic")
	want(t, "source", src, llm.SourceEnv)

	if err := llm.DeleteKey(llm.Anthropic); err != nil {
		t.Errorf("DeleteKey of a missing key: got %v, want nil", err)
	}
}

func TestKeysPerProvider(t *testing.T) {
	keyring.MockInit()
	t.Setenv("ANTHROPIC_API_KEY", "")
	t.Setenv("OPENAI_API_KEY", "")
	if err := llm.SetKey(llm.OpenAI, "sk-openai"); err != nil {
		t.Fatalf("SetKey: %v", err)
	}
	if _, _, err := llm.GetKey(llm.Anthropic); !errors.Is(err, llm.ErrNoKey) {
		t.Errorf("GetKey(anthropic): got %v, want ErrNoKey", err)
	}
	key, src, err := llm.GetKey(llm.OpenAI)
	if err != nil {
		t.Fatalf("GetKey(openai): %v", err)
	}
	want(t, "key", key, "sk-openai")
	want(t, "source", src, llm.SourceKeyring)
}

func TestKeysNone(t *testing.T) {
	keyring.MockInit()
	t.Setenv("OPENAI_API_KEY", "")
	key, src, err := llm.GetKey(llm.OpenAI)
	if !errors.Is(err, llm.ErrNoKey) {
		t.Fatalf("GetKey: got %v, want ErrNoKey", err)
	}
	want(t, "key", key, "")
	want(t, "source", src, llm.SourceNone)
	for _, m := range []string{"berth auth set openai", "OPENAI_API_KEY"} {
		if !strings.Contains(err.Error(), m) {
			t.Errorf("error %q does not mention %q", err, m)
		}
	}
}

// TestKeysKeyringUnavailable is the headless machine with no secret service:
// reading falls back to the environment, and storing fails without echoing
// the key.
func TestKeysKeyringUnavailable(t *testing.T) {
	keyring.MockInitWithError(errors.New("the name org.freedesktop.secrets was not provided"))
	t.Cleanup(keyring.MockInit)
	t.Setenv("ANTHROPIC_API_KEY", "sk-env-fallback")

	key, src, err := llm.GetKey(llm.Anthropic)
	if err != nil {
		t.Fatalf("GetKey: %v", err)
	}
	want(t, "key", key, "sk-env-fallback")
	want(t, "source", src, llm.SourceEnv)

	const secret = "sk-ant-very-secret-key"
	err = llm.SetKey(llm.Anthropic, secret)
	if err == nil {
		t.Fatal("SetKey: got nil, want an error")
	}
	noSecret(t, err, secret)
	if !strings.Contains(err.Error(), "ANTHROPIC_API_KEY") {
		t.Errorf("error %q does not offer the environment variable", err)
	}

	t.Setenv("ANTHROPIC_API_KEY", "")
	_, _, err = llm.GetKey(llm.Anthropic)
	if !errors.Is(err, llm.ErrNoKey) {
		t.Fatalf("GetKey with nothing: got %v, want ErrNoKey", err)
	}
	if !strings.Contains(err.Error(), "keyring could not be read") {
		t.Errorf("error %q does not say the keyring failed", err)
	}
}

func TestKeysRefuseBadInput(t *testing.T) {
	keyring.MockInit()
	tests := []struct {
		name string
		do   func() error
	}{
		{"get unknown provider", func() error { _, _, err := llm.GetKey("gemini"); return err }},
		{"set unknown provider", func() error { return llm.SetKey("gemini", "k") }},
		{"delete unknown provider", func() error { return llm.DeleteKey("../etc") }},
		{"set empty key", func() error { return llm.SetKey(llm.OpenAI, "   ") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.do(); err == nil {
				t.Errorf("got nil, want an error")
			}
		})
	}
}

func TestKeyEnvVar(t *testing.T) {
	t.Parallel()
	want(t, "anthropic", llm.KeyEnvVar(llm.Anthropic), "ANTHROPIC_API_KEY")
	want(t, "openai", llm.KeyEnvVar(llm.OpenAI), "OPENAI_API_KEY")
}
