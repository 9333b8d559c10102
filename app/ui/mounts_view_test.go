package ui

import (
	"context"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/berth-app/berth/app/assistant"
)

// now runs a view's background work at once, on the test's goroutine.
func now(f func()) { f() }

func newMountsFake() *fakeMounts {
	return &fakeMounts{
		groups: []assistant.Group{{Slug: "work", Name: "Work", Settings: assistant.GroupSettings{Network: "none", MemoryMB: 1024}}},
		mounts: map[string][]assistant.Mount{},
	}
}

// openMounts shows the mount picker of the first group, 720×900.
func openMounts(t *testing.T, f *fakeMounts) (*MountsView, fyne.Window) {
	t.Helper()
	a := test.NewTempApp(t)
	v := NewMountsView(context.Background(), f, "")
	v.do, v.async = now, now
	v.Stat = func(string) error { return nil }
	w := NewMountsWindow(a, v)
	t.Cleanup(w.Close)
	w.Resize(fyne.NewSize(720, 900))
	return v, w
}

// overlayButton finds a button in the window's top overlay (a dialog).
func overlayButton(t *testing.T, w fyne.Window, text string) *widget.Button {
	t.Helper()
	top := w.Canvas().Overlays().Top()
	if top == nil {
		t.Fatalf("no dialog open; want one with %q", text)
	}
	var found *widget.Button
	walk(top, func(o fyne.CanvasObject) {
		if b, ok := o.(*widget.Button); ok && b.Text == text && found == nil {
			found = b
		}
	})
	if found == nil {
		t.Fatalf("no button %q in the dialog", text)
	}
	return found
}

func TestMountsGolden(t *testing.T) {
	tests := []struct {
		name  string
		setup func(f *fakeMounts)
		pick  string
	}{
		{"mounts_empty.xml", func(*fakeMounts) {}, ""},
		{"mounts_accepted.xml", func(f *fakeMounts) {
			f.mounts["work"] = []assistant.Mount{{Group: "work", Name: "notes", HostPath: "/home/me/notes", ReadOnly: true, Masks: []string{".env"}}}
			f.CheckFunc = func(string, assistant.MountRequest) (assistant.MountCheck, error) {
				return accepted(".env", "config/credentials.json", "keys/"), nil
			}
		}, "/home/me/src/app"},
		{"mounts_rejected.xml", func(f *fakeMounts) {
			f.CheckFunc = func(string, assistant.MountRequest) (assistant.MountCheck, error) {
				return assistant.MountCheck{Decision: assistant.MountDecision{Rule: assistant.MountRuleBlockedPattern, Host: "/home/me/.ssh",
					Reason: `"/home/me/.ssh" holds SSH keys (blocked pattern ".ssh"); mounts never include it`}}, nil
			}
		}, "/home/me/.ssh"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newMountsFake()
			tc.setup(f)
			v, w := openMounts(t, f)
			if tc.pick != "" {
				v.Pick(tc.pick)
			}
			assertGolden(t, tc.name, w)
		})
	}
}

func TestMountsPickChecksWithoutSaving(t *testing.T) {
	f := newMountsFake()
	var checked []assistant.MountRequest
	f.CheckFunc = func(g string, req assistant.MountRequest) (assistant.MountCheck, error) {
		checked = append(checked, req)
		return accepted(".env"), nil
	}
	f.AddFunc = func(string, assistant.MountRequest) (assistant.MountCheck, error) {
		t.Error("AddMount called before Add was pressed")
		return assistant.MountCheck{}, nil
	}
	v, w := openMounts(t, f)
	v.Pick("/home/me/src/app")
	if !slices.Equal(checked, []assistant.MountRequest{{HostPath: "/home/me/src/app"}}) {
		t.Errorf("checked %+v, want one read-only check of the picked folder", checked)
	}
	if v.check == nil || !v.check.Allowed || v.mode.Selected != ModeReadOnly || v.name.Text != "app" {
		t.Fatalf("check panel: got %+v, mode %q, name %q; want an accepted read-only check named app", v.check, v.mode.Selected, v.name.Text)
	}
	test.Tap(button(t, w, "Cancel"))
	if v.check != nil {
		t.Error("the check stays after Cancel")
	}
}

