package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAutostart(t *testing.T) {
	t.Parallel()
	cases := []struct {
		goos, want string
	}{
		{"linux", "xdg/autostart/dev.berth.app.desktop"},
		{"darwin", "Library/LaunchAgents/dev.berth.app.plist"},
	}
	for _, c := range cases {
		t.Run(c.goos, func(t *testing.T) {
			t.Parallel()
			home := t.TempDir()
			a := Autostart{GOOS: c.goos, Home: home, ConfigDir: filepath.Join(home, "xdg"), Exec: "/opt/berth/bin/berth"}
			if !strings.HasSuffix(a.Path(), c.want) {
				t.Fatalf("path: got %s, want …%s", a.Path(), c.want)
			}
			if a.Enabled() {
				t.Fatal("enabled before Set")
			}
			if err := a.Set(true); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(a.Path())
			if err != nil || !a.Enabled() || !strings.Contains(string(b), "/opt/berth/bin/berth") {
				t.Fatalf("after Set(true): %q %v", b, err)
			}
			if err := a.Set(false); err != nil || a.Enabled() {
				t.Fatalf("after Set(false): enabled %v, %v", a.Enabled(), err)
			}
			if err := a.Set(false); err != nil {
				t.Errorf("turning off twice: %v", err)
			}
		})
	}
	if err := (Autostart{GOOS: "linux", Home: t.TempDir(), Exec: "evil\"\nExec=rm"}).Set(true); err == nil {
		t.Error("a program path that would inject lines was accepted")
	}
}
