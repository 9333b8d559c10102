package agent

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/berth-app/berth/app/llm"
)

func TestMaxToolCalls(t *testing.T) {
	t.Parallel()
	two := func(a, b string) fakeReply {
		return replyWith(use{a, "bash", `{"command":"echo ` + a + `"}`}, use{b, "bash", `{"command":"echo ` + b + `"}`})
	}
	tests := []struct {
		name     string
		last     fakeReply // the reply after the limit was reached
		wantStop string
		wantText string
	}{
		{"the model answers", replyWith("Here is where I got to."), "end_turn", "Here is where I got to."},
		{"the model keeps calling", two("c5", "c6"), StopToolLimit, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := &fakeProvider{replies: []fakeReply{two("c1", "c2"), two("c3", "c4"), tc.last}}
			rec := &recorder{}
			sb := &fakeSandbox{exec: stdout("ok")}
			cfg := testConfig(p, rec)
			cfg.MaxToolCalls = 3
			res := runTurn(t, cfg, sb)
			if n := len(sb.requests()); n != 3 {
				t.Errorf("got %d execs, want 3", n)
			}
			if res.StopReason != tc.wantStop || res.Text != tc.wantText {
				t.Errorf("got stop %q text %q, want %q %q", res.StopReason, res.Text, tc.wantStop, tc.wantText)
			}
			results := toolResults(res.Messages)
			if !strings.Contains(results[2].Text, "this was the last tool call allowed this turn (limit 3)") || results[2].IsError {
				t.Errorf("third result: got %+v, want the output and the last-call note", results[2])
			}
			if !results[3].IsError || !strings.Contains(results[3].Text, "not run: the limit of 3 tool calls per turn was reached") {
				t.Errorf("fourth result: got %+v, want a limit error", results[3])
			}
			if len(p.requests()) != 3 {
				t.Errorf("got %d model requests, want 3", len(p.requests()))
			}
			// Every tool call in the history has a result.
			uses := 0
			for _, m := range res.Messages {
				for _, part := range m.Parts {
					if part.Kind == llm.PartToolUse {
						uses++
					}
				}
			}
			if uses != len(results) {
				t.Errorf("got %d calls and %d results", uses, len(results))
			}
			if res.ToolCalls != uses {
				t.Errorf("tool calls: got %d, want %d", res.ToolCalls, uses)
			}
		})
	}
}

func TestOutputCap(t *testing.T) {
	t.Parallel()
	big := "FIRST LINE\n" + strings.Repeat("é", 60<<10) + "\nLAST LINE"
	p := &fakeProvider{replies: []fakeReply{replyWith(use{"c1", "bash", `{"command":"cat big"}`}), replyWith("ok")}}
	rec := &recorder{}
	sb := &fakeSandbox{exec: stdout(big)}
	cfg := testConfig(p, rec)
	cfg.OutputCap = 8 << 10
	res := runTurn(t, cfg, sb)
	got := toolResults(res.Messages)[0].Text
	if len(got) > cfg.OutputCap || !strings.HasPrefix(got, "FIRST LINE") || !strings.HasSuffix(got, "LAST LINE") ||
		!strings.Contains(got, "bytes cut from the middle of the output") || !utf8.ValidString(got) {
		t.Errorf("got %d bytes %q…%q, want at most %d with both ends, marked", len(got), got[:20], got[len(got)-20:], cfg.OutputCap)
	}
	if sb.requests()[0].OutputCap != cfg.OutputCap {
		t.Errorf("exec cap: got %d, want %d", sb.requests()[0].OutputCap, cfg.OutputCap)
	}
	ends := rec.eventsOf(EventToolEnd)
	if len(ends) != 1 || len(ends[0].Output) > PreviewBytes || !strings.HasPrefix(ends[0].Output, "FIRST LINE") {
		t.Errorf("tool end event: got %d bytes, want a preview of at most %d", len(ends[0].Output), PreviewBytes)
	}
	if rec.audit[2].Detail["truncated"] != true {
		t.Errorf("tool.result: got %v, want truncated", rec.audit[2].Detail)
	}
}

