package home

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/berth-app/berth/docker/dockertest"
)

func TestResolveUnderBerthHome(t *testing.T) {
	root := t.TempDir()
	t.Setenv("BERTH_HOME", root)
	p, err := Resolve()
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string]string{"config": p.Config, "data": p.Data, "db": p.DB, "groups": p.Groups} {
		if !strings.HasPrefix(got, root+string(filepath.Separator)) {
			t.Errorf("%s: got %s, want it under %s", name, got, root)
		}
	}
	if p.GroupDir("work") != filepath.Join(root, "data", "groups", "work") {
		t.Errorf("group dir: got %s", p.GroupDir("work"))
	}
	other := layout("/x/config", "/x/other-data")
	if p.InstallID() == other.InstallID() || !strings.HasPrefix(p.InstallID(), "b") {
		t.Errorf("install ids must differ per data folder: %s %s", p.InstallID(), other.InstallID())
	}
}

func TestResolveXDG(t *testing.T) {
	if runtime.GOOS == "darwin" {
		dockertest.SkipDeliberately(t, "macOS keeps both under ~/Library/Application Support/Berth")
	}
	t.Setenv("BERTH_HOME", "")
	t.Setenv("XDG_CONFIG_HOME", "/cfg")
	t.Setenv("XDG_DATA_HOME", "/dat")
	p, err := Resolve()
	if err != nil {
		t.Fatal(err)
	}
	if p.Config != "/cfg/berth" || p.Data != "/dat/berth" {
		t.Errorf("got config %s, data %s; want /cfg/berth and /dat/berth from the XDG variables", p.Config, p.Data)
	}
}

func TestLockCommandWaitsForCommandButNotForApp(t *testing.T) {
	p := layout(filepath.Join(t.TempDir(), "c"), filepath.Join(t.TempDir(), "d"))
	l, err := Acquire(p, "cli", 0)
	if err != nil {
		t.Fatal(err)
	}
	released := make(chan struct{})
	go func() {
		time.Sleep(200 * time.Millisecond)
		l.Release()
		close(released)
	}()
	l2, err := Acquire(p, "cli", 5*time.Second)
	if err != nil {
		t.Fatalf("second command should have waited: %v", err)
	}
	<-released
	l2.Release()

	app, err := Acquire(p, "app", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer app.Release()
	_, err = Acquire(p, "cli", 5*time.Second)
	var running *ErrAlreadyRunning
	if !errors.As(err, &running) || running.Holder.Pid != os.Getpid() || running.Holder.Kind != "app" {
		t.Fatalf("got %v, want ErrAlreadyRunning naming this pid", err)
	}
	if !strings.Contains(err.Error(), "Berth is already running (pid ") {
		t.Errorf("message: %q", err)
	}
}

// TestLockIsReleasedWhenTheHolderDies runs a child that takes the lock and
// is SIGKILLed: the next Berth must not be locked out.
func TestLockIsReleasedWhenTheHolderDies(t *testing.T) {
	if os.Getenv("BERTH_LOCK_CHILD") != "" {
		p := layout(os.Getenv("BERTH_LOCK_CHILD")+"/c", os.Getenv("BERTH_LOCK_CHILD")+"/d")
		if _, err := Acquire(p, "app", 0); err != nil {
			os.Exit(3)
		}
		os.Stdout.WriteString("locked\n")
		time.Sleep(time.Minute)
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockIsReleasedWhenTheHolderDies$")
	cmd.Env = append(os.Environ(), "BERTH_LOCK_CHILD="+dir)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 7)
	if _, err := out.Read(buf); err != nil || string(buf) != "locked\n" {
		t.Fatalf("child did not lock: %q %v", buf, err)
	}
	p := layout(dir+"/c", dir+"/d")
	if _, err := Acquire(p, "cli", 0); err == nil {
		t.Fatal("lock taken while the child holds it")
	}
	cmd.Process.Kill()
	cmd.Wait()
	l, err := Acquire(p, "cli", 0)
	if err != nil {
		t.Fatalf("after the holder died: %v", err)
	}
	l.Release()
}
