package agent

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/berth-app/berth/app/llm"
)

func TestAuditOrder(t *testing.T) {
	t.Parallel()
	p := &fakeProvider{replies: []fakeReply{
		replyWith("Writing.", use{"c1", "write_file", `{"path":"notes.md","content":"hello"}`}),
		replyWith("Done."),
	}}
	var mu sync.Mutex
	var log []string // audit kinds and execs, in order
	rec := &recorder{fail: func(ev AuditEvent) error {
		mu.Lock()
		defer mu.Unlock()
		log = append(log, ev.Kind)
		return nil
	}}
	sb := &fakeSandbox{exec: func(context.Context, ExecRequest) (ExecResult, error) {
		mu.Lock()
		defer mu.Unlock()
		log = append(log, "exec")
		return ExecResult{Stdout: []byte("5\n"), StdoutTotal: 2}, nil
	}}
	res := runTurn(t, testConfig(p, rec), sb)
	want := []string{AuditModelRequest, AuditToolCall, "exec", AuditToolResult, AuditFileWrite, AuditModelRequest}
	if !slices.Equal(log, want) {
		t.Fatalf("got %v, want %v", log, want)
	}
	call, result, write := rec.audit[1], rec.audit[2], rec.audit[3]
	if call.Actor != ActorAgent || call.Summary != "write_file: /workspace/group/notes.md (5 bytes)" ||
		call.Detail["tool"] != "write_file" || call.Detail["input_sha256"] != sha256Hex([]byte(`{"path":"notes.md","content":"hello"}`)) {
		t.Errorf("tool.call: got %+v", call)
	}
	for _, key := range []string{"exit_code", "duration_ms", "bytes", "truncated", "is_error", "path", "size", "sha256"} {
		if _, ok := result.Detail[key]; !ok {
			t.Errorf("tool.result: no %q in %v", key, result.Detail)
		}
	}
	if write.Detail["path"] != "/workspace/group/notes.md" || write.Detail["size"] != 5 || write.Detail["sha256"] != sha256Hex([]byte("hello")) {
		t.Errorf("file.write: got %+v", write.Detail)
	}
	req := rec.audit[0]
	if req.Detail["provider"] != "fake" || req.Detail["model"] != "m" || req.Detail["messages"] != 1 || req.Detail["input_tokens"] != int64(10) {
		t.Errorf("model.request: got %+v", req.Detail)
	}
	if res.Usage.InputTokens != 20 || res.Usage.OutputTokens != 10 {
		t.Errorf("usage: got %+v, want both requests added up", res.Usage)
	}
}

func TestAuditBigInput(t *testing.T) {
	t.Parallel()
	content := strings.Repeat("x", 100<<10)
	input := `{"path":"big","content":"` + content + `"}`
	detail := map[string]any{}
	auditInput(detail, []byte(input))
	if s, ok := detail["input"].(string); !ok || len(s) > AuditInputCap {
		t.Errorf("input: got %T of %d bytes, want a string of at most %d", detail["input"], len(detail["input"].(string)), AuditInputCap)
	}
	if detail["input_sha256"] != sha256Hex([]byte(input)) || detail["input_bytes"] != len(input) || detail["input_truncated"] != true {
		t.Errorf("got %v, want the full input's sha256 and size", detail["input_sha256"])
	}
}

func TestAuditFailureStopsTheTurn(t *testing.T) {
	t.Parallel()
	diskFull := errors.New("disk full")
	tests := []struct {
		name     string
		failOn   string
		wantExec bool
	}{
		{"before the call", AuditToolCall, false},
		{"after the call", AuditToolResult, true},
		{"the first model request", AuditModelRequest, false},
		{"the approval", AuditApprovalAsk, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := &fakeProvider{replies: []fakeReply{
				replyWith(use{"c1", "bash", `{"command":"rm -rf build"}`}, use{"c2", "bash", `{"command":"ls"}`}),
				replyWith("never"),
			}}
			rec := &recorder{fail: func(ev AuditEvent) error {
				if ev.Kind == tc.failOn {
					return diskFull
				}
				return nil
			}}
			sb := &fakeSandbox{}
			cfg := testConfig(p, rec)
			cfg.ApprovalMode = ApprovalAskWrites
			cfg.Approve = func(context.Context, ApprovalRequest) (Approval, error) { return AllowOnce, nil }
			res, err := RunTurn(context.Background(), cfg, sb, "", []llm.Message{llm.UserText("go")})
			if !errors.Is(err, diskFull) || !strings.Contains(err.Error(), "audit "+tc.failOn) {
				t.Fatalf("got %v, want the audit error", err)
			}
			if got := len(sb.requests()); (got > 0) != tc.wantExec || got > 1 {
				t.Errorf("got %d execs, want exec %v and never the second call", got, tc.wantExec)
			}
			if len(p.requests()) != 1 || res.StopReason != StopError {
				t.Errorf("got %d model requests, stop %q; want the turn stopped", len(p.requests()), res.StopReason)
			}
			// Every call the history holds has its result.
			if len(toolResults(res.Messages)) != 2 {
				t.Errorf("got results %+v, want both calls answered", toolResults(res.Messages))
			}
		})
	}
}
