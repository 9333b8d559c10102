package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"
)

// Stream names one of a command's output streams.
type Stream int

// The output streams of an exec.
const (
	Stdout Stream = 1
	Stderr Stream = 2
)

// Exec limits.
const (
	DefaultOutputCap = 1 << 20 // bytes kept per stream
	// maxArgBytes is Linux's MAX_ARG_STRLEN: no single argument may be longer.
	maxArgBytes = 128 << 10
	// maxArgvBytes keeps the whole command line well under ARG_MAX.
	maxArgvBytes = 1 << 20
)

// ExecRequest is one command to run inside a sandbox.
type ExecRequest struct {
	Argv      []string
	Env       []string
	WorkDir   string
	Stdin     io.Reader     // nil: no stdin
	Timeout   time.Duration // 0: no limit beyond ctx
	OutputCap int           // bytes kept per stream; 0: DefaultOutputCap
	// OnOutput, when set, sees every chunk as it arrives, before capping.
	OnOutput func(s Stream, p []byte)
	// Signals, when set, carries signals for the running command: each goes
	// to its process group as it comes (through the helper a Signal frame,
	// else one short docker exec; see signal.go).
	Signals <-chan Signal
	// Grace is how long a timed-out or canceled command has to end after a
	// SIGTERM before it and all it started are killed; 0: killed at once.
	Grace time.Duration
}

// ExecResult is how a command ended.
type ExecResult struct {
	ExitCode int           `json:"exit_code"`
	Stdout   Output        `json:"stdout"`
	Stderr   Output        `json:"stderr"`
	Duration time.Duration `json:"duration"`
	TimedOut bool          `json:"timed_out,omitempty"`
	Canceled bool          `json:"canceled,omitempty"`
}

// Errors of Exec that a caller may want to tell apart.
var (
	ErrEmptyCommand = errors.New("empty command")
	ErrArgTooLong   = errors.New("argument too long")
	ErrEngineLost   = errors.New("lost the connection to Docker")
)

func checkArgv(argv []string) error {
	if len(argv) == 0 || argv[0] == "" {
		return fmt.Errorf("%w: give the program to run", ErrEmptyCommand)
	}
	total := 0
	for i, a := range argv {
		if len(a) > maxArgBytes {
			return fmt.Errorf("%w: argument %d is %d bytes; Linux allows at most %d bytes in one argument — pass large input on stdin or in a file",
				ErrArgTooLong, i, len(a), maxArgBytes)
		}
		if strings.IndexByte(a, 0) >= 0 {
			return fmt.Errorf("argument %d contains a NUL byte, which no program can receive", i)
		}
		total += len(a) + 1
	}
	if total > maxArgvBytes {
		return fmt.Errorf("%w: the command line is %d bytes; the limit is %d — pass large input on stdin or in a file",
			ErrArgTooLong, total, maxArgvBytes)
	}
	return nil
}

// Exec runs a command in a running sandbox and waits for it. The command's
// own failure (non-zero exit) is not an error; an error means it could not
// run or the result is unknown. On timeout or cancel the command and every
// process it started are killed, and the result says so. It runs through
// the sandbox's helper when there is one (see helper_run.go), else through
// docker exec.
func (c *Client) Exec(ctx context.Context, sandboxID string, req ExecRequest) (ExecResult, error) {
	if err := checkArgv(req.Argv); err != nil {
		return ExecResult{}, err
	}
	limit := req.OutputCap
	if limit <= 0 {
		limit = DefaultOutputCap
	}
	marker := shortID() + shortID()
	if res, err, ok := c.execViaHelper(ctx, sandboxID, req, limit, marker); ok {
		return res, err
	}
	return c.execDocker(ctx, sandboxID, req, limit, marker)
}

// execDocker runs a command as its own docker exec, step by step: start
// it, wait for its end (or its time limit, or a cancel), kill what is left
// when it did not end by itself, and read how it ended.
func (c *Client) execDocker(ctx context.Context, sandboxID string, req ExecRequest, limit int, marker string) (ExecResult, error) {
	start := time.Now()
	run, err := c.startDockerExec(ctx, sandboxID, req, limit, marker)
	if err != nil {
		return ExecResult{}, err
	}
	defer run.att.Close()
	stopSignals := make(chan struct{})
	forwardSignals(req.Signals, stopSignals, func(s Signal) { _ = c.signalDocker(context.Background(), sandboxID, marker, s) })
	res, copyErr := run.wait(ctx, req.Timeout)
	close(stopSignals)
	swept := res.TimedOut || res.Canceled
	if swept && req.Grace > 0 {
		// It ended within its grace: the usual sweep after it follows.
		var ended bool
		ended, copyErr = c.termDockerExec(sandboxID, marker, run, req.Grace)
		swept = !ended
	}
	if swept {
		copyErr = c.killDockerExec(sandboxID, marker, run)
	}
	res.Duration = time.Since(start)
	res.Stdout, res.Stderr = run.stdout.Output(), run.stderr.Output()
	return c.dockerExecResult(ctx, sandboxID, marker, run.execID, res, copyErr, swept)
}

