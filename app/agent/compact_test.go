package agent

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/berth-app/berth/app/llm"
)

// exchange returns a user turn with one tool call whose output is out bytes.
func exchange(n, out int) []llm.Message {
	id := fmt.Sprintf("c%d", n)
	return []llm.Message{
		llm.UserText(fmt.Sprintf("question %d", n)),
		{Role: llm.RoleAssistant, Parts: []llm.Part{{Kind: llm.PartToolUse, ToolUseID: id, ToolName: "bash", Input: []byte(`{"command":"ls"}`)}}},
		{Role: llm.RoleUser, Parts: []llm.Part{llm.ToolResult(id, strings.Repeat("x", out), false)}},
		{Role: llm.RoleAssistant, Parts: []llm.Part{{Kind: llm.PartText, Text: fmt.Sprintf("answer %d", n)}}},
	}
}

func conversation(turns, out int) []llm.Message {
	var msgs []llm.Message
	for i := 1; i <= turns; i++ {
		msgs = append(msgs, exchange(i, out)...)
	}
	return msgs
}

func TestTrimToolResults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		msgs        []llm.Message
		before      int
		wantTrimmed int
	}{
		{"nothing before", conversation(3, 1000), 0, 0},
		{"the first turn", conversation(3, 1000), 4, 1},
		{"two turns", conversation(3, 1000), 8, 2},
		{"past the end", conversation(3, 1000), 99, 3},
		{"short outputs stay", conversation(3, 10), 12, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			orig := tc.msgs[2].Parts[0].Text
			got, n := TrimToolResults(tc.msgs, tc.before)
			if n != tc.wantTrimmed {
				t.Errorf("got %d trimmed, want %d", n, tc.wantTrimmed)
			}
			if tc.msgs[2].Parts[0].Text != orig {
				t.Error("the input was changed")
			}
			if len(got) != len(tc.msgs) {
				t.Fatalf("got %d messages, want %d: nothing may be dropped", len(got), len(tc.msgs))
			}
			trimmed := 0
			for i, m := range got {
				for _, p := range m.Parts {
					if p.Kind == llm.PartToolResult && isTrimmed(p.Text) {
						trimmed++
						if i >= tc.before {
							t.Errorf("message %d trimmed, want only those before %d", i, tc.before)
						}
						if want := "[tool output trimmed to save context: 1000 bytes; the full output is in Berth's log]"; p.Text != want {
							t.Errorf("got %q, want %q", p.Text, want)
						}
					}
				}
			}
			if trimmed != tc.wantTrimmed {
				t.Errorf("got %d markers, want %d", trimmed, tc.wantTrimmed)
			}
			// Trimming again changes nothing.
			if _, again := TrimToolResults(got, tc.before); again != 0 {
				t.Errorf("trimmed %d again", again)
			}
		})
	}
}

