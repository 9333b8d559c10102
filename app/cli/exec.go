package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/berth-app/berth/app/assistant"
	"github.com/berth-app/berth/docker"
	"golang.org/x/term"
)

func runExec(ctx context.Context, io IO, args []string) int {
	fs := flags(io, "exec", "[-g GROUP] [-i] [--timeout D] [-w DIR] [--] CMD [ARGS...]")
	group := fs.String("g", "main", "group whose sandbox runs the command")
	stdin := fs.Bool("i", false, "pass standard input to the command")
	timeout := fs.Duration("timeout", 0, "kill the command after this long (default: the exec_timeout setting, 10m)")
	workdir := fs.String("w", "", "working folder inside the sandbox (default /workspace/group)")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	argv := fs.Args()
	if len(argv) == 0 {
		fs.Usage()
		return ExitUsage
	}
	if err := assistant.ValidGroup(*group); err != nil {
		return fail(io, ExitUsage, "%v", err)
	}
	e, err := loadEnv()
	if err != nil {
		return fail(io, ExitInternal, "%v", err)
	}
	defer e.close()
	w, err := e.openWriter()
	if err != nil {
		return fail(io, ExitInternal, "%v", err)
	}
	defer func() {
		if err := w.close(); err != nil {
			fmt.Fprintln(io.Err, "berth: closing the audit log:", err)
		}
	}()
	svc := e.service(w)
	defer svc.ServeEgress(ctx)() // an allowlist group's rules apply; nobody is asked
	if *timeout == 0 {
		*timeout = time.Duration(e.cfg.ExecTimeout)
	}
	req := docker.ExecRequest{
		Argv: argv, WorkDir: *workdir, Timeout: *timeout,
		OnOutput: func(s docker.Stream, p []byte) {
			if s == docker.Stderr {
				io.Err.Write(p)
			} else {
				io.Out.Write(p)
			}
		},
		OutputCap: 64 << 10, // everything streams out; the cap is what the audit keeps track of
	}
	if *stdin {
		if f, ok := io.In.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			fmt.Fprintln(io.Err, "berth: reading standard input until Ctrl-D…")
		}
		req.Stdin = io.In
	}
	res, err := svc.Exec(ctx, *group, req)
	var gate *assistant.GateClosedError
	switch {
	case errors.As(err, &gate):
		reason, hint := gate.Gate.Reason, gate.Gate.Hint
		return fail(io, ExitGateClosed, "%s\n  fix: %s", reason, hint)
	case res.Canceled:
		fmt.Fprintln(io.Err, "berth: interrupted; the command was stopped")
		return ExitInterrupt
	case err != nil:
		return fail(io, ExitInternal, "%v", err)
	case res.TimedOut:
		fmt.Fprintf(io.Err, "berth: the command was killed after %s (--timeout)\n", *timeout)
	}
	return res.ExitCode
}
