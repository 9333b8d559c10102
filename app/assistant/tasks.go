package assistant

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/berth-app/berth/app/store"
	"github.com/berth-app/berth/app/tasks"
)

// TaskStore is what scheduled tasks need of the store.
type TaskStore interface {
	CreateTask(ctx context.Context, t store.Task) (store.Task, error)
	UpdateTask(ctx context.Context, t store.Task) error
	DeleteTask(ctx context.Context, id string) error
	Task(ctx context.Context, id string) (store.Task, error)
	Tasks(ctx context.Context, group string) ([]store.Task, error)
	AddTaskRun(ctx context.Context, r store.TaskRun) (store.TaskRun, error)
	UpdateTaskRun(ctx context.Context, r store.TaskRun) error
	TaskRuns(ctx context.Context, task string, limit int) ([]store.TaskRun, error)
	TaskRunsWithOutcome(ctx context.Context, outcome string) ([]store.TaskRun, error)
	TaskSessions(ctx context.Context) (map[string]string, error)
}

var _ TaskStore = (*store.Store)(nil)

// Audit event kinds of scheduled tasks.
const (
	AuditTaskCreated  = "task.created"
	AuditTaskChanged  = "task.changed"
	AuditTaskRemoved  = "task.removed"
	AuditTaskDue      = "task.due"
	AuditTaskStarted  = "task.started"
	AuditTaskFinished = "task.finished"
	AuditTaskFailed   = "task.failed"
	AuditTaskSkipped  = "task.skipped"
	AuditTaskLate     = "task.late"
)

// Task contexts: where a run's conversation lives.
const (
	TaskFresh = "fresh" // each run is a new chat
	TaskChat  = "chat"  // runs continue one chat of the group
)

// Outcomes of a task run.
const (
	RunRunning       = "running"
	RunFinished      = "finished"
	RunFailed        = "failed"
	RunSkipped       = "skipped"
	RunNeedsApproval = "needs-approval"
)

// DefaultApprovalWait is how long an unattended run waits for a click
// before the call is denied and the run ends as "needs approval".
const DefaultApprovalWait = time.Hour

// TaskSpec is a task as the user (or the agent) describes it.
type TaskSpec struct {
	Group        string
	Title        string
	Prompt       string
	Kind         tasks.Kind
	Expr         string
	Context      string        // TaskFresh (default) or TaskChat
	CatchUp      time.Duration // default tasks.DefaultCatchUp
	ApprovalWait time.Duration // default DefaultApprovalWait
	AutoApprove  bool          // runs without asking, chosen explicitly by the user
}

// Task is a stored task with its schedule read.
type Task struct {
	store.Task
	Schedule tasks.Schedule
	LastRun  *store.TaskRun // nil before the first run
}

// ErrNoTask means the task asked for does not exist.
var ErrNoTask = errors.New("no such task")

func (s *Service) taskStore() (TaskStore, error) {
	ts, ok := s.Store.(TaskStore)
	if !ok {
		return nil, errors.New("this store keeps no scheduled tasks")
	}
	return ts, nil
}

func (s *Service) zone() *time.Location {
	if s.Location != nil {
		return s.Location
	}
	return time.Local
}

// CheckTask reads a spec as AddTask would, without saving: the parsed
// schedule (for showing the next runs as the user types) or why not.
func (s *Service) CheckTask(spec TaskSpec) (tasks.Schedule, error) {
	if strings.TrimSpace(spec.Prompt) == "" {
		return tasks.Schedule{}, errors.New("a task needs a prompt: what should the assistant do?")
	}
	if c := spec.Context; c != "" && c != TaskFresh && c != TaskChat {
		return tasks.Schedule{}, fmt.Errorf("context %q: want %s or %s", c, TaskFresh, TaskChat)
	}
	if spec.CatchUp < 0 || spec.ApprovalWait < 0 {
		return tasks.Schedule{}, errors.New("the catch-up window and the approval wait cannot be negative")
	}
	now := s.now()
	sched, err := tasks.Parse(spec.Kind, spec.Expr, s.zone(), time.Time{}, now)
	if err != nil {
		return sched, err
	}
	if sched.Next(now).IsZero() {
		return sched, fmt.Errorf("%s %q never runs after now", spec.Kind, spec.Expr)
	}
	return sched, nil
}

