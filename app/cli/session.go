package cli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/berth-app/berth/app/assistant"
)

func runSession(ctx context.Context, io IO, args []string) int {
	if len(args) == 0 {
		return fail(io, ExitUsage, "usage: berth session (list -g GROUP [--json] | rename ID TITLE… | rm ID)")
	}
	switch args[0] {
	case "list", "ls":
		fs := flags(io, "session list", "-g GROUP [--json]")
		group := fs.String("g", assistant.DefaultGroup, "group")
		asJSON := fs.Bool("json", false, "print JSON")
		if code, ok := parse(fs, args[1:]); !ok {
			return code
		}
		return withService(io, func(svc *assistant.Service) int {
			ss, err := svc.Sessions(ctx, *group)
			if err != nil {
				return fail(io, ExitFailure, "%v", err)
			}
			if *asJSON {
				type view struct {
					ID      string    `json:"id"`
					Group   string    `json:"group"`
					Title   string    `json:"title"`
					Created time.Time `json:"created"`
					Updated time.Time `json:"updated"`
					In      int64     `json:"input_tokens"`
					Out     int64     `json:"output_tokens"`
				}
				out := []view{}
				for _, s := range ss {
					u, _ := svc.Usage(ctx, s.ID)
					out = append(out, view{s.ID, s.Group, s.Title, s.Created, s.Updated, u.InputTokens, u.OutputTokens})
				}
				return printJSON(io, out)
			}
			if len(ss) == 0 {
				fmt.Fprintf(io.Out, "No chats in %s yet. `berth chat -g %s \"…\"` starts one.\n", *group, *group)
				return ExitOK
			}
			tw := tabwriter.NewWriter(io.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tLAST ACTIVE\tTOKENS\tTITLE")
			for _, s := range ss {
				u, _ := svc.Usage(ctx, s.ID)
				fmt.Fprintf(tw, "%s\t%s\t%d tokens\t%s\n", s.ID, s.Updated.Local().Format("2006-01-02 15:04"), u.InputTokens+u.OutputTokens, s.Title)
			}
			tw.Flush()
			return ExitOK
		})
	case "rename":
		if len(args) < 3 {
			return fail(io, ExitUsage, "usage: berth session rename ID TITLE…")
		}
		return withService(io, func(svc *assistant.Service) int {
			if err := svc.RenameSession(ctx, args[1], strings.Join(args[2:], " ")); err != nil {
				return fail(io, ExitFailure, "%v", err)
			}
			fmt.Fprintln(io.Out, "renamed chat", args[1])
			return ExitOK
		})
	case "rm", "remove":
		if len(args) != 2 {
			return fail(io, ExitUsage, "usage: berth session rm ID")
		}
		return withService(io, func(svc *assistant.Service) int {
			if err := svc.RemoveSession(ctx, args[1]); err != nil {
				return fail(io, ExitFailure, "%v", err)
			}
			fmt.Fprintln(io.Out, "deleted chat", args[1])
			return ExitOK
		})
	}
	return fail(io, ExitUsage, "unknown session command %q; use list or rm", args[0])
}
