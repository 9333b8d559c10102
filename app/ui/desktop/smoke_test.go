package desktop_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	berthhome "github.com/berth-app/berth/app/home"
	"github.com/berth-app/berth/app/ui/desktop/racelog"
	"github.com/berth-app/berth/docker/dockertest"
)

// TestDesktopSmoke starts the real berth binary under Xvfb and a private
// D-Bus session: the window renders, the tray menu read over D-Bus has its
// items, clicking "Pause assistant" changes the status line, and cutting
// Docker (a fault proxy in front of the engine) changes it (the time it
// took is logged, not asserted).
func TestDesktopSmoke(t *testing.T) {
	for _, bin := range []string{"Xvfb", "dbus-daemon", "xwd"} {
		_, err := exec.LookPath(bin)
		dockertest.Require(t, err == nil, bin+" is not installed (apt-get install xvfb dbus x11-apps)")
	}
	real := dockertest.Client(t)
	proxy := dockertest.NewProxy(t, real.Endpoint().Host)
	dir := t.TempDir()
	bin := berthBinary(t, dir)
	display := startXvfb(t)
	bus := startBus(t, dir)

	home := filepath.Join(dir, "home")
	id := installID(t, home)
	for _, d := range []string{"xdg-config", "xdg-cache", "xdg-data"} {
		os.MkdirAll(filepath.Join(dir, d), 0o700)
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), racelog.Env(t), "DISPLAY="+display, "DBUS_SESSION_BUS_ADDRESS="+bus,
		"BERTH_HOME="+home, "BERTH_IMAGE="+dockertest.TestImage, "DOCKER_HOST="+proxy.Host(),
		"XDG_CONFIG_HOME="+dir+"/xdg-config", "XDG_CACHE_HOME="+dir+"/xdg-cache", "XDG_DATA_HOME="+dir+"/xdg-data",
		"XDG_RUNTIME_DIR="+dir)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1) // the one Wait, read by Quit's check or the clean-up
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGKILL)
		<-exited
		// Only this test's installation: other packages' tests share the engine.
		real.Reap(context.Background(), id, time.Now().Add(100*365*24*time.Hour))
		if t.Failed() {
			t.Logf("berth output:\n%s", logs.String())
		}
	})

	conn, err := dbus.Connect(bus)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tray := conn.Object(fmt.Sprintf("org.kde.StatusNotifierItem-%d-1", cmd.Process.Pid), "/StatusNotifierItem/menu")

	// Each read waits for the whole menu (Fyne appends Quit last): systray
	// answers GetLayout while it rebuilds the menu, so a read may catch a
	// part of it (a slower build, such as the race detector's, often does).
	items := eventually(t, 30*time.Second, "the tray menu to say Docker is ready", func() ([]menuItem, bool) {
		items, err := layout(tray)
		return items, err == nil && len(items) > 0 && strings.HasPrefix(items[0].label, "Docker ready") && containsPrefix(labelsOf(items), "Quit")
	})
	var labels []string
	for _, it := range items {
		labels = append(labels, it.label)
	}
	for _, want := range []string{"Open chat", "New chat in", "Pause assistant", "Rotate sandboxes", "Stop all sandboxes", "Mounts…", "Audit log", "Settings", "Quit"} {
		if !containsPrefix(labels, want) {
			t.Errorf("tray menu %q lacks %q", labels, want)
		}
	}

	// A second launch brings the first one's window forward and leaves.
	second := exec.Command(bin)
	second.Env = cmd.Env
	out, err := second.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "already running; its window was brought forward") {
		t.Errorf("second launch: %v %q", err, out)
	}

	shot := screenshot(t, display)
	if distinct(shot) < 8 {
		t.Errorf("the screen is blank (%d distinct byte values in %d bytes)", distinct(shot), len(shot))
	}
	if path := filepath.Join(t.TempDir(), "berth-smoke.xwd"); os.WriteFile(path, shot, 0o644) == nil {
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("the screen as the test saw it: %s (removed with the test's folder)", path)
			}
		})
	}

	click(t, tray, find(t, items, "Pause assistant"))
	items = eventually(t, 10*time.Second, "the status line to say paused", func() ([]menuItem, bool) {
		items, err := layout(tray)
		return items, err == nil && len(items) > 0 && strings.Contains(strings.ToLower(items[0].label), "paused") && containsPrefix(labelsOf(items), "Quit")
	})
	click(t, tray, find(t, items, "Resume assistant"))
	eventually(t, 10*time.Second, "ready again after resume", func() ([]menuItem, bool) {
		items, err := layout(tray)
		return items, err == nil && len(items) > 0 && strings.HasPrefix(items[0].label, "Docker ready")
	})

	cut := time.Now()
	proxy.Cut()
	eventually(t, 30*time.Second, "the status line to follow Docker going down", func() ([]menuItem, bool) {
		items, err := layout(tray)
		return items, err == nil && len(items) > 0 && strings.Contains(items[0].label, "not running")
	})
	t.Logf("tray showed Docker down %s after the cut", time.Since(cut).Round(time.Millisecond))
	proxy.Restore()

	// Wait for the menu of the restored engine, whole (Fyne appends Quit
	// last): a click on an item of a menu rebuilt since is lost.
	items = eventually(t, 30*time.Second, "ready again after the restore, with Quit", func() ([]menuItem, bool) {
		items, err := layout(tray)
		return items, err == nil && len(items) > 0 && strings.HasPrefix(items[0].label, "Docker ready") && containsPrefix(labelsOf(items), "Quit")
	})
	click(t, tray, find(t, items, "Quit"))
	quit := time.Now()
	select {
	case err := <-exited:
		exited <- err // for the clean-up
		t.Logf("berth quit %s after the click", time.Since(quit).Round(time.Millisecond))
		if err != nil {
			t.Errorf("berth after Quit: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Error("berth did not quit within 30 s")
	}
}

// berthBinaryEnv names a berth binary built beforehand (make test builds it
// once, with -race); without it the test builds one into dir, in the test's
// own mode.
const berthBinaryEnv = "BERTH_BIN"

// berthBinary is the berth binary the test runs.
func berthBinary(t *testing.T, dir string) string {
	t.Helper()
	if bin := os.Getenv(berthBinaryEnv); bin != "" {
		if _, err := os.Stat(bin); err != nil {
			t.Fatalf("%s=%s: %v", berthBinaryEnv, bin, err)
		}
		return bin
	}
	bin := filepath.Join(dir, "berth")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race") // the mode this test was built in, whose packages are compiled
	}
	if out, err := exec.Command("go", append(args, "../../..")...).CombinedOutput(); err != nil {
		t.Fatalf("build berth: %v\n%s", err, out)
	}
	return bin
}

