package assistant

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/berth-app/berth/app/agent"
	"github.com/berth-app/berth/app/store"
	"github.com/berth-app/berth/docker"
)

// GateWatcher is the Docker health monitor as the runtime needs it.
type GateWatcher interface {
	Subscribe() (<-chan docker.Status, func())
	Poke()
}

var _ GateWatcher = (*docker.Monitor)(nil)

// RuntimeConfig tunes a Runtime; zero values take the defaults.
type RuntimeConfig struct {
	MaxSandboxes int           // sandboxes running at once (default 4)
	Tick         time.Duration // how often idle sandboxes are looked for (default 15 s)
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
	state    GateState
	openCh   chan struct{} // closed while the gate is open
	queues   map[string]*groupQueue
	running  map[int64]*activeTurn // by message id
	done     map[int64]chan ChatResult
	busy     map[string]int       // sandbox id → tool calls running in it
	lastUsed map[string]time.Time // sandbox id → when a tool call last ended
	rotate   map[string]bool      // sessions whose sandbox goes once their turn ends
	reaped   bool                 // the dead process's sandboxes were stopped
}

type queuedTurn struct {
	req ChatRequest
	msg store.Message
}

type groupQueue struct {
	items []queuedTurn
	wake  chan struct{}
}

type activeTurn struct {
	cancel         context.CancelCauseFunc
	group, session string
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
	r := &Runtime{svc: svc, gate: gate, cfg: cfg,
		slots:  make(chan struct{}, cfg.MaxSandboxes),
		openCh: make(chan struct{}),
		queues: map[string]*groupQueue{}, running: map[int64]*activeTurn{}, done: map[int64]chan ChatResult{},
		busy: map[string]int{}, lastUsed: map[string]time.Time{}, rotate: map[string]bool{},
	}
	r.state = GateState{Docker: docker.Status{State: docker.Checking, Reason: "checking Docker…"}, Paused: svc.PausedReason()}
	svc.OnUse = r.onUse
	return r
}

// Subscribe returns the runtime's event stream; call cancel when done.
func (r *Runtime) Subscribe() (<-chan Event, func()) { return r.bus.subscribe() }

// Gate is the current gate state.
func (r *Runtime) Gate() GateState {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state
}

// Start recovers from a previous run (turns a crash left running are marked
// interrupted; pending messages are queued again), then watches the gate
// and idle sandboxes until Stop.
func (r *Runtime) Start(ctx context.Context) error {
	r.root, r.cancel = context.WithCancel(context.WithoutCancel(ctx))
	if err := r.svc.record(ctx, store.Event{Kind: "app.start", Summary: fmt.Sprintf("Berth started (pid %d)", os.Getpid()),
		Detail: mustJSON(map[string]any{"pid": os.Getpid()})}); err != nil {
		return err
	}
	if err := r.recover(ctx); err != nil {
		return err
	}
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
	r.cancel()
	r.wg.Wait()
	return r.svc.record(ctx, store.Event{Kind: "app.stop", Summary: "Berth stopped"})
}

