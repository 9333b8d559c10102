package agent

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/berth-app/berth/app/llm"
)

func TestBadCallsBecomeErrorResults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		call    use
		enabled []string
		want    string
	}{
		{"unknown tool", use{"c1", "rm_rf", `{}`}, nil, `unknown tool "rm_rf"; the tools are bash, read_file, write_file, edit_file, list_files, grep`},
		{"malformed JSON", use{"c1", "bash", `{"command": "ls`}, nil, "the input for bash is not a JSON object"},
		{"not an object", use{"c1", "bash", `["ls"]`}, nil, "not a JSON object"},
		{"missing field", use{"c1", "write_file", `{"path":"a"}`}, nil, `write_file needs "content"`},
		{"wrong type", use{"c1", "bash", `{"command":"ls","timeout_s":"ten"}`}, nil, `"timeout_s" must be a number, not string`},
		{"disabled tool", use{"c1", "bash", `{"command":"ls"}`}, []string{"read_file", "grep"}, `tool "bash" is not enabled in this group; the enabled tools are read_file, grep`},
		{"empty command", use{"c1", "bash", `{"command":"  "}`}, nil, `bash needs "command"`},
		{"negative timeout", use{"c1", "bash", `{"command":"ls","timeout_s":-1}`}, nil, "timeout_s must be a positive number"},
		{"old equals new", use{"c1", "edit_file", `{"path":"a","old_string":"x","new_string":"x"}`}, nil, "the same"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := &fakeProvider{replies: []fakeReply{replyWith(tc.call), replyWith("sorry")}}
			rec := &recorder{}
			sb := &fakeSandbox{}
			cfg := testConfig(p, rec)
			cfg.Tools = tc.enabled
			res := runTurn(t, cfg, sb)
			if n := len(sb.requests()); n != 0 {
				t.Errorf("got %d execs, want none", n)
			}
			results := toolResults(res.Messages)
			if len(results) != 1 || !results[0].IsError || !strings.Contains(results[0].Text, tc.want) {
				t.Fatalf("got results %+v, want one error saying %q", results, tc.want)
			}
			if res.Text != "sorry" || res.StopReason != "end_turn" {
				t.Errorf("got text %q stop %q, want the turn to go on to the answer", res.Text, res.StopReason)
			}
			if got, want := rec.kinds(), []string{AuditModelRequest, AuditToolCall, AuditToolResult, AuditModelRequest}; !slices.Equal(got, want) {
				t.Errorf("audit: got %v, want %v", got, want)
			}
			// The model sees its own call and the error result in the next request.
			reqs := p.requests()
			if len(reqs) != 2 || len(toolResults(reqs[1].Messages)) != 1 {
				t.Errorf("second request: got %+v", reqs)
			}
		})
	}
}

