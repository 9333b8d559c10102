package cli

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/berth-app/berth/app/assistant"
	"github.com/berth-app/berth/app/mounts"
	"github.com/berth-app/berth/app/store"
	"github.com/berth-app/berth/docker"
)

func runMount(ctx context.Context, io IO, args []string) int {
	if len(args) == 0 {
		return fail(io, ExitUsage, "usage: berth mount (add -g GROUP PATH [--as NAME] [--rw] | rm -g GROUP NAME | list -g GROUP [--json] | check PATH [--as NAME] [--rw] [--json])")
	}
	switch args[0] {
	case "add":
		return mountAdd(ctx, io, args[1:])
	case "rm", "remove":
		return mountRemove(ctx, io, args[1:])
	case "list", "ls":
		return mountList(ctx, io, args[1:])
	case "check":
		return mountCheck(ctx, io, args[1:])
	}
	return fail(io, ExitUsage, "unknown mount command %q; use add, rm, list or check", args[0])
}

// checkView is `berth mount check --json`.
type checkView struct {
	Allowed   bool     `json:"allowed"`
	Reason    string   `json:"reason"`
	Rule      string   `json:"rule"`
	Host      string   `json:"host"`
	Container string   `json:"container"`
	ReadOnly  bool     `json:"readonly"`
	Masked    []string `json:"masked"`
	Files     int      `json:"files"`
	Bytes     int64    `json:"bytes"`
	Truncated bool     `json:"scan_truncated,omitempty"`
	Symlinks  []string `json:"symlinks_out,omitempty"`
}

func toView(mc assistant.MountCheck) checkView {
	v := checkView{Allowed: mc.Allowed, Reason: mc.Reason, Rule: mc.Rule, Host: mc.Host, Container: mc.Container, ReadOnly: mc.ReadOnly, Masked: []string{}}
	if mc.Allowed && v.Reason == "" {
		v.Reason = "allowed"
	}
	if mc.Scan != nil {
		v.Masked, v.Files, v.Bytes, v.Truncated, v.Symlinks = append(v.Masked, mc.Scan.Masked...), mc.Scan.Files, mc.Scan.Bytes, mc.Scan.Truncated, mc.Scan.Symlinks
	}
	return v
}

func printCheck(io IO, v checkView, verb string) {
	if !v.Allowed {
		fmt.Fprintf(io.Err, "berth: refused: %s\n", v.Reason)
		return
	}
	mode := "read-only"
	if !v.ReadOnly {
		mode = "read-write"
	}
	fmt.Fprintf(io.Out, "%s %s at %s (%s): %d files, %s\n", verb, v.Host, v.Container, mode, v.Files, humanBytes(v.Bytes))
	if v.Truncated {
		fmt.Fprintln(io.Out, "  (the secret scan stopped early on a large folder; files past the limit are not masked)")
	}
	for _, m := range v.Masked {
		fmt.Fprintf(io.Out, "  masked (the sandbox sees it empty): %s\n", m)
	}
	for _, l := range v.Symlinks {
		fmt.Fprintf(io.Out, "  note: %s links outside the folder; the sandbox cannot follow it\n", l)
	}
}

func mountFlags(io IO, name, synopsis string, args []string) (group, path, as *string, rw, asJSON *bool, code int, ok bool) {
	fs := flags(io, name, synopsis)
	group = fs.String("g", "", "group")
	as = fs.String("as", "", "name inside the sandbox, /workspace/extra/NAME (default: the folder's name)")
	rw = fs.Bool("rw", false, "let the sandbox write (read-only unless you say so)")
	asJSON = fs.Bool("json", false, "print JSON")
	p, code, ok := oneOperand(fs, args)
	path = &p
	return group, path, as, rw, asJSON, code, ok
}

