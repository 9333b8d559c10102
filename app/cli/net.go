package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/berth-app/berth/app/assistant"
	"github.com/berth-app/berth/app/egress"
)

const netUsage = "usage: berth net (show -g G [--json] | allow -g G [--preset P] HOST[:PORT]… | deny -g G HOST… | rm -g G RULE… |\n" +
	"  mode -g G none|allowlist|open | preset -g G NAME [--off] | presets [--json] | log [-g G] [-n N] [--json] |\n" +
	"  pending [--json] | answer ID once|always|deny)"

func runNet(ctx context.Context, io IO, args []string) int {
	if len(args) == 0 {
		return fail(io, ExitUsage, netUsage)
	}
	switch args[0] {
	case "show":
		return netShow(ctx, io, args[1:])
	case "allow", "deny", "rm", "remove":
		return netRules(ctx, io, args[0], args[1:])
	case "mode":
		return netMode(ctx, io, args[1:])
	case "preset":
		return netPreset(ctx, io, args[1:])
	case "presets":
		return netPresets(io, args[1:])
	case "log":
		return netLog(ctx, io, args[1:])
	case "pending":
		return netPending(io, args[1:])
	case "answer":
		return netAnswer(io, args[1:])
	}
	return fail(io, ExitUsage, "unknown net command %q\n%s", args[0], netUsage)
}

func netShow(ctx context.Context, io IO, args []string) int {
	fs := flags(io, "net show", "-g GROUP [--json]")
	group := fs.String("g", assistant.DefaultGroup, "group")
	asJSON := fs.Bool("json", false, "print JSON")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	return withService(io, func(svc *assistant.Service) int {
		v, err := svc.NetShow(ctx, *group)
		if err != nil {
			return fail(io, ExitFailure, "%v", err)
		}
		if *asJSON {
			return printJSON(io, v)
		}
		printNetView(io, v)
		return ExitOK
	})
}

func printNetView(io IO, v assistant.NetView) {
	fmt.Fprintf(io.Out, "group %s: network %s\n", v.Group, v.Mode)
	if v.Warning != "" {
		fmt.Fprintf(io.Out, "  ! %s\n", strings.ReplaceAll(v.Warning, "GROUP", v.Group))
	}
	if v.Mode != egress.ModeAllowlist && (len(v.Allow) > 0 || len(v.Deny) > 0) {
		fmt.Fprintf(io.Out, "  (the rules below apply in allowlist mode: berth net mode -g %s allowlist)\n", v.Group)
	}
	for _, r := range v.Allow {
		from := ""
		if r.Preset != "" {
			from = "  (preset " + r.Preset + ")"
		}
		fmt.Fprintf(io.Out, "  allow  %s%s\n", r.Rule, from)
	}
	for _, r := range v.Deny {
		fmt.Fprintf(io.Out, "  deny   %s\n", r)
	}
	if len(v.Allow)+len(v.Deny) == 0 {
		fmt.Fprintln(io.Out, "  no rules: every destination is asked (berth net allow, berth net preset)")
	}
	var on []string
	for _, p := range v.Presets {
		if p.On {
			on = append(on, p.Name)
		}
	}
	if len(on) > 0 {
		fmt.Fprintf(io.Out, "  presets on: %s\n", strings.Join(on, ", "))
	}
	if len(v.Recent) > 0 {
		fmt.Fprintln(io.Out, "  recent destinations:")
		tw := tabwriter.NewWriter(io.Out, 0, 4, 2, ' ', 0)
		for i, d := range v.Recent {
			if i == 10 {
				break
			}
			fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\n", d.Time.Local().Format("2006-01-02 15:04"), d.Kind, fmt.Sprintf("%s:%d", d.Host, d.Port), cmp.Or(d.Rule, d.Reason))
		}
		tw.Flush()
	}
}

func netRules(ctx context.Context, io IO, verb string, args []string) int {
	synopsis := map[string]string{"allow": "-g GROUP [--preset P] HOST[:PORT]|IP|CIDR…", "deny": "-g GROUP HOST[:PORT]|IP|CIDR…"}[verb]
	fs := flags(io, "net "+verb, cmp.Or(synopsis, "-g GROUP RULE…"))
	group := fs.String("g", assistant.DefaultGroup, "group")
	preset := ""
	if verb == "allow" {
		fs.StringVar(&preset, "preset", "", "add the hosts to this preset of the group ("+strings.Join(egress.PresetNames(), ", ")+")")
	}
	rules, code, ok := parseInterleaved(fs, args)
	if !ok {
		return code
	}
	if len(rules) == 0 {
		fs.Usage()
		return ExitUsage
	}
	return withService(io, func(svc *assistant.Service) int {
		var err error
		switch verb {
		case "allow":
			_, err = svc.NetAllow(ctx, *group, preset, rules)
		case "deny":
			_, err = svc.NetDeny(ctx, *group, rules)
		default:
			for _, r := range rules {
				if _, err = svc.NetRemove(ctx, *group, r); err != nil {
					break
				}
			}
		}
		if err != nil {
			return fail(io, ExitUsage, "%v", err)
		}
		v, err := svc.NetShow(ctx, *group)
		if err != nil {
			return fail(io, ExitFailure, "%v", err)
		}
		printNetView(io, v)
		return ExitOK
	})
}

