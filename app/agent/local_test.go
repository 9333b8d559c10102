package agent

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/berth-app/berth/app/llm"
)

// TestCutToolCallGoesBackToTheModel: a reply cut at the output limit inside
// a tool call's arguments is answered with an error that keeps the
// arguments verbatim and says why, and the turn goes on to the answer.
func TestCutToolCallGoesBackToTheModel(t *testing.T) {
	t.Parallel()
	cut := replyWith(use{"c1", "write_file", `{"path":"/workspace/group/a.md","content":"# Long`})
	cut.resp.StopReason = llm.StopMaxTokens
	p := &fakeProvider{replies: []fakeReply{cut, replyWith("I will write it in parts.")}}
	rec := &recorder{}
	sb := &fakeSandbox{}
	res := runTurn(t, testConfig(p, rec), sb)

	if len(sb.requests()) != 0 {
		t.Errorf("a cut call ran in the sandbox: %+v", sb.requests())
	}
	results := toolResults(res.Messages)
	if len(results) != 1 || !results[0].IsError {
		t.Fatalf("results: %+v", results)
	}
	for _, want := range []string{"cut at the output limit", `"content":"# Long`} {
		if !strings.Contains(results[0].Text, want) {
			t.Errorf("the error result lacks %q: %q", want, results[0].Text)
		}
	}
	if got := string(res.Messages[0].Parts[0].Input); got != `{"path":"/workspace/group/a.md","content":"# Long` {
		t.Errorf("the cut input was not kept verbatim: %q", got)
	}
	if n := rec.eventsOf(EventNotice); len(n) != 1 || !strings.Contains(n[0].Text, "cut at the output limit") {
		t.Errorf("notices: %+v", n)
	}
	if res.Text != "I will write it in parts." || len(p.requests()) != 2 {
		t.Errorf("the turn did not go on: text %q, %d requests", res.Text, len(p.requests()))
	}
}

// TestContextOverflowCompactsAndRetriesOnce: the server refuses a request
// as too big for its context (llama.cpp's words); the turn learns the real
// sizes, compacts, says so, and sends once more. A second refusal ends the
// turn with the error.
func TestContextOverflowCompactsAndRetriesOnce(t *testing.T) {
	t.Parallel()
	overflow := &llm.Error{Kind: llm.ErrContextFull, Provider: "openai", Status: 400, RequestTokens: 9000, ContextTokens: 2048}
	history := longHistory(6, 3000)
	for _, tc := range []struct {
		name    string
		second  fakeReply // the answer to the request sent again
		wantErr bool
	}{
		{"once", replyWith("fits now"), false},
		{"twice", fakeReply{err: overflow}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var turnReqs []llm.Request
			p := &fakeProvider{stream: func(ctx context.Context, req llm.Request, emit func(llm.Event)) (llm.Response, error) {
				if req.System == summarySystem {
					return replyWith("short summary").resp, nil
				}
				turnReqs = append(turnReqs, req)
				if len(turnReqs) == 1 {
					return llm.Response{}, overflow
				}
				return tc.second.resp, tc.second.err
			}}
			rec := &recorder{}
			cfg := testConfig(p, rec)
			cfg.ContextTokens = 100_000 // what Berth believed; the server says 2048
			res, err := RunTurn(context.Background(), cfg, &fakeSandbox{}, "system", history)
			if tc.wantErr != (err != nil) || (err != nil && !errors.Is(err, llm.ErrContextFull)) {
				t.Fatalf("RunTurn: %v", err)
			}
			if len(turnReqs) != 2 {
				t.Fatalf("turn requests: %d, want 2 (refused, sent again)", len(turnReqs))
			}
			a, b := EstimateTokens(turnReqs[0].Messages), EstimateTokens(turnReqs[1].Messages)
			if b > 2048*4/5 {
				t.Errorf("the retry does not fit 2048 tokens: %d then %d tokens", a, b)
			}
			notices := rec.eventsOf(EventNotice)
			if len(notices) == 0 || !strings.Contains(notices[len(notices)-1].Text, "did not fit the model's context (9000 tokens for a context of 2048)") {
				t.Errorf("notices: %+v", notices)
			}
			if !tc.wantErr && (res.Text != "fits now" || !res.Compacted) {
				t.Errorf("result: %+v", res)
			}
		})
	}
}

