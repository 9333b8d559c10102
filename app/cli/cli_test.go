package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-app/berth/app/assistant"
	"github.com/berth-app/berth/docker/dockertest"
)

type result struct {
	code     int
	out, err string
}

func berth(t *testing.T, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, IO{In: strings.NewReader(""), Out: &out, Err: &errb})
	return result{code, out.String(), errb.String()}
}

// withHome gives the test its own Berth installation using the test image.
func withHome(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("BERTH_HOME", dir)
	t.Setenv("BERTH_IMAGE", dockertest.TestImage)
	t.Cleanup(func() { berth(t, "sandbox", "stop", "--all") })
	return dir
}

func TestUsage(t *testing.T) {
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no args prints help", nil, ExitOK, "Usage: berth <command>"},
		{"unknown command", []string{"fly"}, ExitUsage, `unknown command "fly"`},
		{"exec without command", []string{"exec"}, ExitUsage, "Usage: berth exec"},
		{"exec bad group", []string{"exec", "-g", "Bad Group", "true"}, ExitUsage, "lowercase letters"},
		{"sandbox without verb", []string{"sandbox"}, ExitUsage, "berth sandbox list"},
		{"sandbox stop needs a target", []string{"sandbox", "stop"}, ExitUsage, "Usage: berth sandbox stop"},
		{"audit export bad format", []string{"audit", "export", "--format", "xml"}, ExitUsage, "jsonl or csv"},
		{"version", []string{"version"}, ExitOK, "berth "},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			withHome(t)
			r := berth(t, c.args...)
			if r.code != c.code || !strings.Contains(r.out+r.err, c.want) {
				t.Errorf("got exit %d, output %q %q; want exit %d containing %q", r.code, r.out, r.err, c.code, c.want)
			}
		})
	}
}

func TestDoctorWhenDockerIsDown(t *testing.T) {
	withHome(t)
	t.Setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
	r := berth(t, "doctor", "--json")
	if r.code != ExitGateClosed {
		t.Fatalf("exit: got %d, want %d", r.code, ExitGateClosed)
	}
	var rep map[string]any
	if err := json.Unmarshal([]byte(r.out), &rep); err != nil {
		t.Fatalf("doctor --json: %v\n%s", err, r.out)
	}
	for _, k := range []string{"state", "reason", "hint", "host", "engine_version", "api_version", "image", "image_present"} {
		if _, ok := rep[k]; !ok {
			t.Errorf("doctor --json lacks %q", k)
		}
	}
	if rep["state"] != "down" || !strings.Contains(rep["hint"].(string), "start the Docker engine that serves /nonexistent/docker.sock") {
		t.Errorf("got %v", rep)
	}
	// A command refused by the gate says why, exits 3, and is audited.
	r = berth(t, "exec", "true")
	if r.code != ExitGateClosed || !strings.Contains(r.err, "Docker is not running") || !strings.Contains(r.err, "fix:") {
		t.Errorf("exec while down: exit %d, %q", r.code, r.err)
	}
	r = berth(t, "audit", "tail", "--kind", "gate", "--json")
	if !strings.Contains(r.out, `"`+assistant.AuditGateClosed+`"`) {
		t.Errorf("the refusal is not in the audit log: %q", r.out)
	}
}