// dockerExec is one started docker exec: its attach stream, the captures
// its output goes to, and the end of the copy.
type dockerExec struct {
	execID         string
	att            client.ExecAttachResult
	stdout, stderr *capture
	copied         chan error // the output copy's end: nil at the stream's EOF
}

// startDockerExec creates and attaches the exec, feeds its stdin and
// starts copying its output into bounded captures (and req.OnOutput).
func (c *Client) startDockerExec(ctx context.Context, sandboxID string, req ExecRequest, limit int, marker string) (*dockerExec, error) {
	created, err := c.api.ExecCreate(ctx, sandboxID, client.ExecCreateOptions{
		AttachStdin:  req.Stdin != nil,
		AttachStdout: true,
		AttachStderr: true,
		Env:          append(append([]string{}, req.Env...), "BERTH_EXEC="+marker),
		WorkingDir:   req.WorkDir,
		Cmd:          append([]string{"/bin/sh", "-c", reapWrapper, "berth-exec"}, req.Argv...),
	})
	if err != nil {
		return nil, c.explainExecErr(ctx, sandboxID, err)
	}
	att, err := c.api.ExecAttach(ctx, created.ID, client.ExecAttachOptions{})
	if err != nil {
		return nil, c.explainExecErr(ctx, sandboxID, err)
	}
	run := &dockerExec{execID: created.ID, att: att, stdout: newCapture(limit), stderr: newCapture(limit), copied: make(chan error, 1)}
	if req.Stdin != nil {
		go func() {
			_, _ = io.Copy(att.Conn, req.Stdin)
			_ = att.CloseWrite()
		}()
	}
	var outW, errW io.Writer = run.stdout, run.stderr
	if req.OnOutput != nil {
		outW = io.MultiWriter(run.stdout, streamFunc{Stdout, req.OnOutput})
		errW = io.MultiWriter(run.stderr, streamFunc{Stderr, req.OnOutput})
	}
	go func() {
		_, err := stdcopy.StdCopy(outW, errW, att.Reader)
		run.copied <- err
	}()
	return run, nil
}

// wait waits until the command's output ends, its time limit passes or ctx
// is canceled; the result says which of the last two happened.
func (run *dockerExec) wait(ctx context.Context, timeout time.Duration) (ExecResult, error) {
	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expired = t.C
	}
	res := ExecResult{}
	select {
	case err := <-run.copied:
		return res, err
	case <-expired:
		res.TimedOut = true
	case <-ctx.Done():
		res.Canceled = true
	}
	return res, nil
}

// killDockerExec kills the command and all it started (the sweep stops
// the whole sandbox when it cannot), then waits, bounded, for the output
// stream to end.
func (c *Client) killDockerExec(sandboxID, marker string, run *dockerExec) error {
	killErr := c.sweep(sandboxID, marker)
	// The stream ends once the processes are gone; don't wait forever on
	// an engine that is itself in trouble.
	select {
	case err := <-run.copied:
		return err
	case <-time.After(5 * time.Second):
		run.att.Close()
		return errors.Join(fmt.Errorf("the command did not stop after being killed"), killErr)
	}
}

// termDockerExec sends the command SIGTERM and waits for its output to
// end, both within grace; ended says whether it did.
func (c *Client) termDockerExec(sandboxID, marker string, run *dockerExec, grace time.Duration) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := c.signalDocker(ctx, sandboxID, marker, SIGTERM); err != nil {
		return false, nil
	}
	select {
	case err := <-run.copied:
		return true, err
	case <-ctx.Done():
		return false, nil
	}
}

