package assistant

import (
	"os"
	"testing"

	"github.com/berth-app/berth/app/llm"
)

// TestMain keeps this package's tests off the real OS keyring: the code
// they drive reads API keys (llm.GetKey), which would otherwise read a
// developer's stored key, could prompt to unlock the keyring, and would
// reach for a D-Bus session bus.
func TestMain(m *testing.M) {
	llm.MockKeyring(nil)
	os.Exit(m.Run())
}
