package assistant

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-app/berth/app/mounts"
	"github.com/berth-app/berth/app/store"
	"github.com/berth-app/berth/docker"
	"github.com/berth-app/berth/docker/dockertest"
)

// mountArena is the world of the mount attacks: a real Berth service, a
// group whose read-write mount an attacker controls, and a private host
// folder outside every mount that must never be seen from a sandbox.
type mountArena struct {
	svc         *Service
	c           *docker.Client
	base        string // holds everything below, outside every mount
	rw          string // the attacker's read-write mount
	private     string // a host folder no mount reaches
	privateName string // a file in it
	privateBody string
}

// TestIsolationMounts makes the attacks on mounts of issue 11 from Berth's
// real code path against a real engine: a symlink race during sandbox
// starts, mounts planted inside writable folders, a secret scan exhausted
// from inside, a secret appearing while a sandbox is warm. Each attempt
// prints one line, as TestIsolation does.
func TestIsolationMounts(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	svc, _ := newService(t, c)
	ctx := context.Background()
	base, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	a := &mountArena{svc: svc, c: c, base: base, rw: filepath.Join(base, "out"), private: filepath.Join(base, "private")}
	a.privateName, a.privateBody = "private-"+token(t), "private-body-"+token(t)
	for _, d := range []string{a.rw, a.private} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	mustWrite(t, filepath.Join(a.private, a.privateName), a.privateBody)
	sandboxOwned(t, a.rw)
	if _, err := svc.AddGroup(ctx, "racer", "", GroupSettings{}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddMount(ctx, "racer", mounts.Request{HostPath: a.rw, Write: true}); err != nil {
		t.Fatal(err)
	}
	for _, at := range []struct {
		name string
		try  func(t *testing.T, a *mountArena, v *verdict)
	}{
		{"mount a folder inside another sandbox's writable folder", plantInsideWritable},
		{"swap a mount's folder for a symlink while sandboxes start", raceMountSource},
		{"exhaust the secret scan from inside to unmask a secret", exhaustScan},
		{"read a secret created on the host while the sandbox is warm", warmSecret},
		{"get a sandbox whose start was never verified reused", unverifiedReuse},
	} {
		t.Run(at.name, func(t *testing.T) {
			v := &verdict{}
			at.try(t, a, v)
			v.report(t, at.name)
		})
	}
}

// lastEvent returns the newest audit event of a kind in a group.
func (a *mountArena) lastEvent(group, kind string) (store.Event, bool) {
	evs, err := a.svc.Store.Events(context.Background(), store.Filter{Group: group, Kind: kind, Limit: 1, Newest: true})
	if err != nil || len(evs) == 0 {
		return store.Event{}, false
	}
	return evs[len(evs)-1], true
}

func plantInsideWritable(t *testing.T, a *mountArena, v *verdict) {
	ctx := context.Background()
	if _, err := a.svc.AddGroup(ctx, "planter", "", GroupSettings{}); err != nil {
		t.Fatal(err)
	}
	inside := filepath.Join(a.rw, "target")
	if err := os.MkdirAll(inside, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct {
		probe, group, path string
		write              bool
		rule, names        string
	}{
		{"another group mounts a folder inside the rw mount", "planter", inside, false, mounts.RuleInsideWritable, a.rw},
		{"the same group does", "racer", inside, false, mounts.RuleInsideWritable, a.rw},
		{"a folder inside another group's folder", "planter", filepath.Join(a.svc.Paths.GroupDir("racer"), "x"), false, "", ""},
		{"a rw mount around an existing mount", "planter", a.base, true, mounts.RuleHoldsMount, a.rw},
	} {
		if p.rule == "" {
			// Group folders live in Berth's data folder, refused whole.
			_ = os.MkdirAll(p.path, 0o755)
		}
		_, err := a.svc.AddMount(ctx, p.group, mounts.Request{HostPath: p.path, Name: "planted", Write: p.write})
		var rej *MountRejectedError
		switch {
		case !errors.As(err, &rej):
			v.escape("%s: accepted (%v)", p.probe, err)
		case p.rule == "" && rej.Decision.Rule != mounts.RuleBerthData && rej.Decision.Rule != mounts.RuleInsideWritable:
			v.unproven("%s: refused by rule %q: %s", p.probe, rej.Decision.Rule, rej.Decision.Reason)
		case p.rule != "" && (rej.Decision.Rule != p.rule || !strings.Contains(rej.Decision.Reason, p.names)):
			v.unproven("%s: refused by rule %q (%s), want %q naming %s", p.probe, rej.Decision.Rule, rej.Decision.Reason, p.rule, p.names)
		default:
			v.block("%s → %s", p.probe, rej.Decision.Rule)
		}
	}
	// A mount saved before the rule existed (or one whose surroundings
	// turned writable since) is refused at the next sandbox start.
	if _, err := a.svc.Store.AddMount(ctx, store.Mount{Group: "planter", Name: "old", HostPath: inside, ReadOnly: true}); err != nil {
		t.Fatal(err)
	}
	defer a.svc.Store.RemoveMount(ctx, "planter", "old")
	_, _, err := a.svc.Sandbox(ctx, "planter", CLISession)
	ev, audited := a.lastEvent("planter", AuditMountRefused)
	switch {
	case err == nil:
		v.escape("a sandbox started with the stored mount inside the rw mount")
	case !strings.Contains(err.Error(), "lies inside") || !audited || !strings.Contains(ev.Summary, "old"):
		v.unproven("start refused, but not by the rule: %v (audited %v %q)", err, audited, ev.Summary)
	default:
		v.block("the stored mount refused at start, audited as %s", AuditMountRefused)
	}
}

// flipper swaps dir and link (a symlink to elsewhere) with
// renameat2(RENAME_EXCHANGE) until stop is closed, as a process in a
// sandbox with that folder read-write can.
func flipper(t *testing.T, dir, link string, stop <-chan struct{}) *atomic.Int64 {
	t.Helper()
	var n atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := unix.Renameat2(unix.AT_FDCWD, dir, unix.AT_FDCWD, link, unix.RENAME_EXCHANGE); err == nil {
				n.Add(1)
			}
			// Thousands of swaps a second still leave each start's check and
			// bind (milliseconds apart) a coin toss of which side they see; a
			// flat-out spin would only take a core from the rest of the tests.
			time.Sleep(50 * time.Microsecond)
		}
	}()
	t.Cleanup(wg.Wait)
	return &n
}

