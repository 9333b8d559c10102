package assistant

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/berth-app/berth/app/egress"
	"github.com/berth-app/berth/app/store"
	"github.com/berth-app/berth/docker"
)

// GateWatcher is the Docker health monitor as the runtime needs it.
type GateWatcher interface {
	Subscribe() (<-chan docker.Status, func())
	Poke()
	// Recheck takes a fresh reading now, publishes it and returns it.
	Recheck(ctx context.Context) docker.Status
	// SetImage changes the image and container runtime Ready requires.
	SetImage(image, runtime string)
}

var _ GateWatcher = (*docker.Monitor)(nil)

// RuntimeConfig tunes a Runtime; zero values take the defaults.
type RuntimeConfig struct {
	MaxSandboxes int           // sandboxes running at once (default 4)
	Tick         time.Duration // how often idle sandboxes are looked for (default 15 s)
	// OneShot is a runtime for one CLI command (`berth chat`): it runs only
	// the turns sent to it (earlier pending messages wait for a long-running
	// Berth) and leaves the chat sandboxes of other runs alone.
	OneShot bool
	// NetLimits bound the sandboxes' connections in allowlist mode
	// (egress.Limits; zero values take its defaults).
	NetLimits egress.Limits
	// NetResolve resolves the destinations of the sandboxes' connections;
	// nil is the host's resolver. (The isolation suite answers the way an
	// attacker's DNS would.)
	NetResolve func(ctx context.Context, host string) ([]netip.Addr, error)
	// KeepResults is how many ended turns Wait can still be asked about
	// (default 256).
	KeepResults int
}

// Runtime is the long-running assistant: one queue per group (turns of a
// group run in order), a cap on sandboxes running at once, the gate in
// action (a closed gate cancels running turns and holds new ones until it
// opens), idle sandboxes stopped, and an event stream for the faces.
type Runtime struct {
	// OnShow, when set, brings the app's window forward (a second launch
	// asks for it through the control socket).
	OnShow func()

	svc  *Service
	gate GateWatcher
	cfg  RuntimeConfig
	bus  bus

	root   context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	slots  chan struct{}

	mu       sync.Mutex
	roomMu   sync.Mutex    // held by makeRoom: one turn at a time counts the sandboxes
	docker   docker.Status // the monitor's latest reading; the pause is the service's
	disk     *diskFull     // set while a disk is almost full (see runtime_disk.go)
	open     bool          // the gate as last acted on (see update)
	openCh   chan struct{} // closed while the gate is open
	queues   map[string]*groupQueue
	running  map[int64]*activeTurn     // by message id
	done     map[int64]chan ChatResult // results of turns, for Wait
	ended    []int64                   // ids in done whose turn ended, oldest first
	busy     map[string]int            // sandbox id → tool calls running in it
	lastUsed map[string]time.Time      // sandbox id → when a tool call last ended
	rotate   map[string]bool           // sessions whose sandbox goes once their turn ends
	reap     sync.Once                 // stops the dead process's sandboxes, before the gate first opens
	sched    *Scheduler                // scheduled tasks, reached by the control socket
	net      *netServer                // sandboxes' connections and network questions (egress.go)
}

// ErrGateClosed is the cause given to turns canceled by a closing gate.
var ErrGateClosed = errors.New("the assistant was blocked")

