package ui

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Autostart turns launching Berth at login on and off: an XDG autostart
// entry on Linux and the BSDs, a LaunchAgent on macOS.
type Autostart struct {
	GOOS      string // runtime.GOOS
	Home      string // the user's home folder
	ConfigDir string // $XDG_CONFIG_HOME, or empty for ~/.config
	Exec      string // the berth binary to start
}

// Path is the file that makes Berth start at login.
func (a Autostart) Path() string {
	if a.GOOS == "darwin" {
		return filepath.Join(a.Home, "Library", "LaunchAgents", AppIDForAutostart+".plist")
	}
	dir := a.ConfigDir
	if dir == "" {
		dir = filepath.Join(a.Home, ".config")
	}
	return filepath.Join(dir, "autostart", AppIDForAutostart+".desktop")
}

// AppIDForAutostart names the autostart file (the app's id).
const AppIDForAutostart = "dev.berth.app"

// Enabled reports whether Berth starts at login.
func (a Autostart) Enabled() bool {
	_, err := os.Stat(a.Path())
	return err == nil
}

// Set writes or removes the autostart file.
func (a Autostart) Set(on bool) error {
	path := a.Path()
	if !on {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("launch at login: %w", err)
		}
		return nil
	}
	if a.Exec == "" || strings.ContainsAny(a.Exec, "\n\"<>&") {
		return fmt.Errorf("launch at login: cannot use %q as the program", a.Exec)
	}
	var body string
	if a.GOOS == "darwin" {
		body = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Label</key><string>` + AppIDForAutostart + `</string>
	<key>ProgramArguments</key><array><string>` + a.Exec + `</string></array>
	<key>RunAtLoad</key><true/>
</dict>
</plist>
`
	} else {
		body = "[Desktop Entry]\nType=Application\nName=Berth\nComment=A personal AI assistant whose hands work only inside Docker sandboxes\n" +
			"Exec=\"" + a.Exec + "\"\nIcon=" + AppIDForAutostart + "\nX-GNOME-Autostart-enabled=true\n"
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("launch at login: %w", err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		return fmt.Errorf("launch at login: %w", err)
	}
	return nil
}