// installID is the installation label Berth gives sandboxes under home.
func installID(t *testing.T, home string) string {
	t.Helper()
	t.Setenv("BERTH_HOME", home)
	p, err := berthhome.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	return p.InstallID()
}

type menuItem struct {
	id    int32
	label string
}

// layout reads the tray menu's top level through com.canonical.dbusmenu.
func layout(obj dbus.BusObject) ([]menuItem, error) {
	var rev uint32
	var root struct {
		ID       int32
		Props    map[string]dbus.Variant
		Children []dbus.Variant
	}
	if err := obj.Call("com.canonical.dbusmenu.GetLayout", 0, int32(0), int32(-1), []string{}).Store(&rev, &root); err != nil {
		return nil, err
	}
	var items []menuItem
	for _, c := range root.Children {
		fields, ok := c.Value().([]any)
		if !ok || len(fields) < 2 {
			continue
		}
		id, _ := fields[0].(int32)
		props, _ := fields[1].(map[string]dbus.Variant)
		label, _ := props["label"].Value().(string)
		if label != "" {
			items = append(items, menuItem{id: id, label: label})
		}
	}
	return items, nil
}

func click(t *testing.T, obj dbus.BusObject, it menuItem) {
	t.Helper()
	call := obj.Call("com.canonical.dbusmenu.Event", 0, it.id, "clicked", dbus.MakeVariant(""), uint32(time.Now().Unix()))
	if call.Err != nil {
		t.Fatalf("click %q: %v", it.label, call.Err)
	}
}

func find(t *testing.T, items []menuItem, label string) menuItem {
	t.Helper()
	for _, it := range items {
		if strings.HasPrefix(it.label, label) {
			return it
		}
	}
	t.Fatalf("no %q in the tray menu %+v", label, items)
	return menuItem{}
}

func labelsOf(items []menuItem) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.label)
	}
	return out
}

func containsPrefix(list []string, p string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func eventually(t *testing.T, d time.Duration, what string, f func() ([]menuItem, bool)) []menuItem {
	t.Helper()
	deadline := time.Now().Add(d)
	var last []menuItem
	for time.Now().Before(deadline) {
		items, ok := f()
		if ok {
			return items
		}
		last = items
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("waited %s for %s; the menu was %+v", d, what, last)
	return nil
}

// xdotool runs xdotool on display, failing the test if it fails.
func xdotool(t *testing.T, display string, args ...string) {
	t.Helper()
	c := exec.Command("xdotool", args...)
	c.Env = append(os.Environ(), "DISPLAY="+display)
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("xdotool %v: %v: %s", args, err, out)
	}
}

// startXvfb starts a private X server and returns its DISPLAY.
func startXvfb(t *testing.T) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	x := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1280x800x24", "-nolisten", "tcp")
	x.ExtraFiles = []*os.File{w}
	if err := x.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() { x.Process.Kill(); x.Wait() })
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		t.Fatalf("Xvfb did not say its display: %v", err)
	}
	return ":" + strings.TrimSpace(line)
}

// startBus starts a private D-Bus session bus and returns its address.
func startBus(t *testing.T, dir string) string {
	t.Helper()
	addr := "unix:path=" + filepath.Join(dir, "bus")
	b := exec.Command("dbus-daemon", "--session", "--nofork", "--nopidfile", "--address="+addr, "--print-address=1")
	out, _ := b.StdoutPipe()
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Process.Kill(); b.Wait() })
	if _, err := bufio.NewReader(out).ReadString('\n'); err != nil {
		t.Fatalf("dbus-daemon did not start: %v", err)
	}
	return addr
}

func screenshot(t *testing.T, display string) []byte {
	t.Helper()
	out, err := exec.Command("xwd", "-root", "-silent", "-display", display).Output()
	if err != nil {
		t.Fatalf("xwd: %v", err)
	}
	return out
}

// distinct counts the different byte values in the pixel data (past the
// XWD header): a blank screen has one or two.
func distinct(b []byte) int {
	seen := map[byte]bool{}
	if len(b) > 4096 {
		b = b[4096:]
	}
	for _, c := range b {
		seen[c] = true
	}
	return len(seen)
}
