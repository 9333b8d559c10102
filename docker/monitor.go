package docker

import (
	"context"
	"sync"
	"time"

	"github.com/moby/moby/client"

	"github.com/berth-app/berth/docker/fanout"
)

// MonitorConfig tunes a Monitor. Zero values take the defaults.
type MonitorConfig struct {
	Image      string        // sandbox image that must be present for Ready
	Runtime    string        // container runtime that must be installed ("" = default)
	Interval   time.Duration // ping period while Ready (default 2 s)
	MinBackoff time.Duration // first retry delay while not Ready (default 200 ms)
	MaxBackoff time.Duration // longest retry delay while not Ready (default 1 s)
}

// Monitor watches the engine's health and tells subscribers about every
// transition, once each. It pings on a period and also holds the engine's
// event stream open while Ready: that stream ending is the fastest sign
// that the daemon has gone.
type Monitor struct {
	cfg   MonitorConfig
	check func(ctx context.Context, image, runtime string) Status
	watch func(ctx context.Context) error // blocks until the event stream ends

	mu      sync.Mutex
	current Status
	subs    fanout.Fanout[Status]
	poke    chan struct{}
	recheck chan chan Status // Recheck's requests, served by Run
}

// NewMonitor watches c. Call Run to start it.
func NewMonitor(c *Client, cfg MonitorConfig) *Monitor {
	return newMonitor(cfg, c.Check, c.watchEvents)
}

func newMonitor(cfg MonitorConfig, check func(context.Context, string, string) Status, watch func(context.Context) error) *Monitor {
	if cfg.Interval <= 0 {
		cfg.Interval = 2 * time.Second
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 200 * time.Millisecond
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = time.Second
	}
	return &Monitor{
		cfg: cfg, check: check, watch: watch,
		current: Status{State: Checking, Reason: "checking Docker…", Image: cfg.Image, Since: time.Now()},
		poke:    make(chan struct{}, 1),
		recheck: make(chan chan Status),
	}
}

// Current is the latest reading.
func (m *Monitor) Current() Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.current
}

// Poke asks for a new reading now (after an image build, a settings change,
// or a user clicking Retry).
func (m *Monitor) Poke() {
	select {
	case m.poke <- struct{}{}:
	default:
	}
}

// recheckWait bounds how long Recheck waits for Run (a check takes at
// most 3 s; one may be under way).
const recheckWait = 10 * time.Second

// Recheck takes a fresh reading now, after any check already under way,
// publishes it as Run does, and returns it: for a caller that saw the
// engine fail and must not wait for the next ping. If Run does not serve
// it in time (it is not running, ctx ends), Recheck returns the latest
// reading.
func (m *Monitor) Recheck(ctx context.Context) Status {
	ctx, cancel := context.WithTimeout(ctx, recheckWait)
	defer cancel()
	reply := make(chan Status, 1)
	select {
	case m.recheck <- reply:
	case <-ctx.Done():
		return m.Current()
	}
	select {
	case st := <-reply:
		return st
	case <-ctx.Done():
		return m.Current()
	}
}

// SetImage changes the sandbox image and the container runtime ("" for the
// default) that Ready requires, and re-checks at once when they changed.
func (m *Monitor) SetImage(image, runtime string) {
	m.mu.Lock()
	changed := m.cfg.Image != image || m.cfg.Runtime != runtime
	m.cfg.Image, m.cfg.Runtime = image, runtime
	m.mu.Unlock()
	if changed {
		m.Poke()
	}
}

// Run checks and watches until ctx ends.
func (m *Monitor) Run(ctx context.Context) {
	backoff := m.cfg.MinBackoff
	// streamEnded is closed when the event stream ends; nil while no stream
	// is being watched. A watcher ends by itself or with ctx.
	var streamEnded chan struct{}
	var asked []chan Status // Recheck's callers waiting for this check
	for {
		m.mu.Lock()
		image, runtime := m.cfg.Image, m.cfg.Runtime
		m.mu.Unlock()
		st := m.check(ctx, image, runtime)
		if ctx.Err() != nil {
			return
		}
		m.publish(st)
		for _, reply := range asked {
			reply <- st
		}
		asked = nil

		var wait time.Duration
		if st.State == Ready {
			backoff = m.cfg.MinBackoff
			wait = m.cfg.Interval
			if streamEnded == nil {
				streamEnded = make(chan struct{})
				go func(done chan struct{}) {
					_ = m.watch(ctx)
					close(done)
				}(streamEnded)
			}
		} else {
			wait = backoff
			backoff = min(backoff*2, m.cfg.MaxBackoff)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		case <-m.poke:
			t.Stop()
		case reply := <-m.recheck:
			t.Stop()
			asked = append(asked, reply)
		case <-streamEnded: // nil (blocks forever) when not watching
			t.Stop()
			streamEnded = nil
		}
	}
}

// publish records a reading and tells subscribers if the situation changed.
func (m *Monitor) publish(st Status) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if st.Same(m.current) {
		return
	}
	m.current = st
	m.subs.Publish(st)
}

// Subscribe returns a channel that receives the current status at once and
// then every transition, in order, none dropped however slow the reader.
// Call cancel when done.
func (m *Monitor) Subscribe() (<-chan Status, func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.subs.Subscribe(m.current)
}

// watchEvents holds the engine's event stream open until it ends. Only
// Berth's containers are asked for, to keep the stream quiet.
func (c *Client) watchEvents(ctx context.Context) error {
	res := c.api.Events(ctx, client.EventsListOptions{Filters: client.Filters{}.Add("label", LabelApp+"=1")})
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case _, ok := <-res.Messages:
			if !ok {
				return nil
			}
		case err := <-res.Err:
			return err
		}
	}
}
