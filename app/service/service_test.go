package service

import (
	"bytes"
	"errors"
	"flag"
	"github.com/berth-app/berth/docker/dockertest/need"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// sample is a service with everything that needs quoting: a space in the
// binary's path and in BERTH_HOME, a % (a systemd specifier), XML
// characters for the plist.
func sample(goos, dir string) Service {
	return Service{
		GOOS: goos, Exe: "/opt/My Tools/berth", Home: "/home/ada", User: "ada",
		Env:        []string{"BERTH_HOME=/srv/berth home", "DOCKER_HOST=unix:///run/user/1000/docker.sock", "BERTH_IMAGE=img<&>:100%"},
		ConfigHome: dir,
	}
}

func TestFileGolden(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ goos, golden string }{
		{"linux", "berth.service"},
		{"darwin", Label + ".plist"},
	} {
		got := sample(tc.goos, "/home/ada/.config").File()
		path := filepath.Join("testdata", tc.golden)
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update to write it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: the %s file differs from %s (go test -update rewrites it):\n%s", tc.goos, tc.golden, path, got)
		}
	}
}

func TestPath(t *testing.T) {
	t.Parallel()
	if got := sample("linux", "/x/cfg").Path(); got != "/x/cfg/systemd/user/berth.service" {
		t.Errorf("linux with XDG_CONFIG_HOME: %s", got)
	}
	if got := sample("linux", "").Path(); got != "/home/ada/.config/systemd/user/berth.service" {
		t.Errorf("linux: %s", got)
	}
	if got := sample("darwin", "").Path(); got != "/home/ada/Library/LaunchAgents/dev.berth.serve.plist" {
		t.Errorf("darwin: %s", got)
	}
}

// TestSystemdAnalyzeVerify has systemd check the unit Berth writes, with
// the binary at a path that exists (verify checks ExecStart) and a space in
// it. verify exits 0 on some warnings, so any output fails the test.
func TestSystemdAnalyzeVerify(t *testing.T) {
	_, err := exec.LookPath("systemd-analyze")
	need.Require(t, err == nil, "systemd-analyze is not installed (apt-get install systemd; .ci/deps test does)")
	dir := t.TempDir()
	exe := filepath.Join(dir, "my tools", "berth")
	if err := os.MkdirAll(filepath.Dir(exe), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	s := sample("linux", dir)
	s.Exe = exe
	unit := filepath.Join(dir, Name)
	if err := os.WriteFile(unit, s.File(), 0o644); err != nil {
		t.Fatal(err)
	}
	run := filepath.Join(dir, "run")
	if err := os.Mkdir(run, 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("systemd-analyze", "--user", "verify", unit)
	cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+run, "SYSTEMD_LOG_COLOR=0")
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	t.Logf("systemd-analyze --user verify %s: no complaints", Name)
}

// fakeManager records the commands Install and friends run; failing makes
// every command fail as on a machine without systemd as PID 1.
type fakeManager struct {
	ran     []string
	failing bool
	linger  string
}

func (f *fakeManager) run(name string, args ...string) ([]byte, error) {
	f.ran = append(f.ran, name+" "+strings.Join(args, " "))
	if f.failing {
		return []byte("System has not been booted with systemd as init system (PID 1). Can't operate.\nFailed to connect to bus: Host is down\n"), errors.New("exit status 1")
	}
	switch {
	case name == "loginctl":
		return []byte(f.linger + "\n"), nil
	case len(args) > 1 && args[1] == "is-active":
		return []byte("active\n"), nil
	}
	return nil, nil
}

func TestInstallWithSystemd(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f := &fakeManager{linger: "Linger=no"}
	s := sample("linux", dir)
	s.Run = f.run
	rep, err := s.Install()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "systemd", "user", Name))
	if err != nil || !bytes.Equal(got, s.File()) {
		t.Fatalf("unit file: %v\n%s", err, got)
	}
	want := []string{"systemctl --user daemon-reload", "systemctl --user enable --now berth.service", "loginctl show-user ada --property=Linger"}
	if strings.Join(f.ran, "\n") != strings.Join(want, "\n") {
		t.Errorf("ran:\n%s\nwant:\n%s", strings.Join(f.ran, "\n"), strings.Join(want, "\n"))
	}
	if len(rep.Todo) != 1 || !strings.Contains(rep.Todo[0], "loginctl enable-linger ada") {
		t.Errorf("todo %q: want only the linger advice", rep.Todo)
	}
	st := s.Status()
	if !st.Installed || !st.Current || st.Manager != "active" || st.Linger == nil || *st.Linger {
		t.Errorf("status %+v", st)
	}

	f.ran = nil
	rep, err = s.Uninstall()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("unit file after uninstall: %v", err)
	}
	want = []string{"systemctl --user disable --now berth.service", "systemctl --user daemon-reload"}
	if strings.Join(f.ran, "\n") != strings.Join(want, "\n") || len(rep.Todo) != 0 {
		t.Errorf("uninstall ran %q, todo %q", f.ran, rep.Todo)
	}
	if rep, err := s.Uninstall(); err != nil || !strings.Contains(strings.Join(rep.Done, " "), "not installed") {
		t.Errorf("second uninstall: %+v, %v", rep, err)
	}
}

