package docker

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/berth-app/berth/docker/helperbin"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"
)

// Where the helper lives inside a sandbox: a small tmpfs of its own, the
// only place in a sandbox where a file may be executed.
const (
	HelperDir  = "/run/berth"
	HelperPath = HelperDir + "/helper"
	// HelperEnvOff, set to "off" in Berth's environment, turns the helper off.
	HelperEnvOff = "BERTH_HELPER"
)

// Exec paths, as `berth sandbox list` and `berth doctor` show them.
const (
	PathHelper     = "helper"
	PathDockerExec = "docker-exec"
)

// startScript takes the helper's $2 bytes from stdin into HelperDir under
// a name of its own, moves it into place (two Berth processes delivering at
// once do not mix their bytes) and becomes it; the rest of stdin is the
// channel. head -c never needs to read past the binary: Berth sends nothing
// more until the helper greets it (helper.Magic).
const startScript = `umask 077 && head -c "$2" > "$1.$$" && chmod 700 "$1.$$" && mv -f "$1.$$" "$1" && exec "$1"`

// deliverScript is the slower delivery for images without head: one exec
// writes the file (cat), another starts it.
const deliverScript = `umask 077 && cat > "$1.$$" && chmod 700 "$1.$$" && mv -f "$1.$$" "$1"`

// helpers tracks the helper of each sandbox this client talks to.
type helpers struct {
	mu     sync.Mutex
	binary func(arch string) []byte // nil: no helper at all
	off    string                   // why the helper is off, if it is
	arch   string                   // the engine's GOARCH, once known
	// twoExecs skips the one-exec start (tests of the delivery with cat).
	twoExecs bool
	slots    map[string]*helperSlot
}

type helperSlot struct {
	mu       sync.Mutex // held while a helper starts
	conn     *helperConn
	reason   string // why this sandbox uses docker exec
	failedAt time.Time
	calls    int           // calls this process made into the sandbox
	bg       chan struct{} // under helpers.mu: closed when a start at sandbox creation ended
	egress   egressState   // whether the sandbox has Spec.Egress, once known
}

// helperRetry is how long a sandbox whose helper would not start uses
// docker exec before Berth tries again.
const helperRetry = time.Minute

func newHelpers() *helpers {
	h := &helpers{binary: helperbin.Binary, slots: map[string]*helperSlot{}}
	if len(helperbin.Arches()) == 0 {
		h.off = "this Berth was built without the embedded helper (plain `go build`); `make build` embeds it"
	}
	if os.Getenv(HelperEnvOff) == "off" {
		h.off = HelperEnvOff + "=off is set"
	}
	return h
}

// UseHelperBinaries makes the client deliver the helper that fn returns
// for an engine architecture (GOARCH); nil turns the helper off, so that
// every call uses docker exec. Tests inject a freshly built helper here.
func (c *Client) UseHelperBinaries(fn func(arch string) []byte) {
	c.helpers.mu.Lock()
	defer c.helpers.mu.Unlock()
	c.helpers.binary, c.helpers.off = fn, ""
	if fn == nil {
		c.helpers.off = "the helper is turned off for this client"
	}
	for id, s := range c.helpers.slots {
		if s.conn != nil {
			s.conn.fail(errors.New("helper binaries changed"))
		}
		delete(c.helpers.slots, id)
	}
}

// HelperStatus says whether tool calls will use the helper, and why not.
func (c *Client) HelperStatus(ctx context.Context) (path, reason string) {
	arch, bin, off := c.helperBinary(ctx)
	switch {
	case off != "":
		return PathDockerExec, off + noHelperNoEgress
	case bin == nil:
		return PathDockerExec, fmt.Sprintf("no helper for the engine's architecture %s", arch) + noHelperNoEgress
	}
	return PathHelper, fmt.Sprintf("linux/%s helper (%d KB), delivered into each sandbox at %s", arch, len(bin)>>10, HelperPath)
}

// ExecPath says how calls into one sandbox run, as far as this process
// knows: through its helper, or docker exec and why.
func (c *Client) ExecPath(ctx context.Context, sandboxID string) (path, reason string) {
	// Lock order: helpers.mu, released, then a slot's mu.
	c.helpers.mu.Lock()
	s := c.helpers.slots[sandboxID]
	starting := s != nil && s.bg != nil
	c.helpers.mu.Unlock()
	if s != nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.conn != nil && s.conn.alive() {
			return PathHelper, fmt.Sprintf("helper running (linux/%s, ready in %s)%s", s.conn.arch, s.conn.ready.Round(time.Millisecond), s.conn.egressNote())
		}
		if starting {
			return PathDockerExec, "the helper is being started; calls use docker exec until it is ready"
		}
		if s.reason != "" {
			return PathDockerExec, s.reason + s.egress.withoutHelper()
		}
	}
	path, reason = c.HelperStatus(ctx)
	if path == PathHelper {
		path, reason = PathDockerExec, "not started by this Berth process: its first call uses docker exec, the next ones its helper"
	}
	return path, reason
}

