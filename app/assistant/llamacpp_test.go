package assistant

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/berth-app/berth/app/agent"
	"github.com/berth-app/berth/app/llm"
	"github.com/berth-app/berth/app/llm/llmtest"
	"github.com/berth-app/berth/app/store"
)

// replayLlamaCpp points svc at a replay of recorded llama-server responses
// (see llmtest.LlamaCpp), as a user with a local llama.cpp server would.
func replayLlamaCpp(t *testing.T, svc *Service) *llmtest.Replay {
	t.Helper()
	r := llmtest.NewReplay(t)
	svc.Config.Provider, svc.Config.BaseURL, svc.Config.Model = llm.OpenAI, r.URL+"/v1", "tiny"
	svc.apiKey = "none"
	return r
}

// TestLlamaCppCutToolCallChatGoesOn replays what broke chats for good: a
// real llama-server reply cut by max_tokens inside a tool call's arguments.
// The context size comes from /props (2048), so the reply cap is a quarter
// of it; the cut call is stored readably and answered with an error; the
// next turn and the next chat run.
func TestLlamaCppCutToolCallChatGoesOn(t *testing.T) {
	t.Parallel()
	svc, st := newService(t, readyEngine())
	r := replayLlamaCpp(t, svc)
	props := llmtest.LlamaCpp(t, "props-2048")
	r.Queue("GET", "/props", props, props)
	r.Queue("POST", "/v1/chat/completions",
		llmtest.LlamaCpp(t, "chat-tool-cut"), llmtest.LlamaCpp(t, "chat-text"), llmtest.LlamaCpp(t, "chat-text"))
	var ev events
	ctx := context.Background()
	res, err := svc.Chat(ctx, ChatRequest{Group: "main", Text: "List my files.", OnEvent: ev.on})
	if err != nil {
		t.Fatalf("chat: %v", err)
	}
	reqs := r.Requests()
	if len(reqs) != 3 { // props, the cut reply, the answer
		t.Fatalf("requests: %d", len(reqs))
	}
	if mt, _ := reqs[1].Get("max_tokens").(float64); mt != 512 {
		t.Errorf("max_tokens for a 2048 context: %v, want 512", mt)
	}
	if raw := string(reqs[2].Raw); !strings.Contains(raw, "cut at the output limit") {
		t.Errorf("the model was not told its call was cut: %s", raw)
	}
	if n := ev.text("notice"); !strings.Contains(n, "cut at the output limit") {
		t.Errorf("notices: %q", n)
	}
	ms, _ := st.Messages(ctx, res.Session)
	for _, m := range ms {
		if m.Role != RoleUser && !json.Valid([]byte(m.Content)) {
			t.Errorf("message %d stored unreadably: %q", m.ID, m.Content)
		}
	}
	if _, err := svc.Chat(ctx, ChatRequest{Group: "main", Session: res.Session, Text: "again"}); err != nil {
		t.Fatalf("the next turn: %v", err)
	}
	evs, _ := st.Events(ctx, store.Filter{Session: res.Session, Kind: agent.AuditModelRequest})
	if len(evs) == 0 || !strings.Contains(string(evs[0].Detail), `"requested_model":"tiny"`) {
		t.Errorf("audit of the model: %+v", evs)
	}
}

// TestLlamaCppOverflowCompactsAndRetries replays llama-server's refusal of a
// request bigger than its context: the turn compacts with the sizes the
// server gave, says so, and sends once more.
func TestLlamaCppOverflowCompactsAndRetries(t *testing.T) {
	t.Parallel()
	svc, st := newService(t, readyEngine())
	r := replayLlamaCpp(t, svc)
	r.Queue("GET", "/props", llmtest.LlamaCpp(t, "props"))
	text := llmtest.LlamaCpp(t, "chat-text")
	r.Queue("POST", "/v1/chat/completions", llmtest.LlamaCpp(t, "overflow"), text, text, text, text)
	ctx := context.Background()
	ss, err := svc.NewSession(ctx, "main", "long")
	if err != nil {
		t.Fatal(err)
	}
	for range 4 { // earlier turns that fit 8192 by Berth's estimate, not the server's 2048
		st.AddMessage(ctx, store.Message{Session: ss.ID, Role: RoleUser, Content: "question " + strings.Repeat("word ", 200), Status: StatusDone})
		_, content, _ := encodeMessage(llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{{Kind: llm.PartText, Text: strings.Repeat("answer ", 200)}}})
		st.AddMessage(ctx, store.Message{Session: ss.ID, Role: RoleAssistant, Content: content, Status: StatusDone})
	}
	var ev events
	res, err := svc.Chat(ctx, ChatRequest{Group: "main", Session: ss.ID, Text: "and now?", OnEvent: ev.on})
	if err != nil {
		t.Fatalf("chat: %v", err)
	}
	if !res.Turn.Compacted || res.Turn.SummarisedMessages == 0 {
		t.Errorf("not compacted: %+v", res.Turn)
	}
	if n := ev.text("notice"); !strings.Contains(n, "did not fit the model's context") || !strings.Contains(n, "for a context of 2048") {
		t.Errorf("notices: %q", n)
	}
	reqs := r.Requests()
	if len(reqs) < 4 { // props, refused, summaries, retry
		t.Fatalf("requests: %d", len(reqs))
	}
	if last := reqs[len(reqs)-1]; len(last.Raw) >= len(reqs[1].Raw) || last.Get("tools") == nil {
		t.Errorf("the retry is not a smaller turn request: %d then %d bytes", len(reqs[1].Raw), len(last.Raw))
	}
}
