package assistant

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/berth-app/berth/docker"
	"github.com/berth-app/berth/docker/dockertest"
)

// procsGroup is the group whose sandbox the leftover-process attacks use.
const procsGroup = "procs"

// TestLeftoverProcesses starts processes that try to outlive their tool
// call (a `setsid -f env -i` survivor, double forks, ignored signals, a fork
// loop, a stopped process) and a survivor that spies on later commands with
// ptrace, and makes the system calls Berth's seccomp profile takes away.
// Each attempt prints one line like TestIsolation.
func TestLeftoverProcesses(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	svc, _ := newService(t, c)
	if _, err := svc.AddGroup(context.Background(), procsGroup, "", GroupSettings{}); err != nil {
		t.Fatal(err)
	}
	folder, err := svc.groupFolder(procsGroup)
	if err != nil {
		t.Fatal(err)
	}
	// /tmp and the home folder are noexec: the probe goes in the group folder.
	buildProbe(t, filepath.Join(folder, "probe"))
	a := &arena{svc: svc}
	for _, at := range []attempt{
		{"a setsid -f env -i survivor outlives its call", setsidSurvivor},
		{"double fork, background, ignored signals, a stopped process, a fork loop, closed output", otherSurvivors},
		{"a survivor spies on later commands and PID 1 with ptrace", spyingSurvivor},
		{"system calls Berth's seccomp profile takes away", forbiddenCalls},
	} {
		t.Run(at.name, func(t *testing.T) {
			v := &verdict{}
			at.try(t, a, v)
			v.report(t, at.name)
		})
	}
}

// buildProbe builds testdata/probe as a static binary at dst.
func buildProbe(t *testing.T, dst string) {
	t.Helper()
	goTool, err := exec.LookPath("go")
	dockertest.Require(t, err == nil, "no go tool in PATH to build the probe")
	cmd := exec.Command(goTool, "build", "-o", dst, "./testdata/probe")
	// Static, for the sandbox; GOFLAGS cleared: make test's -race is for
	// the tests (and needs cgo).
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the probe: %v\n%s", err, out)
	}
	if err := os.Chmod(dst, 0o755); err != nil {
		t.Fatal(err)
	}
}

// setsidF runs cmd as `setsid -f` does (util-linux): in a new session, in
// the background, not waited for. Busybox's setsid has no -f; a background
// subshell gives the same double fork there.
func setsidF(cmd string) string {
	return "{ setsid -f " + cmd + " 2>/dev/null || (setsid " + cmd + " </dev/null >/dev/null 2>&1 &); }"
}

// psLine is one process as busybox `ps -o ppid,pid,args` shows it.
var psLine = regexp.MustCompile(`(?m)^\s*(\d+)\s+(\d+)\s+(.*)$`)

// leftovers checks, from a fresh call, that the sandbox runs nothing but
// its init, the init's one child (the main `sleep`) and this call itself:
// a survivor is either a child of the init (it was orphaned) or a
// descendant of one, so the init must have exactly one child, and only the
// init and this call may have entered from outside (parent 0).
func (a *arena) leftovers(v *verdict, after string) {
	_, out, err := a.sh(procsGroup, "ps -o ppid,pid,args", 0)
	if err != nil {
		v.unproven("ps after %s: %v", after, err)
		return
	}
	var initKids, outside []string
	n := 0
	for _, m := range psLine.FindAllStringSubmatch(out, -1) {
		n++
		switch m[1] {
		case "1":
			initKids = append(initKids, m[2]+" "+m[3])
		case "0":
			outside = append(outside, m[2]+" "+m[3])
		}
	}
	switch {
	case n < 4:
		v.unproven("ps after %s listed too little: %q", after, clip(out))
	case len(initKids) != 1 || !strings.HasPrefix(strings.Fields(initKids[0])[1], "sleep") || len(outside) != 2:
		v.escape("after %s these run: children of init %q, entered from outside %q", after, initKids, outside)
	default:
		v.block("after %s only the init, its sleep and this call run (%d processes)", after, n)
	}
}