func netMode(ctx context.Context, io IO, args []string) int {
	fs := flags(io, "net mode", "-g GROUP none|allowlist|open")
	group := fs.String("g", assistant.DefaultGroup, "group")
	mode, code, ok := oneOperand(fs, args)
	if !ok {
		return code
	}
	return withService(io, func(svc *assistant.Service) int {
		g, err := svc.SetNetMode(ctx, *group, mode)
		if err != nil {
			return fail(io, ExitUsage, "%v", err)
		}
		m := svc.NetMode(g)
		fmt.Fprintf(io.Out, "group %s: network %s; its sandboxes restart with it\n", g.Slug, m)
		if m == egress.ModeOpen {
			fmt.Fprintf(io.Out, "  ! %s\n", strings.ReplaceAll(assistant.OpenWarning, "GROUP", g.Slug))
		}
		return ExitOK
	})
}

func netPreset(ctx context.Context, io IO, args []string) int {
	fs := flags(io, "net preset", "-g GROUP NAME [--off]  (berth net presets lists them)")
	group := fs.String("g", assistant.DefaultGroup, "group")
	off := fs.Bool("off", false, "switch the preset off: its rules go")
	name, code, ok := oneOperand(fs, args)
	if !ok {
		return code
	}
	return withService(io, func(svc *assistant.Service) int {
		if _, err := svc.NetPreset(ctx, *group, name, !*off); err != nil {
			return fail(io, ExitUsage, "%v", err)
		}
		v, err := svc.NetShow(ctx, *group)
		if err != nil {
			return fail(io, ExitFailure, "%v", err)
		}
		printNetView(io, v)
		return ExitOK
	})
}

func netPresets(io IO, args []string) int {
	fs := flags(io, "net presets", "[--json]")
	asJSON := fs.Bool("json", false, "print JSON")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if *asJSON {
		return printJSON(io, egress.Presets)
	}
	for _, p := range egress.Presets {
		fmt.Fprintf(io.Out, "%-8s %s\n", p.Name, p.Title)
		if len(p.Hosts) > 0 {
			fmt.Fprintf(io.Out, "         hosts: %s\n", strings.Join(p.Hosts, ", "))
		}
		if p.Note != "" {
			fmt.Fprintf(io.Out, "         %s\n", p.Note)
		}
	}
	fmt.Fprintln(io.Out, "\nSwitch one on with `berth net preset -g GROUP NAME`; add hosts to it with `berth net allow -g GROUP --preset NAME HOST`.")
	return ExitOK
}

func netLog(ctx context.Context, io IO, args []string) int {
	fs := flags(io, "net log", "[-g GROUP] [-n N] [--json]")
	group := fs.String("g", "", "only this group (default: all)")
	n := fs.Int("n", 50, "the last N events")
	asJSON := fs.Bool("json", false, "print one JSON event per line")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	// The same as `berth audit tail --kind egress`.
	tail := []string{"--kind", egress.KindPrefix, "-n", strconv.Itoa(*n), "--group", *group}
	if *asJSON {
		tail = append(tail, "--json")
	}
	return auditTail(ctx, io, tail)
}

// netPending lists the network questions a running Berth waits on.
func netPending(io IO, args []string) int {
	fs := flags(io, "net pending", "[--json]")
	asJSON := fs.Bool("json", false, "print JSON")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	rep, code, ok := controlRunning(io, assistant.ControlRequest{Cmd: "net-pending"})
	if !ok {
		return code
	}
	if *asJSON {
		if rep.Net == nil {
			rep.Net = []assistant.NetQuestion{}
		}
		return printJSON(io, rep.Net)
	}
	if len(rep.Net) == 0 {
		fmt.Fprintln(io.Out, "No sandbox waits for a network answer.")
	}
	for _, q := range rep.Net {
		fmt.Fprintf(io.Out, "%s  group %s  %s  (asked %s ago) — berth net answer %s once|always|deny\n",
			q.ID, q.Group, q.Dest(), time.Since(q.Asked).Round(time.Second), q.ID)
	}
	return ExitOK
}

// netAnswer answers one of them.
func netAnswer(io IO, args []string) int {
	if len(args) != 2 {
		return fail(io, ExitUsage, "usage: berth net answer ID once|always|deny  (berth net pending lists them)")
	}
	answers := map[string]egress.Answer{"once": egress.AllowOnce, "always": egress.AllowAlways, "deny": egress.Deny}
	a, ok := answers[args[1]]
	if !ok {
		return fail(io, ExitUsage, "answer %q: want once, always or deny", args[1])
	}
	if _, code, ok := controlRunning(io, assistant.ControlRequest{Cmd: "net-answer", Net: &assistant.NetAnswerOp{ID: args[0], Answer: a}}); !ok {
		return code
	}
	fmt.Fprintf(io.Out, "answered %s: %s\n", args[0], a)
	return ExitOK
}

// controlRunning sends one request to the running Berth; network questions
// exist only there.
func controlRunning(io IO, req assistant.ControlRequest) (assistant.ControlReply, int, bool) {
	e, err := loadEnv()
	if err != nil {
		return assistant.ControlReply{}, fail(io, ExitFailure, "%v", err), false
	}
	defer e.close()
	rep, err := assistant.Control(e.paths.Socket, req)
	if errors.Is(err, assistant.ErrNotRunning) {
		return rep, fail(io, ExitFailure, "no Berth is running (berth serve or the desktop app), so no sandbox waits for an answer"), false
	}
	if err != nil {
		return rep, fail(io, ExitUsage, "%v", err), false
	}
	return rep, 0, true
}
