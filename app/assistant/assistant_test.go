package assistant

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-app/berth/app/config"
	"github.com/berth-app/berth/app/home/installtest"
	"github.com/berth-app/berth/app/mounts"
	"github.com/berth-app/berth/app/safefs"
	"github.com/berth-app/berth/app/store"
	"github.com/berth-app/berth/docker"
	"github.com/berth-app/berth/docker/dockertest"
)

// newService is a real assistant: real store in a temporary installation
// of its own, and the real engine when engine is non-nil. It leaves
// BERTH_HOME alone, so the test may run in parallel.
func newService(t *testing.T, engine Engine) (*Service, *store.Store) {
	t.Helper()
	p, st := installtest.OpenParallel(t, "", store.Options{})
	cfg, _ := config.Load(p.Config)
	cfg.Image = dockertest.TestImage
	svc := &Service{Engine: engine, Store: st, Paths: p, Config: cfg}
	if c, ok := engine.(*docker.Client); ok {
		t.Cleanup(func() { c.Reap(context.Background(), p.InstallID(), farFuture) })
		t.Cleanup(func() { svc.StopAll(context.Background()) })
	}
	return svc, st
}

// proxiedService is a service whose engine is reached through a fault proxy
// (which the test cuts, slows and restores), delivering the helper; what it
// leaves running is reaped through the real engine at the end.
func proxiedService(t *testing.T, source string) (*dockertest.Proxy, *docker.Client, *Service, *store.Store) {
	t.Helper()
	real := dockertest.Client(t)
	proxy := dockertest.NewProxy(t, real.Endpoint().Host)
	engine, err := docker.NewAt(docker.Endpoint{Host: proxy.Host(), Source: source})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { engine.Close() })
	dockertest.WithHelper(t, engine)
	svc, st := newService(t, engine)
	t.Cleanup(func() { real.Reap(context.Background(), svc.Paths.InstallID(), farFuture) })
	return proxy, engine, svc, st
}

func run(t *testing.T, svc *Service, group, script string) docker.ExecResult {
	t.Helper()
	res, err := svc.Exec(context.Background(), group, docker.ExecRequest{Argv: []string{"sh", "-c", script}})
	if err != nil {
		t.Fatalf("exec %q: %v", script, err)
	}
	return res
}

// sandboxOwned makes a folder the sandbox user can write, as a user's own
// folder is when Berth runs as that user.
func sandboxOwned(t *testing.T, dir string) {
	t.Helper()
	var uid, gid int
	if _, err := fmtSscan(docker.HostUser(), &uid, &gid); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
}

func TestGroupSettingsValidation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		kv   string
		want string
	}{
		{"network=host", "none, allowlist or open"},
		{"approval=yolo", "auto, ask-writes or ask-all"},
		{"tools=bash,rm_rf", `unknown tool "rm_rf"`},
		{"memory=8", "too small"},
		{"pids=2", "too small"},
		{"cpus=lots", "cpus"},
		{"max_age=forever", "max_age"},
		{"colour=blue", "unknown setting"},
		{"novalue", "KEY=VALUE"},
	}
	for _, c := range cases {
		var gs GroupSettings
		err := gs.Set(c.kv)
		if err == nil {
			err = gs.validate()
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.kv, err, c.want)
		}
	}
	var gs GroupSettings
	for _, kv := range []string{"network=bridge", "approval=ask-writes", "tools=bash,grep", "memory=2g", "cpus=1.5", "pids=128", "max_age=30m"} {
		if err := gs.Set(kv); err != nil {
			t.Fatalf("%s: %v", kv, err)
		}
	}
	if err := gs.validate(); err != nil || gs.MemoryMB != 2048 || len(gs.Tools) != 2 || gs.CPUs != 1.5 {
		t.Errorf("got %+v %v", gs, err)
	}
}

