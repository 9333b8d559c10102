package assistant

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/berth-app/berth/app/store"
	"github.com/berth-app/berth/docker"
)

// The runtime's sandboxes: the cap, idle and expired ones, rotation, and
// those a previous run left behind.

// onUse tracks which sandboxes run a tool call now and when each was last used.
func (r *Runtime) onUse(id string, busy bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if busy {
		r.busy[id]++
		return
	}
	if r.busy[id]--; r.busy[id] <= 0 {
		delete(r.busy, id)
	}
	r.lastUsed[id] = time.Now()
}

// chatSandboxes lists this installation's running chat sandboxes (the CLI's
// `berth exec` sandboxes are left to their own max age), least recently
// used first.
func (r *Runtime) chatSandboxes(ctx context.Context) ([]docker.Sandbox, error) {
	list, err := r.svc.Sandboxes(ctx)
	if err != nil {
		return nil, err
	}
	var out []docker.Sandbox
	for _, sb := range list {
		if sb.Running() && sb.Session != CLISession {
			out = append(out, sb)
		}
	}
	r.mu.Lock()
	last := func(sb docker.Sandbox) time.Time {
		if t, ok := r.lastUsed[sb.ID]; ok {
			return t
		}
		return sb.Created
	}
	sort.Slice(out, func(i, j int) bool { return last(out[i]).Before(last(out[j])) })
	r.mu.Unlock()
	return out, nil
}

// inUse reports whether a sandbox belongs to a running turn.
func (r *Runtime) inUse(sb docker.Sandbox) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.busy[sb.ID] > 0 {
		return true
	}
	for _, t := range r.running {
		if t.session == sb.Session {
			return true
		}
	}
	return false
}

// makeRoom stops the least recently used idle sandboxes so that a turn of
// session can have one without passing the cap. A sandbox is created at a
// turn's first tool call, later than this, so every running turn counts as
// one whether its sandbox exists yet or not; and one turn at a time counts,
// or two turns starting together would both stop the same idle sandbox and
// each take the one place it freed.
func (r *Runtime) makeRoom(ctx context.Context, session string) {
	r.roomMu.Lock()
	defer r.roomMu.Unlock()
	list, err := r.chatSandboxes(ctx)
	if err != nil {
		return
	}
	taken := map[string]bool{}
	for _, sb := range list {
		if sb.Session == session {
			return // it has one already
		}
		taken[sb.Session] = true
	}
	r.mu.Lock()
	for _, t := range r.running {
		taken[t.session] = true // this turn's own session among them
	}
	r.mu.Unlock()
	n := len(taken)
	for _, sb := range list {
		if n <= r.cfg.MaxSandboxes {
			return
		}
		if !r.inUse(sb) {
			if r.stopOne(ctx, sb, fmt.Sprintf("made room: at most %d sandboxes run at once", r.cfg.MaxSandboxes)) == nil {
				n--
			}
		}
	}
}

// sweep stops sandboxes idle longer than their group's idle timeout or past
// their max age.
func (r *Runtime) sweep(ctx context.Context) {
	list, err := r.chatSandboxes(ctx)
	if err != nil {
		return
	}
	now := time.Now()
	for _, sb := range list {
		if r.inUse(sb) {
			continue
		}
		idle := time.Duration(r.svc.Settings().IdleTimeout)
		if g, err := r.svc.Group(ctx, sb.Group); err == nil && g.Settings.IdleTimeout > 0 {
			idle = time.Duration(g.Settings.IdleTimeout)
		}
		r.mu.Lock()
		last, ok := r.lastUsed[sb.ID]
		r.mu.Unlock()
		if !ok {
			last = sb.Created
		}
		switch {
		case sb.Expired(now):
			_ = r.stopOne(ctx, sb, "reached its max age")
		case idle > 0 && now.Sub(last) >= idle:
			_ = r.stopOne(ctx, sb, fmt.Sprintf("idle for %s", now.Sub(last).Round(time.Second)))
		}
	}
}

