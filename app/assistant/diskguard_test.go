//go:build linux

package assistant

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-app/berth/app/config"
	"github.com/berth-app/berth/app/disk"
	"github.com/berth-app/berth/app/home"
	"github.com/berth-app/berth/app/store"
	"github.com/berth-app/berth/docker"
	"github.com/berth-app/berth/docker/dockertest"
)

// diskHome mounts a small tmpfs (64 MiB, 8192 inodes) as BERTH_HOME, so
// that the data folder, the audit log and the group folders share one small
// disk, and returns a service on it.
func diskHome(t *testing.T, c *docker.Client) (*Service, *store.Store) {
	t.Helper()
	dockertest.Require(t, os.Geteuid() == 0, "mounting a small tmpfs as the data folder needs root")
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=64m,nr_inodes=8192,mode=0755"); err != nil {
		dockertest.Require(t, false, "cannot mount a tmpfs here: "+err.Error())
	}
	// Registered first, so it runs last: after the store is closed and the
	// sandboxes are gone.
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	t.Setenv("BERTH_HOME", dir)
	p, err := home.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Ensure(); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(p.DB, store.Options{OnError: func(error) {}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg, _ := config.Load(p.Config)
	cfg.Image = dockertest.TestImage
	svc := &Service{Engine: c, Store: st, Paths: p, Config: cfg}
	t.Cleanup(func() { c.Reap(context.Background(), p.InstallID(), farFuture) })
	t.Cleanup(func() { svc.StopAll(context.Background()) })
	return svc, st
}

// TestDiskGuard fills the disk that holds the audit log from inside a
// sandbox, once with data and once with empty files, and checks that the
// guard kills the command, closes the gate (the service's and a running
// runtime's) with the reason, records its event in a chain that still
// verifies, refuses the next command, and opens the gate again once there
// is room. One line per attempt, like TestIsolation.
func TestDiskGuard(t *testing.T) {
	c := dockertest.Client(t)
	svc, st := diskHome(t, c)
	ctx := context.Background()
	if _, err := svc.AddGroup(ctx, "filler", "", GroupSettings{}); err != nil {
		t.Fatal(err)
	}
	g, err := svc.Group(ctx, "filler")
	if err != nil {
		t.Fatal(err)
	}
	r := startRuntime(t, svc, c, RuntimeConfig{})
	events, unsub := r.Subscribe()
	defer unsub()
	for _, at := range []struct{ name, script, left string }{
		{"fill the disk holding the audit log with data", `i=0; while :; do dd if=/dev/zero of=/workspace/group/fill$i bs=1M count=1 2>/dev/null; i=$((i+1)); done`, "B left"},
		{"fill its inodes with empty files", `i=0; while :; do true > /workspace/group/f$i; i=$((i+1)); done 2>/dev/null`, "files left"},
	} {
		t.Run(at.name, func(t *testing.T) {
			v := &verdict{}
			waitOpen(t, r)
			before, _ := disk.Free(svc.Paths.Data)
			res, err := svc.Exec(ctx, "filler", docker.ExecRequest{Argv: []string{"sh", "-c", at.script}, Timeout: 2 * time.Minute})
			after, _ := disk.Free(svc.Paths.Data)
			var low *DiskLowError
			switch {
			case errors.As(err, &low) && res.Canceled && !res.TimedOut && strings.Contains(low.Left, at.left):
				v.block("the command was killed after %s: %v (free before: %s, %d files; after: %s, %d files)",
					res.Duration.Round(time.Millisecond), err, disk.Size(before.Avail), before.FreeInodes, disk.Size(after.Avail), after.FreeInodes)
			case res.TimedOut:
				v.escape("the command filled the disk until its time limit: %v", err)
			default:
				v.unproven("exec: canceled %v, error %v", res.Canceled, err)
			}
			gateSays(v, "the service's gate", func() (string, error) { _, err := svc.gate().Check(ctx); return "", err })
			ev := waitEvent(t, events, 30*time.Second, "the runtime's gate closing", func(e Event) bool { return e.Kind == EventGate && e.Gate != nil && !e.Gate.Open && e.Gate.Disk != "" })
			if reason := ev.Gate.Reason; ev.Gate.Disk != "" && strings.Contains(reason, "the disk holding Berth's data folder") && strings.Contains(reason, "is almost full") {
				v.block("the runtime's gate closed: %q", reason)
			} else {
				v.escape("the runtime's gate closed for another reason: %+v", ev.Gate)
			}
			if _, err := svc.Exec(ctx, "filler", docker.ExecRequest{Argv: []string{"true"}}); !isGateClosed(err) {
				v.escape("the next command was not refused: %v", err)
			} else {
				v.block("the next command is refused")
			}
			evs, err := st.Events(ctx, store.Filter{})
			if err != nil {
				t.Fatal(err)
			}
			var guard, room int
			for _, e := range evs {
				switch {
				case e.Kind == AuditDiskLow && strings.Contains(e.Summary, "the running command was killed"):
					guard++
				case e.Kind == store.AuditRoomUsed:
					room++
				}
			}
			rep, err := st.Verify(ctx)
			switch {
			case err != nil || !rep.OK:
				v.escape("the audit chain does not verify: %+v %v", rep, err)
			case guard == 0:
				v.escape("the guard's event is not in the audit log")
			default:
				v.block("the audit chain verifies (%d events) and holds the guard's event; the room kept for the log was used %d times", rep.Events, room)
			}
			// Room again: the gate opens at the next check.
			ents, _ := os.ReadDir(g.Folder)
			for _, e := range ents {
				if strings.HasPrefix(e.Name(), "f") {
					os.Remove(filepath.Join(g.Folder, e.Name()))
				}
			}
			if _, err := svc.gate().Check(ctx); err != nil {
				v.escape("the gate stays closed once there is room: %v", err)
			}
			r.Recheck()
			waitOpen(t, r)
			v.block("with room again the gate opens")
			v.report(t, at.name)
		})
	}
}

func isGateClosed(err error) bool {
	var gc *GateClosedError
	return errors.As(err, &gc)
}

// gateSays checks that a gate is closed because the disk is almost full.
func gateSays(v *verdict, which string, check func() (string, error)) {
	_, err := check()
	var gc *GateClosedError
	switch {
	case !errors.As(err, &gc):
		v.escape("%s is open: %v", which, err)
	case gc.Gate.Disk == "" || gc.Gate.Reason != gc.Gate.Disk || !strings.Contains(gc.Gate.Disk, "is almost full: ") || !strings.Contains(gc.Gate.Hint, "free space"):
		v.escape("%s is closed for another reason: %+v", which, gc.Gate)
	default:
		v.block("%s closed for the disk: %q", which, fmt.Sprintf("%s — %s", gc.Gate.Reason, gc.Gate.Hint))
	}
}

// waitOpen waits until the runtime's gate is open.
func waitOpen(t *testing.T, r *Runtime) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !r.Gate().Open {
		if time.Now().After(deadline) {
			reason := r.Gate().Reason
			t.Fatalf("the gate did not open: %s", reason)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
