package docker

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// execViaHelper runs a call through the sandbox's helper. ok is false when
// there is no helper (this build has none, the sandbox's image cannot run
// it, it is turned off): the caller then uses docker exec. A channel that
// was found dead before the call reached it is replaced once.
func (c *Client) execViaHelper(ctx context.Context, sandboxID string, req ExecRequest, limit int, marker string) (ExecResult, error, bool) {
	for attempt := 0; attempt < 2; attempt++ {
		h := c.helperFor(ctx, sandboxID, attempt > 0)
		if h == nil {
			return ExecResult{}, nil, false
		}
		res, err := h.exec(ctx, req, limit, marker)
		if errors.Is(err, errNotStarted) {
			h.fail(err)
			continue
		}
		if errors.Is(err, ErrHelperLost) {
			return res, c.explainHelperLoss(ctx, sandboxID, marker, err), true
		}
		if err != nil {
			return res, err, true
		}
		if res.ExitCode >= 126 && !res.TimedOut && !res.Canceled {
			// As with docker exec: a command killed with its whole sandbox
			// looks like a killed command; tell the two apart.
			ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			serr := c.sandboxEnded(ictx, sandboxID)
			cancel()
			if serr != nil {
				return res, fmt.Errorf("exec in sandbox %s: the sandbox stopped while the command ran: %w", shortName(sandboxID), serr), true
			}
		}
		if res.TimedOut || res.Canceled {
			if res.ExitCode == 0 {
				res.ExitCode = 137
			}
			if res.Canceled {
				return res, fmt.Errorf("exec canceled: %w", ctx.Err()), true
			}
		}
		return res, nil, true
	}
	return ExecResult{}, nil, false
}

// explainHelperLoss names why a call's channel ended: the sandbox went
// away, the engine went away, or the helper alone died (a process in the
// sandbox may kill it). In the last case whatever the call started is
// killed through docker exec, by the fallback path's sweep.
func (c *Client) explainHelperLoss(ctx context.Context, sandboxID, marker string, lost error) error {
	ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	sb, err := c.InspectSandbox(ictx, sandboxID)
	switch {
	case errors.Is(err, ErrSandboxGone):
		return fmt.Errorf("exec in sandbox %s: %w (%v)", shortName(sandboxID), ErrSandboxGone, lost)
	case err != nil:
		return fmt.Errorf("exec in sandbox %s: %w: %v", shortName(sandboxID), ErrEngineLost, errors.Join(lost, err))
	case !sb.Running():
		return fmt.Errorf("exec in sandbox %s: %w (state %s)", shortName(sandboxID), ErrSandboxNotRunning, sb.State)
	}
	// The channel may end a moment before the engine reports its sandbox's
	// end (docker kill, OOM of the whole container): watch briefly.
	if err := c.sandboxEnded(ictx, sandboxID); err != nil {
		return fmt.Errorf("exec in sandbox %s: the sandbox stopped while the command ran: %w", shortName(sandboxID), err)
	}
	// The dead helper's processes were handed to the sandbox's init: the
	// docker exec path's sweep kills them (and stops the whole sandbox when
	// it cannot).
	if serr := c.sweep(sandboxID, marker); serr != nil {
		lost = errors.Join(lost, serr)
	}
	return fmt.Errorf("exec in sandbox %s: %w; the next call starts a fresh helper", shortName(sandboxID), lost)
}