func TestMountsAddWithChosenMode(t *testing.T) {
	f := newMountsFake()
	var checks, added []assistant.MountRequest
	f.CheckFunc = func(_ string, req assistant.MountRequest) (assistant.MountCheck, error) {
		checks = append(checks, req)
		mc := accepted()
		mc.ReadOnly = !req.Write
		return mc, nil
	}
	f.AddFunc = func(g string, req assistant.MountRequest) (assistant.MountCheck, error) {
		added = append(added, req)
		f.mounts[g] = append(f.mounts[g], assistant.Mount{Group: g, Name: "app", HostPath: "/home/me/src/app", ReadOnly: !req.Write})
		return accepted(), nil
	}
	v, w := openMounts(t, f)
	v.Pick("~/src/app")
	v.mode.SetSelected(ModeReadWrite) // checks again, for write
	if len(checks) != 2 || !checks[1].Write || checks[1].Name != "app" {
		t.Errorf("checks: got %+v, want a second one asking to write", checks)
	}
	test.Tap(button(t, w, "Add"))
	if want := []assistant.MountRequest{{HostPath: "~/src/app", Name: "app", Write: true}}; !slices.Equal(added, want) {
		t.Errorf("added %+v, want %+v", added, want)
	}
	if v.check != nil || len(v.rows) != 1 || v.rows[0].Mode != ModeReadWrite {
		t.Errorf("after Add: check %+v, rows %+v; want the new read-write mount listed", v.check, v.rows)
	}
}

func TestMountsAddRefused(t *testing.T) {
	f := newMountsFake()
	f.CheckFunc = func(string, assistant.MountRequest) (assistant.MountCheck, error) { return accepted(), nil }
	f.AddFunc = func(string, assistant.MountRequest) (assistant.MountCheck, error) {
		d := assistant.MountDecision{Rule: assistant.MountRuleChanged, Reason: "the folder became a link to /etc"}
		return assistant.MountCheck{Decision: d}, &assistant.MountRejectedError{Decision: d}
	}
	v, w := openMounts(t, f)
	v.Pick("/home/me/src/app")
	test.Tap(button(t, w, "Add"))
	if v.check == nil || v.check.Allowed || v.check.Reason != "The folder became a link to /etc" {
		t.Errorf("after a refused Add: got %+v, want the reason shown", v.check)
	}
	if len(v.rows) != 0 {
		t.Errorf("rows: got %d, want none", len(v.rows))
	}
}

func TestMountsRemoveAsksFirst(t *testing.T) {
	f := newMountsFake()
	f.mounts["work"] = []assistant.Mount{{Group: "work", Name: "notes", HostPath: "/home/me/notes", ReadOnly: true}}
	var removed []string
	f.RemoveFunc = func(g, name string) error {
		removed = append(removed, g+"/"+name)
		f.mounts[g] = nil
		return nil
	}
	v, w := openMounts(t, f)
	test.Tap(button(t, w, "Remove"))
	if len(removed) != 0 {
		t.Fatal("removed before the user confirmed")
	}
	test.Tap(overlayButton(t, w, "No"))
	if len(removed) != 0 || len(v.rows) != 1 {
		t.Fatalf("removed %v after No, want nothing", removed)
	}
	test.Tap(button(t, w, "Remove"))
	test.Tap(overlayButton(t, w, "Yes"))
	if !slices.Equal(removed, []string{"work/notes"}) || len(v.rows) != 0 {
		t.Errorf("removed %v, rows %d; want work/notes removed and none left", removed, len(v.rows))
	}
}

func TestMountsSaveGroupSettings(t *testing.T) {
	f := newMountsFake()
	var got []string
	f.SetGroupFunc = func(slug string, changes []string) (assistant.Group, error) {
		got = changes
		g := f.groups[0]
		for _, kv := range changes {
			if err := g.Settings.Set(kv); err != nil {
				t.Fatal(err)
			}
		}
		return g, nil
	}
	v, w := openMounts(t, f)
	v.form.network.SetSelected("open")
	v.form.approval.SetSelected(assistant.ApprovalAskAll)
	v.form.memory.SetText("10")
	test.Tap(button(t, w, "Save settings"))
	if got != nil || v.saved.Text == "" {
		t.Fatalf("saved %q with memory 10; want nothing saved and the error shown", got)
	}
	v.form.memory.SetText("2048")
	test.Tap(button(t, w, "Save settings"))
	if want := []string{"network=open", "approval=ask-all", "memory=2048"}; !slices.Equal(got, want) {
		t.Errorf("changes: got %q, want %q", got, want)
	}
	if v.group.Settings.MemoryMB != 2048 || v.form.memory.Text != "2048" {
		t.Errorf("after saving: group %+v, field %q", v.group.Settings, v.form.memory.Text)
	}
}

