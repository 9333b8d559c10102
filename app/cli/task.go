package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/berth-app/berth/app/assistant"
	"github.com/berth-app/berth/app/store"
	"github.com/berth-app/berth/app/tasks"
)

const taskUsage = "usage: berth task (add -g GROUP (--cron EXPR | --every DUR | --at TIME) [--context fresh|chat] [--title T] PROMPT… | " +
	"list [-g GROUP] [--json] | show ID [--json] | pause ID | resume ID | run ID | rm ID | history ID [-n N] [--json])"

func runTask(ctx context.Context, io IO, args []string) int {
	if len(args) == 0 {
		return fail(io, ExitUsage, "%s", taskUsage)
	}
	switch args[0] {
	case "add":
		return taskAdd(ctx, io, args[1:])
	case "list", "ls":
		return taskList(ctx, io, args[1:])
	case "show":
		return taskShow(ctx, io, args[1:])
	case "history":
		return taskHistory(ctx, io, args[1:])
	case "pause", "resume", "rm":
		return taskChange(ctx, io, args[0], args[1:])
	case "run":
		return taskRun(ctx, io, args[1:])
	}
	return fail(io, ExitUsage, "%s", taskUsage)
}

func taskAdd(ctx context.Context, io IO, args []string) int {
	fs := flags(io, "task add", "-g GROUP (--cron EXPR | --every DUR | --at TIME) [--context fresh|chat] [--title T] PROMPT…")
	group := fs.String("g", assistant.DefaultGroup, "group")
	cronExpr := fs.String("cron", "", `cron expression in local time, e.g. "0 8 * * 1-5" or @daily`)
	every := fs.String("every", "", "interval, e.g. 30m, 2h, 1d (anchored to the first run)")
	at := fs.String("at", "", `one run at a local time: "2026-12-02 09:00" or "09:00"`)
	context_ := fs.String("context", assistant.TaskFresh, "fresh (each run a new chat) or chat (runs continue one chat)")
	title := fs.String("title", "", "title (default: the prompt's start)")
	catchUp := fs.Duration("catch-up", tasks.DefaultCatchUp, "a run missed by up to this long still runs, once")
	wait := fs.Duration("approval-wait", assistant.DefaultApprovalWait, "how long an unattended run waits for an approval")
	auto := fs.Bool("auto-approve", false, "run without asking for approvals (as if the group were in auto mode)")
	asJSON := fs.Bool("json", false, "print JSON")
	ops, code, ok := parseInterleaved(fs, args)
	if !ok {
		return code
	}
	spec := assistant.TaskSpec{Group: *group, Title: *title, Prompt: strings.Join(ops, " "), Context: *context_,
		CatchUp: *catchUp, ApprovalWait: *wait, AutoApprove: *auto}
	n := 0
	for kind, expr := range map[tasks.Kind]string{tasks.Cron: *cronExpr, tasks.Every: *every, tasks.Once: *at} {
		if expr != "" {
			spec.Kind, spec.Expr = kind, expr
			n++
		}
	}
	if n != 1 {
		return fail(io, ExitUsage, "give exactly one of --cron, --every or --at")
	}
	show := func(info assistant.TaskInfo) int {
		if *asJSON {
			return printJSON(io, info)
		}
		fmt.Fprintf(io.Out, "added task %s %q in %s: %s\n", info.ID, info.Title, info.Group, info.Words)
		printNextRuns(io, info)
		return ExitOK
	}
	if rep, running, code := control(io, assistant.ControlRequest{Cmd: "task", Task: &assistant.TaskOp{Op: "add", Spec: &spec}}); running {
		if code != ExitOK {
			return code
		}
		return show(*rep.Task)
	}
	return withService(io, func(svc *assistant.Service) int {
		t, err := svc.AddTask(ctx, spec, store.ActorUser)
		if err != nil {
			return fail(io, ExitUsage, "%v", err)
		}
		return show(t.Info(time.Now(), 5))
	})
}