func TestDoctorAndExecAgainstTheEngine(t *testing.T) {
	dockertest.Client(t)
	dir := withHome(t)

	r := berth(t, "doctor")
	if r.code != ExitOK || !strings.Contains(r.out, "Assistant: ready") {
		t.Fatalf("doctor: exit %d\n%s%s", r.code, r.out, r.err)
	}
	// A test binary embeds no helper: doctor says so, and why.
	if !strings.Contains(r.out, "Tool calls      via docker-exec: this Berth was built without the embedded helper") {
		t.Errorf("doctor does not say how tool calls run:\n%s", r.out)
	}
	t.Setenv("BERTH_IMAGE", "berth-missing:1")
	if r := berth(t, "doctor"); r.code != ExitGateClosed || !strings.Contains(r.out, "make image") {
		t.Errorf("doctor with a missing image: exit %d\n%s", r.code, r.out)
	}
	t.Setenv("BERTH_IMAGE", dockertest.TestImage)

	r = berth(t, "exec", "--", "sh", "-c", "echo out; echo err >&2; echo kept > /workspace/group/note.txt; exit 7")
	if r.code != 7 || r.out != "out\n" || r.err != "err\n" {
		t.Fatalf("exec: got exit %d out %q err %q", r.code, r.out, r.err)
	}
	if b, err := os.ReadFile(dir + "/data/groups/main/note.txt"); err != nil || string(b) != "kept\n" {
		t.Errorf("the group folder on the host: %q %v", b, err)
	}
	// The second command reuses the warm sandbox.
	if r := berth(t, "exec", "true"); r.code != 0 {
		t.Fatalf("second exec: %d %s", r.code, r.err)
	}
	r = berth(t, "sandbox", "list", "--json")
	var list []map[string]any
	if err := json.Unmarshal([]byte(r.out), &list); err != nil || len(list) != 1 {
		t.Fatalf("sandbox list: %v, %s", err, r.out)
	}
	if list[0]["group"] != "main" || list[0]["session"] != "cli" || list[0]["exec_path"] != "docker-exec" || list[0]["exec_path_reason"] == "" {
		t.Errorf("sandbox: %v", list[0])
	}
	// A group that does not exist is not made up on the fly.
	if r := berth(t, "exec", "-g", "work", "pwd"); r.code != ExitInternal || !strings.Contains(r.err, "berth group add work") {
		t.Errorf("exec in a missing group: %d %q", r.code, r.err)
	}
	// Another group gets its own sandbox.
	if r := berth(t, "group", "add", "work"); r.code != 0 {
		t.Fatalf("group add: %d %s", r.code, r.err)
	}
	if r := berth(t, "exec", "-g", "work", "pwd"); r.code != 0 || r.out != "/workspace/group\n" {
		t.Errorf("exec -g work: %d %q %q", r.code, r.out, r.err)
	}
	if r := berth(t, "exec", "--timeout", "300ms", "sleep", "30"); r.code == 0 || !strings.Contains(r.err, "killed after") {
		t.Errorf("timeout: exit %d %q", r.code, r.err)
	}

	r = berth(t, "audit", "verify", "--json")
	var rep map[string]any
	if err := json.Unmarshal([]byte(r.out), &rep); err != nil || r.code != 0 || rep["ok"] != true {
		t.Fatalf("audit verify: exit %d %s %v", r.code, r.out, err)
	}
	r = berth(t, "audit", "tail", "-n", "100")
	for _, kind := range []string{assistant.AuditSandboxCreate, assistant.AuditExecStart, assistant.AuditExecEnd} {
		if !strings.Contains(r.out, kind) {
			t.Errorf("audit tail lacks %s:\n%s", kind, r.out)
		}
	}
	if !strings.Contains(r.out, "exit 7") {
		t.Errorf("the exit code is not audited:\n%s", r.out)
	}
	if r := berth(t, "audit", "export", "--format", "csv"); r.code != 0 || !strings.HasPrefix(r.out, "seq,") {
		t.Errorf("export csv: %d %q", r.code, first(r.out, 80))
	}

	// Someone claims the chain was longer than it is: the anchor outlives a
	// cut tail, and verify names it and exits 1.
	anchor := dir + "/data/berth.db.anchor"
	if err := os.WriteFile(anchor, []byte(`{"seq":9999,"hash":"`+strings.Repeat("ab", 32)+`"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := berth(t, "audit", "verify"); r.code != ExitFailure || !strings.Contains(r.out, "BROKEN") {
		t.Errorf("verify after tampering: exit %d %q", r.code, r.out)
	}

	r = berth(t, "sandbox", "stop", "--all")
	if r.code != 0 || strings.Count(r.out, "stopped ") != 2 {
		t.Errorf("stop --all: %d %q %q", r.code, r.out, r.err)
	}
	if r := berth(t, "sandbox", "list"); !strings.Contains(r.out, "No sandboxes") && !strings.Contains(r.out, "exited") && !strings.Contains(r.out, "removing") {
		t.Errorf("after stop --all: %q", r.out)
	}
}

func first(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func TestGroupAndMountCommands(t *testing.T) {
	dockertest.Client(t)
	dir := withHome(t)
	proj := t.TempDir()
	os.WriteFile(proj+"/.env", []byte("TOKEN=x"), 0o600)
	os.WriteFile(proj+"/main.go", []byte("package main"), 0o644)

	steps := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"group", "list"}, 0, "main   Main  none"}, // a fresh installation has its default group
		{[]string{"group", "add", "work", "--network", "bridge", "--approval", "ask-writes"}, 0, "created group work"},
		{[]string{"group", "add", "work"}, ExitUsage, "already exists"},
		{[]string{"group", "add", "Work Stuff"}, ExitUsage, "lowercase"},
		{[]string{"group", "add", "x", "--network", "host"}, ExitUsage, "none, allowlist or open"},
		{[]string{"group", "set", "work", "network=none", "memory=512m"}, 0, "updated group work"},
		{[]string{"group", "set", "work", "colour=blue"}, ExitUsage, "unknown setting"},
		{[]string{"mount", "check", proj, "--json"}, 0, `"allowed": true`},
		{[]string{"mount", "add", proj, "-g", "work", "--as", "proj"}, 0, "masked (the sandbox sees it empty): .env"},
		{[]string{"mount", "add", "-g", "work", "/etc"}, ExitUsage, "system folder"},
		{[]string{"mount", "add", "-g", "work", dir + "/data"}, ExitUsage, "Berth's own folder"},
		{[]string{"mount", "add", "-g", "work", "/nonexistent/berth"}, ExitUsage, "does not exist"},
		{[]string{"mount", "add", "-g", "work", proj, "--as", "a:b"}, ExitUsage, ":"},
		{[]string{"mount", "list", "-g", "work"}, 0, "read-only"},
		{[]string{"group", "show", "work"}, 0, "/workspace/extra/proj (read-only, 1 masked)"},
		{[]string{"exec", "-g", "work", "--", "sh", "-c", "cat /workspace/extra/proj/main.go; wc -c < /workspace/extra/proj/.env"}, 0, "package main0"},
		{[]string{"mount", "rm", "-g", "work", "proj"}, 0, "removed mount proj"},
		{[]string{"mount", "rm", "-g", "work", "proj"}, ExitFailure, "has no mount"},
		{[]string{"group", "rm", "work"}, ExitUsage, "--yes"},
		{[]string{"group", "rm", "work", "--yes", "--purge"}, 0, "removed group work"},
		{[]string{"group", "show", "work"}, ExitFailure, "berth group add work"},
	}
	for _, st := range steps {
		r := berth(t, st.args...)
		if r.code != st.code || !strings.Contains(r.out+r.err, st.want) {
			t.Errorf("berth %s: exit %d, %q %q; want exit %d containing %q", strings.Join(st.args, " "), r.code, r.out, r.err, st.code, st.want)
		}
	}
	var check map[string]any
	r := berth(t, "mount", "check", proj, "--rw", "--json")
	if err := json.Unmarshal([]byte(r.out), &check); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"allowed", "reason", "host", "container", "readonly", "masked"} {
		if _, ok := check[k]; !ok {
			t.Errorf("mount check --json lacks %q", k)
		}
	}
	if check["readonly"] != false || check["container"] != "/workspace/extra/"+filepath.Base(proj) {
		t.Errorf("mount check --rw: %v", check)
	}
	r = berth(t, "audit", "tail", "-n", "100", "--kind", "mount")
	for _, k := range []string{assistant.AuditMountAdd, assistant.AuditMountReject, assistant.AuditMountRemove} {
		if !strings.Contains(r.out, k) {
			t.Errorf("audit lacks %s:\n%s", k, r.out)
		}
	}
}
