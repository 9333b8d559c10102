package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/berth-app/berth/app/assistant"
	"github.com/berth-app/berth/app/config"
	"github.com/berth-app/berth/app/home"
	"github.com/berth-app/berth/app/llm/llmtest"
	"github.com/berth-app/berth/app/store"
	"github.com/berth-app/berth/docker"
	"github.com/berth-app/berth/docker/dockertest"
)

// TestChatWithTheRealAssistant types a message into the chat window over the
// real runtime, store and engine, with a fake Anthropic server: the answer
// and its tool card appear, and the message is stored as done.
func TestChatWithTheRealAssistant(t *testing.T) {
	c := dockertest.Client(t)
	t.Setenv("BERTH_HOME", t.TempDir())
	t.Setenv("BERTH_IMAGE", dockertest.TestImage)
	fake := llmtest.NewAnthropic(t)
	t.Setenv("ANTHROPIC_BASE_URL", fake.URL)
	t.Setenv("ANTHROPIC_API_KEY", "sk-ui-test")
	fake.Queue(
		llmtest.Reply{ToolCalls: []llmtest.ToolCall{{ID: "t1", Name: "bash", Input: `{"command":"echo hello from the sandbox"}`}}},
		llmtest.Reply{Text: []string{"The sandbox said **hello**."}},
	)
	ctx, svc, rt := startRealRuntime(t, c)

	a := test.NewTempApp(t)
	v := NewChatView(ctx, Connect(rt, svc))
	// Fyne-thread work arrives here and runs on the test's goroutine.
	queue := make(chan func(), 4096)
	v.do = func(f func()) { queue <- f }
	w := NewChatWindow(a, v)
	t.Cleanup(w.Close)
	w.Resize(fyne.NewSize(800, 600))
	v.Watch(ctx)
	pump := func(what string, done func() bool) {
		t.Helper()
		// A deadline, not a threshold: a first sandbox and its helper
		// under -race on a loaded 2-core machine can take tens of seconds.
		deadline := time.After(2 * time.Minute)
		for !done() {
			select {
			case f := <-queue:
				f()
			case <-deadline:
				t.Fatalf("waited 2 min for %s", what)
			}
		}
	}
	pump("the gate to open", func() bool { return !v.input.Disabled() })

	test.Type(v.input, "say hello")
	v.input.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	var card *ToolCard
	pump("the answer", func() bool {
		card = nil
		answered := false
		for _, it := range v.conv.Items {
			if it.Kind == ItemTool {
				card = it.Card
			}
			answered = answered || (it.Kind == ItemAssistant && !it.Streaming && strings.Contains(it.Text, "hello"))
		}
		return answered && card != nil && !card.Running
	})
	if card.ExitCode != 0 || !strings.Contains(card.Output, "hello from the sandbox") {
		t.Errorf("tool card: exit %d, output %q", card.ExitCode, card.Output)
	}
	ms, err := svc.Store.Messages(ctx, v.conv.Session)
	if err != nil || len(ms) == 0 || ms[0].Content != "say hello" || ms[0].Status != assistant.StatusDone {
		t.Errorf("stored messages: %+v %v", ms, err)
	}
}

// startRealRuntime runs the real runtime over a fresh installation under
// BERTH_HOME (the caller sets it) and engine c, stopped and reaped when the
// test ends.
func startRealRuntime(t *testing.T, c *docker.Client) (context.Context, *assistant.Service, *assistant.Runtime) {
	t.Helper()
	p, err := home.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Ensure(); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(p.DB, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(p.Config)
	if err != nil {
		t.Fatal(err)
	}
	svc := &assistant.Service{Engine: c, Store: st, Paths: p, Config: cfg}
	ctx, cancel := context.WithCancel(context.Background())
	mon := docker.NewMonitor(c, docker.MonitorConfig{Image: cfg.Image})
	go mon.Run(ctx)
	rt := assistant.NewRuntime(svc, mon, assistant.RuntimeConfig{})
	if err := rt.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		rt.Stop(context.Background())
		cancel()
		_, _ = svc.StopAll(context.Background())
		c.Reap(context.Background(), p.InstallID(), time.Now().Add(24*time.Hour))
		st.Close()
	})
	return ctx, svc, rt
}
