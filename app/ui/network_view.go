package ui

import (
	"context"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/berth-app/berth/app/assistant"
)

// NetService is what the Network view needs of the assistant.
type NetService interface {
	NetShow(ctx context.Context, group string) (assistant.NetView, error)
	SetNetMode(ctx context.Context, group, mode string) (assistant.Group, error)
	NetAllow(ctx context.Context, group, preset string, rules []string) (assistant.Group, error)
	NetDeny(ctx context.Context, group string, rules []string) (assistant.Group, error)
	NetRemove(ctx context.Context, group, rule string) (assistant.Group, error)
	NetPreset(ctx context.Context, group, name string, on bool) (assistant.Group, error)
}

var _ NetService = (*assistant.Service)(nil)

// NetworkView is one group's network: its mode (with the warning for
// open), its rules with a remove button each, a rule to add as allow or
// deny, the presets as switches, and the recent destinations with allow
// and deny buttons. Its state is the assistant's NetView; the widgets are
// rebuilt from it after each change. The group menu's Network… opens it
// (network_window.go).
type NetworkView struct {
	svc   NetService
	ctx   context.Context
	group string
	// do runs a func on Fyne's thread, async one off it; fyne.Do and a
	// goroutine unless a test swaps them.
	do, async func(func())

	view    assistant.NetView
	mode    *widget.Select
	warning *widget.Label
	rules   *fyne.Container
	presets *fyne.Container
	recent  *fyne.Container
	entry   *widget.Entry
	allow   *widget.Button
	deny    *widget.Button
	status  *widget.Label
}

// NewNetworkView makes the Network view of a group; ctx bounds its calls.
func NewNetworkView(ctx context.Context, svc NetService, group string) *NetworkView {
	return &NetworkView{svc: svc, ctx: ctx, group: group, do: fyne.Do, async: func(f func()) { go f() }}
}

// Content builds the view and loads the group's network.
func (v *NetworkView) Content() fyne.CanvasObject {
	v.mode = widget.NewSelect(netModeOptions(), nil)
	v.warning = widget.NewLabel("")
	v.warning.Wrapping = fyne.TextWrapWord
	v.warning.Importance = widget.DangerImportance
	v.rules, v.presets, v.recent = container.NewVBox(), container.NewVBox(), container.NewVBox()
	v.entry = widget.NewEntry()
	v.entry.SetPlaceHolder("pypi.org, *.example.com, 10.0.0.5:11434, 192.168.1.0/24")
	v.allow = widget.NewButtonWithIcon("Allow", theme.ConfirmIcon(), func() { v.onRule(false) })
	v.deny = widget.NewButtonWithIcon("Deny", theme.CancelIcon(), func() { v.onRule(true) })
	v.status = widget.NewLabel("")
	v.status.Wrapping = fyne.TextWrapWord
	v.load()
	return container.NewVScroll(container.NewVBox(
		widget.NewForm(widget.NewFormItem("Network", v.mode)), v.warning,
		widget.NewLabelWithStyle("Rules", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), v.rules,
		container.NewBorder(nil, nil, nil, container.NewHBox(v.allow, v.deny), v.entry), v.status,
		widget.NewLabelWithStyle("Presets", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), v.presets,
		widget.NewLabelWithStyle("Recent destinations", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), v.recent,
	))
}

// load reads the group's network off Fyne's thread and renders it.
func (v *NetworkView) load() {
	v.async(func() {
		nv, err := v.svc.NetShow(v.ctx, v.group)
		v.do(func() {
			if err != nil {
				v.status.SetText(err.Error())
				return
			}
			v.view = nv
			v.render()
		})
	})
}

// change runs one change off Fyne's thread, then shows its error or the
// group's network as it is now.
func (v *NetworkView) change(f func() error) {
	v.async(func() {
		err := f()
		v.do(func() {
			if err != nil {
				v.status.SetText(err.Error())
				return
			}
			v.status.SetText("")
			v.load()
		})
	})
}

