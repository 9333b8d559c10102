package assistant

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/berth-app/berth/app/store"
	"github.com/berth-app/berth/app/tasks"
)

// TaskOp is a change to scheduled tasks sent to a running Berth (which
// holds the database), so that `berth task …` works beside the app.
type TaskOp struct {
	Op   string    `json:"op"` // add | pause | resume | rm | run
	ID   string    `json:"id,omitempty"`
	Spec *TaskSpec `json:"spec,omitempty"`
}

// TaskInfo is a task as the faces show it.
type TaskInfo struct {
	ID          string         `json:"id"`
	Group       string         `json:"group"`
	Title       string         `json:"title"`
	Prompt      string         `json:"prompt"`
	Kind        string         `json:"kind"`
	Schedule    string         `json:"schedule"`
	Words       string         `json:"in_words"`
	Zone        string         `json:"zone"`
	Context     string         `json:"context"`
	Enabled     bool           `json:"enabled"`
	AutoApprove bool           `json:"auto_approve"`
	CatchUp     time.Duration  `json:"catch_up_ns"`
	NextRun     *time.Time     `json:"next_run,omitempty"`
	NextRuns    []time.Time    `json:"next_runs,omitempty"`
	LastRun     *store.TaskRun `json:"last_run,omitempty"`
}

// Info is the task as the faces show it, with its next n run times.
func (t Task) Info(now time.Time, n int) TaskInfo {
	info := TaskInfo{ID: t.ID, Group: t.Group, Title: t.Title, Prompt: t.Prompt, Kind: t.Kind, Schedule: t.Expr,
		Words: tasks.Describe(t.Schedule), Zone: t.Zone, Context: t.Context, Enabled: t.Enabled, AutoApprove: t.AutoApprove,
		CatchUp: t.CatchUp, LastRun: t.LastRun}
	if !t.NextRun.IsZero() && t.Enabled {
		next := t.NextRun
		info.NextRun = &next
		info.NextRuns = append([]time.Time{next}, t.Schedule.NextN(next, n-1)...)
	}
	return info
}

// AttachScheduler lets the control socket reach the runtime's scheduler.
func (r *Runtime) AttachScheduler(sc *Scheduler) {
	r.mu.Lock()
	r.sched = sc
	r.mu.Unlock()
}

func (r *Runtime) controlTask(ctx context.Context, op *TaskOp) (*TaskInfo, int64, error) {
	r.mu.Lock()
	sc := r.sched
	r.mu.Unlock()
	if op == nil {
		return nil, 0, errors.New("task: no operation")
	}
	var t Task
	var err error
	switch op.Op {
	case "add":
		if op.Spec == nil {
			return nil, 0, errors.New("task add: no task")
		}
		t, err = r.svc.AddTask(ctx, *op.Spec, store.ActorUser)
		if sc != nil {
			sc.Poke()
		}
	case "pause", "resume":
		t, err = r.svc.SetTaskEnabled(ctx, op.ID, op.Op == "resume", store.ActorUser)
	case "rm":
		return nil, 0, r.svc.RemoveTask(ctx, op.ID, store.ActorUser)
	case "run":
		if sc == nil {
			return nil, 0, errors.New("this Berth runs no scheduled tasks")
		}
		run, err := sc.RunNow(ctx, op.ID)
		return nil, run.ID, err
	default:
		return nil, 0, fmt.Errorf("task: unknown operation %q", op.Op)
	}
	if err != nil {
		return nil, 0, err
	}
	info := t.Info(r.svc.now(), 5)
	return &info, 0, nil
}
