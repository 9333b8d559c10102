package ui

import (
	"cmp"
	"context"
	"os"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/berth-app/berth/app/assistant"
)

// MountsView is the mount picker of one group: its folders, a folder being
// checked before it is added, and the group's sandbox settings. Its state
// is the rows and the CheckState; the widgets are rebuilt from them.
type MountsView struct {
	svc MountService
	ctx context.Context
	win fyne.Window
	// do runs a func on Fyne's thread, async runs one off it; fyne.Do and
	// a goroutine unless a test swaps them.
	do, async func(func())
	// Stat says whether a mounted folder is still there; os.Stat.
	Stat func(string) error

	groups []assistant.Group
	group  assistant.Group
	rows   []MountRow
	check  *CheckState

	groupSel *widget.Select
	list     *fyne.Container
	folder   *widget.Label // the group folder's size, when the service can tell
	checkBox *fyne.Container
	status   *widget.Label
	name     *widget.Entry
	mode     *widget.RadioGroup
	form     groupFields
	saved    *widget.Label
	scroll   *container.Scroll // laid out again after each render: the check panel comes and goes
}

// groupFields are the group settings' inputs.
type groupFields struct {
	image, memory, cpus, pids *widget.Entry
	network, approval         *widget.Select
}

// NewMountsView makes the mount picker for a group ("" for the first one);
// ctx bounds the calls it makes.
func NewMountsView(ctx context.Context, svc MountService, group string) *MountsView {
	return &MountsView{svc: svc, ctx: ctx, do: fyne.Do, async: func(f func()) { go f() },
		Stat: func(p string) error { _, err := os.Stat(p); return err }, group: assistant.Group{Slug: group}}
}

// NewMountsWindow opens a window on the mount picker.
func NewMountsWindow(app fyne.App, v *MountsView) fyne.Window {
	w := app.NewWindow("Berth — Mounts")
	w.SetIcon(AppIcon())
	v.win = w
	w.SetContent(v.build())
	w.Resize(fyne.NewSize(720, 640))
	return w
}

func (v *MountsView) build() fyne.CanvasObject {
	v.groupSel = widget.NewSelect(nil, v.onGroup)
	v.list = container.NewVBox()
	v.checkBox = container.NewVBox()
	v.status = widget.NewLabel("")
	v.status.Wrapping = fyne.TextWrapWord
	add := widget.NewButtonWithIcon("Add folder…", theme.FolderOpenIcon(), v.onAddFolder)
	add.Importance = widget.HighImportance

	f := &v.form
	f.image, f.memory, f.cpus, f.pids = widget.NewEntry(), widget.NewEntry(), widget.NewEntry(), widget.NewEntry()
	f.image.SetPlaceHolder("the default image")
	f.memory.SetPlaceHolder("default")
	f.cpus.SetPlaceHolder("default")
	f.pids.SetPlaceHolder("default")
	f.network = widget.NewSelect(netModeOptions(), nil)
	f.network.PlaceHolder = "default"
	f.approval = widget.NewSelect([]string{assistant.ApprovalAuto, assistant.ApprovalAskWrites, assistant.ApprovalAskAll}, nil)
	v.saved = widget.NewLabel("")
	v.saved.Wrapping = fyne.TextWrapWord
	settings := widget.NewForm(
		widget.NewFormItem("Image", f.image),
		widget.NewFormItem("Network", f.network),
		widget.NewFormItem("Approval", f.approval),
		widget.NewFormItem("Memory (MB)", f.memory),
		widget.NewFormItem("CPUs", f.cpus),
		widget.NewFormItem("Processes", f.pids),
	)
	save := widget.NewButtonWithIcon("Save settings", theme.DocumentSaveIcon(), v.onSaveSettings)

	folders := []fyne.CanvasObject{
		container.NewBorder(nil, nil, widget.NewLabel("Group"), nil, v.groupSel),
		heading("Folders the sandbox sees"),
	}
	if _, ok := v.svc.(FolderSizer); ok {
		v.folder = widget.NewLabel("")
		v.folder.Wrapping = fyne.TextWrapWord
		folders = append(folders, v.folder)
	}
	body := container.NewVBox(append(folders,
		v.list,
		container.NewHBox(add),
		v.checkBox,
		v.status,
		widget.NewSeparator(),
		heading("Sandbox settings of this group"),
		settings,
		container.NewHBox(save),
		v.saved,
	)...)
	// The scroll bar lies over its content's right edge (widened under the
	// pointer): keep it and a padding clear of the Remove buttons.
	lane := theme.ScrollBarSize() + theme.Padding()
	v.scroll = container.NewVScroll(container.New(layout.NewCustomPaddedLayout(0, 0, 0, lane), body))
	v.load()
	return v.scroll
}