func raceMountSource(t *testing.T, a *mountArena, v *verdict) {
	ctx := context.Background()
	g, err := a.svc.Group(ctx, "racer")
	if err != nil {
		t.Fatal(err)
	}
	target, link := filepath.Join(a.rw, "race"), filepath.Join(a.rw, "race-link")
	if err := os.MkdirAll(target, 0o755); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(target, "ok.txt"), "ok")
	if err := os.Symlink(a.private, link); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	flips := flipper(t, target, link, stop)
	defer close(stop)

	// Through Berth: the rule refuses the mount at add, whatever the race.
	if _, err := a.svc.AddGroup(ctx, "victim-race", "", GroupSettings{}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.svc.AddMount(ctx, "victim-race", mounts.Request{HostPath: target, Name: "race"}); err == nil {
		v.escape("a mount inside the flipped rw folder was accepted")
	} else {
		v.block("adding the mount during the race: %s", clip(err.Error()))
	}

	// Below the rule: sandboxes made straight from a spec that mounts the
	// flipped path, each then checked by Berth's verification (the second
	// line of defence, for a writable folder the rule could not see).
	// At least 12 starts; more (up to 120) until one caught the swap.
	const minStarts, maxStarts = 12, 120
	var verified, mismatched, unverifiable, failed, starts int
	for i := 0; i < maxStarts && (i < minStarts || mismatched == 0); i++ {
		starts++
		spec, err := a.svc.sandboxSpec(ctx, g, fmt.Sprintf("race%d", i))
		if err != nil {
			t.Fatal(err)
		}
		spec.Mounts = append(spec.Mounts, docker.Mount{Host: target, Container: docker.ExtraDir + "/race", ReadOnly: true})
		sb, err := a.c.CreateSandbox(ctx, spec)
		if err != nil {
			failed++ // e.g. the path was a link to a folder Docker could not bind
			if sb.ID != "" {
				_ = a.c.RemoveSandbox(ctx, sb.ID)
			}
			continue
		}
		_, err = a.svc.verifyMounts(ctx, sb, spec)
		var mm *docker.MountMismatchError
		switch {
		case errors.As(err, &mm):
			mismatched++
			if gone, _ := a.c.InspectSandbox(ctx, sb.ID); gone.Running() {
				v.escape("start %d: a mismatched sandbox still runs", i)
			}
		case err != nil:
			unverifiable++
		default:
			verified++
			res, err := a.c.Exec(ctx, sb.ID, docker.ExecRequest{Argv: []string{"sh", "-c", "ls /workspace/extra/race; cat /workspace/extra/race/* 2>/dev/null"}})
			out := res.Stdout.String()
			switch {
			case err != nil:
				v.unproven("start %d: probe: %v", i, err)
			case strings.Contains(out, a.privateName) || strings.Contains(out, a.privateBody):
				v.escape("start %d: a verified sandbox sees the private folder: %q", i, clip(out))
			case !strings.Contains(out, "ok.txt"):
				v.unproven("start %d: the verified mount shows %q", i, clip(out))
			}
		}
		_ = a.c.RemoveSandbox(ctx, sb.ID)
	}
	ev, audited := a.lastEvent("racer", AuditMountMismatch)
	switch {
	case flips.Load() == 0:
		v.unproven("the flipper never swapped")
	case mismatched == 0:
		v.unproven("no start caught the swap (%d verified, %d unverifiable, %d failed): the race did not happen", verified, unverifiable, failed)
	case !audited || !strings.Contains(ev.Summary, docker.ExtraDir+"/race"):
		v.unproven("mismatches were not audited as %s naming the mount: %q", AuditMountMismatch, ev.Summary)
	default:
		v.block("%d starts during %d swaps: %d mounted the private folder and were caught and removed (audited %s), %d verified as the real folder, %d unverifiable and removed, %d failed to start",
			starts, flips.Load(), mismatched, AuditMountMismatch, verified, unverifiable, failed)
	}
}

