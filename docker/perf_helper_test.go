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

// TestPerfHelper prints what the helper buys: a warm call through it
// versus Berth's docker exec path versus the docker CLI (200 calls each,
// alternated), sandbox start to first call with and without it, and 100 MB
// of output through each path. Run by `make bench`; never asserted.
func TestPerfHelper(t *testing.T) {
	if os.Getenv("BERTH_BENCH") == "" {
		dockertest.SkipDeliberately(t, "a measurement, not a test: run `make bench`")
	}
	ctx := context.Background()
	c := dockertest.Client(t)
	plain, err := docker.NewAt(c.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	dockertest.WithoutHelper(plain)
	sb := newSandbox(t, c, nil)
	if path, why := c.AwaitHelper(ctx, sb.ID); path != docker.PathHelper {
		t.Fatalf("sandbox uses %s (%s), want the helper", path, why)
	}
	call := func(cl *docker.Client, argv ...string) func() error {
		return func() error {
			res, err := cl.Exec(ctx, sb.ID, docker.ExecRequest{Argv: argv})
			if err == nil && res.ExitCode != 0 {
				err = fmt.Errorf("%v: exit %d", argv, res.ExitCode)
			}
			return err
		}
	}
	paths := []struct {
		name string
		fn   func() error
	}{
		{"helper: `true` through the channel", call(c, "true")},
		{"docker exec, Berth's path (reap wrapper, inspect)", call(plain, "true")},
	}
	if _, err := exec.LookPath("docker"); err == nil {
		paths = append(paths, struct {
			name string
			fn   func() error
		}{"`docker exec SANDBOX true` (docker CLI)", func() error { return exec.Command("docker", "exec", sb.ID, "true").Run() }})
	}
	const n = 200
	lat := make([][]time.Duration, len(paths))
	for _, p := range paths { // warm-up
		if err := p.fn(); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < n; i++ {
		for j, p := range paths {
			start := time.Now()
			if err := p.fn(); err != nil {
				t.Fatal(err)
			}
			lat[j] = append(lat[j], time.Since(start))
		}
	}
	ref := time.Duration(0)
	fmt.Printf("\nWarm tool call, %d calls per path, alternated (engine at %s)\n", n, c.Endpoint().Host)
	fmt.Printf("%-54s %9s %9s %16s\n", "path", "p50", "p95", "p50 vs helper")
	for j, p := range paths {
		sort.Slice(lat[j], func(a, b int) bool { return lat[j][a] < lat[j][b] })
		if j == 0 {
			ref = pct(lat[j], 0.5)
		}
		fmt.Printf("%-54s %9s %9s %15.1fx\n", p.name, pct(lat[j], 0.5).Round(10*time.Microsecond), pct(lat[j], 0.95).Round(10*time.Microsecond),
			float64(pct(lat[j], 0.5))/float64(ref))
	}

	// Sandbox start to the first call answered, alternated.
	spec := docker.Spec{Image: dockertest.TestImage, InstallationID: testHome(t), Group: "bench", Session: "s",
		Mounts: []docker.Mount{{Host: t.TempDir(), Container: docker.GroupDir}}}
	var with, without, ready []time.Duration
	for i := 0; i < 20; i++ {
		for _, cl := range []*docker.Client{c, plain} {
			start := time.Now()
			s, err := cl.CreateSandbox(ctx, spec)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := cl.Exec(ctx, s.ID, docker.ExecRequest{Argv: []string{"true"}}); err != nil {
				t.Fatal(err)
			}
			d := time.Since(start)
			if cl == c {
				with = append(with, d)
				if path, why := cl.AwaitHelper(ctx, s.ID); path != docker.PathHelper {
					t.Fatalf("no helper: %s", why)
				}
				ready = append(ready, time.Since(start))
			} else {
				without = append(without, d)
			}
			if err := cl.RemoveSandbox(ctx, s.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, d := range [][]time.Duration{with, without, ready} {
		sort.Slice(d, func(a, b int) bool { return d[a] < d[b] })
	}
	fmt.Printf("\nSandbox create+start to the first call answered (20 each, alternated)\n")
	fmt.Printf("%-54s %9s %9s\n", "", "p50", "p95")
	fmt.Printf("%-54s %9s %9s\n", "with the helper (started in the background at create)", pct(with, 0.5).Round(time.Millisecond), pct(with, 0.95).Round(time.Millisecond))
	fmt.Printf("%-54s %9s %9s\n", "  … and to its helper ready", pct(ready, 0.5).Round(time.Millisecond), pct(ready, 0.95).Round(time.Millisecond))
	fmt.Printf("%-54s %9s %9s\n", "without (docker exec)", pct(without, 0.5).Round(time.Millisecond), pct(without, 0.95).Round(time.Millisecond))

	// 100 MB of output through each path (captured with the default cap,
	// counted whole), 5 rounds alternated: the median and the best.
	const size, rounds = 100 << 20, 5
	var hs, ds []time.Duration
	for i := 0; i < rounds; i++ {
		for _, cl := range []*docker.Client{c, plain} {
			start := time.Now()
			res, err := cl.Exec(ctx, sb.ID, docker.ExecRequest{Argv: []string{"head", "-c", fmt.Sprint(size), "/dev/zero"}})
			if err != nil || res.Stdout.Total != size {
				t.Fatalf("stream: %v, %d bytes", err, res.Stdout.Total)
			}
			if cl == c {
				hs = append(hs, time.Since(start))
			} else {
				ds = append(ds, time.Since(start))
			}
		}
	}
	for _, d := range [][]time.Duration{hs, ds} {
		sort.Slice(d, func(a, b int) bool { return d[a] < d[b] })
	}
	mbps := func(d time.Duration) float64 { return float64(size) / (1 << 20) / d.Seconds() }
	fmt.Printf("\n100 MB of stdout, %d rounds alternated\n", rounds)
	fmt.Printf("%-54s %9s %9s %11s %16s\n", "", "median", "MB/s", "best MB/s", "median vs helper")
	for _, row := range []struct {
		name string
		d    []time.Duration
	}{{"through the helper", hs}, {"through docker exec", ds}} {
		fmt.Printf("%-54s %9s %9.0f %11.0f %15.2fx\n", row.name, pct(row.d, 0.5).Round(time.Millisecond), mbps(pct(row.d, 0.5)), mbps(row.d[0]),
			float64(pct(row.d, 0.5))/float64(pct(hs, 0.5)))
	}
	fmt.Println()
}
