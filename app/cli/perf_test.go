package cli

import (
	"bufio"
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

	"github.com/berth-app/berth/docker/dockertest"
)

// TestPerfServe prints how long `berth serve` takes from exec to "assistant
// ready", and what it costs while idle (RSS, CPU). The desktop app will add
// its window and tray to these. Run by `make bench`.
func TestPerfServe(t *testing.T) {
	if os.Getenv("BERTH_BENCH") == "" {
		dockertest.SkipDeliberately(t, "a measurement, not a test: run `make bench`")
	}
	dockertest.Client(t)
	bin := filepath.Join(t.TempDir(), "berth")
	if out, err := exec.Command("go", "build", "-o", bin, "../..").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	var ready []time.Duration
	var rssKB, cpu float64
	for i := 0; i < 5; i++ {
		cmd := exec.Command(bin, "serve")
		cmd.Env = append(os.Environ(), "BERTH_HOME="+t.TempDir(), "BERTH_IMAGE="+dockertest.TestImage)
		out, _ := cmd.StdoutPipe()
		start := time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "assistant ready") {
				break
			}
		}
		ready = append(ready, time.Since(start))
		go func() {
			for sc.Scan() {
			}
		}()
		if i == 0 {
			time.Sleep(2 * time.Second)
			c0 := cpuTicks(t, cmd.Process.Pid)
			time.Sleep(10 * time.Second)
			cpu = float64(cpuTicks(t, cmd.Process.Pid)-c0) / 100 / 10 * 100 // percent of one core
			rssKB = rss(t, cmd.Process.Pid)
		}
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}
	p50 := pctl(ready, 0.5)
	fmt.Printf("\n`berth serve` (headless runtime; 5 starts, fresh BERTH_HOME each)\n")
	fmt.Printf("%-54s %9s %9s\n", "", "p50", "max")
	fmt.Printf("%-54s %9s %9s\n", "exec to \"assistant ready\" (DB, migrations, Docker)", p50.Round(time.Millisecond), pctl(ready, 1).Round(time.Millisecond))
	fmt.Printf("%-54s %9.1f MB\n", "idle resident memory", rssKB/1024)
	fmt.Printf("%-54s %9.2f %% of one core (pings every 2 s)\n\n", "idle CPU over 10 s", cpu)
}

func pctl(d []time.Duration, p float64) time.Duration {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[int(float64(len(d)-1)*p)]
}

func cpuTicks(t *testing.T, pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b)[strings.LastIndexByte(string(b), ')')+2:])
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return u + s
}

func rss(t *testing.T, pid int) float64 {
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
