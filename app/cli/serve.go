package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/berth-app/berth/app/assistant"
	"github.com/berth-app/berth/app/home"
	"github.com/berth-app/berth/app/llm"
	"github.com/berth-app/berth/app/wire"
)

// runServe runs the assistant without a window: the health monitor, the
// queues, idle sandboxes stopped, and the control socket that `berth pause`,
// `resume` and `sandbox rotate` talk to. The desktop app runs the same.
func runServe(ctx context.Context, io IO, args []string) int {
	fs := flags(io, "serve", "[--max-sandboxes N]")
	maxSB := fs.Int("max-sandboxes", 4, "sandboxes running at once")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	inst, err := wire.StartRuntime(ctx, *maxSB)
	if err != nil {
		return fail(io, ExitFailure, "%v", err)
	}
	rt := inst.Runtime
	p, _ := home.Resolve()
	events, unsub := rt.Subscribe()
	defer unsub()
	fmt.Fprintf(io.Out, "Berth is running (data %s). Ctrl-C stops it.\n", p.Data)
	if err := llm.KeyringStatus(); err != nil {
		file, _ := llm.KeyFile()
		fmt.Fprintf(io.Out, "API keys: %s — they are read from %s or the environment\n", err, file)
	}
	for {
		select {
		case ev := <-events:
			printRuntimeEvent(io, ev)
		case <-ctx.Done():
			fmt.Fprintln(io.Out, "stopping…")
			err := inst.Close()
			if err != nil && !errors.Is(err, context.Canceled) {
				return fail(io, ExitFailure, "%v", err)
			}
			return ExitOK
		}
	}
}

func printRuntimeEvent(io IO, ev assistant.Event) {
	stamp := ev.Time.Local().Format("15:04:05")
	switch ev.Kind {
	case assistant.EventGate:
		if ev.Gate.Open {
			fmt.Fprintf(io.Out, "%s assistant ready — %s\n", stamp, ev.Gate.Reason)
		} else {
			reason, hint := ev.Gate.Reason, ev.Gate.Hint
			fmt.Fprintf(io.Out, "%s assistant blocked — %s (fix: %s)\n", stamp, reason, hint)
		}
	case assistant.EventTurnStart:
		fmt.Fprintf(io.Out, "%s %s/%s: turn started\n", stamp, ev.Group, ev.Session)
	case assistant.EventTurnEnd:
		fmt.Fprintf(io.Out, "%s chat %s: turn %s\n", stamp, ev.Session, ev.Status)
	case assistant.EventWaitSlot:
		fmt.Fprintf(io.Out, "%s %s/%s: %s\n", stamp, ev.Group, ev.Session, ev.Text)
	case assistant.EventSandboxStop:
		fmt.Fprintf(io.Out, "%s sandbox stopped: %s\n", stamp, ev.Text)
	case assistant.EventError:
		fmt.Fprintf(io.Out, "%s error: %s\n", stamp, ev.Err)
	case assistant.EventTaskStart:
		fmt.Fprintf(io.Out, "%s task %q started in %s (chat %s)\n", stamp, ev.Text, ev.Group, ev.Session)
	case assistant.EventTaskApproval:
		fmt.Fprintf(io.Out, "%s %s (it waits; unanswered calls are denied)\n", stamp, ev.Text)
	case assistant.EventTaskEnd:
		fmt.Fprintf(io.Out, "%s task %q %s %s\n", stamp, ev.Text, ev.Status, ev.Err)
	}
}

// control sends req to a running Berth; ok false means none is running.
func control(io IO, req assistant.ControlRequest) (assistant.ControlReply, bool, int) {
	e, err := loadEnv()
	if err != nil {
		return assistant.ControlReply{}, true, fail(io, ExitFailure, "%v", err)
	}
	defer e.close()
	rep, err := assistant.Control(e.paths.Socket, req)
	if errors.Is(err, assistant.ErrNotRunning) {
		return rep, false, 0
	}
	if err != nil {
		return rep, true, fail(io, ExitFailure, "%v", err)
	}
	return rep, true, ExitOK
}

func runPause(ctx context.Context, io IO, args []string) int {
	fs := flags(io, "pause", "[REASON…]")
	ops, code, ok := parseInterleaved(fs, args)
	if !ok {
		return code
	}
	reason := strings.Join(ops, " ")
	if reason == "" {
		reason = "paused by the user"
	}
	if _, done, code := control(io, assistant.ControlRequest{Cmd: "pause", Reason: reason}); done {
		if code == ExitOK {
			fmt.Fprintln(io.Out, "paused the running Berth: running turns stop and are kept; new messages wait")
		}
		return code
	}
	return withService(io, func(svc *assistant.Service) int {
		if err := svc.SetPaused(ctx, reason); err != nil {
			return fail(io, ExitFailure, "%v", err)
		}
		fmt.Fprintln(io.Out, "paused: chats and commands wait until `berth resume`")
		return ExitOK
	})
}

func runResume(ctx context.Context, io IO, args []string) int {
	if _, done, code := control(io, assistant.ControlRequest{Cmd: "resume"}); done {
		if code == ExitOK {
			fmt.Fprintln(io.Out, "resumed the running Berth: waiting messages run now")
		}
		return code
	}
	return withService(io, func(svc *assistant.Service) int {
		if err := svc.SetPaused(ctx, ""); err != nil {
			return fail(io, ExitFailure, "%v", err)
		}
		fmt.Fprintln(io.Out, "resumed")
		return ExitOK
	})
}

func sandboxRotate(ctx context.Context, io IO, args []string) int {
	fs := flags(io, "sandbox rotate", "[-g GROUP]")
	group := fs.String("g", "", "only this group's sandboxes")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if rep, done, code := control(io, assistant.ControlRequest{Cmd: "rotate", Group: *group}); done {
		if code == ExitOK {
			fmt.Fprintf(io.Out, "rotating %d sandboxes (those in a running turn go when it ends)\n", rep.Count)
		}
		return code
	}
	return withService(io, func(svc *assistant.Service) int {
		n, err := svc.Rotate(ctx, *group)
		if err != nil {
			return fail(io, ExitFailure, "%v", err)
		}
		fmt.Fprintf(io.Out, "rotated %d sandboxes; the next command starts fresh ones\n", n)
		return ExitOK
	})
}
