package store

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"

	"github.com/berth-app/berth/app/disk"
)

// The audit log keeps room for itself. A full disk must not silence it: the
// disk guard's own events ("the disk is almost full, the command was
// killed") are written exactly when the disk is fullest. So beside the
// database lies a file of DefaultRoom bytes that nothing else uses; when a
// commit or an anchor write fails because the disk is full, the writer
// deletes it and tries once more, and notes on the chain that it did
// (AuditRoomUsed, in the same batch or, for an anchor write, the next one).
// Once the disk has room again the file is made anew.
//
// A file rather than SQLite's own preallocation: in WAL mode every commit
// first grows the -wal file, which free pages inside the database cannot
// help with, and a plain file works the same on every filesystem. Its
// content is random, so that a compressing or deduplicating filesystem
// really sets the room aside.

// DefaultRoom is the room the audit log keeps: thousands of events.
const DefaultRoom = 4 << 20

// RoomPath is the file that holds the room kept beside a database.
func RoomPath(db string) string { return db + ".room" }

func (s *Store) roomSize() int64 {
	switch {
	case s.opts.Room < 0:
		return 0
	case s.opts.Room == 0:
		return DefaultRoom
	}
	return s.opts.Room
}

// keepRoom makes the room file when it is missing and the disk can spare
// twice its size (a disk with less has no room to keep; the database then
// works as before). It reports what went wrong through fail.
func (s *Store) keepRoom() {
	size := s.roomSize()
	if size == 0 {
		return
	}
	p := RoomPath(s.path)
	if fi, err := os.Stat(p); err == nil && fi.Size() >= size {
		s.roomGone.Store(false)
		return
	}
	s.roomGone.Store(true)
	sp, err := disk.Free(filepath.Dir(s.path))
	if err != nil || sp.Avail < 2*uint64(size) {
		return
	}
	if err := writeRoom(p, size); err != nil {
		if !diskFull(err) { // out of inodes: tried again after the next batch
			s.fail(fmt.Errorf("keep room for the audit log: %w", err))
		}
		return
	}
	s.roomGone.Store(false)
}

// writeRoom writes the room file whole under a temporary name, then renames
// it: a room file is complete or absent.
func writeRoom(p string, size int64) error {
	f, err := os.CreateTemp(filepath.Dir(p), filepath.Base(p)+".tmp*")
	if err != nil {
		return err
	}
	var seed [32]byte
	for i := range seed {
		seed[i] = byte(rand.Uint32())
	}
	r := rand.NewChaCha8(seed)
	buf := make([]byte, 64<<10)
	for left := size; left > 0 && err == nil; left -= int64(len(buf)) {
		_, _ = r.Read(buf)
		_, err = f.Write(buf[:min(int64(len(buf)), left)])
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), p)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// RoomOwed is how many bytes of its disk's free space the audit log has
// taken from the room it keeps and wants back: 0 while the room is kept.
// The disk guard does not count them as free.
func (s *Store) RoomOwed() uint64 {
	if s.roomGone.Load() {
		return uint64(s.roomSize())
	}
	return 0
}

// useRoom deletes the room file so that a write the full disk refused can
// be tried again; false when there was none left.
func (s *Store) useRoom() bool {
	if s.roomSize() == 0 {
		return false
	}
	err := os.Remove(RoomPath(s.path))
	if err == nil {
		s.roomGone.Store(true)
		s.roomUsed.Store(true)
	}
	return err == nil
}

// AuditRoomUsed is the audit event kind the store records itself: the room
// it keeps for the log was used.
const AuditRoomUsed = "audit.room"

// roomNotice is the event that says the room was used.
func (s *Store) roomNotice() *request {
	return &request{r: row{
		kind:    AuditRoomUsed,
		actor:   string(ActorSystem),
		summary: fmt.Sprintf("the disk holding the audit log is full: Berth used the %s it keeps for the log", disk.Size(uint64(s.roomSize()))),
		detail:  fmt.Sprintf(`{"bytes":%d}`, s.roomSize()),
	}}
}

// diskFull tells a write the full disk refused.
func diskFull(err error) bool {
	return errors.Is(classify(err), ErrDiskFull) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}
