package desktop_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/berth-app/berth/app/home/installtest"
	"github.com/berth-app/berth/app/store"
	"github.com/berth-app/berth/docker/dockertest"
)

// TestPerfDesktop prints how long the desktop app takes from exec to a tray
// that says Docker is ready, and what it costs while idle under Xvfb (RSS,
// CPU), next to `berth serve` measured in the same run. Run by `make bench`.
func TestPerfDesktop(t *testing.T) {
	if os.Getenv("BERTH_BENCH") == "" {
		dockertest.SkipDeliberately(t, "a measurement, not a test: run `make bench`")
	}
	real := dockertest.Client(t)
	dir := t.TempDir()
	bin := berthBinary(t, dir)
	display := startXvfb(t)
	bus := startBus(t, dir)
	conn, err := dbus.Connect(bus)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var ready []time.Duration
	var rssMB, cpuPct, chatMB, closedMB, closedCPU, closedAnon, closedFile, closedPss, closedShared, closedLater float64
	xdotool, _ := exec.LookPath("xdotool")
	for i := 0; i < 5; i++ {
		run := filepath.Join(dir, fmt.Sprint(i))
		for _, d := range []string{"xdg-config", "xdg-cache", "xdg-data"} {
			os.MkdirAll(filepath.Join(run, d), 0o700)
		}
		if i == 0 {
			seedChat(t, filepath.Join(run, "home"), 200)
		}
		app := exec.Command(bin)
		app.Env = append(os.Environ(), "DISPLAY="+display, "DBUS_SESSION_BUS_ADDRESS="+bus, "BERTH_HOME="+filepath.Join(run, "home"),
			"BERTH_IMAGE="+dockertest.TestImage, "DOCKER_HOST="+real.Endpoint().Host, "XDG_CONFIG_HOME="+run+"/xdg-config",
			"XDG_CACHE_HOME="+run+"/xdg-cache", "XDG_DATA_HOME="+run+"/xdg-data", "XDG_RUNTIME_DIR="+run)
		start := time.Now()
		if err := app.Start(); err != nil {
			t.Fatal(err)
		}
		tray := conn.Object(fmt.Sprintf("org.kde.StatusNotifierItem-%d-1", app.Process.Pid), "/StatusNotifierItem/menu")
		eventually(t, 30*time.Second, "a ready tray", func() ([]menuItem, bool) {
			items, err := layout(tray)
			return items, err == nil && len(items) > 0 && strings.HasPrefix(items[0].label, "Docker ready")
		})
		ready = append(ready, time.Since(start))
		if i == 0 {
			// The window opens on the latest chat: the 200 messages seeded.
			time.Sleep(3 * time.Second)
			c0 := ticks(t, app.Process.Pid)
			time.Sleep(10 * time.Second)
			cpuPct = float64(ticks(t, app.Process.Pid)-c0) / 100 / 10 * 100
			chatMB = rssOf(t, app.Process.Pid) / 1024
			if xdotool != "" {
				// Ctrl+W closes the window to the tray, as a user would.
				xdo := func(args ...string) ([]byte, error) {
					c := exec.Command(xdotool, args...)
					c.Env = append(os.Environ(), "DISPLAY="+display)
					return c.CombinedOutput()
				}
				pid := fmt.Sprint(app.Process.Pid)
				if out, err := xdo("search", "--sync", "--onlyvisible", "--pid", pid, "--name", "^Berth$",
					"windowfocus", "--sync"); err != nil {
					t.Fatalf("xdotool: %v: %s", err, out)
				}
				// A key of its own (XTEST), not chained to the window:
				// Ctrl+W destroys the window before the key's release.
				if out, err := xdo("key", "ctrl+w"); err != nil {
					t.Fatalf("xdotool: %v: %s", err, out)
				}
				waitFor(t, 30*time.Second, "Ctrl+W to close the chat window", func() bool {
					_, err := xdo("search", "--onlyvisible", "--pid", pid, "--name", "^Berth$")
					return err != nil
				})
				time.Sleep(5 * time.Second)
				c0 := ticks(t, app.Process.Pid)
				time.Sleep(10 * time.Second)
				closedCPU = float64(ticks(t, app.Process.Pid)-c0) / 100 / 10 * 100
				closedMB = rssOf(t, app.Process.Pid) / 1024
				closedAnon = statusKB(t, app.Process.Pid, "RssAnon:") / 1024
				closedFile = statusKB(t, app.Process.Pid, "RssFile:") / 1024
				closedPss = rollupKB(t, app.Process.Pid, "Pss:") / 1024
				closedShared = (rollupKB(t, app.Process.Pid, "Shared_Clean:") + rollupKB(t, app.Process.Pid, "Shared_Dirty:")) / 1024
				time.Sleep(45 * time.Second) // what the tray's idle work brings back
				closedLater = rssOf(t, app.Process.Pid) / 1024
			}
		}
		if i == 1 {
			time.Sleep(3 * time.Second)
			rssMB = rssOf(t, app.Process.Pid) / 1024
		}
		app.Process.Signal(syscall.SIGTERM)
		app.Process.Kill()
		app.Wait()
	}
	sort.Slice(ready, func(i, j int) bool { return ready[i] < ready[j] })
	fmt.Printf("\nThe desktop app under Xvfb (5 starts, fresh BERTH_HOME each; software GL)\n")
	fmt.Printf("%-54s %9s %9s\n", "", "p50", "max")
	fmt.Printf("%-54s %9s %9s\n", "exec to a tray that says \"Docker ready\"", ready[2].Round(time.Millisecond), ready[4].Round(time.Millisecond))
	fmt.Printf("%-54s %9.1f MB\n", "idle resident memory (window open, empty chat)", rssMB)
	fmt.Printf("%-54s %9.1f MB\n", "idle resident memory (window open, a 200-message chat)", chatMB)
	fmt.Printf("%-54s %9.2f %% of one core\n", "idle CPU over 10 s (window open)", cpuPct)
	if xdotool == "" {
		fmt.Printf("window closed: not measured (xdotool is not installed)\n\n")
		return
	}
	fmt.Printf("%-54s %9.1f MB\n", "idle resident memory (window closed, tray only)", closedMB)
	fmt.Printf("%-54s %9.1f MB\n", "  of which anonymous (heaps: Go, Mesa, fonts)", closedAnon)
	fmt.Printf("%-54s %9.1f MB\n", "  of which file-backed (the binary, libGL/llvmpipe)", closedFile)
	fmt.Printf("%-54s %9.1f MB\n", "  of which pages other processes map too (Xvfb's GL)", closedShared)
	fmt.Printf("%-54s %9.1f MB\n", "  proportional set size (shared pages split)", closedPss)
	fmt.Printf("%-54s %9.1f MB\n", "  resident a minute after closing", closedLater)
	fmt.Printf("%-54s %9.2f %% of one core\n\n", "idle CPU over 10 s (window closed)", closedCPU)
}

