package service

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// Report is what an install or uninstall did, line by line, and what the
// user still has to do (Todo: commands to run where no service manager
// answered).
type Report struct {
	Done []string
	Todo []string
}

// Install writes the service's file, then loads and starts it through the
// service manager when one answers; otherwise Report.Todo says what to run.
// It fails only when the file cannot be written.
func (s Service) Install() (Report, error) {
	var r Report
	path := s.Path()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return r, fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	if err := writeAtomic(path, s.File()); err != nil {
		return r, err
	}
	r.Done = append(r.Done, "wrote "+path)
	if s.GOOS == "darwin" {
		logDir := filepath.Dir(s.LogHint())
		if err := os.MkdirAll(logDir, 0o700); err != nil {
			return r, fmt.Errorf("create %s: %w", logDir, err)
		}
		domain := "gui/" + strconv.Itoa(os.Getuid())
		_, _ = s.run("launchctl", "bootout", domain+"/"+Label) // a copy loaded earlier; none is fine
		s.step(&r, "loaded and started it", "launchctl", "bootstrap", domain, path)
		return r, nil
	}
	if s.step(&r, "reloaded systemd's user units", "systemctl", "--user", "daemon-reload") {
		s.step(&r, "enabled and started "+Name, "systemctl", "--user", "enable", "--now", Name)
	} else {
		r.Todo = append(r.Todo, "systemctl --user enable --now "+Name)
	}
	if !s.lingering() {
		r.Todo = append(r.Todo, "loginctl enable-linger "+cmp.Or(s.User, "$USER")+"   # keeps Berth running after you log out, and starts it at boot")
	}
	return r, nil
}

// Uninstall stops the service, unloads it and removes its file. A service
// that is not installed is not an error.
func (s Service) Uninstall() (Report, error) {
	var r Report
	path := s.Path()
	if s.GOOS == "darwin" {
		s.step(&r, "stopped and unloaded it", "launchctl", "bootout", "gui/"+strconv.Itoa(os.Getuid())+"/"+Label)
	} else if _, err := os.Stat(path); err == nil {
		if !s.step(&r, "stopped and disabled "+Name, "systemctl", "--user", "disable", "--now", Name) {
			// Disable by hand: the link `enable` made. What is left to
			// run is stopping a copy that may be running.
			r.Todo[len(r.Todo)-1] = strings.Replace(r.Todo[len(r.Todo)-1], "disable --now", "stop", 1)
			wants := filepath.Join(filepath.Dir(path), "default.target.wants", Name)
			if st, err := os.Lstat(wants); err == nil && st.Mode()&fs.ModeSymlink != 0 && os.Remove(wants) == nil {
				r.Done = append(r.Done, "removed "+wants)
			}
		}
	}
	switch err := os.Remove(path); {
	case err == nil:
		r.Done = append(r.Done, "removed "+path)
	case errors.Is(err, fs.ErrNotExist):
		r.Done = append(r.Done, "not installed ("+path+" does not exist)")
		return r, nil
	default:
		return r, fmt.Errorf("remove %s: %w", path, err)
	}
	if s.GOOS != "darwin" {
		s.step(&r, "reloaded systemd's user units", "systemctl", "--user", "daemon-reload")
	}
	return r, nil
}

// State is what `berth service status` and `berth doctor` show.
type State struct {
	Installed bool   `json:"installed"`
	Path      string `json:"path"`
	Current   bool   `json:"current"`           // the file is what this berth would write now
	Manager   string `json:"manager,omitempty"` // the service manager's word: active, inactive, failed, … ("" when none answers)
	Linger    *bool  `json:"linger,omitempty"`  // Linux: the user's services outlive their logins
}

// Status reads the installed file and asks the service manager about it.
// Whether a Berth is running is the control socket's to say, not this.
func (s Service) Status() State {
	st := State{Path: s.Path()}
	b, err := os.ReadFile(st.Path)
	if err != nil {
		return st
	}
	st.Installed, st.Current = true, bytes.Equal(b, s.File())
	if s.GOOS == "darwin" {
		if _, err := s.run("launchctl", "print", "gui/"+strconv.Itoa(os.Getuid())+"/"+Label); err == nil {
			st.Manager = "loaded"
		}
		return st
	}
	// is-active prints the state and exits non-zero for all but "active".
	if out, _ := s.run("systemctl", "--user", "is-active", Name); isWord(out) {
		st.Manager = strings.TrimSpace(string(out))
	}
	if v, ok := s.linger(); ok {
		st.Linger = &v
	}
	return st
}

// lingering is true when loginctl says lingering is on (when it cannot
// say, the user is told how to turn it on anyway).
func (s Service) lingering() bool {
	v, ok := s.linger()
	return v && ok
}

// linger asks loginctl whether the user's services run without a login.
func (s Service) linger() (on, known bool) {
	if s.User == "" {
		return false, false
	}
	out, err := s.run("loginctl", "show-user", s.User, "--property=Linger")
	if err != nil {
		return false, false
	}
	switch strings.TrimSpace(string(out)) {
	case "Linger=yes":
		return true, true
	case "Linger=no":
		return false, true
	}
	return false, false
}

// step runs one service-manager command; on failure it keeps the command
// for the user to run, with the manager's one-line reason.
func (s Service) step(r *Report, done string, name string, args ...string) bool {
	out, err := s.run(name, args...)
	if err == nil {
		r.Done = append(r.Done, done)
		return true
	}
	reason := strings.TrimSpace(firstLine(string(out)))
	if reason == "" {
		reason = err.Error()
	}
	r.Todo = append(r.Todo, fmt.Sprintf("%s %s   # here it failed: %s", name, strings.Join(args, " "), reason))
	return false
}

func (s Service) run(name string, args ...string) ([]byte, error) {
	if s.Run == nil {
		return nil, errors.New("no service manager")
	}
	return s.Run(name, args...)
}

// runCommand runs a service-manager command when it is installed.
func runCommand(name string, args ...string) ([]byte, error) {
	if _, err := exec.LookPath(name); err != nil {
		return []byte(name + " is not installed"), err
	}
	return exec.Command(name, args...).CombinedOutput()
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// isWord is true for a one-word answer such as systemctl's "active".
func isWord(b []byte) bool {
	w := strings.TrimSpace(string(b))
	return w != "" && !strings.ContainsAny(w, " \t\n")
}

// writeAtomic writes b to path through a temporary file and a rename.
func writeAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".berth-service-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
