package docker_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/berth-app/berth/docker"
	"github.com/berth-app/berth/docker/dockertest"
)

// waitFor reads transitions until one has the wanted state, failing after d.
func waitFor(t *testing.T, ch <-chan docker.Status, want docker.State, d time.Duration) docker.Status {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case st := <-ch:
			if st.State == want {
				return st
			}
		case <-deadline:
			t.Fatalf("no %s within %s", want, d)
			return docker.Status{}
		}
	}
}

// TestGateFollowsTheEngine cuts the engine's socket behind a proxy, as if
// the daemon died, and restores it.
func TestGateFollowsTheEngine(t *testing.T) {
	real := dockertest.Client(t)
	proxy := dockertest.NewProxy(t, real.Endpoint().Host)
	c, err := docker.NewAt(docker.Endpoint{Host: proxy.Host(), Source: "test proxy"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// A long ping period: only the event stream ending can tell the monitor
	// that the engine has gone.
	m := docker.NewMonitor(c, docker.MonitorConfig{Image: dockertest.TestImage, Interval: time.Hour})
	ch, cancel := m.Subscribe()
	defer cancel()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go m.Run(ctx)

	st := waitFor(t, ch, docker.Ready, 10*time.Second)
	if !st.ImagePresent || st.EngineVersion == "" || st.APIVersion == "" {
		t.Errorf("ready status lacks details: %+v", st)
	}
	for deadline := time.Now().Add(30 * time.Second); proxy.Requested("/events") == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the monitor did not ask for the event stream within 30 s")
		}
	}

	cut := time.Now()
	proxy.Cut()
	st = waitFor(t, ch, docker.Down, 30*time.Second)
	t.Logf("down after %s: %s", time.Since(cut).Round(time.Millisecond), st.Reason)
	if !strings.Contains(st.Reason, "not running") || st.Hint == "" {
		t.Errorf("down status: got %+v, want a reason and a hint", st)
	}

	restored := time.Now()
	proxy.Restore()
	waitFor(t, ch, docker.Ready, 30*time.Second)
	t.Logf("ready after %s", time.Since(restored).Round(time.Millisecond))
}

func TestGateWrongHostIsDown(t *testing.T) {
	c, err := docker.NewAt(docker.Endpoint{Host: "unix:///nonexistent/berth/docker.sock", Source: "DOCKER_HOST"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	st := c.Check(context.Background(), dockertest.TestImage, "")
	if st.State != docker.Down || !strings.Contains(st.Reason, "/nonexistent/berth/docker.sock") || !strings.Contains(st.Hint, "start Docker") {
		t.Errorf("got %+v, want down naming the socket with a start hint", st)
	}
}

func TestGateMissingImageIsMisconfigured(t *testing.T) {
	c := dockertest.Client(t)
	st := c.Check(context.Background(), "berth-no-such-image:latest", "")
	if st.State != docker.Misconfigured || st.ImagePresent {
		t.Fatalf("got %+v, want misconfigured", st)
	}
	if st.Reason != "sandbox image berth-no-such-image:latest is missing" || !strings.Contains(st.Hint, "make image") {
		t.Errorf("got reason %q hint %q", st.Reason, st.Hint)
	}
	if st := c.Check(context.Background(), dockertest.TestImage, "no-such-runtime"); st.State != docker.Misconfigured ||
		!strings.Contains(st.Reason, "no-such-runtime") {
		t.Errorf("missing runtime: got %+v", st)
	}
}
