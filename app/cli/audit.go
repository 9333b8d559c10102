package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/berth-app/berth/app/store"
)

func runAudit(ctx context.Context, io IO, args []string) int {
	if len(args) == 0 {
		return fail(io, ExitUsage, "usage: berth audit (verify [--json] | tail [-n N] [--group G] [--kind K] [--json] | export --format jsonl|csv [--out FILE])")
	}
	switch args[0] {
	case "verify":
		return auditVerify(ctx, io, args[1:])
	case "tail":
		return auditTail(ctx, io, args[1:])
	case "export":
		return auditExport(ctx, io, args[1:])
	}
	return fail(io, ExitUsage, "unknown audit command %q; use verify, tail or export", args[0])
}

// openAudit opens the log read-only: these commands work beside a running app.
func openAudit(io IO) (*store.Store, int, bool) {
	e, err := loadEnv()
	if err != nil {
		return nil, fail(io, ExitFailure, "%v", err), false
	}
	e.close()
	st, err := e.openReader()
	if errors.Is(err, fs.ErrNotExist) {
		return nil, -1, false
	}
	if err != nil {
		return nil, fail(io, ExitFailure, "%v", err), false
	}
	return st, 0, true
}

func auditVerify(ctx context.Context, io IO, args []string) int {
	fls := flags(io, "audit verify", "[--json]")
	asJSON := fls.Bool("json", false, "print the report as JSON")
	if code, ok := parse(fls, args); !ok {
		return code
	}
	st, code, ok := openAudit(io)
	if !ok && code != -1 {
		return code
	}
	var rep store.Report
	if ok {
		defer st.Close()
		var err error
		rep, err = st.Verify(ctx)
		if err != nil {
			return fail(io, ExitFailure, "%v", err)
		}
	} else {
		rep = store.Report{OK: true, HeadHash: store.GenesisHash, Reason: "no audit log yet"}
	}
	if *asJSON {
		out := map[string]any{
			"ok": rep.OK, "events": rep.Events, "head_seq": rep.HeadSeq, "head_hash": rep.HeadHash,
			"anchor_seq": rep.AnchorSeq, "first_bad_seq": rep.FirstBad, "problem": rep.Problem, "reason": rep.Reason,
			"anchor_resets": rep.AnchorResets,
		}
		enc := json.NewEncoder(io.Out)
		enc.SetIndent("", "  ")
		_ = enc.Encode(out)
	} else if rep.OK {
		fmt.Fprintf(io.Out, "audit log intact: %d events, head #%d %s\n", rep.Events, rep.HeadSeq, short(rep.HeadHash))
		for _, r := range rep.AnchorResets {
			fmt.Fprintf(io.Out, "  note: the anchor file was found tampered with and re-anchored at event #%d\n", r)
		}
	} else {
		fmt.Fprintf(io.Out, "audit log BROKEN at event #%d (%s): %s\n", rep.FirstBad, rep.Problem, rep.Reason)
	}
	if !rep.OK {
		return ExitFailure
	}
	return ExitOK
}

func auditTail(ctx context.Context, io IO, args []string) int {
	fls := flags(io, "audit tail", "[-n N] [--group G] [--kind K] [--json]")
	n := fls.Int("n", 20, "how many events")
	group := fls.String("group", "", "only this group")
	kind := fls.String("kind", "", "only this kind and the kinds below it (exec matches exec.start)")
	asJSON := fls.Bool("json", false, "one JSON object per line")
	if code, ok := parse(fls, args); !ok {
		return code
	}
	st, code, ok := openAudit(io)
	if !ok {
		if code == -1 {
			fmt.Fprintln(io.Out, "No audit events yet.")
			return ExitOK
		}
		return code
	}
	defer st.Close()
	evs, err := st.Events(ctx, store.Filter{Group: *group, Kind: *kind, Limit: *n, Newest: true})
	if err != nil {
		return fail(io, ExitFailure, "%v", err)
	}
	enc := json.NewEncoder(io.Out)
	for _, ev := range evs {
		if *asJSON {
			_ = enc.Encode(ev)
			continue
		}
		scope := ev.Group
		if ev.Session != "" {
			scope += "/" + ev.Session
		}
		fmt.Fprintf(io.Out, "#%-6d %s  %-6s %-16s %-14s %s\n", ev.Seq, ev.Time.Local().Format("2006-01-02 15:04:05"),
			ev.Actor, scope, ev.Kind, ev.Summary)
	}
	if len(evs) == 0 && !*asJSON {
		fmt.Fprintln(io.Out, "No matching events.")
	}
	return ExitOK
}

func auditExport(ctx context.Context, io IO, args []string) int {
	fls := flags(io, "audit export", "--format jsonl|csv [--out FILE]")
	format := fls.String("format", "jsonl", "jsonl or csv")
	out := fls.String("out", "", "write to FILE instead of standard output")
	if code, ok := parse(fls, args); !ok {
		return code
	}
	if *format != "jsonl" && *format != "csv" {
		return fail(io, ExitUsage, "--format must be jsonl or csv, not %q", *format)
	}
	st, code, ok := openAudit(io)
	if !ok {
		if code == -1 {
			return fail(io, ExitFailure, "no audit log yet")
		}
		return code
	}
	defer st.Close()
	w := io.Out
	var f *os.File
	if *out != "" {
		var err error
		f, err = os.OpenFile(*out+".partial", os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
		if err != nil {
			return fail(io, ExitFailure, "%v", err)
		}
		w = f
	}
	if err := st.Export(ctx, w, *format); err != nil {
		if f != nil {
			f.Close()
			os.Remove(*out + ".partial")
		}
		return fail(io, ExitFailure, "export: %v", err)
	}
	if f != nil {
		if err := errors.Join(f.Sync(), f.Close(), os.Rename(*out+".partial", *out)); err != nil {
			return fail(io, ExitFailure, "export: %v", err)
		}
		fmt.Fprintf(io.Err, "exported to %s\n", *out)
	}
	return ExitOK
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return strings.TrimSpace(h)
}