func (v *NetworkView) render() {
	nv := v.view
	v.mode.OnChanged = nil
	v.mode.SetSelected(string(nv.Mode))
	v.mode.OnChanged = v.onMode
	v.warning.SetText(strings.ReplaceAll(nv.Warning, "GROUP", nv.Group))
	if nv.Warning == "" {
		v.warning.Hide()
	} else {
		v.warning.Show()
	}
	var rows []fyne.CanvasObject
	for _, r := range nv.Allow {
		what := "allow " + r.Rule
		if r.Preset != "" {
			what += " (" + r.Preset + ")"
		}
		rows = append(rows, v.ruleRow(what, r.Rule))
	}
	for _, r := range nv.Deny {
		rows = append(rows, v.ruleRow("deny "+r, r))
	}
	if len(rows) == 0 {
		rows = append(rows, widget.NewLabel("No rules: every destination is asked."))
	}
	v.rules.Objects = rows
	v.rules.Refresh()

	rows = nil
	for _, p := range nv.Presets {
		hosts := strings.Join(p.Hosts, ", ")
		if p.On {
			hosts = strings.Join(p.Rules, ", ")
		}
		check := widget.NewCheck(p.Title, nil)
		check.SetChecked(p.On)
		name := p.Name
		check.OnChanged = func(on bool) {
			v.change(func() error { _, err := v.svc.NetPreset(v.ctx, v.group, name, on); return err })
		}
		note := widget.NewLabel(strings.TrimSpace(hosts + "  " + p.Note))
		note.Wrapping = fyne.TextWrapWord
		rows = append(rows, container.NewVBox(check, note))
	}
	v.presets.Objects = rows
	v.presets.Refresh()

	rows = nil
	for i, d := range nv.Recent {
		if i == 20 {
			break
		}
		dest := fmt.Sprintf("%s:%d", d.Host, d.Port)
		allow := widget.NewButton("Allow", func() {
			v.change(func() error { _, err := v.svc.NetAllow(v.ctx, v.group, "", []string{dest}); return err })
		})
		deny := widget.NewButton("Deny", func() { v.change(func() error { _, err := v.svc.NetDeny(v.ctx, v.group, []string{dest}); return err }) })
		label := widget.NewLabel(fmt.Sprintf("%s  %s  %s", d.Time.Local().Format("15:04"), dest, strings.TrimPrefix(d.Kind, assistant.AuditNetPrefix+".")))
		rows = append(rows, container.NewBorder(nil, nil, nil, container.NewHBox(allow, deny), label))
	}
	if len(rows) == 0 {
		rows = append(rows, widget.NewLabel("No connections yet."))
	}
	v.recent.Objects = rows
	v.recent.Refresh()
}

func (v *NetworkView) ruleRow(what, rule string) fyne.CanvasObject {
	rm := widget.NewButtonWithIcon("", theme.DeleteIcon(), func() {
		v.change(func() error { _, err := v.svc.NetRemove(v.ctx, v.group, rule); return err })
	})
	return container.NewBorder(nil, nil, nil, rm, widget.NewLabel(what))
}

func (v *NetworkView) onMode(mode string) {
	v.change(func() error { _, err := v.svc.SetNetMode(v.ctx, v.group, mode); return err })
}

// onRule adds the typed rules (separated by spaces or commas) as allow or
// deny rules; a bad one is shown and nothing is changed.
func (v *NetworkView) onRule(deny bool) {
	rules := strings.FieldsFunc(v.entry.Text, func(r rune) bool { return r == ',' || r == ' ' })
	if len(rules) == 0 {
		v.status.SetText("Type a host, host:port, *.example.com, an IP or a CIDR.")
		return
	}
	v.change(func() error {
		var err error
		if deny {
			_, err = v.svc.NetDeny(v.ctx, v.group, rules)
		} else {
			_, err = v.svc.NetAllow(v.ctx, v.group, "", rules)
		}
		if err == nil {
			v.do(func() { v.entry.SetText("") })
		}
		return err
	})
}

// netModeOptions are the network modes as a select offers them.
func netModeOptions() []string {
	out := make([]string, len(assistant.NetModes))
	for i, m := range assistant.NetModes {
		out[i] = string(m)
	}
	return out
}
