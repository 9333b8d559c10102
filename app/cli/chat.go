package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/berth-app/berth/app/agent"
	"github.com/berth-app/berth/app/assistant"
)

func runChat(ctx context.Context, io IO, args []string) int {
	fs := flags(io, "chat", "-g GROUP [--session ID | --new] [--provider anthropic|openai] [--model M] [--yes] [--allow-net HOST[:PORT]…] MESSAGE")
	group := fs.String("g", assistant.DefaultGroup, "group")
	session := fs.String("session", "", "continue this chat (default: the group's latest)")
	fresh := fs.Bool("new", false, "start a new chat")
	provider := fs.String("provider", "", "anthropic or openai (default: settings)")
	model := fs.String("model", "", "model name (default: settings)")
	yes := fs.Bool("yes", false, "allow every tool call without asking (not network destinations)")
	var allowNet listFlag
	fs.Var(&allowNet, "allow-net", "allow the sandbox to reach HOST[:PORT] (or an IP or CIDR) once when it asks, in this run; repeat or separate with commas")
	ops, code, ok := parseInterleaved(fs, args)
	if !ok {
		return code
	}
	text := strings.Join(ops, " ")
	if strings.TrimSpace(text) == "" {
		fs.Usage()
		return ExitUsage
	}
	if *fresh && *session != "" {
		return fail(io, ExitUsage, "use --session or --new, not both")
	}
	p := &chatPrinter{io: io}
	term := &terminal{io: io, p: p}
	askNet, err := term.netAsker(allowNet)
	if err != nil {
		return fail(io, ExitUsage, "--allow-net: %v", err)
	}
	cmd := assistant.ChatCommand{Group: *group, Session: *session, New: *fresh, Text: text, Provider: *provider, Model: *model, Yes: *yes, AskNet: askNet}
	res, err := chat(ctx, io, cmd, term.approver(*yes), p.event)
	p.endLine()
	var gate *assistant.GateClosedError
	var perr *assistant.ProviderError
	switch {
	case errors.As(err, &gate):
		reason, hint := gate.Gate.Reason, gate.Gate.Hint
		return fail(io, ExitGateClosed, "%s — your message is saved and waits in chat %s\n  fix: %s", reason, res.Session, hint)
	case errors.Is(err, assistant.ErrGateClosed):
		return fail(io, ExitGateClosed, "the turn was stopped (%v); the partial answer is saved in chat %s", err, res.Session)
	case errors.As(err, &perr):
		return fail(io, ExitProvider, "%v\n  your message is saved in chat %s", perr.Err, res.Session)
	case errors.Is(err, context.Canceled):
		fmt.Fprintf(io.Err, "berth: interrupted; the partial answer is saved in chat %s\n", cmp.Or(res.Session, "(the group's latest)"))
		return ExitInterrupt
	case err != nil:
		return fail(io, ExitFailure, "%v", err)
	}
	fmt.Fprintf(io.Err, "[chat %s · %d tool calls · %d in / %d out tokens]\n", res.Session, res.Turn.ToolCalls, res.Turn.Usage.InputTokens, res.Turn.Usage.OutputTokens)
	return ExitOK
}

// chat hands the message to the running Berth when there is one, and else
// runs the same runtime in-process for this one turn.
func chat(ctx context.Context, io IO, cmd assistant.ChatCommand, approve agent.Approver, onEvent func(agent.Event)) (assistant.ChatResult, error) {
	e, err := loadEnv()
	if err != nil {
		return assistant.ChatResult{}, err
	}
	defer e.close()
	res, err := assistant.ControlChat(ctx, e.paths.Socket, cmd, approve, onEvent)
	if !errors.Is(err, assistant.ErrNotRunning) {
		return res, err
	}
	rt, stop, err := e.StartOneShot(ctx)
	if err != nil {
		return assistant.ChatResult{}, err
	}
	res, err = rt.ChatCommand(ctx, cmd, approve, onEvent)
	stopOneShotSandbox(ctx, io, rt.Service(), cmd.Group, res.Session)
	return res, errors.Join(err, stop())
}

