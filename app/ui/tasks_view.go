package ui

import (
	"context"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/berth-app/berth/app/assistant"
)

// TasksView is the Tasks window: a group's scheduled tasks (next run, last
// outcome, Run now, pause, delete) and a form that adds one, showing the
// schedule's next five runs as it is typed.
type TasksView struct {
	svc TaskService
	ctx context.Context
	win fyne.Window
	// do runs a func on Fyne's thread, async one off it (tests swap them).
	do, async func(func())
	// Now is the clock of the schedule preview.
	Now func() time.Time

	group  string
	groups []assistant.Group
	rows   []TaskRow

	groupSel *widget.Select
	list     *fyne.Container
	status   *widget.Label

	title, prompt, expr *widget.Entry
	kind                *widget.Select
	context             *widget.RadioGroup
	auto                *widget.Check
	preview             *widget.Label
	add, cancelEdit     *widget.Button
	editing             string // the task the form edits; "" adds a new one
	formTitle           *widget.Label
}

// NewTasksView makes the Tasks window's content for a group ("" for the
// first one).
func NewTasksView(ctx context.Context, svc TaskService, group string) *TasksView {
	return &TasksView{svc: svc, ctx: ctx, do: fyne.Do, async: func(f func()) { go f() }, Now: time.Now, group: group}
}

// NewTasksWindow opens a window on the view.
func NewTasksWindow(app fyne.App, v *TasksView) fyne.Window {
	w := app.NewWindow("Berth — Tasks")
	w.SetIcon(AppIcon())
	v.win = w
	w.SetContent(v.build())
	w.Resize(fyne.NewSize(720, 680))
	return w
}

// SetGroup shows another group's tasks.
func (v *TasksView) SetGroup(group string) {
	v.group = group
	v.load()
}

func (v *TasksView) build() fyne.CanvasObject {
	v.groupSel = widget.NewSelect(nil, func(name string) {
		for _, g := range v.groups {
			if g.Name == name || g.Slug == name {
				if g.Slug != v.group {
					v.group = g.Slug
					v.load()
				}
			}
		}
	})
	v.list = container.NewVBox()
	v.status = widget.NewLabel("")
	v.status.Wrapping = fyne.TextWrapWord

	v.title = widget.NewEntry()
	v.title.SetPlaceHolder("Morning notes")
	v.prompt = widget.NewMultiLineEntry()
	v.prompt.SetPlaceHolder("What should the assistant do? e.g. Summarise what changed in my notes folder since yesterday.")
	v.prompt.Wrapping = fyne.TextWrapWord
	v.prompt.SetMinRowsVisible(3)
	v.expr = widget.NewEntry()
	v.expr.SetPlaceHolder("0 8 * * 1-5")
	v.kind = widget.NewSelect(ScheduleKinds, func(string) { v.onSchedule() })
	v.kind.SetSelectedIndex(0)
	v.expr.OnChanged = func(string) { v.onSchedule() }
	v.context = widget.NewRadioGroup([]string{"A new chat each run", "Continue one chat"}, nil)
	v.context.SetSelected("A new chat each run")
	v.context.Horizontal = true
	v.auto = widget.NewCheck("Run without asking for approvals (as if the group were in auto mode)", nil)
	v.preview = widget.NewLabel("")
	v.preview.Wrapping = fyne.TextWrapWord
	v.add = widget.NewButtonWithIcon("Add task", theme.ContentAddIcon(), v.onAdd)
	v.add.Importance = widget.HighImportance
	v.cancelEdit = widget.NewButton("Cancel", v.resetForm)
	v.cancelEdit.Hide()
	v.formTitle = heading("New task")
	v.onSchedule()

	form := widget.NewForm(
		widget.NewFormItem("Title", v.title),
		widget.NewFormItem("Prompt", v.prompt),
		widget.NewFormItem("Schedule", container.NewBorder(nil, nil, v.kind, nil, v.expr)),
		widget.NewFormItem("", v.preview),
		widget.NewFormItem("Context", v.context),
		widget.NewFormItem("", v.auto),
	)
	body := container.NewVBox(
		container.NewBorder(nil, nil, widget.NewLabel("Group"), nil, v.groupSel),
		heading("Scheduled tasks"),
		v.list,
		v.status,
		widget.NewSeparator(),
		v.formTitle,
		form,
		container.NewHBox(v.add, v.cancelEdit),
	)
	v.load()
	return container.NewVScroll(body)
}

// load reads the groups and the group's tasks off Fyne's thread.
func (v *TasksView) load() {
	v.async(func() {
		groups, err := v.svc.Groups(v.ctx)
		group := v.group
		if group == "" && len(groups) > 0 {
			group = groups[0].Slug
		}
		if group == "" {
			group = assistant.DefaultGroup
		}
		infos, terr := v.svc.Tasks(v.ctx, group)
		v.do(func() {
			v.groups, v.group = groups, group
			var names []string
			selected := group
			for _, g := range groups {
				names = append(names, cmpName(g))
				if g.Slug == group {
					selected = cmpName(g)
				}
			}
			v.groupSel.Options = names
			v.groupSel.Selected = selected
			v.groupSel.Refresh()
			v.rows = v.rows[:0]
			for _, in := range infos {
				v.rows = append(v.rows, TaskRowOf(in))
			}
			switch {
			case err != nil:
				v.status.SetText("Could not read the groups: " + err.Error())
			case terr != nil:
				v.status.SetText("Could not read the tasks: " + terr.Error())
			}
			v.render()
		})
	})
}

