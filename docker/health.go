package docker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

// State is the engine's health as the assistant sees it.
type State string

// The states of the health gate. Only Ready lets the assistant work.
const (
	Checking      State = "checking"
	Ready         State = "ready"
	Down          State = "down"
	Misconfigured State = "misconfigured"
)

// MinAPIVersion is the oldest Engine API Berth accepts (Debian's 20.10 speaks 1.41).
const MinAPIVersion = client.MinAPIVersion

// Status is one reading of the engine's health: a state, a one-line reason a
// person understands, and a hint that says how to fix it.
type Status struct {
	State         State     `json:"state"`
	Reason        string    `json:"reason"`
	Hint          string    `json:"hint"`
	Host          string    `json:"host"`
	EngineVersion string    `json:"engine_version"`
	APIVersion    string    `json:"api_version"`
	Image         string    `json:"image"`
	ImagePresent  bool      `json:"image_present"`
	Since         time.Time `json:"since"`
}

// Same reports whether two readings describe the same situation, ignoring
// when they were taken. Subscribers are told only when this changes.
func (s Status) Same(o Status) bool {
	return s.State == o.State && s.Reason == o.Reason && s.Hint == o.Hint &&
		s.ImagePresent == o.ImagePresent && s.EngineVersion == o.EngineVersion
}

// Probe is what one health check found; classify turns it into a Status.
type probe struct {
	host       string
	pingErr    error
	apiVersion string
	engine     string
	image      string
	imageErr   error // nil when present
	imageFound bool
	runtime    string
	runtimes   []string
	osType     string
	infoErr    error
}

// classify is the pure heart of the health gate: from what a check found,
// decide the state, the reason and the fix.
func classify(p probe) Status {
	st := Status{Host: p.host, Image: p.image, APIVersion: p.apiVersion, EngineVersion: p.engine, ImagePresent: p.imageFound}
	if p.pingErr != nil {
		st.State, st.Reason, st.Hint = explainConnError(p.host, p.pingErr)
		return st
	}
	if p.apiVersion != "" && versionLess(p.apiVersion, MinAPIVersion) {
		st.State = Misconfigured
		st.Reason = fmt.Sprintf("Docker Engine API %s is older than the minimum %s", p.apiVersion, MinAPIVersion)
		st.Hint = "upgrade Docker to version 19.03 or newer"
		return st
	}
	if p.osType != "" && p.osType != "linux" {
		st.State = Misconfigured
		st.Reason = fmt.Sprintf("Docker is running %s containers; Berth's sandboxes are Linux containers", p.osType)
		st.Hint = "switch Docker Desktop to Linux containers"
		return st
	}
	if p.infoErr != nil {
		st.State, st.Reason, st.Hint = explainConnError(p.host, p.infoErr)
		return st
	}
	if p.runtime != "" && !contains(p.runtimes, p.runtime) {
		st.State = Misconfigured
		st.Reason = fmt.Sprintf("the container runtime %q is not installed in Docker", p.runtime)
		st.Hint = fmt.Sprintf("install %s and register it in /etc/docker/daemon.json, or choose standard isolation in Settings", p.runtime)
		return st
	}
	if p.image != "" && !p.imageFound {
		st.State = Misconfigured
		if p.imageErr != nil {
			st.Reason = fmt.Sprintf("cannot check the sandbox image %s: %v", p.image, p.imageErr)
			st.Hint = "check that Docker is healthy, then retry"
			return st
		}
		st.Reason = fmt.Sprintf("sandbox image %s is missing", p.image)
		st.Hint = "run `make image` or click Build"
		return st
	}
	st.State = Ready
	st.Reason = "Docker is ready"
	if st.EngineVersion != "" {
		st.Reason = "Docker " + st.EngineVersion + " is ready"
	}
	return st
}

// explainConnError turns a failure to talk to the engine into a state, a
// reason and a hint. Permission problems are misconfigurations (Docker runs,
// Berth may not use it); everything else that stops a connection is down.
func explainConnError(host string, err error) (State, string, string) {
	where := hostForHumans(host)
	switch {
	case errors.Is(err, syscall.EACCES) || errors.Is(err, os.ErrPermission) ||
		strings.Contains(err.Error(), "permission denied"):
		return Misconfigured, "permission denied on " + where,
			"add your user to the docker group (`sudo usermod -aG docker $USER`, then log in again)"
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return Down, "Docker at " + where + " is not answering", startHint(host, "restart")
	case errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) ||
		client.IsErrConnectionFailed(err) || isNetErr(err):
		return Down, "Docker is not running (" + where + ")", startHint(host, "start")
	case cerrdefs.IsUnavailable(err) || cerrdefs.IsInternal(err):
		return Down, "Docker at " + where + " is not healthy: " + firstLine(err.Error()), startHint(host, "restart")
	}
	return Down, "cannot reach Docker at " + where + ": " + firstLine(err.Error()),
		"check DOCKER_HOST and your docker context (`docker context ls`)"
}

// startHint says how to start (or restart) the engine Berth talks to: the
// system service only for the system socket, Docker Desktop for its own,
// the user service for rootless Docker, and otherwise the endpoint itself.
func startHint(host, verb string) string {
	u, err := url.Parse(host)
	if err != nil || u.Scheme != "unix" {
		return verb + " Docker at " + host + ", or check DOCKER_HOST and your docker context (`docker context ls`)"
	}
	switch p := u.Path; {
	case p == "/var/run/docker.sock" || p == "/run/docker.sock":
		return verb + " Docker Desktop or `sudo systemctl " + verb + " docker`"
	case strings.Contains(p, "/.docker/"):
		return verb + " Docker Desktop"
	case strings.HasPrefix(p, "/run/user/") || strings.HasPrefix(p, os.Getenv("XDG_RUNTIME_DIR")+"/") && os.Getenv("XDG_RUNTIME_DIR") != "":
		return verb + " rootless Docker: `systemctl --user " + verb + " docker`"
	default:
		return verb + " the Docker engine that serves " + p + " (DOCKER_HOST or your docker context points there)"
	}
}

func hostForHumans(host string) string {
	if u, err := url.Parse(host); err == nil && u.Scheme == "unix" {
		return u.Path
	}
	return host
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func isNetErr(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) || strings.Contains(err.Error(), "connection reset") ||
		strings.Contains(err.Error(), "EOF") || strings.Contains(err.Error(), "broken pipe")
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// versionLess compares dotted API versions such as "1.24" and "1.41".
func versionLess(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) || i < len(bs); i++ {
		var x, y int
		if i < len(as) {
			fmt.Sscanf(as[i], "%d", &x)
		}
		if i < len(bs) {
			fmt.Sscanf(bs[i], "%d", &y)
		}
		if x != y {
			return x < y
		}
	}
	return false
}
