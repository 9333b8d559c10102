package ui

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/berth-app/berth/app/assistant"
)

// fakeNet keeps one group's network in memory, as the assistant would.
type fakeNet struct {
	view  assistant.NetView
	calls []string
}

func (f *fakeNet) NetShow(context.Context, string) (assistant.NetView, error) { return f.view, nil }

func (f *fakeNet) SetNetMode(_ context.Context, _ string, mode string) (assistant.Group, error) {
	f.calls = append(f.calls, "mode "+mode)
	f.view.Mode, f.view.Warning = assistant.NetworkMode(mode), ""
	if f.view.Mode == assistant.NetModeOpen {
		f.view.Warning = assistant.OpenWarning
	}
	return assistant.Group{}, nil
}

func (f *fakeNet) NetAllow(_ context.Context, _ string, preset string, rules []string) (assistant.Group, error) {
	f.calls = append(f.calls, "allow "+strings.Join(rules, " "))
	for _, r := range rules {
		if strings.Contains(r, "!") {
			return assistant.Group{}, errors.New(`rule "` + r + `": '!' is not allowed in a host name`)
		}
	}
	for _, r := range rules {
		f.view.Allow = append(f.view.Allow, assistant.NetRule{Rule: r, Preset: preset})
	}
	return assistant.Group{}, nil
}

func (f *fakeNet) NetDeny(_ context.Context, _ string, rules []string) (assistant.Group, error) {
	f.calls = append(f.calls, "deny "+strings.Join(rules, " "))
	f.view.Deny = append(f.view.Deny, rules...)
	return assistant.Group{}, nil
}

func (f *fakeNet) NetRemove(_ context.Context, _ string, rule string) (assistant.Group, error) {
	f.calls = append(f.calls, "rm "+rule)
	f.view.Allow = slices.DeleteFunc(f.view.Allow, func(r assistant.NetRule) bool { return r.Rule == rule })
	return assistant.Group{}, nil
}

func (f *fakeNet) NetPreset(_ context.Context, _ string, name string, on bool) (assistant.Group, error) {
	f.calls = append(f.calls, "preset "+name+map[bool]string{true: " on", false: " off"}[on])
	return assistant.Group{}, nil
}

// TestNetworkView drives the Network view: mode, a rule typed and allowed,
// a bad rule shown and not added, a rule removed, a recent destination
// denied, a preset switched on, and the warning of open mode.
func TestNetworkView(t *testing.T) {
	a := test.NewTempApp(t)
	f := &fakeNet{view: assistant.NetView{Group: "work", Mode: assistant.NetModeAllowlist,
		Presets: []assistant.PresetState{{Preset: assistant.NetPreset{Name: "pypi", Title: "Python packages", Hosts: []string{"pypi.org"}}}},
		Recent:  []assistant.NetDestination{{Time: time.Now(), Host: "evil.example", Port: 443, Kind: "egress.denied"}}}}
	v := NewNetworkView(context.Background(), f, "work")
	v.do, v.async = now, now
	w := a.NewWindow("Network")
	t.Cleanup(w.Close)
	w.SetContent(v.Content())
	w.Resize(fyne.NewSize(700, 800))

	if v.mode.Selected != "allowlist" || v.warning.Visible() {
		t.Errorf("mode %q, warning shown %v", v.mode.Selected, v.warning.Visible())
	}
	test.Type(v.entry, "pypi.org, 10.0.0.5:11434")
	test.Tap(v.allow)
	if !hasLabel(v.rules, "allow pypi.org") || !hasLabel(v.rules, "allow 10.0.0.5:11434") || v.entry.Text != "" {
		t.Errorf("after Allow: rules %v, entry %q", labels(v.rules), v.entry.Text)
	}
	test.Type(v.entry, "bad!host")
	test.Tap(v.allow)
	if !strings.Contains(v.status.Text, "not allowed") || hasLabel(v.rules, "bad!host") || v.entry.Text != "bad!host" {
		t.Errorf("a bad rule: status %q, rules %v, entry %q", v.status.Text, labels(v.rules), v.entry.Text)
	}
	test.Tap(v.rules.Objects[0].(*fyne.Container).Objects[1].(*widget.Button)) // remove pypi.org
	if hasLabel(v.rules, "allow pypi.org") {
		t.Errorf("after remove: %v", labels(v.rules))
	}
	recent := v.recent.Objects[0].(*fyne.Container).Objects[1].(*fyne.Container)
	test.Tap(recent.Objects[1].(*widget.Button)) // Deny evil.example:443
	if !hasLabel(v.rules, "deny evil.example:443") {
		t.Errorf("after denying a recent destination: %v", labels(v.rules))
	}
	check := v.presets.Objects[0].(*fyne.Container).Objects[0].(*widget.Check)
	test.Tap(check)
	v.mode.SetSelected("open")
	if !v.warning.Visible() || !strings.Contains(v.warning.Text, "network open") || strings.Contains(v.warning.Text, "GROUP") {
		t.Errorf("open mode: warning %q shown %v", v.warning.Text, v.warning.Visible())
	}
	want := []string{"allow pypi.org 10.0.0.5:11434", "allow bad!host", "rm pypi.org", "deny evil.example:443", "preset pypi on", "mode open"}
	if !slices.Equal(f.calls, want) {
		t.Errorf("calls:\n got %q\nwant %q", f.calls, want)
	}
}

func labels(c *fyne.Container) []string {
	var out []string
	for _, o := range c.Objects {
		if b, ok := o.(*fyne.Container); ok {
			for _, x := range b.Objects {
				if l, ok := x.(*widget.Label); ok {
					out = append(out, l.Text)
				}
			}
		}
		if l, ok := o.(*widget.Label); ok {
			out = append(out, l.Text)
		}
	}
	return out
}

func hasLabel(c *fyne.Container, text string) bool { return slices.Contains(labels(c), text) }
