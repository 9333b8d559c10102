package assistant

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/berth-app/berth/app/agent"
	"github.com/berth-app/berth/app/llm"
	"github.com/berth-app/berth/app/llm/llmtest"
	"github.com/berth-app/berth/app/store"
	"github.com/berth-app/berth/docker"
)

// readyEngine is an engine whose gate is open; it runs nothing.
func readyEngine() fakeEngine {
	return fakeEngine{check: func(context.Context, string, string) docker.Status { return docker.Status{State: docker.Ready} }}
}

// events collects a turn's agent events.
type events struct {
	mu  sync.Mutex
	evs []agent.Event
}

func (e *events) on(ev agent.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.evs = append(e.evs, ev)
}

func (e *events) text(kind agent.EventKind) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, ev := range e.evs {
		if ev.Kind == kind {
			out = append(out, ev.Text)
		}
	}
	return strings.Join(out, "\n")
}

// TestMalformedToolInputIsStoredReadably: a tool call cut at the output
// limit is stored with its arguments verbatim, read back exactly, sent back
// to the model as an error, and the chat goes on — no dead chat.
func TestMalformedToolInputIsStoredReadably(t *testing.T) {
	t.Parallel()
	svc, st := newService(t, readyEngine())
	fake := fakeModel(t, svc)
	const cut = `{"command":"ls -la /workspace/gr`
	fake.Queue(
		llmtest.Reply{Text: []string{"Let me look. "}, ToolCalls: []llmtest.ToolCall{{ID: "c1", Name: "bash", Input: cut}}, StopReason: "max_tokens"},
		llmtest.Reply{Text: []string{"Sorry, that call was cut."}},
		llmtest.Reply{Text: []string{"Still here."}},
	)
	ctx := context.Background()
	res, err := svc.Chat(ctx, ChatRequest{Group: "main", Text: "list my files"})
	if err != nil {
		t.Fatalf("chat: %v", err)
	}
	_, stored, err := svc.History(ctx, res.Session, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range stored {
		if m.Role != RoleUser && !json.Valid([]byte(m.Content)) {
			t.Errorf("message %d (%s) is stored unreadably: %q", m.ID, m.Role, m.Content)
		}
	}
	hist, err := svc.readHistory(ctx, res.Session, 0)
	if err != nil || len(hist.unreadable) > 0 {
		t.Fatalf("read back: %v %v", err, hist.unreadable)
	}
	if got := string(hist.msgs[1].Parts[1].Input); got != cut {
		t.Errorf("stored input: got %q, want %q", got, cut)
	}
	// The model was told, with its own words, in the next request.
	reqs := fake.Requests()
	if raw := string(reqs[1].Raw); !strings.Contains(raw, "cut at the output limit") || !strings.Contains(raw, `ls -la /workspace/gr`) {
		t.Errorf("second request lacks the error: %s", raw)
	}
	// The chat is not dead: the next turn runs.
	res2, err := svc.Chat(ctx, ChatRequest{Group: "main", Session: res.Session, Text: "hi again"})
	if err != nil || res2.Text != "Still here." {
		t.Fatalf("next turn: %q, %v", res2.Text, err)
	}
	_ = st
}

// TestUnreadableStoredMessageIsSkipped: a message an older Berth stored
// empty is reported and left out, with its tool results, and the turn runs.
func TestUnreadableStoredMessageIsSkipped(t *testing.T) {
	t.Parallel()
	svc, st := newService(t, readyEngine())
	fake := fakeModel(t, svc)
	fake.Queue(llmtest.Reply{Text: []string{"First."}}, llmtest.Reply{Text: []string{"Second."}})
	ctx := context.Background()
	res, err := svc.Chat(ctx, ChatRequest{Group: "main", Text: "one"})
	if err != nil {
		t.Fatal(err)
	}
	// What the old encodeMessage wrote for malformed input: "", then the
	// tool result that answered it.
	bad, _ := st.AddMessage(ctx, store.Message{Session: res.Session, Role: RoleAssistant, Content: "", Status: StatusDone})
	result, _, _ := encodeMessage(llm.Message{Role: llm.RoleUser, Parts: []llm.Part{llm.ToolResult("lost", "not a JSON object", true)}})
	st.AddMessage(ctx, store.Message{Session: res.Session, Role: RoleTool, Content: result, Status: StatusDone})

	var ev events
	res2, err := svc.Chat(ctx, ChatRequest{Group: "main", Session: res.Session, Text: "two", OnEvent: ev.on})
	if err != nil || res2.Text != "Second." {
		t.Fatalf("turn after an unreadable message: %q, %v", res2.Text, err)
	}
	if n := ev.text(agent.EventNotice); !strings.Contains(n, "could not be read") {
		t.Errorf("notice: %q", n)
	}
	raw := string(fake.Requests()[1].Raw)
	if strings.Contains(raw, "lost") {
		t.Errorf("the orphaned tool result was sent: %s", raw)
	}
	evs, _ := st.Events(ctx, store.Filter{Kind: AuditMessageUnreadable})
	if len(evs) != 1 || !strings.Contains(string(evs[0].Detail), "message "+strconv.FormatInt(bad.ID, 10)) {
		t.Errorf("audit: %+v", evs)
	}
}

// TestInterruptedAnswerIsAnError: a turn interrupted mid-stream returns
// ErrInterrupted (a context.Canceled), so `berth chat` exits 130, and its
// message is left interrupted.
func TestInterruptedAnswerIsAnError(t *testing.T) {
	t.Parallel()
	svc, st := newService(t, readyEngine())
	fake := fakeModel(t, svc)
	fake.Queue(llmtest.Reply{Text: []string{"Part one, ", "part two"}, HoldAfter: 4})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res, err := svc.Chat(ctx, ChatRequest{Group: "main", Text: "go", OnEvent: func(ev agent.Event) {
		if ev.Kind == agent.EventText {
			cancel()
		}
	}})
	if !errors.Is(err, ErrInterrupted) || !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want ErrInterrupted", err)
	}
	if s, _ := messageStatus(t, st, res.Session, res.MessageID); s != StatusInterrupted {
		t.Errorf("status: %s", s)
	}
}
