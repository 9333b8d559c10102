package agent

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berth-app/berth/app/llm"
	"github.com/berth-app/berth/app/llm/llmtest"
	"github.com/berth-app/berth/docker"
	"github.com/berth-app/berth/docker/dockertest"
)

// dockerSandbox is the test's adapter from a docker.Client to Sandbox (the
// assistant has its own).
type dockerSandbox struct {
	c      *docker.Client
	id     string
	direct *atomic.Int64 // file operations the helper answered itself
}

func (d dockerSandbox) Exec(ctx context.Context, req ExecRequest) (ExecResult, error) {
	dr := docker.ExecRequest{Argv: req.Argv, WorkDir: req.WorkDir, Timeout: req.Timeout, OutputCap: req.OutputCap, Grace: req.Grace}
	if req.Stdin != nil {
		dr.Stdin = bytes.NewReader(req.Stdin)
	}
	if req.OnOutput != nil {
		dr.OnOutput = func(_ docker.Stream, p []byte) { req.OnOutput(p) }
	}
	res, err := d.c.Exec(ctx, d.id, dr)
	return ExecResult{
		ExitCode: res.ExitCode, Stdout: res.Stdout.Data, Stderr: res.Stderr.Data,
		StdoutTotal: res.Stdout.Total, StderrTotal: res.Stderr.Total,
		Truncated: res.Stdout.Truncated || res.Stderr.Truncated, TimedOut: res.TimedOut, Duration: res.Duration,
	}, err
}

// File goes through the helper's no-follow file operations, as the
// assistant's sandbox does (app/assistant/chat.go).
func (d dockerSandbox) File(ctx context.Context, req FileRequest) (FileResult, error) {
	start := time.Now()
	var data []byte
	var err error
	if req.Write {
		err = d.c.WriteFileNoFollow(ctx, d.id, req.Path, req.Data, 0o644)
	} else {
		data, err = d.c.ReadFileNoFollow(ctx, d.id, req.Path, req.Limit)
	}
	var fe *docker.FileError
	switch {
	case errors.Is(err, docker.ErrNoHelper):
		err = ErrNoFileOps
	case errors.As(err, &fe):
		err = &FileError{Errno: fe.Errno, Msg: fe.Msg}
	}
	if d.direct != nil && !errors.Is(err, ErrNoFileOps) {
		d.direct.Add(1)
	}
	return FileResult{Data: data, Duration: time.Since(start)}, err
}

// testSandbox starts a busybox sandbox with a fresh group folder (returned)
// at /workspace/group and a read-only mount, holding readme.txt, at
// /workspace/extra/ro.
func testSandbox(t testing.TB) (dockerSandbox, string) {
	t.Helper()
	return testSandboxOn(t, docker.PathHelper)
}

// testSandboxOn is testSandbox whose calls take the given path: the
// sandbox helper or docker exec (the fallback).
func testSandboxOn(t testing.TB, path string) (dockerSandbox, string) {
	t.Helper()
	c := dockertest.Client(t)
	if path == docker.PathDockerExec {
		dockertest.WithoutHelper(c)
	}
	dir, roDir := t.TempDir(), t.TempDir()
	// The sandbox runs as nobody when the tests run as root; let it write.
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(roDir, "readme.txt"), []byte("read me\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sb, err := c.CreateSandbox(ctx, docker.Spec{
		Image: dockertest.TestImage, InstallationID: "t-agent", Group: "g", Session: "s",
		Mounts: []docker.Mount{{Host: dir, Container: docker.GroupDir}, {Host: roDir, Container: "/workspace/extra/ro", ReadOnly: true}},
		MaxAge: 10 * time.Minute,
	})
	if err != nil {
		t.Fatalf("create sandbox: %v", err)
	}
	t.Cleanup(func() { _ = c.RemoveSandbox(context.Background(), sb.ID) })
	if got, why := c.AwaitHelper(ctx, sb.ID); got != path {
		t.Fatalf("the sandbox uses %s (%s), want %s", got, why, path)
	}
	return dockerSandbox{c: c, id: sb.ID, direct: new(atomic.Int64)}, dir
}

