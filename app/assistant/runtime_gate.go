package assistant

import (
	"cmp"
	"context"
	"fmt"

	"github.com/berth-app/berth/app/store"
	"github.com/berth-app/berth/docker"
)

// The gate in action: Docker readings and the user's pause open and close it.

// setDocker takes a monitor reading and opens or closes the gate.
func (r *Runtime) setDocker(st docker.Status) {
	if st.State == docker.Ready {
		// Before the reading takes effect: while the gate reads closed,
		// nothing starts in a sandbox that this start-up reap would stop
		// as a previous run's (a sandbox made as the gate opened was
		// stopped during its set-up).
		r.reapOnce()
	}
	r.mu.Lock()
	prev := r.docker
	if !st.Since.IsZero() && !st.Since.After(prev.Since) {
		// Taken before the reading in force, or that very reading again
		// (recheck applied it before the monitor's stream brought it).
		r.mu.Unlock()
		return
	}
	r.docker = st
	r.mu.Unlock()
	if prev.State != st.State && st.State != docker.Checking {
		_ = r.svc.record(r.root, store.Event{Kind: AuditDockerPrefix + string(st.State), Summary: st.Reason,
			Detail: mustJSON(map[string]any{"state": st.State, "reason": st.Reason, "hint": st.Hint, "host": st.Host})})
	}
	if st.State == docker.Ready {
		r.checkDisk()
	}
	r.update()
}

// update recomputes whether the gate is open and acts on a change.
func (r *Runtime) update() {
	r.mu.Lock()
	was := r.open
	now := r.gateLocked()
	r.open = now.Open
	var cancels []context.CancelCauseFunc
	if was && !now.Open {
		r.openCh = make(chan struct{})
		for _, t := range r.running {
			cancels = append(cancels, t.cancel)
		}
	}
	if !was && now.Open {
		close(r.openCh)
	}
	r.mu.Unlock()
	if was && !now.Open {
		r.net.cut() // the sandboxes' open connections end too
	}
	reason := now.Reason
	for _, c := range cancels {
		c(fmt.Errorf("%w: %s", ErrGateClosed, reason))
	}
	if was != now.Open || !now.Open {
		g := now
		r.bus.publish(Event{Kind: EventGate, Gate: &g, Text: reason})
	}
}

// Pause closes the gate with the user's reason: running turns are stopped
// and kept as interrupted; new messages wait.
func (r *Runtime) Pause(ctx context.Context, reason string) error {
	reason = cmp.Or(reason, pausedByUser)
	if err := r.svc.setPaused(reason); err != nil {
		return err
	}
	r.update()
	return r.svc.record(ctx, store.Event{Kind: AuditPaused, Actor: store.ActorUser, Summary: reason})
}

// Resume reopens the gate (if Docker is ready); waiting messages run.
func (r *Runtime) Resume(ctx context.Context) error {
	if err := r.svc.setPaused(""); err != nil {
		return err
	}
	r.update()
	r.gate.Poke()
	return r.svc.record(ctx, store.Event{Kind: AuditResumed, Actor: store.ActorUser, Summary: "resumed by the user"})
}

// recheck takes a fresh reading of Docker and acts on it at once — a gate
// closed on Docker stops the running turns — rather than waiting for the
// monitor's next ping or the end of its event stream: a tool call failed,
// and the turn must not go on if Docker went away. A reading that is still
// Checking says nothing and is left alone.
func (r *Runtime) recheck(ctx context.Context) {
	if st := r.gate.Recheck(ctx); st.State != docker.Checking {
		r.setDocker(st)
	}
}

// Recheck asks for a fresh reading of Docker now (a face's Retry button).
func (r *Runtime) Recheck() {
	r.checkDisk()
	r.gate.Poke()
}
