package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-app/berth/app/llm"
	"github.com/berth-app/berth/app/llm/llmtest"
	"github.com/berth-app/berth/app/service"
	"github.com/berth-app/berth/docker/dockertest"
)

// TestNoSessionBusLeak runs the commands that read and write API keys —
// `berth auth set`, `berth auth status`, a `berth chat` turn against a
// fake model with a real sandbox, and `berth doctor` — as real processes with the real keyring
// code on a machine with no session bus, and counts the dbus-daemon
// processes they leave: there must be none. Before issue 19 each of these
// commands left one behind (godbus runs dbus-launch when it finds no bus).
// Each process carries a marker in its environment, which a dbus-daemon it
// launched inherits, so other tests running on the machine do not count.
// The key goes to the key file instead; the model sees it, the sandbox, the
// database and the output never do.
func TestNoSessionBusLeak(t *testing.T) {
	_, err := exec.LookPath("dbus-launch")
	dockertest.Require(t, err == nil, "dbus-launch is not installed, so a leak could not happen and the test could not fail (apt-get install dbus-x11; .ci/deps test does)")
	bus := fmt.Sprintf("/run/user/%d/bus", os.Getuid())
	_, err = os.Stat(bus)
	dockertest.Require(t, err != nil, "this machine has a session bus at "+bus+", so the no-bus path cannot be tested here (CI has none)")
	dockertest.Client(t)
	dir := withHome(t)
	fake := llmtest.NewAnthropic(t)
	const key = "sk-ant-headless-CANARY-5b1e0d"

	mark := fmt.Sprintf("BERTH_TEST_DBUS_MARK=%d", os.Getpid())
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		name, _, _ := strings.Cut(kv, "=")
		return slices.Contains([]string{"DBUS_SESSION_BUS_ADDRESS", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"}, name)
	})
	env = append(env, asBerth+"=1", mark, "ANTHROPIC_BASE_URL="+fake.URL, "XDG_RUNTIME_DIR="+t.TempDir())
	run := func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command(os.Args[0], args...)
		cmd.Env, cmd.Stdin = env, strings.NewReader(stdin)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("berth %s: %v\n%s", strings.Join(args, " "), err, out.String())
		}
		return out.String()
	}

	total, ours := dbusDaemons(t, mark)
	if len(ours) != 0 {
		t.Fatalf("dbus-daemons with this test's marker before it ran: %v", ours)
	}
	set := run(key+"\n", "auth", "set", "anthropic")
	status := run("", "auth", "status", "anthropic")
	run("", "group", "add", "work")
	fake.Queue(
		llmtest.Reply{ToolCalls: []llmtest.ToolCall{
			{ID: "t1", Name: "bash", Input: `{"command":"cat /proc/*/environ 2>/dev/null | tr '\\0' '\\n' | grep -c CANARY; true"}`},
		}},
		llmtest.Reply{Text: []string{"nothing leaked"}},
	)
	chat := run("", "chat", "-g", "work", "--yes", "hello")
	doctor := run("", "doctor")
	after, ours := dbusDaemons(t, mark)
	t.Logf("dbus-daemon processes: %d before, %d after; started by the commands: %d", total, after, len(ours))
	if len(ours) != 0 {
		t.Errorf("the commands left %d dbus-daemon processes running: %v", len(ours), ours)
	}

	file := filepath.Join(dir, "config", llm.KeyFileName)
	for what, out := range map[string]string{"auth set": set, "auth status": status, "doctor": doctor} {
		if !strings.Contains(out, file) || !strings.Contains(out, "no OS keyring here: no D-Bus session bus") {
			t.Errorf("%s says %q; want the key file and why the keyring is not used", what, out)
		}
	}
	reqs := fake.Requests()
	if len(reqs) != 2 {
		t.Fatalf("model requests: %d, want 2\n%s", len(reqs), chat)
	}
	if got := llmtest.APIKey(reqs[0]); got != key {
		t.Errorf("the model got key %q, want the one from the key file", got)
	}
	if !strings.Contains(string(reqs[1].Raw), `"0`) {
		t.Errorf("the sandbox's environment probe: %s", reqs[1].Raw)
	}
	outs := map[string][]byte{"auth set": []byte(set), "auth status": []byte(status), "chat": []byte(chat)}
	dbs, _ := filepath.Glob(filepath.Join(dir, "data", "berth.db*"))
	for _, db := range dbs {
		b, err := os.ReadFile(db)
		if err != nil {
			t.Fatal(err)
		}
		outs[filepath.Base(db)] = b
	}
	for where, b := range outs {
		if bytes.Contains(b, []byte(key)) || bytes.Contains(b, []byte("CANARY-5b1e0d")) {
			t.Errorf("the API key is in %s", where)
		}
	}
}

