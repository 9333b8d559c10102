package assistant

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berth-app/berth/app/llm/llmtest"
	"github.com/berth-app/berth/docker"
)

// fakeWatcher is a GateWatcher whose readings a test sends.
type fakeWatcher struct {
	mu       sync.Mutex
	readings chan docker.Status
	images   []string
}

func newFakeWatcher(first docker.Status) *fakeWatcher {
	w := &fakeWatcher{readings: make(chan docker.Status, 16)}
	w.readings <- first
	return w
}

func (w *fakeWatcher) Subscribe() (<-chan docker.Status, func()) { return w.readings, func() {} }
func (w *fakeWatcher) Poke()                                     {}

// Recheck has no fresh reading to give (Checking): the runtime keeps the
// readings the test sent.
func (w *fakeWatcher) Recheck(context.Context) docker.Status {
	return docker.Status{State: docker.Checking}
}
func (w *fakeWatcher) SetImage(image, _ string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.images = append(w.images, image)
}

// TestRuntimeOneGate runs a turn in a runtime whose monitor says Docker is
// ready while a fresh Engine.Check would say it is down. The runtime's
// monitor is the one gate: the turn runs, and the service never asks Docker
// again (before, Answer's own check refused the turn and the runtime put it
// back at the head of its queue at once, over and over).
func TestRuntimeOneGate(t *testing.T) {
	t.Parallel()
	var checks atomic.Int64
	engine := fakeEngine{check: func(context.Context, string, string) docker.Status {
		checks.Add(1)
		return docker.Status{State: docker.Down, Reason: "a fresh check says down", Hint: "none"}
	}}
	svc, _ := newService(t, engine)
	fake := fakeModel(t, svc)
	fake.Respond(func(llmtest.Request) llmtest.Reply { return llmtest.Reply{Text: []string{"answered"}} })
	r := NewRuntime(svc, newFakeWatcher(docker.Status{State: docker.Ready, Reason: "ready"}), RuntimeConfig{})
	events, unsub := r.Subscribe()
	defer unsub()
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer r.Stop(context.Background())
	waitEvent(t, events, 10*time.Second, "an open gate", func(ev Event) bool { return ev.Kind == EventGate && ev.Gate.Open })
	m, err := r.Send(context.Background(), ChatRequest{Group: "main", Text: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := r.Wait(ctx, m.ID)
	if err != nil {
		t.Fatalf("the turn never ended (%d fresh Docker checks meanwhile): %v", checks.Load(), err)
	}
	if res.Text != "answered" {
		t.Errorf("answer: got %q, want %q", res.Text, "answered")
	}
	if n := checks.Load(); n != 0 {
		t.Errorf("fresh Docker checks during a runtime turn: got %d, want 0 (the monitor is the gate)", n)
	}
}

// TestFreshGateOneCheck: without a runtime (`berth exec`), a check takes one
// fresh reading, and a paused assistant needs none.
func TestFreshGateOneCheck(t *testing.T) {
	t.Parallel()
	var checks atomic.Int64
	engine := fakeEngine{check: func(context.Context, string, string) docker.Status {
		checks.Add(1)
		return docker.Status{State: docker.Ready}
	}}
	svc, _ := newService(t, engine)
	if st, err := svc.gate().Check(context.Background()); err != nil || !st.Open || checks.Load() != 1 {
		t.Fatalf("fresh gate: open %v, err %v, checks %d; want open, nil, 1", st.Open, err, checks.Load())
	}
	if err := svc.setPaused("lunch"); err != nil {
		t.Fatal(err)
	}
	st, err := svc.gate().Check(context.Background())
	if err == nil || st.Open || st.Paused != "lunch" || checks.Load() != 1 {
		t.Fatalf("paused: open %v, paused %q, err %v, checks %d", st.Open, st.Paused, err, checks.Load())
	}
}

// TestRuntimeForgetsOldResults: the results kept for Wait are bounded;
// before, every message ever sent kept its channel. (A small bound: each
// message is a real store write.)
func TestRuntimeForgetsOldResults(t *testing.T) {
	t.Parallel()
	svc, _ := newService(t, fakeEngine{})
	const keepResults = 16
	r := NewRuntime(svc, newFakeWatcher(docker.Status{State: docker.Down, Reason: "down"}), RuntimeConfig{KeepResults: keepResults})
	ctx := context.Background()
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer r.Stop(ctx)
	const n = keepResults + 50
	var last int64
	for i := range n {
		m, err := r.Send(ctx, ChatRequest{Group: "main", Session: "", Text: fmt.Sprintf("message %d", i)})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.CancelPending(ctx, m.ID); err != nil {
			t.Fatal(err)
		}
		last = m.ID
	}
	r.mu.Lock()
	kept := len(r.done)
	r.mu.Unlock()
	if kept > keepResults {
		t.Errorf("results kept after %d turns: got %d, want at most %d", n, kept, keepResults)
	}
	if _, err := r.Wait(ctx, last); err != nil {
		t.Errorf("the latest result is forgotten: %v", err)
	}
}

// TestRuntimePauseFlagFromOutside: a pause flag written by another process
// (not through the runtime) holds the next turn until it is lifted, with no
// retry loop: the turn waits for the gate.
func TestRuntimePauseFlagFromOutside(t *testing.T) {
	t.Parallel()
	svc, _ := newService(t, fakeEngine{})
	fake := fakeModel(t, svc)
	fake.Respond(func(llmtest.Request) llmtest.Reply { return llmtest.Reply{Text: []string{"ran"}} })
	r := NewRuntime(svc, newFakeWatcher(docker.Status{State: docker.Ready, Reason: "ready"}), RuntimeConfig{})
	events, unsub := r.Subscribe()
	defer unsub()
	ctx := context.Background()
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer r.Stop(ctx)
	waitEvent(t, events, 10*time.Second, "an open gate", func(ev Event) bool { return ev.Kind == EventGate && ev.Gate.Open })
	if err := svc.setPaused("from another process"); err != nil {
		t.Fatal(err)
	}
	m, err := r.Send(ctx, ChatRequest{Group: "main", Text: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	waitEvent(t, events, 10*time.Second, "the turn waiting for the gate", func(ev Event) bool {
		return ev.Kind == EventWaitGate && ev.MessageID == m.ID
	})
	if n := len(fake.Requests()); n != 0 {
		t.Fatalf("the model was asked %d times while paused", n)
	}
	if err := r.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	if res := wait(t, r, m.ID); res.Text != "ran" || res.Status != StatusDone {
		t.Errorf("after resume: %q %s", res.Text, res.Status)
	}
}

// slowReapEngine is an engine whose start-up reap waits for the test.
type slowReapEngine struct {
	fakeEngine
	reaping, release chan struct{}
}

func (e slowReapEngine) Reap(context.Context, string, time.Time) ([]docker.Sandbox, error) {
	close(e.reaping)
	<-e.release
	return nil, nil
}

// TestGateOpensAfterTheStartUpReap: the gate reads closed until the reap
// of the sandboxes a previous run left is over. Before, it read open as
// soon as Docker was ready, while the reap still ran: a sandbox made then
// (TestNetQuestionsGoToTheTurnsFace makes one as soon as the gate opens)
// was taken for a previous run's and stopped during its set-up ("sandbox
// is not running" at its first exec).
func TestGateOpensAfterTheStartUpReap(t *testing.T) {
	t.Parallel()
	engine := slowReapEngine{
		fakeEngine: fakeEngine{list: func(context.Context, docker.Filter) ([]docker.Sandbox, error) { return nil, nil }},
		reaping:    make(chan struct{}), release: make(chan struct{}),
	}
	svc, _ := newService(t, engine)
	r := NewRuntime(svc, newFakeWatcher(docker.Status{State: docker.Ready, Reason: "ready"}), RuntimeConfig{})
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer r.Stop(context.Background())
	<-engine.reaping
	if g := r.Gate(); g.Open {
		t.Errorf("the gate reads open while the start-up reap runs: %+v", g)
	}
	close(engine.release)
	deadline := time.Now().Add(10 * time.Second)
	for !r.Gate().Open {
		if time.Now().After(deadline) {
			t.Fatalf("the gate did not open after the reap: %+v", r.Gate())
		}
		time.Sleep(10 * time.Millisecond) // polling the gate
	}
}
