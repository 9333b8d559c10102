package llm_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-app/berth/app/llm"
)

// The keyring mock is process-wide, and these tests set environment
// variables, so none of them runs in parallel.

// keyHome gives the test its own Berth home (where the key file lives) and
// clears the providers' environment variables.
func keyHome(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("BERTH_HOME", dir)
	t.Setenv("ANTHROPIC_API_KEY", "")
	t.Setenv("OPENAI_API_KEY", "")
	return filepath.Join(dir, "config", llm.KeyFileName)
}

func TestKeysKeyringThenEnv(t *testing.T) {
	llm.MockKeyring(nil)
	file := keyHome(t)
	t.Setenv("ANTHROPIC_API_KEY", "sk-env-anthropic")

	loc, err := llm.StoreKey(llm.Anthropic, "  sk-keyring-anthropic\n")
	if err != nil {
		t.Fatalf("StoreKey: %v", err)
	}
	want(t, "stored in", loc, llm.KeyLocation{Source: llm.SourceKeyring})
	want(t, "said", loc.String(), "the OS keyring")
	key, src, err := llm.GetKey(llm.Anthropic)
	if err != nil {
		t.Fatalf("GetKey: %v", err)
	}
	want(t, "key from keyring", key, "sk-keyring-anthropic")
	want(t, "source", src, llm.SourceKeyring)
	if _, err := os.Lstat(file); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("key file %s: got %v, want none while the keyring works", file, err)
	}

	if err := llm.DeleteKey(llm.Anthropic); err != nil {
		t.Fatalf("DeleteKey: %v", err)
	}
	key, loc, err = llm.LookupKey(llm.Anthropic)
	if err != nil {
		t.Fatalf("LookupKey after delete: %v", err)
	}
	want(t, "key from env", key, "sk-env-anthropic")
	want(t, "location", loc, llm.KeyLocation{Source: llm.SourceEnv, Env: "ANTHROPIC_API_KEY"})

	if err := llm.DeleteKey(llm.Anthropic); err != nil {
		t.Errorf("DeleteKey of a missing key: got %v, want nil", err)
	}
}

func TestKeysPerProvider(t *testing.T) {
	llm.MockKeyring(nil)
	keyHome(t)
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
	llm.MockKeyring(nil)
	keyHome(t)
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

// TestKeysNoKeyringUsesFile is the headless machine with no session bus:
// the keyring is never asked (MockNoKeyring fails the test's keyring if it
// were), keys go to a file only the user can read, and the environment
// still works for a provider the file does not name.
func TestKeysNoKeyringUsesFile(t *testing.T) {
	llm.MockNoKeyring("no D-Bus session bus")
	t.Cleanup(func() { llm.MockKeyring(nil) })
	file := keyHome(t)
	t.Setenv("ANTHROPIC_API_KEY", "sk-env-loses-to-the-file")
	t.Setenv("OPENAI_API_KEY", "sk-env-openai")
	if err := llm.KeyringStatus(); !errors.Is(err, llm.ErrKeyringUnavailable) || !strings.Contains(err.Error(), "no D-Bus session bus") {
		t.Fatalf("KeyringStatus: got %v, want ErrKeyringUnavailable saying why", err)
	}

	const secret = "sk-ant-file-0123456789"
	loc, err := llm.StoreKey(llm.Anthropic, secret)
	if err != nil {
		t.Fatalf("StoreKey: %v", err)
	}
	want(t, "stored in", loc, llm.KeyLocation{Source: llm.SourceFile, Path: file, KeyringDown: "no OS keyring here: no D-Bus session bus"})
	want(t, "said", loc.String(), file+" (readable only by you)")
	wantMode(t, file, 0o600)
	wantMode(t, filepath.Dir(file), 0o700)

	key, loc, err := llm.LookupKey(llm.Anthropic)
	if err != nil {
		t.Fatalf("LookupKey: %v", err)
	}
	want(t, "key from the file", key, secret)
	want(t, "source", loc.Source, llm.SourceFile)
	key, src, err := llm.GetKey(llm.OpenAI)
	if err != nil || key != "sk-env-openai" || src != llm.SourceEnv {
		t.Errorf("GetKey(openai): got %q from %q (%v), want the environment's", key, src, err)
	}

	// A second key joins the first; deleting both removes the file.
	if _, err := llm.StoreKey(llm.OpenAI, "sk-openai-file"); err != nil {
		t.Fatalf("StoreKey(openai): %v", err)
	}
	if key, _, _ := llm.GetKey(llm.Anthropic); key != secret {
		t.Errorf("anthropic's key after storing openai's: got %q", key)
	}
	for _, p := range []string{llm.Anthropic, llm.OpenAI} {
		if err := llm.DeleteKey(p); err != nil {
			t.Fatalf("DeleteKey(%s): %v", p, err)
		}
	}
	if _, err := os.Lstat(file); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("key file after deleting every key: got %v, want it gone", err)
	}
	t.Setenv("ANTHROPIC_API_KEY", "")
	_, _, err = llm.GetKey(llm.Anthropic)
	if !errors.Is(err, llm.ErrNoKey) || !strings.Contains(err.Error(), "no D-Bus session bus") {
		t.Errorf("GetKey with nothing: got %v, want ErrNoKey saying the keyring is missing", err)
	}
}

