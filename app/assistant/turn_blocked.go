package assistant

import (
	"context"
	"errors"
	"fmt"

	"github.com/berth-app/berth/app/agent"
	"github.com/berth-app/berth/docker"
)

// A tool call that fails because Docker went away — while its sandbox was
// looked up, created, started or set up, or while its command ran — must
// not reach the model as the call's own failure: the model would be told
// the command failed and improvise, and the turn could end "done" with
// Docker down. Which errors mean that is not read from their text (the
// engine's client words them in many ways); Docker is asked, through the
// gate: a fresh reading, acted on at once.

// blockedError is a tool call's failure while the gate is closed. It ends
// the turn as interrupted (agent.ErrBlocked), as a closing gate does
// (ErrGateClosed); the call's own error is kept in its text, for the audit
// log.
type blockedError struct {
	gate GateState
	call error
}

func (e *blockedError) Error() string {
	msg := fmt.Sprintf("%v: %s — %s", ErrGateClosed, e.gate.Reason, e.gate.Hint)
	if gc := (*GateClosedError)(nil); !errors.As(e.call, &gc) {
		msg += fmt.Sprintf(" (the call: %v)", e.call) // not the gate's own refusal, said already
	}
	return msg
}

func (e *blockedError) Is(target error) bool {
	return target == agent.ErrBlocked || target == ErrGateClosed
}

// blocked says whether a tool call's failure means the assistant is
// blocked: it is the gate's own refusal, or a fresh reading of Docker
// (which, in a runtime, closes the gate and stops the turn) finds the gate
// closed. It returns the error that ends the turn, or nil when the failure
// is the call's own. The sandbox's answers (a file refused, no file
// operations) and a turn already stopped need no reading.
func (l *lazySandbox) blocked(ctx context.Context, err error) error {
	var fe *agent.FileError
	if err == nil || ctx.Err() != nil || errors.As(err, &fe) || errors.Is(err, agent.ErrNoFileOps) ||
		errors.Is(err, docker.ErrArgTooLong) || errors.Is(err, docker.ErrEmptyCommand) {
		return nil
	}
	var gc *GateClosedError
	if !errors.As(err, &gc) {
		if _, gerr := l.svc.gate().Recheck(ctx); !errors.As(gerr, &gc) {
			return nil
		}
	}
	return &blockedError{gate: gc.Gate, call: err}
}
