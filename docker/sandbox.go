package docker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

// Sandbox is a running (or recently running) sandbox container.
type Sandbox struct {
	ID             string    `json:"id"`
	Name           string    `json:"name"`
	Image          string    `json:"image"`
	InstallationID string    `json:"home"`
	Group          string    `json:"group"`
	Session        string    `json:"session"`
	State          string    `json:"state"` // the engine's word: running, exited, …
	Created        time.Time `json:"created"`
	Expires        time.Time `json:"expires"`
	Spec           string    `json:"spec"`             // digest of the spec it was made from
	Egress         bool      `json:"egress,omitempty"` // made with Spec.Egress (LabelEgress)
	// How tool calls reach it (PathHelper or PathDockerExec) and why, as
	// far as this Berth process knows; filled by ExecPath's callers.
	ExecPath       string `json:"exec_path,omitempty"`
	ExecPathReason string `json:"exec_path_reason,omitempty"`
}

// Running reports whether the sandbox can take an exec.
func (s Sandbox) Running() bool { return s.State == "running" }

// Expired reports whether the sandbox has passed its max age at t.
func (s Sandbox) Expired(t time.Time) bool { return !s.Expires.IsZero() && !t.Before(s.Expires) }

// Errors a caller may want to tell apart.
var (
	ErrSandboxGone       = errors.New("sandbox no longer exists")
	ErrSandboxNotRunning = errors.New("sandbox is not running")
)

// CreateSandbox creates and starts a hardened sandbox for spec. If the
// start fails the half-made container is removed.
func (c *Client) CreateSandbox(ctx context.Context, spec Spec) (Sandbox, error) {
	now := time.Now()
	cfg, host, err := containerConfig(spec, now)
	if err != nil {
		return Sandbox{}, err
	}
	name := "berth-" + spec.Group + "-" + shortID()
	res, err := c.api.ContainerCreate(ctx, client.ContainerCreateOptions{Name: name, Config: cfg, HostConfig: host})
	if err != nil {
		if cerrdefs.IsNotFound(err) {
			return Sandbox{}, fmt.Errorf("create sandbox: image %s is missing: run `make image` or click Build", cfg.Image)
		}
		return Sandbox{}, fmt.Errorf("create sandbox: %w", err)
	}
	if _, err := c.api.ContainerStart(ctx, res.ID, client.ContainerStartOptions{}); err != nil {
		rmErr := c.RemoveSandbox(context.WithoutCancel(ctx), res.ID)
		return Sandbox{}, errors.Join(fmt.Errorf("start sandbox: %w", err), rmErr)
	}
	sb, err := c.InspectSandbox(ctx, res.ID)
	if err != nil {
		return Sandbox{}, err
	}
	if !sb.Running() {
		return sb, fmt.Errorf("start sandbox: it stopped at once (state %s); the image %s needs a `sleep` command", sb.State, cfg.Image)
	}
	if err := c.settleTmpfs(ctx, sb.ID); err != nil {
		rmErr := c.RemoveSandbox(context.WithoutCancel(ctx), sb.ID)
		return Sandbox{}, errors.Join(fmt.Errorf("start sandbox: %w", err), rmErr)
	}
	c.noteEgress(sb.ID, spec.Egress)
	if spec.Egress {
		// The sandbox's proxy listener lives in its helper: start it now.
		// If it cannot run, the sandbox has no network (and ExecPath says why).
		c.helperFor(ctx, sb.ID, true)
		return sb, nil
	}
	c.startHelperInBackground(sb.ID) // if it cannot start, ExecPath says why
	return sb, nil
}

// InspectSandbox reads a sandbox's current state.
func (c *Client) InspectSandbox(ctx context.Context, id string) (Sandbox, error) {
	res, err := c.api.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if cerrdefs.IsNotFound(err) {
		return Sandbox{}, fmt.Errorf("inspect sandbox %s: %w", shortName(id), ErrSandboxGone)
	}
	if err != nil {
		return Sandbox{}, fmt.Errorf("inspect sandbox %s: %w", shortName(id), err)
	}
	ct := res.Container
	sb := Sandbox{ID: ct.ID, Name: strings.TrimPrefix(ct.Name, "/")}
	if ct.Config != nil {
		sb.Image = ct.Config.Image
		fillLabels(&sb, ct.Config.Labels)
	}
	if ct.State != nil {
		sb.State = string(ct.State.Status)
	}
	if t, err := time.Parse(time.RFC3339Nano, ct.Created); err == nil {
		sb.Created = t
	}
	return sb, nil
}

