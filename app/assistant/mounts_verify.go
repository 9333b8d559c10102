package assistant

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/berth-app/berth/app/store"
	"github.com/berth-app/berth/docker"
)

// AuditSandboxCreate is the audit event kind of a sandbox that started, its
// mounts verified; only a sandbox with one is ever used.
const AuditSandboxCreate = "sandbox.create"

// MountVerifier is what the assistant needs from an engine to prove, after
// a sandbox started and before anything runs in it, that its mounts are
// the folders that were validated (see docker.Client.VerifyMounts).
type MountVerifier interface {
	VerifyMounts(ctx context.Context, sandboxID string, spec docker.Spec) (docker.Verification, error)
	RemoveSandbox(ctx context.Context, id string) error
}

var _ MountVerifier = (*docker.Client)(nil)

// verifyMounts proves a new sandbox's mounts. A sandbox whose mounts are
// not the folders checked, or cannot be proven to be, is killed and removed
// before a single command runs in it; a mismatch is audited as
// mount.mismatch naming the mount. An engine that cannot compare (a fake,
// or a remote engine, which docker reports as unverified) leaves the rule
// against mounts inside writable folders as the guard.
func (s *Service) verifyMounts(ctx context.Context, sb docker.Sandbox, spec docker.Spec) (docker.Verification, error) {
	v, ok := s.Engine.(MountVerifier)
	if !ok {
		return docker.Verification{Why: "mounts not verified: the engine cannot compare them"}, nil
	}
	ver, err := v.VerifyMounts(ctx, sb.ID, spec)
	if err == nil {
		return ver, nil
	}
	actx := context.WithoutCancel(ctx)
	rmErr := v.RemoveSandbox(actx, sb.ID)
	var mm *docker.MountMismatchError
	if errors.As(err, &mm) {
		aerr := s.record(actx, store.Event{Group: sb.Group, Session: sb.Session, Kind: AuditMountMismatch,
			Summary: fmt.Sprintf("removed sandbox %s before any command ran: %s", sb.Name, mm.Error()),
			Detail: mustJSON(map[string]any{"id": sb.ID, "name": sb.Name, "container": mm.Mount.Container, "host": mm.Mount.Host,
				"host_identity": mm.Host, "sandbox_identity": mm.Got, "removed": rmErr == nil})})
		return docker.Verification{}, errors.Join(fmt.Errorf("sandbox refused and removed: %w — check what can write the folders above it (a sandbox's read-write mount?) and try again", err), rmErr, aerr)
	}
	aerr := s.record(actx, store.Event{Group: sb.Group, Session: sb.Session, Kind: AuditSandboxError,
		Summary: fmt.Sprintf("removed sandbox %s: %v", sb.Name, err), Detail: mustJSON(map[string]any{"id": sb.ID, "name": sb.Name, "error": err.Error(), "removed": rmErr == nil})})
	return docker.Verification{}, errors.Join(fmt.Errorf("sandbox refused: %w", err), rmErr, aerr)
}

// wasVerified reports whether a sandbox's start was audited, which happens
// only after its mounts were verified: a sandbox left running by a Berth
// that stopped between start and verification (a crash) is not reused.
func (s *Service) wasVerified(ctx context.Context, sb docker.Sandbox) bool {
	evs, err := s.Store.Events(ctx, store.Filter{Group: sb.Group, Session: sb.Session, Kind: AuditSandboxCreate, Limit: 8, Newest: true})
	if err != nil {
		return false
	}
	for _, ev := range evs {
		var d struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(ev.Detail, &d) == nil && d.ID == sb.ID {
			return true
		}
	}
	return false
}
