package store

import (
	"context"
	"fmt"
	"time"
)

// Task is a stored scheduled task of a group. Kind, Expr, Zone and Anchor
// are the schedule as app/tasks reads it; NextRun is when it is next due
// (zero when never again).
type Task struct {
	ID           string
	Group        string
	Title        string
	Prompt       string
	Kind         string // "cron", "every", "once"
	Expr         string
	Zone         string // IANA zone the schedule is read in, e.g. "Europe/Berlin"
	Anchor       time.Time
	Context      string // "fresh" (each run a new chat) or "chat" (runs continue SessionID)
	SessionID    string
	CatchUp      time.Duration
	ApprovalWait time.Duration
	AutoApprove  bool // runs with the group's approvals off, chosen explicitly by the user
	Enabled      bool
	NextRun      time.Time
	Created      time.Time
	Updated      time.Time
}

// TaskRun is one run (or skipped run) of a task.
type TaskRun struct {
	ID        int64
	Task      string
	Due       time.Time
	Started   time.Time
	Finished  time.Time
	Outcome   string // running, finished, failed, skipped, needs-approval
	Detail    string
	SessionID string
	MessageID int64
	Late      time.Duration
}

const taskColumns = `id, group_slug, title, prompt, kind, expr, zone, anchor, context, session_id,
	catch_up_s, approval_wait_s, auto_approve, enabled, next_run, created, updated`

// CreateTask stores a new task of an existing group.
func (s *Store) CreateTask(ctx context.Context, t Task) (Task, error) {
	if err := s.writable("create task"); err != nil {
		return t, err
	}
	t.Created = s.opts.Now().UTC()
	t.Updated = t.Created
	_, err := s.w.ExecContext(ctx, `INSERT INTO tasks (`+taskColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.Group, t.Title, t.Prompt, t.Kind, t.Expr, t.Zone, optTime(t.Anchor), t.Context, t.SessionID,
		int64(t.CatchUp/time.Second), int64(t.ApprovalWait/time.Second), t.AutoApprove, t.Enabled, optTime(t.NextRun),
		formatTime(t.Created), formatTime(t.Updated))
	switch {
	case isUnique(err):
		return t, fmt.Errorf("task %q %w", t.ID, ErrExists)
	case err != nil && isForeignKey(err):
		return t, fmt.Errorf("group %q %w", t.Group, ErrNotFound)
	case err != nil:
		return t, fmt.Errorf("create task in %s: %w", s.path, classify(err))
	}
	return t, nil
}

// UpdateTask writes every field of a task but its id, group and creation time.
func (s *Store) UpdateTask(ctx context.Context, t Task) error {
	if err := s.writable("update task"); err != nil {
		return err
	}
	res, err := s.w.ExecContext(ctx, `UPDATE tasks SET title = ?, prompt = ?, kind = ?, expr = ?, zone = ?, anchor = ?,
		context = ?, session_id = ?, catch_up_s = ?, approval_wait_s = ?, auto_approve = ?, enabled = ?, next_run = ?, updated = ?
		WHERE id = ?`,
		t.Title, t.Prompt, t.Kind, t.Expr, t.Zone, optTime(t.Anchor), t.Context, t.SessionID,
		int64(t.CatchUp/time.Second), int64(t.ApprovalWait/time.Second), t.AutoApprove, t.Enabled, optTime(t.NextRun),
		formatTime(s.opts.Now().UTC()), t.ID)
	if err != nil {
		return fmt.Errorf("update task %s: %w", t.ID, classify(err))
	}
	return affected(res, "task "+t.ID)
}

