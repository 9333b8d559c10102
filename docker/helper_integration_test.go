package docker_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-app/berth/docker"
	"github.com/berth-app/berth/docker/dockertest"
)

// helperSandbox starts a sandbox whose calls go through the helper and a
// second client on the same engine that uses docker exec only: the
// attacker's and the inspector's way in, which the helper cannot see.
func helperSandbox(t *testing.T) (*docker.Client, *docker.Client, docker.Sandbox) {
	t.Helper()
	c := dockertest.Client(t)
	sb := newSandbox(t, c, nil)
	if path, why := c.AwaitHelper(context.Background(), sb.ID); path != docker.PathHelper {
		t.Fatalf("sandbox uses %s (%s), want the helper", path, why)
	}
	side, err := docker.NewAt(c.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { side.Close() })
	return c, dockertest.WithoutHelper(side), sb
}

// sleepers lists the sleep processes of a sandbox other than its main one,
// as "pid:args" (through docker exec, not through the helper).
func sleepers(t *testing.T, side *docker.Client, id string) []string {
	t.Helper()
	out := run(t, side, id, "sh", "-c", `for d in /proc/[0-9]*; do
  a=$(tr '\0' ' ' < $d/cmdline 2>/dev/null); case "$a" in "sleep 600 ") ;; sleep*) echo "${d#/proc/}:$a";; esac
done`).Stdout.String()
	return strings.Fields(strings.ReplaceAll(out, " \n", "\n"))
}

func helperPid(t *testing.T, side *docker.Client, id string) string {
	t.Helper()
	out := run(t, side, id, "sh", "-c", `for d in /proc/[0-9]*; do
  [ "$(tr '\0' ' ' < $d/cmdline 2>/dev/null)" = "`+docker.HelperPath+` " ] && echo ${d#/proc/}
done`).Stdout.String()
	if f := strings.Fields(out); len(f) == 1 {
		return f[0]
	}
	t.Fatalf("want one helper process, got %q", out)
	return ""
}

func TestHelperPathIsUsedAndReported(t *testing.T) {
	t.Parallel()
	c, side, sb := helperSandbox(t)
	ctx := context.Background()
	res := run(t, c, sb.ID, "sh", "-c", "echo $BERTH_EXEC; cat /proc/self/status | grep -c NoNewPrivs")
	if res.ExitCode != 0 || len(strings.Fields(res.Stdout.String())) != 2 {
		t.Errorf("got %d %q", res.ExitCode, res.Stdout)
	}
	path, why := c.ExecPath(ctx, sb.ID)
	if path != docker.PathHelper || !strings.Contains(why, "running") {
		t.Errorf("got %s (%s), want a running helper", path, why)
	}
	path, why = side.ExecPath(ctx, sb.ID)
	if path != docker.PathDockerExec || !strings.Contains(why, "turned off") {
		t.Errorf("fallback client: got %s (%s)", path, why)
	}
	// Only the helper's tmpfs may run programs: /tmp and home stay noexec.
	res = run(t, c, sb.ID, "sh", "-c", "cp /bin/busybox /tmp/bb && /tmp/bb true; echo tmp=$?; cp /bin/busybox ~/bb && ~/bb true; echo home=$?")
	if !strings.Contains(res.Stdout.String(), "tmp=126") || !strings.Contains(res.Stdout.String(), "home=126") {
		t.Errorf("a copied program ran outside %s: %q %q", docker.HelperDir, res.Stdout, res.Stderr)
	}
	t.Logf("attack: copy busybox into /tmp and ~ and run it → %s", strings.ReplaceAll(strings.TrimSpace(res.Stdout.String()), "\n", ", "))
}

