package llm

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/zalando/go-keyring"
)

// keyringService is the service name Berth's keys are filed under in the OS
// keyring; the user name is the provider ("anthropic", "openai").
const keyringService = "berth"

// ErrNoKey means no API key is stored for a provider and its environment
// variable is empty. Local OpenAI-compatible servers need none.
var ErrNoKey = errors.New("no API key")

// KeySource says where a key was found.
type KeySource string

// The places a key is looked for, in order.
const (
	SourceKeyring KeySource = "keyring" // the OS keyring
	SourceEnv     KeySource = "env"     // ANTHROPIC_API_KEY or OPENAI_API_KEY
	SourceNone    KeySource = ""
)

// KeyEnvVar returns the environment variable that holds provider's key.
func KeyEnvVar(provider string) string {
	return strings.ToUpper(provider) + "_API_KEY"
}

// GetKey returns provider's API key from the OS keyring, or else from its
// environment variable, and says which. With neither it returns an error
// matching ErrNoKey that tells the user how to set one.
func GetKey(provider string) (string, KeySource, error) {
	if err := checkProvider(provider); err != nil {
		return "", SourceNone, err
	}
	key, kerr := keyring.Get(keyringService, provider)
	if kerr == nil && key != "" {
		return key, SourceKeyring, nil
	}
	if v := os.Getenv(KeyEnvVar(provider)); v != "" {
		return v, SourceEnv, nil
	}
	msg := fmt.Sprintf("%s: no API key — set it with `berth auth set %s` or %s", provider, provider, KeyEnvVar(provider))
	if kerr != nil && !errors.Is(kerr, keyring.ErrNotFound) {
		msg += fmt.Sprintf(" (the OS keyring could not be read: %v)", kerr)
	}
	return "", SourceNone, &keyError{msg: msg, err: ErrNoKey}
}

// SetKey stores provider's API key in the OS keyring.
func SetKey(provider, key string) error {
	if err := checkProvider(provider); err != nil {
		return err
	}
	key = strings.TrimSpace(key)
	if key == "" {
		return fmt.Errorf("%s: the API key is empty", provider)
	}
	if err := keyring.Set(keyringService, provider, key); err != nil {
		return &keyError{
			msg: strings.ReplaceAll(fmt.Sprintf("%s: store the API key in the OS keyring: %v — set %s instead",
				provider, err, KeyEnvVar(provider)), key, "[redacted]"),
			err: err,
		}
	}
	return nil
}

// DeleteKey removes provider's API key from the OS keyring. A key that is
// not there is not an error.
func DeleteKey(provider string) error {
	if err := checkProvider(provider); err != nil {
		return err
	}
	err := keyring.Delete(keyringService, provider)
	if err != nil && !errors.Is(err, keyring.ErrNotFound) {
		return fmt.Errorf("%s: delete the API key from the OS keyring: %w", provider, err)
	}
	return nil
}

// checkProvider refuses a provider name Berth does not know, so that keys
// are filed only under known names.
func checkProvider(provider string) error {
	if provider != Anthropic && provider != OpenAI {
		return fmt.Errorf("unknown model provider %q (want %q or %q)", provider, Anthropic, OpenAI)
	}
	return nil
}

// keyError is a key-handling error whose text has been checked for secrets.
type keyError struct {
	msg string
	err error
}

func (e *keyError) Error() string { return e.msg }
func (e *keyError) Unwrap() error { return e.err }
