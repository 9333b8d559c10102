package assistant

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-app/berth/app/llm/llmtest"
	"github.com/berth-app/berth/app/store"
	"github.com/berth-app/berth/docker"
	"github.com/berth-app/berth/docker/dockertest"
)

// createdSpecs are the specs of the sandboxes the audit log says were started.
func createdSpecs(t *testing.T, st *store.Store) []docker.Spec {
	t.Helper()
	evs, err := st.Events(context.Background(), store.Filter{Kind: AuditSandboxCreate})
	if err != nil {
		t.Fatal(err)
	}
	var out []docker.Spec
	for _, ev := range evs {
		var d struct{ Spec docker.Spec }
		if err := json.Unmarshal(ev.Detail, &d); err != nil {
			t.Fatal(err)
		}
		out = append(out, d.Spec)
	}
	return out
}

// toolThenText answers each turn with one bash call, then with text (the
// model's requests alternate: the user's message, then the tool's result).
func toolThenText(text string) func(llmtest.Request) llmtest.Reply {
	var mu sync.Mutex
	calls := 0
	return func(llmtest.Request) llmtest.Reply {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls%2 == 0 {
			return llmtest.Reply{Text: []string{text}}
		}
		return llmtest.Reply{ToolCalls: []llmtest.ToolCall{{ID: fmt.Sprintf("c%d", calls), Name: "bash", Input: `{"command":"true"}`}}}
	}
}

// TestRuntimeSettingsTakeEffect changes the settings of a running runtime,
// as the settings screen and `berth settings set` do, and checks that each
// one is in force at once: the provider, model and base URL for the next
// turn, the limits and network for the next sandbox, and the image for the
// gate.
func TestRuntimeSettingsTakeEffect(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	svc, st := newService(t, c)
	first := fakeModel(t, svc)
	first.Respond(toolThenText("first"))
	r := startRuntime(t, svc, c, RuntimeConfig{})
	events, unsub := r.Subscribe()
	defer unsub()
	ctx := context.Background()
	waitEvent(t, events, 30*time.Second, "an open gate", func(ev Event) bool { return ev.Kind == EventGate && ev.Gate.Open })

	send := func(text string) ChatResult {
		t.Helper()
		m, err := r.Send(ctx, ChatRequest{Group: "main", Session: "", Text: text})
		if err != nil {
			t.Fatal(err)
		}
		return wait(t, r, m.ID)
	}
	res := send("one")
	if res.Text != "first" {
		t.Fatalf("first turn: got %q", res.Text)
	}
	before := createdSpecs(t, st)
	if len(before) != 1 {
		t.Fatalf("sandboxes started by the first turn: %d, want 1", len(before))
	}

	// Model, base URL and limits.
	second := llmtest.NewAnthropic(t)
	second.Respond(toolThenText("second"))
	cfg := svc.Settings()
	cfg.BaseURL, cfg.Model, cfg.Pids, cfg.MemoryMB = second.URL, "model-b", 77, 333
	if err := r.SetSettings(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	firstCalls := len(first.Requests())
	m, err := r.Send(ctx, ChatRequest{Group: "main", Session: res.Session, Text: "two"})
	if err != nil {
		t.Fatal(err)
	}
	if got := wait(t, r, m.ID).Text; got != "second" {
		t.Fatalf("second turn: got %q from the new base URL, want %q", got, "second")
	}
	if n := len(first.Requests()); n != firstCalls {
		t.Errorf("the old base URL got %d more requests after the change", n-firstCalls)
	}
	if got := second.Requests()[0].Get("model"); got != "model-b" {
		t.Errorf("model asked for: got %v, want model-b", got)
	}
	after := createdSpecs(t, st)
	if len(after) != 2 {
		t.Fatalf("sandboxes started: %d, want 2 (the old one replaced by one with the new limits)", len(after))
	}
	if got := after[1]; got.Pids != 77 || got.Memory != 333<<20 {
		t.Errorf("new sandbox limits: pids %d memory %d, want 77 and %d", got.Pids, got.Memory, 333<<20)
	}
	t.Logf("limits: sandbox 1 pids %d memory %d MB; after the change sandbox 2 pids %d memory %d MB",
		before[0].Pids, before[0].Memory>>20, after[1].Pids, after[1].Memory>>20)

	// Network default: the model is told, and the next sandbox asks for it.
	cfg.Network = "bridge"
	if err := r.SetSettings(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	second.Respond(func(llmtest.Request) llmtest.Reply { return llmtest.Reply{Text: []string{"net"}} })
	send("three")
	reqs := second.Requests()
	if sys := string(reqs[len(reqs)-1].Raw); !strings.Contains(sys, "The sandbox can reach the network") {
		t.Errorf("after network=bridge the model was not told the sandbox has network")
	}
	if got := svc.spec(Group{Slug: "main"}, "s", nil).Network; got != "bridge" {
		t.Errorf("next sandbox network: got %q, want bridge", got)
	}
	cfg.Network = "none"

	// Provider.
	openai := llmtest.NewOpenAI(t)
	openai.Respond(func(llmtest.Request) llmtest.Reply { return llmtest.Reply{Text: []string{"from openai"}} })
	cfg.Provider, cfg.BaseURL, cfg.Model = "openai", openai.URL, "gpt-test"
	if err := r.SetSettings(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if got := send("four").Text; got != "from openai" {
		t.Errorf("after provider=openai: got %q", got)
	}
	if reqs := openai.Requests(); len(reqs) != 1 || reqs[0].Get("model") != "gpt-test" {
		t.Errorf("openai requests: %d, want 1 for gpt-test", len(reqs))
	}

	// Image: the gate checks the new one at once.
	good := cfg.Image
	cfg.Image = "berth-test:not-here"
	if err := r.SetSettings(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	closed := waitEvent(t, events, 30*time.Second, "the gate closing for the missing image", func(ev Event) bool {
		return ev.Kind == EventGate && !ev.Gate.Open && ev.Gate.Image == "berth-test:not-here"
	})
	reason := closed.Gate.Reason
	t.Logf("image: after image=berth-test:not-here the gate closed: %s", reason)
	cfg.Image = good
	if err := r.SetSettings(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, events, 30*time.Second, "the gate reopening", func(ev Event) bool { return ev.Kind == EventGate && ev.Gate.Open })
	changes, _ := st.Events(ctx, store.Filter{Kind: AuditSettingsChange})
	if len(changes) != 5 {
		t.Errorf("settings.change events: %d, want 5", len(changes))
	}
}
