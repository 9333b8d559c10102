package docker_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-app/berth/docker"
	"github.com/berth-app/berth/docker/dockertest"
)

// testHome gives each test its own installation label, so that reaping in
// one test never touches another test's sandboxes.
func testHome(t *testing.T) string {
	return "t" + strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
}

func newSandbox(t *testing.T, c *docker.Client, mutate func(*docker.Spec)) docker.Sandbox {
	t.Helper()
	dir := t.TempDir()
	// The sandbox runs as nobody when the tests run as root; let it write.
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	spec := docker.Spec{
		Image: dockertest.TestImage, InstallationID: testHome(t), Group: "g1", Session: "s1",
		Mounts: []docker.Mount{{Host: dir, Container: docker.GroupDir}},
		Memory: 64 << 20, Pids: 64, TmpSize: 8 << 20, MaxAge: 10 * time.Minute,
	}
	if mutate != nil {
		mutate(&spec)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sb, err := c.CreateSandbox(ctx, spec)
	if err != nil {
		t.Fatalf("create sandbox: %v", err)
	}
	t.Cleanup(func() { _ = c.RemoveSandbox(context.Background(), sb.ID) })
	return sb
}

func run(t *testing.T, c *docker.Client, id string, argv ...string) docker.ExecResult {
	t.Helper()
	res, err := c.Exec(context.Background(), id, docker.ExecRequest{Argv: argv, Timeout: 20 * time.Second})
	if err != nil {
		t.Fatalf("exec %q: %v", argv, err)
	}
	return res
}

// TestSandboxHardeningIsApplied checks from inside a real sandbox that every
// hardening default is really in force, not just requested.
func TestSandboxHardeningIsApplied(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	sb := newSandbox(t, c, nil)
	if sb.Group != "g1" || sb.Session != "s1" || sb.InstallationID != testHome(t) || !sb.Running() {
		t.Fatalf("labels/state: got %+v", sb)
	}
	status := run(t, c, sb.ID, "cat", "/proc/self/status").Stdout.String()
	field := func(name string) string {
		for _, l := range strings.Split(status, "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && k == name {
				return strings.TrimSpace(v)
			}
		}
		return ""
	}
	wantUID := strings.Split(docker.HostUser(), ":")[0]
	checks := []struct{ name, argv, want string }{
		{"runs as the host user, never root", "id -u", wantUID},
		{"root filesystem is read-only", "touch /rootfile 2>&1; echo $?", "Read-only file system"},
		{"no network interfaces but lo", "ls /sys/class/net", "lo"},
		{"/tmp is a capped tmpfs", "df -k /tmp | tail -1", "8192"},
		{"home is writable tmpfs", "touch $HOME/x && echo ok", "ok"},
		{"group folder is writable", "touch /workspace/group/x && echo ok", "ok"},
		{"PID 1 is the init", "cat /proc/1/cmdline | tr '\\0' ' '", "docker-init"},
		{"no docker socket", "ls /var/run/docker.sock /run/docker.sock 2>&1", "No such file"},
	}
	for _, ck := range checks {
		got := strings.TrimSpace(run(t, c, sb.ID, "sh", "-c", ck.argv).Stdout.String())
		if !strings.Contains(got, ck.want) {
			t.Errorf("%s: `%s` printed %q, want %q", ck.name, ck.argv, got, ck.want)
		}
	}
	if got := field("CapEff"); got != "0000000000000000" {
		t.Errorf("CapEff: got %s, want all zero", got)
	}
	if got := field("NoNewPrivs"); got != "1" {
		t.Errorf("NoNewPrivs: got %s, want 1", got)
	}
	// The engine's own view agrees.
	mem := run(t, c, sb.ID, "sh", "-c", "cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes").Stdout.String()
	if strings.TrimSpace(mem) != "67108864" {
		t.Errorf("memory limit: got %q, want 67108864", mem)
	}
	cpu := run(t, c, sb.ID, "sh", "-c", "cat /sys/fs/cgroup/cpu.max 2>/dev/null || echo $(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us) $(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us)").Stdout.String()
	if f := strings.Fields(cpu); len(f) != 2 || f[0] != f[1] {
		t.Errorf("cpu limit: got %q, want a quota of one CPU (quota = period)", cpu)
	}
	pids := run(t, c, sb.ID, "sh", "-c", "cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max").Stdout.String()
	if strings.TrimSpace(pids) != "64" {
		t.Errorf("pids limit: got %q, want 64", pids)
	}
}

