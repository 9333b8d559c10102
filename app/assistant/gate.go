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
	// Recheck is Check after a fresh reading of Docker, acted on at once (a
	// runtime's gate closes and its turns stop): for a tool call that
	// failed, which may mean Docker went away.
	Recheck(ctx context.Context) (GateState, error)
}

// DockerState is Docker's health as the gate last read it. An alias: the
// assistant's API passes the monitor's state through unchanged, and the
// docker package, which reads it, defines it.
type DockerState = docker.State

// Docker's states, for the faces (the docker package owns them).
const (
	DockerChecking      = docker.Checking
	DockerReady         = docker.Ready
	DockerDown          = docker.Down
	DockerMisconfigured = docker.Misconfigured
)

// GateState is whether work may run, and if not, why and how to fix it:
// what the faces show. newGateState is the one place it is built from its
// inputs (Docker's reading, the user's pause, the disk guard); the reading
// itself, docker.Status, stays the docker package's.
type GateState struct {
	Open bool `json:"open"`
	// Reason is the one line a face shows for a closed gate (Docker's own
	// line while it is open), and Hint its fix.
	Reason string `json:"reason"`
	Hint   string `json:"hint,omitempty"`
	// Docker is Docker's state; Endpoint the engine it was read from.
	Docker   DockerState `json:"docker"`
	Endpoint string      `json:"endpoint,omitempty"`
	// Image is the sandbox image checked, ImagePresent whether Docker has it.
	Image        string `json:"image,omitempty"`
	ImagePresent bool   `json:"image_present,omitempty"`
	// Paused is the user's pause reason, "" when not paused.
	Paused string `json:"paused,omitempty"`
	// Disk says which disk is almost full, "" while there is room (see
	// diskguard.go).
	Disk string `json:"disk,omitempty"`
}

// diskFull is the disk guard's reading for the gate: which disk is almost
// full, and how to fix it.
type diskFull struct{ Reason, Hint string }

// newGateState is the one rule: the gate is open when Docker is ready, the
// user has not paused the assistant and no disk is almost full; the reason
// shown is the pause's, else the disk's, else Docker's.
func newGateState(st docker.Status, paused string, disk *diskFull) GateState {
	g := GateState{Open: st.State == docker.Ready && paused == "" && disk == nil, Reason: st.Reason, Hint: st.Hint,
		Docker: st.State, Endpoint: st.Host, Image: st.Image, ImagePresent: st.ImagePresent, Paused: paused}
	if disk != nil {
		g.Disk, g.Reason, g.Hint = disk.Reason, disk.Reason, disk.Hint
	}
	if paused != "" {
		g.Reason, g.Hint = "the assistant is paused ("+paused+")", "resume it from the tray or with `berth resume`"
	}
	return g
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
	return fmt.Sprintf("assistant blocked: %s — %s", e.Gate.Reason, e.Gate.Hint)
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
		if g.s.onDiskLow != nil {
			g.s.onDiskLow(low)
		}
		st := newGateState(docker.Status{State: docker.Checking}, "", &low)
		return st, st.err()
	}
	c := g.s.Settings()
	st := newGateState(g.s.Engine.Check(ctx, c.Image, c.Runtime), "", nil)
	return st, st.err()
}

// Recheck is Check: each check is a fresh reading.
func (g freshGate) Recheck(ctx context.Context) (GateState, error) { return g.Check(ctx) }

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
