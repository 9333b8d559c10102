package docker_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-app/berth/docker"
)

// startReady runs script in the sandbox and returns once it printed
// "ready", with the channel its result arrives on.
func startReady(t *testing.T, c *docker.Client, id string, ctx context.Context, req docker.ExecRequest, script string) <-chan docker.ExecResult {
	t.Helper()
	ready := make(chan struct{})
	var once sync.Once
	var mu sync.Mutex
	var seen strings.Builder
	req.Argv = []string{"sh", "-c", script}
	req.Timeout = 60 * time.Second
	req.OnOutput = func(_ docker.Stream, p []byte) {
		mu.Lock()
		seen.Write(p)
		if strings.Contains(seen.String(), "ready") {
			once.Do(func() { close(ready) })
		}
		mu.Unlock()
	}
	done := make(chan docker.ExecResult, 1)
	go func() {
		res, err := c.Exec(ctx, id, req)
		if err != nil && !res.Canceled {
			t.Errorf("exec: %v", err)
		}
		done <- res
	}()
	select {
	case <-ready:
	case res := <-done:
		t.Fatalf("ended before it was ready: exit %d, %q %q", res.ExitCode, res.Stdout, res.Stderr)
	case <-time.After(30 * time.Second):
		t.Fatal("the command never said ready")
	}
	return done
}

// TestSignals: a signal sent from the host reaches a shell's trap inside
// the sandbox, through the helper and through docker exec; a cancel with a
// grace period lets a command clean up after SIGTERM, and one that ignores
// SIGTERM is still killed, within a bounded time.
func TestSignals(t *testing.T) {
	t.Parallel()
	c, side, sb := helperSandbox(t)
	for _, path := range []struct {
		name string
		c    *docker.Client
	}{{docker.PathHelper, c}, {docker.PathDockerExec, side}} {
		t.Run(path.name, func(t *testing.T) {
			t.Run("trap sees the signals", func(t *testing.T) {
				sigs := make(chan docker.Signal, 2)
				done := startReady(t, path.c, sb.ID, context.Background(), docker.ExecRequest{Signals: sigs},
					`trap 'echo got USR1' USR1; trap 'echo got TERM; exit 7' TERM; echo ready; while :; do sleep 0.05; done`)
				sigs <- docker.SIGUSR1
				sigs <- docker.SIGTERM
				res := <-done
				if res.ExitCode != 7 || !strings.Contains(res.Stdout.String(), "got TERM") {
					t.Errorf("got exit %d, stdout %q; want the TERM trap's exit 7", res.ExitCode, res.Stdout)
				}
				t.Logf("%s: SIGUSR1 and SIGTERM from the host → the shell's traps printed %q, exit %d", path.name, strings.TrimSpace(res.Stdout.String()), res.ExitCode)
			})
			t.Run("cancel with a grace period", func(t *testing.T) {
				ctx, cancel := context.WithCancel(context.Background())
				done := startReady(t, path.c, sb.ID, ctx, docker.ExecRequest{Grace: 20 * time.Second},
					`trap 'echo cleaned up; exit 0' TERM; echo ready; while :; do sleep 0.05; done`)
				cancel()
				res := <-done
				if !res.Canceled || !strings.Contains(res.Stdout.String(), "cleaned up") {
					t.Errorf("got canceled %v, stdout %q; want the TERM trap to run", res.Canceled, res.Stdout)
				}
				t.Logf("%s: cancel → SIGTERM first: the command printed %q and the call ended in %s", path.name, strings.TrimSpace(res.Stdout.String()), res.Duration.Round(time.Millisecond))
			})
			t.Run("a command that ignores SIGTERM is killed after the grace", func(t *testing.T) {
				ctx, cancel := context.WithCancel(context.Background())
				done := startReady(t, path.c, sb.ID, ctx, docker.ExecRequest{Grace: 500 * time.Millisecond},
					`trap '' TERM; echo ready; while :; do sleep 0.05; done`)
				cancel()
				select {
				case res := <-done:
					if !res.Canceled || res.ExitCode != 137 {
						t.Errorf("got canceled %v, exit %d; want killed (137)", res.Canceled, res.ExitCode)
					}
					t.Logf("%s: a command ignoring SIGTERM → killed after its grace, exit %d, in %s", path.name, res.ExitCode, res.Duration.Round(time.Millisecond))
				case <-time.After(60 * time.Second):
					t.Fatal("the canceled call did not end")
				}
				if left := run(t, side, sb.ID, "sh", "-c", "ps -o args | grep -c '[w]hile :' || true").Stdout.String(); strings.TrimSpace(left) != "0" {
					t.Errorf("%s processes of the command left", strings.TrimSpace(left))
				}
			})
		})
	}
}
