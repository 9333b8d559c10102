package assistant

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-app/berth/app/agent"
	"github.com/berth-app/berth/app/llm/llmtest"
	"github.com/berth-app/berth/app/store"
	"github.com/berth-app/berth/app/tasks"
	"github.com/berth-app/berth/docker"
	"github.com/berth-app/berth/docker/dockertest"
)

// manualClock is a clock a test moves by hand.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *manualClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// dueAt stores a task's next run as at (the scheduler's clock decides).
func dueAt(t *testing.T, st *store.Store, id string, at time.Time) {
	t.Helper()
	changeTask(t, st, id, func(task *store.Task) { task.NextRun = at })
}

func changeTask(t *testing.T, st *store.Store, id string, change func(*store.Task)) {
	t.Helper()
	task, err := st.Task(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	change(&task)
	if err := st.UpdateTask(context.Background(), task); err != nil {
		t.Fatal(err)
	}
}

func auditKinds(t *testing.T, st *store.Store, prefix string) string {
	t.Helper()
	evs, err := st.Events(context.Background(), store.Filter{Kind: prefix})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range evs {
		kinds = append(kinds, e.Kind)
	}
	return strings.Join(kinds, " ")
}

// taskModel answers a task's prompt with one bash call, then a line of text.
func taskModel(t *testing.T, svc *Service, command string) *llmtest.Server {
	fake := fakeModel(t, svc)
	fake.Respond(func(req llmtest.Request) llmtest.Reply {
		if strings.Contains(string(req.Raw), "tool_result") {
			return llmtest.Reply{Text: []string{"Summary written."}}
		}
		return llmtest.Reply{ToolCalls: []llmtest.ToolCall{{ID: "c1", Name: "bash", Input: `{"command":` + quoteJSON(command) + `}`}}}
	})
	return fake
}

func quoteJSON(s string) string { return string(mustJSON(s)) }

func TestTaskRunsWhenDueThroughTheRuntime(t *testing.T) {
	t.Parallel()
	engine := dockertest.Client(t)
	svc, st := newService(t, engine)
	taskModel(t, svc, "date > /workspace/group/summary.txt")
	r := startRuntime(t, svc, engine, RuntimeConfig{})
	sc := NewScheduler(r)
	clock := &manualClock{t: time.Date(2026, 12, 2, 7, 59, 0, 0, time.UTC)}
	sc.Now = clock.Now
	ctx := context.Background()
	events, unsub := r.Subscribe()
	defer unsub()

	task, err := svc.AddTask(ctx, TaskSpec{Group: "main", Title: "Morning notes", Prompt: "summarise my notes",
		Kind: tasks.Cron, Expr: "0 8 * * *"}, store.ActorUser)
	if err != nil {
		t.Fatal(err)
	}
	due := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	dueAt(t, st, task.ID, due)
	waitEvent(t, events, 60*time.Second, "an open gate", func(ev Event) bool { return ev.Kind == EventGate && ev.Gate.Open })

	if err := sc.CheckDue(ctx); err != nil {
		t.Fatal(err)
	}
	if runs, _ := svc.TaskHistory(ctx, task.ID, 0); len(runs) != 0 {
		t.Fatalf("ran a minute early: %+v", runs)
	}
	clock.Set(due.Add(5 * time.Second))
	if err := sc.CheckDue(ctx); err != nil {
		t.Fatal(err)
	}
	end := waitEvent(t, events, 90*time.Second, "the task's end", func(ev Event) bool { return ev.Kind == EventTaskEnd })
	t.Logf("task run ended: %s %s (chat %s)", end.Status, end.Err, end.Session)
	if end.Status != RunFinished {
		t.Fatalf("outcome %s (%s), want finished", end.Status, end.Err)
	}
	if b, err := os.ReadFile(filepath.Join(svc.Paths.GroupDir("main"), "summary.txt")); err != nil || len(b) == 0 {
		t.Errorf("the run's tool call did not write into the group folder: %v", err)
	}
	got, err := svc.Task(ctx, task.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.LastRun == nil || got.LastRun.Outcome != RunFinished || got.LastRun.SessionID != end.Session {
		t.Errorf("last run: %+v", got.LastRun)
	}
	if want := due.Add(24 * time.Hour); !got.NextRun.Equal(want) {
		t.Errorf("next run %v, want %v", got.NextRun, want)
	}
	// Due again at the same instant: already moved on, nothing runs twice.
	if err := sc.CheckDue(ctx); err != nil {
		t.Fatal(err)
	}
	if runs, _ := svc.TaskHistory(ctx, task.ID, 0); len(runs) != 1 {
		t.Errorf("runs: got %d, want 1", len(runs))
	}
	chats, _ := svc.TaskChats(ctx)
	if chats[end.Session] != task.ID {
		t.Errorf("the run's chat is not marked as a task run: %v", chats)
	}
	if got := auditKinds(t, st, "task"); got != "task.created task.due task.started task.finished" {
		t.Errorf("task events: %q", got)
	}
	verifyChain(t, st)
}

func TestTaskMissedRunsCatchUpOnceOrSkip(t *testing.T) {
	t.Parallel()
	engine := dockertest.Client(t)
	svc, st := newService(t, engine)
	svc.Location = time.UTC
	fake := taskModel(t, svc, "true")
	r := startRuntime(t, svc, engine, RuntimeConfig{})
	ctx := context.Background()
	events, unsub := r.Subscribe()
	defer unsub()
	waitEvent(t, events, 60*time.Second, "an open gate", func(ev Event) bool { return ev.Kind == EventGate && ev.Gate.Open })

	recent, err := svc.AddTask(ctx, TaskSpec{Group: "main", Title: "hourly check", Prompt: "check the build", Kind: tasks.Every, Expr: "1h"}, store.ActorUser)
	if err != nil {
		t.Fatal(err)
	}
	old, err := svc.AddTask(ctx, TaskSpec{Group: "main", Title: "daily digest", Prompt: "digest", Kind: tasks.Cron, Expr: "0 8 * * *"}, store.ActorUser)
	if err != nil {
		t.Fatal(err)
	}
	// Berth was away from 17:00 to 22:03: the hourly task missed five runs
	// and is three minutes past its sixth; the daily 08:00 one is 14 hours
	// overdue.
	base := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	changeTask(t, st, recent.ID, func(task *store.Task) { task.Anchor, task.NextRun = base.Add(9*time.Hour), base.Add(9*time.Hour) })
	dueAt(t, st, old.ID, base)
	clock := &manualClock{t: base.Add(14*time.Hour + 3*time.Minute)}
	sc := NewScheduler(r)
	sc.Now = clock.Now
	if err := sc.CheckDue(ctx); err != nil {
		t.Fatal(err)
	}
	end := waitEvent(t, events, 90*time.Second, "the late run's end", func(ev Event) bool { return ev.Kind == EventTaskEnd })
	if end.Status != RunFinished {
		t.Fatalf("late run: %s %s", end.Status, end.Err)
	}
	runs, _ := svc.TaskHistory(ctx, recent.ID, 0)
	if len(runs) != 1 || runs[0].Late != 3*time.Minute {
		t.Fatalf("hourly task after five missed runs: %+v — want one run, 3 min late", runs)
	}
	t.Logf("missed five hourly runs: ran once, %s late", runs[0].Late)
	skipped, _ := svc.TaskHistory(ctx, old.ID, 0)
	if len(skipped) != 1 || skipped[0].Outcome != RunSkipped || !strings.Contains(skipped[0].Detail, "catch-up window is 12h") {
		t.Fatalf("14 h old run: %+v — want skipped with the reason", skipped)
	}
	t.Logf("14 h old run: %s — %s", skipped[0].Outcome, skipped[0].Detail)
	for _, req := range fake.Requests() {
		if strings.Contains(string(req.Raw), "digest") {
			t.Error("the skipped task's prompt reached the model")
		}
	}
	if got := auditKinds(t, st, "task"); !strings.Contains(got, AuditTaskLate) || !strings.Contains(got, AuditTaskSkipped) {
		t.Errorf("task events: %q", got)
	}
	verifyChain(t, st)
}

func TestTaskDueWhileDockerIsDownRunsAfterTheRestore(t *testing.T) {
	t.Parallel()
	proxy, engine, svc, st := proxiedService(t, "test proxy")
	taskModel(t, svc, "echo ran")
	r := startRuntime(t, svc, engine, RuntimeConfig{})
	ctx := context.Background()
	events, unsub := r.Subscribe()
	defer unsub()
	waitEvent(t, events, 60*time.Second, "an open gate", func(ev Event) bool { return ev.Kind == EventGate && ev.Gate.Open })
	task, err := svc.AddTask(ctx, TaskSpec{Group: "main", Prompt: "report", Kind: tasks.Every, Expr: "2h"}, store.ActorUser)
	if err != nil {
		t.Fatal(err)
	}

	proxy.Cut()
	waitEvent(t, events, 30*time.Second, "a closed gate", func(ev Event) bool { return ev.Kind == EventGate && !ev.Gate.Open })
	dueAt(t, st, task.ID, time.Now().Add(-time.Minute))
	sc := NewScheduler(r)
	sc.Tick = time.Hour // only the gate opening wakes it in this test
	sctx, stop := context.WithCancel(ctx)
	defer func() { stop(); sc.Wait() }()
	if err := sc.Start(sctx); err != nil {
		t.Fatal(err)
	}
	if err := sc.CheckDue(ctx); err != nil {
		t.Fatal(err)
	}
	if runs, _ := svc.TaskHistory(ctx, task.ID, 0); len(runs) != 0 {
		t.Fatalf("a run started while Docker was down: %+v", runs)
	}
	t.Log("due while Docker is down: nothing started")
	proxy.Restore()
	end := waitEvent(t, events, 90*time.Second, "the run after the restore", func(ev Event) bool { return ev.Kind == EventTaskEnd })
	if end.Status != RunFinished {
		t.Fatalf("after the restore: %s %s", end.Status, end.Err)
	}
	t.Log("Docker back: the task ran once")
	verifyChain(t, st)
}

func TestUnattendedApprovalTimesOutAsNeedsApproval(t *testing.T) {
	t.Parallel()
	engine := dockertest.Client(t)
	svc, st := newService(t, engine)
	taskModel(t, svc, "touch /workspace/group/should-not-exist")
	ctx := context.Background()
	if _, err := svc.AddGroup(ctx, "ops", "Ops", GroupSettings{Approval: string(agent.ApprovalAskAll)}); err != nil {
		t.Fatal(err)
	}
	r := startRuntime(t, svc, engine, RuntimeConfig{})
	events, unsub := r.Subscribe()
	defer unsub()
	waitEvent(t, events, 60*time.Second, "an open gate", func(ev Event) bool { return ev.Kind == EventGate && ev.Gate.Open })
	task, err := svc.AddTask(ctx, TaskSpec{Group: "ops", Title: "Tidy", Prompt: "tidy up", Kind: tasks.Every, Expr: "1h",
		ApprovalWait: time.Second}, store.ActorUser)
	if err != nil {
		t.Fatal(err)
	}
	asked := make(chan agent.ApprovalRequest, 1)
	sc := NewScheduler(r)
	sc.Approve = func(ctx context.Context, _, _ string, req agent.ApprovalRequest) (agent.Approval, error) {
		asked <- req // the user is away: nobody clicks
		<-ctx.Done()
		return agent.Deny, context.Cause(ctx)
	}
	if _, err := sc.RunNow(ctx, task.ID); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, events, 60*time.Second, "the approval notice", func(ev Event) bool {
		return ev.Kind == EventTaskApproval && strings.Contains(ev.Text, `"Tidy" needs your approval`)
	})
	req := <-asked
	end := waitEvent(t, events, 90*time.Second, "the run's end", func(ev Event) bool { return ev.Kind == EventTaskEnd })
	t.Logf("%s waited, nobody answered: run %s — %s", req.Tool, end.Status, end.Err)
	if end.Status != RunNeedsApproval {
		t.Fatalf("outcome %s, want %s", end.Status, RunNeedsApproval)
	}
	if _, err := os.Stat(filepath.Join(svc.Paths.GroupDir("ops"), "should-not-exist")); err == nil {
		t.Error("the unapproved call ran")
	}
	verifyChain(t, st)
}

func TestTaskGoesWithItsGroup(t *testing.T) {
	t.Parallel()
	svc, st := newService(t, fakeEngine{})
	ctx := context.Background()
	if _, err := svc.AddGroup(ctx, "home", "Home", GroupSettings{}); err != nil {
		t.Fatal(err)
	}
	task, err := svc.AddTask(ctx, TaskSpec{Group: "home", Prompt: "water the plants", Kind: tasks.Cron, Expr: "@daily"}, store.ActorUser)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.RemoveGroup(ctx, "home", false); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Task(ctx, task.ID); err == nil {
		t.Fatal("the task outlived its group")
	}
	if got := auditKinds(t, st, "task"); got != "task.created task.removed" {
		t.Errorf("task events: %q", got)
	}
	verifyChain(t, st)
}

func TestAddTaskRefusesWithAReason(t *testing.T) {
	t.Parallel()
	svc, _ := newService(t, fakeEngine{})
	cases := []struct {
		spec TaskSpec
		want string
	}{
		{TaskSpec{Group: "main", Prompt: "x", Kind: tasks.Cron, Expr: "0 25 * * *"}, "cron expression"},
		{TaskSpec{Group: "main", Prompt: " ", Kind: tasks.Every, Expr: "1h"}, "needs a prompt"},
		{TaskSpec{Group: "main", Prompt: "x", Kind: tasks.Once, Expr: "2001-01-01 10:00"}, "never runs after now"},
		{TaskSpec{Group: "main", Prompt: "x", Kind: tasks.Every, Expr: "1h", Context: "group"}, "want fresh or chat"},
	}
	for _, c := range cases {
		_, err := svc.AddTask(context.Background(), c.spec, store.ActorUser)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: got %v, want %q", c.spec, err, c.want)
		}
	}
}