// sizedMounts is the picker's fake service that can also measure the group
// folder.
type sizedMounts struct {
	*fakeMounts
	usage assistant.FolderUsage
}

func (s sizedMounts) GroupFolderUsage(context.Context, string) (assistant.FolderUsage, error) {
	return s.usage, nil
}

func TestMountsShowsTheGroupFolderSize(t *testing.T) {
	f := sizedMounts{fakeMounts: newMountsFake(), usage: assistant.FolderUsage{Files: 12, Folders: 3, Bytes: 3 << 20, Complete: true}}
	a := test.NewTempApp(t)
	v := NewMountsView(context.Background(), f, "")
	v.do, v.async = now, now
	v.Stat = func(string) error { return nil }
	w := NewMountsWindow(a, v)
	t.Cleanup(w.Close)
	want := "The group's own folder (/workspace/group, read-write): 12 files in 3 folders, 3.0 MB."
	if v.folder == nil || v.folder.Text != want {
		t.Fatalf("folder line: got %v, want %q", v.folder, want)
	}
	if got := FolderUsageText(assistant.FolderUsage{Files: 200000}, nil); !strings.Contains(got, "200,000 files or more") {
		t.Errorf("a walk that stopped at its limit: %q", got)
	}
	if got := FolderUsageText(assistant.FolderUsage{Files: 1, Folders: 1, Complete: true}, nil); !strings.Contains(got, ": 1 file in 1 folder,") {
		t.Errorf("one file in one folder: %q", got)
	}
}

// TestMountsRemoveClearsTheScrollBar: a mount's Remove button keeps the
// scroll bar's width (even while the bar is widened under the pointer) and
// the window's padding clear at the right, as "Add folder…" has at the left.
func TestMountsRemoveClearsTheScrollBar(t *testing.T) {
	f := newMountsFake()
	f.mounts["work"] = []assistant.Mount{{Group: "work", Name: "notes", HostPath: "/home/me/notes", ReadOnly: true}}
	v, _ := openMounts(t, f)
	var remove *widget.Button
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch o := o.(type) {
		case *widget.Button:
			if o.Text == "Remove" {
				remove = o
			}
		case *fyne.Container:
			for _, c := range o.Objects {
				walk(c)
			}
		}
	}
	walk(v.scroll.Content)
	if remove == nil {
		t.Fatal("no Remove button")
	}
	d := fyne.CurrentApp().Driver()
	right := d.AbsolutePositionForObject(v.scroll).X + v.scroll.Size().Width
	gap := right - (d.AbsolutePositionForObject(remove).X + remove.Size().Width)
	if want := theme.ScrollBarSize() + theme.Padding(); gap < want {
		t.Errorf("Remove ends %v from the scroll's right edge, want at least %v (the scroll bar and a padding)", gap, want)
	}
}

// TestMountsPickShowsTheCheck: in a window too short for the whole picker,
// picking a folder scrolls its check result into view, Add button and all.
func TestMountsPickShowsTheCheck(t *testing.T) {
	f := newMountsFake()
	f.mounts["work"] = []assistant.Mount{{Group: "work", Name: "notes", HostPath: "/home/me/notes", ReadOnly: true}}
	f.CheckFunc = func(string, assistant.MountRequest) (assistant.MountCheck, error) { return accepted(".env"), nil }
	v, w := openMounts(t, f)
	w.Resize(fyne.NewSize(720, 360))
	v.Pick("/home/me/src/app")
	var add *widget.Button
	for _, o := range test.LaidOutObjects(v.checkBox) {
		if b, ok := o.(*widget.Button); ok && b.Text == "Add" {
			add = b
		}
	}
	if add == nil {
		t.Fatal("the check has no Add button")
	}
	d := fyne.CurrentApp().Driver()
	top := d.AbsolutePositionForObject(v.scroll).Y
	y := d.AbsolutePositionForObject(add).Y
	if y < top || y+add.Size().Height > top+v.scroll.Size().Height {
		t.Errorf("the check's Add button is out of view: at y %v, the view %v–%v", y, top, top+v.scroll.Size().Height)
	}
}
