package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/berth-app/berth/app/assistant"
	"github.com/berth-app/berth/app/home/installtest"
	"github.com/berth-app/berth/app/store"
)

// realTaskService is the Tasks window's service over a real store (no
// engine is needed to add, list, pause or remove tasks).
func realTaskService(t *testing.T) (TaskService, *assistant.Service) {
	t.Helper()
	p, st := installtest.Open(t, "", store.Options{})
	svc := &assistant.Service{Store: st, Paths: p, Location: time.UTC}
	if _, err := svc.AddGroup(context.Background(), "main", "Main", assistant.GroupSettings{}); err != nil {
		t.Fatal(err)
	}
	return ConnectTasks(svc, nil), svc
}

func openTasks(t *testing.T, svc TaskService) (*TasksView, fyne.Window) {
	t.Helper()
	a := test.NewTempApp(t)
	v := NewTasksView(context.Background(), svc, "")
	v.do, v.async = now, now
	v.Now = func() time.Time { return time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC) }
	w := NewTasksWindow(a, v)
	t.Cleanup(w.Close)
	return v, w
}

func labelsOf(o fyne.CanvasObject) string {
	var b strings.Builder
	walk(o, func(o fyne.CanvasObject) {
		if l, ok := o.(*widget.Label); ok {
			b.WriteString(l.Text + "\n")
		}
	})
	return b.String()
}

func TestTasksWindowPreviewsTheScheduleAndAddsATask(t *testing.T) {
	svc, asvc := realTaskService(t)
	v, w := openTasks(t, svc)
	if got := labelsOf(w.Content()); !strings.Contains(got, "No tasks in this group yet") {
		t.Fatalf("empty state missing:\n%s", got)
	}
	if !v.add.Disabled() {
		t.Error("Add is enabled with no schedule")
	}
	test.Type(v.expr, "0 25 * * *")
	if !strings.HasPrefix(v.preview.Text, "✗ cron expression") || !v.add.Disabled() {
		t.Errorf("invalid cron: preview %q, add disabled %v", v.preview.Text, v.add.Disabled())
	}
	v.expr.SetText("")
	test.Type(v.expr, "0 8 * * 1-5")
	want := "✓ on weekdays at 08:00\nNext runs: Wed 2 Dec 08:00 · Thu 3 Dec 08:00 · Fri 4 Dec 08:00 · Mon 7 Dec 08:00 · Tue 8 Dec 08:00"
	if v.preview.Text != want || v.add.Disabled() {
		t.Errorf("preview:\n got %q\nwant %q (add disabled %v)", v.preview.Text, want, v.add.Disabled())
	}
	test.Type(v.title, "Morning notes")
	test.Type(v.prompt, "summarise my notes")
	test.Tap(v.add)
	if !strings.Contains(v.status.Text, "Added Morning notes: on weekdays at 08:00") {
		t.Fatalf("status after add: %q", v.status.Text)
	}
	ts, _ := asvc.Tasks(context.Background(), "main")
	if len(ts) != 1 || ts[0].Title != "Morning notes" || ts[0].Expr != "0 8 * * 1-5" {
		t.Fatalf("stored: %+v", ts)
	}
	if got := labelsOf(w.Content()); !strings.Contains(got, "Morning notes") || !strings.Contains(got, "never run") {
		t.Errorf("the list does not show the new task:\n%s", got)
	}

	// The Enabled box pauses it.
	var box *widget.Check
	walk(v.list, func(o fyne.CanvasObject) {
		if c, ok := o.(*widget.Check); ok && c.Text == "Enabled" {
			box = c
		}
	})
	if box == nil {
		t.Fatal("no Enabled box on the task's card")
	}
	test.Tap(box)
	if got, _ := asvc.Task(context.Background(), ts[0].ID); got.Enabled {
		t.Error("unticking Enabled did not pause the task")
	}
	if got := labelsOf(w.Content()); !strings.Contains(got, "paused") {
		t.Errorf("a paused task does not say so:\n%s", got)
	}
}

func TestTrayTaskItems(t *testing.T) {
	t.Parallel()
	var ran []string
	st := TrayState{Docker: DockerReady, NextTask: "Next task: Morning notes · Wed 08:00",
		Tasks: []TrayTask{{ID: "t-1", Title: "Morning notes"}, {ID: "t-2", Title: "Build check"}}}
	m := TrayMenu(st, TrayActions{OnRunTask: func(id string) { ran = append(ran, id) }})
	var labels []string
	for _, it := range m.Items {
		labels = append(labels, it.Label)
		if it.Label == "Run task now" {
			if len(it.ChildMenu.Items) != 2 || it.ChildMenu.Items[1].Label != "Build check" {
				t.Fatalf("submenu: %+v", it.ChildMenu.Items)
			}
			it.ChildMenu.Items[1].Action()
		}
	}
	got := strings.Join(labels, "|")
	if !strings.Contains(got, "Next task: Morning notes · Wed 08:00|Tasks…|Run task now") {
		t.Errorf("tray items: %s", got)
	}
	if len(ran) != 1 || ran[0] != "t-2" {
		t.Errorf("Run task now ▸ Build check ran %v", ran)
	}
	next := time.Date(2026, 12, 2, 8, 0, 0, 0, time.Local)
	later := next.Add(time.Hour)
	line := NextTaskLine([]assistant.TaskInfo{{Title: "later", Enabled: true, NextRun: &later}, {Title: "soon", Enabled: true, NextRun: &next},
		{Title: "paused", Enabled: false, NextRun: &next}})
	if line != "Next task: soon · Wed 08:00" {
		t.Errorf("next task line: %q", line)
	}
}

func TestTasksWindowEditsATask(t *testing.T) {
	svc, asvc := realTaskService(t)
	ctx := context.Background()
	if _, err := asvc.AddTask(ctx, assistant.TaskSpec{Group: "main", Title: "Build check", Prompt: "check", Kind: "every", Expr: "2h"}, assistant.ActorUser); err != nil {
		t.Fatal(err)
	}
	v, _ := openTasks(t, svc)
	var edit *widget.Button
	walk(v.list, func(o fyne.CanvasObject) {
		if b, ok := o.(*widget.Button); ok && b.Text == "Edit" {
			edit = b
		}
	})
	if edit == nil {
		t.Fatal("no Edit button")
	}
	test.Tap(edit)
	if v.expr.Text != "2h" || v.kind.Selected != "Every" || v.add.Text != "Save changes" {
		t.Fatalf("form after Edit: %q %q %q", v.expr.Text, v.kind.Selected, v.add.Text)
	}
	v.expr.SetText("30m")
	test.Tap(v.add)
	ts, _ := asvc.Tasks(ctx, "main")
	if len(ts) != 1 || ts[0].Expr != "30m" {
		t.Fatalf("after Save: %+v (status %q)", ts, v.status.Text)
	}
	if v.add.Text != "Add task" {
		t.Errorf("the form stays in edit mode: %q", v.add.Text)
	}
}
