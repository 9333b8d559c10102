//go:build linux

package store

import (
	"context"
	"errors"
	"fmt"
	"github.com/berth-app/berth/docker/dockertest"
	"github.com/berth-app/berth/docker/dockertest/need"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// mountTmpfs mounts a tmpfs of the given size on a fresh folder and unmounts
// it when the test ends (after the test's stores are closed). Root ignores
// file modes, so this is how a test gets a read-only or full filesystem.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	need.Require(t, os.Geteuid() == 0, "mounting a tmpfs needs root")
	dir := t.TempDir()
	err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size+",mode=0755")
	need.Require(t, err == nil, "cannot mount a tmpfs here: "+errString(err))
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

func remount(t *testing.T, dir string, flags uintptr) {
	t.Helper()
	if err := syscall.Mount("", dir, "", syscall.MS_REMOUNT|flags, ""); err != nil {
		t.Fatalf("remount %s: %v", dir, err)
	}
}

// TestReadOnlyFolder checks Open and OpenReadOnly on a read-only filesystem,
// both for a new database and for one written before the folder became
// read-only.
func TestReadOnlyFolder(t *testing.T) {
	t.Parallel()
	dir := mountTmpfs(t, "4m")
	existing := filepath.Join(dir, "berth.db")
	s := openStore(t, existing, Options{})
	appendN(t, s, 5)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	remount(t, dir, syscall.MS_RDONLY)

	fresh := filepath.Join(dir, "new.db")
	if _, err := Open(fresh, Options{}); err == nil || !strings.Contains(err.Error(), "open audit db "+fresh) ||
		!strings.Contains(err.Error(), "read-only") {
		t.Errorf("Open of a new database in a read-only folder: got %v, want an error naming %s", err, fresh)
	}
	_, err := Open(existing, Options{})
	if !errors.Is(err, ErrNoAccess) || !strings.Contains(err.Error(), "open audit db "+existing) {
		t.Errorf("Open of a database in a read-only folder: got %v, want ErrNoAccess naming %s", err, existing)
	}
	// The read-only commands still work: an audit log on read-only media can be checked.
	r := openReader(t, existing)
	wantOK(t, verify(t, r), 5)
	if evs, err := r.Events(context.Background(), Filter{}); err != nil || len(evs) != 5 {
		t.Errorf("Events: got %d events, %v; want 5", len(evs), err)
	}
}

// TestDiskFull appends until a tiny filesystem is full, then checks the error,
// the chain, a reopen, and that appends work again once space is freed.
func TestDiskFull(t *testing.T) {
	t.Parallel()
	dir := mountTmpfs(t, "512k")
	filler := filepath.Join(dir, "filler")
	if err := os.WriteFile(filler, make([]byte, 160<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "berth.db")
	s, err := Open(path, Options{OnError: func(error) {}}) // anchor writes fail too; Err keeps the last
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	big := []byte(`{"output":"` + strings.Repeat("x", 2000) + `"}`)
	var acked int64
	var full error
	for i := range 10_000 {
		ev := testEvent(i)
		ev.Detail = big
		got, err := s.Append(ctx, ev)
		if err != nil {
			full = err
			break
		}
		acked = got.Seq
	}
	if full == nil {
		t.Fatal("Append never failed on a 512 KiB filesystem")
	}
	if !errors.Is(full, ErrDiskFull) || !strings.Contains(full.Error(), path) {
		t.Fatalf("Append on a full disk: got %v, want ErrDiskFull naming %s", full, path)
	}
	t.Logf("full after %d events: %v", acked, full)
	// Still full: another append fails the same way and leaves no trace.
	ev0 := testEvent(0)
	ev0.Detail = big
	if _, err := s.Append(ctx, ev0); !errors.Is(err, ErrDiskFull) {
		t.Fatalf("second Append on a full disk: got %v, want ErrDiskFull", err)
	}
	rep := verify(t, s)
	if !rep.OK || rep.HeadSeq != acked {
		t.Fatalf("Verify on a full disk: got %+v, want OK ending at %d", rep, acked)
	}

	// Closing and opening again work on the full disk too.
	if err := s.Close(); err != nil {
		t.Fatalf("Close on a full disk: %v", err)
	}
	s, err = Open(path, Options{OnError: func(error) {}})
	if err != nil {
		t.Fatalf("Open on a full disk: %v", err)
	}
	defer s.Close()
	if _, err := s.Append(ctx, ev0); !errors.Is(err, ErrDiskFull) {
		t.Fatalf("Append after reopening a full disk: got %v, want ErrDiskFull", err)
	}

	// Space comes back: the store carries on, without a gap.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	ev, err := s.Append(ctx, testEvent(1))
	if err != nil || ev.Seq != acked+1 {
		t.Fatalf("Append after freeing space: got seq %d, %v; want %d", ev.Seq, err, acked+1)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	final := verify(t, openReader(t, path))
	wantOK(t, final, acked+1)
	dockertest.ReportFault(t, dockertest.Fault{Fault: "disk full under BERTH_HOME (512 KiB tmpfs)",
		Sees: full.Error(),
		Kept: dockertest.Kept{What: "acknowledged events", Acked: int(acked), Found: int(min(final.HeadSeq, acked)),
			Note: fmt.Sprintf("#%d appended once space was freed", ev.Seq)},
		Chain:   chainOf(final),
		Orphans: dockertest.Orphans{NotApplicable: "no sandbox"}})
}
