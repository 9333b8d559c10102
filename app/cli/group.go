package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/berth-app/berth/app/assistant"
	"github.com/berth-app/berth/app/egress"
)

func runGroup(ctx context.Context, io IO, args []string) int {
	if len(args) == 0 {
		return fail(io, ExitUsage, "usage: berth group (add NAME [flags] | list [--json] | show NAME [--json] | set NAME KEY=VALUE… | rm NAME --yes [--purge])")
	}
	switch args[0] {
	case "add":
		return groupAdd(ctx, io, args[1:])
	case "list", "ls":
		return groupList(ctx, io, args[1:])
	case "show":
		return groupShow(ctx, io, args[1:])
	case "set":
		return groupSet(ctx, io, args[1:])
	case "rm", "remove":
		return groupRemove(ctx, io, args[1:])
	}
	return fail(io, ExitUsage, "unknown group command %q; use add, list, show, set or rm", args[0])
}

// withService runs fn with the lock held and the store open for writing.
func withService(io IO, fn func(*assistant.Service) int) int {
	e, err := loadEnv()
	if err != nil {
		return fail(io, ExitFailure, "%v", err)
	}
	defer e.close()
	w, err := e.openWriter()
	if err != nil {
		return fail(io, ExitFailure, "%v", err)
	}
	defer func() {
		if err := w.close(); err != nil {
			fmt.Fprintln(io.Err, "berth: closing the audit log:", err)
		}
	}()
	return fn(e.service(w))
}

func groupAdd(ctx context.Context, io IO, args []string) int {
	fs := flags(io, "group add", "NAME [--name TITLE] [--image I] [--network none|allowlist|open] [--approval auto|ask-writes|ask-all]")
	title := fs.String("name", "", "display name (default: NAME)")
	image := fs.String("image", "", "sandbox image for this group (default: the image in settings)")
	network := fs.String("network", "", "none (default), allowlist (through Berth's proxy, see berth net) or open")
	approval := fs.String("approval", "", "auto (default), ask-writes or ask-all")
	slug, code, ok := oneOperand(fs, args)
	if !ok {
		return code
	}
	return withService(io, func(svc *assistant.Service) int {
		g, err := svc.AddGroup(ctx, slug, *title, assistant.GroupSettings{Image: *image, Network: *network, Approval: *approval})
		if err != nil {
			return fail(io, ExitUsage, "%v", err)
		}
		fmt.Fprintf(io.Out, "created group %s; its folder is %s (mounted at /workspace/group)\n", g.Slug, g.Folder)
		return ExitOK
	})
}

// oneOperand parses flags anywhere and wants exactly one operand (NAME).
func oneOperand(fs *flag.FlagSet, args []string) (string, int, bool) {
	ops, code, ok := parseInterleaved(fs, args)
	if !ok {
		return "", code, false
	}
	if len(ops) != 1 {
		fs.Usage()
		return "", ExitUsage, false
	}
	return ops[0], 0, true
}

func groupList(ctx context.Context, io IO, args []string) int {
	fs := flags(io, "group list", "[--json]")
	asJSON := fs.Bool("json", false, "print JSON")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	return withService(io, func(svc *assistant.Service) int {
		gs, err := svc.Groups(ctx)
		if err != nil {
			return fail(io, ExitFailure, "%v", err)
		}
		if *asJSON {
			return printJSON(io, gs)
		}
		tw := tabwriter.NewWriter(io.Out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "GROUP\tNAME\tNETWORK\tAPPROVAL\tIMAGE")
		for _, g := range gs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", g.Slug, g.Name, svc.NetMode(g), cmp.Or(g.Settings.Approval, assistant.ApprovalAuto), cmp.Or(g.Settings.Image, "(default)"))
		}
		tw.Flush()
		return ExitOK
	})
}

func groupShow(ctx context.Context, io IO, args []string) int {
	fs := flags(io, "group show", "NAME [--json]")
	asJSON := fs.Bool("json", false, "print JSON")
	slug, code, ok := oneOperand(fs, args)
	if !ok {
		return code
	}
	return withService(io, func(svc *assistant.Service) int {
		g, err := svc.Group(ctx, slug)
		if err != nil {
			return fail(io, ExitFailure, "%v", err)
		}
		ms, err := svc.Mounts(ctx, slug)
		if err != nil {
			return fail(io, ExitFailure, "%v", err)
		}
		if *asJSON {
			return printJSON(io, map[string]any{"group": g, "mounts": mountViews(ms), "network": svc.NetMode(g)})
		}
		st := g.Settings
		fmt.Fprintf(io.Out, "%s (%s)\n  folder    %s → /workspace/group (read-write)\n", g.Name, g.Slug, g.Folder)
		fmt.Fprintf(io.Out, "  image     %s\n  network   %s\n  approval  %s\n  tools     %s\n",
			cmp.Or(st.Image, "(default)"), svc.NetMode(g), cmp.Or(st.Approval, assistant.ApprovalAuto), cmp.Or(strings.Join(st.Tools, ","), "all"))
		switch svc.NetMode(g) {
		case egress.ModeOpen:
			fmt.Fprintf(io.Out, "  ! %s\n", strings.ReplaceAll(assistant.OpenWarning, "GROUP", g.Slug))
		case egress.ModeAllowlist:
			fmt.Fprintf(io.Out, "            %d allow and %d deny rules (berth net show -g %s)\n", len(st.NetAllow), len(st.NetDeny), g.Slug)
		}
		for _, m := range mountViews(ms) {
			fmt.Fprintf(io.Out, "  mount     %s → %s (%s, %d masked)\n", m.Host, m.Container, m.Mode, len(m.Masked))
		}
		return ExitOK
	})
}

func groupSet(ctx context.Context, io IO, args []string) int {
	if len(args) < 2 {
		return fail(io, ExitUsage, "usage: berth group set NAME KEY=VALUE…  (keys: name, image, network, approval, tools, memory, cpus, pids, idle_timeout, max_age)")
	}
	return withService(io, func(svc *assistant.Service) int {
		g, err := svc.SetGroup(ctx, args[0], args[1:])
		if err != nil {
			return fail(io, ExitUsage, "%v", err)
		}
		fmt.Fprintf(io.Out, "updated group %s; its sandboxes will restart with the new settings\n", g.Slug)
		return ExitOK
	})
}

func groupRemove(ctx context.Context, io IO, args []string) int {
	fs := flags(io, "group rm", "NAME --yes [--purge]")
	yes := fs.Bool("yes", false, "really remove the group")
	purge := fs.Bool("purge", false, "also delete the group's folder and memory")
	slug, code, ok := oneOperand(fs, args)
	if !ok {
		return code
	}
	if !*yes {
		return fail(io, ExitUsage, "removing group %s stops its sandboxes and forgets its mounts; add --yes to confirm (--purge also deletes its folder)", slug)
	}
	return withService(io, func(svc *assistant.Service) int {
		if err := svc.RemoveGroup(ctx, slug, *purge); err != nil {
			return fail(io, ExitFailure, "%v", err)
		}
		fmt.Fprintln(io.Out, "removed group", slug)
		return ExitOK
	})
}

func printJSON(io IO, v any) int {
	enc := json.NewEncoder(io.Out)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fail(io, ExitFailure, "%v", err)
	}
	return ExitOK
}
