package agent

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// executor runs tool calls in the sandbox within the turn's limits.
type executor struct {
	sb          Sandbox
	callTimeout time.Duration // per call, unless bash's timeout_s says otherwise
	maxTimeout  time.Duration // the most timeout_s may ask for
	outputCap   int           // bytes of output the model sees per call
	// live, when set, gets a running bash call's output as it comes (see
	// live.go); it is set per call, on a copy of the turn's executor.
	live func(text string)
}

// exec runs req, filling in the call timeout and the output cap.
func (x *executor) exec(ctx context.Context, req ExecRequest) (ExecResult, error) {
	if req.Timeout <= 0 {
		req.Timeout = x.callTimeout
	}
	if req.OutputCap <= 0 {
		req.OutputCap = x.outputCap
	}
	return x.sb.Exec(ctx, req)
}

// timeoutFor returns the time limit for a call that asked for asked (0: the
// default), and a note for the model when it was lowered.
func (x *executor) timeoutFor(asked time.Duration) (time.Duration, string) {
	switch {
	case asked <= 0:
		return x.callTimeout, ""
	case asked > x.maxTimeout:
		return x.maxTimeout, fmt.Sprintf("[timeout_s was lowered to %s, the most a call may run]", seconds(x.maxTimeout))
	}
	return asked, ""
}

// sandboxFailed is the outcome of a call the sandbox could not run.
func sandboxFailed(err error, res ExecResult) outcome {
	o := failed(fmt.Sprintf("the sandbox could not run this call: %v. Berth has been told; the sandbox may need a restart before tools work again.", err))
	o.execErr = err
	o.duration = res.Duration
	return o
}

// scriptFailed is the outcome of a helper script that exited non-zero: its
// stderr says why.
func scriptFailed(res ExecResult) outcome {
	msg := strings.TrimSpace(text(res.Stderr))
	if msg == "" {
		msg = strings.TrimSpace(text(res.Stdout))
	}
	if res.TimedOut {
		msg = strings.TrimSpace(msg + "\n[killed: the call ran past its time limit]")
	}
	if msg == "" {
		msg = fmt.Sprintf("failed with exit code %d", res.ExitCode)
	}
	return outcome{output: msg, isError: true, exitCode: res.ExitCode, duration: res.Duration,
		bytes: res.StdoutTotal + res.StderrTotal, truncated: res.Truncated, timedOut: res.TimedOut}
}

// ran fills in what every outcome from a finished command carries.
func ran(o outcome, res ExecResult) outcome {
	o.exitCode = res.ExitCode
	o.duration = res.Duration
	o.bytes = res.StdoutTotal + res.StderrTotal
	o.truncated = o.truncated || res.Truncated
	o.timedOut = res.TimedOut
	return o
}

// stderrNote returns the first lines of a helper's stderr as a note for the
// model, or "" when there are none.
func stderrNote(res ExecResult, what string) string {
	msg := strings.TrimSpace(text(res.Stderr))
	if msg == "" {
		return ""
	}
	lines := strings.Split(msg, "\n")
	more := ""
	if len(lines) > 5 {
		more = fmt.Sprintf("\n… and %d more", len(lines)-5)
		lines = lines[:5]
	}
	return fmt.Sprintf("\n[%s:\n%s%s]", what, capText(strings.Join(lines, "\n"), 2000), more)
}