func (c *Client) helperBinary(ctx context.Context) (arch string, bin []byte, off string) {
	h := c.helpers
	h.mu.Lock()
	arch, fn, off := h.arch, h.binary, h.off
	h.mu.Unlock()
	if off != "" || fn == nil {
		return arch, nil, cmp.Or(off, "the helper is turned off")
	}
	if arch == "" {
		info, err := c.api.Info(ctx, client.InfoOptions{})
		if err != nil {
			return "", nil, "cannot tell the engine's architecture: " + err.Error()
		}
		arch = goArch(info.Info.Architecture)
		h.mu.Lock()
		h.arch = arch
		h.mu.Unlock()
	}
	return arch, fn(arch), ""
}

// goArch maps the engine's `uname -m` to GOARCH.
func goArch(m string) string {
	switch m {
	case "x86_64", "amd64":
		return "amd64"
	case "aarch64", "arm64":
		return "arm64"
	}
	return m
}

// helperFor returns the live helper of a sandbox, starting one if there is
// none; nil means use docker exec (the reason is kept for ExecPath). A
// sandbox this process did not start gets its helper at its second call:
// a one-shot `berth exec` costs one docker exec, not a delivery and a start.
func (c *Client) helperFor(ctx context.Context, sandboxID string, eager bool) *helperConn {
	c.helpers.mu.Lock()
	s := c.helpers.slots[sandboxID]
	if s == nil {
		s = &helperSlot{}
		c.helpers.slots[sandboxID] = s
	}
	starting := s.bg != nil
	c.helpers.mu.Unlock()
	if starting && !eager {
		return nil // its helper is being delivered: this call does not wait
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.conn != nil && s.conn.alive() {
		return s.conn
	}
	s.conn = nil
	if s.reason != "" && time.Since(s.failedAt) < helperRetry {
		return nil
	}
	if !eager && s.calls == 1 {
		// Except in a sandbox with egress (one made before Berth restarted,
		// say): its network lives in the helper.
		if on, err := c.slotEgress(ctx, s, sandboxID); err != nil || !on {
			return nil
		}
	}
	egress, err := c.slotEgress(ctx, s, sandboxID)
	var conn *helperConn
	if err == nil {
		conn, err = c.startHelper(ctx, sandboxID, egress)
	}
	if err != nil {
		s.reason, s.failedAt = "the helper could not start: "+err.Error(), time.Now()
		return nil
	}
	s.conn, s.reason = conn, ""
	go func() {
		<-conn.done
		s.mu.Lock()
		if s.conn == conn {
			s.conn = nil
		}
		s.mu.Unlock()
	}()
	return conn
}

// startHelperInBackground delivers and starts a new sandbox's helper
// while the sandbox is handed over: calls made before it is ready use
// docker exec, so the helper never makes a sandbox start slower.
func (c *Client) startHelperInBackground(sandboxID string) {
	c.helpers.mu.Lock()
	if c.helpers.slots[sandboxID] == nil {
		c.helpers.slots[sandboxID] = &helperSlot{}
	}
	s := c.helpers.slots[sandboxID]
	if s.bg != nil {
		c.helpers.mu.Unlock()
		return
	}
	bg := make(chan struct{})
	s.bg = bg
	c.helpers.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c.helperFor(ctx, sandboxID, true)
		c.helpers.mu.Lock()
		s.bg = nil
		c.helpers.mu.Unlock()
		close(bg)
	}()
}

// AwaitHelper waits until a helper being started for the sandbox is ready
// (or failed), then says which path its calls take, as ExecPath does.
func (c *Client) AwaitHelper(ctx context.Context, sandboxID string) (path, reason string) {
	c.helpers.mu.Lock()
	var bg chan struct{}
	if s := c.helpers.slots[sandboxID]; s != nil {
		bg = s.bg
	}
	c.helpers.mu.Unlock()
	if bg != nil {
		select {
		case <-bg:
		case <-ctx.Done():
		}
	}
	return c.ExecPath(ctx, sandboxID)
}

func (c *Client) closeHelpers() {
	c.helpers.mu.Lock()
	ids := slices.Collect(maps.Keys(c.helpers.slots))
	c.helpers.mu.Unlock()
	for _, id := range ids {
		c.dropHelper(id)
	}
}

// dropHelper ends a sandbox's helper (its sandbox is going away).
func (c *Client) dropHelper(sandboxID string) {
	c.helpers.mu.Lock()
	s := c.helpers.slots[sandboxID]
	delete(c.helpers.slots, sandboxID)
	c.helpers.mu.Unlock()
	if s != nil {
		s.mu.Lock()
		if s.conn != nil {
			s.conn.fail(errors.New("the sandbox was stopped"))
		}
		s.mu.Unlock()
	}
}

