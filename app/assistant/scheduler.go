package assistant

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/berth-app/berth/app/agent"
	"github.com/berth-app/berth/app/store"
	"github.com/berth-app/berth/app/tasks"
)

// Runtime event kinds of scheduled tasks.
const (
	EventTaskStart    = "task_start"    // Text: a task run started (Session is its chat)
	EventTaskApproval = "task_approval" // Text: an unattended run waits for an approval
	EventTaskEnd      = "task_end"      // Status (a Run… outcome), Text: a task run ended
)

// TaskApprover asks the user about a call of an unattended run in a chat.
type TaskApprover func(ctx context.Context, group, session string, req agent.ApprovalRequest) (agent.Approval, error)

// DefaultSchedulerTick is how often the scheduler looks for due tasks.
const DefaultSchedulerTick = 10 * time.Second

// Scheduler runs a Runtime's scheduled tasks. A due task becomes a message
// in its group's queue, so the gate, the sandbox cap, the group's mounts,
// approval mode and network policy apply exactly as for a typed one. While
// the gate is closed nothing starts: the task stays due and is decided when
// the gate opens (run late within its catch-up window, else skipped).
type Scheduler struct {
	// Now is the clock (tests move it by hand and call CheckDue).
	Now func() time.Time
	// Tick is how often due tasks are looked for (default 10 s).
	Tick time.Duration
	// Approve answers the approvals of unattended runs (the desktop app
	// shows the run's chat with the approval card). nil: nobody can answer,
	// so such a call is denied at once and the run ends as "needs approval".
	Approve TaskApprover

	rt   *Runtime
	svc  *Service
	poke chan struct{}
	stop <-chan struct{} // Start's context: runs in flight stop following their turn
	wg   sync.WaitGroup

	mu      sync.Mutex
	running map[string]bool // task id → a run is in flight
}

// NewScheduler makes the scheduler of a runtime; call Start.
func NewScheduler(rt *Runtime) *Scheduler {
	sc := &Scheduler{rt: rt, svc: rt.svc, poke: make(chan struct{}, 1), running: map[string]bool{}}
	rt.AttachScheduler(sc)
	return sc
}

func (sc *Scheduler) now() time.Time {
	if sc.Now != nil {
		return sc.Now()
	}
	return time.Now()
}

// Start ends the runs a crash left open, then looks for due tasks every
// Tick and whenever the gate opens, until ctx ends. Stop waits for it.
func (sc *Scheduler) Start(ctx context.Context) error {
	if err := sc.recoverRuns(ctx); err != nil {
		return err
	}
	sc.mu.Lock()
	sc.stop = ctx.Done()
	sc.mu.Unlock()
	events, unsub := sc.rt.Subscribe()
	tick := cmp.Or(sc.Tick, DefaultSchedulerTick)
	sc.wg.Add(1)
	go func() {
		defer sc.wg.Done()
		defer unsub()
		t := time.NewTicker(tick)
		defer t.Stop()
		sc.checkLogged(ctx)
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-events:
				if !ok {
					return
				}
				if ev.Kind == EventGate && ev.Gate != nil && ev.Gate.Open {
					sc.checkLogged(ctx)
				}
			case <-t.C:
				sc.checkLogged(ctx)
			case <-sc.poke:
				sc.checkLogged(ctx)
			}
		}
	}()
	return nil
}

// Wait blocks until the loop and every run in flight have ended (after the
// Start context is done, or for tests, once the runs end).
func (sc *Scheduler) Wait() { sc.wg.Wait() }

// Poke makes the loop look for due tasks now (after a task was added).
func (sc *Scheduler) Poke() {
	select {
	case sc.poke <- struct{}{}:
	default:
	}
}

func (sc *Scheduler) checkLogged(ctx context.Context) {
	if err := sc.CheckDue(ctx); err != nil && ctx.Err() == nil {
		sc.rt.bus.publish(Event{Kind: EventError, Err: "scheduled tasks: " + err.Error()})
	}
}

// recoverRuns ends the runs that a crash left "running".
func (sc *Scheduler) recoverRuns(ctx context.Context) error {
	ts, err := sc.svc.taskStore()
	if err != nil {
		return err
	}
	left, err := ts.TaskRunsWithOutcome(ctx, RunRunning)
	if err != nil {
		return err
	}
	for _, run := range left {
		run.Outcome, run.Detail, run.Finished = RunFailed, "Berth stopped while this run was going on", sc.now()
		if err := ts.UpdateTaskRun(ctx, run); err != nil {
			return err
		}
	}
	return nil
}

