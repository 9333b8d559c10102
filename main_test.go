package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-app/berth/app/ui/desktop/racelog"
	"github.com/berth-app/berth/docker/dockertest/need"
)

// asMain makes this test binary berth itself: the tests below run it as a
// separate process, through main's own wiring.
const asMain = "BERTH_TEST_AS_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(asMain) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// berthEnv is the environment of a berth run by these tests: its own
// home, no display, no session bus, no XDG_RUNTIME_DIR, plus extra.
func berthEnv(t *testing.T, extra ...string) []string {
	drop := []string{"DISPLAY", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE", "DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR", "BERTH_HOME"}
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		name, _, _ := strings.Cut(kv, "=")
		return slices.Contains(drop, name)
	})
	return append(env, append([]string{racelog.Env(t), asMain + "=1", "BERTH_HOME=" + filepath.Join(t.TempDir(), "home")}, extra...)...)
}

// TestNoDisplay runs `berth` with no arguments where there is no display
// (SSH, a server): it says so and what to use instead, exits 2, and GLFW
// never starts (before issue 19 it panicked with a GLFW stack trace).
func TestNoDisplay(t *testing.T) {
	env := berthEnv(t)
	cmd := exec.Command(os.Args[0])
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	exit, _ := err.(*exec.ExitError)
	if exit == nil || exit.ExitCode() != 2 {
		t.Fatalf("berth with no display: %v, want exit 2\n%s", err, stderr.String())
	}
	t.Logf("berth with no display (exit 2): %s", strings.SplitN(stderr.String(), "\n", 2)[0])
	for _, want := range []string{"no display", "berth serve", "berth service install", "berth chat"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr does not mention %q:\n%s", want, stderr.String())
		}
	}
	for _, bad := range []string{"panic", "goroutine", "GLFW", "XDG_RUNTIME_DIR"} {
		if strings.Contains(stderr.String()+stdout.String(), bad) {
			t.Errorf("output holds %q:\n%s%s", bad, stdout.String(), stderr.String())
		}
	}
	home := strings.TrimPrefix(env[len(env)-1], "BERTH_HOME=")
	if _, err := os.Stat(home); !os.IsNotExist(err) {
		t.Errorf("berth with no display touched its home %s: %v", home, err)
	}
}

// TestDesktopWithoutTrayHost starts the real desktop app on an X server
// (Xvfb) where the tray cannot work — with no session bus at all, and with a
// bus but nothing that shows tray icons — and with no XDG_RUNTIME_DIR, as
// `make run` on a bare machine. The raw library lines ("XDG_RUNTIME_DIR is
// invalid or not set", "systray error: …") become one friendly line, and no
// dbus-daemon is started behind the user's back.
func TestDesktopWithoutTrayHost(t *testing.T) {
	for _, tool := range []string{"Xvfb", "dbus-daemon", "dbus-launch"} {
		if _, err := exec.LookPath(tool); err != nil {
			need.Require(t, false, fmt.Sprintf("%s is not installed (.ci/deps test installs xvfb, dbus and dbus-x11)", tool))
		}
	}
	if _, err := os.Stat(fmt.Sprintf("/run/user/%d/bus", os.Getuid())); err == nil {
		need.Require(t, false, "this machine has a session bus in /run/user, so the no-bus case cannot be made here")
	}
	display := startXvfb(t)
	tests := []struct {
		name string
		bus  bool
		want string
	}{
		{"no session bus", false, "berth: no D-Bus session bus, so no tray icon and no desktop notifications — the chat window works"},
		{"a session bus without a tray host", true, "berth: nothing on this desktop shows tray icons (no org.kde.StatusNotifierWatcher"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mark := fmt.Sprintf("BERTH_TEST_DBUS_MARK=%d-%d", os.Getpid(), time.Now().UnixNano())
			extra := []string{"DISPLAY=" + display, mark}
			if tc.bus {
				extra = append(extra, "DBUS_SESSION_BUS_ADDRESS="+startBus(t))
			}
			cmd := exec.Command(os.Args[0])
			cmd.Env = berthEnv(t, extra...)
			out := &lines{}
			cmd.Stdout, cmd.Stderr = out, out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			got := out.waitFor(t, tc.want, 2*time.Minute)
			cmd.Process.Kill() // then read all it said until now
			cmd.Wait()
			t.Logf("desktop app, %s: %s", tc.name, got)
			for _, bad := range []string{"XDG_RUNTIME_DIR", "systray error", "Fyne error", "panic"} {
				if strings.Contains(out.String(), bad) {
					t.Errorf("output holds %q:\n%s", bad, out.String())
				}
			}
			if n := strings.Count(out.String(), "berth: "); n != 1 {
				t.Errorf("berth said %d lines, want one:\n%s", n, out.String())
			}
			if pids := markedDaemons(mark); len(pids) != 0 {
				t.Errorf("the desktop app started dbus-daemon processes %v", pids)
				for _, p := range pids {
					if pr, err := os.FindProcess(p); err == nil {
						pr.Kill()
					}
				}
			}
		})
	}
}

// startXvfb starts a private X server and returns its display.
func startXvfb(t *testing.T) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	x := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1024x768x24", "-nolisten", "tcp")
	x.ExtraFiles = []*os.File{w}
	if err := x.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() { x.Process.Kill(); x.Wait() })
	n, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		t.Fatalf("Xvfb did not say its display: %v", err)
	}
	return ":" + strings.TrimSpace(n)
}

// startBus starts a private session bus with nothing on it and returns its
// address.
func startBus(t *testing.T) string {
	t.Helper()
	addr := "unix:path=" + filepath.Join(t.TempDir(), "bus")
	d := exec.Command("dbus-daemon", "--session", "--nofork", "--nopidfile", "--address="+addr, "--print-address=1")
	stdout, err := d.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Process.Kill(); d.Wait() })
	got, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("dbus-daemon did not say its address: %v", err)
	}
	return strings.TrimSpace(got)
}

// markedDaemons lists the live dbus-daemon processes whose environment
// holds mark: those a process of this test launched.
func markedDaemons(mark string) []int {
	var pids []int
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		comm, err := os.ReadFile(filepath.Join(p, "comm"))
		if err != nil || strings.TrimSpace(string(comm)) != "dbus-daemon" {
			continue
		}
		environ, err := os.ReadFile(filepath.Join(p, "environ"))
		if err == nil && slices.Contains(strings.Split(string(environ), "\x00"), mark) {
			var pid int
			fmt.Sscan(filepath.Base(p), &pid)
			pids = append(pids, pid)
		}
	}
	return pids
}

// lines collects a process's output for waitFor.
type lines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// waitFor polls until the output holds want, and returns that line.
func (l *lines) waitFor(t *testing.T, want string, within time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(l.String(), "\n") {
			if strings.Contains(line, want) {
				return line
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no line with %q within %v; output:\n%s", want, within, l.String())
	return ""
}