// AddTask validates and stores a task of a group and audits it with its
// schedule and next run times. actor says who asked (the user, or the agent
// after the user said yes).
func (s *Service) AddTask(ctx context.Context, spec TaskSpec, actor store.Actor) (Task, error) {
	ts, err := s.taskStore()
	if err != nil {
		return Task{}, err
	}
	sched, err := s.CheckTask(spec)
	if err != nil {
		return Task{}, err
	}
	g, err := s.Group(ctx, spec.Group)
	if err != nil {
		return Task{}, err
	}
	now := s.now()
	t := store.Task{ID: newTaskID(now), Group: g.Slug, Title: taskTitle(spec), Prompt: spec.Prompt,
		Kind: string(spec.Kind), Expr: sched.Expr, Zone: s.zone().String(), Anchor: sched.Anchor,
		Context: cmp.Or(spec.Context, TaskFresh), CatchUp: cmp.Or(spec.CatchUp, tasks.DefaultCatchUp),
		ApprovalWait: cmp.Or(spec.ApprovalWait, DefaultApprovalWait), AutoApprove: spec.AutoApprove,
		Enabled: true, NextRun: sched.Next(now)}
	if t, err = ts.CreateTask(ctx, t); err != nil {
		return Task{}, err
	}
	task := Task{Task: t, Schedule: sched}
	return task, s.record(ctx, store.Event{Group: t.Group, Kind: AuditTaskCreated, Actor: actor,
		Summary: fmt.Sprintf("scheduled task %q: %s", t.Title, tasks.Describe(sched)), Detail: taskDetail(task, now)})
}

// UpdateTask changes a task's title, prompt, schedule and options; its next
// run is computed again from now. The group stays.
func (s *Service) UpdateTask(ctx context.Context, id string, spec TaskSpec, actor store.Actor) (Task, error) {
	old, err := s.Task(ctx, id)
	if err != nil {
		return old, err
	}
	spec.Group = old.Group
	sched, err := s.CheckTask(spec)
	if err != nil {
		return old, err
	}
	t := old.Task
	t.Title, t.Prompt, t.Kind, t.Expr, t.Zone, t.Anchor = taskTitle(spec), spec.Prompt, string(spec.Kind), sched.Expr, s.zone().String(), sched.Anchor
	t.Context, t.AutoApprove = cmp.Or(spec.Context, TaskFresh), spec.AutoApprove
	t.CatchUp, t.ApprovalWait = cmp.Or(spec.CatchUp, old.CatchUp), cmp.Or(spec.ApprovalWait, old.ApprovalWait)
	if t.Context == TaskFresh {
		t.SessionID = ""
	}
	t.NextRun = sched.Next(s.now())
	ts, _ := s.taskStore()
	if err := ts.UpdateTask(ctx, t); err != nil {
		return old, err
	}
	task := Task{Task: t, Schedule: sched, LastRun: old.LastRun}
	return task, s.record(ctx, store.Event{Group: t.Group, Kind: AuditTaskChanged, Actor: actor,
		Summary: fmt.Sprintf("changed task %q: %s", t.Title, tasks.Describe(sched)), Detail: taskDetail(task, s.now())})
}

// Tasks lists a group's tasks ("" for all), each with its last run.
func (s *Service) Tasks(ctx context.Context, group string) ([]Task, error) {
	ts, err := s.taskStore()
	if err != nil {
		return nil, err
	}
	stored, err := ts.Tasks(ctx, group)
	if err != nil {
		return nil, err
	}
	out := make([]Task, 0, len(stored))
	for _, t := range stored {
		task, err := s.readTask(ctx, ts, t)
		if err != nil {
			return nil, err
		}
		out = append(out, task)
	}
	return out, nil
}

// Task reads one task with its last run.
func (s *Service) Task(ctx context.Context, id string) (Task, error) {
	ts, err := s.taskStore()
	if err != nil {
		return Task{}, err
	}
	t, err := ts.Task(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return Task{}, fmt.Errorf("task %s: %w", id, ErrNoTask)
	}
	if err != nil {
		return Task{}, err
	}
	return s.readTask(ctx, ts, t)
}

