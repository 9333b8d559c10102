package assistant

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-app/berth/app/agent"
	"github.com/berth-app/berth/app/llm/llmtest"
	"github.com/berth-app/berth/app/store"
	"github.com/berth-app/berth/docker"
	"github.com/berth-app/berth/docker/dockertest"
)

// fakeAPIKey is the API key fakeModel gives the service.
const fakeAPIKey = "sk-test-runtime"

// fakeModel points svc at a fake Anthropic server through its settings'
// base URL and its own key source, not the environment, so that the test
// may run in parallel. Call it before the service runs.
func fakeModel(t *testing.T, svc *Service) *llmtest.Server {
	t.Helper()
	fake := llmtest.NewAnthropic(t)
	cfg := svc.Settings()
	cfg.BaseURL = fake.URL
	svc.SetSettings(cfg)
	svc.apiKey = fakeAPIKey
	return fake
}

// startRuntime runs a runtime over svc watched by a real monitor of engine.
func startRuntime(t *testing.T, svc *Service, engine *docker.Client, cfg RuntimeConfig) *Runtime {
	t.Helper()
	mon := docker.NewMonitor(engine, docker.MonitorConfig{Image: svc.Config.Image})
	ctx, cancel := context.WithCancel(context.Background())
	go mon.Run(ctx)
	r := NewRuntime(svc, mon, cfg)
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.Stop(context.Background())
		cancel()
	})
	return r
}

// waitEvent reads the runtime's stream until match, failing after d.
func waitEvent(t *testing.T, ch <-chan Event, d time.Duration, what string, match func(Event) bool) Event {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case ev := <-ch:
			if match(ev) {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %s within %s", what, d)
			return Event{}
		}
	}
}

func wait(t *testing.T, r *Runtime, id int64) ChatResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := r.Wait(ctx, id)
	if err != nil {
		t.Fatalf("wait for message %d: %v", id, err)
	}
	return res
}

func messageStatus(t *testing.T, st *store.Store, session string, id int64) (string, []store.Message) {
	t.Helper()
	ms, err := st.Messages(context.Background(), session)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.ID == id {
			return m.Status, ms
		}
	}
	t.Fatalf("message %d is gone", id)
	return "", nil
}

// TestRuntimeDockerDownMidTurn cuts the engine's socket while a tool call
// runs: the turn is stored as interrupted with its partial answer, a
// message sent while Docker is down waits, and runs once it is back.
func TestRuntimeDockerDownMidTurn(t *testing.T) {
	t.Parallel()
	proxy, engine, svc, st := proxiedService(t, "test proxy")
	fake := fakeModel(t, svc)
	fake.Respond(func(req llmtest.Request) llmtest.Reply {
		raw := string(req.Raw)
		switch {
		case strings.Contains(raw, "second message"):
			return llmtest.Reply{Text: []string{"All done."}}
		case strings.Contains(raw, "tool_result"):
			return llmtest.Reply{HoldAfter: 1} // a model that stalls until the turn is canceled
		}
		return llmtest.Reply{Text: []string{"Working on it. "}, ToolCalls: []llmtest.ToolCall{{ID: "t1", Name: "bash", Input: `{"command":"touch running; sleep 30"}`}}}
	})
	r := startRuntime(t, svc, engine, RuntimeConfig{})
	events, unsub := r.Subscribe()
	defer unsub()
	ctx := context.Background()

	m1, err := r.Send(ctx, ChatRequest{Group: "main", Text: "first message"})
	if err != nil {
		t.Fatal(err)
	}
	waitEvent(t, events, 30*time.Second, "the bash call", func(ev Event) bool {
		return ev.Kind == EventAgent && ev.Agent.Kind == agent.EventToolStart
	})
	waitFile(t, filepath.Join(svc.Paths.GroupDir("main"), "running"))
	proxy.Cut()
	closed := waitEvent(t, events, 30*time.Second, "a closed gate", func(ev Event) bool { return ev.Kind == EventGate && !ev.Gate.Open })
	res := wait(t, r, m1.ID)
	status, msgs := messageStatus(t, st, res.Session, m1.ID)
	if status != StatusInterrupted {
		t.Errorf("the turn Docker left: got %s, want interrupted", status)
	}
	var partial bool
	for _, m := range msgs {
		partial = partial || (m.Role == RoleAssistant && strings.Contains(m.Content, "Working on it."))
	}
	if !partial {
		t.Errorf("the partial answer was not kept: %+v", msgs)
	}

	m2, err := r.Send(ctx, ChatRequest{Group: "main", Session: res.Session, Text: "second message"})
	if err != nil {
		t.Fatal(err)
	}
	waitEvent(t, events, 5*time.Second, "the message waiting for the gate", func(ev Event) bool {
		return ev.Kind == EventWaitGate && ev.MessageID == m2.ID && strings.Contains(ev.Text, "not running")
	})
	waiting, _ := messageStatus(t, st, res.Session, m2.ID)
	if waiting != StatusPending {
		t.Errorf("a message sent while Docker is down: got %s, want pending", waiting)
	}

	proxy.Restore()
	res2 := wait(t, r, m2.ID)
	after, _ := messageStatus(t, st, res.Session, m2.ID)
	if after != StatusDone || res2.Text != "All done." {
		t.Errorf("after Docker came back: status %s, text %q", after, res2.Text)
	}
	evs, _ := st.Events(ctx, store.Filter{Kind: "docker"})
	var kinds []string
	for _, e := range evs {
		kinds = append(kinds, e.Kind)
	}
	if got := strings.Join(kinds, " "); !strings.Contains(got, "docker.ready docker.down docker.ready") {
		t.Errorf("docker transitions in the audit log: %q", got)
	}
	if rep, err := st.Verify(ctx); err != nil || !rep.OK {
		t.Errorf("chain: %+v %v", rep, err)
	}
	dockertest.ReportFault(t, dockertest.Fault{Fault: "engine socket cut mid-turn, restored",
		Sees: fmt.Sprintf("turn %s; %q; the next message %s, then %s", status, gateReason(closed), waiting, after),
		Kept: observedKept(t, st, res.Session, m1.ID, m2.ID), Chain: observedChain(t, st), Orphans: observedOrphans(t, svc, sessionSandboxes(t, svc, res.Session)...)})
}

