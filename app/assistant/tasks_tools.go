package assistant

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/berth-app/berth/app/agent"
	"github.com/berth-app/berth/app/store"
	"github.com/berth-app/berth/app/tasks"
)

// The agent's own task tools. Their names and inputs are a contract, like
// the sandbox tools'. They are scoped to the turn's group; creating or
// cancelling a task always asks the user (a task is future unattended
// work), whatever the group's approval mode.
const (
	ToolScheduleTask = "schedule_task"
	ToolListTasks    = "list_tasks"
	ToolCancelTask   = "cancel_task"
)

type scheduleInput struct {
	Title   string `json:"title"`
	Prompt  string `json:"prompt"`
	Cron    string `json:"cron"`
	Every   string `json:"every"`
	At      string `json:"at"`
	Context string `json:"context"`
}

func (in scheduleInput) spec(group string) (TaskSpec, error) {
	spec := TaskSpec{Group: group, Title: in.Title, Prompt: in.Prompt, Context: in.Context}
	n := 0
	for kind, expr := range map[tasks.Kind]string{tasks.Cron: in.Cron, tasks.Every: in.Every, tasks.Once: in.At} {
		if strings.TrimSpace(expr) != "" {
			spec.Kind, spec.Expr = kind, expr
			n++
		}
	}
	if n != 1 {
		return spec, errors.New("give exactly one of cron, every or at")
	}
	return spec, nil
}

// taskTools are the agent's task tools for a turn in group (those the
// group's tool list enables; an empty list enables all).
func (s *Service) taskTools(group string, enabled []string) []agent.HostTool {
	if _, err := s.taskStore(); err != nil {
		return nil
	}
	var out []agent.HostTool
	for _, h := range s.allTaskTools(group) {
		if len(enabled) == 0 || slices.Contains(enabled, h.Name) {
			out = append(out, h)
		}
	}
	return out
}

func (s *Service) allTaskTools(group string) []agent.HostTool {
	return []agent.HostTool{
		{
			Name: ToolScheduleTask, Ask: true,
			Description: "Schedule a task in this group: the prompt runs later, unattended, as a new message (context \"fresh\": a new chat each run; \"chat\": runs continue one chat). " +
				"Give exactly one of cron (5 fields, the user's local time, e.g. \"0 8 * * 1-5\"), every (e.g. \"2h\") or at (\"YYYY-MM-DD HH:MM\" local). The user is always asked first.",
			Schema: `{"type":"object","properties":{"title":{"type":"string"},"prompt":{"type":"string"},"cron":{"type":"string"},"every":{"type":"string"},"at":{"type":"string"},"context":{"type":"string","enum":["fresh","chat"]}},"required":["prompt"]}`,
			Describe: func(raw json.RawMessage) (string, error) {
				var in scheduleInput
				if err := json.Unmarshal(raw, &in); err != nil {
					return "", fmt.Errorf("invalid input for schedule_task: %v", err)
				}
				spec, err := in.spec(group)
				if err != nil {
					return "", err
				}
				sched, err := s.CheckTask(spec)
				if err != nil {
					return "", err
				}
				return fmt.Sprintf("%q — %s; next: %s", taskTitle(spec), tasks.Describe(sched), nextRunsText(sched, s.now())), nil
			},
			Run: func(ctx context.Context, raw json.RawMessage) (string, bool) {
				var in scheduleInput
				_ = json.Unmarshal(raw, &in)
				spec, _ := in.spec(group)
				t, err := s.AddTask(ctx, spec, store.ActorAgent)
				if err != nil {
					return "not scheduled: " + err.Error(), true
				}
				return fmt.Sprintf("scheduled task %s %q: %s; next runs: %s", t.ID, t.Title, tasks.Describe(t.Schedule), nextRunsText(t.Schedule, s.now())), false
			},
		},
		{
			Name:        ToolListTasks,
			Description: "List this group's scheduled tasks with their schedules, next runs and last outcomes.",
			Schema:      `{"type":"object","properties":{}}`,
			Describe:    func(json.RawMessage) (string, error) { return "this group's tasks", nil },
			Run: func(ctx context.Context, _ json.RawMessage) (string, bool) {
				ts, err := s.Tasks(ctx, group)
				if err != nil {
					return err.Error(), true
				}
				if len(ts) == 0 {
					return "no scheduled tasks in this group", false
				}
				var b strings.Builder
				for _, t := range ts {
					in := t.Info(s.now(), 3)
					fmt.Fprintf(&b, "%s %q: %s; enabled %v; next %s; last %s\n", t.ID, t.Title, in.Words, t.Enabled, nextText(in), lastText(t.LastRun))
				}
				return b.String(), false
			},
		},
		{
			Name: ToolCancelTask, Ask: true,
			Description: "Cancel (remove) one of this group's scheduled tasks by id. The user is always asked first.",
			Schema:      `{"type":"object","properties":{"id":{"type":"string"}},"required":["id"]}`,
			Describe: func(raw json.RawMessage) (string, error) {
				t, err := s.groupTask(context.Background(), group, raw)
				if err != nil {
					return "", err
				}
				return fmt.Sprintf("remove %q (%s)", t.Title, tasks.Describe(t.Schedule)), nil
			},
			Run: func(ctx context.Context, raw json.RawMessage) (string, bool) {
				t, err := s.groupTask(ctx, group, raw)
				if err == nil {
					err = s.RemoveTask(ctx, t.ID, store.ActorAgent)
				}
				if err != nil {
					return "not removed: " + err.Error(), true
				}
				return fmt.Sprintf("removed task %s %q", t.ID, t.Title), false
			},
		},
	}
}

// groupTask reads the task an input names, refusing another group's.
func (s *Service) groupTask(ctx context.Context, group string, raw json.RawMessage) (Task, error) {
	var in struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(raw, &in); err != nil || in.ID == "" {
		return Task{}, errors.New(`cancel_task needs {"id": "<task id from list_tasks>"}`)
	}
	t, err := s.Task(ctx, in.ID)
	if err != nil || t.Group != group {
		return Task{}, fmt.Errorf("no task %s in this group; list_tasks shows them", in.ID)
	}
	return t, nil
}

// taskTitle is the task's title, or the start of its prompt.
func taskTitle(spec TaskSpec) string {
	return cmp.Or(strings.TrimSpace(spec.Title), title(spec.Prompt))
}

func nextRunsText(s tasks.Schedule, now time.Time) string {
	var out []string
	for _, at := range s.NextN(now, 3) {
		out = append(out, at.Format("Mon 2 Jan 15:04"))
	}
	return strings.Join(out, ", ")
}

func nextText(in TaskInfo) string {
	if in.NextRun == nil {
		return "none"
	}
	return in.NextRun.Format("Mon 2 Jan 15:04")
}

func lastText(r *store.TaskRun) string {
	if r == nil {
		return "never"
	}
	return r.Outcome + " " + r.Due.Format("Mon 2 Jan 15:04")
}