func setsidSurvivor(t *testing.T, a *arena, v *verdict) {
	a.expect(v, procsGroup, "start it (it runs while its call does)",
		setsidF("env -i sh -c 'sleep 1000'")+`; sleep 0.2; echo "during=$(ps -o args | grep -c '^sleep 100[0]')"`, "during=1")
	a.expect(v, procsGroup, "look for it from the next call",
		`ps -o args | grep '^sleep 100[0]' | sed 's/^/`+escMark+` /'; echo looked`, "looked")
	a.leftovers(v, "the setsid survivor")
}

func otherSurvivors(t *testing.T, a *arena, v *verdict) {
	a.expect(v, procsGroup, "start six kinds (they run while their call does)",
		`(sleep 1001 &)
sleep 1002 &
setsid sh -c 'trap "" HUP INT TERM; sleep 1003' >/dev/null 2>&1 &
`+setsidF(`sh -c 'sleep 1004 & kill -STOP $$'`)+`
`+setsidF(`env -i sh -c 'while :; do sleep 1005 & sleep 0.05; done'`)+`
`+setsidF(`env -i sh -c 'exec 1>&- 2>&-; sleep 1006'`)+`
sleep 0.3; echo "during=$(ps -o args | grep '^sleep 100[1-6]$' | sort -u | wc -l)"`, "during=6")
	a.expect(v, procsGroup, "look for them from the next call",
		`ps -o args | grep '^sleep 100[1-6]$' | sed 's/^/`+escMark+` /'; echo looked`, "looked")
	a.leftovers(v, "six kinds of survivor")
}

func spyingSurvivor(t *testing.T, a *arena, v *verdict) {
	g, err := a.svc.Group(context.Background(), procsGroup)
	if err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(g.Folder, "spy.log")
	_ = os.Remove(log)
	later := "later-" + token(t)
	a.expect(v, procsGroup, "start the spy, and a command beside it",
		setsidF("env -i /workspace/group/probe spy /workspace/group/spy.log")+`; sleep 0.3; sleep 0.31; echo "spy=$(ps -o args | grep -c '^/workspace/group/probe sp[y]')"`, "spy=1")
	a.expect(v, procsGroup, "a later command", "echo "+later+"; sleep 0.5; echo done", "done")
	b, err := os.ReadFile(log)
	if err != nil {
		v.unproven("the spy's log: %v", err)
		return
	}
	body := string(b)
	if !strings.Contains(body, "spy ") {
		v.unproven("the spy never ran: %q", clip(body))
		return
	}
	if m := regexp.MustCompile(`(?m)^ptrace 1: (\S+)$`).FindStringSubmatch(body); m == nil {
		v.unproven("the spy did not try PID 1: %q", clip(body))
	} else if m[1] != "EPERM" {
		v.escape("ptrace PID 1: %s", m[1])
	} else {
		v.block("ptrace PID 1: EPERM")
	}
	if m := regexp.MustCompile(`(?m)^seen (\d+) sleep 0\.31$`).FindStringSubmatch(body); m == nil {
		v.unproven("the spy did not see the command beside it: %q", clip(body))
	} else if r := regexp.MustCompile(`(?m)^ptrace ` + m[1] + `: (\S+)$`).FindStringSubmatch(body); r == nil || r[1] != "EPERM" {
		v.escape("ptrace of the command beside it (pid %s): %v", m[1], r)
	} else {
		v.block("ptrace of the command running beside it (pid %s): EPERM", m[1])
	}
	if strings.Contains(body, later) {
		v.escape("the spy saw the later command: %q", clip(body))
	} else {
		v.block("the spy never saw the later command: it was killed when its own call ended")
	}
	a.leftovers(v, "the spy")
}

func forbiddenCalls(t *testing.T, a *arena, v *verdict) {
	// The same probe on the host, without the profile, shows the calls work
	// there: an EPERM in the sandbox is the profile's doing.
	host := filepath.Join(t.TempDir(), "probe")
	buildProbe(t, host)
	hostOut, err := exec.Command(host, "calls").CombinedOutput()
	if err != nil {
		t.Fatalf("probe on the host: %v\n%s", err, hostOut)
	}
	_, out, err := a.sh(procsGroup, "/workspace/group/probe calls", 0)
	if err != nil {
		v.unproven("probe calls: %v", err)
		return
	}
	parse := func(s string) map[string]string {
		m := map[string]string{}
		for _, l := range strings.Split(s, "\n") {
			if k, val, ok := strings.Cut(l, ": "); ok {
				m[k] = strings.TrimSpace(val)
			}
		}
		return m
	}
	in, onHost := parse(out), parse(string(hostOut))
	for _, name := range []string{"ptrace", "process_vm_readv", "process_vm_writev", "io_uring_setup", "io_uring_enter", "io_uring_register",
		"userfaultfd", "perf_event_open", "bpf", "keyctl", "add_key", "request_key", "personality PER_LINUX32"} {
		switch got := in[name]; got {
		case "EPERM":
			v.block("%s: EPERM (host without the profile: %s)", name, onHost[name])
		case "":
			v.unproven("%s: no result in %q", name, clip(out))
		default:
			v.escape("%s: %s", name, got)
		}
	}
	if got := in["personality query"]; got != "ok" {
		v.unproven("personality(0xffffffff), which only asks, should still work: %q", got)
	}
}