// dockerExecResult reads the exit code of an exec whose output ended, tells
// a command killed with its whole sandbox from a killed command, and kills
// whatever the command left behind unless that was done already (swept).
func (c *Client) dockerExecResult(ctx context.Context, sandboxID, marker, execID string, res ExecResult, copyErr error, swept bool) (ExecResult, error) {
	ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	ins, err := c.api.ExecInspect(ictx, execID, client.ExecInspectOptions{})
	for i := 0; err == nil && ins.Running && i < 250; i++ { // the exit code lands just after the stream ends
		time.Sleep(2 * time.Millisecond)
		ins, err = c.api.ExecInspect(ictx, execID, client.ExecInspectOptions{})
	}
	if err != nil {
		return res, c.explainExecErr(ictx, sandboxID, errors.Join(err, copyErr))
	}
	if copyErr != nil && !res.TimedOut && !res.Canceled {
		return res, fmt.Errorf("%w while the command ran: %v", ErrEngineLost, copyErr)
	}
	res.ExitCode = ins.ExitCode
	if res.ExitCode >= 126 && !res.TimedOut && !res.Canceled {
		// A command killed with its sandbox (docker kill, OOM of the whole
		// container) ends like a killed command; the engine reports the
		// container's end a moment later. Tell the two apart.
		if err := c.sandboxEnded(ictx, sandboxID); err != nil {
			return res, fmt.Errorf("exec in sandbox %s: the sandbox stopped while the command ran: %w", shortName(sandboxID), err)
		}
	}
	if !swept {
		// Nothing the command started outlives it, whatever it did to its
		// session, process group or environment.
		if err := c.sweep(sandboxID, marker); err != nil {
			return res, fmt.Errorf("exec in sandbox %s: %w", shortName(sandboxID), err)
		}
	}
	if res.TimedOut || res.Canceled {
		if res.ExitCode == 0 {
			res.ExitCode = 137
		}
		if res.Canceled {
			return res, fmt.Errorf("exec canceled: %w", ctx.Err())
		}
	}
	return res, nil
}

type streamFunc struct {
	s  Stream
	fn func(Stream, []byte)
}

func (w streamFunc) Write(p []byte) (int, error) {
	w.fn(w.s, append([]byte{}, p...))
	return len(p), nil
}

// reapWrapper runs the command ("$@") as a child of a shell that docker made
// a session leader, and when it ends kills whatever it left behind in that
// session (background children would otherwise outlive the call and could
// hold every pid of the sandbox). It uses shell built-ins only, so it works
// even when no process can be forked. A process that started its own
// session escapes it; the sweep after each command (sweepScript) does not
// let those live either. The wrapper also keeps the command from being the
// exec itself, which the sweep relies on. It shrugs off the signals a
// caller sends (signalScript signals its whole process group), which still
// reach the command: a trap's handler, unlike an ignored signal, is not
// inherited.
const reapWrapper = `trap : HUP INT QUIT TERM USR1 USR2
"$@"
rc=$?
for pass in 1 2; do
  for d in /proc/[0-9]*; do
    p=${d#/proc/}
    [ "$p" = "$$" ] && continue
    read -r line 2>/dev/null < "$d/stat" || continue
    set -- ${line##*) }
    [ "$4" = "$$" ] && kill -9 "$p" 2>/dev/null
  done
done
exit $rc`

// sandboxEnded watches a sandbox for up to half a second after a command was
// killed; it returns ErrSandboxGone or ErrSandboxNotRunning if the sandbox
// itself ended, nil if it still runs (the command alone was killed).
func (c *Client) sandboxEnded(ctx context.Context, sandboxID string) error {
	for i := 0; i < 25; i++ {
		sb, err := c.InspectSandbox(ctx, sandboxID)
		switch {
		case errors.Is(err, ErrSandboxGone):
			return ErrSandboxGone
		case err != nil:
			return nil // cannot tell; keep the command's own result
		case !sb.Running():
			return ErrSandboxNotRunning
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// explainExecErr names the usual reasons an exec cannot start.
func (c *Client) explainExecErr(ctx context.Context, sandboxID string, err error) error {
	switch {
	case cerrdefs.IsNotFound(err):
		return fmt.Errorf("exec in sandbox %s: %w", shortName(sandboxID), ErrSandboxGone)
	case cerrdefs.IsConflict(err) || strings.Contains(err.Error(), "is not running"):
		return fmt.Errorf("exec in sandbox %s: %w", shortName(sandboxID), ErrSandboxNotRunning)
	case client.IsErrConnectionFailed(err) || isNetErr(err):
		return fmt.Errorf("exec in sandbox %s: %w: %v", shortName(sandboxID), ErrEngineLost, err)
	}
	if sb, ierr := c.InspectSandbox(ctx, sandboxID); ierr == nil && !sb.Running() {
		return fmt.Errorf("exec in sandbox %s: %w (state %s)", shortName(sandboxID), ErrSandboxNotRunning, sb.State)
	} else if errors.Is(ierr, ErrSandboxGone) {
		return fmt.Errorf("exec in sandbox %s: %w", shortName(sandboxID), ErrSandboxGone)
	}
	return fmt.Errorf("exec in sandbox %s: %w", shortName(sandboxID), err)
}