func TestGroupsLifecycleWithoutDocker(t *testing.T) {
	t.Parallel()
	svc, st := newService(t, fakeEngine{})
	ctx := context.Background()
	g, err := svc.AddGroup(ctx, "work", "Work", GroupSettings{Network: "bridge"})
	if err != nil {
		t.Fatal(err)
	}
	mem, err := svc.Memory("work")
	if err != nil || !strings.Contains(mem, `group "Work"`) {
		t.Errorf("memory seeded from the template: %q %v", mem, err)
	}
	if _, err := svc.AddGroup(ctx, "work", "", GroupSettings{}); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("duplicate: %v", err)
	}
	if _, err := svc.AddGroup(ctx, "Bad Name", "", GroupSettings{}); err == nil {
		t.Error("a bad slug was accepted")
	}
	if _, err := svc.Group(ctx, "nope"); !errors.Is(err, ErrNoGroup) || !strings.Contains(err.Error(), "berth group add nope") {
		t.Errorf("missing group: %v", err)
	}

	// A planted symlink in place of the memory file is refused, never followed.
	os.Remove(filepath.Join(g.Folder, MemoryFile))
	if err := os.Symlink("/etc/passwd", filepath.Join(g.Folder, MemoryFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Memory("work"); !errors.Is(err, safefs.ErrSymlink) {
		t.Errorf("memory through a symlink: got %v, want ErrSymlink", err)
	}

	// Mount decisions are audited with their reasons.
	dir := t.TempDir()
	if _, err := svc.AddMount(ctx, "work", mounts.Request{HostPath: dir, Name: "docs"}); err != nil {
		t.Fatal(err)
	}
	var rej *MountRejectedError
	if _, err := svc.AddMount(ctx, "work", mounts.Request{HostPath: svc.Paths.Data}); !errors.As(err, &rej) || rej.Decision.Rule != mounts.RuleBerthData {
		t.Errorf("data dir: got %v", err)
	}
	if _, err := svc.AddMount(ctx, "work", mounts.Request{HostPath: dir, Name: "docs"}); !errors.As(err, &rej) || rej.Decision.Rule != mounts.RuleName {
		t.Errorf("duplicate name: got %v", err)
	}
	if err := svc.RemoveMount(ctx, "work", "docs"); err != nil {
		t.Fatal(err)
	}
	if err := svc.RemoveGroup(ctx, "work", true); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(g.Folder); !os.IsNotExist(err) {
		t.Errorf("purge left the folder: %v", err)
	}
	if _, err := os.Stat("/etc/passwd"); err != nil {
		t.Errorf("purge followed the planted symlink: %v", err)
	}
	evs, _ := st.Events(ctx, store.Filter{})
	var kinds []string
	for _, e := range evs {
		kinds = append(kinds, e.Kind)
	}
	want := "group.add mount.add mount.reject mount.reject mount.remove group.remove"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("audit kinds: got %q, want %q", got, want)
	}
	if rep, _ := st.Verify(ctx); !rep.OK {
		t.Errorf("chain: %+v", rep)
	}
}