func TestApprovals(t *testing.T) {
	t.Parallel()
	type want struct {
		asked, ran bool
	}
	tests := []struct {
		mode   ApprovalMode
		tool   string
		always []string
		answer Approval
		want   want
	}{
		{ApprovalAuto, "bash", nil, Deny, want{false, true}},
		{ApprovalAuto, "read_file", nil, Deny, want{false, true}},
		{"", "write_file", nil, Deny, want{false, true}},
		{ApprovalAskWrites, "bash", nil, Deny, want{true, false}},
		{ApprovalAskWrites, "bash", nil, AllowOnce, want{true, true}},
		{ApprovalAskWrites, "write_file", nil, AllowAlways, want{true, true}},
		{ApprovalAskWrites, "edit_file", nil, Deny, want{true, false}},
		{ApprovalAskWrites, "read_file", nil, Deny, want{false, true}},
		{ApprovalAskWrites, "list_files", nil, Deny, want{false, true}},
		{ApprovalAskWrites, "grep", nil, Deny, want{false, true}},
		{ApprovalAskWrites, "bash", []string{"bash"}, Deny, want{false, true}},
		{ApprovalAskAll, "read_file", nil, Deny, want{true, false}},
		{ApprovalAskAll, "grep", nil, AllowOnce, want{true, true}},
		{ApprovalAskAll, "list_files", nil, AllowAlways, want{true, true}},
		{ApprovalAskAll, "grep", []string{"grep"}, Deny, want{false, true}},
		{ApprovalAskAll, "bash", []string{"grep"}, Deny, want{true, false}},
	}
	inputs := map[string]string{
		"bash": `{"command":"rm -rf build"}`, "read_file": `{"path":"a"}`, "write_file": `{"path":"a","content":"x"}`,
		"edit_file": `{"path":"a","old_string":"x","new_string":"y"}`, "list_files": `{}`, "grep": `{"pattern":"x"}`,
	}
	for _, tc := range tests {
		name := string(tc.mode) + "/" + tc.tool + "/" + tc.answer.String()
		if tc.always != nil {
			name += "/always-allowed"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			// Two calls of the same tool: AllowAlways must cover the second.
			p := &fakeProvider{replies: []fakeReply{
				replyWith(use{"c1", tc.tool, inputs[tc.tool]}, use{"c2", tc.tool, inputs[tc.tool]}),
				replyWith("done"),
			}}
			rec := &recorder{}
			sb := &fakeSandbox{exec: stdout("1\n")}
			var asked []ApprovalRequest
			cfg := testConfig(p, rec)
			cfg.ApprovalMode, cfg.AlwaysAllowed = tc.mode, tc.always
			cfg.Approve = func(_ context.Context, req ApprovalRequest) (Approval, error) {
				asked = append(asked, req)
				return tc.answer, nil
			}
			res := runTurn(t, cfg, sb)

			wantAsks := 0
			if tc.want.asked {
				wantAsks = 2
				if tc.answer == AllowAlways {
					wantAsks = 1
				}
			}
			if len(asked) != wantAsks {
				t.Fatalf("asked %d times, want %d", len(asked), wantAsks)
			}
			if wantAsks > 0 && (asked[0].Tool != tc.tool || asked[0].CallID != "c1" || asked[0].Summary == "" || string(asked[0].Input) != inputs[tc.tool]) {
				t.Errorf("request: got %+v", asked[0])
			}
			if tc.tool == "bash" && wantAsks > 0 && asked[0].Summary != "bash: rm -rf build" {
				t.Errorf("summary: got %q, want %q", asked[0].Summary, "bash: rm -rf build")
			}
			ran := len(sb.requests()) > 0
			if ran != tc.want.ran {
				t.Errorf("ran: got %v, want %v", ran, tc.want.ran)
			}
			results := toolResults(res.Messages)
			if len(results) != 2 {
				t.Fatalf("got %d results, want 2", len(results))
			}
			if !tc.want.ran && (!results[0].IsError || !strings.Contains(results[0].Text, "the user denied this call")) {
				t.Errorf("denied result: got %+v", results[0])
			}
			var wantAlways []string
			if tc.want.asked && tc.answer == AllowAlways {
				wantAlways = []string{tc.tool}
			}
			if !slices.Equal(res.AlwaysAllowed, wantAlways) {
				t.Errorf("always allowed: got %v, want %v", res.AlwaysAllowed, wantAlways)
			}
			if got := len(rec.eventsOf(EventAlwaysAllowed)); got != len(wantAlways) {
				t.Errorf("always-allowed events: got %d, want %d", got, len(wantAlways))
			}
			if got := len(rec.eventsOf(EventApproval)); got != wantAsks {
				t.Errorf("approval events: got %d, want %d", got, wantAsks)
			}
			wantKind := map[Approval]string{Deny: AuditApprovalDeny, AllowOnce: AuditApprovalGrant, AllowAlways: AuditApprovalGrant}[tc.answer]
			kinds := rec.kinds()
			if tc.want.asked && !slices.Contains(kinds, AuditApprovalAsk) || tc.want.asked && !slices.Contains(kinds, wantKind) {
				t.Errorf("audit: got %v, want %s and %s", kinds, AuditApprovalAsk, wantKind)
			}
			if !tc.want.asked && slices.Contains(kinds, AuditApprovalAsk) {
				t.Errorf("audit: got %v, want no approval events", kinds)
			}
		})
	}
}

func TestApprovalWithoutApprover(t *testing.T) {
	t.Parallel()
	p := &fakeProvider{replies: []fakeReply{replyWith(use{"c1", "bash", `{"command":"ls"}`}), replyWith("ok")}}
	rec := &recorder{}
	sb := &fakeSandbox{}
	cfg := testConfig(p, rec)
	cfg.ApprovalMode = ApprovalAskAll
	res := runTurn(t, cfg, sb)
	if len(sb.requests()) != 0 || !toolResults(res.Messages)[0].IsError {
		t.Errorf("got %d execs, result %+v; want the call denied", len(sb.requests()), toolResults(res.Messages))
	}
	if rec.audit[3].Kind != AuditApprovalDeny || rec.audit[3].Actor != ActorSystem {
		t.Errorf("got %+v, want a deny by the system", rec.audit[3])
	}
}

func TestApproverError(t *testing.T) {
	t.Parallel()
	p := &fakeProvider{replies: []fakeReply{replyWith(use{"c1", "bash", `{"command":"ls"}`}, use{"c2", "bash", `{"command":"pwd"}`})}}
	rec := &recorder{}
	sb := &fakeSandbox{}
	cfg := testConfig(p, rec)
	cfg.ApprovalMode = ApprovalAskAll
	closed := errors.New("window closed")
	cfg.Approve = func(context.Context, ApprovalRequest) (Approval, error) { return Deny, closed }
	res, err := RunTurn(context.Background(), cfg, sb, "", []llm.Message{llm.UserText("go")})
	if !errors.Is(err, closed) || res.StopReason != StopError {
		t.Fatalf("got %v, stop %q; want the approver's error", err, res.StopReason)
	}
	if len(sb.requests()) != 0 || len(toolResults(res.Messages)) != 2 {
		t.Errorf("got %d execs and results %+v; want none run and both answered", len(sb.requests()), toolResults(res.Messages))
	}
}

func TestUnknownApprovalMode(t *testing.T) {
	t.Parallel()
	cfg := Config{Provider: &fakeProvider{}, ApprovalMode: "sometimes"}
	if _, err := RunTurn(context.Background(), cfg, &fakeSandbox{}, "", []llm.Message{llm.UserText("x")}); err == nil {
		t.Error("got no error for an unknown approval mode")
	}
}