// onBothPaths runs a sandbox test through the helper and through docker
// exec: every tool must behave the same on both.
func onBothPaths(t *testing.T, test func(t *testing.T, path string)) {
	for _, path := range []string{docker.PathHelper, docker.PathDockerExec} {
		t.Run(path, func(t *testing.T) { test(t, path) })
	}
}

func TestScriptsInSandbox(t *testing.T) { onBothPaths(t, testScriptsInSandbox) }

func testScriptsInSandbox(t *testing.T, path string) {
	sb, dir := testSandboxOn(t, path)
	writeFixture(t, dir)
	checkScripts(t, sb, GroupDir)
	// The file tools took the path under test: the helper's own file
	// operations, or (without a helper) their scripts.
	if n := sb.direct.Load(); (path == docker.PathHelper) != (n > 0) {
		t.Errorf("%d file operations went through the helper directly on the %s path", n, path)
	}
	t.Logf("%s path: %d file operations through the helper's no-follow calls", path, sb.direct.Load())
	if !t.Failed() {
		t.Logf("attack (%s path): read_file, write_file and edit_file through a symlink to /tmp and through a symlinked folder → all 6 refused, the targets unchanged", path)
	}
	t.Run("list the whole container", func(t *testing.T) {
		c, _ := parseCall("list_files", []byte(`{"path":"/"}`), nil, nil)
		o := c.run(context.Background(), &executor{sb: sb, callTimeout: 30 * time.Second, outputCap: DefaultOutputCap})
		for _, w := range []string{"/:\n", "\nbin/\n", "\nproc/\n", "\nworkspace/group/notes/todo.md\n", "\nworkspace/extra/ro/readme.txt\n"} {
			if !strings.Contains(o.output, w) {
				t.Errorf("got %q, want %q in it", o.output, w)
			}
		}
		if strings.Contains(o.output, "proc/1/") || o.isError {
			t.Errorf("got %q (error %v), want /proc listed but not entered", o.output, o.isError)
		}
	})
	if got, _ := os.ReadFile(filepath.Join(dir, "notes/todo.md")); string(got) != "- buy milk\n- call Alice\n" {
		t.Errorf("todo.md on the host: got %q", got)
	}
}

func TestTurnInSandbox(t *testing.T) { onBothPaths(t, testTurnInSandbox) }

