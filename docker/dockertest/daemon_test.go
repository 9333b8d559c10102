package dockertest_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-app/berth/docker/dockertest"
)

// TestPrivateDaemonLeavesTheSystemsContainersAlone plays a machine where a
// system containerd runs (as Debian's docker.io and docker-ce do) with the
// system's dockerd on it, in containerd's "moby" namespace, running a
// container. A private test daemon on the same containerd is SIGKILLed and
// restarted, as TestFaultDaemonKilledAndRestarted does: its containers must
// live in its own namespace, and the system's container must still run.
//
// No containerd at the system's path is touched: this "system" containerd
// listens on a private socket, and both daemons are pointed at it.
func TestPrivateDaemonLeavesTheSystemsContainersAlone(t *testing.T) {
	t.Parallel() // its own containerd and daemons
	for _, bin := range []string{"containerd", "ctr", "docker"} {
		_, err := exec.LookPath(bin)
		dockertest.Require(t, err == nil, bin+" is not installed (apt-get install docker.io)")
	}
	sock := startContainerd(t)
	system := dockertest.StartDaemonWith(t, dockertest.DaemonOptions{Containerd: sock, SystemNamespaces: true})
	sysCtr := run(t, system.Host, "run", "-d", "--label", "berth.test=system", dockertest.TestImage, "sleep", "3600")

	private := dockertest.StartDaemonWith(t, dockertest.DaemonOptions{Containerd: sock})
	privCtr := run(t, private.Host, "run", "-d", dockertest.TestImage, "sleep", "3600")

	if in := ctr(t, sock, private.Namespace, "containers", "ls", "-q"); !strings.Contains(in, privCtr) {
		t.Errorf("the private daemon's container %.12s is not in its namespace %s: %q", privCtr, private.Namespace, in)
	}
	if in := ctr(t, sock, "moby", "containers", "ls", "-q"); strings.Contains(in, privCtr) || !strings.Contains(in, sysCtr) {
		t.Errorf("the system's namespace moby: got %q; want the system's %.12s and not the private %.12s", in, sysCtr, privCtr)
	}

	private.Kill()
	private.Start()

	if got := strings.TrimSpace(run(t, system.Host, "inspect", "-f", "{{.State.Running}} {{.State.Pid}}", sysCtr)); !strings.HasPrefix(got, "true ") {
		t.Errorf("the system's container after the private daemon's kill and restart: got %q, want running", got)
	}
	tasks := ctr(t, sock, "moby", "tasks", "ls")
	if !strings.Contains(tasks, sysCtr) || !strings.Contains(tasks, "RUNNING") {
		t.Errorf("the system's task in containerd: got %q, want %.12s RUNNING", tasks, sysCtr)
	}
	t.Logf("private dockerd (namespace %s) SIGKILLed and restarted on a shared containerd: the system's container %.12s in moby: %s",
		private.Namespace, sysCtr, strings.Join(strings.Fields(lineWith(tasks, sysCtr)), " "))
	run(t, private.Host, "rm", "-f", privCtr)
	run(t, system.Host, "rm", "-f", sysCtr)
}

// startContainerd starts a containerd of the test's own (own root, state
// and sockets) and returns its address.
func startContainerd(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "bc")
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "c.sock")
	cfg := fmt.Sprintf(`version = 2
root = %q
state = %q
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = %q
[ttrpc]
  address = %q
[debug]
  address = %q
`, filepath.Join(dir, "root"), filepath.Join(dir, "state"), sock, sock+".ttrpc", filepath.Join(dir, "debug.sock"))
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	log, err := os.Create(filepath.Join(dir, "containerd.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("containerd", "--config", filepath.Join(dir, "config.toml"))
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Registered first, so it runs last: after both daemons have stopped.
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		exec.Command("sh", "-c", "grep -o ' "+dir+"[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l").Run()
		os.RemoveAll(dir)
	})
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if exec.Command("ctr", "--address", sock, "version").Run() == nil {
			return sock
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(dir, "containerd.log"))
			t.Fatalf("containerd did not answer in 30 s:\n%s", b)
		}
	}
}

// run runs the docker CLI against host and returns its output.
func run(t *testing.T, host string, args ...string) string {
	t.Helper()
	out, err := exec.Command("docker", append([]string{"-H", host}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// ctr runs containerd's CLI in a namespace.
func ctr(t *testing.T, sock, ns string, args ...string) string {
	t.Helper()
	out, err := exec.Command("ctr", append([]string{"--address", sock, "--namespace", ns}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ctr %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func lineWith(s, part string) string {
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		if strings.Contains(sc.Text(), part) {
			return sc.Text()
		}
	}
	return ""
}