// CheckDue looks at every enabled task once, at Now: each due one is run,
// run late, or skipped (see tasks.Decide). Nothing starts while the gate is
// closed.
func (sc *Scheduler) CheckDue(ctx context.Context) error {
	if !sc.rt.Gate().Open {
		return nil
	}
	all, err := sc.svc.Tasks(ctx, "")
	if err != nil {
		return err
	}
	var errs []error
	for _, t := range all {
		if !t.Enabled || sc.isRunning(t.ID) {
			continue
		}
		now := sc.now()
		d, due := tasks.Decide(t.Schedule, t.NextRun, now, t.CatchUp)
		if !due {
			continue
		}
		if err := sc.decide(ctx, t, d); err != nil {
			errs = append(errs, fmt.Errorf("task %s: %w", t.ID, err))
		}
	}
	return errors.Join(errs...)
}

// decide moves the task's next run on first — so that a crash cannot run
// it twice — then starts or skips the run that was due.
func (sc *Scheduler) decide(ctx context.Context, t Task, d tasks.Decision) error {
	ts, _ := sc.svc.taskStore()
	t.NextRun = d.Next
	if err := ts.UpdateTask(ctx, t.Task); err != nil {
		return err
	}
	detail := map[string]any{"task": t.ID, "title": t.Title, "schedule": t.Expr, "due": d.Due.Format(time.RFC3339),
		"late_s": int64(d.Late / time.Second), "missed": d.Missed, "next": optRFC3339(d.Next)}
	if err := sc.svc.record(ctx, store.Event{Group: t.Group, Kind: AuditTaskDue,
		Summary: fmt.Sprintf("task %q is due (%s)", t.Title, d.Due.In(t.Schedule.Loc).Format("Mon 2 Jan 15:04")), Detail: mustJSON(detail)}); err != nil {
		return err
	}
	if d.Action == tasks.Skip {
		why := fmt.Sprintf("missed by %s while Berth was away or blocked; the catch-up window is %s", roundDur(d.Late), roundDur(t.CatchUp))
		if _, err := ts.AddTaskRun(ctx, store.TaskRun{Task: t.ID, Due: d.Due, Outcome: RunSkipped, Detail: why, Late: d.Late, Finished: sc.now()}); err != nil {
			return err
		}
		return sc.svc.record(ctx, store.Event{Group: t.Group, Kind: AuditTaskSkipped, Summary: fmt.Sprintf("skipped task %q: %s", t.Title, why), Detail: mustJSON(detail)})
	}
	if d.Action == tasks.RunLate {
		if err := sc.svc.record(ctx, store.Event{Group: t.Group, Kind: AuditTaskLate,
			Summary: fmt.Sprintf("task %q runs %s late", t.Title, roundDur(d.Late)), Detail: mustJSON(detail)}); err != nil {
			return err
		}
	}
	_, err := sc.start(ctx, t, d.Due, d.Late)
	return err
}

// RunNow starts a task's run at once (the user's "Run now"), whatever its
// schedule; its next scheduled run stays as it was.
func (sc *Scheduler) RunNow(ctx context.Context, id string) (store.TaskRun, error) {
	t, err := sc.svc.Task(ctx, id)
	if err != nil {
		return store.TaskRun{}, err
	}
	if sc.isRunning(id) {
		return store.TaskRun{}, fmt.Errorf("task %q is running already", t.Title)
	}
	return sc.start(ctx, t, sc.now(), 0)
}

func (sc *Scheduler) isRunning(id string) bool {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return sc.running[id]
}

// start sends the task's prompt as a message of its chat and follows the
// turn to its end in the background.
func (sc *Scheduler) start(ctx context.Context, t Task, due time.Time, late time.Duration) (store.TaskRun, error) {
	ts, _ := sc.svc.taskStore()
	session, err := sc.runSession(ctx, ts, t, due)
	if err != nil {
		return store.TaskRun{}, err
	}
	run, err := ts.AddTaskRun(ctx, store.TaskRun{Task: t.ID, Due: due, Started: sc.now(), Outcome: RunRunning, SessionID: session, Late: late})
	if err != nil {
		return run, err
	}
	sc.mu.Lock()
	sc.running[t.ID] = true
	sc.mu.Unlock()

	events, unsub := sc.rt.Subscribe() // before Send, so the turn's end cannot be missed
	var needsApproval atomic.Bool
	msg, err := sc.rt.Send(ctx, ChatRequest{Group: t.Group, Session: session, Text: t.Prompt, Approve: sc.approver(t, session, &needsApproval)})
	if err != nil {
		unsub()
		sc.end(context.WithoutCancel(ctx), t, run, RunFailed, err.Error())
		return run, err
	}
	run.MessageID = msg.ID
	_ = ts.UpdateTaskRun(ctx, run)
	if err := sc.svc.record(ctx, store.Event{Group: t.Group, Session: session, Kind: AuditTaskStarted,
		Summary: fmt.Sprintf("task %q started", t.Title), Detail: mustJSON(map[string]any{"task": t.ID, "run": run.ID,
			"message_id": msg.ID, "schedule": t.Expr, "late_s": int64(late / time.Second)})}); err != nil {
		unsub()
		return run, err
	}
	sc.rt.bus.publish(Event{Kind: EventTaskStart, Group: t.Group, Session: session, MessageID: msg.ID, Text: t.Title})

	sc.mu.Lock()
	stop := sc.stop
	sc.mu.Unlock()
	sc.wg.Add(1)
	go func() {
		defer sc.wg.Done()
		defer unsub()
		outcome, why := RunFailed, "Berth stopped before the run ended; its message runs when Berth starts again"
	follow:
		for {
			select {
			case ev, ok := <-events:
				if !ok {
					break follow
				}
				if ev.Kind == EventTurnEnd && ev.MessageID == msg.ID {
					outcome, why = runOutcome(ev, needsApproval.Load())
					break follow
				}
			case <-stop:
				break follow
			}
		}
		sc.end(context.WithoutCancel(ctx), t, run, outcome, why)
	}()
	return run, nil
}

