package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestTasksRoundTripAndCascade(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, dbPath(t), Options{})
	if _, err := s.CreateGroup(ctx, Group{Slug: "notes", Name: "Notes"}); err != nil {
		t.Fatal(err)
	}
	next := time.Date(2026, 12, 2, 7, 0, 0, 0, time.UTC)
	in := Task{ID: "t1", Group: "notes", Title: "Morning notes", Prompt: "summarise", Kind: "cron", Expr: "0 8 * * *",
		Zone: "Europe/Berlin", Context: "fresh", CatchUp: 12 * time.Hour, ApprovalWait: time.Hour, Enabled: true, NextRun: next}
	if _, err := s.CreateTask(ctx, in); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateTask(ctx, in); !errors.Is(err, ErrExists) {
		t.Fatalf("second create: got %v, want ErrExists", err)
	}
	in2 := in
	in2.ID, in2.Group = "t2", "nope"
	if _, err := s.CreateTask(ctx, in2); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown group: got %v, want ErrNotFound", err)
	}
	got, err := s.Task(ctx, "t1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != in.Title || got.Expr != in.Expr || got.Zone != in.Zone || !got.NextRun.Equal(next) ||
		got.CatchUp != in.CatchUp || got.ApprovalWait != in.ApprovalWait || !got.Enabled || got.AutoApprove || !got.Anchor.IsZero() {
		t.Fatalf("read back %+v, want %+v", got, in)
	}
	got.Enabled, got.NextRun = false, time.Time{}
	if err := s.UpdateTask(ctx, got); err != nil {
		t.Fatal(err)
	}
	if got, _ = s.Task(ctx, "t1"); got.Enabled || !got.NextRun.IsZero() {
		t.Fatalf("after update: %+v", got)
	}

	run, err := s.AddTaskRun(ctx, TaskRun{Task: "t1", Due: next, Started: next.Add(time.Minute), Outcome: "running", Late: time.Minute})
	if err != nil || run.ID == 0 {
		t.Fatalf("add run: %v %+v", err, run)
	}
	run.Outcome, run.SessionID, run.Finished = "finished", "s1", next.Add(2*time.Minute)
	if err := s.UpdateTaskRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	runs, err := s.TaskRuns(ctx, "t1", 0)
	if err != nil || len(runs) != 1 || runs[0].Outcome != "finished" || runs[0].Late != time.Minute || runs[0].SessionID != "s1" {
		t.Fatalf("runs: %v %+v", err, runs)
	}
	chats, err := s.TaskSessions(ctx)
	if err != nil || chats["s1"] != "t1" {
		t.Fatalf("task chats: %v %v", err, chats)
	}

	// A task goes with its group, and its runs with it.
	if err := s.DeleteGroup(ctx, "notes"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Task(ctx, "t1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after group delete: got %v, want ErrNotFound", err)
	}
	if runs, _ := s.TaskRuns(ctx, "t1", 0); len(runs) != 0 {
		t.Fatalf("runs outlived their task: %+v", runs)
	}
}