// seedChat writes a group with one chat of n messages (questions and
// markdown answers) into a fresh BERTH_HOME, as the store keeps them.
func seedChat(t *testing.T, root string, n int) {
	t.Helper()
	_, st := installtest.Open(t, root, store.Options{})
	defer st.Close()
	ctx := context.Background()
	if _, err := st.CreateGroup(ctx, store.Group{Slug: "main", Name: "Main", Settings: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateSession(ctx, store.Session{ID: "bench", Group: "main", Title: "A long chat"}); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		m := store.Message{Session: "bench", Role: "user", Status: "done", Content: fmt.Sprintf("Question %d: what does the build do?", i)}
		if i%2 == 1 {
			m = store.Message{Session: "bench", Role: "assistant", Content: fmt.Sprintf(`{"parts":[{"Kind":"text","Text":"Answer %d: it runs **go vet**, then the tests:\n\n- unit\n- integration\n\nand prints a summary."}]}`, i)}
		}
		if _, err := st.AddMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
}

func ticks(t *testing.T, pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b)[strings.LastIndexByte(string(b), ')')+2:])
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return u + s
}

func rssOf(t *testing.T, pid int) float64 { return statusKB(t, pid, "VmRSS:") }

// rollupKB reads one kB figure of /proc/PID/smaps_rollup ("Pss:",
// "Shared_Clean:").
func rollupKB(t *testing.T, pid int, field string) float64 {
	return kBField(t, fmt.Sprintf("/proc/%d/smaps_rollup", pid), field)
}

// statusKB reads one kB figure of /proc/PID/status ("VmRSS:", "RssAnon:",
// "RssFile:").
func statusKB(t *testing.T, pid int, field string) float64 {
	return kBField(t, fmt.Sprintf("/proc/%d/status", pid), field)
}

// kBField reads one "Name: N kB" line of a /proc file.
func kBField(t *testing.T, path, field string) float64 {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb
		}
	}
	return 0
}