func exhaustScan(t *testing.T, a *mountArena, v *verdict) {
	ctx := context.Background()
	const limit = 300
	old := a.svc.Settings()
	defer a.svc.SetSettings(old)
	c := old
	c.ScanMaxFiles = limit
	a.svc.SetSettings(c) // the service may be reading its settings meanwhile
	if _, err := a.svc.AddGroup(ctx, "planted", "", GroupSettings{}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(a.base, "proj")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	sandboxOwned(t, dir)
	secret := "API_TOKEN=" + token(t)
	mustWrite(t, filepath.Join(dir, ".env"), secret)
	if mc, err := a.svc.AddMount(ctx, "planted", mounts.Request{HostPath: dir, Write: true}); err != nil || !slices.Contains(mc.Scan.Masked, ".env") {
		t.Fatalf("mount: %+v %v", mc, err)
	}
	// From inside: make enough folders that the directory is listed in
	// hash order (ext4 keeps a small one in creation order, .env first),
	// pick one listed before .env (the scan walks in that order; busybox
	// find lists unsorted, like ls -f), and fill it past the limit.
	_, out, err := (&arena{svc: a.svc}).sh("planted", fmt.Sprintf(`cd /workspace/extra/proj && seq 600 | sed 's/^/d/' | xargs mkdir -p
first=$(find . -maxdepth 1 -mindepth 1 | while read -r n; do n=${n#./}; [ "$n" = .env ] && break; case $n in d[0-9]*) echo $n; break;; esac; done)
[ -n "$first" ] || { echo "no folder listed before .env"; exit 1; }
i=0; while [ $i -lt %d ]; do : > $first/f$i; i=$((i+1)); done; echo "filled $first"; echo "bytes=$(cat .env | wc -c)"`, limit+50), time.Minute)
	if err != nil || !strings.Contains(out, "filled") || !strings.Contains(out, "bytes=0") {
		v.unproven("plant: %q %v", clip(out), err)
		return
	}
	// The plant works against a scan that goes ahead on a partial result.
	if scan, err := mounts.Scan(ctx, dir, mounts.ScanLimits{MaxFiles: limit}); err != nil || !scan.Truncated || slices.Contains(scan.Masked, ".env") {
		v.unproven("the plant does not hide .env from a bounded scan: %+v %v", scan, err)
		return
	}
	v.block("plant in place: a bounded scan stops before .env")
	if _, err := a.svc.StopAll(ctx); err != nil {
		t.Fatal(err)
	}
	_, out, err = (&arena{svc: a.svc}).sh("planted", "cat /workspace/extra/proj/.env; echo; echo bytes=$(cat /workspace/extra/proj/.env | wc -c)", 20*time.Second)
	ev, audited := a.lastEvent("planted", AuditMountRefused)
	switch {
	case err == nil && strings.Contains(out, secret):
		v.escape("the next sandbox reads .env in clear: %q", clip(out))
	case err == nil && strings.Contains(out, "bytes=0"):
		v.block(".env still masked in the next sandbox")
	case err != nil && strings.Contains(err.Error(), fmt.Sprintf("more than %d files and folders", limit)) && strings.Contains(err.Error(), "raise the limit"):
		if !audited || !strings.Contains(ev.Summary, "proj") {
			v.unproven("refused without an audit event: %q", ev.Summary)
		}
		v.block("the next start refused: %s", clip(err.Error()))
	default:
		v.unproven("next start: %q %v", clip(out), err)
	}
}

func warmSecret(t *testing.T, a *mountArena, v *verdict) {
	ctx := context.Background()
	if _, err := a.svc.AddGroup(ctx, "warm", "", GroupSettings{}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(a.base, "notes")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(dir, "readme.txt"), "hello")
	if _, err := a.svc.AddMount(ctx, "warm", mounts.Request{HostPath: dir}); err != nil {
		t.Fatal(err)
	}
	first, created, err := a.svc.Sandbox(ctx, "warm", CLISession)
	if err != nil || !created {
		t.Fatalf("first sandbox: created %v, %v", created, err)
	}
	ev, ok := a.lastEvent("warm", AuditSandboxCreate)
	var detail struct {
		Mounts docker.Verification `json:"mounts"`
	}
	if !ok || json.Unmarshal(ev.Detail, &detail) != nil || !detail.Mounts.Verified || len(detail.Mounts.Mounts) != 2 ||
		detail.Mounts.Mounts[1].Host != dir || detail.Mounts.Mounts[1].Ino == 0 {
		v.unproven("sandbox.create does not record the verified sources: %s", ev.Detail)
	} else {
		v.block("sandbox.create records each verified source (%s at dev %d inode %d)", dir, detail.Mounts.Mounts[1].Dev, detail.Mounts.Mounts[1].Ino)
	}
	secret := "DB_PASSWORD=" + token(t)
	mustWrite(t, filepath.Join(dir, ".env.local"), secret) // the user saves a secret while the sandbox is warm
	res, err := a.c.Exec(ctx, first.ID, docker.ExecRequest{Argv: []string{"cat", docker.ExtraDir + "/notes/.env.local"}})
	if err != nil || !strings.Contains(res.Stdout.String(), secret) {
		v.unproven("the warm sandbox cannot read the new file, so there is nothing to prove: %q %v", clip(res.Stdout.String()), err)
	}
	_, out, err := (&arena{svc: a.svc}).sh("warm", "cat /workspace/extra/notes/.env.local; echo; echo bytes=$(cat /workspace/extra/notes/.env.local | wc -c)", 20*time.Second)
	now, _, serr := a.svc.Sandbox(ctx, "warm", CLISession)
	masks, masked := a.lastEvent("warm", AuditMountMasks)
	switch {
	case err != nil || serr != nil:
		v.unproven("next command: %q %v %v", clip(out), err, serr)
	case strings.Contains(out, secret):
		v.escape("the next command reads the new secret: %q", clip(out))
	case now.ID == first.ID:
		v.escape("the warm sandbox was reused after a secret appeared")
	case !strings.Contains(out, "bytes=0") || !masked || !strings.Contains(masks.Summary, ".env.local"):
		v.unproven("replaced, but: %q, masks event %q", clip(out), masks.Summary)
	default:
		v.block("the warm sandbox was replaced before the next command, which reads the new .env.local empty (audited %s: %s)", AuditMountMasks, masks.Summary)
	}
}

// unverifiedReuse leaves a sandbox running as a Berth that stopped between
// the start and the verification would (same labels, same spec digest, no
// audit event), and asks for the group's warm sandbox.
func unverifiedReuse(t *testing.T, a *mountArena, v *verdict) {
	ctx := context.Background()
	g, err := a.svc.AddGroup(ctx, "crashed", "", GroupSettings{})
	if err != nil {
		t.Fatal(err)
	}
	spec, err := a.svc.sandboxSpec(ctx, g, CLISession)
	if err != nil {
		t.Fatal(err)
	}
	left, err := a.c.CreateSandbox(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	defer a.c.RemoveSandbox(ctx, left.ID)
	got, created, err := a.svc.Sandbox(ctx, g.Slug, CLISession)
	after, _ := a.c.InspectSandbox(ctx, left.ID)
	switch {
	case err != nil:
		v.unproven("Sandbox: %v", err)
	case got.ID == left.ID || !created:
		v.escape("the unverified sandbox %s was reused", left.Name)
	case after.Running():
		v.unproven("a fresh sandbox was made, but the unverified one still runs")
	default:
		v.block("the unverified sandbox (same spec digest, no %s event) was stopped and a fresh, verified one made", AuditSandboxCreate)
	}
}