// recover marks turns a crash left running as interrupted and queues the
// messages that were waiting.
func (r *Runtime) recover(ctx context.Context) error {
	left, err := r.svc.Store.MessagesWithStatus(ctx, StatusRunning)
	if err != nil {
		return err
	}
	for _, m := range left {
		if err := r.svc.Store.SetMessageStatus(ctx, m.ID, StatusInterrupted); err != nil {
			return err
		}
		ss, _ := r.svc.Store.Session(ctx, m.Session)
		if err := r.svc.record(ctx, store.Event{Group: ss.Group, Session: m.Session, Kind: "turn.interrupted",
			Summary: "Berth stopped while this turn ran; what it did up to then is in the audit log (its tool calls and results)", Detail: mustJSON(map[string]any{"message_id": m.ID})}); err != nil {
			return err
		}
	}
	pending, err := r.svc.Store.MessagesWithStatus(ctx, StatusPending)
	if err != nil {
		return err
	}
	for _, m := range pending {
		if m.Role != roleUser {
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
		return r.svc.record(ctx, store.Event{Group: t.group, Session: t.session, Kind: "turn.stop", Actor: store.ActorUser,
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
	r.finish(messageID, ChatResult{Session: found.req.Session, MessageID: messageID}, StatusCanceled, nil)
	return r.svc.record(ctx, store.Event{Group: found.req.Group, Session: found.req.Session, Kind: "message.cancel", Actor: store.ActorUser,
		Summary: "canceled a waiting message", Detail: mustJSON(map[string]any{"message_id": messageID})})
}

func (r *Runtime) enqueue(it queuedTurn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.done[it.msg.ID]; !ok {
		r.done[it.msg.ID] = make(chan ChatResult, 1)
	}
	q, ok := r.queues[it.req.Group]
	if !ok {
		q = &groupQueue{wake: make(chan struct{}, 1)}
		r.queues[it.req.Group] = q
		r.wg.Add(1)
		go r.worker(it.req.Group, q)
	}
	q.items = append(q.items, it)
	if pos := len(q.items); pos > 1 || r.runningIn(it.req.Group) {
		r.bus.publish(Event{Kind: EventQueued, Group: it.req.Group, Session: it.req.Session, MessageID: it.msg.ID, Position: pos})
	}
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (r *Runtime) runningIn(group string) bool {
	for _, t := range r.running {
		if t.group == group {
			return true
		}
	}
	return false
}

// worker runs one group's turns, in order.
func (r *Runtime) worker(group string, q *groupQueue) {
	defer r.wg.Done()
	for {
		r.mu.Lock()
		if len(q.items) == 0 {
			r.mu.Unlock()
			select {
			case <-q.wake:
				continue
			case <-r.root.Done():
				return
			}
		}
		it := q.items[0]
		r.mu.Unlock()
		if !r.waitOpen(it) || !r.takeSlot(it) {
			if r.root.Err() != nil {
				return
			}
			continue // canceled while waiting
		}
		r.mu.Lock()
		if len(q.items) == 0 || q.items[0].msg.ID != it.msg.ID {
			r.mu.Unlock()
			<-r.slots
			continue // canceled while waiting
		}
		q.items = q.items[1:]
		r.mu.Unlock()
		r.runTurn(it)
		<-r.slots
	}
}

// waitOpen waits for the gate; false if the message was canceled or the
// runtime stops meanwhile.
func (r *Runtime) waitOpen(it queuedTurn) bool {
	for {
		r.mu.Lock()
		open, ch := r.state.Open, r.openCh
		reason, _ := r.state.Reason()
		r.mu.Unlock()
		if open {
			return true
		}
		r.bus.publish(Event{Kind: EventWaitGate, Group: it.req.Group, Session: it.req.Session, MessageID: it.msg.ID, Text: reason})
		select {
		case <-ch:
		case <-r.root.Done():
			return false
		}
		if !r.stillQueued(it) {
			return false
		}
	}
}

func (r *Runtime) takeSlot(it queuedTurn) bool {
	select {
	case r.slots <- struct{}{}:
		return true
	default:
	}
	r.bus.publish(Event{Kind: EventWaitSlot, Group: it.req.Group, Session: it.req.Session, MessageID: it.msg.ID,
		Text: fmt.Sprintf("waiting for a free sandbox (%d running at most)", r.cfg.MaxSandboxes)})
	select {
	case r.slots <- struct{}{}:
		return true
	case <-r.root.Done():
		return false
	}
}

func (r *Runtime) stillQueued(it queuedTurn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	q := r.queues[it.req.Group]
	return q != nil && len(q.items) > 0 && q.items[0].msg.ID == it.msg.ID
}

// runTurn answers one message; a closing gate cancels it.
func (r *Runtime) runTurn(it queuedTurn) {
	ctx, cancel := context.WithCancelCause(r.root)
	defer cancel(nil)
	r.mu.Lock()
	r.running[it.msg.ID] = &activeTurn{cancel: cancel, group: it.req.Group, session: it.req.Session}
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.running, it.msg.ID)
		r.mu.Unlock()
	}()
	r.makeRoom(ctx, it.req.Session)
	r.bus.publish(Event{Kind: EventTurnStart, Group: it.req.Group, Session: it.req.Session, MessageID: it.msg.ID})
	req := it.req
	onEvent := req.OnEvent
	req.OnEvent = func(ev agent.Event) {
		if onEvent != nil {
			onEvent(ev)
		}
		e := ev
		r.bus.publish(Event{Kind: EventAgent, Group: req.Group, Session: req.Session, MessageID: it.msg.ID, Agent: &e})
	}
	res, err := r.svc.Answer(ctx, req, it.msg)
	var gc *GateClosedError
	if errors.As(err, &gc) {
		// The gate closed between the check and the start: wait again.
		_ = r.svc.Store.SetMessageStatus(context.WithoutCancel(ctx), it.msg.ID, StatusPending)
		r.mu.Lock()
		q := r.queues[it.req.Group]
		q.items = append([]queuedTurn{it}, q.items...)
		r.mu.Unlock()
		return
	}
	status := StatusDone
	switch {
	case ctx.Err() != nil || res.Turn.Interrupted:
		status = StatusInterrupted
	case err != nil:
		status = StatusFailed
	}
	r.mu.Lock()
	rot := r.rotate[it.req.Session]
	delete(r.rotate, it.req.Session)
	r.mu.Unlock()
	if rot {
		r.stopSession(context.WithoutCancel(ctx), it.req.Group, it.req.Session, "rotated")
	}
	r.finish(it.msg.ID, res, status, err)
}

func (r *Runtime) finish(id int64, res ChatResult, status string, err error) {
	ev := Event{Kind: EventTurnEnd, Session: res.Session, MessageID: id, Status: status, Text: res.Text}
	if err != nil {
		ev.Err = err.Error()
	}
	r.bus.publish(ev)
	r.mu.Lock()
	ch := r.done[id]
	r.mu.Unlock()
	if ch != nil {
		select {
		case ch <- res:
		default:
		}
	}
}

// setDocker takes a monitor reading and opens or closes the gate.
func (r *Runtime) setDocker(st docker.Status) {
	r.mu.Lock()
	prev := r.state.Docker
	r.state.Docker = st
	r.mu.Unlock()
	if prev.State != st.State && st.State != docker.Checking {
		_ = r.svc.record(r.root, store.Event{Kind: "docker." + string(st.State), Summary: st.Reason,
			Detail: mustJSON(map[string]any{"state": st.State, "reason": st.Reason, "hint": st.Hint, "host": st.Host})})
	}
	if st.State == docker.Ready {
		r.reapOnce()
	}
	r.update()
}

// update recomputes whether the gate is open and acts on a change.
func (r *Runtime) update() {
	r.mu.Lock()
	was := r.state.Open
	r.state.Open = r.state.Docker.State == docker.Ready && r.state.Paused == ""
	now := r.state
	var cancels []context.CancelCauseFunc
	if was && !now.Open {
		r.openCh = make(chan struct{})
		for _, t := range r.running {
			cancels = append(cancels, t.cancel)
		}
	}
	if !was && now.Open {
		close(r.openCh)
	}
	r.mu.Unlock()
	reason, _ := now.Reason()
	for _, c := range cancels {
		c(fmt.Errorf("%w: %s", ErrGateClosed, reason))
	}
	if was != now.Open || !now.Open {
		g := now
		r.bus.publish(Event{Kind: EventGate, Gate: &g, Text: reason})
	}
}

// Pause closes the gate with the user's reason: running turns are stopped
// and kept as interrupted; new messages wait.
func (r *Runtime) Pause(ctx context.Context, reason string) error {
	if reason == "" {
		reason = "paused by the user"
	}
	if err := r.svc.setPaused(reason); err != nil {
		return err
	}
	r.mu.Lock()
	r.state.Paused = reason
	r.mu.Unlock()
	r.update()
	return r.svc.record(ctx, store.Event{Kind: "assistant.paused", Actor: store.ActorUser, Summary: reason})
}

// Resume reopens the gate (if Docker is ready); waiting messages run.
func (r *Runtime) Resume(ctx context.Context) error {
	if err := r.svc.setPaused(""); err != nil {
		return err
	}
	r.mu.Lock()
	r.state.Paused = ""
	r.mu.Unlock()
	r.update()
	r.gate.Poke()
	return r.svc.record(ctx, store.Event{Kind: "assistant.resumed", Actor: store.ActorUser, Summary: "resumed by the user"})
}

// Recheck asks for a fresh reading of Docker now (a face's Retry button).
func (r *Runtime) Recheck() { r.gate.Poke() }

// onUse tracks which sandboxes run a tool call now and when each was last used.
func (r *Runtime) onUse(id string, busy bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if busy {
		r.busy[id]++
		return
	}
	if r.busy[id]--; r.busy[id] <= 0 {
		delete(r.busy, id)
	}
	r.lastUsed[id] = time.Now()
}

// chatSandboxes lists this installation's running chat sandboxes (the CLI's
// `berth exec` sandboxes are left to their own max age), least recently
// used first.
func (r *Runtime) chatSandboxes(ctx context.Context) ([]docker.Sandbox, error) {
	list, err := r.svc.Sandboxes(ctx)
	if err != nil {
		return nil, err
	}
	var out []docker.Sandbox
	for _, sb := range list {
		if sb.Running() && sb.Session != CLISession {
			out = append(out, sb)
		}
	}
	r.mu.Lock()
	last := func(sb docker.Sandbox) time.Time {
		if t, ok := r.lastUsed[sb.ID]; ok {
			return t
		}
		return sb.Created
	}
	sort.Slice(out, func(i, j int) bool { return last(out[i]).Before(last(out[j])) })
	r.mu.Unlock()
	return out, nil
}

// inUse reports whether a sandbox belongs to a running turn.
func (r *Runtime) inUse(sb docker.Sandbox) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.busy[sb.ID] > 0 {
		return true
	}
	for _, t := range r.running {
		if t.session == sb.Session {
			return true
		}
	}
	return false
}

// makeRoom stops the least recently used idle sandboxes so that a turn of
// session can have one without passing the cap.
func (r *Runtime) makeRoom(ctx context.Context, session string) {
	list, err := r.chatSandboxes(ctx)
	if err != nil {
		return
	}
	n := len(list)
	for _, sb := range list {
		if sb.Session == session {
			return // it has one already
		}
	}
	for _, sb := range list {
		if n < r.cfg.MaxSandboxes {
			return
		}
		if sb.Session != session && !r.inUse(sb) {
			if r.stopOne(ctx, sb, fmt.Sprintf("made room: at most %d sandboxes run at once", r.cfg.MaxSandboxes)) == nil {
				n--
			}
		}
	}
}

// sweep stops sandboxes idle longer than their group's idle timeout or past
// their max age.
func (r *Runtime) sweep(ctx context.Context) {
	list, err := r.chatSandboxes(ctx)
	if err != nil {
		return
	}
	now := time.Now()
	for _, sb := range list {
		if r.inUse(sb) {
			continue
		}
		idle := time.Duration(r.svc.Config.IdleTimeout)
		if g, err := r.svc.Group(ctx, sb.Group); err == nil && g.Settings.IdleTimeout > 0 {
			idle = time.Duration(g.Settings.IdleTimeout)
		}
		r.mu.Lock()
		last, ok := r.lastUsed[sb.ID]
		r.mu.Unlock()
		if !ok {
			last = sb.Created
		}
		switch {
		case sb.Expired(now):
			_ = r.stopOne(ctx, sb, "reached its max age")
		case idle > 0 && now.Sub(last) >= idle:
			_ = r.stopOne(ctx, sb, fmt.Sprintf("idle for %s", now.Sub(last).Round(time.Second)))
		}
	}
}

func (r *Runtime) stopOne(ctx context.Context, sb docker.Sandbox, why string) error {
	if err := r.svc.stop(ctx, sb, why); err != nil {
		return err
	}
	r.mu.Lock()
	delete(r.lastUsed, sb.ID)
	r.mu.Unlock()
	r.bus.publish(Event{Kind: EventSandboxStop, Group: sb.Group, Session: sb.Session, Text: sb.Name + ": " + why})
	return nil
}

func (r *Runtime) stopSession(ctx context.Context, group, session, why string) {
	list, err := r.svc.Engine.ListSandboxes(ctx, sessionFilter(r.svc, group, session))
	if err != nil {
		return
	}
	for _, sb := range list {
		_ = r.stopOne(ctx, sb, why)
	}
}

// Rotate replaces a group's sandboxes ("" for all): idle ones stop now,
// those in a running turn when the turn ends. The next turn starts fresh.
func (r *Runtime) Rotate(ctx context.Context, group string) (int, error) {
	list, err := r.chatSandboxes(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, sb := range list {
		if group != "" && sb.Group != group {
			continue
		}
		n++
		if r.inUse(sb) {
			r.mu.Lock()
			r.rotate[sb.Session] = true
			r.mu.Unlock()
			continue
		}
		if err := r.stopOne(ctx, sb, "rotated"); err != nil {
			return n, err
		}
	}
	return n, nil
}

// reapOnce removes, the first time Docker is ready, the sandboxes a previous
// Berth process left: its chat sandboxes (their turns are gone) and every
// dead or expired one.
func (r *Runtime) reapOnce() {
	r.mu.Lock()
	if r.reaped {
		r.mu.Unlock()
		return
	}
	r.reaped = true
	r.mu.Unlock()
	ctx := r.root
	if _, err := r.svc.Reap(ctx); err != nil {
		r.bus.publish(Event{Kind: EventError, Err: "reap sandboxes: " + err.Error()})
	}
	list, err := r.chatSandboxes(ctx)
	if err != nil {
		return
	}
	for _, sb := range list {
		if !r.inUse(sb) {
			_ = r.svc.record(ctx, store.Event{Group: sb.Group, Session: sb.Session, Kind: "sandbox.reap",
				Summary: fmt.Sprintf("removed orphaned sandbox %s left by a previous run", sb.Name), Detail: mustJSON(map[string]any{"id": sb.ID, "name": sb.Name})})
			_ = r.svc.Engine.StopSandbox(ctx, sb.ID)
		}
	}
}