func TestHelperKilledMidCall(t *testing.T) {
	t.Parallel()
	c, side, sb := helperSandbox(t)
	pid := helperPid(t, side, sb.ID)
	got := make(chan error, 1)
	started := make(chan struct{})
	var once sync.Once
	go func() {
		_, err := c.Exec(context.Background(), sb.ID, docker.ExecRequest{
			Argv:     []string{"sh", "-c", "echo up; (sleep 301 &); sleep 302"},
			OnOutput: func(docker.Stream, []byte) { once.Do(func() { close(started) }) },
		})
		got <- err
	}()
	<-started
	run(t, side, sb.ID, "kill", "-9", pid)
	var err error
	select {
	case err = <-got:
	case <-time.After(30 * time.Second):
		t.Fatal("the call did not end after its helper was killed")
	}
	if !errors.Is(err, docker.ErrHelperLost) {
		t.Errorf("got %v, want ErrHelperLost", err)
	}
	if left := sleepers(t, side, sb.ID); len(left) != 0 {
		t.Errorf("the killed call's processes survived: %v", left)
	}
	res := run(t, c, sb.ID, "echo", "again")
	if res.Stdout.String() != "again\n" {
		t.Errorf("next call: got %q", res.Stdout)
	}
	if path, why := c.ExecPath(context.Background(), sb.ID); path != docker.PathHelper || helperPid(t, side, sb.ID) == pid {
		t.Errorf("the next call did not get a fresh helper: %s (%s)", path, why)
	}
	t.Logf("attack: kill -9 the helper mid-call → call error %q; next call ran on a fresh helper", err)
}

// TestHelperImpostor replaces the helper with a process that holds its
// pipes and answers with a forged result for a call never made, then with
// garbage. The host must not crash, hang or take the forgery.
func TestHelperImpostor(t *testing.T) {
	t.Parallel()
	c, side, sb := helperSandbox(t)
	pid := helperPid(t, side, sb.ID)
	got := make(chan error, 1)
	started := make(chan struct{})
	var once sync.Once
	go func() {
		res, err := c.Exec(context.Background(), sb.ID, docker.ExecRequest{
			Argv:     []string{"sh", "-c", "echo up; sleep 300"},
			OnOutput: func(docker.Stream, []byte) { once.Do(func() { close(started) }) },
		})
		if err == nil {
			err = fmt.Errorf("accepted a result: exit %d, stdout %q", res.ExitCode, res.Stdout)
		}
		got <- err
	}()
	<-started
	// A yamux data frame (12-byte header) for stream 99, which Berth never
	// opened, carrying a well-formed Exit frame; then bytes that are no
	// frame at all. The impostor keeps the pipes open afterwards.
	exit := `{"code":0}`
	forged := fmt.Sprintf(`\000\000\000\000\000\000\000\143\000\000\000\%03ox\000\000\000\%03o%s`, 5+len(exit), len(exit), exit)
	impostor := fmt.Sprintf(`exec 3</proc/%s/fd/0 4>/proc/%s/fd/1; kill -9 %s; printf '%s' >&4; sleep 1; printf 'HTTP/1.1 200 OK\r\n\r\ngarbage' >&4; sleep 20`, pid, pid, pid, forged)
	go func() {
		_, _ = side.Exec(context.Background(), sb.ID, docker.ExecRequest{Argv: []string{"sh", "-c", impostor}, Timeout: 30 * time.Second})
	}()
	var err error
	select {
	case err = <-got:
	case <-time.After(30 * time.Second):
		t.Fatal("the host hung on an impostor")
	}
	if !errors.Is(err, docker.ErrHelperLost) || !strings.Contains(err.Error(), "not a valid yamux frame") {
		t.Errorf("got %v, want ErrHelperLost naming the protocol violation", err)
	}
	res := run(t, c, sb.ID, "echo", "fresh")
	if res.Stdout.String() != "fresh\n" {
		t.Errorf("next call: got %q", res.Stdout)
	}
	t.Logf("attack: impostor took the helper's pipes, forged an exit for stream 99, then sent garbage → %q; next call fine", err)
}

func TestHelperLeavesNoSurvivors(t *testing.T) {
	t.Parallel()
	c, side, sb := helperSandbox(t)
	res := run(t, c, sb.ID, "sh", "-c", `setsid sh -c 'sleep 401 &'; (setsid sleep 402 &); env -i /bin/setsid /bin/sh -c '(/bin/sleep 403 &)'; nohup sleep 404 >/dev/null 2>&1 & sleep 405 & echo spawned`)
	if res.Stdout.String() != "spawned\n" {
		t.Fatalf("got %q %q", res.Stdout, res.Stderr)
	}
	if left := sleepers(t, side, sb.ID); len(left) != 0 {
		t.Errorf("survivors after the call: %v", left)
	}
	t.Logf("attack: setsid, double fork, env -i + setsid, nohup and & in one call → %d survivors", len(sleepers(t, side, sb.ID)))
}

