package assistant

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/berth-app/berth/app/store"
	"github.com/berth-app/berth/docker"
)

// Exec runs a command in the group's warm sandbox (the one `berth exec`
// shares between commands), creating it if needed. The command is audited
// before it runs and its result after. If the sandbox vanished between
// being found and being used, it is replaced once.
func (s *Service) Exec(ctx context.Context, group string, req docker.ExecRequest) (docker.ExecResult, error) {
	if _, err := s.gate().Check(ctx); err != nil {
		var gc *GateClosedError
		if errors.As(err, &gc) {
			reason := gc.Gate.Reason
			_ = s.record(ctx, store.Event{Group: group, Kind: AuditGateClosed, Summary: "refused a command: " + reason,
				Detail: mustJSON(map[string]any{"state": gc.Gate.Docker, "paused": gc.Gate.Paused, "reason": reason, "argv": auditArgv(req.Argv)})})
		}
		return docker.ExecResult{}, err
	}
	if _, err := s.Reap(ctx); err != nil {
		return docker.ExecResult{}, err
	}
	for attempt := 0; ; attempt++ {
		sb, _, err := s.Sandbox(ctx, group, CLISession)
		if err != nil {
			return docker.ExecResult{}, err
		}
		res, err := s.execIn(ctx, sb, req, attempt)
		if attempt == 0 && (errors.Is(err, docker.ErrSandboxGone) || errors.Is(err, docker.ErrSandboxNotRunning)) && req.Stdin == nil {
			continue // it died before the command could start: use a fresh one
		}
		return res, err
	}
}

func (s *Service) execIn(ctx context.Context, sb docker.Sandbox, req docker.ExecRequest, attempt int) (docker.ExecResult, error) {
	workdir := req.WorkDir
	if workdir == "" {
		workdir = docker.GroupDir
		req.WorkDir = workdir
	}
	if err := s.record(ctx, store.Event{Group: sb.Group, Session: sb.Session, Kind: AuditExecStart, Actor: store.ActorUser,
		Summary: "run " + summarizeArgv(req.Argv),
		Detail:  mustJSON(map[string]any{"sandbox": sb.Name, "argv": auditArgv(req.Argv), "workdir": workdir, "attempt": attempt})}); err != nil {
		return docker.ExecResult{}, err
	}
	res, err := s.guardedExec(ctx, sb.Group, sb.Session, sb.ID, req)
	detail := map[string]any{
		"sandbox": sb.Name, "exit_code": res.ExitCode, "duration_ms": res.Duration.Milliseconds(),
		"stdout_bytes": res.Stdout.Total, "stderr_bytes": res.Stderr.Total,
		"truncated": res.Stdout.Truncated || res.Stderr.Truncated, "timed_out": res.TimedOut, "canceled": res.Canceled,
	}
	kind, summary := AuditExecEnd, fmt.Sprintf("exit %d in %s", res.ExitCode, res.Duration.Round(1e6))
	if res.TimedOut {
		summary = "killed after the time limit (" + res.Duration.Round(1e6).String() + ")"
	}
	if err != nil && !res.Canceled {
		kind, summary = AuditExecError, "failed: "+err.Error()
		detail["error"] = err.Error()
	}
	if aerr := s.record(context.WithoutCancel(ctx), store.Event{Group: sb.Group, Session: sb.Session, Kind: kind, Summary: summary, Detail: mustJSON(detail)}); aerr != nil {
		return res, errors.Join(err, aerr)
	}
	return res, err
}

// auditArgv keeps the command in the audit log, shortening huge arguments
// (their digest still pins what ran).
func auditArgv(argv []string) any {
	const max = 4096
	total := 0
	for _, a := range argv {
		total += len(a)
	}
	if total <= max {
		return argv
	}
	short := make([]string, len(argv))
	for i, a := range argv {
		if len(a) > 256 {
			a = a[:256] + fmt.Sprintf("…(%d bytes)", len(a))
		}
		short[i] = a
	}
	h := sha256.New()
	for _, a := range argv {
		h.Write([]byte(a))
		h.Write([]byte{0})
	}
	return map[string]any{"shortened": short, "sha256": hex.EncodeToString(h.Sum(nil))}
}

func summarizeArgv(argv []string) string {
	s := strings.Join(argv, " ")
	if len(s) > 120 {
		s = s[:117] + "…"
	}
	return strings.ReplaceAll(s, "\n", "⏎")
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(map[string]string{"marshal_error": err.Error()})
	}
	return b
}
