package ui

import (
	"bytes"
	"fmt"
	"image/png"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"github.com/berth-app/berth/app/assistant"
	"github.com/berth-app/berth/assets"
)

// menuLabels flattens a menu: separators are "---", disabled items end in
// " (disabled)", child items are "parent ▸ child".
func menuLabels(t *testing.T, m *fyne.Menu) []string {
	t.Helper()
	var out []string
	for _, it := range m.Items {
		switch {
		case it.IsSeparator:
			out = append(out, "---")
		case it.ChildMenu != nil:
			for _, c := range it.ChildMenu.Items {
				out = append(out, it.Label+" ▸ "+label(c))
			}
		default:
			out = append(out, label(it))
		}
	}
	return out
}

func label(it *fyne.MenuItem) string {
	if it.Disabled {
		return it.Label + " (disabled)"
	}
	return it.Label
}

func TestTrayMenuLabels(t *testing.T) {
	t.Parallel()
	groups := []TrayGroup{{Slug: "work", Name: "Work"}, {Slug: "oss"}}
	tests := []struct {
		name string
		st   TrayState
		want []string
		icon IconKind
	}{
		{
			name: "ready with two sandboxes",
			st:   TrayState{Docker: DockerReady, Sandboxes: 2, Groups: groups},
			want: []string{"Docker ready · 2 sandboxes (disabled)", "---", "Open chat", "New chat in ▸ Work", "New chat in ▸ oss", "---", "Tasks…", "---",
				"Pause assistant", "Rotate sandboxes", "Stop all sandboxes", "---", "Mounts…", "Audit log", "Settings"},
			icon: IconReady,
		},
		{
			name: "ready, nothing running, no groups",
			st:   TrayState{Docker: DockerReady},
			want: []string{"Docker ready · no sandboxes (disabled)", "---", "Open chat", "New chat in ▸ No groups yet (disabled)", "---", "Tasks…", "---",
				"Pause assistant", "Rotate sandboxes", "Stop all sandboxes (disabled)", "---", "Mounts…", "Audit log", "Settings"},
			icon: IconReady,
		},
		{
			name: "one sandbox",
			st:   TrayState{Docker: DockerReady, Sandboxes: 1, Groups: groups[:1]},
			want: []string{"Docker ready · 1 sandbox (disabled)", "---", "Open chat", "New chat in ▸ Work", "---", "Tasks…", "---",
				"Pause assistant", "Rotate sandboxes", "Stop all sandboxes", "---", "Mounts…", "Audit log", "Settings"},
			icon: IconReady,
		},
		{
			name: "docker down says why",
			st:   TrayState{Docker: DockerDown, Reason: "cannot connect to unix:///var/run/docker.sock", Groups: groups[:1]},
			want: []string{"Docker is not running — assistant blocked (disabled)", "cannot connect to unix:///var/run/docker.sock (disabled)", "---",
				"Open chat", "New chat in ▸ Work", "---", "Tasks…", "---",
				"Pause assistant", "Rotate sandboxes", "Stop all sandboxes (disabled)", "---", "Mounts…", "Audit log", "Settings"},
			icon: IconDown,
		},
		{
			name: "misconfigured",
			st:   TrayState{Docker: DockerMisconfigured, Reason: "sandbox image berth-sandbox:latest is missing", Sandboxes: 1},
			want: []string{"Docker needs attention — assistant blocked (disabled)", "sandbox image berth-sandbox:latest is missing (disabled)", "---",
				"Open chat", "New chat in ▸ No groups yet (disabled)", "---", "Tasks…", "---",
				"Pause assistant", "Rotate sandboxes", "Stop all sandboxes", "---", "Mounts…", "Audit log", "Settings"},
			icon: IconDown,
		},
		{
			name: "paused by the user",
			st:   TrayState{Docker: DockerReady, Paused: true, Sandboxes: 3, Groups: groups[1:]},
			want: []string{"Paused by you (disabled)", "---", "Open chat", "New chat in ▸ oss", "---", "Tasks…", "---",
				"Resume assistant", "Rotate sandboxes", "Stop all sandboxes", "---", "Mounts…", "Audit log", "Settings"},
			icon: IconPaused,
		},
		{
			name: "paused while docker is down",
			st:   TrayState{Docker: DockerDown, Reason: "daemon gone", Paused: true},
			want: []string{"Paused by you (disabled)", "---", "Open chat", "New chat in ▸ No groups yet (disabled)", "---", "Tasks…", "---",
				"Resume assistant", "Rotate sandboxes", "Stop all sandboxes (disabled)", "---", "Mounts…", "Audit log", "Settings"},
			icon: IconPaused,
		},
		{
			name: "checking",
			st:   TrayState{Docker: DockerChecking},
			want: []string{"Checking Docker… (disabled)", "---", "Open chat", "New chat in ▸ No groups yet (disabled)", "---", "Tasks…", "---",
				"Pause assistant", "Rotate sandboxes", "Stop all sandboxes (disabled)", "---", "Mounts…", "Audit log", "Settings"},
			icon: IconPaused,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := menuLabels(t, TrayMenu(tc.st, TrayActions{}))
			if !slices.Equal(got, tc.want) {
				t.Errorf("menu:\ngot  %q\nwant %q", got, tc.want)
			}
			if got := TrayIcon(tc.st); got != tc.icon {
				t.Errorf("icon: got %v, want %v", got, tc.icon)
			}
		})
	}
}