func (r *Runtime) stopOne(ctx context.Context, sb docker.Sandbox, why string) error {
	if err := r.svc.stop(ctx, sb, why); err != nil {
		return err
	}
	r.stopped(sb, why)
	return nil
}

// stopped forgets a sandbox that was stopped and tells the faces.
func (r *Runtime) stopped(sb docker.Sandbox, why string) {
	r.mu.Lock()
	delete(r.lastUsed, sb.ID)
	r.mu.Unlock()
	r.bus.publish(Event{Kind: EventSandboxStop, Group: sb.Group, Session: sb.Session, Text: sb.Name + ": " + why})
}

func (r *Runtime) stopSession(ctx context.Context, group, session, why string) {
	list, _ := r.svc.stopSession(ctx, group, session, why)
	for _, sb := range list {
		r.stopped(sb, why)
	}
}

// Rotate replaces a group's chat sandboxes ("" for all): idle ones stop
// now, those in a running turn when the turn ends. The next turn starts
// fresh.
func (r *Runtime) Rotate(ctx context.Context, group string) (int, error) {
	list, err := r.chatSandboxes(ctx)
	if err != nil {
		return 0, err
	}
	var in []docker.Sandbox
	for _, sb := range list {
		if group == "" || sb.Group == group {
			in = append(in, sb)
		}
	}
	return r.stopOrMark(ctx, in, "rotated")
}

// StopAll stops every sandbox of this installation (the CLI's too): those
// in a running turn when the turn ends, the rest now.
func (r *Runtime) StopAll(ctx context.Context) (int, error) {
	list, err := r.svc.Sandboxes(ctx)
	if err != nil {
		return 0, err
	}
	return r.stopOrMark(ctx, list, "stopped by the user (stop all)")
}

// stopOrMark stops the idle sandboxes of list now and marks the others to
// go when their turn ends.
func (r *Runtime) stopOrMark(ctx context.Context, list []docker.Sandbox, why string) (int, error) {
	var errs []error
	for _, sb := range list {
		if r.inUse(sb) {
			r.mu.Lock()
			r.rotate[sb.Session] = true
			r.mu.Unlock()
			continue
		}
		errs = append(errs, r.stopOne(ctx, sb, why))
	}
	return len(list), errors.Join(errs...)
}

// Reap removes this installation's dead and expired sandboxes, and those of
// removed groups (`berth sandbox reap`, and at start-up).
func (r *Runtime) Reap(ctx context.Context) ([]docker.Sandbox, error) {
	reaped, err := r.svc.Reap(ctx)
	for _, sb := range reaped {
		r.stopped(sb, "reaped ("+sb.State+")")
	}
	return reaped, err
}

// reapOnce removes, the first time Docker is ready, the sandboxes a previous
// Berth process left: its chat sandboxes (their turns are gone) and every
// dead or expired one. A second caller waits for the first's reap.
func (r *Runtime) reapOnce() { r.reap.Do(r.reapLeftovers) }

func (r *Runtime) reapLeftovers() {
	ctx := r.root
	if _, err := r.Reap(ctx); err != nil {
		r.bus.publish(Event{Kind: EventError, Err: "reap sandboxes: " + err.Error()})
	}
	if r.cfg.OneShot {
		return // the warm chat sandboxes of earlier commands are reused
	}
	list, err := r.chatSandboxes(ctx)
	if err != nil {
		return
	}
	for _, sb := range list {
		if !r.inUse(sb) {
			_ = r.svc.record(ctx, store.Event{Group: sb.Group, Session: sb.Session, Kind: AuditSandboxReap,
				Summary: fmt.Sprintf("removed orphaned sandbox %s left by a previous run", sb.Name), Detail: mustJSON(map[string]any{"id": sb.ID, "name": sb.Name})})
			_ = r.svc.Engine.StopSandbox(ctx, sb.ID)
		}
	}
}
