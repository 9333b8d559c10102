//go:build linux

package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fillDisk writes a file in dir until the filesystem is full.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "filler")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill: %v", err)
			}
			break
		}
	}
	for _, n := range []int{4096, 512, 1} { // the last partial blocks
		for {
			if _, err := f.Write(buf[:n]); err != nil {
				break
			}
		}
	}
	return p
}

// TestRoomKeptForTheAuditLog fills the disk under an open store to the
// last byte: the next events are still stored, in the room the store kept,
// the chain says so and verifies; once space is back the room is kept again.
func TestRoomKeptForTheAuditLog(t *testing.T) {
	t.Parallel()
	dir := mountTmpfs(t, "16m")
	path := filepath.Join(dir, "berth.db")
	s := openStore(t, path, Options{OnError: func(error) {}})
	ctx := context.Background()
	appendN(t, s, 3)
	if fi, err := os.Stat(RoomPath(path)); err != nil || fi.Size() != DefaultRoom {
		t.Fatalf("room file after Open: %v %v, want %d bytes", fi, err, DefaultRoom)
	}
	filler := fillDisk(t, dir)
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil || st.Bavail != 0 {
		t.Fatalf("the disk is not full: %d blocks free %v", st.Bavail, err)
	}
	ev, err := s.Append(ctx, Event{Kind: "disk.low", Actor: ActorSystem, Summary: "the disk holding the data folder is almost full: 0 B left"})
	if err != nil {
		t.Fatalf("Append on a full disk with room kept: %v", err)
	}
	if _, err := os.Stat(RoomPath(path)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the room file is still there after it was needed: %v", err)
	}
	evs, err := s.Events(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(evs); n != 5 || evs[3].Kind != AuditRoomUsed || evs[4].Seq != ev.Seq || !strings.Contains(evs[3].Summary, "4.0 MiB") {
		t.Fatalf("events: got %d, want 3, then audit.room, then disk.low: %+v", n, evs[max(0, n-2):])
	}
	wantOK(t, verify(t, s), 5)
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	appendN(t, s, 1)
	// The writer makes the room anew after it answered the append.
	deadline := time.Now().Add(20 * time.Second)
	for {
		fi, err := os.Stat(RoomPath(path))
		if err == nil && fi.Size() == DefaultRoom {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("room file once space is back: %v %v, want %d bytes", fi, err, DefaultRoom)
		}
		time.Sleep(10 * time.Millisecond)
	}
	wantOK(t, verify(t, s), 6)
}