func printNextRuns(io IO, info assistant.TaskInfo) {
	if len(info.NextRuns) == 0 {
		fmt.Fprintln(io.Out, "  no next run")
		return
	}
	fmt.Fprint(io.Out, "  next runs:")
	for _, at := range info.NextRuns {
		fmt.Fprintf(io.Out, " %s;", at.Local().Format("Mon 2 Jan 15:04"))
	}
	fmt.Fprintln(io.Out)
}

// withTasksReader reads tasks from the database read-only: it works beside
// a running Berth.
func withTasksReader(io IO, fn func(*assistant.Service) int) int {
	e, err := loadEnv()
	if err != nil {
		return fail(io, ExitFailure, "%v", err)
	}
	defer e.close()
	st, err := e.openReader()
	if err != nil {
		return fail(io, ExitFailure, "%v", err)
	}
	defer st.Close()
	svc := e.service(nil)
	svc.Store = st
	return fn(svc)
}

func taskList(ctx context.Context, io IO, args []string) int {
	fs := flags(io, "task list", "[-g GROUP] [--json]")
	group := fs.String("g", "", "group (default: every group)")
	asJSON := fs.Bool("json", false, "print JSON")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	return withTasksReader(io, func(svc *assistant.Service) int {
		ts, err := svc.Tasks(ctx, *group)
		if err != nil {
			return fail(io, ExitFailure, "%v", err)
		}
		infos := []assistant.TaskInfo{}
		for _, t := range ts {
			infos = append(infos, t.Info(time.Now(), 5))
		}
		if *asJSON {
			return printJSON(io, infos)
		}
		if len(infos) == 0 {
			fmt.Fprintln(io.Out, "No scheduled tasks. `berth task add -g main --cron \"0 8 * * *\" \"summarise my notes\"` adds one.")
			return ExitOK
		}
		tw := tabwriter.NewWriter(io.Out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tGROUP\tTITLE\tSCHEDULE\tNEXT RUN\tLAST RUN")
		for _, in := range infos {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", in.ID, in.Group, in.Title, in.Words, nextRunText(in), lastRunText(in.LastRun))
		}
		tw.Flush()
		return ExitOK
	})
}

func nextRunText(in assistant.TaskInfo) string {
	switch {
	case !in.Enabled:
		return "paused"
	case in.NextRun == nil:
		return "—"
	}
	return in.NextRun.Local().Format("Mon 2 Jan 15:04")
}

func lastRunText(r *store.TaskRun) string {
	if r == nil {
		return "never"
	}
	s := r.Outcome
	if r.Late > 0 {
		s += fmt.Sprintf(" (%s late)", r.Late)
	}
	return s + ", " + r.Due.Local().Format("Mon 2 Jan 15:04")
}

func taskShow(ctx context.Context, io IO, args []string) int {
	fs := flags(io, "task show", "ID [--json]")
	asJSON := fs.Bool("json", false, "print JSON")
	id, code, ok := oneOperand(fs, args)
	if !ok {
		return code
	}
	return withTasksReader(io, func(svc *assistant.Service) int {
		t, err := svc.Task(ctx, id)
		if err != nil {
			return failTask(io, err)
		}
		in := t.Info(time.Now(), 5)
		if *asJSON {
			return printJSON(io, in)
		}
		fmt.Fprintf(io.Out, "%s %q in %s\n  schedule: %s (%s %q, %s)\n  context: %s; catch-up %s; auto-approve %v\n  prompt: %s\n  last run: %s\n",
			in.ID, in.Title, in.Group, in.Words, in.Kind, in.Schedule, in.Zone, in.Context, in.CatchUp, in.AutoApprove, in.Prompt, lastRunText(in.LastRun))
		if !in.Enabled {
			fmt.Fprintln(io.Out, "  paused: `berth task resume "+in.ID+"` resumes it")
		} else {
			printNextRuns(io, in)
		}
		return ExitOK
	})
}

func taskHistory(ctx context.Context, io IO, args []string) int {
	fs := flags(io, "task history", "ID [-n N] [--json]")
	n := fs.Int("n", 20, "runs to show")
	asJSON := fs.Bool("json", false, "print JSON")
	id, code, ok := oneOperand(fs, args)
	if !ok {
		return code
	}
	return withTasksReader(io, func(svc *assistant.Service) int {
		runs, err := svc.TaskHistory(ctx, id, *n)
		if err != nil {
			return failTask(io, err)
		}
		if *asJSON {
			return printJSON(io, runs)
		}
		if len(runs) == 0 {
			fmt.Fprintln(io.Out, "No runs yet.")
			return ExitOK
		}
		tw := tabwriter.NewWriter(io.Out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "DUE\tOUTCOME\tLATE\tCHAT\tDETAIL")
		for _, r := range runs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Due.Local().Format("2006-01-02 15:04"), r.Outcome, r.Late, r.SessionID, r.Detail)
		}
		tw.Flush()
		return ExitOK
	})
}