// TestKeysLockedKeyringFallsBackToFile: a keyring that refuses the key (a
// locked one, a dismissed prompt) does not lose it; the key goes to the
// file and the reason is kept without the key in it.
func TestKeysLockedKeyringFallsBackToFile(t *testing.T) {
	llm.MockKeyring(errors.New("failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'"))
	t.Cleanup(func() { llm.MockKeyring(nil) })
	file := keyHome(t)
	const secret = "sk-ant-very-secret-key"
	loc, err := llm.StoreKey(llm.Anthropic, secret)
	if err != nil {
		t.Fatalf("StoreKey: %v", err)
	}
	if loc.Source != llm.SourceFile || loc.Path != file || !strings.Contains(loc.KeyringDown, "refused") || strings.Contains(loc.KeyringDown, secret) {
		t.Errorf("stored in %+v, want the key file with the keyring's refusal (and no key)", loc)
	}
	key, loc, err := llm.LookupKey(llm.Anthropic)
	if err != nil || key != secret || loc.Source != llm.SourceFile || !strings.Contains(loc.KeyringDown, "could not be read") {
		t.Errorf("LookupKey: got %q from %+v (%v), want the file's key and the keyring's error", key, loc, err)
	}
}

// TestKeysKeyringTakesOverFromFile: once the keyring works again, storing
// a key puts it there and removes the copy the file held.
func TestKeysKeyringTakesOverFromFile(t *testing.T) {
	file := keyHome(t)
	llm.MockNoKeyring("no D-Bus session bus")
	if _, err := llm.StoreKey(llm.Anthropic, "sk-old-in-file"); err != nil {
		t.Fatalf("StoreKey without keyring: %v", err)
	}
	llm.MockKeyring(nil)
	loc, err := llm.StoreKey(llm.Anthropic, "sk-new-in-keyring")
	if err != nil || loc.Source != llm.SourceKeyring {
		t.Fatalf("StoreKey: got %+v, %v; want the keyring", loc, err)
	}
	if _, err := os.Lstat(file); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("key file: got %v, want the old copy removed", err)
	}
	if key, src, _ := llm.GetKey(llm.Anthropic); key != "sk-new-in-keyring" || src != llm.SourceKeyring {
		t.Errorf("GetKey: got %q from %q", key, src)
	}
}

// TestKeyFileRefusedUnlessPrivate: a key file others could read, a symlink
// in its place, or a broken file is refused with what to do — the key is
// not used (it may have leaked) and no error quotes it.
func TestKeyFileRefusedUnlessPrivate(t *testing.T) {
	llm.MockNoKeyring("no D-Bus session bus")
	t.Cleanup(func() { llm.MockKeyring(nil) })
	const secret = "sk-ant-leaked-0123456789"
	tests := []struct {
		name  string
		setup func(t *testing.T, file string)
		say   string
	}{
		{"readable by the group", func(t *testing.T, file string) { chmod(t, file, 0o640) }, "chmod 600"},
		{"readable by everyone", func(t *testing.T, file string) { chmod(t, file, 0o644) }, "chmod 600"},
		{"a symlink", func(t *testing.T, file string) {
			other := filepath.Join(t.TempDir(), "elsewhere.json")
			if err := os.Rename(file, other); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(other, file); err != nil {
				t.Fatal(err)
			}
		}, "key file"},
		{"not JSON", func(t *testing.T, file string) {
			if err := os.WriteFile(file, []byte(`{"anthropic": "`+secret), 0o600); err != nil {
				t.Fatal(err)
			}
		}, "not a JSON object"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := keyHome(t)
			t.Setenv("ANTHROPIC_API_KEY", "sk-env-must-not-be-used-either")
			if _, err := llm.StoreKey(llm.Anthropic, secret); err != nil {
				t.Fatal(err)
			}
			tc.setup(t, file)
			key, _, err := llm.GetKey(llm.Anthropic)
			if err == nil || key != "" {
				t.Fatalf("GetKey: got %q, %v; want a refusal", key, err)
			}
			if errors.Is(err, llm.ErrNoKey) || !strings.Contains(err.Error(), tc.say) || !strings.Contains(err.Error(), file) {
				t.Errorf("error %q: want it to name %s and say %q", err, file, tc.say)
			}
			noSecret(t, err, secret)
			if _, err := llm.StoreKey(llm.OpenAI, "sk-openai"); err == nil {
				t.Errorf("StoreKey into a refused key file: got nil, want the same refusal")
			}
		})
	}
}

func TestKeysRefuseBadInput(t *testing.T) {
	llm.MockKeyring(nil)
	keyHome(t)
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

func wantMode(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Mode().Perm(); got != mode {
		t.Errorf("%s: mode %04o, want %04o", path, got, mode)
	}
}

func chmod(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// TestKeyFileConcurrentStores: two Berths storing different providers'
// keys at once (the desktop's Settings and `berth auth set`) keep both.
func TestKeyFileConcurrentStores(t *testing.T) {
	llm.MockNoKeyring("no D-Bus session bus")
	t.Cleanup(func() { llm.MockKeyring(nil) })
	keyHome(t)
	for i := range 20 {
		errs := make(chan error, 2)
		for _, p := range []string{llm.Anthropic, llm.OpenAI} {
			go func() { _, err := llm.StoreKey(p, fmt.Sprintf("sk-%s-%d", p, i)); errs <- err }()
		}
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		for _, p := range []string{llm.Anthropic, llm.OpenAI} {
			if key, _, err := llm.GetKey(p); err != nil || key != fmt.Sprintf("sk-%s-%d", p, i) {
				t.Fatalf("round %d: %s's key is %q (%v)", i, p, key, err)
			}
		}
	}
}
