package docker

import (
	"context"
	"sync"
	"testing"
	"time"
)

// fakeEngine scripts what each health check finds.
type fakeEngine struct {
	mu       sync.Mutex
	state    State
	streams  chan struct{} // closed to end the current event stream
	checks   int           // health checks so far
	watching chan struct{} // receives once each time a stream is open (when not nil)
}

// checked is how many health checks the monitor has made.
func (f *fakeEngine) checked() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.checks
}

func (f *fakeEngine) set(s State) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.state = s
	if s != Ready && f.streams != nil {
		close(f.streams)
		f.streams = nil
	}
}

func (f *fakeEngine) check(ctx context.Context, image, runtime string) Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.checks++
	return Status{State: f.state, Reason: string(f.state)}
}

func (f *fakeEngine) watch(ctx context.Context) error {
	f.mu.Lock()
	ch := make(chan struct{})
	f.streams = ch
	watching := f.watching
	f.mu.Unlock()
	if watching != nil {
		select {
		case watching <- struct{}{}:
		case <-ctx.Done():
		}
	}
	select {
	case <-ch:
	case <-ctx.Done():
	}
	return nil
}

func next(t *testing.T, ch <-chan Status) Status {
	t.Helper()
	select {
	case st := <-ch:
		return st
	case <-time.After(5 * time.Second):
		t.Fatal("no transition within 5 s")
		return Status{}
	}
}

func TestMonitorReportsEachTransitionOnce(t *testing.T) {
	t.Parallel()
	f := &fakeEngine{state: Ready, watching: make(chan struct{})}
	// A long interval: only the event stream ending can make the monitor
	// notice the engine went down.
	m := newMonitor(MonitorConfig{Interval: time.Hour, MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond}, f.check, f.watch)
	ch, cancel := m.Subscribe()
	defer cancel()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan struct{})
	go func() { m.Run(ctx); close(done) }()

	if st := next(t, ch); st.State != Checking {
		t.Fatalf("first: got %s, want checking", st.State)
	}
	if st := next(t, ch); st.State != Ready {
		t.Fatalf("got %s, want ready", st.State)
	}
	select {
	case <-f.watching:
	case <-time.After(5 * time.Second):
		t.Fatal("the monitor did not open the event stream within 5 s")
	}
	f.set(Down)
	if st := next(t, ch); st.State != Down {
		t.Fatalf("got %s, want down after the stream ended", st.State)
	}
	// Many checks while down: none of them is a transition.
	for since := f.checked(); f.checked() < since+5; {
		select {
		case st := <-ch:
			t.Fatalf("a transition while down: %+v", st)
		case <-time.After(time.Millisecond):
		}
	}
	f.set(Ready)
	if st := next(t, ch); st.State != Ready {
		t.Fatalf("got %s, want ready again", st.State)
	}
	// Stop the monitor, then publish a marker: any extra transition would
	// have been queued before it.
	stop()
	<-done
	m.publish(Status{State: Misconfigured, Reason: "marker"})
	if st := next(t, ch); st.Reason != "marker" {
		t.Fatalf("unexpected extra transition %+v", st)
	}
}

func TestMonitorSlowSubscriberLosesNothing(t *testing.T) {
	t.Parallel()
	m := newMonitor(MonitorConfig{}, nil, nil)
	ch, cancel := m.Subscribe()
	defer cancel()
	states := []State{Ready, Down, Misconfigured, Ready, Down, Ready}
	for i, s := range states {
		m.publish(Status{State: s, Reason: string(s) + string(rune('a'+i))})
	}
	if st := next(t, ch); st.State != Checking {
		t.Fatalf("got %s, want the current state first", st.State)
	}
	for _, want := range states {
		if st := next(t, ch); st.State != want {
			t.Fatalf("got %s, want %s", st.State, want)
		}
	}
}

func TestMonitorPokeChecksAtOnce(t *testing.T) {
	t.Parallel()
	f := &fakeEngine{state: Misconfigured}
	m := newMonitor(MonitorConfig{Interval: time.Hour, MinBackoff: time.Hour, MaxBackoff: time.Hour}, f.check, f.watch)
	ch, cancel := m.Subscribe()
	defer cancel()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go m.Run(ctx)
	next(t, ch) // checking
	if st := next(t, ch); st.State != Misconfigured {
		t.Fatalf("got %s, want misconfigured", st.State)
	}
	f.set(Ready) // e.g. the image was just built
	m.Poke()
	if st := next(t, ch); st.State != Ready {
		t.Fatalf("got %s, want ready after Poke", st.State)
	}
}

// TestMonitorRecheckReadsAfterTheFailure: a caller that saw the engine
// fail asks for a fresh reading while a check that began before the
// failure is still under way. Recheck returns the reading of a check made
// after its call (Down), not that stale one (Ready), and subscribers get it
// too; the event stream never ended, so nothing else told the monitor.
func TestMonitorRecheckReadsAfterTheFailure(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	state, checks := Ready, 0
	inSecond, release := make(chan struct{}), make(chan struct{})
	check := func(context.Context, string, string) Status {
		mu.Lock()
		checks++
		n, s := checks, state
		mu.Unlock()
		if n == 2 { // read before the failure, ends after it
			close(inSecond)
			<-release
		}
		return Status{State: s, Reason: string(s)}
	}
	watch := func(ctx context.Context) error { <-ctx.Done(); return nil } // a stream that stays open
	m := newMonitor(MonitorConfig{Interval: time.Hour}, check, watch)
	ch, cancel := m.Subscribe()
	defer cancel()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go m.Run(ctx)
	next(t, ch) // checking
	if st := next(t, ch); st.State != Ready {
		t.Fatalf("got %s, want ready", st.State)
	}
	m.Poke()
	<-inSecond
	mu.Lock()
	state = Down
	mu.Unlock()
	got := make(chan Status)
	go func() { got <- m.Recheck(context.Background()) }()
	close(release)
	select {
	case st := <-got:
		if st.State != Down {
			t.Fatalf("Recheck: got %s, want down (a reading taken after the call)", st.State)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Recheck did not return within 5 s")
	}
	if st := next(t, ch); st.State != Down {
		t.Fatalf("subscribers: got %s, want down", st.State)
	}
}

// TestMonitorRecheckWithoutRun returns the latest reading when no Run
// serves the request before ctx ends.
func TestMonitorRecheckWithoutRun(t *testing.T) {
	t.Parallel()
	m := newMonitor(MonitorConfig{}, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if st := m.Recheck(ctx); st.State != Checking {
		t.Fatalf("got %s, want the current reading (checking)", st.State)
	}
}
