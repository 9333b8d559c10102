package agent

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"

	"github.com/berth-app/berth/app/llm"
)

// fakeSandbox is a Sandbox whose Exec and File are func fields; a nil exec
// answers exit 0 with no output, a nil file ErrNoFileOps (the tools then
// use their scripts, through exec). It keeps every Exec request.
type fakeSandbox struct {
	exec func(ctx context.Context, req ExecRequest) (ExecResult, error)
	file func(ctx context.Context, req FileRequest) (FileResult, error)

	mu   sync.Mutex
	reqs []ExecRequest
}

func (f *fakeSandbox) Exec(ctx context.Context, req ExecRequest) (ExecResult, error) {
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	f.mu.Unlock()
	if f.exec == nil {
		return ExecResult{}, nil
	}
	return f.exec(ctx, req)
}

func (f *fakeSandbox) File(ctx context.Context, req FileRequest) (FileResult, error) {
	if f.file == nil {
		return FileResult{}, ErrNoFileOps
	}
	return f.file(ctx, req)
}

func (f *fakeSandbox) requests() []ExecRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.reqs)
}

// stdout is an Exec that prints out and exits 0.
func stdout(out string) func(context.Context, ExecRequest) (ExecResult, error) {
	return func(context.Context, ExecRequest) (ExecResult, error) {
		return ExecResult{Stdout: []byte(out), StdoutTotal: int64(len(out))}, nil
	}
}

// fakeProvider is an llm.Provider that answers from a script: each request
// takes the next reply. It keeps every request.
type fakeProvider struct {
	replies []fakeReply
	// stream, when set, answers instead of replies.
	stream func(ctx context.Context, req llm.Request, emit func(llm.Event)) (llm.Response, error)

	mu   sync.Mutex
	reqs []llm.Request
}

// fakeReply is one scripted answer.
type fakeReply struct {
	resp llm.Response
	err  error
}

func (p *fakeProvider) Name() string { return "fake" }

func (p *fakeProvider) Stream(ctx context.Context, req llm.Request, emit func(llm.Event)) (llm.Response, error) {
	p.mu.Lock()
	req.Messages = slices.Clone(req.Messages)
	p.reqs = append(p.reqs, req)
	n := len(p.reqs)
	p.mu.Unlock()
	if p.stream != nil {
		return p.stream(ctx, req, emit)
	}
	if n > len(p.replies) {
		return llm.Response{}, &llm.Error{Kind: llm.ErrServer, Provider: "fake"}
	}
	r := p.replies[n-1]
	if t := r.resp.Text(); t != "" && emit != nil {
		emit(llm.Event{Kind: llm.EventText, Text: t})
	}
	return r.resp, r.err
}

func (p *fakeProvider) requests() []llm.Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.reqs)
}

// replyWith returns a reply holding parts: a text part for each string, a
// tool_use part for each use.
func replyWith(parts ...any) fakeReply {
	msg := llm.Message{Role: llm.RoleAssistant}
	stop := llm.StopEndTurn
	for _, p := range parts {
		switch p := p.(type) {
		case string:
			msg.Parts = append(msg.Parts, llm.Part{Kind: llm.PartText, Text: p})
		case use:
			msg.Parts = append(msg.Parts, llm.Part{Kind: llm.PartToolUse, ToolUseID: p.id, ToolName: p.name, Input: json.RawMessage(p.input)})
			stop = llm.StopToolUse
		}
	}
	return fakeReply{resp: llm.Response{Message: msg, StopReason: stop, Usage: llm.Usage{InputTokens: 10, OutputTokens: 5}}}
}

// use is a tool call the fake model makes.
type use struct{ id, name, input string }

// recorder keeps audit events and agent events.
type recorder struct {
	mu     sync.Mutex
	audit  []AuditEvent
	events []Event
	fail   func(AuditEvent) error // nil: every write succeeds
}

func (r *recorder) record(_ context.Context, ev AuditEvent) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		if err := r.fail(ev); err != nil {
			return err
		}
	}
	r.audit = append(r.audit, ev)
	return nil
}

func (r *recorder) onEvent(ev Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
}

func (r *recorder) kinds() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, ev := range r.audit {
		out = append(out, ev.Kind)
	}
	return out
}

func (r *recorder) eventsOf(kind EventKind) []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Event
	for _, ev := range r.events {
		if ev.Kind == kind {
			out = append(out, ev)
		}
	}
	return out
}

// testConfig returns a Config with p and rec wired in.
func testConfig(p llm.Provider, rec *recorder) Config {
	return Config{Provider: p, Model: "m", Record: rec.record, OnEvent: rec.onEvent}
}

// toolResults returns the tool_result parts of msgs, in order.
func toolResults(msgs []llm.Message) []llm.Part {
	var out []llm.Part
	for _, m := range msgs {
		for _, p := range m.Parts {
			if p.Kind == llm.PartToolResult {
				out = append(out, p)
			}
		}
	}
	return out
}

// runTurn runs a turn answering "go", failing the test on an error.
func runTurn(t *testing.T, cfg Config, sb Sandbox) Result {
	t.Helper()
	res, err := RunTurn(context.Background(), cfg, sb, "system", []llm.Message{llm.UserText("go")})
	if err != nil {
		t.Fatalf("RunTurn: %v", err)
	}
	return res
}
