package assistant

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/berth-app/berth/app/store"
	"github.com/berth-app/berth/docker"
)

// spec is the sandbox a group's session gets: the group's settings over the
// user's, the group folder read-write, and the group's mounts as stored
// (without re-validation; see sandboxMounts).
func (s *Service) spec(g Group, session string, stored []docker.Mount) docker.Spec {
	c, gs := s.Config, g.Settings
	pick := func(a, b string) string {
		if a != "" {
			return a
		}
		return b
	}
	spec := docker.Spec{
		Image:   pick(gs.Image, c.Image),
		Home:    s.Paths.InstallID(),
		Group:   g.Slug,
		Session: session,
		Network: pick(gs.Network, c.Network),
		Runtime: c.Runtime,
		Memory:  max(gs.MemoryMB, c.MemoryMB) << 20,
		CPUs:    c.CPUs,
		Pids:    c.Pids,
		MaxAge:  time.Duration(c.MaxAge),
		Mounts:  append([]docker.Mount{{Host: g.Folder, Container: docker.GroupDir}}, stored...),
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

// storedMounts are the group's mounts as saved, in spec form.
func (s *Service) storedMounts(ctx context.Context, group string) ([]docker.Mount, error) {
	ms, err := s.Store.Mounts(ctx, group)
	if err != nil {
		return nil, err
	}
	out := make([]docker.Mount, 0, len(ms))
	for _, m := range ms {
		out = append(out, docker.Mount{Host: m.HostPath, Container: docker.ExtraDir + "/" + m.Name, ReadOnly: m.ReadOnly})
	}
	return out, nil
}

// Sandbox returns the warm sandbox of a group's session, creating one when
// there is none that is running, not about to expire, and made from the
// group's current settings and mounts. created says which.
func (s *Service) Sandbox(ctx context.Context, group, session string) (sb docker.Sandbox, created bool, err error) {
	g, err := s.ensureGroup(ctx, group)
	if err != nil {
		return sb, false, err
	}
	stored, err := s.storedMounts(ctx, group)
	if err != nil {
		return sb, false, err
	}
	want := s.spec(g, session, stored)
	list, err := s.Engine.ListSandboxes(ctx, docker.Filter{Home: s.Paths.InstallID(), Group: group, Session: session})
	if err != nil {
		return sb, false, err
	}
	now := s.now()
	// Keep a margin so that a command does not start in a sandbox about to
	// end by itself: a tenth of its life, a minute at most.
	margin := min(time.Minute, want.MaxAge/10)
	for _, c := range list {
		if c.Running() && !c.Expired(now.Add(margin)) && c.Spec == want.Digest() {
			return c, false, nil
		}
		if c.Running() {
			_ = s.stop(ctx, c, "replaced: its group's settings or mounts changed, or it is near its max age")
		}
	}
	if _, err := s.groupFolder(group); err != nil {
		return sb, false, err
	}
	// Mounts are validated again now: what was fine when added may not be.
	mounted, masks, err := s.sandboxMounts(ctx, group)
	if err != nil {
		return sb, false, err
	}
	spec := want
	spec.Mounts = append([]docker.Mount{{Host: g.Folder, Container: docker.GroupDir}}, mounted...)
	spec.Masks = masks
	sb, err = s.Engine.CreateSandbox(ctx, spec)
	if err != nil {
		_ = s.record(ctx, store.Event{Group: group, Session: session, Kind: "sandbox.error",
			Summary: "could not start a sandbox: " + err.Error(), Detail: mustJSON(map[string]any{"spec": spec, "error": err.Error()})})
		return sb, false, err
	}
	if err := s.record(ctx, store.Event{Group: group, Session: session, Kind: "sandbox.create",
		Summary: fmt.Sprintf("started sandbox %s from %s (%d mounts, %d masks, network %s)", sb.Name, spec.Image, len(spec.Mounts), len(spec.Masks), spec.Network),
		Detail:  mustJSON(map[string]any{"id": sb.ID, "name": sb.Name, "spec": spec})}); err != nil {
		// An unaudited sandbox must not be used.
		_ = s.Engine.StopSandbox(context.WithoutCancel(ctx), sb.ID)
		return docker.Sandbox{}, false, err
	}
	return sb, true, nil
}

// Sandboxes lists this installation's sandboxes, each with the path its
// tool calls take (the helper or docker exec) when the engine can tell.
func (s *Service) Sandboxes(ctx context.Context) ([]docker.Sandbox, error) {
	list, err := s.Engine.ListSandboxes(ctx, docker.Filter{Home: s.Paths.InstallID()})
	if p, ok := s.Engine.(execPather); ok {
		for i := range list {
			if list[i].Running() {
				list[i].ExecPath, list[i].ExecPathReason = p.ExecPath(ctx, list[i].ID)
			}
		}
	}
	return list, err
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
	list, err := s.Sandboxes(ctx)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, sb := range list {
		errs = append(errs, s.stop(ctx, sb, "stopped by the user (stop all)"))
	}
	return list, errors.Join(errs...)
}

func (s *Service) stop(ctx context.Context, sb docker.Sandbox, why string) error {
	if err := s.Engine.StopSandbox(ctx, sb.ID); err != nil {
		return err
	}
	return s.record(ctx, store.Event{Group: sb.Group, Session: sb.Session, Kind: "sandbox.stop",
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
		if rerr := s.record(ctx, store.Event{Group: sb.Group, Session: sb.Session, Kind: "sandbox.reap",
			Summary: fmt.Sprintf("removed orphaned sandbox %s (%s)", sb.Name, sb.State),
			Detail:  mustJSON(map[string]any{"id": sb.ID, "name": sb.Name, "state": sb.State, "expires": sb.Expires})}); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}
	return reaped, err
}

func sessionFilter(s *Service, group, session string) docker.Filter {
	return docker.Filter{Home: s.Paths.InstallID(), Group: group, Session: session}
}
