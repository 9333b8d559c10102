package assistant

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/berth-app/berth/app/agent"
	"github.com/berth-app/berth/app/store"
	"github.com/berth-app/berth/docker"
)

// lazySandbox gives the agent the session's sandbox, started on the first
// tool call (a chat that needs no tools never starts one). If the sandbox
// dies, the call fails with a clear error and the next call gets a fresh one.
type lazySandbox struct {
	svc            *Service
	group, session string

	mu  sync.Mutex
	sb  *docker.Sandbox
	err error // the last reason a call could not run
}

func (l *lazySandbox) Exec(ctx context.Context, req agent.ExecRequest) (agent.ExecResult, error) {
	r, err := l.exec(ctx, req)
	if b := l.blocked(ctx, err); b != nil {
		return r, b
	}
	if err != nil && r.Duration == 0 && req.Stdin == nil && isGone(err) {
		// The sandbox died between calls and the command never started:
		// run it once in a fresh sandbox.
		r, err = l.exec(ctx, req)
		if b := l.blocked(ctx, err); b != nil {
			return r, b
		}
	}
	return r, err
}

// lost forgets a sandbox that stopped: the next call starts a fresh one.
func (l *lazySandbox) lost(ctx context.Context, id string, err error) {
	l.mu.Lock()
	l.sb = nil
	l.mu.Unlock()
	_ = l.svc.record(context.WithoutCancel(ctx), store.Event{Group: l.group, Session: l.session, Kind: AuditSandboxLost,
		Summary: "the sandbox stopped; the next tool call gets a fresh one", Detail: mustJSON(map[string]any{"id": id, "error": err.Error()})})
}

func isGone(err error) bool {
	return errors.Is(err, docker.ErrSandboxGone) || errors.Is(err, docker.ErrSandboxNotRunning)
}

// sandbox returns the id of the session's sandbox, starting one through
// the gate when there is none.
func (l *lazySandbox) sandbox(ctx context.Context) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.sb == nil {
		if _, err := l.svc.gate().Check(ctx); err != nil {
			l.err = err
			return "", err
		}
		sb, _, err := l.svc.Sandbox(ctx, l.group, l.session)
		if err != nil {
			l.err = err
			return "", err
		}
		l.sb = &sb
	}
	return l.sb.ID, nil
}

func (l *lazySandbox) exec(ctx context.Context, req agent.ExecRequest) (agent.ExecResult, error) {
	id, err := l.sandbox(ctx)
	if err != nil {
		return agent.ExecResult{}, err
	}
	dreq := docker.ExecRequest{Argv: req.Argv, WorkDir: req.WorkDir, Timeout: req.Timeout, OutputCap: req.OutputCap, Grace: req.Grace}
	if req.Stdin != nil {
		dreq.Stdin = strings.NewReader(string(req.Stdin))
	}
	if req.OnOutput != nil {
		dreq.OnOutput = func(_ docker.Stream, p []byte) { req.OnOutput(p) }
	}
	if l.svc.OnUse != nil {
		l.svc.OnUse(id, true)
		defer l.svc.OnUse(id, false)
	}
	r, err := l.svc.guardedExec(ctx, l.group, l.session, id, dreq)
	if isGone(err) {
		l.lost(ctx, id, err)
		if r.Duration > 0 {
			err = fmt.Errorf("the sandbox stopped while the command ran (%w); the next tool call starts a fresh one", err)
		}
	}
	return agent.ExecResult{ExitCode: r.ExitCode, Stdout: r.Stdout.Data, Stderr: r.Stderr.Data, StdoutTotal: r.Stdout.Total, StderrTotal: r.Stderr.Total,
		Truncated: r.Stdout.Truncated || r.Stderr.Truncated, TimedOut: r.TimedOut, Duration: r.Duration}, err
}