func TestRecentStart(t *testing.T) {
	t.Parallel()
	conv := conversation(3, 10)
	tests := []struct {
		name  string
		msgs  []llm.Message
		turns int
		want  int
	}{
		{"last turn", conv, 1, 8},
		{"two turns", conv, 2, 4},
		{"all turns", conv, 3, 0},
		{"more than there are", conv, 5, 0},
		{"new user message", append(conv[:12:12], llm.UserText("next")), 1, 12},
		{"empty", nil, 2, 0},
	}
	for _, tc := range tests {
		if got := RecentStart(tc.msgs, tc.turns); got != tc.want {
			t.Errorf("%s: got %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestEstimateTokens(t *testing.T) {
	t.Parallel()
	small, big := EstimateTokens(conversation(1, 10)), EstimateTokens(conversation(1, 40000))
	if small <= 0 || big-small < 9000 || big-small > 11000 {
		t.Errorf("got %d and %d, want about 10000 tokens apart for 40000 more bytes", small, big)
	}
}

func TestTranscriptAndChunks(t *testing.T) {
	t.Parallel()
	msgs := conversation(4, 5000)
	tr := Transcript(msgs)
	for _, w := range []string{"User: question 1", "Assistant called bash: {\"command\":\"ls\"}", "Tool result: xxx", "Assistant: answer 4"} {
		if !strings.Contains(tr, w) {
			t.Errorf("transcript lacks %q", w)
		}
	}
	if len(tr) > 4*(2<<10+500) {
		t.Errorf("got a %d-byte transcript, want tool output cut to 2 KB each", len(tr))
	}
	cs := chunks(msgs, 3000)
	total := 0
	for _, c := range cs {
		total += len(c)
	}
	if len(cs) < 2 || total != len(msgs) {
		t.Errorf("got %d chunks holding %d messages, want several holding all %d", len(cs), total, len(msgs))
	}
	if got := SummaryMessage(" they asked "); !strings.HasPrefix(got.Parts[0].Text, "Summary of the earlier conversation: they asked\n") ||
		!strings.Contains(got.Parts[0].Text, "Berth keeps the full earlier conversation") || got.Role != llm.RoleUser {
		t.Errorf("got %+v", got)
	}
}

func TestCompaction(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		history       []llm.Message
		wantSummary   bool
		wantTrimmed   bool
		wantCompacted bool
	}{
		{"short history is left alone", conversation(2, 100), false, false, false},
		{"trimming is enough", conversation(6, 5000), false, true, true},
		{"long talk is summarised", conversation(80, 100), true, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			history := append(tc.history, llm.UserText("and now?"))
			p := &fakeProvider{stream: func(_ context.Context, req llm.Request, _ func(llm.Event)) (llm.Response, error) {
				text := "Now this."
				if req.System == summarySystem {
					text = "They asked 78 questions about files."
				}
				return llm.Response{Message: llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{{Kind: llm.PartText, Text: text}}}, StopReason: llm.StopEndTurn}, nil
			}}
			rec := &recorder{}
			cfg := testConfig(p, rec)
			cfg.ContextTokens = 5000
			res, err := RunTurn(context.Background(), cfg, &fakeSandbox{}, "sys", history)
			if err != nil {
				t.Fatal(err)
			}
			reqs := p.requests()
			summarised := len(reqs) >= 2
			for _, r := range reqs[:len(reqs)-1] {
				summarised = summarised && r.System == summarySystem && len(r.Tools) == 0
			}
			if summarised != tc.wantSummary {
				t.Fatalf("got %d requests (summary %v), want summary %v", len(reqs), summarised, tc.wantSummary)
			}
			last := reqs[len(reqs)-1]
			if res.Compacted != tc.wantCompacted || (res.TrimmedResults > 0) != tc.wantTrimmed || (res.SummarisedMessages > 0) != tc.wantSummary {
				t.Errorf("got compacted %v, trimmed %d, summarised %d", res.Compacted, res.TrimmedResults, res.SummarisedMessages)
			}
			if tc.wantSummary {
				first := last.Messages[0].Parts[0].Text
				if !strings.HasPrefix(first, "Summary of the earlier conversation: They asked 78 questions") {
					t.Errorf("first message: got %q, want the summary", first)
				}
				if !strings.Contains(reqs[0].Messages[0].Parts[0].Text, "User: question 1") {
					t.Errorf("the summary request did not hold the oldest turn")
				}
				if got := last.Messages[len(last.Messages)-1].Parts[0].Text; got != "and now?" {
					t.Errorf("last message: got %q, want the user's question", got)
				}
				if len(reqs) > 2 && !strings.HasPrefix(reqs[1].Messages[0].Parts[0].Text, "The summary so far:\n\nThey asked") {
					t.Errorf("a later chunk did not carry the summary so far")
				}
				if len(rec.eventsOf(EventCompacted)) != 1 || rec.audit[0].Detail["purpose"] != "summary" {
					t.Errorf("want a compacted event and the summary request audited")
				}
			}
			if !tc.wantCompacted {
				if res.Context != nil || len(last.Messages) != len(history) {
					t.Errorf("got context %d messages, request %d; want the history untouched", len(res.Context), len(last.Messages))
				}
				return
			}
			if want := len(last.Messages) + 1; len(res.Context) != want {
				t.Errorf("context: got %d messages, want the request's %d and the reply", len(res.Context), want)
			}
			if EstimateTokens(last.Messages) > cfg.ContextTokens {
				t.Errorf("the request still has about %d tokens, over the budget of %d", EstimateTokens(last.Messages), cfg.ContextTokens)
			}
			// Berth's own copy is never shortened.
			if len(res.Messages) != 1 || res.Messages[0].Parts[0].Text != "Now this." {
				t.Errorf("got messages %+v, want only the reply", res.Messages)
			}
		})
	}
}

func TestCompactionWithinALongTurn(t *testing.T) {
	t.Parallel()
	var replies []fakeReply
	for i := range 6 {
		replies = append(replies, replyWith(use{fmt.Sprintf("c%d", i), "bash", `{"command":"cat big"}`}))
	}
	p := &fakeProvider{replies: append(replies, replyWith("Read them all."))}
	rec := &recorder{}
	cfg := testConfig(p, rec)
	cfg.ContextTokens = 20000
	res := runTurn(t, cfg, &fakeSandbox{exec: stdout(strings.Repeat("y", 25<<10))})
	if res.Text != "Read them all." || !res.Compacted || res.TrimmedResults == 0 || res.SummarisedMessages != 0 {
		t.Fatalf("got text %q, compacted %v, trimmed %d, summarised %d", res.Text, res.Compacted, res.TrimmedResults, res.SummarisedMessages)
	}
	for i, req := range p.requests() {
		if got := EstimateTokens(req.Messages); got > cfg.ContextTokens {
			t.Errorf("request %d: about %d tokens, over the budget of %d", i, got, cfg.ContextTokens)
		}
	}
	for _, r := range toolResults(res.Messages) {
		if isTrimmed(r.Text) {
			t.Fatal("Result.Messages holds a trimmed output; Berth's copy must stay whole")
		}
	}
	trimmed := 0
	for _, r := range toolResults(res.Context) {
		if isTrimmed(r.Text) {
			trimmed++
		}
	}
	if trimmed == 0 || !isTrimmed(toolResults(res.Context)[0].Text) || isTrimmed(toolResults(res.Context)[5].Text) {
		t.Errorf("context: got %d trimmed outputs, want the oldest trimmed and the newest whole", trimmed)
	}
}
