package desktop_test

import (
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
	bin := filepath.Join(dir, "berth")
	if b, err := exec.Command("go", "build", "-o", bin, "../../..").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, b)
	}
	display := startXvfb(t)
	bus := startBus(t, dir)
	conn, err := dbus.Connect(bus)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var ready []time.Duration
	var rssMB, cpuPct float64
	for i := 0; i < 5; i++ {
		run := filepath.Join(dir, fmt.Sprint(i))
		for _, d := range []string{"xdg-config", "xdg-cache", "xdg-data"} {
			os.MkdirAll(filepath.Join(run, d), 0o700)
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
			time.Sleep(3 * time.Second)
			c0 := ticks(t, app.Process.Pid)
			time.Sleep(10 * time.Second)
			cpuPct = float64(ticks(t, app.Process.Pid)-c0) / 100 / 10 * 100
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
	fmt.Printf("%-54s %9.1f MB\n", "idle resident memory (window open)", rssMB)
	fmt.Printf("%-54s %9.2f %% of one core\n\n", "idle CPU over 10 s", cpuPct)
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

func rssOf(t *testing.T, pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb
		}
	}
	return 0
}
