package llm

import (
	"errors"
	"runtime"

	"github.com/zalando/go-keyring"

	"github.com/berth-app/berth/app/sessionbus"
)

// keyringService is the service name Berth's keys are filed under in the OS
// keyring; the user name is the provider ("anthropic", "openai").
const keyringService = "berth"

// secretServiceName is the Secret Service's D-Bus name (GNOME Keyring,
// KWallet, KeePassXC): the OS keyring on Linux and the BSDs.
const secretServiceName = "org.freedesktop.secrets"

// keyringProbe says whether the OS keyring can be used without side
// effects. On Linux go-keyring reaches the Secret Service through godbus's
// shared session bus connection, which runs dbus-launch (and leaves a
// dbus-daemon behind for good) when no bus exists; so the bus and the
// service are looked for first, without launching anything. macOS's
// Keychain and Windows' Credential Manager need no probe. Tests replace it.
var keyringProbe = func() error {
	switch runtime.GOOS {
	case "darwin", "windows":
		return nil
	}
	return sessionbus.Service(secretServiceName)
}

// ErrKeyringUnavailable means this machine has no OS keyring Berth can
// reach (e.g. no D-Bus session bus or no Secret Service on it).
var ErrKeyringUnavailable = errors.New("no OS keyring")

// KeyringStatus says whether the OS keyring can be reached: nil, or an
// error matching ErrKeyringUnavailable that says what is missing. Keys then
// go to the key file (KeyFile).
func KeyringStatus() error {
	if err := keyringProbe(); err != nil {
		return &keyError{msg: "no OS keyring here: " + err.Error(), err: ErrKeyringUnavailable}
	}
	return nil
}

// MockKeyring replaces the OS keyring for the whole process with an
// in-memory one (go-keyring's mock), so that tests never read a developer's
// real keys, never prompt to unlock a keyring and never start a D-Bus
// session bus. With err non-nil every keyring call fails with it, as on a
// desktop whose keyring is locked. Every test binary whose code reaches
// GetKey calls it (in TestMain).
func MockKeyring(err error) {
	if err != nil {
		keyring.MockInitWithError(err)
	} else {
		keyring.MockInit()
	}
	keyringProbe = func() error { return nil }
}

// MockNoKeyring makes this process behave as a machine without an OS
// keyring (a headless server): the keyring is never asked, and keys go to
// the key file. reason is what KeyringStatus says is missing.
func MockNoKeyring(reason string) {
	keyring.MockInitWithError(errors.New("MockNoKeyring: the OS keyring was asked although it is unavailable"))
	keyringProbe = func() error { return errors.New(reason) }
}
