package llm

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/zalando/go-keyring"
)

// ErrNoKey means no API key is stored for a provider and its environment
// variable is empty. Local OpenAI-compatible servers need none.
var ErrNoKey = errors.New("no API key")

// KeySource says where a key was found.
type KeySource string

// The places a key is looked for, in order.
const (
	SourceKeyring KeySource = "keyring" // the OS keyring
	SourceFile    KeySource = "file"    // the key file (KeyFile), where there is no OS keyring
	SourceEnv     KeySource = "env"     // ANTHROPIC_API_KEY or OPENAI_API_KEY
	SourceNone    KeySource = ""
)

// KeyLocation says where a key is kept, for people.
type KeyLocation struct {
	Source KeySource
	Path   string // SourceFile: the key file
	Env    string // SourceEnv: the variable
	// KeyringDown says why the OS keyring was not used ("" when it was
	// reachable and answered): no keyring on this machine, or its error.
	KeyringDown string
}

// String names the place: "the OS keyring", "/home/u/.config/berth/keys.json
// (readable only by you)", "ANTHROPIC_API_KEY".
func (l KeyLocation) String() string {
	switch l.Source {
	case SourceKeyring:
		return "the OS keyring"
	case SourceFile:
		return l.Path + " (readable only by you)"
	case SourceEnv:
		return l.Env
	}
	return "nowhere"
}

// KeyEnvVar returns the environment variable that holds provider's key.
func KeyEnvVar(provider string) string {
	return strings.ToUpper(provider) + "_API_KEY"
}

// GetKey returns provider's API key and says where it was found: the OS
// keyring, else the key file, else the provider's environment variable.
// With none it returns an error matching ErrNoKey that tells the user how
// to set one. It never starts a D-Bus session bus.
func GetKey(provider string) (string, KeySource, error) {
	key, loc, err := LookupKey(provider)
	return key, loc.Source, err
}

// LookupKey is GetKey with the whole location: the key file's path, and why
// the OS keyring was not used.
func LookupKey(provider string) (string, KeyLocation, error) {
	if err := checkProvider(provider); err != nil {
		return "", KeyLocation{}, err
	}
	down := ""
	if err := KeyringStatus(); err != nil {
		down = err.Error()
	} else {
		key, err := keyring.Get(keyringService, provider)
		switch {
		case err == nil && key != "":
			return key, KeyLocation{Source: SourceKeyring}, nil
		case err != nil && !errors.Is(err, keyring.ErrNotFound):
			down = fmt.Sprintf("the OS keyring could not be read: %v", err)
		}
	}
	path, perr := KeyFile()
	if perr == nil {
		keys, err := readKeyFile(path)
		if err != nil {
			return "", KeyLocation{Path: path, KeyringDown: down}, err // fail closed: a key file others can read is not used
		}
		if key := keys[provider]; key != "" {
			return key, KeyLocation{Source: SourceFile, Path: path, KeyringDown: down}, nil
		}
	}
	if v := os.Getenv(KeyEnvVar(provider)); v != "" {
		return v, KeyLocation{Source: SourceEnv, Env: KeyEnvVar(provider), KeyringDown: down}, nil
	}
	msg := fmt.Sprintf("%s: no API key — set it with `berth auth set %s` or %s", provider, provider, KeyEnvVar(provider))
	if down != "" {
		msg += " (" + down + ")"
	}
	return "", KeyLocation{KeyringDown: down}, &keyError{msg: msg, err: ErrNoKey}
}

// SetKey stores provider's API key: see StoreKey.
func SetKey(provider, key string) error {
	_, err := StoreKey(provider, key)
	return err
}

// StoreKey stores provider's API key in the OS keyring, or, where there is
// none or it refuses the key, in the key file, and says where it went (and
// why not in the keyring). Once the keyring holds the key, a copy left in
// the key file is removed. It fails only when neither place can take the
// key; the error never holds the key.
func StoreKey(provider, key string) (KeyLocation, error) {
	if err := checkProvider(provider); err != nil {
		return KeyLocation{}, err
	}
	key = strings.TrimSpace(key)
	if key == "" {
		return KeyLocation{}, fmt.Errorf("%s: the API key is empty", provider)
	}
	path, perr := KeyFile()
	down := ""
	if err := KeyringStatus(); err != nil {
		down = err.Error()
	} else if err := keyring.Set(keyringService, provider, key); err != nil {
		down = redact(fmt.Sprintf("the OS keyring refused the key: %v", err), key)
	} else {
		loc := KeyLocation{Source: SourceKeyring}
		if perr == nil {
			if err := updateKeyFile(path, provider, ""); err != nil {
				return loc, fmt.Errorf("%s: stored the API key in the OS keyring, but its old copy stays in the key file: %w", provider, err)
			}
		}
		return loc, nil
	}
	if perr != nil {
		return KeyLocation{KeyringDown: down}, &keyError{
			msg: fmt.Sprintf("%s: store the API key: %s, and no key file: %v — set %s instead", provider, down, perr, KeyEnvVar(provider)),
			err: perr,
		}
	}
	if err := updateKeyFile(path, provider, key); err != nil {
		return KeyLocation{KeyringDown: down}, &keyError{
			msg: redact(fmt.Sprintf("%s: store the API key: %s, and %v — set %s instead", provider, down, err, KeyEnvVar(provider)), key),
			err: err,
		}
	}
	return KeyLocation{Source: SourceFile, Path: path, KeyringDown: down}, nil
}

// DeleteKey removes provider's API key from the OS keyring and the key
// file. A key that is not there is not an error; the environment variable
// is the user's to unset.
func DeleteKey(provider string) error {
	if err := checkProvider(provider); err != nil {
		return err
	}
	var errs []error
	if KeyringStatus() == nil {
		err := keyring.Delete(keyringService, provider)
		if err != nil && !errors.Is(err, keyring.ErrNotFound) {
			errs = append(errs, fmt.Errorf("%s: delete the API key from the OS keyring: %w", provider, err))
		}
	}
	if path, err := KeyFile(); err == nil {
		if err := updateKeyFile(path, provider, ""); err != nil {
			errs = append(errs, fmt.Errorf("%s: delete the API key: %w", provider, err))
		}
	}
	return errors.Join(errs...)
}

// checkProvider refuses a provider name Berth does not know, so that keys
// are filed only under known names.
func checkProvider(provider string) error {
	if provider != Anthropic && provider != OpenAI {
		return fmt.Errorf("unknown model provider %q (want %q or %q)", provider, Anthropic, OpenAI)
	}
	return nil
}

// redact removes key from a message that may quote it.
func redact(msg, key string) string { return strings.ReplaceAll(msg, key, "[redacted]") }

// keyError is a key-handling error whose text has been checked for secrets.
type keyError struct {
	msg string
	err error
}

func (e *keyError) Error() string { return e.msg }
func (e *keyError) Unwrap() error { return e.err }
