package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

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
	if rep["state"] != "down" || !strings.Contains(rep["hint"].(string), "start Docker") {
		t.Errorf("got %v", rep)
	}
	// A command refused by the gate says why, exits 3, and is audited.
	r = berth(t, "exec", "true")
	if r.code != ExitGateClosed || !strings.Contains(r.err, "Docker is not running") || !strings.Contains(r.err, "fix:") {
		t.Errorf("exec while down: exit %d, %q", r.code, r.err)
	}
	r = berth(t, "audit", "tail", "--kind", "gate", "--json")
	if !strings.Contains(r.out, `"gate.closed"`) {
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
	if list[0]["group"] != "main" || list[0]["session"] != "cli" {
		t.Errorf("sandbox: %v", list[0])
	}
	// Another group gets its own sandbox.
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
	for _, kind := range []string{"sandbox.create", "exec.start", "exec.end"} {
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