// dbusDaemons counts the live dbus-daemon processes, and lists those whose
// environment holds mark.
func dbusDaemons(t *testing.T, mark string) (total int, marked []int) {
	t.Helper()
	procs, err := filepath.Glob("/proc/[0-9]*")
	if err != nil || len(procs) == 0 {
		t.Fatalf("list processes: %v", err)
	}
	for _, p := range procs {
		comm, err := os.ReadFile(filepath.Join(p, "comm"))
		if err != nil || strings.TrimSpace(string(comm)) != "dbus-daemon" {
			continue
		}
		stat, err := os.ReadFile(filepath.Join(p, "stat"))
		if err != nil {
			continue
		}
		// The state follows the parenthesised command: a zombie has exited.
		if f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:])); len(f) > 0 && f[0] == "Z" {
			continue
		}
		total++
		if st, err := os.Stat(p); err != nil || st.Sys().(*syscall.Stat_t).Uid != uint32(os.Getuid()) {
			continue // a bus the commands launched would run as this user
		}
		environ, err := os.ReadFile(filepath.Join(p, "environ"))
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
			continue // it has exited since
		}
		if err != nil {
			t.Fatalf("read the environment of dbus-daemon %s: %v", p, err) // fail closed: an unreadable one might be ours
		}
		if slices.ContainsFunc(bytes.Split(environ, []byte{0}), func(kv []byte) bool { return string(kv) == mark }) {
			var pid int
			fmt.Sscan(filepath.Base(p), &pid)
			marked = append(marked, pid)
		}
	}
	return total, marked
}

// TestServiceAgainstServe installs the user service into a temporary
// XDG_CONFIG_HOME (the service manager faked: this machine kind has no
// systemd as PID 1, and a test must never touch a developer's real one),
// then asks `berth service status` and `berth doctor` about a real
// `berth serve` running as its own process: they see it through the
// control socket, with its pid, and see it gone once it stops.
func TestServiceAgainstServe(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("BERTH_HOME", filepath.Join(dir, "berth"))
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "xdg"))
	t.Setenv("HOME", dir)
	var ran []string
	orig := newService
	t.Cleanup(func() { newService = orig })
	newService = func() (service.Service, error) {
		s, err := service.FromEnv(runtime.GOOS)
		s.Run = func(name string, args ...string) ([]byte, error) {
			ran = append(ran, name+" "+strings.Join(args, " "))
			return []byte("Failed to connect to bus: No medium found\n"), errors.New("exit status 1")
		}
		return s, err
	}

	r := berth(t, "service", "install")
	if r.code != ExitOK {
		t.Fatalf("service install: exit %d\n%s%s", r.code, r.out, r.err)
	}
	unit := filepath.Join(dir, "xdg", "systemd", "user", service.Name)
	if runtime.GOOS == "darwin" {
		unit = filepath.Join(dir, "Library", "LaunchAgents", service.Label+".plist")
	}
	b, err := os.ReadFile(unit)
	if err != nil || !strings.Contains(string(b), os.Args[0]) || !strings.Contains(string(b), "BERTH_HOME="+filepath.Join(dir, "berth")) {
		t.Fatalf("unit file %s: %v\n%s", unit, err, b)
	}
	if !strings.Contains(r.out, "To finish, run:") || !strings.Contains(r.out, "No medium found") || len(ran) == 0 {
		t.Errorf("install without a service manager says:\n%s\n(ran %q)", r.out, ran)
	}

	if r := berth(t, "service", "status"); r.code != ExitFailure || !strings.Contains(r.out, "✓ installed") || !strings.Contains(r.out, "✗ not running") {
		t.Errorf("status before serve: exit %d\n%s", r.code, r.out)
	}

	serve := exec.Command(os.Args[0], "serve")
	serve.Env = append(os.Environ(), asBerth+"=1")
	out := &syncBuffer{}
	serve.Stdout, serve.Stderr = out, out
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- serve.Wait() }()
	t.Cleanup(func() {
		serve.Process.Kill()
		<-exited
	})
	var st serviceReport
	deadline := time.Now().Add(time.Minute)
	for {
		r := berth(t, "service", "status", "--json")
		st = serviceReport{}
		if err := json.Unmarshal([]byte(r.out), &st); err != nil {
			t.Fatalf("status --json: %v\n%s", err, r.out)
		}
		if st.Running || time.Now().After(deadline) {
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("berth serve exited: %v\n%s", err, out.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	if !st.Running || st.Pid != serve.Process.Pid || !st.Installed {
		t.Fatalf("status with serve running: %+v, want running as pid %d\n%s", st, serve.Process.Pid, out.String())
	}
	r = berth(t, "service", "status")
	t.Logf("berth service status with berth serve running:\n%s", r.out)
	if r.code != ExitOK || !strings.Contains(r.out, fmt.Sprintf("✓ running         pid %d", serve.Process.Pid)) {
		t.Errorf("status: exit %d\n%s", r.code, r.out)
	}
	doc := berth(t, "doctor")
	if !strings.Contains(doc.out, "Service         installed ("+unit+")") || !strings.Contains(doc.out, fmt.Sprintf("a Berth is running (pid %d", serve.Process.Pid)) {
		t.Errorf("doctor does not show the service:\n%s", doc.out)
	}

	serve.Process.Signal(os.Interrupt)
	if err := <-exited; err != nil {
		t.Errorf("berth serve after Ctrl-C: %v\n%s", err, out.String())
	}
	exited <- nil // for the cleanup
	if r := berth(t, "service", "status"); r.code != ExitFailure || !strings.Contains(r.out, "✗ not running") {
		t.Errorf("status after serve stopped: exit %d\n%s", r.code, r.out)
	}
	if r := berth(t, "service", "uninstall"); r.code != ExitOK {
		t.Errorf("uninstall: exit %d\n%s%s", r.code, r.out, r.err)
	}
	if _, err := os.Stat(unit); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("unit after uninstall: %v", err)
	}
}
