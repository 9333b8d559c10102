// Package service installs `berth serve` as the user's own background
// service, so that scheduled tasks and a running gate survive logouts and
// reboots: a systemd user unit on Linux (Restart=on-failure, logs in the
// journal), a LaunchAgent on macOS (restarted when it fails, logs in
// ~/Library/Logs/Berth). It writes the file, then asks the service manager
// to load it when one is reachable, and says what to run when none is (a
// container, a machine without systemd as PID 1).
//
// Only the variables that say where Berth and Docker are (ServeEnv) are
// written into the file; API keys never are — the service reads them from
// the OS keyring or the key file like any berth command.
package service

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Name is the systemd unit's name; Label the LaunchAgent's.
const (
	Name  = "berth.service"
	Label = "dev.berth.serve"
)

// ServeEnv are the variables copied from the installing shell into the
// service, when set: where Berth keeps its state and which Docker and
// sandbox image it uses.
var ServeEnv = []string{"BERTH_HOME", "BERTH_IMAGE", "DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_CONFIG"}

// Service describes the service to install for this user.
type Service struct {
	GOOS       string   // "linux" or "darwin"
	Exe        string   // the berth binary (absolute)
	Env        []string // NAME=value, from ServeEnv
	Home       string   // the user's home folder
	ConfigHome string   // XDG_CONFIG_HOME ("" = Home/.config)
	User       string   // the user's login name, for loginctl
	// Run runs a service-manager command (systemctl, launchctl, loginctl)
	// and returns its combined output; tests replace it.
	Run func(name string, args ...string) ([]byte, error)
}

// FromEnv describes the service for the running berth binary and this
// user's environment.
func FromEnv(goos string) (Service, error) {
	exe, err := os.Executable()
	if err != nil {
		return Service{}, fmt.Errorf("find the berth binary: %w", err)
	}
	if resolved, err := filepath.EvalSymlinks(exe); err == nil {
		exe = resolved
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return Service{}, fmt.Errorf("find your home folder: %w", err)
	}
	s := Service{GOOS: goos, Exe: exe, Home: home, ConfigHome: os.Getenv("XDG_CONFIG_HOME"),
		User: os.Getenv("USER"), Run: runCommand}
	for _, name := range ServeEnv {
		if v := os.Getenv(name); v != "" {
			if name == "BERTH_HOME" {
				if abs, err := filepath.Abs(v); err == nil {
					v = abs // the service does not start in this folder
				}
			}
			s.Env = append(s.Env, name+"="+v)
		}
	}
	return s, nil
}

// Path is where the service's file goes.
func (s Service) Path() string {
	if s.GOOS == "darwin" {
		return filepath.Join(s.Home, "Library", "LaunchAgents", Label+".plist")
	}
	return filepath.Join(cmp.Or(s.ConfigHome, filepath.Join(s.Home, ".config")), "systemd", "user", Name)
}

// LogHint says where the service's output goes.
func (s Service) LogHint() string {
	if s.GOOS == "darwin" {
		return filepath.Join(s.Home, "Library", "Logs", "Berth", "serve.log")
	}
	return "journalctl --user -u berth"
}

// File is the content of the service's file.
func (s Service) File() []byte {
	if s.GOOS == "darwin" {
		return s.launchAgent()
	}
	return s.systemdUnit()
}

// systemdUnit is a user unit: started with the user's manager (at login,
// or at boot with lingering on), restarted when it fails, logging to the
// journal.
func (s Service) systemdUnit() []byte {
	var b strings.Builder
	b.WriteString("# Berth's assistant without a window (berth serve), as a systemd user service.\n")
	b.WriteString("# Written by `berth service install`; `berth service uninstall` removes it.\n")
	b.WriteString("# Logs: journalctl --user -u berth. To keep it running after you log out and\n")
	b.WriteString("# start it at boot: loginctl enable-linger\n")
	b.WriteString("[Unit]\nDescription=Berth assistant (berth serve)\nDocumentation=https://github.com/berth-app/berth#headless\n\n")
	b.WriteString("[Service]\nType=simple\n")
	fmt.Fprintf(&b, "ExecStart=%s serve\n", systemdQuote(strings.ReplaceAll(s.Exe, "$", "$$"))) // ExecStart expands $VAR
	for _, kv := range s.Env {
		fmt.Fprintf(&b, "Environment=%s\n", systemdQuote(kv))
	}
	b.WriteString("Restart=on-failure\nRestartSec=5s\n")
	b.WriteString("StandardOutput=journal\nStandardError=journal\n\n")
	b.WriteString("[Install]\nWantedBy=default.target\n")
	return []byte(b.String())
}

// systemdQuote quotes one word of a unit file line: specifiers (%) doubled,
// and double quotes around anything with a space, quote or backslash.
func systemdQuote(s string) string {
	s = strings.ReplaceAll(s, "%", "%%")
	if !strings.ContainsAny(s, " \t\"'\\") {
		return s
	}
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, `"`, `\"`)
	return `"` + s + `"`
}

// launchAgent is a LaunchAgent: loaded at login, restarted when it exits
// with a failure, its output in ~/Library/Logs/Berth.
func (s Service) launchAgent() []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<!-- Berth's assistant without a window (berth serve). Written by "berth service install";
     "berth service uninstall" removes it. -->
<plist version="1.0">
<dict>
	<key>Label</key><string>` + Label + `</string>
	<key>ProgramArguments</key>
	<array><string>` + xmlEscape(s.Exe) + `</string><string>serve</string></array>
	<key>RunAtLoad</key><true/>
	<key>KeepAlive</key>
	<dict><key>SuccessfulExit</key><false/></dict>
	<key>ThrottleInterval</key><integer>5</integer>
`)
	if len(s.Env) > 0 {
		b.WriteString("\t<key>EnvironmentVariables</key>\n\t<dict>\n")
		for _, kv := range s.Env {
			k, v, _ := strings.Cut(kv, "=")
			fmt.Fprintf(&b, "\t\t<key>%s</key><string>%s</string>\n", xmlEscape(k), xmlEscape(v))
		}
		b.WriteString("\t</dict>\n")
	}
	log := xmlEscape(s.LogHint())
	fmt.Fprintf(&b, "\t<key>StandardOutPath</key><string>%s</string>\n\t<key>StandardErrorPath</key><string>%s</string>\n", log, log)
	b.WriteString("</dict>\n</plist>\n")
	return []byte(b.String())
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;").Replace(s)
}