func TestHelperCancelKillsTheTree(t *testing.T) {
	t.Parallel()
	c, side, sb := helperSandbox(t)
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	var once sync.Once
	done := make(chan error, 1)
	go func() {
		_, err := c.Exec(ctx, sb.ID, docker.ExecRequest{
			// A tree three deep and twenty wide, some in new sessions.
			Argv:     []string{"sh", "-c", `for i in 1 2 3 4 5 6 7 8 9 10; do (sleep 500 &); setsid sh -c 'sleep 501 & sleep 502' & done; echo up; sleep 503`},
			OnOutput: func(docker.Stream, []byte) { once.Do(func() { close(started) }) },
		})
		done <- err
	}()
	<-started
	t0 := time.Now()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want context.Canceled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("cancel did not end the call")
	}
	took := time.Since(t0)
	if left := sleepers(t, side, sb.ID); len(left) != 0 {
		t.Errorf("survivors after cancel: %v", left)
	}
	t.Logf("cancel of a 30-process tree returned in %s, nothing left", took.Round(time.Millisecond))
}

func TestHelperConcurrentCalls(t *testing.T) {
	t.Parallel()
	c, side, sb := helperSandbox(t)
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Every other call leaves an orphan behind: its end must not
			// kill the calls still running.
			script := fmt.Sprintf("(setsid sleep 60 &); sleep 0.%d; echo call %d", i%5+1, i)
			res, err := c.Exec(context.Background(), sb.ID, docker.ExecRequest{Argv: []string{"sh", "-c", script}, Timeout: 60 * time.Second})
			if err == nil && (res.ExitCode != 0 || res.Stdout.String() != fmt.Sprintf("call %d\n", i)) {
				err = fmt.Errorf("call %d: exit %d %q %q", i, res.ExitCode, res.Stdout, res.Stderr)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if left := sleepers(t, side, sb.ID); len(left) != 0 {
		t.Errorf("survivors after 10 concurrent calls: %v", left)
	}
}

// TestHelperEngineCutMidCall cuts the engine's socket while a call runs
// through the helper: the call ends with ErrEngineLost, and once the
// engine is back the next call gets a fresh helper. (Not parallel: its
// helper is delivered through a proxy, which a busy machine slows.)
func TestHelperEngineCutMidCall(t *testing.T) {
	real := dockertest.Client(t)
	proxy := dockertest.NewProxy(t, real.Endpoint().Host)
	c, err := docker.NewAt(docker.Endpoint{Host: proxy.Host(), Source: "test proxy"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	dockertest.WithHelper(t, c)
	// Its helper is delivered through the proxy: on a busy machine a start
	// can outlast the greeting's limit, and the sandbox then (rightly) uses
	// docker exec. That is not what this test is about: try a new sandbox.
	var sb docker.Sandbox
	for attempt := 1; ; attempt++ {
		start := time.Now()
		sb = newSandbox(t, c, nil)
		path, why := c.AwaitHelper(context.Background(), sb.ID)
		if path == docker.PathHelper {
			t.Logf("sandbox and helper through the proxy in %s", time.Since(start).Round(time.Millisecond))
			break
		}
		slow := strings.Contains(why, "within") || strings.Contains(why, "deadline")
		if !slow || attempt == 3 {
			t.Fatalf("sandbox uses %s (%s), want the helper", path, why)
		}
		t.Logf("attempt %d: the helper's start was too slow on this machine (%s); a new sandbox", attempt, why)
		_ = c.RemoveSandbox(context.Background(), sb.ID)
	}
	started := make(chan struct{})
	var once sync.Once
	done := make(chan error, 1)
	go func() {
		_, err := c.Exec(context.Background(), sb.ID, docker.ExecRequest{
			Argv:     []string{"sh", "-c", "echo up; sleep 300"},
			OnOutput: func(docker.Stream, []byte) { once.Do(func() { close(started) }) },
		})
		done <- err
	}()
	<-started
	proxy.Cut()
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the call did not end when the engine was cut")
	}
	if !errors.Is(err, docker.ErrEngineLost) {
		t.Errorf("got %v, want ErrEngineLost", err)
	}
	proxy.Restore()
	res := run(t, c, sb.ID, "echo", "back")
	if res.Stdout.String() != "back\n" {
		t.Errorf("after restore: got %q", res.Stdout)
	}
	if path, why := c.ExecPath(context.Background(), sb.ID); path != docker.PathHelper {
		t.Errorf("after restore the sandbox uses %s (%s)", path, why)
	}
	t.Logf("fault: engine socket cut mid-call through the helper → %q; after restore the next call ran on a fresh helper", err)
}

func TestHelperFilesNeverFollowSymlinks(t *testing.T) {
	t.Parallel()
	c, side, sb := helperSandbox(t)
	ctx := context.Background()
	run(t, side, sb.ID, "sh", "-c", "cd /workspace/group && echo secret > a.txt && ln -s a.txt link && ln -s /etc d && mkdir sub")
	if b, err := c.ReadFileNoFollow(ctx, sb.ID, "/workspace/group/a.txt", 1<<20); err != nil || string(b) != "secret\n" {
		t.Errorf("plain read: got %q, %v", b, err)
	}
	var refused []string
	for _, p := range []string{"/workspace/group/link", "/workspace/group/d/passwd"} {
		if b, err := c.ReadFileNoFollow(ctx, sb.ID, p, 1<<20); err == nil {
			t.Errorf("read through a symlink %s: got %q", p, b)
		} else {
			refused = append(refused, p)
		}
		if err := c.WriteFileNoFollow(ctx, sb.ID, p, []byte("overwritten\n"), 0o644); err == nil {
			t.Errorf("write through a symlink %s succeeded", p)
		}
	}
	if got := run(t, side, sb.ID, "cat", "/workspace/group/a.txt").Stdout.String(); got != "secret\n" {
		t.Errorf("a.txt after the writes: %q", got)
	}
	if err := c.WriteFileNoFollow(ctx, sb.ID, "/workspace/group/sub/new.txt", []byte("new\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := c.ReadFileNoFollow(ctx, sb.ID, "/workspace/group/sub/new.txt", 1<<20); err != nil || string(b) != "new\n" {
		t.Errorf("read back: %q %v", b, err)
	}
	if _, err := c.ReadFileNoFollow(ctx, sb.ID, "/workspace/group/a.txt", 3); err == nil {
		t.Errorf("a 7-byte file read with a 3-byte limit")
	}
	t.Logf("attack: read and write through a file symlink and a folder symlink to /etc → %d of 2 refused both ways; a.txt unchanged", len(refused))
}

// TestHelperFallback: where the helper cannot run, calls use docker exec
// and the client says why.
func TestHelperFallback(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		bin  func(arch string) []byte
		why  string
	}{
		{"no binary for the engine architecture", func(string) []byte { return nil }, "no helper for the engine's architecture"},
		{"a binary that cannot run", func(string) []byte { return []byte("not an executable\n") }, "could not start"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dockertest.Client(t)
			c.UseHelperBinaries(tc.bin)
			sb := newSandbox(t, c, nil)
			path, why := c.AwaitHelper(context.Background(), sb.ID)
			if path != docker.PathDockerExec || !strings.Contains(why, tc.why) {
				t.Errorf("got %s (%s), want docker exec because %s", path, why, tc.why)
			}
			if res := run(t, c, sb.ID, "echo", "fallback"); res.Stdout.String() != "fallback\n" {
				t.Errorf("got %q", res.Stdout)
			}
			t.Logf("%s → calls via %s: %s", tc.name, path, why)
		})
	}
}

// TestHelperDeliveredWithCat: where the one-exec start fails (an image
// without head), the helper is delivered with cat in an exec of its own.
// Busybox runs its head applet even without a link to it, so the test
// turns the one-exec start off instead of removing head.
func TestHelperDeliveredWithCat(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	docker.SkipOneExecStart(c)
	sb := newSandbox(t, c, nil)
	if path, why := c.AwaitHelper(context.Background(), sb.ID); path != docker.PathHelper {
		t.Fatalf("got %s (%s), want the helper", path, why)
	}
	if res := run(t, c, sb.ID, "echo", "via cat"); res.Stdout.String() != "via cat\n" {
		t.Errorf("got %q", res.Stdout)
	}
}

// TestHelperAndDockerExecAgree runs edge cases on both paths: the exit
// codes a caller sees must not depend on the path.
func TestHelperAndDockerExecAgree(t *testing.T) {
	t.Parallel()
	c, side, sb := helperSandbox(t)
	cases := []struct {
		name string
		req  docker.ExecRequest
	}{
		{"exit 42", docker.ExecRequest{Argv: []string{"sh", "-c", "exit 42"}}},
		{"killed by a signal", docker.ExecRequest{Argv: []string{"sh", "-c", "kill -9 $$"}}},
		{"missing program", docker.ExecRequest{Argv: []string{"no-such-program"}}},
		{"a folder as the program", docker.ExecRequest{Argv: []string{"/tmp"}}},
		{"missing working folder", docker.ExecRequest{Argv: []string{"pwd"}, WorkDir: "/nope"}},
		{"env over the sandbox's", docker.ExecRequest{Argv: []string{"sh", "-c", "echo $HOME $X"}, Env: []string{"HOME=/tmp", "X=1"}}},
		{"stdin", docker.ExecRequest{Argv: []string{"wc", "-c"}, Stdin: strings.NewReader("12345")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got [2]docker.ExecResult
			for i, cl := range []*docker.Client{c, side} {
				if tc.req.Stdin != nil {
					tc.req.Stdin = strings.NewReader("12345")
				}
				res, err := cl.Exec(context.Background(), sb.ID, tc.req)
				if err != nil {
					t.Fatalf("path %d: %v", i, err)
				}
				got[i] = res
			}
			if got[0].ExitCode != got[1].ExitCode {
				t.Errorf("helper exit %d (%q), docker exec exit %d (%q)", got[0].ExitCode, got[0].Stderr, got[1].ExitCode, got[1].Stderr)
			}
			if tc.req.WorkDir == "" && got[0].Stdout.String() != got[1].Stdout.String() {
				t.Errorf("helper stdout %q, docker exec %q", got[0].Stdout, got[1].Stdout)
			}
		})
	}
}

// TestHelperForkBomb: a fork bomb under the pids limit, with a time limit.
// The call ends in bounded time whichever way it goes (the helper kills
// the tree, or, starved of pids itself, dies and the sandbox is stopped),
// and it never reports success.
func TestHelperForkBomb(t *testing.T) {
	t.Parallel()
	c, side, sb := helperSandbox(t)
	done := make(chan struct{})
	var res docker.ExecResult
	var err error
	t0 := time.Now()
	go func() {
		defer close(done)
		res, err = c.Exec(context.Background(), sb.ID, docker.ExecRequest{Argv: []string{"sh", "-c", "b() { b | b & }; b; sleep 30"}, Timeout: 2 * time.Second})
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("a fork bomb hung the call")
	}
	if err == nil && !res.TimedOut && res.ExitCode == 0 {
		t.Errorf("a fork bomb reported success: %+v", res)
	}
	// Every process but the sandbox's own (init, its sleep, the helper)
	// and this check's (it carries CHECK in its arguments, and its tr).
	left := run(t, side, sb.ID, "sh", "-c", `for d in /proc/[0-9]*; do a=$(tr '\0' ' ' < $d/cmdline 2>/dev/null)
  case "$a" in ""|/sbin/docker-init*|"sleep 600 "|"`+docker.HelperPath+` "|*CHECK*|tr*) ;; *) echo "${d#/proc/}:$a";; esac; done`).Stdout.String()
	if strings.TrimSpace(left) != "" {
		t.Errorf("processes left after the fork bomb: %s", left)
	}
	after, aerr := c.Exec(context.Background(), sb.ID, docker.ExecRequest{Argv: []string{"echo", "alive"}, Timeout: 20 * time.Second})
	t.Logf("attack: fork bomb with a 2 s limit → returned in %s (timed out %v, exit %d, error %v); next call: %q, %v",
		time.Since(t0).Round(time.Millisecond), res.TimedOut, res.ExitCode, err, after.Stdout, aerr)
}