func taskChange(ctx context.Context, io IO, op string, args []string) int {
	fs := flags(io, "task "+op, "ID")
	id, code, ok := oneOperand(fs, args)
	if !ok {
		return code
	}
	done := map[string]string{"pause": "paused", "resume": "resumed", "rm": "removed"}[op]
	if _, running, code := control(io, assistant.ControlRequest{Cmd: "task", Task: &assistant.TaskOp{Op: op, ID: id}}); running {
		if code == ExitOK {
			fmt.Fprintf(io.Out, "%s task %s\n", done, id)
		}
		return code
	}
	return withService(io, func(svc *assistant.Service) int {
		var err error
		if op == "rm" {
			err = svc.RemoveTask(ctx, id, store.ActorUser)
		} else {
			_, err = svc.SetTaskEnabled(ctx, id, op == "resume", store.ActorUser)
		}
		if err != nil {
			return failTask(io, err)
		}
		fmt.Fprintf(io.Out, "%s task %s\n", done, id)
		return ExitOK
	})
}

// taskRun runs a task now: in the running Berth when there is one, else in
// a runtime started for this command, waiting for the run's end.
func taskRun(ctx context.Context, io IO, args []string) int {
	fs := flags(io, "task run", "ID")
	id, code, ok := oneOperand(fs, args)
	if !ok {
		return code
	}
	if rep, running, code := control(io, assistant.ControlRequest{Cmd: "task", Task: &assistant.TaskOp{Op: "run", ID: id}}); running {
		if code == ExitOK {
			fmt.Fprintf(io.Out, "task %s started in the running Berth (run %d); `berth task history %s` shows how it ends\n", id, rep.Run, id)
		}
		return code
	}
	inst, err := StartRuntime(ctx, 4)
	if err != nil {
		return fail(io, ExitFailure, "%v", err)
	}
	defer inst.Close()
	events, unsub := inst.Runtime.Subscribe()
	defer unsub()
	if _, err := inst.Scheduler.RunNow(ctx, id); err != nil {
		return failTask(io, err)
	}
	for {
		select {
		case ev := <-events:
			switch ev.Kind {
			case assistant.EventWaitGate:
				fmt.Fprintf(io.Err, "waiting: %s\n", ev.Text)
			case assistant.EventTaskEnd:
				if ev.Status == assistant.RunFinished {
					fmt.Fprintf(io.Out, "task %q finished — its chat is %s (`berth session list -g %s`)\n", ev.Text, ev.Session, ev.Group)
					return ExitOK
				}
				return fail(io, ExitFailure, "task %q ended %s: %s", ev.Text, ev.Status, ev.Err)
			}
		case <-ctx.Done():
			return fail(io, ExitInterrupt, "interrupted; the run is kept as interrupted")
		}
	}
}

func failTask(io IO, err error) int {
	if errors.Is(err, assistant.ErrNoTask) {
		return fail(io, ExitUsage, "%v (`berth task list` shows the tasks)", err)
	}
	return fail(io, ExitFailure, "%v", err)
}
