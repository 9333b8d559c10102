package assistant

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/berth-app/berth/app/disk"
	"github.com/berth-app/berth/app/store"
	"github.com/berth-app/berth/docker"
)

// The disk guard. A sandbox writes its group folder and read-write mounts
// as fast as the disk goes (4 GiB in seconds), and the group folder shares
// a filesystem with the audit log: a full disk would make every audit write,
// and so every command, fail. While a command runs the guard watches the
// free space and inodes of the filesystems holding the data folder and each
// read-write mount; below the floor (2 GiB or 5 %, whichever is smaller, see
// disk.Floor and the disk_floor_* settings) it kills the command, records a
// disk.low event and closes the gate as misconfigured until there is room
// again. Between commands nothing runs in a sandbox (the sweep after each
// command, docker/procs.go), so watching while commands run is watching
// while anything in a sandbox can write. The audit log keeps room for the
// guard's own events (store/room.go).

// Audit event kinds of the disk guard.
const (
	AuditDiskLow = "disk.low" // a disk fell below the floor (the command was killed, the gate closed)
	AuditDiskOK  = "disk.ok"  // it has room again
)

// diskPoll is how often the guard looks while a command runs: at 500 MB/s
// that lets 50 MB more through, far less than the floor.
const diskPoll = 100 * time.Millisecond

// DiskLowError says which disk is almost full. It is the error of a command
// the guard killed.
type DiskLowError struct {
	Dir   watchedDir
	Space disk.Space
	Left  string // "1.2 MiB left", "180 files left"
	Floor disk.Floor
}

func (e *DiskLowError) Error() string {
	return fmt.Sprintf("the disk holding %s (%s) is almost full: %s", e.Dir.What, e.Dir.Path, e.Left)
}

// gateReading is the gate's reading while this disk is almost full.
func (e *DiskLowError) gateReading() diskFull {
	return diskFull{Reason: e.Error(),
		Hint: fmt.Sprintf("free space on the disk holding %s (Berth stops commands when less than %s or %d files are left there), then press Retry",
			e.Dir.Path, disk.Size(e.Floor.BytesFor(e.Space)), e.Floor.InodesFor(e.Space))}
}

// watchedDir is a folder whose disk the guard watches, and what it is in
// the user's words.
type watchedDir struct {
	Path string `json:"path"`
	What string `json:"what"`
}

// diskState remembers the disks the guard found almost full, so that the
// gate stays closed until each has room again.
type diskState struct {
	mu  sync.Mutex
	low map[string]watchedDir
}

// diskFloor is the floor from the settings.
func (s *Service) diskFloor() disk.Floor {
	c := s.Settings()
	return disk.Floor{Bytes: uint64(max(c.DiskFloorMB, 0)) << 20, Percent: c.DiskFloorPercent}.WithDefaults()
}

// watchedDirs are the folders whose disks matter while a group's command
// runs: the data folder (the audit log and the group folders) and the
// group's read-write mounts.
func (s *Service) watchedDirs(ctx context.Context, group string) []watchedDir {
	dirs := []watchedDir{{Path: s.Paths.Data, What: "Berth's data folder"}}
	if s.Store == nil {
		return dirs
	}
	ms, _ := s.Store.Mounts(ctx, group)
	for _, m := range ms {
		if !m.ReadOnly {
			dirs = append(dirs, watchedDir{Path: m.HostPath, What: "the read-write mount " + m.Name + " of group " + group})
		}
	}
	return dirs
}

// roomKeeper is the audit store's room (store/room.go): free space it used
// and wants back is not free.
type roomKeeper interface{ RoomOwed() uint64 }

// lowDisk is the first of dirs whose disk is below the floor, or nil. A
// folder whose disk cannot be read counts as fine: it may have been
// removed, and the command then fails on its own.
func (s *Service) lowDisk(dirs []watchedDir) *DiskLowError {
	floor := s.diskFloor()
	for _, d := range dirs {
		sp, err := disk.Free(d.Path)
		if err != nil {
			continue
		}
		if rk, ok := s.Store.(roomKeeper); ok && d.Path == s.Paths.Data {
			sp.Avail -= min(sp.Avail, rk.RoomOwed())
		}
		if left := floor.Low(sp); left != "" {
			return &DiskLowError{Dir: d, Space: sp, Left: left, Floor: floor}
		}
	}
	return nil
}