func TestCapText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		in    string
		limit int
	}{
		{"fits", "short", 100},
		{"ascii", strings.Repeat("a", 1000), 200},
		{"multibyte", strings.Repeat("日本", 500), 201},
		{"tiny limit", strings.Repeat("a", 100), 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := capText(tc.in, tc.limit)
			if len(got) > tc.limit || !utf8.ValidString(got) {
				t.Errorf("got %d bytes (valid %v), want at most %d valid", len(got), utf8.ValidString(got), tc.limit)
			}
			if len(tc.in) <= tc.limit && got != tc.in {
				t.Errorf("got %q, want it whole", got)
			}
		})
	}
}

func TestSandboxErrorEvent(t *testing.T) {
	t.Parallel()
	p := &fakeProvider{replies: []fakeReply{replyWith(use{"c1", "bash", `{"command":"ls"}`}), replyWith("The sandbox is gone.")}}
	rec := &recorder{}
	gone := errors.New("exec in sandbox x: sandbox no longer exists")
	sb := &fakeSandbox{exec: func(context.Context, ExecRequest) (ExecResult, error) { return ExecResult{}, gone }}
	res := runTurn(t, testConfig(p, rec), sb)
	evs := rec.eventsOf(EventSandboxError)
	if len(evs) != 1 || !errors.Is(evs[0].Err, gone) || evs[0].Tool != "bash" {
		t.Errorf("got events %+v, want one sandbox error", evs)
	}
	if res.SandboxErrors != 1 || res.Text != "The sandbox is gone." {
		t.Errorf("got %d sandbox errors, text %q; want 1 and the turn to go on", res.SandboxErrors, res.Text)
	}
	if r := toolResults(res.Messages)[0]; !r.IsError || !strings.Contains(r.Text, "sandbox no longer exists") {
		t.Errorf("got %+v, want the error in the result", r)
	}
	if rec.audit[2].Detail["sandbox_error"] == nil {
		t.Errorf("tool.result: got %v, want the sandbox error", rec.audit[2].Detail)
	}
}

func TestCancelDuringExec(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := &fakeProvider{replies: []fakeReply{replyWith("Running it.", use{"c1", "bash", `{"command":"sleep 999"}`}, use{"c2", "bash", `{"command":"ls"}`})}}
	rec := &recorder{}
	sb := &fakeSandbox{exec: func(ctx context.Context, req ExecRequest) (ExecResult, error) {
		cancel()
		<-ctx.Done()
		return ExecResult{ExitCode: 137}, fmt.Errorf("exec canceled: %w", ctx.Err())
	}}
	res, err := RunTurn(ctx, testConfig(p, rec), sb, "", []llm.Message{llm.UserText("go")})
	if err != nil {
		t.Fatalf("got %v, want no error for an interrupt", err)
	}
	if !res.Interrupted || res.StopReason != StopInterrupted || res.Text != "Running it." {
		t.Errorf("got interrupted %v stop %q text %q", res.Interrupted, res.StopReason, res.Text)
	}
	results := toolResults(res.Messages)
	if len(results) != 2 || !strings.Contains(results[0].Text, "interrupted") || !strings.Contains(results[1].Text, "not run: the user stopped the turn") {
		t.Errorf("got %+v, want the running call interrupted and the next not run", results)
	}
	if len(sb.requests()) != 1 || res.SandboxErrors != 0 || len(rec.eventsOf(EventSandboxError)) != 0 {
		t.Errorf("got %d execs and %d sandbox errors, want 1 and 0", len(sb.requests()), res.SandboxErrors)
	}
	if kinds := rec.kinds(); kinds[len(kinds)-1] != AuditToolResult {
		t.Errorf("audit: got %v, want the killed call's result recorded", kinds)
	}
}