func TestSandboxMaxAgeEndsIt(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	sb := newSandbox(t, c, func(s *docker.Spec) { s.MaxAge = time.Second })
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		_, err := c.InspectSandbox(context.Background(), sb.ID)
		if err != nil {
			return // gone: ended by itself and auto-removed
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatal("a sandbox past its max age is still there after 20 s")
}

func TestReapRemovesOnlyThisInstallationsDeadOrExpired(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	ctx := context.Background()
	live := newSandbox(t, c, func(s *docker.Spec) { s.Session = "live" })
	expired := newSandbox(t, c, func(s *docker.Spec) { s.Session = "old"; s.MaxAge = 3 * time.Second })
	other := newSandbox(t, c, func(s *docker.Spec) { s.InstallationID = "someone-else"; s.Session = "x"; s.MaxAge = 3 * time.Second })

	// Reap as if it were later than the short-lived ones' expiry but before
	// they end by themselves.
	reaped, err := c.Reap(ctx, testHome(t), time.Now().Add(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if len(reaped) != 1 || reaped[0].ID != expired.ID {
		t.Fatalf("reaped %+v, want only the expired sandbox %s", reaped, expired.ID)
	}
	if sb, err := c.InspectSandbox(ctx, live.ID); err != nil || !sb.Running() {
		t.Errorf("live sandbox: %v %+v, want running", err, sb)
	}
	if _, err := c.InspectSandbox(ctx, other.ID); err != nil {
		t.Errorf("another installation's sandbox was touched: %v", err)
	}
	list, err := c.ListSandboxes(ctx, docker.Filter{InstallationID: testHome(t)})
	if err != nil {
		t.Fatal(err)
	}
	for _, sb := range list {
		if sb.ID == expired.ID && sb.State == "running" {
			t.Errorf("expired sandbox still listed as running")
		}
	}
	if _, err := c.Reap(ctx, "", time.Now()); err == nil {
		t.Error("reaping with no installation would remove everyone's sandboxes")
	}
	// Removing twice, or a sandbox that is gone, is not an error.
	if err := c.RemoveSandbox(ctx, expired.ID); err != nil {
		t.Errorf("second remove: %v", err)
	}
	if err := c.StopSandbox(ctx, "0123456789ab"); err != nil {
		t.Errorf("stop of a missing sandbox: %v", err)
	}
}

func TestFilesThroughTheArchiveAPI(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	sb := newSandbox(t, c, nil)
	ctx := context.Background()
	data := []byte("hello\x00\xffworld\n")
	if err := c.PutFile(ctx, sb.ID, "/workspace/group/notes.bin", data, 0o644, docker.HostUser()); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetFile(ctx, sb.ID, "/workspace/group/notes.bin", 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(data) {
		t.Errorf("got %q, want %q", got, data)
	}
	owner := strings.TrimSpace(run(t, c, sb.ID, "stat", "-c", "%u:%g", "/workspace/group/notes.bin").Stdout.String())
	if owner != docker.HostUser() {
		t.Errorf("owner inside: got %s, want %s", owner, docker.HostUser())
	}
	if _, err := c.GetFile(ctx, sb.ID, "/workspace/group/notes.bin", 4); err == nil {
		t.Error("a file over the limit was returned")
	}
	if _, err := c.GetFile(ctx, sb.ID, "/workspace/group/missing", 100); err == nil {
		t.Error("a missing file was returned")
	}
	if err := c.PutFile(ctx, sb.ID, "/etc/evil", data, 0o644, docker.HostUser()); err == nil {
		t.Error("wrote into the read-only root filesystem")
	}
	if _, err := os.Stat(filepath.Join("/etc", "evil")); err == nil {
		t.Error("/etc/evil appeared on the host")
	}
}