// chatPrinter streams text to stdout and tool activity to stderr, one line
// per tool call.
type chatPrinter struct {
	io      IO
	mu      sync.Mutex
	midTxt  bool
	midProg bool // a progress line is open on stderr (redrawn with \r)
}

func (p *chatPrinter) endLine() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.endLineLocked()
}

func (p *chatPrinter) endLineLocked() {
	if p.midTxt {
		fmt.Fprintln(p.io.Out)
		p.midTxt = false
	}
	if p.midProg {
		fmt.Fprintln(p.io.Err)
		p.midProg = false
	}
}

func (p *chatPrinter) event(ev agent.Event) {
	switch ev.Kind {
	case agent.EventText:
		p.mu.Lock()
		if p.midProg {
			fmt.Fprintln(p.io.Err)
			p.midProg = false
		}
		fmt.Fprint(p.io.Out, ev.Text)
		p.midTxt = !strings.HasSuffix(ev.Text, "\n")
		p.mu.Unlock()
	case agent.EventToolProgress:
		p.mu.Lock()
		if p.midTxt {
			fmt.Fprintln(p.io.Out)
			p.midTxt = false
		}
		fmt.Fprintf(p.io.Err, "\r  … %s", progressLine(ev))
		p.midProg = true
		p.mu.Unlock()
	case agent.EventToolEnd:
		p.endLine()
		fmt.Fprintf(p.io.Err, "  %s\n", toolLine(ev))
	case agent.EventRetry:
		p.endLine()
		fmt.Fprintf(p.io.Err, "  … %v — retrying in %s (attempt %d)\n", ev.Err, ev.Wait.Round(1e6), ev.Attempt)
	case agent.EventCompacted:
		p.endLine()
		fmt.Fprintf(p.io.Err, "  … %s\n", ev.Text)
	case agent.EventNotice:
		p.endLine()
		fmt.Fprintf(p.io.Err, "  ! %s\n", ev.Text)
	}
}

// progressLine says how far the model got writing a tool call:
// "writing a tool call (write_file)… 2.1 KB".
func progressLine(ev agent.Event) string {
	tool := ""
	if ev.Tool != "" {
		tool = " (" + ev.Tool + ")"
	}
	size := fmt.Sprintf("%d B", ev.Bytes)
	if ev.Bytes >= 1024 {
		size = fmt.Sprintf("%.1f KB", float64(ev.Bytes)/1024)
	}
	return "writing a tool call" + tool + "… " + size
}

// toolLine is the line of a finished tool call: "✓ bash: make test → exit
// 0, 1.2s", with the reason when it failed.
func toolLine(ev agent.Event) string {
	mark := "✓"
	if ev.IsError {
		mark = "✗"
	}
	what := cmp.Or(ev.Summary, ev.Tool)
	if !strings.HasPrefix(what, ev.Tool) {
		what = ev.Tool + " " + what
	}
	line := fmt.Sprintf("%s %s → exit %d, %s", mark, what, ev.ExitCode, ev.Duration.Round(1e6))
	if ev.IsError {
		if reason := firstLine(ev.Output, 160); reason != "" {
			line += ": " + reason
		}
	}
	return line
}

// firstLine returns the first non-empty line of s, at most n runes.
func firstLine(s string, n int) string {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			if r := []rune(l); len(r) > n {
				return string(r[:n-1]) + "…"
			}
			return l
		}
	}
	return ""
}

// stopOneShotSandbox stops the chat's sandbox as a one-shot `berth chat`
// exits: nobody is left to reuse it, and it would otherwise run until its
// maximum age.
func stopOneShotSandbox(ctx context.Context, io IO, svc *assistant.Service, group, session string) {
	if err := svc.StopChatSandbox(context.WithoutCancel(ctx), group, session); err != nil {
		fmt.Fprintf(io.Err, "berth: could not stop the chat's sandbox: %v\n", err)
	}
}
