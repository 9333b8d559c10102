// Package sessionbus finds the user's D-Bus session bus without ever starting
// one.
//
// godbus — which go-keyring, fyne.io/systray and Fyne's notifications use —
// runs `dbus-launch` when DBUS_SESSION_BUS_ADDRESS is unset and no bus is
// found in /run/user/UID, and every such launch leaves a dbus-daemon running
// for good: on a headless machine each `berth chat` and `berth auth status`
// leaked one (issue 19). Berth asks here first and talks D-Bus only when a
// bus already exists.
package sessionbus

import (
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/godbus/dbus/v5"
)

// EnvAddress is the variable that names the session bus.
const EnvAddress = "DBUS_SESSION_BUS_ADDRESS"

// Nowhere is an address no bus can ever listen on (/dev/null is not a
// folder). PreventAutolaunch points EnvAddress at it: godbus dials it, fails
// at once, and never launches a bus.
// Errors from dialling it name NowherePath.
const (
	NowherePath = "/dev/null/berth-no-session-bus"
	Nowhere     = "unix:path=" + NowherePath
)

// ErrNoBus means no session bus exists here (none is ever started).
var ErrNoBus = errors.New("no D-Bus session bus")

// Connect dials the session bus the way godbus finds it (EnvAddress, else
// /run/user/UID/bus) but never launches one. On success EnvAddress holds the
// bus's address, so later godbus.SessionBus calls in this process (go-keyring's)
// reach the same bus instead of launching another. The caller closes the
// connection.
func Connect() (*dbus.Conn, error) {
	if os.Getenv(EnvAddress) == Nowhere {
		return nil, fmt.Errorf("%w (none was found when Berth started)", ErrNoBus)
	}
	found := os.Getenv(EnvAddress)
	conn, err := dbus.SessionBusPrivateNoAutoStartup()
	switch {
	case err != nil && (found == "" || found == "autolaunch:") && os.Getenv(EnvAddress) == found:
		return nil, fmt.Errorf("%w (%s is unset and /run/user/%d/bus does not exist)", ErrNoBus, EnvAddress, os.Getuid())
	case err != nil:
		return nil, fmt.Errorf("%w: cannot connect to %s: %v", ErrNoBus, os.Getenv(EnvAddress), err)
	}
	if err := conn.Auth(nil); err != nil {
		conn.Close()
		return nil, fmt.Errorf("%w: %s does not answer: %v", ErrNoBus, os.Getenv(EnvAddress), err)
	}
	if err := conn.Hello(); err != nil {
		conn.Close()
		return nil, fmt.Errorf("%w: %s does not answer: %v", ErrNoBus, os.Getenv(EnvAddress), err)
	}
	// godbus sets EnvAddress when it discovers the bus in /run/user; make
	// sure it is set whatever the path, or a later SessionBus could autolaunch.
	if a := os.Getenv(EnvAddress); a == "" || a == "autolaunch:" {
		conn.Close()
		return nil, fmt.Errorf("%w (its address could not be pinned)", ErrNoBus)
	}
	return conn, nil
}

// Service says whether name (e.g. org.freedesktop.secrets) is owned on the
// session bus or can be started by it. nil means a D-Bus call to it may be
// made without launching a bus; an error says what is missing.
func Service(name string) error {
	conn, err := Connect()
	if err != nil {
		return err
	}
	defer conn.Close()
	var owned bool
	if err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, name).Store(&owned); err != nil {
		return fmt.Errorf("ask the session bus for %s: %w", name, err)
	}
	if owned {
		return nil
	}
	var names []string
	if err := conn.BusObject().Call("org.freedesktop.DBus.ListActivatableNames", 0).Store(&names); err != nil {
		return fmt.Errorf("ask the session bus for %s: %w", name, err)
	}
	if slices.Contains(names, name) {
		return nil
	}
	return fmt.Errorf("nothing on the session bus provides %s", name)
}

// PreventAutolaunch makes sure that no library in this process launches a
// session bus: when none exists it points EnvAddress at an address that
// cannot connect, and returns why (an error matching ErrNoBus). Libraries
// that want the bus then fail at once, as they would on a machine without
// D-Bus. It changes nothing when a bus exists.
func PreventAutolaunch() error {
	conn, err := Connect()
	if err != nil {
		if errors.Is(err, ErrNoBus) {
			os.Setenv(EnvAddress, Nowhere)
		}
		return err
	}
	return conn.Close()
}

// Prevented says whether PreventAutolaunch found no bus in this process.
func Prevented() bool { return os.Getenv(EnvAddress) == Nowhere }