// find returns the item whose label is path[0] (then path[1] in its child menu).
func find(t *testing.T, m *fyne.Menu, path ...string) *fyne.MenuItem {
	t.Helper()
	for _, it := range m.Items {
		if it.Label != path[0] {
			continue
		}
		if len(path) == 1 {
			return it
		}
		return find(t, it.ChildMenu, path[1:]...)
	}
	t.Fatalf("no menu item %q", strings.Join(path, " ▸ "))
	return nil
}

func TestTrayMenuActions(t *testing.T) {
	t.Parallel()
	var called []string
	rec := func(name string) func() { return func() { called = append(called, name) } }
	act := TrayActions{
		OnOpenChat: rec("open"), OnNewChat: func(g string) { called = append(called, "new "+g) },
		OnPause: rec("pause"), OnResume: rec("resume"), OnRotate: rec("rotate"), OnStopAll: rec("stop all"),
		OnMounts: rec("mounts"), OnAudit: rec("audit"), OnSettings: rec("settings"),
	}
	running := TrayState{Docker: DockerReady, Sandboxes: 1, Groups: []TrayGroup{{Slug: "work", Name: "Work"}, {Slug: "home", Name: "Home"}}}
	paused := running
	paused.Paused = true
	tests := []struct {
		name string
		st   TrayState
		path []string
		want string
	}{
		{"open chat", running, []string{"Open chat"}, "open"},
		{"new chat in work", running, []string{"New chat in", "Work"}, "new work"},
		{"new chat in home", running, []string{"New chat in", "Home"}, "new home"},
		{"pause", running, []string{"Pause assistant"}, "pause"},
		{"resume", paused, []string{"Resume assistant"}, "resume"},
		{"rotate", running, []string{"Rotate sandboxes"}, "rotate"},
		{"stop all", running, []string{"Stop all sandboxes"}, "stop all"},
		{"mounts", running, []string{"Mounts…"}, "mounts"},
		{"audit", running, []string{"Audit log"}, "audit"},
		{"settings", running, []string{"Settings"}, "settings"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			called = nil
			find(t, TrayMenu(tc.st, act), tc.path...).Action()
			if len(called) != 1 || called[0] != tc.want {
				t.Errorf("called %q, want [%q]", called, tc.want)
			}
		})
	}
}

func TestTrayMenuNilActions(t *testing.T) {
	t.Parallel()
	m := TrayMenu(TrayState{Docker: DockerReady, Sandboxes: 1, Groups: []TrayGroup{{Slug: "a"}}}, TrayActions{})
	for _, it := range m.Items {
		if it.Action != nil {
			it.Action() // must not panic
		}
		if it.ChildMenu != nil {
			for _, c := range it.ChildMenu.Items {
				c.Action()
			}
		}
	}
}

