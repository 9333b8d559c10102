package assistant

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/berth-app/berth/app/store"
	"github.com/berth-app/berth/docker"
)

// spec is the sandbox a group's session gets.
func (s *Service) spec(group, session, folder string) docker.Spec {
	c := s.Config
	return docker.Spec{
		Image:   c.Image,
		Home:    s.Paths.InstallID(),
		Group:   group,
		Session: session,
		Network: c.Network,
		Runtime: c.Runtime,
		Memory:  c.MemoryMB << 20,
		CPUs:    c.CPUs,
		Pids:    c.Pids,
		MaxAge:  time.Duration(c.MaxAge),
		Mounts:  []docker.Mount{{Host: folder, Container: docker.GroupDir}},
	}.WithDefaults()
}

// Sandbox returns the warm sandbox of a group's session, creating one when
// there is none (or only an expired or stopped one). created says which.
func (s *Service) Sandbox(ctx context.Context, group, session string) (sb docker.Sandbox, created bool, err error) {
	if err := ValidGroup(group); err != nil {
		return sb, false, err
	}
	list, err := s.Engine.ListSandboxes(ctx, docker.Filter{Home: s.Paths.InstallID(), Group: group, Session: session})
	if err != nil {
		return sb, false, err
	}
	now := s.now()
	for _, c := range list {
		// Keep a margin so that a command does not start in a sandbox about
		// to end by itself.
		if c.Running() && !c.Expired(now.Add(time.Minute)) {
			return c, false, nil
		}
	}
	folder, err := s.groupFolder(group)
	if err != nil {
		return sb, false, err
	}
	spec := s.spec(group, session, folder)
	sb, err = s.Engine.CreateSandbox(ctx, spec)
	if err != nil {
		_ = s.record(ctx, store.Event{Group: group, Session: session, Kind: "sandbox.error",
			Summary: "could not start a sandbox: " + err.Error(), Detail: mustJSON(map[string]any{"spec": spec, "error": err.Error()})})
		return sb, false, err
	}
	if err := s.record(ctx, store.Event{Group: group, Session: session, Kind: "sandbox.create",
		Summary: fmt.Sprintf("started sandbox %s from %s", sb.Name, spec.Image),
		Detail:  mustJSON(map[string]any{"id": sb.ID, "name": sb.Name, "spec": spec})}); err != nil {
		// An unaudited sandbox must not be used.
		_ = s.Engine.StopSandbox(context.WithoutCancel(ctx), sb.ID)
		return docker.Sandbox{}, false, err
	}
	return sb, true, nil
}

// Sandboxes lists this installation's sandboxes.
func (s *Service) Sandboxes(ctx context.Context) ([]docker.Sandbox, error) {
	return s.Engine.ListSandboxes(ctx, docker.Filter{Home: s.Paths.InstallID()})
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

// Reap removes this installation's dead and expired sandboxes, as at start-up.
func (s *Service) Reap(ctx context.Context) ([]docker.Sandbox, error) {
	reaped, err := s.Engine.Reap(ctx, s.Paths.InstallID(), s.now())
	for _, sb := range reaped {
		if rerr := s.record(ctx, store.Event{Group: sb.Group, Session: sb.Session, Kind: "sandbox.reap",
			Summary: fmt.Sprintf("removed orphaned sandbox %s (%s)", sb.Name, sb.State),
			Detail:  mustJSON(map[string]any{"id": sb.ID, "name": sb.Name, "state": sb.State, "expires": sb.Expires})}); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}
	return reaped, err
}
