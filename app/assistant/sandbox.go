package assistant

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/berth-app/berth/app/store"
	"github.com/berth-app/berth/docker"
)

// spec is the sandbox a group's session gets: the group's settings over the
// user's, the group folder read-write, and the group's mounts as
// sandboxMounts validated them.
func (s *Service) spec(g Group, session string, stored []docker.Mount) docker.Spec {
	c, gs := s.Settings(), g.Settings
	network, viaProxy := sandboxNetwork(s.NetMode(g))
	spec := docker.Spec{
		Image:          cmp.Or(gs.Image, c.Image),
		InstallationID: s.Paths.InstallID(),
		Group:          g.Slug,
		Session:        session,
		Network:        network,
		Egress:         viaProxy,
		Runtime:        c.Runtime,
		Memory:         max(gs.MemoryMB, c.MemoryMB) << 20,
		CPUs:           c.CPUs,
		Pids:           c.Pids,
		MaxAge:         time.Duration(c.MaxAge),
		Mounts:         append([]docker.Mount{{Host: g.Folder, Container: docker.GroupDir}}, stored...),
	}
	if gs.MemoryMB != 0 {
		spec.Memory = gs.MemoryMB << 20
	}
	if gs.CPUs != 0 {
		spec.CPUs = gs.CPUs
	}
	if gs.Pids != 0 {
		spec.Pids = gs.Pids
	}
	if gs.MaxAge != 0 {
		spec.MaxAge = time.Duration(gs.MaxAge)
	}
	return spec.WithDefaults()
}

// sandboxSpec is the spec a session's sandbox must have now: the group
// folder, its mounts validated and scanned again, their masks.
func (s *Service) sandboxSpec(ctx context.Context, g Group, session string) (docker.Spec, error) {
	folder, err := s.groupFolder(g.Slug)
	if err != nil {
		return docker.Spec{}, err
	}
	// The engine binds the folder a path leads to, and the verification
	// after the start refuses links on the way (/home is one on some
	// systems): mount the resolved path. Nothing a sandbox can write lies
	// above a group folder.
	if g.Folder, err = filepath.EvalSymlinks(folder); err != nil {
		return docker.Spec{}, fmt.Errorf("group folder: %w", err)
	}
	mounted, masks, err := s.sandboxMounts(ctx, g.Slug)
	if err != nil {
		return docker.Spec{}, err
	}
	spec := s.spec(g, session, mounted)
	spec.Masks = masks
	return spec, nil
}

// Sandbox returns the warm sandbox of a group's session, creating one when
// there is none that is running, not about to expire, and made from the
// group's current settings, mounts and masks. created says which. The
// mounts are validated and scanned for secrets again on every call (each
// turn, each `berth exec`): a warm sandbox whose mounts gained a
// secret-looking file since it started is replaced, not reused.
func (s *Service) Sandbox(ctx context.Context, group, session string) (sb docker.Sandbox, created bool, err error) {
	g, err := s.Group(ctx, group)
	if err != nil {
		return sb, false, err
	}
	spec, err := s.sandboxSpec(ctx, g, session)
	if err != nil {
		return sb, false, err
	}
	list, err := s.Engine.ListSandboxes(ctx, docker.Filter{InstallationID: s.Paths.InstallID(), Group: group, Session: session})
	if err != nil {
		return sb, false, err
	}
	now := s.now()
	// Keep a margin so that a command does not start in a sandbox about to
	// end by itself: a tenth of its life, a minute at most.
	margin := min(time.Minute, spec.MaxAge/10)
	for _, c := range list {
		if !c.Running() {
			continue
		}
		fits := !c.Expired(now.Add(margin)) && c.Spec == spec.Digest()
		if fits && s.wasVerified(ctx, c) {
			return c, false, nil
		}
		why := "replaced: its group's settings, its mounts or their masked files changed (a new secret-looking file?), or it is near its max age"
		if fits {
			why = "replaced: its start was never verified and audited (Berth stopped while it started?)"
		}
		_ = s.stop(ctx, c, why)
	}
	sb, err = s.Engine.CreateSandbox(ctx, spec)
	if err != nil {
		_ = s.record(ctx, store.Event{Group: group, Session: session, Kind: AuditSandboxError,
			Summary: "could not start a sandbox: " + err.Error(), Detail: mustJSON(map[string]any{"spec": spec, "error": err.Error()})})
		return sb, false, err
	}
	ver, err := s.verifyMounts(ctx, sb, spec)
	if err != nil {
		return docker.Sandbox{}, false, err
	}
	verified := "mounts verified"
	if !ver.Verified {
		verified = ver.Why
	}
	if err := s.record(ctx, store.Event{Group: group, Session: session, Kind: AuditSandboxCreate,
		Summary: fmt.Sprintf("started sandbox %s from %s (%d mounts, %d masks, network %s; %s)", sb.Name, spec.Image, len(spec.Mounts), len(spec.Masks), s.NetMode(g), verified),
		Detail:  mustJSON(map[string]any{"id": sb.ID, "name": sb.Name, "spec": spec, "mounts": ver})}); err != nil {
		// An unaudited sandbox must not be used.
		_ = s.Engine.StopSandbox(context.WithoutCancel(ctx), sb.ID)
		return docker.Sandbox{}, false, err
	}
	return sb, true, nil
}