// startHelper writes the helper into the sandbox through an exec's stdin
// and starts it as one long-lived exec whose stdin and stdout carry the
// channel. It returns once the helper answered the hello.
func (c *Client) startHelper(ctx context.Context, sandboxID string, egress bool) (*helperConn, error) {
	arch, bin, off := c.helperBinary(ctx)
	if off != "" {
		return nil, errors.New(off)
	}
	if bin == nil {
		return nil, fmt.Errorf("no helper for the engine's architecture %s", arch)
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	t0 := time.Now()
	c.helpers.mu.Lock()
	twoExecs := c.helpers.twoExecs
	c.helpers.mu.Unlock()
	conn, err := (*helperConn)(nil), errors.New("the one-exec start is off")
	if !twoExecs {
		conn, err = c.launchHelper(ctx, sandboxID, arch, egress, []string{"/bin/sh", "-c", startScript, "berth-helper", HelperPath, strconv.Itoa(len(bin))}, bin)
	}
	if errors.Is(err, errNoEgressListener) {
		return nil, err // a second delivery would not change that
	}
	if err != nil {
		// An image without head: deliver with cat, then start.
		code, out, derr := c.runWithStdin(ctx, sandboxID, []string{"/bin/sh", "-c", deliverScript, "berth-deliver", HelperPath}, bin)
		if derr != nil {
			return nil, fmt.Errorf("deliver: %w (the one-exec start said: %v)", derr, err)
		}
		if code != 0 {
			return nil, fmt.Errorf("deliver into %s: exit %d: %s (the one-exec start said: %v)", HelperDir, code, strings.TrimSpace(out), err)
		}
		if conn, err = c.launchHelper(ctx, sandboxID, arch, egress, []string{HelperPath}, nil); err != nil {
			return nil, err
		}
	}
	conn.ready = time.Since(t0)
	return conn, nil
}

// launchHelper runs argv as the helper's exec, writes prefix (the binary,
// for startScript) to its stdin, and returns once the helper greeted Berth
// and answered the hello.
func (c *Client) launchHelper(ctx context.Context, sandboxID, arch string, egress bool, argv []string, prefix []byte) (*helperConn, error) {
	created, err := c.api.ExecCreate(ctx, sandboxID, client.ExecCreateOptions{
		AttachStdin: true, AttachStdout: true, AttachStderr: true,
		Env: []string{HelperEnvOff + "=1"},
		Cmd: argv,
	})
	if err != nil {
		return nil, fmt.Errorf("start: %w", err)
	}
	// The channel outlives this call: attach without its deadline.
	att, err := c.api.ExecAttach(context.WithoutCancel(ctx), created.ID, client.ExecAttachOptions{})
	if err != nil {
		return nil, fmt.Errorf("start: %w", err)
	}
	if len(prefix) > 0 {
		// Written while the greeting is awaited: a shell that fails stops
		// reading, and the stream's end then ends the write too.
		go func() { _, _ = att.Conn.Write(prefix) }()
	}
	conn, err := newHelperConn(att.HijackedResponse, created.ID, arch, &streamAcceptor{sandbox: sandboxID, egress: egress, handler: c.egressHandler})
	if err != nil {
		return nil, fmt.Errorf("start: %w", err)
	}
	if err := conn.hello(10 * time.Second); err != nil {
		conn.fail(err)
		if errors.Is(err, errNoEgressListener) {
			return nil, fmt.Errorf("start: %w", err)
		}
		return nil, fmt.Errorf("start: %s", conn.reason())
	}
	return conn, nil
}

// runWithStdin runs a short command with stdin and returns its exit code
// and output (bounded).
func (c *Client) runWithStdin(ctx context.Context, sandboxID string, argv []string, stdin []byte) (int, string, error) {
	created, err := c.api.ExecCreate(ctx, sandboxID, client.ExecCreateOptions{AttachStdin: true, AttachStdout: true, AttachStderr: true, Cmd: argv})
	if err != nil {
		return 0, "", err
	}
	att, err := c.api.ExecAttach(ctx, created.ID, client.ExecAttachOptions{})
	if err != nil {
		return 0, "", err
	}
	defer att.Close()
	defer context.AfterFunc(ctx, att.Close)()
	werr := make(chan error, 1)
	go func() {
		_, err := io.Copy(att.Conn, bytes.NewReader(stdin))
		_ = att.CloseWrite()
		werr <- err
	}()
	out := newCapture(4096)
	_, err = stdcopy.StdCopy(out, out, att.Reader)
	// The command's output has ended: a command that stopped reading (it
	// failed, or its sandbox went away) leaves the write blocked on a
	// stdin nobody reads, so the connection is closed to end it.
	att.Close()
	<-werr
	if err != nil && ctx.Err() != nil {
		return 0, "", fmt.Errorf("%w (%v)", ctx.Err(), err) // the time was up, which closed the stream
	}
	if err != nil {
		return 0, "", err
	}
	ins, err := c.api.ExecInspect(ctx, created.ID, client.ExecInspectOptions{})
	for i := 0; err == nil && ins.Running && i < 250; i++ {
		time.Sleep(2 * time.Millisecond)
		ins, err = c.api.ExecInspect(ctx, created.ID, client.ExecInspectOptions{})
	}
	if err != nil {
		return 0, "", err
	}
	return ins.ExitCode, out.Output().String(), nil
}
