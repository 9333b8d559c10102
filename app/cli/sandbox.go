package cli

import (
	"cmp"
	"context"
	"maps"
	"slices"

	"encoding/json"
	"fmt"
	"github.com/berth-app/berth/app/assistant"
	"text/tabwriter"
	"time"
)

func runSandbox(ctx context.Context, io IO, args []string) int {
	if len(args) == 0 {
		return fail(io, ExitUsage, "usage: berth sandbox list [--json] | berth sandbox stop (--all | ID) | berth sandbox rotate [-g GROUP] | berth sandbox reap")
	}
	switch args[0] {
	case "list", "ls":
		return sandboxList(ctx, io, args[1:])
	case "stop":
		return sandboxStop(ctx, io, args[1:])
	case "rotate":
		return sandboxRotate(ctx, io, args[1:])
	case "reap":
		return sandboxReap(ctx, io, args[1:])
	}
	return fail(io, ExitUsage, "unknown sandbox command %q; use list or stop", args[0])
}

func sandboxList(ctx context.Context, io IO, args []string) int {
	fs := flags(io, "sandbox list", "[--json]")
	asJSON := fs.Bool("json", false, "print JSON")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	e, err := loadEnv()
	if err != nil {
		return fail(io, ExitFailure, "%v", err)
	}
	defer e.close()
	list, err := e.service(nil).Sandboxes(ctx)
	if err != nil {
		return fail(io, ExitFailure, "%v", err)
	}
	if *asJSON {
		if list == nil {
			fmt.Fprintln(io.Out, "[]")
			return ExitOK
		}
		enc := json.NewEncoder(io.Out)
		enc.SetIndent("", "  ")
		_ = enc.Encode(list)
		return ExitOK
	}
	if len(list) == 0 {
		fmt.Fprintln(io.Out, "No sandboxes. `berth exec CMD` starts one for the main group.")
		return ExitOK
	}
	tw := tabwriter.NewWriter(io.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tGROUP\tSESSION\tSTATE\tAGE\tENDS IN\tCALLS VIA")
	now := time.Now()
	reasons := map[string]bool{}
	for _, sb := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", sb.ID[:12], sb.Name, sb.Group, sb.Session, sb.State,
			now.Sub(sb.Created).Round(time.Second), sb.Expires.Sub(now).Round(time.Second), cmp.Or(sb.ExecPath, "-"))
		if sb.ExecPathReason != "" {
			reasons[sb.ExecPath+": "+sb.ExecPathReason] = true
		}
	}
	tw.Flush()
	for _, r := range slices.Sorted(maps.Keys(reasons)) {
		fmt.Fprintln(io.Out, "  "+r)
	}
	return ExitOK
}

func sandboxStop(ctx context.Context, io IO, args []string) int {
	fs := flags(io, "sandbox stop", "(--all | ID)")
	all := fs.Bool("all", false, "stop every sandbox")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if *all == (fs.NArg() == 1) || fs.NArg() > 1 {
		fs.Usage()
		return ExitUsage
	}
	if *all {
		// A running Berth stops them itself (those in a running turn when it ends).
		if rep, done, code := control(io, assistant.ControlRequest{Cmd: "stop-all"}); done {
			if code == ExitOK {
				fmt.Fprintf(io.Out, "stopping %d sandboxes (those in a running turn when it ends)\n", rep.Count)
			}
			return code
		}
	}
	e, err := loadEnv()
	if err != nil {
		return fail(io, ExitFailure, "%v", err)
	}
	defer e.close()
	w, err := e.openWriter()
	if err != nil {
		return fail(io, ExitFailure, "%v", err)
	}
	defer w.close()
	svc := e.service(w)
	if *all {
		stopped, err := svc.StopAll(ctx)
		if err == nil && len(stopped) == 0 {
			fmt.Fprintln(io.Out, "No sandboxes were running.")
			return ExitOK
		}
		for _, sb := range stopped {
			fmt.Fprintln(io.Out, "stopped", sb.Name)
		}
		if err != nil {
			return fail(io, ExitFailure, "%v", err)
		}
		return ExitOK
	}
	sb, err := svc.StopSandbox(ctx, fs.Arg(0))
	if err != nil {
		return fail(io, ExitFailure, "%v", err)
	}
	fmt.Fprintln(io.Out, "stopped", sb.Name)
	return ExitOK
}

// sandboxReap removes dead and expired sandboxes and those of removed groups.
func sandboxReap(ctx context.Context, io IO, args []string) int {
	fs := flags(io, "sandbox reap", "")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if rep, done, code := control(io, assistant.ControlRequest{Cmd: "reap"}); done {
		if code == ExitOK {
			fmt.Fprintf(io.Out, "reaped %d sandboxes\n", rep.Count)
		}
		return code
	}
	return withService(io, func(svc *assistant.Service) int {
		reaped, err := svc.Reap(ctx)
		for _, sb := range reaped {
			fmt.Fprintf(io.Out, "reaped %s (%s)\n", sb.Name, sb.State)
		}
		if err != nil {
			return fail(io, ExitFailure, "%v", err)
		}
		fmt.Fprintf(io.Out, "reaped %d sandboxes\n", len(reaped))
		return ExitOK
	})
}