// TestLeftoverCheckCatchesASurvivor proves that leftovers would see a
// survivor: in one call a survivor is started and, while it still runs, the
// same check is made.
func TestLeftoverCheckCatchesASurvivor(t *testing.T) {
	t.Parallel()
	// The docker exec path's premise: through the helper (a subreaper) the
	// survivor is the helper's child instead (see docker's TestHelper*).
	c := dockertest.WithoutHelper(dockertest.Client(t))
	svc, _ := newService(t, c)
	if _, err := svc.AddGroup(context.Background(), procsGroup, "", GroupSettings{}); err != nil {
		t.Fatal(err)
	}
	a := &arena{svc: svc}
	_, out, err := a.sh(procsGroup, setsidF("sleep 1000")+"; sleep 0.2; ps -o ppid,pid,args", 0)
	if err != nil {
		t.Fatal(err)
	}
	kids := 0
	for _, m := range psLine.FindAllStringSubmatch(out, -1) {
		if m[1] == "1" {
			kids++
		}
	}
	if kids != 2 {
		t.Fatalf("with a survivor running the init should have 2 children, got %d in %q", kids, out)
	}
	fmt.Printf("control: while its call runs, a setsid survivor is the init's second child\n")
}

// tmpfsModesImage is the busybox test image with /tmp and /home/berth made
// 0755 root, as some images have them: runc gives a tmpfs the mode of the
// folder under it, so these would come out unwritable or open to all.
func tmpfsModesImage(t *testing.T, c *docker.Client) string {
	t.Helper()
	const ref = "berth-test:tmpfs-modes"
	ctx := context.Background()
	if ok, err := c.ImagePresent(ctx, ref); err != nil || ok {
		if err != nil {
			t.Fatal(err)
		}
		return ref
	}
	rootfs, err := dockertest.BusyboxRootfs(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tr, tw := tar.NewReader(bytes.NewReader(rootfs)), tar.NewWriter(&buf)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Name == "tmp/" {
			hdr.Mode = 0o755
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(tw, tr); err != nil {
			t.Fatal(err)
		}
		if hdr.Name == "home/" {
			if err := tw.WriteHeader(&tar.Header{Name: "home/berth/", Typeflag: tar.TypeDir, Mode: 0o755}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.ImportRootfs(ctx, ref, &buf, []string{`CMD ["/bin/sh"]`}); err != nil {
		t.Fatal(err)
	}
	return ref
}

// TestTmpfsModes checks from inside a sandbox whose image has /tmp and the
// home folder 0755 root that Berth's modes win: /tmp 1777, home 0700, both
// the sandbox user's.
func TestTmpfsModes(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	svc, _ := newService(t, c)
	img := tmpfsModesImage(t, c)
	if _, err := svc.AddGroup(context.Background(), "modes", "", GroupSettings{Image: img}); err != nil {
		t.Fatal(err)
	}
	a := &arena{svc: svc}
	v := &verdict{}
	uid := strings.Split(docker.HostUser(), ":")[0]
	a.expect(v, "modes", "/tmp", "stat -c 'mode=%a owner=%u' /tmp", "mode=1777 owner="+uid)
	a.expect(v, "modes", docker.SandboxHome, "stat -c 'mode=%a owner=%u' "+docker.SandboxHome, "mode=700 owner="+uid)
	a.expect(v, "modes", "write both", "touch /tmp/x "+docker.SandboxHome+"/x && echo wrote", "wrote")
	v.report(t, "tmpfs modes in an image whose /tmp and home are 0755 root")
}
