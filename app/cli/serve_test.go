package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-app/berth/app/assistant"
	"github.com/berth-app/berth/docker/dockertest"
)

// syncBuffer is a bytes.Buffer safe for a goroutine writing while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServeAndControl runs `berth serve` and drives it from other commands
// through its control socket; commands that would write beside it refuse.
func TestServeAndControl(t *testing.T) {
	dockertest.Client(t)
	dir := withHome(t)
	ctx, stop := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan int)
	go func() { done <- Run(ctx, []string{"serve"}, IO{In: strings.NewReader(""), Out: &out, Err: &out}) }()
	sock := filepath.Join(dir, "data", "berth.sock")
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "assistant ready") {
		if time.Now().After(deadline) {
			t.Fatalf("serve did not get ready:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("control socket: %v %v", fi, err)
	}

	if r := berth(t, "pause", "lunch"); r.code != 0 || !strings.Contains(r.out, "paused the running Berth") {
		t.Errorf("pause: %d %q %q", r.code, r.out, r.err)
	}
	for !strings.Contains(out.String(), "assistant blocked — the assistant is paused (lunch)") {
		if time.Now().After(deadline) {
			t.Fatalf("serve did not report the pause:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if r := berth(t, "exec", "true"); r.code == 0 || !strings.Contains(r.err, "Berth is already running (pid ") {
		t.Errorf("a second writer beside serve: %d %q", r.code, r.err)
	}
	if r := berth(t, "audit", "verify"); r.code != 0 {
		t.Errorf("read-only audit beside serve: %d %q %q", r.code, r.out, r.err)
	}
	if r := berth(t, "resume"); r.code != 0 || !strings.Contains(r.out, "resumed the running Berth") {
		t.Errorf("resume: %d %q %q", r.code, r.out, r.err)
	}
	if r := berth(t, "sandbox", "rotate"); r.code != 0 || !strings.Contains(r.out, "rotating 0 sandboxes") {
		t.Errorf("rotate: %d %q %q", r.code, r.out, r.err)
	}
	stop()
	if code := <-done; code != 0 {
		t.Errorf("serve exit %d:\n%s", code, out.String())
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("the control socket outlived serve: %v", err)
	}
	r := berth(t, "audit", "tail", "-n", "50")
	for _, k := range []string{assistant.AuditAppStart, assistant.AuditDockerPrefix + string(assistant.DockerReady), assistant.AuditPaused, assistant.AuditResumed, assistant.AuditAppStop} {
		if !strings.Contains(r.out, k) {
			t.Errorf("audit lacks %s:\n%s", k, r.out)
		}
	}
}

// TestPauseWithoutARunningBerth: the flag holds for the next command.
func TestPauseWithoutARunningBerth(t *testing.T) {
	dockertest.Client(t)
	withHome(t)
	if r := berth(t, "pause"); r.code != 0 || !strings.Contains(r.out, "paused:") {
		t.Fatalf("pause: %d %q %q", r.code, r.out, r.err)
	}
	if r := berth(t, "exec", "true"); r.code != ExitGateClosed || !strings.Contains(r.err, "paused") || !strings.Contains(r.err, "berth resume") {
		t.Errorf("exec while paused: %d %q", r.code, r.err)
	}
	if r := berth(t, "resume"); r.code != 0 {
		t.Fatalf("resume: %d %q", r.code, r.err)
	}
	if r := berth(t, "exec", "true"); r.code != 0 {
		t.Errorf("exec after resume: %d %q", r.code, r.err)
	}
}
