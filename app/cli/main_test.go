package cli

import (
	"os"
	"testing"

	"github.com/berth-app/berth/app/llm"
)

// asBerth makes this test binary the berth command itself, with the real OS
// keyring code: TestNoSessionBusLeak runs it as a separate process.
const asBerth = "BERTH_TEST_AS_BERTH"

func TestMain(m *testing.M) {
	if os.Getenv(asBerth) == "1" {
		os.Exit(Main(os.Args[1:]))
	}
	// Tests never touch the real OS keyring.
	llm.MockKeyring(nil)
	os.Exit(m.Run())
}
