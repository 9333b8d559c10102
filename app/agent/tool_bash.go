package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// maxCommandBytes keeps a command under Linux's limit on one argument.
const maxCommandBytes = 100 << 10

// bashScript runs the command ($1) with bash when the image has it, else sh.
// The command travels only as an argument, never inside shell text.
const bashScript = `if command -v bash >/dev/null 2>&1; then exec bash -c "$1"; fi; exec sh -c "$1"`

var bashSpec = toolSpec{
	description: "Run a shell command in the sandbox: a Linux container that holds only the group's folder " +
		"(/workspace/group, the working directory) and the mounts the user added, with no network unless the user allowed it. " +
		"Runs with bash when the image has it, else sh. You get stdout, then stderr, and the exit code when it is not 0; " +
		"long output keeps its start and its end. The command is killed after timeout_s seconds (default 120, at most 600). " +
		"Prefer read_file, write_file, edit_file, list_files and grep for working with files.",
	schema: `{"type":"object","properties":{` +
		`"command":{"type":"string","description":"The command line to run, such as \"make test\" or \"python3 report.py > out.txt\"."},` +
		`"timeout_s":{"type":"number","description":"Seconds before the command is killed (default 120, at most 600)."}},` +
		`"required":["command"]}`,
	parse: parseBash,
}

// bashCall runs a shell command.
type bashCall struct {
	command string
	timeout time.Duration // what the model asked for; 0: the default
}

func parseBash(tool string, input json.RawMessage) (call, error) {
	var in struct {
		Command  *string  `json:"command"`
		TimeoutS *float64 `json:"timeout_s"`
	}
	if err := decode(tool, input, &in); err != nil {
		return nil, err
	}
	if in.Command == nil || strings.TrimSpace(*in.Command) == "" {
		return nil, missing(tool, "command")
	}
	c := bashCall{command: *in.Command}
	switch {
	case len(c.command) > maxCommandBytes:
		return nil, fmt.Errorf("the command is %d bytes, more than the %d a command may have; write a script with write_file and run that", len(c.command), maxCommandBytes)
	case strings.IndexByte(c.command, 0) >= 0:
		return nil, fmt.Errorf("the command contains a NUL byte, which no shell can receive")
	case in.TimeoutS != nil && *in.TimeoutS < 0:
		return nil, fmt.Errorf("timeout_s must be a positive number of seconds, not %v", *in.TimeoutS)
	case in.TimeoutS != nil:
		c.timeout = time.Duration(*in.TimeoutS * float64(time.Second))
	}
	return c, nil
}

// StopGrace is how long a bash call that is stopped (the user's Stop, its
// time limit) has to clean up after a SIGTERM before it and everything it
// started are killed: a stop takes at most this much longer.
const StopGrace = 2 * time.Second

func (c bashCall) summary() string { return "bash: " + oneLine(c.command, 120) }

func (c bashCall) run(ctx context.Context, x *executor) outcome {
	timeout, note := x.timeoutFor(c.timeout)
	res, err := x.execLive(ctx, ExecRequest{
		Argv:    []string{"/bin/sh", "-c", bashScript, "berth", c.command},
		WorkDir: GroupDir,
		Timeout: timeout,
		Grace:   StopGrace,
	})
	if err != nil {
		return sandboxFailed(err, res)
	}
	o := outcome{exitCode: res.ExitCode, duration: res.Duration, bytes: res.StdoutTotal + res.StderrTotal,
		truncated: res.Truncated, timedOut: res.TimedOut, isError: res.ExitCode != 0 || res.TimedOut}
	var cut bool
	o.output, cut = formatCommand(res, x.outputCap, timeout)
	o.truncated = o.truncated || cut
	if note != "" {
		o.output += "\n" + note
	}
	return o
}

// formatCommand turns a command's result into what the model reads: stdout,
// then stderr, then how it ended. The two streams share limit, stderr taking
// at most a third when both are long. It reports whether it cut anything.
func formatCommand(res ExecResult, limit int, timeout time.Duration) (string, bool) {
	out, errOut := text(res.Stdout), text(res.Stderr)
	cut := false
	if len(out)+len(errOut) > limit {
		errRoom := min(len(errOut), limit/3)
		if len(out) < limit-errRoom {
			errRoom = limit - len(out)
		}
		out, errOut = capText(out, limit-errRoom), capText(errOut, errRoom)
		cut = true
	}
	var b strings.Builder
	b.WriteString(out)
	if errOut != "" {
		newline(&b)
		b.WriteString("[stderr]\n")
		b.WriteString(errOut)
	}
	newline(&b)
	switch {
	case res.TimedOut:
		fmt.Fprintf(&b, "[killed after %s: the command ran past its time limit (timeout_s); run long jobs in the background or raise timeout_s]", seconds(timeout))
	case res.ExitCode != 0:
		fmt.Fprintf(&b, "[exit code %d]", res.ExitCode)
	case b.Len() == 0:
		b.WriteString("(no output)")
	}
	if res.Truncated {
		fmt.Fprintf(&b, "\n[the output was long; only its start and its end were kept: stdout %d bytes, stderr %d bytes]", res.StdoutTotal, res.StderrTotal)
	}
	return strings.TrimRight(b.String(), "\n"), cut || res.Truncated
}

// newline ends b's last line, if it has one.
func newline(b *strings.Builder) {
	if s := b.String(); s != "" && !strings.HasSuffix(s, "\n") {
		b.WriteByte('\n')
	}
}

// seconds says d in seconds, as people say it.
func seconds(d time.Duration) string {
	if d%time.Second == 0 {
		return fmt.Sprintf("%d s", int64(d/time.Second))
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}