// runSession is the chat a run writes to: a new one per run, or the task's
// own chat (made on its first run, and again if the user deleted it).
func (sc *Scheduler) runSession(ctx context.Context, ts TaskStore, t Task, due time.Time) (string, error) {
	name := fmt.Sprintf("⏰ %s · %s", t.Title, due.In(t.Schedule.Loc).Format("Jan 2 15:04"))
	if t.Context == TaskChat {
		if t.SessionID != "" {
			if _, err := sc.svc.Session(ctx, t.SessionID); err == nil {
				return t.SessionID, nil
			}
		}
		name = "⏰ " + t.Title
	}
	ss, err := sc.svc.NewSession(ctx, t.Group, name)
	if err != nil {
		return "", err
	}
	if t.Context == TaskChat {
		t.SessionID = ss.ID
		if err := ts.UpdateTask(ctx, t.Task); err != nil {
			return "", err
		}
	}
	return ss.ID, nil
}

// approver asks the face (bounded by the task's approval wait) for the
// calls of an unattended run that need a click.
func (sc *Scheduler) approver(t Task, session string, needs *atomic.Bool) agent.Approver {
	return func(ctx context.Context, req agent.ApprovalRequest) (agent.Approval, error) {
		if t.AutoApprove {
			return agent.AllowOnce, nil
		}
		sc.rt.bus.publish(Event{Kind: EventTaskApproval, Group: t.Group, Session: session, Text: fmt.Sprintf("Task %q needs your approval", t.Title)})
		if sc.Approve == nil {
			needs.Store(true)
			return agent.Deny, nil
		}
		wctx, cancel := context.WithTimeout(ctx, t.ApprovalWait)
		defer cancel()
		ans, err := sc.Approve(wctx, t.Group, session, req)
		if err != nil && ctx.Err() == nil && errors.Is(wctx.Err(), context.DeadlineExceeded) {
			needs.Store(true)
			return agent.Deny, nil
		}
		return ans, err
	}
}

func runOutcome(ev Event, needsApproval bool) (outcome, why string) {
	switch {
	case ev.Status == StatusDone && needsApproval:
		return RunNeedsApproval, "a tool call waited for an approval that did not come; it was denied"
	case ev.Status == StatusDone:
		return RunFinished, ""
	case ev.Err != "":
		return RunFailed, ev.Err
	}
	return RunFailed, "the turn ended " + ev.Status
}

func (sc *Scheduler) end(ctx context.Context, t Task, run store.TaskRun, outcome, why string) {
	sc.mu.Lock()
	delete(sc.running, t.ID)
	sc.mu.Unlock()
	ts, _ := sc.svc.taskStore()
	run.Outcome, run.Detail, run.Finished = outcome, why, sc.now()
	_ = ts.UpdateTaskRun(ctx, run)
	kind, summary := AuditTaskFinished, fmt.Sprintf("task %q finished", t.Title)
	if outcome != RunFinished {
		kind, summary = AuditTaskFailed, fmt.Sprintf("task %q ended: %s — %s", t.Title, outcome, why)
	}
	_ = sc.svc.record(ctx, store.Event{Group: t.Group, Session: run.SessionID, Kind: kind, Summary: summary,
		Detail: mustJSON(map[string]any{"task": t.ID, "run": run.ID, "outcome": outcome, "reason": why, "message_id": run.MessageID})})
	sc.rt.bus.publish(Event{Kind: EventTaskEnd, Group: t.Group, Session: run.SessionID, MessageID: run.MessageID,
		Status: outcome, Text: t.Title, Err: why})
}

func optRFC3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339)
}

func roundDur(d time.Duration) time.Duration {
	if d > time.Hour {
		return d.Round(time.Minute)
	}
	return d.Round(time.Second)
}