func testTurnInSandbox(t *testing.T, path string) {
	sb, dir := testSandboxOn(t, path)
	srv := llmtest.NewAnthropic(t)
	call := func(id, name, input string) llmtest.Reply {
		return llmtest.Reply{ToolCalls: []llmtest.ToolCall{{ID: id, Name: name, Input: input}}}
	}
	srv.Queue(
		llmtest.Reply{Text: []string{"I'll keep a list."}, ToolCalls: []llmtest.ToolCall{
			{ID: "t1", Name: "write_file", Input: `{"path":"notes/todo.md","content":"- buy milk\n- call Bob\n"}`}}},
		call("t2", "bash", `{"command":"echo hi > /workspace/extra/ro/x.txt"}`),
		call("t3", "edit_file", `{"path":"notes/todo.md","old_string":"call Bob","new_string":"call Alice"}`),
		call("t4", "read_file", `{"path":"/workspace/group/notes/todo.md"}`),
		llmtest.Reply{ToolCalls: []llmtest.ToolCall{
			{ID: "t5", Name: "list_files", Input: `{}`},
			{ID: "t6", Name: "grep", Input: `{"pattern":"Alice|read me","path":"/workspace","glob":"*.*"}`},
		}},
		call("t7", "bash", `{"command":"sleep 30","timeout_s":1}`),
		llmtest.Reply{Text: []string{"Your list ", "is saved."}},
	)
	p := llm.NewAnthropic(llm.Config{BaseURL: srv.URL, APIKey: "k", Model: "m"})
	rec := &recorder{}
	cfg := testConfig(p, rec)
	res, err := RunTurn(context.Background(), cfg, sb, SystemPrompt(PromptInput{Now: time.Now()}), []llm.Message{llm.UserText("make my list")})
	if err != nil {
		t.Fatalf("RunTurn: %v", err)
	}
	if res.Text != "Your list is saved." || res.ToolCalls != 7 || res.StopReason != "end_turn" {
		t.Errorf("got text %q, %d calls, stop %q", res.Text, res.ToolCalls, res.StopReason)
	}
	if got, err := os.ReadFile(filepath.Join(dir, "notes/todo.md")); err != nil || string(got) != "- buy milk\n- call Alice\n" {
		t.Errorf("todo.md on the host: got %q, %v", got, err)
	}

	// What the model was told, as the fake server received it.
	reqs := srv.Requests()
	if len(reqs) != 7 {
		t.Fatalf("the server got %d requests, want 7", len(reqs))
	}
	result := func(req, block int) (string, bool) {
		path := "messages." + itoa(2*req) + ".content." + itoa(block) + "."
		text, _ := reqs[req].Get(path + "content.0.text").(string)
		isErr, _ := reqs[req].Get(path + "is_error").(bool)
		return text, isErr
	}
	checks := []struct {
		req, block int
		want       []string
		wantErr    bool
	}{
		{1, 0, []string{"Wrote 22 bytes to /workspace/group/notes/todo.md (sha256 "}, false},
		{2, 0, []string{"Read-only file system", "[exit code"}, true},
		{3, 0, []string{"replaced 1 match", "     2\t- call Alice"}, false},
		{4, 0, []string{"     1\t- buy milk\n     2\t- call Alice"}, false},
		{5, 0, []string{"/workspace/group:\nnotes/\nnotes/todo.md\n[2 entries]"}, false},
		{5, 1, []string{"/workspace/extra/ro/readme.txt:1:read me", "/workspace/group/notes/todo.md:2:- call Alice"}, false},
		{6, 0, []string{"[killed after 1 s"}, true},
	}
	for _, c := range checks {
		got, isErr := result(c.req, c.block)
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("request %d result %d: got %q, want %q in it", c.req+1, c.block, got, w)
			}
		}
		if isErr != c.wantErr {
			t.Errorf("request %d result %d: got is_error %v, want %v", c.req+1, c.block, isErr, c.wantErr)
		}
	}
	var timedOut, writes int
	for _, ev := range rec.audit {
		if ev.Kind == AuditToolResult && ev.Detail["timed_out"] == true {
			timedOut++
		}
		if ev.Kind == AuditFileWrite {
			writes++
		}
	}
	if timedOut != 1 || writes != 2 {
		t.Errorf("audit: got %d timed-out results and %d file writes, want 1 and 2", timedOut, writes)
	}
}

func TestCancelInSandbox(t *testing.T) { onBothPaths(t, testCancelInSandbox) }

func testCancelInSandbox(t *testing.T, path string) {
	sb, dir := testSandboxOn(t, path)
	p := &fakeProvider{replies: []fakeReply{replyWith("Starting.", use{"c1", "bash", `{"command":"touch started; sleep 300"}`})}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		// Cancel once the command runs.
		for ctx.Err() == nil {
			if _, err := os.Stat(filepath.Join(dir, "started")); err == nil {
				cancel()
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	rec := &recorder{}
	res, err := RunTurn(ctx, testConfig(p, rec), sb, "", []llm.Message{llm.UserText("go")})
	if err != nil || !res.Interrupted || res.Text != "Starting." {
		t.Fatalf("got %v, interrupted %v, text %q", err, res.Interrupted, res.Text)
	}
	if r := toolResults(res.Messages); len(r) != 1 || !strings.Contains(r[0].Text, "interrupted") {
		t.Errorf("got %+v, want the call reported as interrupted", r)
	}
	left, err := sb.Exec(context.Background(), ExecRequest{Argv: []string{"sh", "-c", "ps -o args | grep -c '[s]leep 300' || true"}, Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(left.Stdout)); got != "0" {
		t.Errorf("got %s sleep processes left, want the command killed", got)
	}
}
