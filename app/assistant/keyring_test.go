package assistant

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"testing"

	"github.com/berth-app/berth/app/llm"
)

// waitingTests is how many of this package's parallel tests run at once
// unless -parallel says: most of their time is spent waiting for a Docker
// engine or a sandbox, not on a CPU, so the default (GOMAXPROCS) leaves
// the machine idle on a small one.
const waitingTests = 4

// TestMain keeps this package's tests off the real OS keyring: the code
// they drive reads API keys (llm.GetKey), which would otherwise read a
// developer's stored key, could prompt to unlock the keyring, and would
// reach for a D-Bus session bus. It points BERTH_HOME at a throwaway
// folder too, so that nothing that resolves the installation's places from
// the environment (the key file) reaches a real one: newService leaves
// BERTH_HOME alone, for tests that run in parallel.
func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		flag.Set("test.parallel", strconv.Itoa(max(waitingTests, runtime.GOMAXPROCS(0))))
	}
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