// TestInstallWithoutSystemd is this kind of machine (a container, no
// systemd as PID 1): the unit is written and the user is told what to run.
func TestInstallWithoutSystemd(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f := &fakeManager{failing: true}
	s := sample("linux", dir)
	s.Run = f.run
	rep, err := s.Install()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.Path()); err != nil {
		t.Fatalf("unit file: %v", err)
	}
	todo := strings.Join(rep.Todo, "\n")
	for _, want := range []string{"systemctl --user daemon-reload", "not been booted with systemd", "systemctl --user enable --now berth.service", "loginctl enable-linger ada"} {
		if !strings.Contains(todo, want) {
			t.Errorf("todo does not say %q:\n%s", want, todo)
		}
	}
	if st := s.Status(); !st.Installed || st.Manager != "" {
		t.Errorf("status %+v: want installed, no manager answer", st)
	}
	s.Exe = "/elsewhere/berth"
	if st := s.Status(); st.Current {
		t.Errorf("status with another binary: %+v, want not current", st)
	}

	// Uninstall removes the file and the link `systemctl enable` would
	// have made, and says to stop a running copy.
	wants := filepath.Join(filepath.Dir(s.Path()), "default.target.wants", Name)
	if err := os.MkdirAll(filepath.Dir(wants), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(s.Path(), wants); err != nil {
		t.Fatal(err)
	}
	rep, err = s.Uninstall()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{s.Path(), wants} {
		if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s after uninstall: %v", p, err)
		}
	}
	if todo := strings.Join(rep.Todo, "\n"); !strings.Contains(todo, "systemctl --user stop berth.service") || strings.Contains(todo, "disable") {
		t.Errorf("uninstall todo:\n%s", todo)
	}
}

// TestServeEnvHasNoKeys: the service file carries where Berth and Docker
// are, never an API key from the installing shell.
func TestServeEnvHasNoKeys(t *testing.T) {
	t.Setenv("ANTHROPIC_API_KEY", "sk-ant-must-not-be-written")
	t.Setenv("OPENAI_API_KEY", "sk-must-not-be-written")
	t.Setenv("BERTH_HOME", "relative/home")
	s, err := FromEnv("linux")
	if err != nil {
		t.Fatal(err)
	}
	file := string(s.File())
	if strings.Contains(file, "must-not-be-written") {
		t.Errorf("the unit holds an API key:\n%s", file)
	}
	abs, _ := filepath.Abs("relative/home")
	if !strings.Contains(file, "Environment=BERTH_HOME="+abs+"\n") {
		t.Errorf("the unit does not carry BERTH_HOME as an absolute path:\n%s", file)
	}
}