// NewRuntime wraps a service. Call Start, then Send.
func NewRuntime(svc *Service, gate GateWatcher, cfg RuntimeConfig) *Runtime {
	if cfg.MaxSandboxes <= 0 {
		cfg.MaxSandboxes = 4
	}
	if cfg.Tick <= 0 {
		cfg.Tick = 15 * time.Second
	}
	if cfg.KeepResults <= 0 {
		cfg.KeepResults = defaultKeepResults
	}
	r := &Runtime{svc: svc, gate: gate, cfg: cfg,
		slots:  make(chan struct{}, cfg.MaxSandboxes),
		openCh: make(chan struct{}),
		queues: map[string]*groupQueue{}, running: map[int64]*activeTurn{}, done: map[int64]chan ChatResult{},
		busy: map[string]int{}, lastUsed: map[string]time.Time{}, rotate: map[string]bool{},
	}
	r.net = newNetServer(svc)
	r.net.open = func() bool { return r.Gate().Open }
	r.net.ask, r.net.limits, r.net.resolve = r.askNet, cfg.NetLimits, cfg.NetResolve
	r.docker = docker.Status{State: docker.Checking, Reason: "checking Docker…"}
	svc.OnUse = r.onUse
	svc.Gate = runtimeGate{r}
	svc.onDiskLow = func(d diskFull) { r.setDisk(&d) }
	return r
}

// Subscribe returns the runtime's event stream; call cancel when done.
func (r *Runtime) Subscribe() (<-chan Event, func()) { return r.bus.subscribe() }

// Gate is the current gate state: the monitor's latest reading and the
// pause flag.
func (r *Runtime) Gate() GateState {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.gateLocked()
}

func (r *Runtime) gateLocked() GateState { return newGateState(r.docker, r.svc.PausedReason(), r.disk) }

// runtimeGate is the service's gate inside a runtime: the monitor's latest
// reading, no extra call to Docker.
type runtimeGate struct{ r *Runtime }

func (g runtimeGate) Check(context.Context) (GateState, error) {
	g.r.checkDisk() // a statfs or two: the disks are read at each check
	st := g.r.Gate()
	return st, st.err()
}

func (g runtimeGate) Recheck(ctx context.Context) (GateState, error) {
	g.r.recheck(ctx)
	return g.Check(ctx)
}

// Start recovers from a previous run (turns a crash left running are marked
// interrupted; pending messages are queued again), then watches the gate
// and idle sandboxes until Stop.
func (r *Runtime) Start(ctx context.Context) error {
	r.root, r.cancel = context.WithCancel(context.WithoutCancel(ctx))
	if err := r.svc.record(ctx, store.Event{Kind: AuditAppStart, Summary: fmt.Sprintf("Berth started (pid %d)", os.Getpid()),
		Detail: mustJSON(map[string]any{"pid": os.Getpid(), "one_shot": r.cfg.OneShot})}); err != nil {
		return err
	}
	if err := r.recoverTurns(ctx); err != nil {
		return err
	}
	r.net.ctx = r.root
	r.net.start()
	ch, unsub := r.gate.Subscribe()
	r.wg.Add(2)
	go func() {
		defer r.wg.Done()
		defer unsub()
		for {
			select {
			case st, ok := <-ch:
				if !ok {
					return
				}
				r.setDocker(st)
			case <-r.root.Done():
				return
			}
		}
	}()
	go func() {
		defer r.wg.Done()
		t := time.NewTicker(r.cfg.Tick)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				r.checkDisk()
				r.sweep(r.root)
			case <-r.root.Done():
				return
			}
		}
	}()
	return nil
}

// Stop cancels running turns (they are stored as interrupted), waits for the
// workers and records the stop.
func (r *Runtime) Stop(ctx context.Context) error {
	r.mu.Lock()
	for _, t := range r.running {
		t.cancel(errors.New("berth is stopping"))
	}
	r.mu.Unlock()
	r.net.stop()
	r.cancel()
	r.wg.Wait()
	return r.svc.record(ctx, store.Event{Kind: AuditAppStop, Summary: "Berth stopped"})
}