func (s *Service) readTask(ctx context.Context, ts TaskStore, t store.Task) (Task, error) {
	loc, err := time.LoadLocation(t.Zone)
	if err != nil {
		loc = s.zone()
	}
	sched, err := tasks.Parse(tasks.Kind(t.Kind), t.Expr, loc, t.Anchor, t.Created)
	if err != nil {
		return Task{}, fmt.Errorf("task %s: stored schedule: %w", t.ID, err)
	}
	task := Task{Task: t, Schedule: sched}
	runs, err := ts.TaskRuns(ctx, t.ID, 1)
	if err != nil {
		return Task{}, err
	}
	if len(runs) == 1 {
		task.LastRun = &runs[0]
	}
	return task, nil
}

// SetTaskEnabled pauses or resumes a task. Resuming computes the next run
// from now: runs missed while paused are not caught up.
func (s *Service) SetTaskEnabled(ctx context.Context, id string, on bool, actor store.Actor) (Task, error) {
	task, err := s.Task(ctx, id)
	if err != nil {
		return task, err
	}
	ts, _ := s.taskStore()
	task.Enabled = on
	if on {
		task.NextRun = task.Schedule.Next(s.now())
	}
	if err := ts.UpdateTask(ctx, task.Task); err != nil {
		return task, err
	}
	what := "paused"
	if on {
		what = "resumed"
	}
	return task, s.record(ctx, store.Event{Group: task.Group, Kind: AuditTaskChanged, Actor: actor,
		Summary: fmt.Sprintf("%s task %q", what, task.Title), Detail: taskDetail(task, s.now())})
}

// RemoveTask deletes a task and its run history; its audit events stay.
func (s *Service) RemoveTask(ctx context.Context, id string, actor store.Actor) error {
	task, err := s.Task(ctx, id)
	if err != nil {
		return err
	}
	ts, _ := s.taskStore()
	if err := ts.DeleteTask(ctx, id); err != nil {
		return err
	}
	return s.record(ctx, store.Event{Group: task.Group, Kind: AuditTaskRemoved, Actor: actor,
		Summary: fmt.Sprintf("removed task %q", task.Title), Detail: mustJSON(map[string]any{"task": id})})
}

// recordTasksGone audits the tasks that went with their group.
func (s *Service) recordTasksGone(ctx context.Context, gone []Task) error {
	for _, t := range gone {
		if err := s.record(ctx, store.Event{Group: t.Group, Kind: AuditTaskRemoved, Actor: store.ActorUser,
			Summary: fmt.Sprintf("removed task %q with its group", t.Title), Detail: mustJSON(map[string]any{"task": t.ID})}); err != nil {
			return err
		}
	}
	return nil
}

// TaskHistory lists a task's runs, newest first.
func (s *Service) TaskHistory(ctx context.Context, id string, limit int) ([]store.TaskRun, error) {
	if _, err := s.Task(ctx, id); err != nil {
		return nil, err
	}
	ts, _ := s.taskStore()
	return ts.TaskRuns(ctx, id, limit)
}

// TaskChats maps each chat a task run wrote to, to its task's id (the chat
// list marks them).
func (s *Service) TaskChats(ctx context.Context) (map[string]string, error) {
	ts, err := s.taskStore()
	if err != nil {
		return nil, err
	}
	return ts.TaskSessions(ctx)
}

func taskDetail(t Task, now time.Time) []byte {
	var next []string
	for _, at := range t.Schedule.NextN(now, 5) {
		next = append(next, at.Format(time.RFC3339))
	}
	return mustJSON(map[string]any{"task": t.ID, "title": t.Title, "kind": t.Kind, "schedule": t.Expr,
		"zone": t.Zone, "context": t.Context, "enabled": t.Enabled, "auto_approve": t.AutoApprove,
		"catch_up_s": int64(t.CatchUp / time.Second), "next_runs": next, "session": t.SessionID})
}

func newTaskID(now time.Time) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return "t-" + now.UTC().Format("0102") + hex.EncodeToString(b)
}
