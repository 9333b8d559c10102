package ui

import "fyne.io/fyne/v2/widget"

// fillSettings shows the open group's sandbox settings in the fields.
func (v *MountsView) fillSettings() {
	f, gf := &v.form, GroupFormFrom(v.group.Settings)
	f.image.SetText(gf.Image)
	f.network.Selected = gf.Network
	f.network.Refresh()
	f.approval.Selected = gf.Approval
	f.approval.Refresh()
	f.memory.SetText(gf.MemoryMB)
	f.cpus.SetText(gf.CPUs)
	f.pids.SetText(gf.Pids)
}

func (v *MountsView) onSaveSettings() {
	f := &v.form
	form := GroupForm{Image: f.image.Text, Network: f.network.Selected, Approval: f.approval.Selected,
		MemoryMB: f.memory.Text, CPUs: f.cpus.Text, Pids: f.pids.Text}
	changes, err := form.Changes(v.group.Settings)
	v.saved.Importance = widget.DangerImportance
	switch {
	case err != nil:
		v.saved.SetText(err.Error())
		return
	case len(changes) == 0:
		v.saved.Importance = widget.MediumImportance
		v.saved.SetText("Nothing changed.")
		return
	}
	g, err := v.svc.SetGroup(v.ctx, v.group.Slug, changes)
	if err != nil {
		v.saved.SetText("Not saved: " + err.Error())
		return
	}
	v.group = g
	v.saved.Importance = widget.SuccessImportance
	v.saved.SetText("Saved. The group's sandboxes restart with the new settings.")
	v.fillSettings()
}