func mountAdd(ctx context.Context, io IO, args []string) int {
	group, path, as, rw, asJSON, code, ok := mountFlags(io, "mount add", "-g GROUP PATH [--as NAME] [--rw] [--json]", args)
	if !ok {
		return code
	}
	if *group == "" {
		return fail(io, ExitUsage, "say which group with -g GROUP")
	}
	return withService(io, func(svc *assistant.Service) int {
		mc, err := svc.AddMount(ctx, *group, mounts.Request{HostPath: *path, Name: *as, Write: *rw})
		var rej *assistant.MountRejectedError
		if err != nil && !errors.As(err, &rej) {
			return fail(io, ExitFailure, "%v", err)
		}
		v := toView(mc)
		if *asJSON {
			printJSON(io, v)
		} else {
			printCheck(io, v, "mounted")
		}
		if !v.Allowed {
			return ExitUsage
		}
		return ExitOK
	})
}

func mountCheck(ctx context.Context, io IO, args []string) int {
	group, path, as, rw, asJSON, code, ok := mountFlags(io, "mount check", "PATH [-g GROUP] [--as NAME] [--rw] [--json]", args)
	if !ok {
		return code
	}
	return withService(io, func(svc *assistant.Service) int {
		mc, err := svc.CheckMount(ctx, *group, mounts.Request{HostPath: *path, Name: *as, Write: *rw})
		if err != nil {
			return fail(io, ExitFailure, "%v", err)
		}
		v := toView(mc)
		if *asJSON {
			printJSON(io, v)
		} else {
			printCheck(io, v, "would mount")
		}
		if !v.Allowed {
			return ExitUsage
		}
		return ExitOK
	})
}

func mountRemove(ctx context.Context, io IO, args []string) int {
	fs := flags(io, "mount rm", "-g GROUP NAME")
	group := fs.String("g", "", "group")
	name, code, ok := oneOperand(fs, args)
	if !ok {
		return code
	}
	if *group == "" {
		fs.Usage()
		return ExitUsage
	}
	return withService(io, func(svc *assistant.Service) int {
		if err := svc.RemoveMount(ctx, *group, name); err != nil {
			return fail(io, ExitFailure, "%v", err)
		}
		fmt.Fprintf(io.Out, "removed mount %s from %s\n", name, *group)
		return ExitOK
	})
}

// mountView is a stored mount as `mount list` shows it.
type mountView struct {
	Name      string   `json:"name"`
	Host      string   `json:"host"`
	Container string   `json:"container"`
	ReadOnly  bool     `json:"readonly"`
	Mode      string   `json:"mode"`
	Masked    []string `json:"masked"`
}

func mountViews(ms []store.Mount) []mountView {
	out := []mountView{}
	for _, m := range ms {
		mode := "read-only"
		if !m.ReadOnly {
			mode = "read-write"
		}
		out = append(out, mountView{Name: m.Name, Host: m.HostPath, Container: docker.ExtraDir + "/" + m.Name, ReadOnly: m.ReadOnly, Mode: mode, Masked: append([]string{}, m.Masks...)})
	}
	return out
}

func mountList(ctx context.Context, io IO, args []string) int {
	fs := flags(io, "mount list", "-g GROUP [--json]")
	group := fs.String("g", "", "group")
	asJSON := fs.Bool("json", false, "print JSON")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if *group == "" {
		return fail(io, ExitUsage, "say which group with -g GROUP")
	}
	return withService(io, func(svc *assistant.Service) int {
		ms, err := svc.Mounts(ctx, *group)
		if err != nil {
			return fail(io, ExitFailure, "%v", err)
		}
		views := mountViews(ms)
		if *asJSON {
			return printJSON(io, views)
		}
		if len(views) == 0 {
			fmt.Fprintf(io.Out, "Group %s has no extra mounts. `berth mount add -g %s PATH` adds one (read-only unless --rw).\n", *group, *group)
			return ExitOK
		}
		tw := tabwriter.NewWriter(io.Out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tHOST\tCONTAINER\tMODE\tMASKED")
		for _, m := range views {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\n", m.Name, m.Host, m.Container, m.Mode, len(m.Masked))
		}
		tw.Flush()
		return ExitOK
	})
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