func cmpName(g assistant.Group) string {
	if g.Name != "" {
		return g.Name
	}
	return g.Slug
}

func (v *TasksView) render() {
	v.list.Objects = nil
	if len(v.rows) == 0 {
		empty := widget.NewLabel("No tasks in this group yet. A task runs a prompt on a schedule — every morning, every two hours, once tomorrow — " +
			"through the same sandbox, approvals and audit log as a message you type. Add one below.")
		empty.Wrapping = fyne.TextWrapWord
		v.list.Add(empty)
	}
	for _, r := range v.rows {
		v.list.Add(v.rowCard(r))
	}
	v.list.Refresh()
}

func (v *TasksView) rowCard(r TaskRow) fyne.CanvasObject {
	id := r.ID
	title := widget.NewLabelWithStyle(r.Title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.Truncation = fyne.TextTruncateEllipsis
	info := widget.NewLabel(r.Schedule + " · " + r.Next)
	info.Wrapping = fyne.TextWrapWord
	last := widget.NewLabel(r.Last)
	last.Wrapping = fyne.TextWrapWord
	if r.Failed {
		last.Importance = widget.DangerImportance
	}
	enabled := widget.NewCheck("Enabled", nil)
	enabled.SetChecked(r.Enabled)
	enabled.OnChanged = func(on bool) { v.call(func() error { return v.svc.SetTaskEnabled(v.ctx, id, on) }, "") }
	run := widget.NewButtonWithIcon("Run now", theme.MediaPlayIcon(), func() {
		v.call(func() error { return v.svc.RunTask(v.ctx, id) }, "Started "+r.Title+": its chat is in the chat window.")
	})
	edit := widget.NewButtonWithIcon("Edit", theme.DocumentCreateIcon(), func() { v.onEdit(r.Info) })
	del := widget.NewButtonWithIcon("Delete", theme.DeleteIcon(), func() {
		if v.win == nil {
			return
		}
		dialog.ShowConfirm("Delete task", "Delete "+r.Title+" and its run history? Its audit events stay.", func(ok bool) {
			if ok {
				v.call(func() error { return v.svc.RemoveTask(v.ctx, id) }, "Deleted "+r.Title+".")
			}
		}, v.win)
	})
	return widget.NewCard("", "", container.NewVBox(title, info, last, container.NewHBox(enabled, run, edit, del)))
}

// call runs a change off Fyne's thread, then says how it went and reloads.
func (v *TasksView) call(f func() error, done string) {
	v.async(func() {
		err := f()
		v.do(func() {
			if err != nil {
				v.status.SetText("✗ " + err.Error())
			} else {
				v.status.SetText(done)
			}
		})
		v.load()
	})
}

func (v *TasksView) onSchedule() {
	if v.preview == nil || v.add == nil {
		return
	}
	text, ok := SchedulePreview(v.svc, v.kind.Selected, v.expr.Text, v.Now())
	v.preview.SetText(text)
	if ok {
		v.preview.Importance = widget.MediumImportance
		v.add.Enable()
	} else {
		v.preview.Importance = widget.DangerImportance
		v.add.Disable()
	}
	v.preview.Refresh()
}

func (v *TasksView) onAdd() {
	spec := assistant.TaskSpec{Group: v.group, Title: v.title.Text, Prompt: v.prompt.Text,
		Kind: scheduleKindOf[v.kind.Selected], Expr: v.expr.Text, Context: assistant.TaskFresh, AutoApprove: v.auto.Checked}
	if v.context.Selected == "Continue one chat" {
		spec.Context = assistant.TaskChat
	}
	editing := v.editing
	v.async(func() {
		var info assistant.TaskInfo
		var err error
		verb := "Added"
		if editing != "" {
			info, err = v.svc.UpdateTask(v.ctx, editing, spec)
			verb = "Saved"
		} else {
			info, err = v.svc.AddTask(v.ctx, spec)
		}
		v.do(func() {
			if err != nil {
				v.status.SetText("✗ Not saved: " + err.Error())
				return
			}
			v.status.SetText(verb + " " + info.Title + ": " + info.Words + ".")
			v.resetForm()
		})
		v.load()
	})
}

// onEdit fills the form with a task; Save changes it.
func (v *TasksView) onEdit(in assistant.TaskInfo) {
	v.editing = in.ID
	v.formTitle.SetText("Edit " + in.Title)
	v.title.SetText(in.Title)
	v.prompt.SetText(in.Prompt)
	v.kind.SetSelected(scheduleLabel(in.Kind))
	v.expr.SetText(in.Schedule)
	if in.Context == assistant.TaskChat {
		v.context.SetSelected("Continue one chat")
	} else {
		v.context.SetSelected("A new chat each run")
	}
	v.auto.SetChecked(in.AutoApprove)
	v.add.SetText("Save changes")
	v.cancelEdit.Show()
}

// resetForm empties the form for a new task.
func (v *TasksView) resetForm() {
	v.editing = ""
	v.formTitle.SetText("New task")
	v.title.SetText("")
	v.prompt.SetText("")
	v.expr.SetText("")
	v.auto.SetChecked(false)
	v.context.SetSelected("A new chat each run")
	v.add.SetText("Add task")
	v.cancelEdit.Hide()
}
