package docker_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"testing"
	"time"

	"github.com/berth-app/berth/docker"
	"github.com/berth-app/berth/docker/dockertest"
)

// latencies runs fn n times (after one warm-up) and returns the durations.
func latencies(t *testing.T, n int, fn func() error) []time.Duration {
	t.Helper()
	if err := fn(); err != nil {
		t.Fatal(err)
	}
	out := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		start := time.Now()
		if err := fn(); err != nil {
			t.Fatal(err)
		}
		out = append(out, time.Since(start))
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func pct(d []time.Duration, p float64) time.Duration {
	return d[int(float64(len(d)-1)*p)]
}

// TestPerfSandboxStartVsWarmExec prints what a tool call costs in a warm
// sandbox versus starting a container per call (NanoClaw's model). It runs
// only under `make bench` (BERTH_BENCH=1): timings are measured, never
// asserted.
func TestPerfSandboxStartVsWarmExec(t *testing.T) {
	if os.Getenv("BERTH_BENCH") == "" {
		dockertest.SkipDeliberately(t, "a measurement, not a test: run `make bench`")
	}
	c := dockertest.Client(t)
	ctx := context.Background()
	n := 40
	sb := newSandbox(t, c, nil)

	warm := latencies(t, n*5, func() error {
		res, err := c.Exec(ctx, sb.ID, docker.ExecRequest{Argv: []string{"true"}})
		if err == nil && res.ExitCode != 0 {
			err = fmt.Errorf("exit %d", res.ExitCode)
		}
		return err
	})
	spec := docker.Spec{Image: dockertest.TestImage, Home: testHome(t), Group: "bench", Session: "s",
		Mounts: []docker.Mount{{Host: t.TempDir(), Container: docker.GroupDir}}}
	create := latencies(t, n, func() error {
		s, err := c.CreateSandbox(ctx, spec)
		if err != nil {
			return err
		}
		return c.RemoveSandbox(ctx, s.ID)
	})
	rows := []struct {
		name string
		d    []time.Duration
	}{
		{"warm tool call: exec `true` in a running sandbox", warm},
		{"create+start a hardened sandbox (then remove)", create},
	}
	if _, err := exec.LookPath("docker"); err == nil {
		runRm := latencies(t, n, func() error {
			return exec.Command("docker", "run", "--rm", "--network", "none", dockertest.TestImage, "true").Run()
		})
		runD := latencies(t, n, func() error {
			out, err := exec.Command("docker", "run", "-d", "--network", "none", dockertest.TestImage, "sleep", "60").Output()
			if err != nil {
				return err
			}
			return exec.Command("docker", "rm", "-f", string(out[:12])).Run()
		})
		cliExec := latencies(t, n, func() error {
			return exec.Command("docker", "exec", sb.ID, "true").Run()
		})
		cliWrapped := latencies(t, n, func() error {
			return exec.Command("docker", "exec", sb.ID, "/bin/sh", "-c", docker.ReapWrapper, "berth-exec", "true").Run()
		})
		rows = append(rows,
			struct {
				name string
				d    []time.Duration
			}{"`docker exec SANDBOX true` (docker CLI, same engine)", cliExec},
			struct {
				name string
				d    []time.Duration
			}{"the same, under Berth's reap wrapper", cliWrapped},
			struct {
				name string
				d    []time.Duration
			}{"`docker run --rm IMAGE true` (container per call)", runRm},
			struct {
				name string
				d    []time.Duration
			}{"`docker run -d` + `docker rm -f` (docker CLI)", runD})
	}
	ref := pct(warm, 0.5)
	fmt.Printf("\nSandbox start versus warm exec (%d runs each, warm exec %d runs; engine at %s)\n", n, n*5, c.Endpoint().Host)
	fmt.Printf("%-54s %9s %9s %10s\n", "operation", "p50", "p95", "p50 ratio")
	for _, r := range rows {
		fmt.Printf("%-54s %9s %9s %9.1fx\n", r.name, pct(r.d, 0.5).Round(10*time.Microsecond), pct(r.d, 0.95).Round(10*time.Microsecond),
			float64(pct(r.d, 0.5))/float64(ref))
	}
	fmt.Println()
}

// TestPerfGateLatency prints how fast the monitor notices the engine going
// away (the socket cut by a proxy) and coming back. Run by `make bench`.
func TestPerfGateLatency(t *testing.T) {
	if os.Getenv("BERTH_BENCH") == "" {
		dockertest.SkipDeliberately(t, "a measurement, not a test: run `make bench`")
	}
	real := dockertest.Client(t)
	proxy := dockertest.NewProxy(t, real.Endpoint().Host)
	c, err := docker.NewAt(docker.Endpoint{Host: proxy.Host(), Source: "bench proxy"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	m := docker.NewMonitor(c, docker.MonitorConfig{Image: dockertest.TestImage})
	ch, cancel := m.Subscribe()
	defer cancel()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go m.Run(ctx)
	await := func(want docker.State) {
		for st := range ch {
			if st.State == want {
				return
			}
		}
	}
	await(docker.Ready)
	var down, up []time.Duration
	for i := 0; i < 15; i++ {
		time.Sleep(300 * time.Millisecond) // the event stream is open again
		start := time.Now()
		proxy.Cut()
		await(docker.Down)
		down = append(down, time.Since(start))
		time.Sleep(100 * time.Millisecond)
		start = time.Now()
		proxy.Restore()
		await(docker.Ready)
		up = append(up, time.Since(start))
	}
	sort.Slice(down, func(i, j int) bool { return down[i] < down[j] })
	sort.Slice(up, func(i, j int) bool { return up[i] < up[j] })
	fmt.Printf("\nHealth gate (15 cuts of the engine socket; ping period 2 s, retry 200 ms → 1 s)\n")
	fmt.Printf("%-54s %9s %9s %22s\n", "", "p50", "p95", "faster than a 2 s ping")
	fmt.Printf("%-54s %9s %9s %21.0fx\n", "Docker down detected (event stream ends)", pct(down, 0.5).Round(10*time.Microsecond), pct(down, 0.95).Round(10*time.Microsecond), float64(2*time.Second)/float64(pct(down, 0.5)))
	fmt.Printf("%-54s %9s %9s %21.0fx\n", "Docker back: ready again", pct(up, 0.5).Round(time.Millisecond), pct(up, 0.95).Round(time.Millisecond), float64(2*time.Second)/float64(pct(up, 0.5)))
	fmt.Println()
}