// DeleteTask removes a task and its run history. Its audit events stay.
func (s *Store) DeleteTask(ctx context.Context, id string) error {
	if err := s.writable("delete task"); err != nil {
		return err
	}
	res, err := s.w.ExecContext(ctx, `DELETE FROM tasks WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete task %s: %w", id, classify(err))
	}
	return affected(res, "task "+id)
}

// Task reads one task.
func (s *Store) Task(ctx context.Context, id string) (Task, error) {
	ts, err := s.tasks(ctx, `WHERE id = ?`, id)
	if err != nil {
		return Task{}, err
	}
	if len(ts) == 0 {
		return Task{}, fmt.Errorf("task %q %w", id, ErrNotFound)
	}
	return ts[0], nil
}

// Tasks lists a group's tasks ("" for every group), by group then title.
func (s *Store) Tasks(ctx context.Context, group string) ([]Task, error) {
	if group == "" {
		return s.tasks(ctx, `ORDER BY group_slug, title, id`)
	}
	return s.tasks(ctx, `WHERE group_slug = ? ORDER BY title, id`, group)
}

func (s *Store) tasks(ctx context.Context, where string, args ...any) ([]Task, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+taskColumns+` FROM tasks `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("read tasks: %w", classify(err))
	}
	defer rows.Close()
	var out []Task
	for rows.Next() {
		var t Task
		var anchor, next, created, updated string
		var catchUp, wait int64
		if err := rows.Scan(&t.ID, &t.Group, &t.Title, &t.Prompt, &t.Kind, &t.Expr, &t.Zone, &anchor, &t.Context, &t.SessionID,
			&catchUp, &wait, &t.AutoApprove, &t.Enabled, &next, &created, &updated); err != nil {
			return nil, fmt.Errorf("read tasks: %w", err)
		}
		t.Anchor, t.NextRun = readOptTime(anchor), readOptTime(next)
		t.Created, t.Updated = readOptTime(created), readOptTime(updated)
		t.CatchUp, t.ApprovalWait = time.Duration(catchUp)*time.Second, time.Duration(wait)*time.Second
		out = append(out, t)
	}
	return out, rows.Err()
}

// AddTaskRun records the start (or skip) of a run and returns it with its id.
func (s *Store) AddTaskRun(ctx context.Context, r TaskRun) (TaskRun, error) {
	if err := s.writable("record task run"); err != nil {
		return r, err
	}
	res, err := s.w.ExecContext(ctx, `INSERT INTO task_runs (task_id, due, started, finished, outcome, detail, session_id, message_id, late_s)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.Task, formatTime(r.Due), optTime(r.Started), optTime(r.Finished), r.Outcome, r.Detail, r.SessionID, r.MessageID,
		int64(r.Late/time.Second))
	if err != nil {
		if isForeignKey(err) {
			return r, fmt.Errorf("task %q %w", r.Task, ErrNotFound)
		}
		return r, fmt.Errorf("record task run: %w", classify(err))
	}
	r.ID, err = res.LastInsertId()
	return r, err
}

// UpdateTaskRun writes a run's outcome, detail, chat and finish time.
func (s *Store) UpdateTaskRun(ctx context.Context, r TaskRun) error {
	if err := s.writable("update task run"); err != nil {
		return err
	}
	res, err := s.w.ExecContext(ctx, `UPDATE task_runs SET outcome = ?, detail = ?, session_id = ?, message_id = ?, finished = ? WHERE id = ?`,
		r.Outcome, r.Detail, r.SessionID, r.MessageID, optTime(r.Finished), r.ID)
	if err != nil {
		return fmt.Errorf("update task run %d: %w", r.ID, classify(err))
	}
	return affected(res, fmt.Sprintf("task run %d", r.ID))
}

// TaskRuns lists a task's runs, newest first, at most limit (0: all).
func (s *Store) TaskRuns(ctx context.Context, task string, limit int) ([]TaskRun, error) {
	if limit <= 0 {
		limit = -1
	}
	return s.taskRuns(ctx, `WHERE task_id = ? ORDER BY id DESC LIMIT ?`, task, limit)
}

// TaskRunsWithOutcome lists the runs with an outcome across all tasks,
// oldest first (the runtime finds the runs a crash left "running").
func (s *Store) TaskRunsWithOutcome(ctx context.Context, outcome string) ([]TaskRun, error) {
	return s.taskRuns(ctx, `WHERE outcome = ? ORDER BY id`, outcome)
}

// TaskSessions is the set of chats that task runs wrote to.
func (s *Store) TaskSessions(ctx context.Context) (map[string]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT DISTINCT r.session_id, r.task_id FROM task_runs r WHERE r.session_id != ''`)
	if err != nil {
		return nil, fmt.Errorf("read task chats: %w", classify(err))
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var session, task string
		if err := rows.Scan(&session, &task); err != nil {
			return nil, err
		}
		out[session] = task
	}
	return out, rows.Err()
}

func (s *Store) taskRuns(ctx context.Context, where string, args ...any) ([]TaskRun, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, task_id, due, started, finished, outcome, detail, session_id, message_id, late_s
		FROM task_runs `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("read task runs: %w", classify(err))
	}
	defer rows.Close()
	var out []TaskRun
	for rows.Next() {
		var r TaskRun
		var due, started, finished string
		var late int64
		if err := rows.Scan(&r.ID, &r.Task, &due, &started, &finished, &r.Outcome, &r.Detail, &r.SessionID, &r.MessageID, &late); err != nil {
			return nil, fmt.Errorf("read task runs: %w", err)
		}
		r.Due, r.Started, r.Finished = readOptTime(due), readOptTime(started), readOptTime(finished)
		r.Late = time.Duration(late) * time.Second
		out = append(out, r)
	}
	return out, rows.Err()
}

// optTime stores a zero time as ”.
func optTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return formatTime(t)
}

func readOptTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, _ := time.Parse(timeLayout, s)
	return t
}
