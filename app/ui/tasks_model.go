package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/berth-app/berth/app/assistant"
)

// TaskService is what the Tasks window needs. The runtime's scheduler and
// service satisfy it through ConnectTasks; tests fake it.
type TaskService interface {
	Groups(ctx context.Context) ([]assistant.Group, error)
	Tasks(ctx context.Context, group string) ([]assistant.TaskInfo, error)
	// CheckTask reads a schedule as adding would, without saving.
	CheckTask(spec assistant.TaskSpec) (assistant.Schedule, error)
	AddTask(ctx context.Context, spec assistant.TaskSpec) (assistant.TaskInfo, error)
	UpdateTask(ctx context.Context, id string, spec assistant.TaskSpec) (assistant.TaskInfo, error)
	SetTaskEnabled(ctx context.Context, id string, on bool) error
	RemoveTask(ctx context.Context, id string) error
	RunTask(ctx context.Context, id string) error
}

// ConnectTasks gives the Tasks window the service and the scheduler.
func ConnectTasks(svc *assistant.Service, sc *assistant.Scheduler) TaskService {
	return taskAdapter{svc: svc, sc: sc}
}

type taskAdapter struct {
	svc *assistant.Service
	sc  *assistant.Scheduler
}

func (a taskAdapter) Groups(ctx context.Context) ([]assistant.Group, error) { return a.svc.Groups(ctx) }

func (a taskAdapter) Tasks(ctx context.Context, group string) ([]assistant.TaskInfo, error) {
	ts, err := a.svc.Tasks(ctx, group)
	var out []assistant.TaskInfo
	for _, t := range ts {
		out = append(out, t.Info(time.Now(), 5))
	}
	return out, err
}

func (a taskAdapter) CheckTask(spec assistant.TaskSpec) (assistant.Schedule, error) {
	return a.svc.CheckTask(spec)
}

func (a taskAdapter) AddTask(ctx context.Context, spec assistant.TaskSpec) (assistant.TaskInfo, error) {
	t, err := a.svc.AddTask(ctx, spec, assistant.ActorUser)
	if err == nil && a.sc != nil {
		a.sc.Poke()
	}
	return t.Info(time.Now(), 5), err
}

func (a taskAdapter) UpdateTask(ctx context.Context, id string, spec assistant.TaskSpec) (assistant.TaskInfo, error) {
	t, err := a.svc.UpdateTask(ctx, id, spec, assistant.ActorUser)
	if err == nil && a.sc != nil {
		a.sc.Poke()
	}
	return t.Info(time.Now(), 5), err
}

func (a taskAdapter) SetTaskEnabled(ctx context.Context, id string, on bool) error {
	_, err := a.svc.SetTaskEnabled(ctx, id, on, assistant.ActorUser)
	return err
}

func (a taskAdapter) RemoveTask(ctx context.Context, id string) error {
	return a.svc.RemoveTask(ctx, id, assistant.ActorUser)
}

func (a taskAdapter) RunTask(ctx context.Context, id string) error {
	if a.sc == nil {
		return fmt.Errorf("this Berth runs no scheduled tasks")
	}
	_, err := a.sc.RunNow(ctx, id)
	return err
}

// ScheduleKinds are the schedule choices of the add form, as labelled.
var ScheduleKinds = []string{"Cron (local time)", "Every", "Once at"}

var scheduleKindOf = map[string]assistant.ScheduleKind{ScheduleKinds[0]: assistant.ScheduleCron, ScheduleKinds[1]: assistant.ScheduleEvery, ScheduleKinds[2]: assistant.ScheduleOnce}

// scheduleLabel is the add form's label of a schedule kind.
func scheduleLabel(k string) string {
	for label, kind := range scheduleKindOf {
		if string(kind) == k {
			return label
		}
	}
	return ScheduleKinds[0]
}

// SchedulePreview is what the add form says under the schedule as the user
// types: the schedule in words and its next five runs, or why it is refused.
func SchedulePreview(svc TaskService, kindLabel, expr string, now time.Time) (text string, ok bool) {
	if strings.TrimSpace(expr) == "" {
		return "Type a schedule: e.g. 0 8 * * 1-5 (cron), 2h (every), 2026-12-24 09:00 (once).", false
	}
	sched, err := svc.CheckTask(assistant.TaskSpec{Kind: scheduleKindOf[kindLabel], Expr: expr, Prompt: "preview"})
	if err != nil {
		return "✗ " + err.Error(), false
	}
	var runs []string
	for _, at := range sched.NextN(now, 5) {
		runs = append(runs, at.Local().Format("Mon 2 Jan 15:04"))
	}
	return "✓ " + assistant.DescribeSchedule(sched) + "\nNext runs: " + strings.Join(runs, " · "), true
}

// TaskRow is one task as the list shows it.
type TaskRow struct {
	ID, Title, Schedule, Next, Last string
	Enabled, Failed                 bool
	Info                            assistant.TaskInfo // for the edit form
}

// TaskRowOf turns a task into its row.
func TaskRowOf(in assistant.TaskInfo) TaskRow {
	r := TaskRow{ID: in.ID, Title: in.Title, Schedule: in.Words, Enabled: in.Enabled, Next: "no next run", Last: "never run", Info: in}
	switch {
	case !in.Enabled:
		r.Next = "paused"
	case in.NextRun != nil:
		r.Next = "next " + in.NextRun.Local().Format("Mon 2 Jan 15:04")
	}
	if lr := in.LastRun; lr != nil {
		r.Last = "last: " + lr.Outcome
		if lr.Late > 0 {
			r.Last += fmt.Sprintf(" (%s late)", lr.Late.Round(time.Second))
		}
		if lr.Detail != "" && lr.Outcome != assistant.RunFinished {
			r.Last += " — " + lr.Detail
		}
		r.Failed = lr.Outcome == assistant.RunFailed || lr.Outcome == assistant.RunNeedsApproval
	}
	return r
}

// NextTaskLine is the tray's line about the next task due, "" when none.
func NextTaskLine(ts []assistant.TaskInfo) string {
	var next *assistant.TaskInfo
	for i := range ts {
		t := &ts[i]
		if t.Enabled && t.NextRun != nil && (next == nil || t.NextRun.Before(*next.NextRun)) {
			next = t
		}
	}
	if next == nil {
		return ""
	}
	return fmt.Sprintf("Next task: %s · %s", next.Title, next.NextRun.Local().Format("Mon 15:04"))
}