func heading(text string) *widget.Label {
	return widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
}

// load reads the groups, then the open group and its mounts.
func (v *MountsView) load() {
	groups, err := v.svc.Groups(v.ctx)
	if err != nil {
		v.status.SetText("Could not read the groups: " + err.Error())
		return
	}
	v.groups = groups
	if v.group.Slug == "" && len(groups) > 0 {
		v.group.Slug = groups[0].Slug
	}
	var names []string
	for _, g := range groups {
		names = append(names, cmp.Or(g.Name, g.Slug))
	}
	v.groupSel.SetOptions(names)
	for _, g := range groups {
		if g.Slug == v.group.Slug {
			v.group = g
			v.groupSel.Selected = cmp.Or(g.Name, g.Slug)
			v.groupSel.Refresh()
		}
	}
	v.fillSettings()
	v.reloadMounts()
	v.measureFolder()
}

// FolderSizer measures a group's folder (bounded, no symlink followed);
// *assistant.Service has it.
type FolderSizer interface {
	GroupFolderUsage(ctx context.Context, group string) (assistant.FolderUsage, error)
}

// measureFolder shows the group folder's size, measured off Fyne's thread.
func (v *MountsView) measureFolder() {
	sizer, ok := v.svc.(FolderSizer)
	if !ok || v.folder == nil || v.group.Slug == "" {
		return
	}
	group := v.group.Slug
	v.async(func() {
		u, err := sizer.GroupFolderUsage(v.ctx, group)
		v.do(func() { v.folder.SetText(FolderUsageText(u, err)) })
	})
}

// SetGroup shows another group's mounts; a folder being checked is dropped.
func (v *MountsView) SetGroup(slug string) {
	v.group, v.check = assistant.Group{Slug: slug}, nil
	v.saved.SetText("")
	v.load()
}

func (v *MountsView) onGroup(name string) {
	for _, g := range v.groups {
		if cmp.Or(g.Name, g.Slug) == name && g.Slug != v.group.Slug {
			v.SetGroup(g.Slug)
		}
	}
}

func (v *MountsView) reloadMounts() {
	v.rows = nil
	if v.group.Slug != "" {
		ms, err := v.svc.Mounts(v.ctx, v.group.Slug)
		if err != nil {
			v.status.SetText("Could not read the mounts: " + err.Error())
		}
		v.rows = MountRows(ms, v.Stat)
	}
	v.render()
}

// render rebuilds the mount list and the check panel from the state.
func (v *MountsView) render() {
	var objs []fyne.CanvasObject
	if len(v.rows) == 0 {
		empty := widget.NewLabelWithStyle(NoMountsText, fyne.TextAlignLeading, fyne.TextStyle{Italic: true})
		empty.Wrapping = fyne.TextWrapWord
		objs = append(objs, empty)
	}
	for _, r := range v.rows {
		objs = append(objs, v.rowObject(r))
	}
	v.list.Objects = objs
	v.list.Refresh()

	v.checkBox.Objects = nil
	if v.check != nil {
		v.checkBox.Objects = []fyne.CanvasObject{v.checkObject(*v.check)}
	}
	v.checkBox.Refresh()
	v.scroll.Content.Refresh()
	v.scroll.Refresh()
}

func (v *MountsView) rowObject(r MountRow) fyne.CanvasObject {
	name := r.Name
	remove := widget.NewButtonWithIcon("Remove", theme.DeleteIcon(), func() { v.onRemove(name) })
	path := widget.NewLabel(r.Host + ", seen as " + r.Container)
	path.Wrapping = fyne.TextWrapBreak
	lines := container.NewVBox(heading(r.Name), path, widget.NewLabel(r.Summary()))
	if r.Problem {
		st := widget.NewLabel(r.Status)
		st.Importance = widget.DangerImportance
		st.Wrapping = fyne.TextWrapWord
		lines.Add(st)
	}
	return container.NewBorder(nil, widget.NewSeparator(), nil, container.NewVBox(remove), lines)
}