func TestRuntimePauseAndResume(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	svc, st := newService(t, c)
	fake := fakeModel(t, svc)
	fake.Respond(func(llmtest.Request) llmtest.Reply { return llmtest.Reply{Text: []string{"hi"}} })
	r := startRuntime(t, svc, c, RuntimeConfig{})
	events, unsub := r.Subscribe()
	defer unsub()
	ctx := context.Background()
	waitEvent(t, events, 10*time.Second, "an open gate", func(ev Event) bool { return ev.Kind == EventGate && ev.Gate.Open })
	if err := r.Pause(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := (freshGate{svc}).Check(ctx); err == nil || !strings.Contains(err.Error(), "paused") {
		t.Errorf("a paused gate seen by the service (as a CLI would): %v", err)
	}
	m, _ := r.Send(ctx, ChatRequest{Group: "main", Text: "hello"})
	waitEvent(t, events, 5*time.Second, "waiting while paused", func(ev Event) bool {
		return ev.Kind == EventWaitGate && strings.Contains(ev.Text, "paused")
	})
	if err := r.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	if res := wait(t, r, m.ID); res.Text != "hi" {
		t.Errorf("after resume: %q", res.Text)
	}
	evs, _ := st.Events(ctx, store.Filter{Kind: "assistant"})
	if len(evs) != 2 || evs[0].Kind != AuditPaused || evs[1].Kind != AuditResumed {
		t.Errorf("audit: %+v", evs)
	}
}

// TestRuntimeConcurrentSessions runs 6 chats in 4 groups at once with at
// most 4 sandboxes: every turn completes, each writes only in its own group
// folder, none sees another group's mounts, and no chat hears another's.
func TestRuntimeConcurrentSessions(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	svc, st := newService(t, c)
	ctx := context.Background()
	groups := []string{"g1", "g2", "g3", "g4"}
	for _, g := range groups {
		if _, err := svc.AddGroup(ctx, g, "", GroupSettings{}); err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		if _, err := svc.AddMount(ctx, g, mountReq(dir, "only-"+g)); err != nil {
			t.Fatal(err)
		}
	}
	fake := fakeModel(t, svc)
	var mu sync.Mutex
	tags := map[string]bool{}
	fake.Respond(func(req llmtest.Request) llmtest.Reply {
		raw := string(req.Raw)
		// Each request must carry exactly one chat's tag.
		n := 0
		for i := 0; i < 10; i++ {
			if strings.Contains(raw, "chat-tag-"+string(rune('a'+i))+" ") {
				n++
			}
		}
		mu.Lock()
		tags[string(rune('0'+n))] = true
		mu.Unlock()
		if strings.Contains(raw, "tool_result") {
			return llmtest.Reply{Text: []string{"done"}}
		}
		return llmtest.Reply{ToolCalls: []llmtest.ToolCall{{ID: "w", Name: "bash",
			Input: `{"command":"ls /workspace/extra; touch /workspace/group/$(hostname); sleep 0.3"}`}}}
	})
	r := startRuntime(t, svc, c, RuntimeConfig{MaxSandboxes: 4})
	events, unsub := r.Subscribe()
	defer unsub()
	var ids []int64
	var sessions []string
	const chats = 6 // more than the cap of 4, and two groups with two chats each
	for i := 0; i < chats; i++ {
		m, err := r.Send(ctx, ChatRequest{Group: groups[i%4], Text: "chat-tag-" + string(rune('a'+i)) + " go"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	maxRunning := 0
	go func() {
		for ev := range events {
			if ev.Kind == EventTurnStart {
				list, _ := r.chatSandboxes(ctx)
				mu.Lock()
				maxRunning = max(maxRunning, len(list))
				mu.Unlock()
			}
		}
	}()
	for i, id := range ids {
		res := wait(t, r, id)
		if res.Text != "done" {
			t.Errorf("chat %d: %q", i, res.Text)
		}
		sessions = append(sessions, res.Session)
	}
	mu.Lock()
	if len(tags) != 1 || !tags["1"] {
		t.Errorf("a request carried another chat's words: %v", tags)
	}
	if maxRunning > 4 {
		t.Errorf("%d sandboxes ran at once, cap 4", maxRunning)
	}
	mu.Unlock()
	for i, g := range groups {
		entries, _ := osReadDir(svc.Paths.GroupDir(g))
		files := 0
		for _, e := range entries {
			if e.Name() != MemoryFile {
				files++
			}
		}
		want := chats / len(groups)
		if i < chats%len(groups) {
			want++
		}
		if files != want {
			t.Errorf("group %s folder has %d marker files, want %d (one per chat)", g, files, want)
		}
	}
	for i, s := range sessions {
		_, msgs := messageStatus(t, st, s, ids[i])
		for _, m := range msgs {
			if m.Role == RoleTool && strings.Contains(m.Content, "only-") && !strings.Contains(m.Content, "only-"+groups[i%4]) {
				t.Errorf("chat %d saw another group's mount: %s", i, m.Content)
			}
		}
	}
}

func TestRuntimeIdleTimeoutAndRotate(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	svc, _ := newService(t, c)
	ctx := context.Background()
	if _, err := svc.AddGroup(ctx, "work", "", GroupSettings{IdleTimeout: configDuration(time.Second)}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddGroup(ctx, "keep", "", GroupSettings{}); err != nil {
		t.Fatal(err)
	}
	fake := fakeModel(t, svc)
	fake.Respond(func(req llmtest.Request) llmtest.Reply {
		if strings.Contains(string(req.Raw), "tool_result") {
			return llmtest.Reply{Text: []string{"ok"}}
		}
		return llmtest.Reply{ToolCalls: []llmtest.ToolCall{{ID: "x", Name: "bash", Input: `{"command":"true"}`}}}
	})
	r := startRuntime(t, svc, c, RuntimeConfig{Tick: 200 * time.Millisecond})
	events, unsub := r.Subscribe()
	defer unsub()
	for _, g := range []string{"work", "keep"} {
		m, err := r.Send(ctx, ChatRequest{Group: g, Text: "use a tool"})
		if err != nil {
			t.Fatal(err)
		}
		wait(t, r, m.ID)
	}
	ev := waitEvent(t, events, 10*time.Second, "the idle sandbox stopping", func(ev Event) bool { return ev.Kind == EventSandboxStop })
	if ev.Group != "work" || !strings.Contains(ev.Text, "idle") {
		t.Errorf("stopped: %+v", ev)
	}
	list, _ := r.chatSandboxes(ctx)
	if len(list) != 1 || list[0].Group != "keep" {
		t.Fatalf("running after the idle stop: %+v", list)
	}
	if n, err := svc.RunningSandboxes(ctx); err != nil || n != 1 {
		t.Errorf("the tray's count after the idle stop: got %d %v, want 1", n, err)
	}
	n, err := r.Rotate(ctx, "")
	if err != nil || n != 1 {
		t.Fatalf("rotate: %d %v", n, err)
	}
	if list, _ := r.chatSandboxes(ctx); len(list) != 0 {
		t.Errorf("after rotate: %+v", list)
	}
	if n, err := svc.RunningSandboxes(ctx); err != nil || n != 0 {
		t.Errorf("the tray's count after rotate: got %d %v, want 0", n, err)
	}
}

// TestRuntimeMaxAgeReplacesTheSandbox: a sandbox past its group's max age
// is not used again; the next turn gets a fresh one.
func TestRuntimeMaxAgeReplacesTheSandbox(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	svc, st := newService(t, c)
	ctx := context.Background()
	if _, err := svc.AddGroup(ctx, "short", "", GroupSettings{MaxAge: configDuration(3 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	fake := fakeModel(t, svc)
	fake.Respond(func(req llmtest.Request) llmtest.Reply {
		if toolResultsThisTurn(req) > 0 {
			return llmtest.Reply{Text: []string{"ok"}}
		}
		return llmtest.Reply{ToolCalls: []llmtest.ToolCall{{ID: "x", Name: "bash", Input: `{"command":"true"}`}}}
	})
	r := startRuntime(t, svc, c, RuntimeConfig{})
	m1, _ := r.Send(ctx, ChatRequest{Group: "short", Text: "use a tool"})
	res := wait(t, r, m1.ID)
	// On a loaded machine the first turn itself may outlive the max age
	// and replace its sandbox: count from what it made.
	var before []store.Event
	eventually(t, "the first turn's sandbox.create in the audit log", func() bool { // written in the background
		before, _ = st.Events(ctx, store.Filter{Kind: AuditSandboxCreate, Session: res.Session})
		return len(before) > 0
	})
	time.Sleep(time.Until(before[len(before)-1].Time.Add(3500 * time.Millisecond))) // past the newest one's max age
	m2, _ := r.Send(ctx, ChatRequest{Group: "short", Session: res.Session, Text: "again"})
	wait(t, r, m2.ID)
	var evs []store.Event
	eventually(t, "the second turn's sandbox.create in the audit log", func() bool {
		evs, _ = st.Events(ctx, store.Filter{Kind: AuditSandboxCreate, Session: res.Session})
		return len(evs) > len(before)
	})
	if len(evs) != len(before)+1 {
		t.Errorf("sandboxes created for the chat: %d after the first turn, %d after the second; want one more (the first replaced after its max age)", len(before), len(evs))
	}
}

// TestRuntimeStopARunningTurn: the user's Stop cancels a running turn, which
// is kept as interrupted with its partial answer.
func TestRuntimeStopARunningTurn(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	svc, st := newService(t, c)
	fake := fakeModel(t, svc)
	fake.Respond(func(req llmtest.Request) llmtest.Reply {
		return llmtest.Reply{Text: []string{"Thinking about it. "}, ToolCalls: []llmtest.ToolCall{{ID: "s", Name: "bash", Input: `{"command":"sleep 60"}`}}}
	})
	r := startRuntime(t, svc, c, RuntimeConfig{})
	events, unsub := r.Subscribe()
	defer unsub()
	ctx := context.Background()
	m, _ := r.Send(ctx, ChatRequest{Group: "main", Text: "long job"})
	waitEvent(t, events, 30*time.Second, "the bash call", func(ev Event) bool {
		return ev.Kind == EventAgent && ev.Agent.Kind == agent.EventToolStart
	})
	if err := r.Cancel(ctx, m.ID); err != nil {
		t.Fatal(err)
	}
	res := wait(t, r, m.ID)
	if s, _ := messageStatus(t, st, res.Session, m.ID); s != StatusInterrupted {
		t.Errorf("a stopped turn: got %s, want interrupted", s)
	}
	if evs, _ := st.Events(ctx, store.Filter{Kind: AuditTurnStop}); len(evs) != 1 {
		t.Errorf("the stop is not audited: %+v", evs)
	}
}