// longHistory is turns user turns, each with a tool call whose output is
// size bytes, then the new question.
func longHistory(turns, size int) []llm.Message {
	var msgs []llm.Message
	for i := range turns {
		id := "h" + string(rune('a'+i))
		msgs = append(msgs, llm.UserText("question"),
			llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{{Kind: llm.PartToolUse, ToolUseID: id, ToolName: "bash", Input: json.RawMessage(`{"command":"cat big"}`)}}},
			llm.Message{Role: llm.RoleUser, Parts: []llm.Part{llm.ToolResult(id, strings.Repeat("x", size), false)}},
			llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{{Kind: llm.PartText, Text: "done"}}})
	}
	return append(msgs, llm.UserText("and now?"))
}

// TestSmallContextSlimsTheTools: with a 2k context the tool definitions
// lose their long descriptions (names and inputs stay), and the user is told.
func TestSmallContextSlimsTheTools(t *testing.T) {
	t.Parallel()
	p := &fakeProvider{replies: []fakeReply{replyWith("hi")}}
	rec := &recorder{}
	cfg := testConfig(p, rec)
	cfg.ContextTokens = 1536
	runTurn(t, cfg, &fakeSandbox{})
	sent := p.requests()[0].Tools
	full := Tools(nil)
	if len(sent) != len(full) {
		t.Fatalf("tools: %d, want %d", len(sent), len(full))
	}
	if a, b := estimateFixed("", full), estimateFixed("", sent); b >= a*3/4 {
		t.Errorf("tools not slimmed: %d → %d tokens", a, b)
	}
	for i := range sent {
		if sent[i].Name != full[i].Name || !json.Valid(sent[i].Schema) {
			t.Errorf("tool %d: %+v", i, sent[i])
		}
	}
	if n := rec.eventsOf(EventNotice); len(n) != 1 || !strings.Contains(n[0].Text, "context is small") {
		t.Errorf("notices: %+v", n)
	}
	big := &fakeProvider{replies: []fakeReply{replyWith("hi")}}
	runTurn(t, testConfig(big, &recorder{}), &fakeSandbox{})
	if got := big.requests()[0].Tools; got[0].Description != full[0].Description {
		t.Error("tools slimmed for a big context")
	}
}

// TestInterruptedTurnKeepsEarlierUsage: the usage of the requests before an
// interruption is in the result, and the model the server reported is in
// the audit log.
func TestInterruptedTurnKeepsEarlierUsage(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	p := &fakeProvider{stream: func(ctx context.Context, req llm.Request, emit func(llm.Event)) (llm.Response, error) {
		n++
		if n == 1 {
			r := replyWith(use{"c1", "bash", `{"command":"ls"}`}).resp
			r.Usage = llm.Usage{InputTokens: 700, OutputTokens: 30, CacheRead: 600}
			r.Model = "qwen2.5-7b-instruct-q4_k_m.gguf"
			return r, nil
		}
		cancel()
		return llm.Response{}, ctx.Err()
	}}
	rec := &recorder{}
	res, err := RunTurn(ctx, testConfig(p, rec), &fakeSandbox{}, "system", []llm.Message{llm.UserText("go")})
	if err != nil || !res.Interrupted {
		t.Fatalf("RunTurn: %v, interrupted %v", err, res.Interrupted)
	}
	if res.Usage.InputTokens != 700 || res.Usage.OutputTokens != 30 || res.Usage.CacheRead != 600 {
		t.Errorf("usage: %+v", res.Usage)
	}
	var models []any
	for _, ev := range rec.audit {
		if ev.Kind == AuditModelRequest {
			models = append(models, ev.Detail["model"])
		}
	}
	if len(models) == 0 || models[0] != "qwen2.5-7b-instruct-q4_k_m.gguf" {
		t.Errorf("audited models: %v", models)
	}
}