func (v *MountsView) checkObject(st CheckState) fyne.CanvasObject {
	box := container.NewVBox()
	if st.Allowed {
		box.Add(heading("Ready to add " + st.Path))
		box.Add(widget.NewLabel("The sandbox will see it at " + st.Container))
	} else {
		box.Add(heading("Cannot add " + st.Path))
		reason := widget.NewLabel(st.Reason)
		reason.Importance = widget.DangerImportance
		reason.Wrapping = fyne.TextWrapWord
		box.Add(reason)
	}
	v.name = widget.NewEntry()
	v.name.SetText(st.Name)
	v.name.SetPlaceHolder("the folder's name")
	v.name.OnSubmitted = func(string) { v.onRecheck() }
	v.mode = widget.NewRadioGroup([]string{ModeReadOnly, ModeReadWrite}, nil)
	v.mode.Horizontal = true
	v.mode.Selected = ModeReadOnly
	if st.Write {
		v.mode.Selected = ModeReadWrite
	}
	v.mode.Required = true
	v.mode.OnChanged = func(string) { v.onRecheck() }
	box.Add(widget.NewForm(widget.NewFormItem("Name", v.name), widget.NewFormItem("Access", v.mode)))
	if st.Allowed {
		if st.Size != "" {
			box.Add(widget.NewLabel("Size: " + st.Size))
		}
		if len(st.Masked) == 0 {
			box.Add(widget.NewLabel("No secret-looking files found."))
		} else {
			box.Add(widget.NewLabel("Hidden from the sandbox (they look like secrets):"))
			for _, m := range st.Masked {
				box.Add(widget.NewLabelWithStyle("  "+m, fyne.TextAlignLeading, fyne.TextStyle{Monospace: true}))
			}
			if st.More > 0 {
				box.Add(widget.NewLabel("…and " + plural(st.More, "more", "more")))
			}
		}
		for _, n := range st.Notes {
			l := widget.NewLabel(n)
			l.Importance = widget.WarningImportance
			l.Wrapping = fyne.TextWrapWord
			box.Add(l)
		}
	}
	cancel := widget.NewButton("Cancel", v.onCancel)
	if st.Allowed {
		add := widget.NewButtonWithIcon("Add", theme.ContentAddIcon(), v.onAdd)
		add.Importance = widget.HighImportance
		box.Add(container.NewHBox(add, cancel))
	} else {
		box.Add(container.NewHBox(widget.NewButton("Check again", v.onRecheck), cancel))
	}
	return widget.NewCard("", "", box)
}

func (v *MountsView) onAddFolder() {
	d := dialog.NewFolderOpen(func(dir fyne.ListableURI, err error) {
		if err != nil {
			v.status.SetText("Could not open the folder: " + err.Error())
			return
		}
		if dir != nil {
			v.Pick(dir.Path())
		}
	}, v.win)
	d.Show()
}

// Pick checks a folder the user picked and shows the result; nothing is
// saved until Add.
func (v *MountsView) Pick(path string) {
	v.status.SetText("")
	v.checkMount(CheckState{Path: path})
}

// checkMount runs the check (a folder scan) off Fyne's thread.
func (v *MountsView) checkMount(req CheckState) {
	group := v.group.Slug
	v.status.SetText("Checking " + req.Path + "…")
	v.async(func() {
		mc, err := v.svc.CheckMount(v.ctx, group, req.Request())
		st := CheckStateFrom(req.Path, req.Write, mc, err)
		if st.Name == "" {
			st.Name = req.Name
		}
		v.do(func() {
			if v.group.Slug != group {
				return
			}
			v.status.SetText("")
			v.check = &st
			v.render()
			v.revealCheck()
		})
	})
}

// asked is the request the check panel's fields describe now.
func (v *MountsView) asked() CheckState {
	st := *v.check
	st.Name = strings.TrimSpace(v.name.Text)
	st.Write = v.mode.Selected == ModeReadWrite
	return st
}

func (v *MountsView) onRecheck() {
	if v.check != nil {
		v.checkMount(v.asked())
	}
}

func (v *MountsView) onCancel() {
	v.check = nil
	v.render()
}

func (v *MountsView) onAdd() {
	if v.check == nil {
		return
	}
	req, group := v.asked(), v.group.Slug
	v.async(func() {
		mc, err := v.svc.AddMount(v.ctx, group, req.Request())
		v.do(func() {
			if err != nil {
				st := CheckStateFrom(req.Path, req.Write, mc, err)
				st.Name = req.Name
				v.check = &st
				v.render()
				return
			}
			v.check = nil
			v.status.SetText("Added " + mc.Host + " at " + mc.Container + ".")
			v.reloadMounts()
		})
	})
}

func (v *MountsView) onRemove(name string) {
	group := v.group.Slug
	dialog.ShowConfirm("Remove "+name+"?",
		"The sandbox will no longer see this folder; the group's sandboxes restart. The folder itself is not touched.",
		func(ok bool) {
			if !ok {
				return
			}
			if err := v.svc.RemoveMount(v.ctx, group, name); err != nil {
				v.status.SetText("Could not remove " + name + ": " + err.Error())
				return
			}
			v.status.SetText("Removed " + name + ".")
			v.reloadMounts()
		}, v.win)
}