func TestTrayStateFrom(t *testing.T) {
	t.Parallel()
	groups := []assistant.Group{{Slug: "work", Name: "Work"}}
	tests := []struct {
		name string
		gate assistant.GateState
		want TrayState
	}{
		{"ready", assistant.GateState{Open: true, Docker: assistant.DockerReady, Reason: "Docker 20.10 is ready"},
			TrayState{Docker: DockerReady, Sandboxes: 2, Groups: []TrayGroup{{"work", "Work"}}}},
		{"down", assistant.GateState{Docker: assistant.DockerDown, Reason: "cannot connect"},
			TrayState{Docker: DockerDown, Reason: "cannot connect", Sandboxes: 2, Groups: []TrayGroup{{"work", "Work"}}}},
		{"misconfigured", assistant.GateState{Docker: assistant.DockerMisconfigured, Reason: "permission denied"},
			TrayState{Docker: DockerMisconfigured, Reason: "permission denied", Sandboxes: 2, Groups: []TrayGroup{{"work", "Work"}}}},
		{"paused", assistant.GateState{Docker: assistant.DockerReady, Paused: "lunch", Reason: "the assistant is paused (lunch)", Hint: "resume it from the tray or with `berth resume`"},
			TrayState{Docker: DockerReady, Paused: true, Sandboxes: 2, Groups: []TrayGroup{{"work", "Work"}}}},
		{"checking", assistant.GateState{Docker: assistant.DockerChecking, Reason: "checking Docker…"},
			TrayState{Docker: DockerChecking, Reason: "checking Docker…", Sandboxes: 2, Groups: []TrayGroup{{"work", "Work"}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := TrayStateFrom(tc.gate, 2, groups)
			if got.Docker != tc.want.Docker || got.Reason != tc.want.Reason || got.Paused != tc.want.Paused ||
				got.Sandboxes != tc.want.Sandboxes || !slices.Equal(got.Groups, tc.want.Groups) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestIcons(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		data []byte
		size int
	}{
		{"app", assets.IconApp, 256},
		{"ready", assets.IconReady, 64},
		{"down", assets.IconDown, 64},
		{"paused", assets.IconPaused, 64},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			img, err := png.Decode(bytes.NewReader(tc.data))
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if b := img.Bounds(); b.Dx() != tc.size || b.Dy() != tc.size {
				t.Errorf("size: got %v, want %d×%d", b.Size(), tc.size, tc.size)
			}
		})
	}
	seen := map[string]IconKind{}
	for _, k := range []IconKind{IconReady, IconDown, IconPaused} {
		name := k.Resource().Name()
		if prev, ok := seen[name]; ok {
			t.Errorf("icons %v and %v share the resource %s", prev, k, name)
		}
		seen[name] = k
	}
}

func TestTooltip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		st   TrayState
		want string
	}{
		{"ready", TrayState{Docker: DockerReady, Sandboxes: 2}, "Berth — Docker ready · 2 sandboxes"},
		{"down, with the reason", TrayState{Docker: DockerDown, Reason: "cannot connect"}, "Berth — Docker is not running — assistant blocked\ncannot connect"},
		{"paused", TrayState{Docker: DockerDown, Reason: "cannot connect", Paused: true}, "Berth — Paused by you"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := Tooltip(tc.st); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestHintSegments(t *testing.T) {
	t.Parallel()
	segs := HintSegments("start Docker: `sudo systemctl start docker`, then retry")
	var got []string
	for _, s := range segs {
		ts := s.(*widget.TextSegment)
		got = append(got, fmt.Sprintf("%s|%v", ts.Text, ts.Style == widget.RichTextStyleCodeInline))
	}
	want := []string{"start Docker: |false", "sudo systemctl start docker|true", ", then retry|false"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := PlainHint("run `make image`"); got != "run make image" {
		t.Errorf("plain: got %q", got)
	}
}