// Filter selects sandboxes by label. Empty fields match anything.
type Filter struct {
	InstallationID, Group, Session string
}

// ListSandboxes lists Berth's sandboxes, newest first, including stopped
// ones that have not been removed yet.
func (c *Client) ListSandboxes(ctx context.Context, f Filter) ([]Sandbox, error) {
	flt := client.Filters{}.Add("label", LabelApp+"=1")
	for k, v := range map[string]string{LabelHome: f.InstallationID, LabelGroup: f.Group, LabelSession: f.Session} {
		if v != "" {
			flt.Add("label", k+"="+v)
		}
	}
	res, err := c.api.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: flt})
	if err != nil {
		return nil, fmt.Errorf("list sandboxes: %w", err)
	}
	out := make([]Sandbox, 0, len(res.Items))
	for _, it := range res.Items {
		sb := Sandbox{ID: it.ID, Image: it.Image, State: string(it.State), Created: time.Unix(it.Created, 0)}
		if len(it.Names) > 0 {
			sb.Name = strings.TrimPrefix(it.Names[0], "/")
		}
		fillLabels(&sb, it.Labels)
		out = append(out, sb)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out, nil
}

func fillLabels(sb *Sandbox, l map[string]string) {
	sb.InstallationID, sb.Group, sb.Session, sb.Spec = l[LabelHome], l[LabelGroup], l[LabelSession], l[LabelSpec]
	sb.Egress = l[LabelEgress] == "1"
	if n, err := strconv.ParseInt(l[LabelExpires], 10, 64); err == nil {
		sb.Expires = time.Unix(n, 0)
	}
}

// StopSandbox stops a sandbox; AutoRemove then removes it. A sandbox that is
// already gone counts as stopped.
func (c *Client) StopSandbox(ctx context.Context, id string) error {
	defer c.dropHelper(id) // after the engine acted: a call in flight then sees the sandbox end
	timeout := 2
	_, err := c.api.ContainerStop(ctx, id, client.ContainerStopOptions{Timeout: &timeout})
	if err != nil && !isGone(err) {
		return fmt.Errorf("stop sandbox %s: %w", shortName(id), err)
	}
	return nil
}

// RemoveSandbox force-removes a sandbox. "Not found" and "removal already in
// progress" are success: the goal is that it is gone.
func (c *Client) RemoveSandbox(ctx context.Context, id string) error {
	defer c.dropHelper(id) // after the engine acted: a call in flight then sees the sandbox end
	_, err := c.api.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true})
	if err != nil && !isGone(err) {
		return fmt.Errorf("remove sandbox %s: %w", shortName(id), err)
	}
	return nil
}

// KillSandbox kills a sandbox at once (SIGKILL), as `docker kill` does.
func (c *Client) KillSandbox(ctx context.Context, id string) error {
	defer c.dropHelper(id) // after the engine acted: a call in flight then sees the sandbox end
	_, err := c.api.ContainerKill(ctx, id, client.ContainerKillOptions{Signal: "KILL"})
	if err != nil && !isGone(err) && !cerrdefs.IsConflict(err) {
		return fmt.Errorf("kill sandbox %s: %w", shortName(id), err)
	}
	return nil
}

// Reap removes the sandboxes of one Berth installation that must not live
// on: those not running and those past their max age. It returns what it
// removed; errors for single sandboxes are joined, not fatal.
func (c *Client) Reap(ctx context.Context, installation string, now time.Time) ([]Sandbox, error) {
	if installation == "" {
		// An empty filter would match every installation's sandboxes.
		return nil, errors.New("reap sandboxes: no installation given")
	}
	list, err := c.ListSandboxes(ctx, Filter{InstallationID: installation})
	if err != nil {
		return nil, err
	}
	var reaped []Sandbox
	var errs []error
	for _, sb := range list {
		if sb.Running() && !sb.Expired(now) {
			continue
		}
		if err := c.RemoveSandbox(ctx, sb.ID); err != nil {
			errs = append(errs, err)
			continue
		}
		reaped = append(reaped, sb)
	}
	return reaped, errors.Join(errs...)
}

func isGone(err error) bool {
	if cerrdefs.IsNotFound(err) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "removal of container") && strings.Contains(msg, "already in progress") ||
		strings.Contains(msg, "is already in progress") || strings.Contains(msg, "No such container")
}

// shortName shortens a 64-hex container id for messages.
func shortName(id string) string {
	if len(id) == 64 {
		return id[:12]
	}
	return id
}

func shortID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