func TestCancelDuringStream(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := &fakeProvider{stream: func(ctx context.Context, _ llm.Request, emit func(llm.Event)) (llm.Response, error) {
		emit(llm.Event{Kind: llm.EventText, Text: "Half an ans"})
		cancel()
		return llm.Response{}, fmt.Errorf("fake: %w", ctx.Err())
	}}
	rec := &recorder{}
	res, err := RunTurn(ctx, testConfig(p, rec), &fakeSandbox{}, "", []llm.Message{llm.UserText("go")})
	if err != nil || !res.Interrupted || res.Text != "Half an ans" {
		t.Fatalf("got %v, interrupted %v, text %q; want the partial text kept", err, res.Interrupted, res.Text)
	}
	if len(res.Messages) != 1 || res.Messages[0].Role != llm.RoleAssistant {
		t.Errorf("got messages %+v, want the partial reply", res.Messages)
	}
}

func TestProviderError(t *testing.T) {
	t.Parallel()
	authErr := &llm.Error{Kind: llm.ErrAuth, Provider: "fake"}
	p := &fakeProvider{replies: []fakeReply{
		replyWith("Looking.", use{"c1", "list_files", `{}`}),
		{err: authErr},
	}}
	rec := &recorder{}
	res, err := RunTurn(context.Background(), testConfig(p, rec), &fakeSandbox{exec: stdout("berth-total 0 0\n")}, "", []llm.Message{llm.UserText("go")})
	if !errors.Is(err, llm.ErrAuth) {
		t.Fatalf("got %v, want ErrAuth", err)
	}
	if res.StopReason != StopError || len(res.Messages) != 2 || res.ToolCalls != 1 {
		t.Errorf("got stop %q, %d messages, %d calls; want the first round kept", res.StopReason, len(res.Messages), res.ToolCalls)
	}
	if last := rec.audit[len(rec.audit)-1]; last.Kind != AuditModelRequest || last.Detail["error"] == nil {
		t.Errorf("got %+v, want the failed request recorded", last)
	}
}

// TestBlockedSandboxEndsTheTurn: a sandbox that says no tool can run now
// (Docker went away) ends the turn at once as interrupted, with the error:
// the model is not asked again with the failure, the call's result and the
// reason are recorded, and the next call of the reply is not run.
func TestBlockedSandboxEndsTheTurn(t *testing.T) {
	t.Parallel()
	p := &fakeProvider{replies: []fakeReply{replyWith("Checking.", use{"c1", "bash", `{"command":"ls"}`}, use{"c2", "bash", `{"command":"pwd"}`}), replyWith("the command finished")}}
	rec := &recorder{}
	blocked := fmt.Errorf("the assistant was blocked: Docker is not running: %w", ErrBlocked)
	sb := &fakeSandbox{exec: func(context.Context, ExecRequest) (ExecResult, error) { return ExecResult{}, blocked }}
	res, err := RunTurn(context.Background(), testConfig(p, rec), sb, "", []llm.Message{llm.UserText("go")})
	if !errors.Is(err, ErrBlocked) {
		t.Errorf("got error %v, want the blocked sandbox's", err)
	}
	if n := len(p.requests()); n != 1 || !res.Interrupted || res.StopReason != StopInterrupted || res.Text != "Checking." {
		t.Errorf("got %d model requests, interrupted %v, stop %q, text %q; want 1, an interrupted turn and the first reply's text", n, res.Interrupted, res.StopReason, res.Text)
	}
	results := toolResults(res.Messages)
	if len(results) != 2 || !strings.Contains(results[0].Text, "Docker is not running") || !strings.Contains(results[1].Text, "not run: the turn stopped") {
		t.Errorf("got results %+v, want the blocked call's reason and the next call not run", results)
	}
	if len(sb.requests()) != 1 {
		t.Errorf("got %d execs, want 1", len(sb.requests()))
	}
	var after []AuditEvent
	for _, ev := range rec.audit {
		if ev.Kind == AuditToolResult {
			after = append(after, ev)
		}
	}
	if len(after) != 1 || after[0].Detail["is_error"] != true || !strings.Contains(fmt.Sprint(after[0].Detail["stopped"]), "Docker is not running") {
		t.Errorf("tool.result events: got %+v, want the blocked call's, saying why it stopped", after)
	}
}