// TestTasksOfTwoGroupsDueTogetherRespectTheCap: with room for one sandbox,
// two groups' tasks due at once both run, one after the other, and never two
// sandboxes at a time.
func TestTasksOfTwoGroupsDueTogetherRespectTheCap(t *testing.T) {
	t.Parallel()
	engine := dockertest.Client(t)
	svc, st := newService(t, engine)
	taskModel(t, svc, "echo working; sleep 1")
	ctx := context.Background()
	for _, g := range []string{"work", "home"} {
		if _, err := svc.AddGroup(ctx, g, g, GroupSettings{}); err != nil {
			t.Fatal(err)
		}
	}
	r := startRuntime(t, svc, engine, RuntimeConfig{MaxSandboxes: 1})
	events, unsub := r.Subscribe()
	defer unsub()
	waitEvent(t, events, 60*time.Second, "an open gate", func(ev Event) bool { return ev.Kind == EventGate && ev.Gate.Open })
	for _, g := range []string{"work", "home"} {
		task, err := svc.AddTask(ctx, TaskSpec{Group: g, Prompt: "routine", Kind: tasks.Every, Expr: "1h"}, store.ActorUser)
		if err != nil {
			t.Fatal(err)
		}
		dueAt(t, st, task.ID, time.Now().Add(-time.Second))
	}
	most := 0
	stopWatch := make(chan struct{})
	watched := make(chan struct{})
	go func() { // count this installation's running sandboxes while the runs go on
		defer close(watched)
		for {
			select {
			case <-stopWatch:
				return
			default:
			}
			sbs, _ := engine.ListSandboxes(ctx, docker.Filter{InstallationID: svc.Paths.InstallID()})
			running := 0
			for _, sb := range sbs {
				if sb.Running() {
					running++
				}
			}
			most = max(most, running)
		}
	}()
	sc := NewScheduler(r)
	if err := sc.CheckDue(ctx); err != nil {
		t.Fatal(err)
	}
	ended := map[string]string{}
	for len(ended) < 2 {
		ev := waitEvent(t, events, 120*time.Second, "both runs' ends", func(ev Event) bool { return ev.Kind == EventTaskEnd })
		ended[ev.Group] = ev.Status
	}
	close(stopWatch)
	<-watched
	t.Logf("two groups' tasks due together, cap 1: %v; at most %d sandbox(es) running at once", ended, most)
	if ended["work"] != RunFinished || ended["home"] != RunFinished {
		t.Errorf("outcomes: %v", ended)
	}
	if most > 1 {
		t.Errorf("%d sandboxes ran at once; the cap is 1", most)
	}
	verifyChain(t, st)
}
