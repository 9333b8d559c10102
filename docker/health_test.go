package docker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	connRefused := &net.OpError{Op: "dial", Net: "unix", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	noSocket := &net.OpError{Op: "dial", Net: "unix", Err: os.NewSyscallError("connect", syscall.ENOENT)}
	denied := &net.OpError{Op: "dial", Net: "unix", Err: os.NewSyscallError("connect", syscall.EACCES)}
	host := "unix:///var/run/docker.sock"
	cases := []struct {
		name   string
		p      probe
		state  State
		reason string
		hint   string
	}{
		{"ready", probe{host: host, apiVersion: "1.41", engine: "20.10.24", image: "img", imageFound: true}, Ready, "Docker 20.10.24 is ready", ""},
		{"not running", probe{host: host, pingErr: connRefused}, Down, "Docker is not running (/var/run/docker.sock)", "start Docker Desktop or `sudo systemctl start docker`"},
		{"no socket", probe{host: host, pingErr: noSocket}, Down, "Docker is not running", "start Docker Desktop"},
		{"permission denied", probe{host: host, pingErr: denied}, Misconfigured, "permission denied on /var/run/docker.sock", "add your user to the docker group"},
		{"timeout", probe{host: host, pingErr: fmt.Errorf("ping: %w", context.DeadlineExceeded)}, Down, "not answering", "restart"},
		{"api too old", probe{host: host, apiVersion: "1.24"}, Misconfigured, "API 1.24 is older than the minimum 1.40", "upgrade"},
		{"windows containers", probe{host: host, apiVersion: "1.41", osType: "windows"}, Misconfigured, "windows containers", "Linux containers"},
		{"image missing", probe{host: host, apiVersion: "1.41", image: "berth-sandbox:latest"}, Misconfigured, "sandbox image berth-sandbox:latest is missing", "run `make image` or click Build"},
		{"runtime missing", probe{host: host, apiVersion: "1.41", runtime: "runsc", runtimes: []string{"runc"}}, Misconfigured, `runtime "runsc" is not installed`, "standard isolation"},
		{"runtime present", probe{host: host, apiVersion: "1.41", runtime: "runsc", runtimes: []string{"runc", "runsc"}}, Ready, "ready", ""},
		{"custom socket: no systemctl", probe{host: "unix:///tmp/engine/docker.sock", pingErr: connRefused}, Down, "Docker is not running (/tmp/engine/docker.sock)",
			"start the Docker engine that serves /tmp/engine/docker.sock"},
		{"rootless", probe{host: "unix:///run/user/1000/docker.sock", pingErr: connRefused}, Down, "not running", "`systemctl --user start docker`"},
		{"docker desktop", probe{host: "unix:///home/a/.docker/desktop/docker.sock", pingErr: connRefused}, Down, "not running", "start Docker Desktop"},
		{"remote engine not answering", probe{host: "tcp://10.0.0.9:2375", pingErr: fmt.Errorf("ping: %w", context.DeadlineExceeded)}, Down, "not answering", "restart Docker at tcp://10.0.0.9:2375"},
		{"other error", probe{host: "tcp://10.0.0.9:2375", pingErr: errors.New("tls: bad certificate")}, Down, "cannot reach Docker at tcp://10.0.0.9:2375", "DOCKER_HOST"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := classify(c.p)
			if got.State != c.state {
				t.Errorf("state: got %s, want %s (reason %q)", got.State, c.state, got.Reason)
			}
			if !strings.Contains(got.Reason, c.reason) {
				t.Errorf("reason: got %q, want it to contain %q", got.Reason, c.reason)
			}
			if !strings.Contains(got.Hint, c.hint) {
				t.Errorf("hint: got %q, want it to contain %q", got.Hint, c.hint)
			}
			if got.State != Ready && got.Hint == "" {
				t.Errorf("a closed gate must say how to fix it")
			}
		})
	}
}

func TestVersionLess(t *testing.T) {
	t.Parallel()
	cases := []struct {
		a, b string
		want bool
	}{{"1.24", "1.40", true}, {"1.41", "1.40", false}, {"1.40", "1.40", false}, {"1.9", "1.40", true}, {"2.0", "1.40", false}}
	for _, c := range cases {
		if got := versionLess(c.a, c.b); got != c.want {
			t.Errorf("versionLess(%s, %s) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}
