package docker_test

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-app/berth/docker"
	"github.com/berth-app/berth/docker/dockertest"
)

func TestExec(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	sb := newSandbox(t, c, nil)
	ctx := context.Background()

	t.Run("exit codes", func(t *testing.T) {
		for _, code := range []string{"0", "1", "42"} {
			res := run(t, c, sb.ID, "sh", "-c", "exit "+code)
			if got := strconv.Itoa(res.ExitCode); got != code {
				t.Errorf("exit %s: got %s", code, got)
			}
		}
		res := run(t, c, sb.ID, "sh", "-c", "echo out; echo err >&2; exit 42")
		if res.ExitCode != 42 || res.Stdout.String() != "out\n" || res.Stderr.String() != "err\n" {
			t.Errorf("got exit %d stdout %q stderr %q, want 42 out err", res.ExitCode, res.Stdout, res.Stderr)
		}
		if res.Duration <= 0 {
			t.Errorf("duration not measured")
		}
	})
	t.Run("missing program", func(t *testing.T) {
		res, err := c.Exec(ctx, sb.ID, docker.ExecRequest{Argv: []string{"no-such-program"}})
		if err != nil {
			t.Fatal(err)
		}
		if res.ExitCode != 126 && res.ExitCode != 127 {
			t.Errorf("got exit %d, want 126 or 127", res.ExitCode)
		}
	})
	t.Run("stdin", func(t *testing.T) {
		in := strings.Repeat("line of input\n", 10000)
		res, err := c.Exec(ctx, sb.ID, docker.ExecRequest{Argv: []string{"wc", "-c"}, Stdin: strings.NewReader(in)})
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSpace(res.Stdout.String()); got != "140000" {
			t.Errorf("got %q bytes counted, want 140000", got)
		}
	})
	t.Run("env and workdir", func(t *testing.T) {
		res, err := c.Exec(ctx, sb.ID, docker.ExecRequest{Argv: []string{"sh", "-c", "echo $GREETING; pwd"}, Env: []string{"GREETING=hi"}, WorkDir: "/tmp"})
		if err != nil {
			t.Fatal(err)
		}
		if res.Stdout.String() != "hi\n/tmp\n" {
			t.Errorf("got %q", res.Stdout)
		}
	})
	t.Run("timeout kills the whole tree", func(t *testing.T) {
		res, err := c.Exec(ctx, sb.ID, docker.ExecRequest{
			Argv:    []string{"sh", "-c", "echo started; (sleep 300 &); sleep 300"},
			Timeout: 500 * time.Millisecond,
		})
		if err != nil {
			t.Fatal(err)
		}
		if !res.TimedOut || res.ExitCode == 0 {
			t.Errorf("got timed out %v exit %d, want a killed command", res.TimedOut, res.ExitCode)
		}
		if res.Stdout.String() != "started\n" {
			t.Errorf("output before the timeout was lost: %q", res.Stdout)
		}
		left := run(t, c, sb.ID, "sh", "-c", "ps -o comm | grep -c '^sleep$' || true").Stdout.String()
		// One sleep is the sandbox's own main process.
		if strings.TrimSpace(left) != "1" {
			t.Errorf("sleep processes left: %s, want only the sandbox's own", left)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		time.AfterFunc(300*time.Millisecond, cancel)
		res, err := c.Exec(cctx, sb.ID, docker.ExecRequest{Argv: []string{"sleep", "300"}})
		if !errors.Is(err, context.Canceled) || !res.Canceled {
			t.Errorf("got %v canceled=%v, want context.Canceled", err, res.Canceled)
		}
	})
	t.Run("output cap keeps head and tail", func(t *testing.T) {
		res, err := c.Exec(ctx, sb.ID, docker.ExecRequest{
			Argv:      []string{"sh", "-c", "echo FIRST; seq 1 100000; echo LAST"},
			OutputCap: 4096,
		})
		if err != nil {
			t.Fatal(err)
		}
		out := res.Stdout
		if !out.Truncated || !strings.HasPrefix(out.String(), "FIRST\n1\n") || !strings.HasSuffix(out.String(), "100000\nLAST\n") {
			t.Errorf("got truncated=%v %q…%q", out.Truncated, first(out.String(), 20), last(out.String(), 20))
		}
		if out.Total != 588906 {
			t.Errorf("total: got %d, want 588906", out.Total)
		}
		if len(out.Data) > 4096+200 {
			t.Errorf("kept %d bytes, cap 4096", len(out.Data))
		}
	})
	t.Run("non-UTF-8 output survives", func(t *testing.T) {
		res := run(t, c, sb.ID, "printf", `\377\376\000ok\303`)
		if want := []byte{0xff, 0xfe, 0x00, 'o', 'k', 0xc3}; !bytes.Equal(res.Stdout.Data, want) {
			t.Errorf("got %v, want %v", res.Stdout.Data, want)
		}
	})
	t.Run("streaming", func(t *testing.T) {
		var mu sync.Mutex
		var chunks []string
		res, err := c.Exec(ctx, sb.ID, docker.ExecRequest{
			Argv: []string{"sh", "-c", "echo one; sleep 0.2; echo two >&2"},
			OnOutput: func(s docker.Stream, p []byte) {
				mu.Lock()
				defer mu.Unlock()
				chunks = append(chunks, map[docker.Stream]string{docker.Stdout: "out:", docker.Stderr: "err:"}[s]+string(p))
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		if strings.Join(chunks, "") != "out:one\nerr:two\n" || res.ExitCode != 0 {
			t.Errorf("got chunks %q", chunks)
		}
	})
}

func TestExecBadInput(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	sb := newSandbox(t, c, nil)
	ctx := context.Background()
	cases := []struct {
		name string
		id   string
		argv []string
		want error
	}{
		{"empty command", sb.ID, nil, docker.ErrEmptyCommand},
		{"empty program", sb.ID, []string{""}, docker.ErrEmptyCommand},
		{"1 MB argument", sb.ID, []string{"echo", strings.Repeat("x", 1<<20)}, docker.ErrArgTooLong},
		{"missing sandbox", "0123456789abcdef", []string{"true"}, docker.ErrSandboxGone},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Exec(ctx, tc.id, docker.ExecRequest{Argv: tc.argv})
			if !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
	t.Run("stopped then removed sandbox", func(t *testing.T) {
		sb2 := newSandbox(t, c, func(s *docker.Spec) { s.Session = "s2" })
		if err := c.StopSandbox(ctx, sb2.ID); err != nil {
			t.Fatal(err)
		}
		_, err := c.Exec(ctx, sb2.ID, docker.ExecRequest{Argv: []string{"true"}})
		if !errors.Is(err, docker.ErrSandboxGone) && !errors.Is(err, docker.ErrSandboxNotRunning) {
			t.Errorf("got %v, want sandbox gone or not running", err)
		}
	})
	t.Run("sandbox killed mid-exec", func(t *testing.T) {
		sb3 := newSandbox(t, c, func(s *docker.Spec) { s.Session = "s3" })
		time.AfterFunc(300*time.Millisecond, func() { _ = c.KillSandbox(context.Background(), sb3.ID) })
		res, err := c.Exec(ctx, sb3.ID, docker.ExecRequest{Argv: []string{"sleep", "30"}})
		if err == nil && res.ExitCode == 0 {
			t.Errorf("a command in a killed sandbox reported success")
		}
	})
}

func first(s string, n int) string {
	if len(s) < n {
		return s
	}
	return s[:n]
}

func last(s string, n int) string {
	if len(s) < n {
		return s
	}
	return s[len(s)-n:]
}
