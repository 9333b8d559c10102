package assistant

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/berth-app/berth/docker"
)

// Gate says whether work may start now. The runtime's gate is the Docker
// monitor it watches; without a runtime (`berth exec`) each check takes one
// fresh reading of Docker.
type Gate interface {
	// Check returns the gate's state, and *GateClosedError when it is closed.
	Check(ctx context.Context) (GateState, error)
}

// GateState is whether work may run, and if not, why and how to fix it.
type GateState struct {
	Open   bool           `json:"open"`
	Docker docker.Status  `json:"docker"`           // the latest reading of Docker
	Paused string         `json:"paused,omitempty"` // the pause reason, "" when not paused
	Disk   *docker.Status `json:"disk,omitempty"`   // set while a disk is almost full (see diskguard.go)
}

// newGateState is the one rule: the gate is open when Docker is ready, the
// user has not paused the assistant and no disk is almost full.
func newGateState(st docker.Status, paused string, disk *docker.Status) GateState {
	return GateState{Open: st.State == docker.Ready && paused == "" && disk == nil, Docker: st, Paused: paused, Disk: disk}
}

// Reason is the one line a face shows for a closed gate, and its fix.
func (g GateState) Reason() (reason, hint string) {
	if g.Paused != "" {
		return "the assistant is paused (" + g.Paused + ")", "resume it from the tray or with `berth resume`"
	}
	if g.Disk != nil {
		return g.Disk.Reason, g.Disk.Hint
	}
	return g.Docker.Reason, g.Docker.Hint
}

// err is nil for an open gate and *GateClosedError for a closed one.
func (g GateState) err() error {
	if g.Open {
		return nil
	}
	return &GateClosedError{Gate: g}
}

// GateClosedError means Docker is not ready or the user paused the
// assistant, so no work may start.
type GateClosedError struct{ Gate GateState }

func (e *GateClosedError) Error() string {
	reason, hint := e.Gate.Reason()
	return fmt.Sprintf("assistant blocked: %s — %s", reason, hint)
}

// freshGate takes one fresh reading of Docker at each check.
type freshGate struct{ s *Service }

func (g freshGate) Check(ctx context.Context) (GateState, error) {
	if paused := g.s.PausedReason(); paused != "" {
		// No need to ask Docker: the gate is closed either way.
		st := newGateState(docker.Status{State: docker.Checking}, paused, nil)
		return st, st.err()
	}
	if low, isLow := g.s.diskGate(ctx); isLow {
		if g.s.OnDiskLow != nil {
			g.s.OnDiskLow(low)
		}
		st := newGateState(docker.Status{State: docker.Checking}, "", &low)
		return st, st.err()
	}
	c := g.s.Settings()
	st := newGateState(g.s.Engine.Check(ctx, c.Image, c.Runtime), "", nil)
	return st, st.err()
}

// gate is the service's gate: the one injected (the runtime's), else a fresh
// reading per check.
func (s *Service) gate() Gate {
	if s.Gate != nil {
		return s.Gate
	}
	return freshGate{s}
}

// The pause flag is a file in the data folder, so that every Berth process
// of this installation sees the same one; it is the only place the pause
// lives.

func (s *Service) pauseFile() string { return filepath.Join(s.Paths.Data, "paused") }

// PausedReason says why the assistant is paused; "" when it is not.
func (s *Service) PausedReason() string {
	b, err := os.ReadFile(s.pauseFile())
	if err != nil {
		return ""
	}
	return cmp.Or(strings.TrimSpace(string(b)), pausedByUser)
}

const pausedByUser = "paused by the user"

// setPaused writes or removes the pause flag.
func (s *Service) setPaused(reason string) error {
	if reason == "" {
		if err := os.Remove(s.pauseFile()); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	return os.WriteFile(s.pauseFile(), []byte(reason+"\n"), 0o600)
}
