package dockertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-app/berth/docker"
)

// Daemon is a private dockerd that belongs to one test, so that the test
// may kill and restart it without disturbing anything else.
type Daemon struct {
	t    testing.TB
	dir  string
	cmd  *exec.Cmd
	opts DaemonOptions
	Host string
	// Namespace is the containerd namespace its containers live in
	// (plugins live in Namespace + "-plugins").
	Namespace string
}

// DaemonOptions change how a private dockerd is started.
type DaemonOptions struct {
	// Containerd is the address of a containerd to use instead of the one
	// dockerd starts itself (dockerd also picks /run/containerd/containerd.sock
	// by itself when a system containerd runs there).
	Containerd string
	// SystemNamespaces keeps dockerd's default containerd namespaces (moby,
	// plugins.moby), as a system engine has; only for a test that plays the
	// system's engine.
	SystemNamespaces bool
}

// StartDaemon starts a private dockerd (root and a dockerd binary needed;
// skipped otherwise, failed in CI) with its own socket, data and exec roots,
// its own containerd namespaces, no bridge and no iptables, and loads the
// test image into it.
func StartDaemon(t testing.TB) *Daemon {
	t.Helper()
	return StartDaemonWith(t, DaemonOptions{})
}

// StartDaemonWith is StartDaemon with options.
func StartDaemonWith(t testing.TB, opts DaemonOptions) *Daemon {
	t.Helper()
	skipWithoutEngine(t)
	_, err := exec.LookPath("dockerd")
	Require(t, err == nil, "dockerd is not installed (apt-get install docker.io)")
	Require(t, os.Geteuid() == 0, "starting a private dockerd needs root")
	dir, err := os.MkdirTemp("", "bd")
	if err != nil {
		t.Fatal(err)
	}
	d := &Daemon{t: t, dir: dir, opts: opts, Host: "unix://" + filepath.Join(dir, "docker.sock"),
		// Unique per daemon: where a system containerd is shared, a dockerd
		// must not see (or clean up) another's containers.
		Namespace: "berth-test-" + strings.TrimPrefix(filepath.Base(dir), "bd")}
	if opts.SystemNamespaces {
		d.Namespace = "moby"
	}
	t.Cleanup(func() {
		d.Stop()
		// Overlay mounts may linger for a moment after the daemon exits.
		exec.Command("sh", "-c", "grep -o ' "+dir+"[^ ]*' /proc/mounts | xargs -r -n1 umount -l").Run()
		os.RemoveAll(dir)
	})
	d.Start()
	return d
}

// Start (re)starts the daemon and waits until it answers.
func (d *Daemon) Start() {
	d.t.Helper()
	log, err := os.OpenFile(filepath.Join(d.dir, "dockerd.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		d.t.Fatal(err)
	}
	args := []string{
		"--data-root", filepath.Join(d.dir, "root"),
		"--exec-root", filepath.Join(d.dir, "exec"),
		"--pidfile", filepath.Join(d.dir, "dockerd.pid"),
		"-H", d.Host,
		"--iptables=false", "--ip6tables=false", "--bridge=none",
		"--storage-driver=overlay2"}
	if !d.opts.SystemNamespaces {
		args = append(args, "--containerd-namespace", d.Namespace, "--containerd-plugins-namespace", d.Namespace+"-plugins")
	}
	if d.opts.Containerd != "" {
		args = append(args, "--containerd", d.opts.Containerd)
	}
	d.cmd = exec.Command("dockerd", args...)
	d.cmd.Stdout, d.cmd.Stderr = log, log
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := d.cmd.Start(); err != nil {
		d.t.Fatalf("start dockerd: %v", err)
	}
	c, err := docker.NewAt(docker.Endpoint{Host: d.Host, Source: "test daemon"})
	if err != nil {
		d.t.Fatal(err)
	}
	defer c.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		st := c.Check(ctx, "", "")
		cancel()
		if st.State == docker.Ready {
			break
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(d.dir, "dockerd.log"))
			d.t.Fatalf("private dockerd did not answer in 30 s: %s\n%s", st.Reason, tail(string(b), 2000))
		}
		time.Sleep(100 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := EnsureTestImage(ctx, c); err != nil {
		d.t.Fatalf("test image in private daemon: %v", err)
	}
}

// Pid is the daemon's process id.
func (d *Daemon) Pid() int {
	if d.cmd == nil || d.cmd.Process == nil {
		return 0
	}
	return d.cmd.Process.Pid
}

// Kill SIGKILLs the daemon, as a crash would.
func (d *Daemon) Kill() {
	if d.cmd == nil || d.cmd.Process == nil {
		return
	}
	_ = d.cmd.Process.Kill()
	_ = d.cmd.Wait()
	d.cmd = nil
	d.awaitContainerd()
}

// awaitContainerd waits until the containerd of a killed daemon is gone.
// It dies with its dockerd but lingers as a zombie until it is reaped, and a
// zombie still holds its pid: a new dockerd that finds the pid file then takes
// it for a live containerd and fails to start. So wait for the pid to vanish.
func (d *Daemon) awaitContainerd() {
	b, err := os.ReadFile(filepath.Join(d.dir, "exec", "containerd", "containerd.pid"))
	if err != nil {
		return
	}
	proc := "/proc/" + strings.TrimSpace(string(b))
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(proc); err != nil {
			return
		}
	}
}

// Stop ends the daemon gracefully (SIGTERM, then SIGKILL after 10 s) and
// the containerd it started.
func (d *Daemon) Stop() {
	if d.cmd == nil || d.cmd.Process == nil {
		return
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = d.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = d.cmd.Process.Kill()
		<-done
	}
	d.cmd = nil
	d.killContainerd()
}

// killContainerd stops the containerd a killed dockerd leaves behind.
func (d *Daemon) killContainerd() {
	b, err := os.ReadFile(filepath.Join(d.dir, "exec", "containerd", "containerd.pid"))
	if err != nil {
		return
	}
	if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 1 {
		_ = syscall.Kill(pid, syscall.SIGTERM)
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// String describes the daemon for test logs.
func (d *Daemon) String() string { return fmt.Sprintf("dockerd %s (pid %d)", d.Host, d.Pid()) }