// Sandboxes lists this installation's sandboxes, each with the path its
// tool calls take (the helper or docker exec) when the engine can tell.
func (s *Service) Sandboxes(ctx context.Context) ([]docker.Sandbox, error) {
	list, err := s.Engine.ListSandboxes(ctx, docker.Filter{InstallationID: s.Paths.InstallID()})
	if p, ok := s.Engine.(execPather); ok {
		for i := range list {
			if list[i].Running() {
				list[i].ExecPath, list[i].ExecPathReason = p.ExecPath(ctx, list[i].ID)
			}
		}
	}
	return list, err
}

// RunningSandboxes counts this installation's running sandboxes (the
// tray's status line), without asking how their calls travel.
func (s *Service) RunningSandboxes(ctx context.Context) (int, error) {
	list, err := s.Engine.ListSandboxes(ctx, docker.Filter{InstallationID: s.Paths.InstallID()})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, sb := range list {
		if sb.Running() {
			n++
		}
	}
	return n, nil
}

// execPather is the part of docker.Client that says how calls reach a
// sandbox; optional, so that fakes need not implement it.
type execPather interface {
	ExecPath(ctx context.Context, sandboxID string) (path, reason string)
}

// StopSandbox stops one of this installation's sandboxes by id or name
// (a unique id prefix will do).
func (s *Service) StopSandbox(ctx context.Context, ref string) (docker.Sandbox, error) {
	list, err := s.Sandboxes(ctx)
	if err != nil {
		return docker.Sandbox{}, err
	}
	var match []docker.Sandbox
	for _, sb := range list {
		if sb.Name == ref || sb.ID == ref || (len(ref) >= 4 && len(sb.ID) >= len(ref) && sb.ID[:len(ref)] == ref) {
			match = append(match, sb)
		}
	}
	switch len(match) {
	case 0:
		return docker.Sandbox{}, fmt.Errorf("no sandbox %q; `berth sandbox list` shows them", ref)
	case 1:
	default:
		return docker.Sandbox{}, fmt.Errorf("%q matches %d sandboxes; give more of the id", ref, len(match))
	}
	return match[0], s.stop(ctx, match[0], "stopped by the user")
}

// StopAll stops every sandbox of this installation.
func (s *Service) StopAll(ctx context.Context) ([]docker.Sandbox, error) {
	return s.stopWhere(ctx, docker.Filter{}, "stopped by the user (stop all)")
}

// stopWhere stops this installation's sandboxes that f selects and returns
// those it stopped; errors for single sandboxes are joined.
func (s *Service) stopWhere(ctx context.Context, f docker.Filter, why string) ([]docker.Sandbox, error) {
	f.InstallationID = s.Paths.InstallID()
	list, err := s.Engine.ListSandboxes(ctx, f)
	if err != nil {
		return nil, err
	}
	var stopped []docker.Sandbox
	var errs []error
	for _, sb := range list {
		if err := s.stop(ctx, sb, why); err != nil {
			errs = append(errs, err)
			continue
		}
		stopped = append(stopped, sb)
	}
	return stopped, errors.Join(errs...)
}

// stopSession stops a chat's sandboxes.
func (s *Service) stopSession(ctx context.Context, group, session, why string) ([]docker.Sandbox, error) {
	return s.stopWhere(ctx, docker.Filter{Group: group, Session: session}, why)
}

func (s *Service) stop(ctx context.Context, sb docker.Sandbox, why string) error {
	if err := s.Engine.StopSandbox(ctx, sb.ID); err != nil {
		return err
	}
	return s.record(ctx, store.Event{Group: sb.Group, Session: sb.Session, Kind: AuditSandboxStop,
		Summary: fmt.Sprintf("%s: %s", sb.Name, why), Detail: mustJSON(map[string]any{"id": sb.ID, "name": sb.Name})})
}

// Reap removes this installation's dead and expired sandboxes, and those of
// groups that no longer exist, as at start-up.
func (s *Service) Reap(ctx context.Context) ([]docker.Sandbox, error) {
	reaped, err := s.Engine.Reap(ctx, s.Paths.InstallID(), s.now())
	if s.Store != nil {
		if list, lerr := s.Sandboxes(ctx); lerr == nil {
			for _, sb := range list {
				if _, gerr := s.Store.Group(ctx, sb.Group); errors.Is(gerr, store.ErrNotFound) {
					if rerr := s.Engine.StopSandbox(ctx, sb.ID); rerr == nil {
						sb.State += ", group removed"
						reaped = append(reaped, sb)
					}
				}
			}
		}
	}
	for _, sb := range reaped {
		if rerr := s.record(ctx, store.Event{Group: sb.Group, Session: sb.Session, Kind: AuditSandboxReap,
			Summary: fmt.Sprintf("removed orphaned sandbox %s (%s)", sb.Name, sb.State),
			Detail:  mustJSON(map[string]any{"id": sb.ID, "name": sb.Name, "state": sb.State, "expires": sb.Expires})}); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}
	return reaped, err
}