// guardedExec runs one command in a sandbox while the disk guard watches.
// A command does not start on an almost full disk.
func (s *Service) guardedExec(ctx context.Context, group, session, sandboxID string, req docker.ExecRequest) (docker.ExecResult, error) {
	dirs := s.watchedDirs(ctx, group)
	if low := s.lowDisk(dirs); low != nil {
		s.diskLow(ctx, group, session, low, false)
		d := low.gateReading()
		return docker.ExecResult{}, &GateClosedError{Gate: newGateState(docker.Status{State: docker.Ready}, "", &d)}
	}
	gctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(diskPoll)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if low := s.lowDisk(dirs); low != nil {
					cancel(low)
					return
				}
			}
		}
	}()
	res, err := s.Engine.Exec(gctx, sandboxID, req)
	close(done)
	var low *DiskLowError
	if errors.As(context.Cause(gctx), &low) && res.Canceled {
		s.diskLow(ctx, group, session, low, true)
		return res, low
	}
	if low := s.lowDisk(dirs); low != nil {
		// It ended by itself, but left the disk almost full.
		s.diskLow(ctx, group, session, low, false)
	}
	return res, err
}

// diskLow records what the guard found and closes the gate.
func (s *Service) diskLow(ctx context.Context, group, session string, low *DiskLowError, killed bool) {
	summary := low.Error()
	if killed {
		summary += "; the running command was killed"
	}
	_ = s.record(context.WithoutCancel(ctx), store.Event{Group: group, Session: session, Kind: AuditDiskLow, Summary: summary,
		Detail: mustJSON(map[string]any{"dir": low.Dir, "space": low.Space, "floor_bytes": low.Floor.BytesFor(low.Space),
			"floor_inodes": low.Floor.InodesFor(low.Space), "killed": killed})})
	s.disk.mu.Lock()
	if s.disk.low == nil {
		s.disk.low = map[string]watchedDir{}
	}
	s.disk.low[low.Dir.Path] = low.Dir
	s.disk.mu.Unlock()
	if s.onDiskLow != nil {
		s.onDiskLow(low.gateReading())
	}
}

// diskGate says whether a disk keeps the gate closed: the data folder's,
// or one the guard found almost full and that has no room yet. A disk that
// has room again is forgotten, and that is recorded.
func (s *Service) diskGate(ctx context.Context) (diskFull, bool) {
	s.disk.mu.Lock()
	dirs := []watchedDir{{Path: s.Paths.Data, What: "Berth's data folder"}}
	for _, d := range s.disk.low {
		if d.Path != s.Paths.Data {
			dirs = append(dirs, d)
		}
	}
	s.disk.mu.Unlock()
	var first *DiskLowError
	for _, d := range dirs {
		low := s.lowDisk([]watchedDir{d})
		if low != nil {
			first = cmp.Or(first, low)
			continue
		}
		s.disk.mu.Lock()
		_, was := s.disk.low[d.Path]
		delete(s.disk.low, d.Path)
		s.disk.mu.Unlock()
		if was {
			sp, _ := disk.Free(d.Path)
			_ = s.record(ctx, store.Event{Kind: AuditDiskOK, Summary: fmt.Sprintf("the disk holding %s (%s) has room again: %s free", d.What, d.Path, disk.Size(sp.Avail)),
				Detail: mustJSON(map[string]any{"dir": d, "space": sp})})
		}
	}
	if first != nil {
		return first.gateReading(), true
	}
	return diskFull{}, false
}

// GroupFolderUsage is how much a group's folder holds (the mount picker
// shows it next to the folders the sandbox sees). The walk is bounded; see
// disk.Usage.
func (s *Service) GroupFolderUsage(ctx context.Context, group string) (disk.FolderUsage, error) {
	if _, err := s.Group(ctx, group); err != nil {
		return disk.FolderUsage{}, err
	}
	return disk.Usage(s.Paths.GroupDir(group), 0)
}