// TestMountsInARealSandbox checks what a sandbox really sees of its mounts.
func TestMountsInARealSandbox(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	svc, st := newService(t, c)
	ctx := context.Background()
	if _, err := svc.AddGroup(ctx, "work", "", GroupSettings{}); err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	ro := filepath.Join(base, "docs")
	rw := filepath.Join(base, "out")
	for _, d := range []string{ro, rw} {
		os.MkdirAll(d, 0o755)
	}
	os.WriteFile(filepath.Join(ro, "readme.txt"), []byte("hello\n"), 0o644)
	os.WriteFile(filepath.Join(ro, ".env"), []byte("API_TOKEN=s3cret\n"), 0o644)
	os.WriteFile(filepath.Join(base, "canary-outside-mounts"), []byte("x"), 0o644)
	sandboxOwned(t, rw)
	if _, err := svc.AddMount(ctx, "work", mounts.Request{HostPath: ro}); err != nil {
		t.Fatal(err)
	}
	mc, err := svc.AddMount(ctx, "work", mounts.Request{HostPath: rw, Write: true})
	if err != nil || mc.ReadOnly {
		t.Fatalf("rw mount: %+v %v", mc, err)
	}

	checks := []struct{ name, script, want string }{
		{"read-only mount refuses writes", "touch /workspace/extra/docs/new 2>&1; true", "Read-only file system"},
		{"siblings of a mask read normally", "cat /workspace/extra/docs/readme.txt", "hello"},
		{"masked secret reads empty", "wc -c < /workspace/extra/docs/.env", "0"},
		// The mask is /dev/null bound read-only: writes vanish, reads stay empty.
		{"writing a masked secret changes nothing", "echo x > /workspace/extra/docs/.env 2>/dev/null; wc -c < /workspace/extra/docs/.env", "0"},
		{"rw mount takes writes", "echo made > /workspace/extra/out/made.txt && echo ok", "ok"},
		{"group folder is writable", "echo m >> /workspace/group/MEMORY.md && echo ok", "ok"},
		{"nothing else of the host is visible", "find / -xdev -name 'canary-outside-mounts' 2>/dev/null; ls /workspace/extra", "docs\nout"},
	}
	for _, ck := range checks {
		res := run(t, svc, "work", ck.script)
		if got := strings.TrimSpace(res.Stdout.String() + res.Stderr.String()); !strings.Contains(got, ck.want) {
			t.Errorf("%s: got %q, want %q", ck.name, got, ck.want)
		}
	}
	fi, err := os.Stat(filepath.Join(rw, "made.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if got := ownerOf(fi); got != docker.HostUser() {
		t.Errorf("owner of a file written through the rw mount: got %s, want %s", got, docker.HostUser())
	}
	if b, _ := os.ReadFile(filepath.Join(ro, ".env")); string(b) != "API_TOKEN=s3cret\n" {
		t.Errorf("the secret on the host changed: %q", b)
	}
	evs, _ := st.Events(ctx, store.Filter{Kind: AuditSandboxCreate})
	if len(evs) == 0 || !strings.Contains(string(evs[len(evs)-1].Detail), `"/workspace/extra/docs/.env"`) {
		t.Errorf("the sandbox.create event lacks the masks: %v", evs)
	}
}

// TestSymlinkSwapIsRefusedAtSandboxStart: a mounted folder is replaced by a
// symlink to a blocked place after it was added.
func TestSymlinkSwapIsRefusedAtSandboxStart(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	svc, st := newService(t, c)
	ctx := context.Background()
	if _, err := svc.AddGroup(ctx, "work", "", GroupSettings{}); err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	folder := filepath.Join(base, "project")
	secrets := filepath.Join(base, ".ssh")
	os.MkdirAll(folder, 0o755)
	os.MkdirAll(secrets, 0o700)
	os.WriteFile(filepath.Join(secrets, "id_ed25519"), []byte("PRIVATE"), 0o600)
	if _, err := svc.AddMount(ctx, "work", mounts.Request{HostPath: folder}); err != nil {
		t.Fatal(err)
	}
	run(t, svc, "work", "true") // fine so far
	svc.StopAll(ctx)

	os.Remove(folder)
	if err := os.Symlink(secrets, folder); err != nil {
		t.Fatal(err)
	}
	_, err := svc.Exec(ctx, "work", docker.ExecRequest{Argv: []string{"true"}})
	if err == nil || !strings.Contains(err.Error(), "refused") || !strings.Contains(err.Error(), "berth mount rm") {
		t.Fatalf("got %v, want a refusal that says how to fix it", err)
	}
	evs, _ := st.Events(ctx, store.Filter{Kind: AuditMountRefused})
	if len(evs) != 1 || !strings.Contains(evs[0].Summary, "project") {
		t.Errorf("refusal not audited: %+v", evs)
	}
	list, _ := svc.Sandboxes(ctx)
	for _, sb := range list {
		if sb.Running() {
			t.Errorf("a sandbox started anyway: %+v", sb)
		}
	}
}

func TestSettingsChangeReplacesTheWarmSandbox(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	svc, _ := newService(t, c)
	ctx := context.Background()
	if _, err := svc.AddGroup(ctx, "work", "", GroupSettings{}); err != nil {
		t.Fatal(err)
	}
	first, _, err := svc.Sandbox(ctx, "work", CLISession)
	if err != nil {
		t.Fatal(err)
	}
	again, created, _ := svc.Sandbox(ctx, "work", CLISession)
	if created || again.ID != first.ID {
		t.Fatalf("a warm sandbox was not reused")
	}
	if _, err := svc.SetGroup(ctx, "work", []string{"pids=99"}); err != nil {
		t.Fatal(err)
	}
	next, created, err := svc.Sandbox(ctx, "work", CLISession)
	if err != nil || !created || next.ID == first.ID {
		t.Fatalf("after a settings change: created=%v same=%v %v", created, next.ID == first.ID, err)
	}
	if got := strings.TrimSpace(run(t, svc, "work", "cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max").Stdout.String()); got != "99" {
		t.Errorf("pids limit: got %s, want 99", got)
	}
}

// TestDefaultGroupExistsFromTheFirstLook: a fresh installation lists its
// default group, and reading it makes it, so that the windows of a new user
// (the mount picker, the Network view) have a group to show.
func TestDefaultGroupExistsFromTheFirstLook(t *testing.T) {
	svc, _ := newService(t, fakeEngine{})
	ctx := context.Background()
	gs, err := svc.Groups(ctx)
	if err != nil || len(gs) != 1 || gs[0].Slug != DefaultGroup || gs[0].Name != "Main" {
		t.Fatalf("a fresh installation's groups: %+v %v, want Main alone", gs, err)
	}
	if g, err := svc.Group(ctx, DefaultGroup); err != nil || g.Slug != DefaultGroup {
		t.Errorf("the default group: %+v %v", g, err)
	}
	if _, err := svc.AddGroup(ctx, "work", "Work", GroupSettings{}); err != nil {
		t.Fatal(err)
	}
	if gs, _ := svc.Groups(ctx); len(gs) != 2 {
		t.Errorf("after adding one: %d groups, want 2", len(gs))
	}
}
