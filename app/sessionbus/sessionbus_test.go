package sessionbus

import (
	"bufio"
	"errors"
	"fmt"
	"github.com/berth-app/berth/docker/dockertest/need"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoBus: with no session bus anywhere, Connect and Service say so and
// PreventAutolaunch pins the address to one that cannot connect.
func TestNoBus(t *testing.T) {
	_, err := os.Stat(fmt.Sprintf("/run/user/%d/bus", os.Getuid()))
	need.Require(t, err != nil, "this machine has a session bus in /run/user, so the no-bus case cannot be made here")
	t.Setenv(EnvAddress, "")
	if _, err := Connect(); !errors.Is(err, ErrNoBus) || !strings.Contains(err.Error(), "is unset") {
		t.Errorf("Connect: got %v, want ErrNoBus saying the variable is unset", err)
	}
	if err := Service("org.freedesktop.secrets"); !errors.Is(err, ErrNoBus) {
		t.Errorf("Service: got %v, want ErrNoBus", err)
	}
	if err := PreventAutolaunch(); !errors.Is(err, ErrNoBus) || !Prevented() || os.Getenv(EnvAddress) != Nowhere {
		t.Errorf("PreventAutolaunch: %v, address %q", err, os.Getenv(EnvAddress))
	}
	if err := Service("org.freedesktop.secrets"); !errors.Is(err, ErrNoBus) {
		t.Errorf("Service after PreventAutolaunch: got %v, want ErrNoBus", err)
	}
}

// TestPrivateBus: on a real (private) session bus Connect works, Service
// tells a name that is owned (the bus's own) from one nothing provides, and
// PreventAutolaunch leaves the address alone.
func TestPrivateBus(t *testing.T) {
	_, err := exec.LookPath("dbus-daemon")
	need.Require(t, err == nil, "dbus-daemon is not installed (apt-get install dbus)")
	addr := "unix:path=" + filepath.Join(t.TempDir(), "bus")
	d := exec.Command("dbus-daemon", "--session", "--nofork", "--nopidfile", "--address="+addr, "--print-address=1")
	out, err := d.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Process.Kill(); d.Wait() })
	got, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvAddress, strings.TrimSpace(got))
	conn, err := Connect()
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	conn.Close()
	if err := Service("org.freedesktop.DBus"); err != nil {
		t.Errorf("Service(org.freedesktop.DBus): %v", err)
	}
	if err := Service("org.example.Nothing"); err == nil || errors.Is(err, ErrNoBus) || !strings.Contains(err.Error(), "nothing on the session bus provides") {
		t.Errorf("Service(nothing): got %v", err)
	}
	if err := PreventAutolaunch(); err != nil || Prevented() {
		t.Errorf("PreventAutolaunch with a bus: %v, prevented %v", err, Prevented())
	}
}
