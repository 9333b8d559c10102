package docker_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/berth-app/berth/docker"
	"github.com/berth-app/berth/docker/dockertest"
)

// TestSweepSparesACommandRunningBesideIt runs short commands (each followed
// by the sweep that kills what it left) while a long command runs in the
// same sandbox with a child, a child in its own session and an orphan of
// its session: the long command and all of these must live to finish.
func TestSweepSparesACommandRunningBesideIt(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	sb := newSandbox(t, c, nil)
	type outcome struct {
		res docker.ExecResult
		err error
	}
	long := make(chan outcome, 1)
	go func() {
		res, err := c.Exec(context.Background(), sb.ID, docker.ExecRequest{Timeout: time.Minute, Argv: []string{"sh", "-c",
			`(sleep 1.5; echo child-done) &
setsid sh -c 'sleep 1.5; echo own-session-done' &
( (sleep 1.5; echo orphan-done) & )
sleep 2.5; echo long-done`}})
		long <- outcome{res, err}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(run(t, c, sb.ID, "ps", "-o", "args").Stdout.String(), "sleep 1.5") {
		if time.Now().After(deadline) {
			t.Fatal("the long command's children never showed up")
		}
	}
	for range 5 {
		run(t, c, sb.ID, "true")
	}
	got := <-long
	if got.err != nil {
		t.Fatalf("the long command: %v", got.err)
	}
	out := got.res.Stdout.String()
	for _, want := range []string{"child-done", "own-session-done", "orphan-done", "long-done"} {
		if !strings.Contains(out, want) {
			t.Errorf("the long command's output lacks %q: %q", want, out)
		}
	}
	if after := run(t, c, sb.ID, "ps", "-o", "args").Stdout.String(); strings.Contains(after, "sleep 1.5") || strings.Contains(after, "sleep 2.5") {
		t.Errorf("the long command's processes outlived it: %q", after)
	}
}