// recoverTurns marks turns a crash left running as interrupted and queues the
// messages that were waiting.
func (r *Runtime) recoverTurns(ctx context.Context) error {
	left, err := r.svc.Store.MessagesWithStatus(ctx, StatusRunning)
	if err != nil {
		return err
	}
	for _, m := range left {
		if err := r.svc.Store.SetMessageStatus(ctx, m.ID, StatusInterrupted); err != nil {
			return err
		}
		ss, _ := r.svc.Store.Session(ctx, m.Session)
		if err := r.svc.record(ctx, store.Event{Group: ss.Group, Session: m.Session, Kind: AuditTurnInterrupted,
			Summary: "Berth stopped while this turn ran; what it did up to then is in the audit log (its tool calls and results)", Detail: mustJSON(map[string]any{"message_id": m.ID})}); err != nil {
			return err
		}
	}
	if r.cfg.OneShot {
		return nil // pending messages wait for a long-running Berth
	}
	pending, err := r.svc.Store.MessagesWithStatus(ctx, StatusPending)
	if err != nil {
		return err
	}
	for _, m := range pending {
		if m.Role != RoleUser {
			continue
		}
		ss, err := r.svc.Store.Session(ctx, m.Session)
		if err != nil {
			continue
		}
		r.enqueue(queuedTurn{req: ChatRequest{Group: ss.Group, Session: ss.ID, Text: m.Content}, msg: m})
	}
	return nil
}

// Send stores a message (before anything else) and queues its turn. It
// returns at once; progress arrives on the event stream, and Wait returns
// the outcome. The request's Approve and OnEvent are used for this turn.
func (r *Runtime) Send(ctx context.Context, req ChatRequest) (store.Message, error) {
	msg, err := r.svc.Submit(ctx, &req)
	if err != nil {
		return msg, err
	}
	r.enqueue(queuedTurn{req: req, msg: msg})
	return msg, nil
}

// Wait blocks until the turn of a message sent or recovered by this runtime
// ends, and returns how it ended.
func (r *Runtime) Wait(ctx context.Context, messageID int64) (ChatResult, error) {
	r.mu.Lock()
	ch, ok := r.done[messageID]
	r.mu.Unlock()
	if !ok {
		return ChatResult{}, fmt.Errorf("message %d is not queued", messageID)
	}
	select {
	case res := <-ch:
		ch <- res // others may wait too
		return res, nil
	case <-ctx.Done():
		return ChatResult{}, ctx.Err()
	}
}

// ErrStoppedByUser is the cause given to a turn the user stopped.
var ErrStoppedByUser = errors.New("stopped by the user")

// Cancel stops a message's turn: a running one is cancelled and kept as
// interrupted with its partial answer; a waiting one is taken off its queue.
func (r *Runtime) Cancel(ctx context.Context, messageID int64) error {
	r.mu.Lock()
	t, ok := r.running[messageID]
	r.mu.Unlock()
	if ok {
		t.cancel(ErrStoppedByUser)
		return r.svc.record(ctx, store.Event{Group: t.group, Session: t.session, Kind: AuditTurnStop, Actor: store.ActorUser,
			Summary: "stopped a running turn", Detail: mustJSON(map[string]any{"message_id": messageID})})
	}
	return r.CancelPending(ctx, messageID)
}

// CancelPending takes a waiting message off its queue; it is kept, marked
// canceled.
func (r *Runtime) CancelPending(ctx context.Context, messageID int64) error {
	r.mu.Lock()
	var found *queuedTurn
	for _, q := range r.queues {
		for i, it := range q.items {
			if it.msg.ID == messageID {
				found = &it
				q.items = append(q.items[:i], q.items[i+1:]...)
				break
			}
		}
	}
	r.mu.Unlock()
	if found == nil {
		return fmt.Errorf("message %d is not waiting", messageID)
	}
	if err := r.svc.Store.SetMessageStatus(ctx, messageID, StatusCanceled); err != nil {
		return err
	}
	r.finish(messageID, ChatResult{Session: found.req.Session, MessageID: messageID, Status: StatusCanceled})
	return r.svc.record(ctx, store.Event{Group: found.req.Group, Session: found.req.Session, Kind: AuditMessageCancel, Actor: store.ActorUser,
		Summary: "canceled a waiting message", Detail: mustJSON(map[string]any{"message_id": messageID})})
}
