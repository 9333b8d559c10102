package assistant

import (
	"fmt"
	"os"
	"testing"

	"github.com/berth-app/berth/app/llm"
)

// TestMain keeps this package's tests off the real OS keyring: the code
// they drive reads API keys (llm.GetKey), which would otherwise read a
// developer's stored key, could prompt to unlock the keyring, and would
// reach for a D-Bus session bus. It points BERTH_HOME at a throwaway
// folder too, so that nothing that resolves the installation's places from
// the environment (the key file) reaches a real one: newService leaves
// BERTH_HOME alone, for tests that run in parallel.
func TestMain(m *testing.M) {
	llm.MockKeyring(nil)
	dir, err := os.MkdirTemp("", "berth-assistant-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("BERTH_HOME", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
